"""Checking the figures a source states about a cascade.

Each claim names a figure (a pack quantity such as ``cascade.gamma_total`` or
a placement verdict such as ``level.VMEM.fits``) and the value the source
prints. symcost recomputes the figure from the cascade file, under the
claim's assumptions if it has any, and judges it:

* ``==``: consistent when the two differ by at most the tolerance: half a unit
  of the printed value's last digit (``11.8%`` allows 0.05 %), or the claim's
  own ``tolerance`` (``5%`` of the stated value, or a quantity); an
  approximate figure (``~40 MB``) must say what its ``~`` allows;
* ``>=`` / ``<=``: the stated value must lie on that side of the recomputed
  bound (within the same tolerance).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ...errors import InputError, InputIssue
from ...units import Dimension, describe_dimension, parse_unit
from .config import Assumptions, CascadeConfig, Claim
from .model import CascadeModel, build_cascade
from .placement import check_placement, fit_figures

_PRINTED = re.compile(r"\s*(~)?\s*([-+]?(\d*)(?:\.(\d*))?)(?:[eE]([-+]?\d+))?\s*(.*?)\s*")


@dataclass(frozen=True)
class Stated:
    """A printed figure: its SI value, the unit it was printed in, and the tolerance it implies."""

    value: float | bool
    unit: str
    scale: float  # SI per printed unit
    tolerance: float  # SI
    approximate: bool = False


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    stated: Stated
    recomputed: float | bool
    consistent: bool

    @property
    def stated_text(self) -> str:
        return str(self.claim.stated).lower() if isinstance(self.claim.stated, bool) else str(self.claim.stated)

    @property
    def recomputed_text(self) -> str:
        if isinstance(self.recomputed, bool):
            return str(self.recomputed).lower()
        value = self.recomputed / self.stated.scale
        return (
            f"{value:.4g}{self.stated.unit}" if self.stated.unit == "%" else f"{value:.4g} {self.stated.unit}".strip()
        )


def check_claims(config: CascadeConfig, base: CascadeModel | None = None) -> list[ClaimResult]:
    """Every claim of the file, recomputed and judged; bad claims raise one issue each."""
    figures_by_assumption: dict[Assumptions, tuple[CascadeModel, dict]] = {}
    if base is not None:
        figures_by_assumption[Assumptions()] = (base, _all_figures(base))
    results, issues = [], []
    for claim in config.claims:
        if claim.assume not in figures_by_assumption:
            model = build_cascade(config.assuming(claim.assume))
            figures_by_assumption[claim.assume] = (model, _all_figures(model))
        model, figures = figures_by_assumption[claim.assume]
        try:
            results.append(_judge(claim, model, figures, config.label))
        except InputError as error:
            issues += error.issues
    if issues:
        raise InputError(issues)
    return results


def _all_figures(model: CascadeModel) -> dict[str, float | bool]:
    figures = model.figures()
    return {**figures, **fit_figures(check_placement(model, figures), model)}


def _judge(claim: Claim, model: CascadeModel, figures: dict, label: str) -> ClaimResult:
    if claim.figure not in figures:
        close = difflib.get_close_matches(claim.figure, sorted(figures), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError([InputIssue(label, f"{claim.path}.figure", f"unknown figure {claim.figure!r}{hint}")])
    recomputed = figures[claim.figure]
    if isinstance(recomputed, bool) or isinstance(claim.stated, bool):
        if not (isinstance(recomputed, bool) and isinstance(claim.stated, bool)):
            kind = "a yes/no verdict" if isinstance(recomputed, bool) else "a number"
            raise InputError(
                [InputIssue(label, f"{claim.path}.stated", f"{claim.figure} is {kind}; got {claim.stated!r}")]
            )
        return ClaimResult(claim, Stated(claim.stated, "", 1.0, 0.0), recomputed, recomputed == claim.stated)
    stated = parse_stated(claim, parse_unit(model.units[claim.figure]).dimension, label)
    consistent = {
        "==": abs(stated.value - recomputed) <= stated.tolerance,
        ">=": stated.value >= recomputed - stated.tolerance,
        "<=": stated.value <= recomputed + stated.tolerance,
    }[claim.relation]
    return ClaimResult(claim, stated, recomputed, bool(consistent))


def parse_stated(claim: Claim, dimension: Dimension, label: str) -> Stated:
    """The claim's printed value in SI, with the tolerance its last digit (or its own tolerance) allows."""

    def issue(field: str, message: str) -> InputError:
        return InputError([InputIssue(label, f"{claim.path}.{field}", message)])

    match = _PRINTED.fullmatch(str(claim.stated))
    if not match or not match.group(3) and not match.group(4):
        raise issue("stated", f"expected a number as printed, such as 0.73, '11.8%' or '~40 MB'; got {claim.stated!r}")
    approximate, mantissa, _, decimals, exponent, unit_text = match.groups()
    scale = _scale(unit_text, dimension, claim.figure, issue)
    power = int(exponent or 0)
    value = float(mantissa) * 10**power * scale
    if claim.tolerance is not None:
        tolerance = _tolerance(claim.tolerance, value, dimension, issue)
    elif approximate:
        raise issue("tolerance", f"{claim.stated!r} is approximate: say what its '~' allows, e.g. tolerance: 5%")
    else:
        tolerance = 0.5 * 10 ** (power - len(decimals or "")) * scale
    return Stated(value, unit_text, scale, tolerance, bool(approximate))


def _scale(unit_text: str, dimension: Dimension, figure: str, issue) -> float:
    try:
        unit = parse_unit(unit_text)
    except ValueError as exc:
        raise issue("stated", str(exc)) from None
    if unit.dimension != dimension:
        raise issue(
            "stated",
            f"{figure} is {describe_dimension(dimension)}, but {unit_text or 'a plain number'} "
            f"is {describe_dimension(unit.dimension)}",
        )
    return unit.si_factor


def _tolerance(text: str, value: float, dimension: Dimension, issue) -> float:
    match = _PRINTED.fullmatch(text)
    if not match or match.group(1) or not (match.group(3) or match.group(4)):
        raise issue("tolerance", f"expected '5%' or a quantity such as '0.1 GB', got {text!r}")
    number = float(match.group(2)) * 10 ** int(match.group(5) or 0)
    if match.group(6) == "%":
        return abs(value) * number / 100
    return number * _scale(match.group(6), dimension, "the figure", lambda _, message: issue("tolerance", message))
