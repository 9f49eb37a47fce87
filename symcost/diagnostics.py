"""Plausibility checks a pack declares as data, evaluated on a report.

A pack's ``diagnostics`` section lists checks (see docs/writing-a-pack.md):
each is a formula over the pack's symbols and the report's outputs (named
through ``uses``), a unit, and a threshold with its unit and source. The
report gives each check's value at the point of its grid that is furthest on
the warning side, the threshold, a status (``ok``, ``warn``, or ``not known``
where the value is not finite) and the pack's sentence for that status.
Nothing here computes a cost: every figure comes from the pack's formulas.

JSON (``diagnostics`` in both report schemas)::

    [{"name", "description", "value", "unit", "at": {AXIS: value},
      "threshold": {"value", "unit", "source"}, "warn_when": "above" | "below",
      "status": "ok" | "warn" | "not known", "message",
      "drivers": [{"name", "value"}]}]      (the largest contributions, when the pack names some)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from .diagnostics_table import NOT_KNOWN
from .dimensions import DimensionError, dimension_of
from .errors import SymcostError
from .units import describe_dimension, parse_unit

if TYPE_CHECKING:
    from .pack import FormulaPack

DRIVERS_SHOWN = 3


@dataclass(frozen=True)
class Threshold:
    value: float  # in ``unit``
    unit: str
    source: str
    symbol: sp.Symbol | None = None  # a name later checks may use for it (its SI value)

    @property
    def si(self) -> float:
        return self.value * parse_unit(self.unit).si_factor


@dataclass(frozen=True)
class DiagnosticSpec:
    """One check: ``value`` (over symbols, earlier checks, named thresholds and the outputs in ``uses``)
    compared with ``threshold``; a value beyond it on the ``warn_when`` side warns."""

    name: str
    description: str
    symbol: sp.Symbol
    value: sp.Expr
    text: str
    unit: str
    threshold: Threshold
    warn_when: str  # above | below
    ok: str
    warn: str
    uses: tuple[tuple[sp.Symbol, str], ...] = ()  # local name -> report output
    drivers: tuple[tuple[str, sp.Expr], ...] = ()  # label -> formula in the check's unit


def evaluate_diagnostics(
    pack: FormulaPack,
    bound: Mapping[sp.Symbol, sp.Expr],
    inputs: Mapping[str, object],
    results: Mapping[str, np.ndarray],
    unit_of: Callable[[str], str],
    points: Sequence[Mapping[str, float]],
) -> list[dict]:
    """Each of ``pack``'s checks at the report's points.

    ``bound``: the SI values of the bound symbols; ``inputs``: the evaluator's inputs (axes, SI) by name;
    ``results``: the report's outputs (SI arrays over ``points``, the axes as given).
    """
    if not pack.diagnostics:
        return []
    expressions = _closed_forms(pack, bound)
    _check_outputs(pack, results, unit_of)
    _check_dimensions(pack, bound, unit_of)
    values = _evaluate(expressions, pack, inputs, results, len(points))
    return [_entry(spec, values, points) for spec in pack.diagnostics]


def _closed_forms(pack: FormulaPack, bound: Mapping[sp.Symbol, sp.Expr]) -> dict[str, sp.Expr]:
    """Every check's and driver's formula over outputs and evaluator inputs only."""
    # Derived symbols by their definitions, bound ones by their values: substituted as far as a formula needs.
    known: dict[sp.Symbol, sp.Expr] = {
        spec.symbol: spec.definition for spec in pack.symbols.values() if spec.definition is not None
    }
    known.update(bound)
    forms: dict[str, sp.Expr] = {}
    for spec in pack.diagnostics:
        if spec.threshold.symbol is not None:
            known[spec.threshold.symbol] = sp.Float(spec.threshold.si)
        for key, formula in (
            (spec.name, spec.value),
            *((f"{spec.name}.{label}", driver) for label, driver in spec.drivers),
        ):
            forms[key] = _substituted(formula, known)
        known[spec.symbol] = forms[spec.name]
    return forms


def _substituted(expression: sp.Expr, known: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    for _ in range(len(known) + 1):  # a bound value may itself be a formula over other bound values
        replaced = expression.xreplace(known)
        if replaced == expression:
            return expression
        expression = replaced
    return expression


def _check_outputs(pack: FormulaPack, results: Mapping[str, np.ndarray], unit_of: Callable[[str], str]) -> None:
    for spec in pack.diagnostics:
        for local, output in spec.uses:
            if output not in results:
                close = difflib.get_close_matches(output, list(results), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise SymcostError(
                    f"pack {pack.name}: diagnostic {spec.name}: uses {local} = {output!r}, which is not "
                    f"an output of this report{hint}"
                )


def _check_dimensions(pack: FormulaPack, bound: Mapping[sp.Symbol, sp.Expr], unit_of: Callable[[str], str]) -> None:
    """A check's value (and each driver) has its declared unit's dimension, the outputs' units known now."""
    table = {spec.symbol: spec.dimension for spec in pack.symbols.values()}
    for spec in pack.diagnostics:
        table.update({local: parse_unit(unit_of(output)).dimension for local, output in spec.uses})
        if spec.threshold.symbol is not None:
            table[spec.threshold.symbol] = parse_unit(spec.threshold.unit).dimension
        expected = parse_unit(spec.unit).dimension
        for label, formula in (("value", spec.value), *spec.drivers):
            try:
                found = dimension_of(formula, table)
            except DimensionError as error:
                raise SymcostError(
                    f"pack {pack.name}: diagnostic {spec.name}: {label}: dimension error: {error}"
                ) from None
            if found != expected:
                raise SymcostError(
                    f"pack {pack.name}: diagnostic {spec.name}: {label} is {describe_dimension(found)}, "
                    f"but its unit {spec.unit} is {describe_dimension(expected)}"
                )
        table[spec.symbol] = expected


