"""The core symcost report over HTTP: documents in, the same report ``symcost report`` writes out.

The server process writes a request's three documents as JSON files into its
scratch folder, in a subfolder named by their content (the evaluator cache is keyed by
content; a stable folder also keeps each set's files in one place), and removes them when
no request holds them. A worker process then builds from the files with the
same loading, validation and caching as files on the command line. A hardware
document may name a packaged component library (``library``) but not a file
on the server (``library_file`` is refused). Reports lose the server's paths.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from ..errors import SymcostError
from ..packs.selfspec.breakeven import prompt_domain
from ..packs.selfspec.model import Build, CostModel
from ..packs.selfspec.report import build_report

EXAMPLES = {  # name -> (model, hardware, stats) files of examples/
    "llama2-7b, SoC, layer-pipelined": ("model_llama2_7b.yaml", "hardware_soc_pipelined.yaml", "stats_k4.yaml"),
    "llama2-7b, knob-based hardware": ("model_llama2_7b.yaml", "hardware_knobs.yaml", "stats_k4.yaml"),
    "tiny model, knob-based hardware": ("model_tiny.yaml", "hardware_knobs.yaml", "stats_k4.yaml"),
}
CURVES = ("energy_per_token", "latency_per_token")
ROLES = ("model", "hardware", "stats")
PACK = "selfspec"
VARY = ("L_prompt",)


class DocumentFolder:
    """Request documents as files under ``root``, one subfolder per distinct set, while requests hold them.

    Used from the server's event loop only (one thread), so the holder counts need no lock.
    """

    def __init__(self, root: Path):
        self.root = root
        self._holders: Counter[str] = Counter()

    @contextmanager
    def holding(self, model: dict, hardware: dict, stats: dict) -> Iterator[dict[str, str]]:
        if "library_file" in hardware:
            raise SymcostError(
                "hardware.library_file: the service does not read files; name a packaged library with 'library' instead"
            )
        texts = {role: json.dumps(document) for role, document in zip(ROLES, (model, hardware, stats))}
        name = hashlib.sha256("\0".join(texts.values()).encode()).hexdigest()
        folder = self.root / name
        if not self._holders[name]:
            folder.mkdir(mode=0o700, exist_ok=True)
            for role, text in texts.items():
                (folder / f"{role}.json").write_text(text, encoding="utf-8")
        self._holders[name] += 1
        try:
            yield {role: str(folder / f"{role}.json") for role in ROLES}
        finally:
            self._holders[name] -= 1
            if not self._holders[name]:
                del self._holders[name]
                shutil.rmtree(folder, ignore_errors=True)


def build_for(paths: dict[str, str]) -> Build:
    """The build of a request's documents: its cache entry chooses the worker lane, and the worker builds from it."""
    return Build.of(*(paths[role] for role in ROLES), pack=PACK, vary=VARY)


def report_from_files(build: Build, prompt_lengths: Sequence[int]) -> dict[str, Any]:
    report = build_report(build.model(), prompt_lengths)
    report.pop("inputs", None)  # the scratch folder's paths mean nothing to the caller
    return report


def curve_from_files(build: Build, prompt_lengths: Sequence[int]) -> dict[str, Any]:
    """Per-token energy and latency of speculative and plain decoding over the prompt lengths, and the break-even."""
    cost_model = build.model()
    lengths = np.asarray(sorted(set(prompt_lengths)), dtype=np.int64)
    results = cost_model.evaluate(L_prompt=lengths)
    report = build_report(cost_model, lengths[:1])
    curves = {
        f"{scenario}.{quantity}": results[f"{scenario}.{quantity}"].tolist()
        for scenario in ("speculative", "baseline")
        for quantity in CURVES
    }
    return {
        "prompt_lengths": lengths.tolist(),
        "units": {"energy_per_token": "J", "latency_per_token": "s"},
        "curves": curves,
        "break_even": report["break_even"].get("vs_baseline", {}),
    }


def limits_from_files(build: Build) -> dict[str, Any]:
    """The pack's validity limits for these documents: each as the pack declares it, whether the documents
    switch it on, its expression and maximum with their values in, and the longest prompt all of them allow."""
    cost_model = build.model()
    return cost_model.remember("limits", lambda: _limits(cost_model))


def _limits(cost_model: CostModel) -> dict[str, Any]:
    applying = {name: (expression, maximum) for name, expression, maximum, _ in cost_model.accounting.limits}
    values = {
        name: sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value)
        for name, value in cost_model.defaults.items()
        if name != "L_prompt"
    }

    def at_inputs(expression: sp.Expr) -> sp.Expr:
        return expression.xreplace(
            {symbol: values[symbol.name] for symbol in expression.free_symbols if symbol.name in values}
        )

    limits = []
    for limit in cost_model.pack.limits:
        entry = {
            "name": limit.name,
            "message": limit.message,
            "expression": sp.sstr(limit.expression),
            "maximum": sp.sstr(limit.maximum),
            "applies": limit.name in applying,
        }
        if entry["applies"]:
            expression, maximum = (at_inputs(part) for part in applying[limit.name])
            entry["at_inputs"] = {
                "expression": sp.sstr(expression),
                "maximum": float(maximum) if maximum.is_number else None,
            }
        limits.append(entry)
    return {
        "pack": cost_model.pack.name,
        "limits": limits,
        "prompt_length_max": prompt_domain(cost_model)[1] if applying else None,
    }


def selfspec_examples() -> dict[str, Any]:
    """The bundled examples' documents, when symcost runs from a checkout that has examples/."""
    from ..documents import load_document

    folder = Path(__file__).resolve().parents[2] / "examples"
    found = {}
    for name, files in EXAMPLES.items():
        if all((folder / file).is_file() for file in files):
            documents = [load_document(folder / file).data for file in files]
            found[name] = dict(zip(ROLES, documents))
    return found
