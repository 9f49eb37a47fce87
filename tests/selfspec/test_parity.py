"""Parity with the reference calculator's reports (../shared/peer-selfspec/golden), in its own layout.

For every golden report, symcost reads the same three input files and writes
the report in the reference's layout (``symcost.packs.selfspec.compat.layout``, what
``symcost report --compat selfspec`` writes). That report must have the
golden report's key structure and, at a relative 1e-9, its numbers: per-token
metrics (speculative and baseline) with their ratios and differences, every
phase, stage, component, DPU-feature and channel entry, leakage, area, and the
echoed model, hardware and library knobs. ``NOT_REPRODUCED`` lists the fields
that differ by design (docs/compat.md says why).
"""

from __future__ import annotations

import json
import math

import pytest
from conftest import PEER

from symcost import build_model
from symcost.packs.selfspec.compat.layout import selfspec_report

GOLDEN = PEER / "golden"
RELATIVE = 1e-9
# field -> why it cannot equal the golden one
NOT_REPRODUCED = {
    "activation_counts": "symcost does not model array activations and converter conversions as counts (null)",
    "memory_traffic": "symcost does not report KV bytes per memory technology (null)",
    "ownership_rules": "the reference's prose, keyed by prose",
    "notes": "prose: symcost writes its own notes",
    "modeled": "names of movement terms: symcost lists its own pack's terms",
    "proxy_modeled": "names of movement terms: symcost lists its own pack's terms",
    "excluded": "names of movement terms: symcost lists its own pack's terms",
    "generated_at": "a time stamp; removed from the golden reports",
}


def _golden_cases():
    index = GOLDEN / "index.json"
    if not index.is_file():
        return []
    return [entry for entry in json.loads(index.read_text()) if entry["stats"] == "stats.json"]


CASES = _golden_cases()


class Comparison:
    def __init__(self):
        self.numbers = 0
        self.mismatches: list[str] = []

    def walk(self, ours, theirs, where: str) -> None:
        if where.rsplit(".", 1)[-1] in NOT_REPRODUCED:
            return
        if isinstance(theirs, dict):
            self.mapping(ours, theirs, where)
        elif isinstance(theirs, list):
            if not isinstance(ours, list) or len(ours) != len(theirs):
                self.mismatches.append(f"{where}: a list of {len(theirs)} expected, got {ours!r:.80}")
                return
            for index, (mine, golden) in enumerate(zip(ours, theirs)):
                self.walk(mine, golden, f"{where}[{index}]")
        elif isinstance(theirs, (int, float)) and not isinstance(theirs, bool):
            self.number(ours, theirs, where)
        elif ours != theirs:
            self.mismatches.append(f"{where}: symcost {ours!r} vs reference {theirs!r}")

    def mapping(self, ours, theirs: dict, where: str) -> None:
        if not isinstance(ours, dict):
            self.mismatches.append(f"{where}: a mapping expected, got {ours!r:.80}")
            return
        for key in sorted((set(ours) ^ set(theirs)) - set(NOT_REPRODUCED)):
            self.mismatches.append(f"{where}.{key}: only in {'symcost' if key in ours else 'the reference'}")
        for key in set(ours) & set(theirs):
            self.walk(ours[key], theirs[key], f"{where}.{key}")

    def number(self, ours, theirs: float, where: str) -> None:
        self.numbers += 1
        if (
            isinstance(ours, bool)
            or not isinstance(ours, (int, float))
            or not math.isclose(ours, theirs, rel_tol=RELATIVE, abs_tol=1e-300)
        ):
            self.mismatches.append(f"{where}: symcost {ours!r} vs reference {theirs!r}")


@pytest.mark.skipif(not CASES, reason=f"reference golden reports not found at {GOLDEN} (shared/ is absent)")
@pytest.mark.parametrize("case", CASES, ids=[entry["report"].split("/")[-1].removesuffix(".json") for entry in CASES])
def test_matches_reference_report(case):
    golden = json.loads((PEER / case["report"]).read_text())
    examples = PEER / "examples"
    model = build_model(examples / case["model"], examples / case["hardware"], examples / case["stats"])
    paths = {role: case[role] for role in ("model", "hardware", "stats")}  # as the golden reports name them
    ours = json.loads(json.dumps(selfspec_report(model, case["prompt_lengths"], paths)))
    compare = Comparison()
    compare.walk(ours, golden, "report")
    assert compare.numbers > 2000
    assert not compare.mismatches, "\n".join(compare.mismatches[:20])


def test_unreproduced_fields_are_null_or_own_words(peer_examples):
    """The fields the comparison skips are null or symcost's own lists, never silently stale numbers."""
    model = build_model(
        peer_examples / "model.yaml", peer_examples / "hardware_soc_memory.yaml", peer_examples / "stats.json"
    )
    report = selfspec_report(model, [1, 64])
    for breakdowns in ("breakdown", "baseline_breakdown"):
        for phase in ("draft", "verify_drafted", "verify_bonus", "total"):
            entry = report["points"][1][breakdowns][phase]
            assert entry["activation_counts"] is None and entry["memory_traffic"] is None
    assert all(isinstance(note, str) for note in report["notes"])
    assert report["movement_accounting"]["modeled"], "a memory model charges movement terms"
