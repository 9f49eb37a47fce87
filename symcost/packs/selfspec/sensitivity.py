"""Sensitivities: which coefficient dominates a per-token cost.

The elasticity of a metric M to a coefficient c is d log M / d log c =
(c / M) dM/dc: the percent change of M per percent change of c. symcost keeps
every dimensional hardware coefficient symbolic, derives the closed forms,
fixes their branches (schedule maxima, step counts) to those active at each
prompt length (:func:`symcost.pieces.localise`) and differentiates that
piece symbolically: the elasticity is exact where the metric is smooth,
which is everywhere but on a branch boundary.

A coefficient that decides which branch of a step sum wins (e.g. a memory
width that sets where KV traffic overtakes compute in the pipelined
schedule) cannot stay symbolic inside the closed-form sums; it is fixed at
its value and listed as left out, with the reason.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...registry import packaged_pack
from ...units import DIMENSIONLESS, parse_unit
from .model import CostModel, build_model, recipe_of

if TYPE_CHECKING:
    import sympy as sp

    from ...pack import FormulaPack

METRICS = ("energy_per_token", "latency_per_token")
_MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Elasticity:
    coefficient: str  # pack symbol
    field: str | None  # input field it is bound to
    value: float  # in the unit below
    unit: str
    by_metric: dict[str, np.ndarray]  # metric -> elasticity per prompt length


@dataclass(frozen=True)
class Sensitivities:
    prompt_lengths: np.ndarray
    metrics: tuple[str, ...]
    elasticities: list[Elasticity]  # ranked by the largest |elasticity| at any prompt length
    left_out: dict[str, str]  # coefficient -> why it has no elasticity here

    def as_json(self) -> dict:
        return {
            "prompt_lengths": self.prompt_lengths.tolist(),
            "metrics": list(self.metrics),
            "elasticities": [
                {
                    "coefficient": item.coefficient,
                    "field": item.field,
                    "value": item.value,
                    "unit": item.unit,
                    **{metric: values.tolist() for metric, values in item.by_metric.items()},
                }
                for item in self.elasticities
            ],
            "left_out": self.left_out,
        }

    @classmethod
    def from_json(cls, data: dict) -> Sensitivities:
        metrics = tuple(data["metrics"])
        ranked = [
            Elasticity(
                item["coefficient"],
                item["field"],
                item["value"],
                item["unit"],
                {metric: np.asarray(item[metric], dtype=np.float64) for metric in metrics},
            )
            for item in data["elasticities"]
        ]
        return cls(np.asarray(data["prompt_lengths"], dtype=np.float64), metrics, ranked, dict(data["left_out"]))


def sensitivities(
    model_path: str | Path,
    hardware_path: str | Path,
    stats_path: str | Path,
    prompt_lengths: Sequence[float],
    *,
    scenario: str = "speculative",
    library_path: list[str] | None = None,
    metrics: Sequence[str] = METRICS,
) -> Sensitivities:
    """Elasticities of ``scenario``'s per-token metrics to every dimensional hardware coefficient.

    Deriving them takes seconds of SymPy (a build per round of coefficients a step sum needs as numbers,
    then symbolic derivatives), so the answer is remembered as JSON in the evaluator cache entry of these
    documents and outputs (its key covers the pack, from which the coefficients kept are chosen), under
    a name for the prompt lengths: a warm run derives nothing. Cold or warm, the answer is read back from
    its JSON, so both give the same numbers.
    """
    outputs = tuple(f"{scenario}.{metric}" for metric in metrics)
    lengths = np.asarray(prompt_lengths, dtype=np.float64)
    entry = recipe_of(model_path, hardware_path, stats_path, library_path=library_path, only=outputs).cache_entry()

    def derive() -> dict:
        if sys.stderr.isatty():  # seconds of SymPy: say why, and that it happens once
            print("deriving the elasticities (the next run takes them from the cache)...", file=sys.stderr)
        return _derived(
            model_path,
            hardware_path,
            stats_path,
            lengths,
            scenario=scenario,
            library_path=library_path,
            metrics=metrics,
        ).as_json()

    name = "sensitivity_" + hashlib.sha256(lengths.tobytes()).hexdigest()[:16]
    return Sensitivities.from_json(entry.remember(name, derive) if entry else derive())


def _derived(
    model_path: str | Path,
    hardware_path: str | Path,
    stats_path: str | Path,
    lengths: np.ndarray,
    *,
    scenario: str,
    library_path: list[str] | None,
    metrics: Sequence[str],
) -> Sensitivities:
    """The elasticities, derived with SymPy."""
    outputs = [f"{scenario}.{metric}" for metric in metrics]
    model, left_out = _model_keeping_coefficients(model_path, hardware_path, stats_path, library_path, outputs)
    kept = [
        symbol for symbol in model.evaluator.inputs if symbol.name in model.kept and model.defaults.get(symbol.name)
    ]
    for name in model.kept:
        if name not in model.evaluator.input_names:
            left_out[name] = "these metrics do not depend on it (with these inputs)"
        elif not model.defaults.get(name):
            left_out[name] = "its value is zero, so a relative change leaves it zero"
    derivatives = {output: _log_derivatives(model, output, kept, lengths) for output in outputs}
    ranked = []
    for symbol in kept:
        spec = model.pack.symbols[symbol.name]
        by_metric = {metric: derivatives[output][symbol.name] for metric, output in zip(metrics, outputs)}
        value = model.defaults[symbol.name] / parse_unit(spec.unit).si_factor
        ranked.append(Elasticity(symbol.name, spec.binding, value, spec.unit, by_metric))
    ranked.sort(key=lambda item: -max(float(np.max(np.abs(values))) for values in item.by_metric.values()))
    return Sensitivities(lengths, tuple(metrics), ranked, left_out)


def cost_coefficients(pack: FormulaPack) -> list[str]:
    """Hardware symbols with a physical unit (energies, times, powers, areas, bandwidths, sizes)."""
    return [
        spec.name
        for spec in pack.symbols.values()
        if spec.source == "hardware" and parse_unit(spec.unit).dimension != DIMENSIONLESS
    ]


def _model_keeping_coefficients(
    model_path, hardware_path, stats_path, library_path, outputs: list[str]
) -> tuple[CostModel, dict[str, str]]:
    """A model with every cost coefficient symbolic but those the closed-form sums need as numbers."""
    from ...pack import load_pack
    from ...sums import ClosedFormError

    keep = cost_coefficients(load_pack(packaged_pack("selfspec")))
    left_out: dict[str, str] = {}
    for _ in range(_MAX_ATTEMPTS):
        try:
            return build_model(
                model_path, hardware_path, stats_path, library_path=library_path, only=outputs, keep=keep
            ), left_out
        except ClosedFormError as error:
            deciding = {symbol.name for symbol in error.symbols} & set(keep)
            if not deciding:
                raise
            left_out.update(  # in the pack's order: a set's order changes with the string hash seed
                (name, "it decides which branch of a step sum applies, so the closed form needs its value")
                for name in keep
                if name in deciding
            )
            keep = [name for name in keep if name not in deciding]
    raise ClosedFormError(f"more than {_MAX_ATTEMPTS} rounds of coefficients deciding branches")


def _log_derivatives(
    model: CostModel, output: str, kept: list[sp.Symbol], lengths: np.ndarray
) -> dict[str, np.ndarray]:
    """d log(output) / d log(c) for each kept coefficient c, at each prompt length."""
    from ...pieces import localise

    metric = model.closed_form(output)
    symbols = {symbol.name: symbol for symbol in metric.free_symbols}
    found = {symbol.name: np.zeros(lengths.size) for symbol in kept}
    for index, length in enumerate(lengths):
        point = {symbol: model.defaults.get(name, float(length)) for name, symbol in symbols.items()}
        piece = localise(metric, point)
        level = float(piece.xreplace(point))
        derivative = _derivatives_of(piece)
        for name in found:
            if name in symbols and level:
                slope = derivative(symbols[name]).xreplace(point)
                found[name][index] = float(slope) * point[symbols[name]] / level
    return found


def _derivatives_of(piece: sp.Expr):
    """symbol -> d piece / d symbol, the expression ``sp.diff`` gives.

    A localised metric is a sum of hundreds of terms, each with a few of the coefficients. SymPy's sum rule
    differentiates every term, and each of those asks its whole subtree for its free symbols, for every
    coefficient again; the terms without the coefficient give zeros the sum drops. Differentiating only the
    terms that contain it builds the same sum (about 20x faster for the energy per token)."""
    import sympy as sp

    if not piece.is_Add:
        return piece.diff
    terms = [(term, term.free_symbols) for term in piece.args]
    return lambda symbol: sp.Add(*(term.diff(symbol) for term, free in terms if symbol in free))
