"""Measured acceptance per candidate burst length: the reference calculator's k-sweep input.

Two spellings are read (``schemas/acceptance-sweep.schema.json``)::

    candidates:                      # a list
      - {k: 1, expected_accepted_tokens: 0.8}
      - {k: 5, expected_accepted_tokens: 4.85}

    1: 0.8                           # or a map K -> E[a]
    5: 4.85
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ....checked import checked_document
from ....errors import InputError, InputIssue


@dataclass(frozen=True)
class Candidate:
    """A burst length and the mean accepted prefix E[a] measured with it."""

    k: int
    mean_accepted: float

    @property
    def committed(self) -> float:
        """E[a+1]: tokens committed per burst."""
        return self.mean_accepted + 1.0


def read_candidates(path: str | Path) -> list[Candidate]:
    """The candidates of a k-sweep input file, ordered by K."""
    document = checked_document(path, "acceptance-sweep")
    data = document.data
    if "candidates" in data:
        entries = [
            (entry["k"], entry["expected_accepted_tokens"], f"candidates[{index}]")
            for index, entry in enumerate(data["candidates"])
        ]
    else:
        entries = [(int(k), mean, k) for k, mean in data.items()]
    return checked_candidates(entries, document.label)


def checked_candidates(entries: Iterable[tuple[int, float, str]], label: str) -> list[Candidate]:
    """Candidates from (K, E[a], field path) entries: E[a] <= K and each K once, else every problem is raised."""
    issues, seen, candidates = [], set(), []
    for k, mean, where in entries:
        if mean > k:
            issues.append(InputIssue(label, where, f"mean accepted tokens {mean:g} exceeds K = {k}"))
        if k in seen:
            issues.append(InputIssue(label, where, f"K = {k} is given twice"))
        seen.add(k)
        candidates.append(Candidate(int(k), float(mean)))
    if issues:
        raise InputError(issues)
    return sorted(candidates, key=lambda candidate: candidate.k)