def _evaluate(
    forms: Mapping[str, sp.Expr],
    pack: FormulaPack,
    inputs: Mapping[str, object],
    results: Mapping[str, np.ndarray],
    count: int,
) -> dict[str, np.ndarray]:
    from .compile import compile_outputs

    outputs = {local.name: output for spec in pack.diagnostics for local, output in spec.uses}
    used = sorted(set().union(*(form.free_symbols for form in forms.values())), key=str)
    missing = [symbol.name for symbol in used if symbol.name not in outputs and symbol.name not in inputs]
    if missing:
        raise SymcostError(
            f"pack {pack.name}: a diagnostic uses {', '.join(missing)}, which has no value in this "
            "report (not bound by the inputs, nor an axis, nor an output named in 'uses')"
        )
    evaluator = compile_outputs(dict(forms), used)
    values = {
        symbol.name: np.broadcast_to(
            np.asarray(
                results[outputs[symbol.name]] if symbol.name in outputs else inputs[symbol.name], dtype=np.float64
            ),
            (count,),
        )
        for symbol in used
    }
    with np.errstate(all="ignore"):  # a value that is not finite is reported as not known
        return {name: np.broadcast_to(value, (count,)) for name, value in evaluator(**values).items()}


def _entry(spec: DiagnosticSpec, values: Mapping[str, np.ndarray], points: Sequence[Mapping[str, float]]) -> dict:
    factor = parse_unit(spec.unit).si_factor
    series = values[spec.name]
    threshold = {"value": spec.threshold.value, "unit": spec.threshold.unit, "source": spec.threshold.source}
    entry = {
        "name": spec.name,
        "description": spec.description,
        "unit": spec.unit,
        "threshold": threshold,
        "warn_when": spec.warn_when,
    }
    if not np.all(np.isfinite(series)):
        return {
            **entry,
            "value": None,
            "status": NOT_KNOWN,
            "at": dict(points[int(np.argmin(np.isfinite(series)))]),
            "message": "the value is not defined at these inputs (a division by zero or an unknown input)",
        }
    worst = int(np.argmax(series) if spec.warn_when == "above" else np.argmin(series))
    value = float(series[worst])
    beyond = value > spec.threshold.si if spec.warn_when == "above" else value < spec.threshold.si
    entry.update(
        value=value / factor,
        at=dict(points[worst]),
        status="warn" if beyond else "ok",
        message=spec.warn if beyond else spec.ok,
    )
    drivers = sorted(
        (
            (label, float(values[f"{spec.name}.{label}"][worst]) / factor)
            for label, _ in spec.drivers
            if values[f"{spec.name}.{label}"][worst] != 0
        ),
        key=lambda item: -abs(item[1]),
    )
    if drivers:
        entry["drivers"] = [{"name": label, "value": value} for label, value in drivers[:DRIVERS_SHOWN]]
    return entry
