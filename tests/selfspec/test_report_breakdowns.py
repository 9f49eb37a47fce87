"""Every breakdown of a selfspec report adds up to its burst, static energy included, and equals the oracle's.

The contract (docs/accounting.md, "Breakdowns in a report"): in every view the
energies sum to the burst energy, leakage being an entry of its own (per
component in the component view); the latencies of the phase, stage, feature
and channel views sum to the serial latency (every stage one after the
other), which is the burst latency of the serialized schedule. The bundled
examples and the reference examples are checked for the sums; the reference
examples, in the formats the plain step-by-step oracle (tests/oracles/oracle_selfspec.py)
reads, are also checked entry by entry against it.
"""

from __future__ import annotations

import json
import math

import pytest
from conftest import EXAMPLES, PEER
from oracles import oracle_selfspec as oracle

from symcost import build_model
from symcost.packs.selfspec.report import area_summary, build_report
from symcost.registry import resolve_pack

RELATIVE = 1e-12
LENGTHS = [1, 64, 2048, 30000]  # within the 32768-token context of the bundled layer-pipelined example
REFERENCE_LENGTHS = [1, 64, 1024, 8000]  # within the 8192-token context of the reference's HyFlexPIM example
VIEWS = ("by_phase", "by_stage", "by_feature", "by_channel", "by_component")
TIMED = ("by_phase", "by_stage", "by_feature", "by_channel")  # component latencies are busy times that overlap
BUNDLED = [
    (model, hardware, stats)
    for model in ("model_tiny", "model_llama2_7b")
    for hardware in ("hardware_knobs", "hardware_soc_pipelined", "hardware_legacy")
    for stats in ("stats_k4", "stats_geometric")
]
REFERENCE_HARDWARE = sorted(path.stem for path in (PEER / "examples").glob("hardware*.yaml")) if PEER.is_dir() else []
REFERENCE = [(model, hardware) for hardware in REFERENCE_HARDWARE for model in ("model", "model_qwen3_0p6b")]


def close(ours: float, theirs: float, scale: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=RELATIVE, abs_tol=RELATIVE * scale)


def sum_failures(report: dict) -> list[str]:
    failures = []
    for point in report["points"]:
        spec, where = point["speculative"], f"L_prompt = {point['L_prompt']}"
        energy, serial = spec["burst"]["energy_J"], spec["burst"]["serial_latency_s"]
        for view in VIEWS:
            total = sum(entry["energy_J"] for entry in spec[view].values())
            if not close(total, energy, energy):
                failures.append(f"{where}: {view} energies sum to {total!r}, the burst is {energy!r}")
        for view in TIMED:
            total = sum(entry["latency_s"] for entry in spec[view].values())
            if not close(total, serial, serial):
                failures.append(f"{where}: {view} latencies sum to {total!r}, the serial latency is {serial!r}")
        static = [name for name in spec["by_component"] if name.startswith("leakage")]
        if not static or any(spec["by_component"][name]["latency_s"] != 0 for name in static):
            failures.append(f"{where}: the component view has no static entries, or one takes time")
        if any(spec[view]["leakage"] != spec["by_phase"]["leakage"] for view in TIMED):
            failures.append(f"{where}: the views disagree on the static energy")
        schedule_ok = (
            serial == spec["burst"]["latency_s"]
            if report["hardware"]["schedule"] == "serialized"
            else spec["burst"]["latency_s"] <= serial * (1 + RELATIVE)
        )
        if not schedule_ok:
            failures.append(f"{where}: burst latency {spec['burst']['latency_s']!r} against serial {serial!r}")
    return failures


@pytest.mark.parametrize("files", BUNDLED, ids=["-".join(files) for files in BUNDLED])
def test_bundled_examples_breakdowns_add_up_to_the_burst(files):
    model = build_model(*(EXAMPLES / f"{name}.yaml" for name in files))
    report = build_report(model, LENGTHS)
    assert sum_failures(report) == []


@pytest.fixture(scope="module")
def geometric_stats(tmp_path_factory):
    """K = 5 under geometric acceptance for symcost, and the same P(a) as a histogram for the oracle."""
    folder = tmp_path_factory.mktemp("stats")
    alpha, k = 0.7, 5
    (folder / "geometric.yaml").write_text(f"k: {k}\ngeometric: {{alpha: {alpha}}}\n")
    histogram = {str(a): alpha**a * (1 - alpha) if a < k else alpha**k for a in range(k + 1)}
    (folder / "histogram.json").write_text(json.dumps({"k": k, "histogram": histogram}))
    return folder


