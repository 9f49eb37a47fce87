"""Reports: the evaluated model as a JSON-ready dict and as a readable table.

Every number is in SI units (J, s, W, m^2 for area is converted to mm^2),
named by what it is, and traceable: the report lists the coefficients with
their units and provenance, the DPU-feature mappings, and every proxy and
out-of-scope term with its reason.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ... import __version__
from ...diagnostics_table import format_diagnostics
from .outputs import LEAKAGE

if TYPE_CHECKING:
    from .model import CostModel

    Results = Mapping[str, Sequence[float]]  # output -> value per point: a numpy array, or a list of floats

PHASES = ("draft", "verify_drafted", "verify_bonus")
PER_TOKEN = (
    ("energy_per_token_J", "energy_per_token"),
    ("latency_per_token_s", "latency_per_token"),
    ("throughput_tokens_per_s", "throughput"),
    ("tokens_per_J", "tokens_per_joule"),
    ("power_W", "power"),
)
MM2_PER_M2 = 1e6


def _break_even(model: CostModel) -> dict:
    from .breakeven import find_break_even

    return {
        comparison: {quantity: found.as_json() for quantity, found in by_quantity.items()}
        for comparison, by_quantity in find_break_even(model).items()
    }


def _acceptance(model: CostModel) -> dict:
    from .binding import acceptance

    return {
        str(outcome): float(probability)
        for outcome, probability in acceptance(model.pack, model.accounting.bindings, model.stats).items()
    }


def _described_inputs(model: CostModel) -> dict:
    """What the report shows of the hardware and stats files. Remembered in the evaluator cache entry, which
    is keyed by their contents: a warm report reads and checks no input file."""
    hardware = model.hardware
    return {
        "hardware": {
            "mode": hardware.mode,
            "library": hardware.library,
            "schedule": hardware.schedule,
            "reuse_policy": hardware.reuse_policy,
        },
        "K": model.stats.k,
        "coefficients": [
            {"name": path, "value": coefficient.value, "unit": coefficient.unit, "provenance": coefficient.provenance}
            for path, coefficient in sorted(hardware.coefficients.items())
        ],
        "mappings": dict(hardware.feature_mapping),
    }


def _unmodeled_terms(model: CostModel) -> dict:
    return {
        status: [{"name": term.name, "reason": term.reason} for term in terms]
        for status, terms in model.accounting.terms_by_status().items()
        if status != "modeled"
    }


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_report(model: CostModel, prompt_lengths: Sequence[int]) -> dict:
    lengths = [int(length) for length in prompt_lengths]
    results = model.evaluate_points(L_prompt=lengths)
    described = model.remember("described_inputs", lambda: _described_inputs(model))
    breakdowns = _breakdown_keys(results)
    return {
        "symcost_version": __version__,
        # The pack file's contents, not its path: remembered results are shared by every copy of the inputs.
        "pack": model.remember(
            "pack",
            lambda: {"name": model.pack.name, "version": model.pack.version, "sha256": _sha256(model.recipe.pack_path)},
        ),
        "inputs": {
            role: {"path": source, "sha256": _sha256(source)}
            for role, source in ((role, model.recipe.source(role)) for role in ("model", "hardware", "stats"))
        },
        "hardware": described["hardware"],
        # E[a+1] and E[K-a] as the evaluator computes them from the pack's formulas (they do not depend on L_prompt).
        "speculation": {
            "K": described["K"],
            "expected_committed_tokens": float(results["speculative.committed_tokens"][0]),
            "expected_wasted_steps": float(results["speculative.wasted_steps"][0]),
            "acceptance": model.remember("acceptance", lambda: _acceptance(model)),
        },
        "area": area_summary(results),
        "points": [_point(results, index, int(length), breakdowns) for index, length in enumerate(lengths)],
        # Both need the closed forms; remembered in the evaluator cache, a warm report skips SymPy.
        "break_even": model.remember("break_even", lambda: _break_even(model)),
        "terms": model.remember("terms", lambda: _unmodeled_terms(model)),
        "coefficients": described["coefficients"],
        "mappings": described["mappings"],
        "diagnostics": model.remember(f"diagnostics_{_digest(lengths)}", lambda: _diagnostics(model, results, lengths)),
    }


def _digest(lengths: list[int]) -> str:
    """A result name for figures that depend on the prompt lengths (the points the diagnostics look at)."""
    return hashlib.sha256(array("q", lengths).tobytes()).hexdigest()[:16]  # their bytes as 64-bit integers


def _diagnostics(model: CostModel, results: Results, lengths: list[int]) -> list[dict]:
    import numpy as np

    from ...diagnostics import evaluate_diagnostics
    from ...pack import load_pack

    return evaluate_diagnostics(
        load_pack(model.recipe.pack_path),
        bound_values(model),
        {**model.defaults, "L_prompt": np.asarray(lengths, dtype=np.int64)},
        {name: np.asarray(values, dtype=np.float64) for name, values in results.items()},
        model.unit,
        [{"L_prompt": int(length)} for length in lengths],
    )


def bound_values(model: CostModel) -> dict:
    """The SI value of every bound symbol of the model's pack (for its diagnostics)."""
    from ...pack import load_pack
    from .binding import bind

    # The pack file, not model.pack: a report does not derive the closed forms for its diagnostics.
    pack = load_pack(model.recipe.pack_path)
    return {
        symbol: value.value for symbol, value in bind(pack, model.model, model.hardware, model.stats).values.items()
    }


