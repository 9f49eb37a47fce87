"""Functional-simulator result files: measured acceptance per K for one model, prompt length and ADC setting.

The layout is the reference calculator's batch input
(``schemas/simulator-results.schema.json``); the target model is recognised
from the checkpoint path, as the reference does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....checked import checked_document
from ....errors import InputError, InputIssue
from .acceptance import Candidate, checked_candidates

# Model label, the marker in the checkpoint path (or its lower-case spelling), and the model file it selects.
MODELS = (
    ("Qwen3-0.6B", "Qwen3-0.6B", "qwen0p6b", "model_qwen3_0p6b.yaml"),
    ("Qwen3-1.7B", "Qwen3-1.7B", "qwen3_1p7b", "model_qwen3_1p7b.yaml"),
    ("Llama-3.2-1B", "Llama-3.2-1B", "llama3p2_1b", "model_llama3_2_1b.yaml"),
)
MODES = ("draft", "verify")


@dataclass(frozen=True)
class SimulatorRun:
    path: Path
    model_label: str
    model_file: str
    prompt_length: int
    draft_adc_bits: int
    verify_adc_bits: int
    knobs: dict[str, Any]
    candidates: list[Candidate]

    def hardware_overrides(self, verify_adc_bits: int) -> dict[str, Any]:
        """The run's ADC and delta-readout knobs as hardware-file fields (unset delta readout: off)."""
        overrides: dict[str, Any] = {
            "analog.adc.draft_bits": self.draft_adc_bits,
            "analog.adc.residual_bits": verify_adc_bits,
        }
        for mode in MODES:
            overrides[f"analog.delta_readout.{mode}.enabled"] = bool(self.knobs.get(f"{mode}_delta_readout", False))
            dac_bits = self.knobs.get(f"{mode}_delta_dac_bits")
            overrides[f"analog.delta_readout.{mode}.dac_bits"] = None if dac_bits is None else int(dac_bits)
        return overrides


def _model_of(checkpoint: str, label: str) -> tuple[str, str]:
    for name, marker, lower_marker, model_file in MODELS:
        if marker in checkpoint or lower_marker in checkpoint.lower():
            return name, model_file
    known = ", ".join(name for name, *_ in MODELS)
    raise InputError(
        [
            InputIssue(
                label,
                "model.checkpoint_path",
                f"cannot tell the model from {checkpoint!r}; expected a path naming one of {known}",
            )
        ]
    )


def read_run(path: str | Path) -> SimulatorRun:
    document = checked_document(path, "simulator-results")
    data, label = document.data, document.label
    model_label, model_file = _model_of(data["model"]["checkpoint_path"], label)
    entries = [
        (int(k), result["mean_accepted"], f"results_by_k.{k}.mean_accepted")
        for k, result in data["results_by_k"].items()
    ]
    return SimulatorRun(
        path=Path(path),
        model_label=model_label,
        model_file=model_file,
        prompt_length=int(data["dataset"]["prompt_length"]),
        draft_adc_bits=int(data["knobs"]["draft_adc_bits"]),
        verify_adc_bits=int(data["knobs"]["verify_adc_bits"]),
        knobs=data["knobs"],
        candidates=checked_candidates(entries, label),
    )