def compare_with_oracle(report: dict, files: tuple, stats_for_oracle) -> list[str]:
    speculation, bursts = oracle.report_views(*map(str, files[:2]), str(stats_for_oracle), REFERENCE_LENGTHS)
    failures = []
    for field in ("expected_committed_tokens", "expected_wasted_steps"):
        if not close(report["speculation"][field], speculation[field], speculation[field]):
            failures.append(f"{field}: symcost {report['speculation'][field]!r} oracle {speculation[field]!r}")
    for a, probability in speculation["acceptance"].items():
        if not close(report["speculation"]["acceptance"][str(a)], probability, 1.0):
            failures.append(f"P({a}): symcost {report['speculation']['acceptance'][str(a)]!r} oracle {probability!r}")
    for point, (burst, views) in zip(report["points"], bursts):
        spec, where = point["speculative"], f"L_prompt = {point['L_prompt']}"
        energy, serial = burst["energy_pj"] * 1e-12, burst["serial_latency_ns"] * 1e-9
        for key, ours, theirs in (
            ("energy", spec["burst"]["energy_J"], energy),
            ("latency", spec["burst"]["latency_s"], burst["latency_ns"] * 1e-9),
            ("serial latency", spec["burst"]["serial_latency_s"], serial),
        ):
            if not close(ours, theirs, theirs):
                failures.append(f"{where}: burst {key}: symcost {ours!r} oracle {theirs!r}")
        for view in VIEWS:
            for name in spec[view].keys() | views[view].keys():
                ours = spec[view].get(name, {"energy_J": 0.0, "latency_s": 0.0})
                theirs = views[view].get(name, [0.0, 0.0])
                if not close(ours["energy_J"], theirs[0] * 1e-12, energy):
                    failures.append(
                        f"{where}: {view}.{name} energy: symcost {ours['energy_J']!r} oracle {theirs[0] * 1e-12!r}"
                    )
                if view in TIMED and not close(ours["latency_s"], theirs[1] * 1e-9, serial):
                    failures.append(
                        f"{where}: {view}.{name} latency: symcost {ours['latency_s']!r} oracle {theirs[1] * 1e-9!r}"
                    )
    return failures


@pytest.mark.parametrize("model, hardware", REFERENCE, ids=["-".join(case) for case in REFERENCE])
def test_reference_examples_add_up_and_equal_the_oracle(peer_examples, model, hardware):
    files = (peer_examples / f"{model}.yaml", peer_examples / f"{hardware}.yaml", peer_examples / "stats.json")
    report = build_report(build_model(*files), REFERENCE_LENGTHS)
    assert sum_failures(report) == []
    assert compare_with_oracle(report, files, files[2]) == []


@pytest.mark.parametrize("hardware", ["hardware_soc_area", "hardware_soc_memory"])
def test_geometric_acceptance_adds_up_and_equals_the_oracle(peer_examples, geometric_stats, hardware):
    files = (peer_examples / "model.yaml", peer_examples / f"{hardware}.yaml", geometric_stats / "geometric.yaml")
    report = build_report(build_model(*files), REFERENCE_LENGTHS)
    assert sum_failures(report) == []
    assert compare_with_oracle(report, files, geometric_stats / "histogram.json") == []


def test_area_totals_follow_the_packs_off_chip_list(tmp_path):
    packaged = resolve_pack("selfspec")
    moved = tmp_path / "selfspec.yaml"
    moved.write_text(packaged.read_text().replace("\noff_chip: [hbm]\n", "\noff_chip: [hbm, sram]\n"))
    files = [EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml"]
    for pack, off_chip in ((packaged, {"hbm"}), (moved, {"hbm", "sram"})):
        model = build_model(*files, pack=pack)
        area = area_summary(model.evaluate(L_prompt=[64]))
        components = area["by_component"]
        assert area["by_component"]["sram"] > 0 and area["by_component"]["hbm"] > 0
        assert area["off_chip_mm2"] == pytest.approx(
            sum(value for name, value in components.items() if name in off_chip), rel=1e-12
        )
        assert area["total_mm2"] == pytest.approx(
            sum(value for name, value in components.items() if name not in off_chip), rel=1e-12
        )