def area_summary(results: Results) -> dict:
    """Area in mm^2: on chip, off chip (the components the pack places there), by block and by component."""
    components = {
        key.split(".", 2)[2]: float(value[0]) * MM2_PER_M2
        for key, value in results.items()
        if key.startswith("area.component.")
    }
    return {
        "total_mm2": float(results["area.on_chip"][0]) * MM2_PER_M2,
        "off_chip_mm2": float(results["area.off_chip"][0]) * MM2_PER_M2,
        "by_block": {
            key.split(".", 2)[2]: float(value[0]) * MM2_PER_M2
            for key, value in results.items()
            if key.startswith("area.stage.")
        },
        "by_component": components,
    }


def _per_token(results: Results, scenario: str, index: int) -> dict:
    return {field: float(results[f"{scenario}.{name}"][index]) for field, name in PER_TOKEN}


def _breakdown_keys(results: Results) -> dict[str, list[tuple[str, str, str]]]:
    """For each view of the speculative burst, its outputs as (group, field, output name), in output order.

    Found once per report: scanning every output's name again for each prompt length and view was a
    third of a 120-point plot's report."""
    views: dict[str, list[tuple[str, str, str]]] = {}
    for key in results:
        parts = key.split(".")
        if len(parts) == 5 and parts[0] == "speculative" and parts[4] in ("energy", "latency"):
            views.setdefault(parts[1], []).append((parts[3], "energy_J" if parts[4] == "energy" else "latency_s", key))
    return views


def _grouped(results: Results, keys: list[tuple[str, str, str]], index: int) -> dict:
    grouped: dict[str, dict[str, float]] = {}
    for group, field, key in keys:
        entry = grouped.setdefault(group, {"energy_J": 0.0, "latency_s": 0.0})
        entry[field] += float(results[key][index])
    return grouped


def _leakage_by_component(results: Results, index: int, leakage: dict) -> dict:
    """Each component's static energy as its own entry (``leakage.<component>``), where the pack charges
    leakage to components; else the whole static energy as one ``leakage`` entry."""
    entries = {
        f"{LEAKAGE}.{key.split('.')[2]}": {"energy_J": float(value[index]), "latency_s": 0.0}
        for key, value in results.items()
        if key.startswith(f"speculative.{LEAKAGE}.")
    }
    return entries or {LEAKAGE: dict(leakage)}


