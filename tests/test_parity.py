"""Numeric parity with the reference calculator's reports (../shared/peer-selfspec/golden).

For every golden report, symcost reads the same three input files, evaluates
at the same prompt lengths and must give the same per-token metrics
(speculative and baseline), the same phase totals, and the same stage,
component, DPU-feature and channel breakdowns of every phase (speculative
and baseline), and the same area, to a relative 1e-9.
"""
from __future__ import annotations

import json
import math

import pytest

from conftest import PEER
from symcost import build_model

GOLDEN = PEER / "golden"
PHASES = ("draft", "verify_drafted", "verify_bonus")
PJ, NS, MM2 = 1e-12, 1e-9, 1e-6
RELATIVE = 1e-9


def _golden_cases():
    index = GOLDEN / "index.json"
    if not index.is_file():
        return []
    return [entry for entry in json.loads(index.read_text()) if entry["stats"] == "stats.json"]


CASES = _golden_cases()


def _close(ours: float, theirs: float, scale: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=RELATIVE, abs_tol=RELATIVE * scale)


class Comparison:
    def __init__(self):
        self.checked = 0
        self.mismatches: list[str] = []

    def check(self, where: str, ours: float, theirs: float, scale: float) -> None:
        self.checked += 1
        if not _close(ours, theirs, scale):
            self.mismatches.append(f"{where}: symcost {ours!r} vs reference {theirs!r}")


def _compare_breakdown(compare, results, index, scenario, phase, golden):
    energy_scale, latency_scale = abs(golden["energy_pj"]) + 1.0, abs(golden["latency_ns"]) + 1.0
    get = lambda key: float(results.get(key, [0.0] * (index + 1))[index])  # noqa: E731
    compare.check(f"{scenario}.{phase}.energy_pj", get(f"{scenario}.total.{phase}.energy") / PJ, golden["energy_pj"], energy_scale)
    compare.check(f"{scenario}.{phase}.latency_ns", get(f"{scenario}.total.{phase}.latency") / NS, golden["latency_ns"], latency_scale)
    for group, view in (("stages", "stage"), ("components", "component"), ("channels", "channel")):
        for key, theirs in golden[group].items():
            if key.endswith("_mm2"):
                continue
            name, quantity = key.rsplit("_", 2)[0], "energy" if key.endswith("_energy_pj") else "latency"
            unit, scale = (PJ, energy_scale) if quantity == "energy" else (NS, latency_scale)
            compare.check(f"{scenario}.{phase}.{group}.{key}", get(f"{scenario}.{view}.{phase}.{name}.{quantity}") / unit, theirs, scale)
    for key, theirs in golden["dpu_features"].items():
        name, suffix = key.rsplit("_", 2)[0], key.rsplit("_", 2)[1:]
        quantity = {"energy": "energy", "latency": "latency"}.get(suffix[0], "count")
        if key.endswith("_ops"):
            name, quantity, unit, scale = key[:-len("_ops")], "count", 1.0, abs(theirs) + 1.0
        else:
            unit, scale = (PJ, energy_scale) if quantity == "energy" else (NS, latency_scale)
        compare.check(f"{scenario}.{phase}.dpu_features.{key}", get(f"{scenario}.feature.{phase}.{name}.{quantity}") / unit, theirs, scale)


@pytest.mark.skipif(not CASES, reason=f"reference golden reports not found at {GOLDEN} (shared/ is absent)")
@pytest.mark.parametrize("case", CASES, ids=[entry["report"].split("/")[-1].removesuffix(".json") for entry in CASES])
def test_matches_reference_report(case):
    golden = json.loads((PEER / case["report"]).read_text())
    examples = PEER / "examples"
    model = build_model(examples / case["model"], examples / case["hardware"], examples / case["stats"])
    lengths = [point["l_prompt"] for point in golden["points"]]
    results = model.evaluate(L_prompt=lengths)
    compare = Comparison()
    for index, point in enumerate(golden["points"]):
        for scenario in ("speculative", "baseline"):
            for key, ours_name, unit in (("energy_pj_per_token", "energy_per_token", PJ), ("latency_ns_per_token", "latency_per_token", NS),
                                         ("throughput_tokens_per_s", "throughput", 1.0), ("tokens_per_joule", "tokens_per_joule", 1.0)):
                theirs = point[scenario][key]
                compare.check(f"L={point['l_prompt']}.{scenario}.{key}", results[f"{scenario}.{ours_name}"][index] / unit, theirs, abs(theirs))
            breakdowns = point["breakdown" if scenario == "speculative" else "baseline_breakdown"]
            for phase in PHASES:
                _compare_breakdown(compare, results, index, scenario, phase, breakdowns[phase])
    area = golden["area_breakdown_mm2"]
    scale = area["on_chip_mm2"] + area["off_chip_hbm_mm2"] + 1.0
    for key, theirs in area["on_chip_components"].items():
        name = {"arrays_mm2": "arrays", "digital_overhead_mm2": "digital_overhead"}.get(key, key[:-len("_mm2")])
        compare.check(f"area.{key}", float(results.get(f"area.component.{name}", [0.0])[0]) / MM2, theirs, scale)
    compare.check("area.off_chip_hbm_mm2", float(results.get("area.component.hbm", [0.0])[0]) / MM2, area["off_chip_hbm_mm2"], scale)
    for block in ("qkv", "wo", "ffn", "digital"):
        compare.check(f"area.{block}_mm2", float(results.get(f"area.stage.{block}", [0.0])[0]) / MM2, golden["area"][f"{block}_mm2"], scale)
    assert compare.checked > 1000
    assert not compare.mismatches, "\n".join(compare.mismatches[:20])
