"""The core symcost report over HTTP: documents in, the same report ``symcost report`` writes out.

The three documents are written as JSON files to a private temporary folder
and go through the same loading, validation and caching as files on the
command line. A hardware document may name a packaged component library
(``library``) but not a file on the server (``library_file`` is refused).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import SymcostError
from ..model import CostModel, build_model
from ..report import build_report

EXAMPLES = {  # name -> (model, hardware, stats) files of examples/
    "llama2-7b, SoC, layer-pipelined": ("model_llama2_7b.yaml", "hardware_soc_pipelined.yaml", "stats_k4.yaml"),
    "llama2-7b, knob-based hardware": ("model_llama2_7b.yaml", "hardware_knobs.yaml", "stats_k4.yaml"),
    "tiny model, knob-based hardware": ("model_tiny.yaml", "hardware_knobs.yaml", "stats_k4.yaml"),
}
CURVES = ("energy_per_token", "latency_per_token")


def selfspec_report(model: dict, hardware: dict, stats: dict, prompt_lengths: Sequence[int]) -> dict[str, Any]:
    with _documents(model, hardware, stats) as paths:
        report = build_report(_build(paths), prompt_lengths)
    report.pop("inputs", None)  # temporary paths mean nothing to the caller
    return report


def selfspec_curve(model: dict, hardware: dict, stats: dict, prompt_lengths: Sequence[int]) -> dict[str, Any]:
    """Per-token energy and latency of speculative and plain decoding over the prompt lengths, and the break-even."""
    with _documents(model, hardware, stats) as paths:
        cost_model = _build(paths)
        lengths = np.asarray(sorted(set(prompt_lengths)), dtype=np.int64)
        results = cost_model.evaluate(L_prompt=lengths)
        report = build_report(cost_model, lengths[:1])
    curves = {f"{scenario}.{quantity}": results[f"{scenario}.{quantity}"].tolist()
              for scenario in ("speculative", "baseline") for quantity in CURVES}
    return {"prompt_lengths": lengths.tolist(), "units": {"energy_per_token": "J", "latency_per_token": "s"},
            "curves": curves, "break_even": report["break_even"].get("vs_baseline", {})}


def selfspec_examples() -> dict[str, Any]:
    """The bundled examples' documents, when symcost runs from a checkout that has examples/."""
    from ..documents import load_document

    folder = Path(__file__).resolve().parents[2] / "examples"
    found = {}
    for name, files in EXAMPLES.items():
        if all((folder / file).is_file() for file in files):
            documents = [load_document(folder / file).data for file in files]
            found[name] = dict(zip(("model", "hardware", "stats"), documents))
    return found


class _documents:
    """The documents as files in a temporary folder, for the duration of a ``with``."""

    def __init__(self, model: dict, hardware: dict, stats: dict):
        if "library_file" in hardware:
            raise SymcostError("hardware.library_file: the service does not read files; name a packaged library "
                               "with 'library' instead")
        self.documents = {"model": model, "hardware": hardware, "stats": stats}

    def __enter__(self) -> dict[str, Path]:
        self.folder = tempfile.TemporaryDirectory(prefix="symcost-selfspec-")
        paths = {}
        for role, document in self.documents.items():
            paths[role] = Path(self.folder.name) / f"{role}.json"
            paths[role].write_text(json.dumps(document))
        return paths

    def __exit__(self, *exc) -> None:
        self.folder.cleanup()


def _build(paths: dict[str, Path]) -> CostModel:
    return build_model(paths["model"], paths["hardware"], paths["stats"], vary=["L_prompt"])