def _point(results: Results, index: int, length: int, breakdowns: dict[str, list[tuple[str, str, str]]]) -> dict:
    speculative = _per_token(results, "speculative", index)
    speculative["burst"] = {
        "energy_J": float(results["speculative.burst_energy"][index]),
        "latency_s": float(results["speculative.burst_latency"][index]),
        "serial_latency_s": float(results["speculative.serial_latency"][index]),
    }
    # Static energy is spent over the whole burst, in no phase or stage: each view has it as its own entry
    # (with no time of its own), so that every view adds up to the burst energy.
    leakage = {"energy_J": float(results["speculative.leakage_energy"][index]), "latency_s": 0.0}
    speculative["by_phase"] = {
        **{
            phase: {
                "energy_J": float(results[f"speculative.total.{phase}.energy"][index]),
                "latency_s": float(results[f"speculative.total.{phase}.latency"][index]),
            }
            for phase in PHASES
        },
        LEAKAGE: leakage,
    }
    for view in ("stage", "feature", "channel"):
        speculative[f"by_{view}"] = {**_grouped(results, breakdowns.get(view, []), index), LEAKAGE: dict(leakage)}
    speculative["by_component"] = {
        **_grouped(results, breakdowns.get("component", []), index),
        **_leakage_by_component(results, index, leakage),
    }
    baseline = _per_token(results, "baseline", index)
    return {
        "L_prompt": length,
        "speculative": speculative,
        "baseline": baseline,
        "vs_baseline": {
            "energy_ratio": speculative["energy_per_token_J"] / baseline["energy_per_token_J"],
            "latency_ratio": speculative["latency_per_token_s"] / baseline["latency_per_token_s"],
            "energy_difference_J": speculative["energy_per_token_J"] - baseline["energy_per_token_J"],
            "latency_difference_s": speculative["latency_per_token_s"] - baseline["latency_per_token_s"],
        },
    }


def _si(value: float, unit: str) -> str:
    prefixes = ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M"))
    magnitude = abs(value)
    scale, prefix = prefixes[0]
    for candidate, name in prefixes:
        if magnitude >= candidate:
            scale, prefix = candidate, name
    return f"{value / scale:.4g} {prefix}{unit}"


def format_table(report: dict) -> str:
    hardware, speculation = report["hardware"], report["speculation"]
    lines = [
        f"symcost {report['symcost_version']}: {Path(report['inputs']['model']['path']).name} on "
        f"{Path(report['inputs']['hardware']['path']).name} ({hardware['mode']}"
        f"{', library ' + hardware['library'] if hardware['library'] else ''}, {hardware['schedule']}, {hardware['reuse_policy']})",
        f"K = {speculation['K']}, E[a+1] = {speculation['expected_committed_tokens']:.4g} committed tokens per burst, "
        f"E[K-a] = {speculation['expected_wasted_steps']:.4g} wasted verify steps",
        f"area: {report['area']['total_mm2']:.4g} mm^2 on chip, {report['area']['off_chip_mm2']:.4g} mm^2 off chip",
        "",
        f"{'L_prompt':>9} | {'energy/token':>12} {'baseline':>12} {'ratio':>6} | {'latency/token':>13} {'baseline':>12} {'ratio':>6} | {'tokens/s':>10} {'tokens/J':>10}",
    ]
    for point in report["points"]:
        spec, base, ratio = point["speculative"], point["baseline"], point["vs_baseline"]
        lines.append(
            f"{point['L_prompt']:>9} | {_si(spec['energy_per_token_J'], 'J'):>12} {_si(base['energy_per_token_J'], 'J'):>12} "
            f"{ratio['energy_ratio']:>6.3f} | {_si(spec['latency_per_token_s'], 's'):>13} {_si(base['latency_per_token_s'], 's'):>12} "
            f"{ratio['latency_ratio']:>6.3f} | {spec['throughput_tokens_per_s']:>10.4g} {spec['tokens_per_J']:>10.4g}"
        )
    last = report["points"][-1]["speculative"]
    energy, serial = last["burst"]["energy_J"], last["burst"]["serial_latency_s"]
    dynamic = energy - last["by_stage"][LEAKAGE]["energy_J"]
    lines += [
        "",
        f"where a burst goes at L_prompt = {report['points'][-1]['L_prompt']}: share of the burst energy "
        f"({_si(energy, 'J')}), of its dynamic part, and of the summed stage time ({_si(serial, 's')})",
        f"  {'':<12} {'energy':>7} {'dynamic':>8} {'time':>7}",
    ]
    for stage, values in sorted(last["by_stage"].items(), key=lambda item: -item[1]["energy_J"]):
        share = "-" if stage == LEAKAGE else f"{values['energy_J'] / (dynamic or 1):.1%}"
        lines.append(
            f"  {stage:<12} {values['energy_J'] / (energy or 1):>7.1%} {share:>8} "
            f"{values['latency_s'] / (serial or 1):>7.1%}"
        )
    statuses = report["terms"]
    lines.append(
        f"\n{len(statuses.get('proxy', []))} proxy and {len(statuses.get('out_of_scope', []))} out-of-scope terms "
        "(reasons in the JSON report, -o FILE)"
    )
    if report.get("diagnostics"):
        lines += ["", format_diagnostics(report["diagnostics"])]
    return "\n".join(lines)
