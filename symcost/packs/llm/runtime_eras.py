"""Runtime eras: the period of a runtime's development a version or a date belongs to.

Calibration fits coefficient offsets per (runtime backend, era), where an era
is a calendar year: the same GPU's llama.cpp speed changed greatly between
builds, and a year is the coarsest period that separates those builds in the
public measurements. A version is a build number (``b6918``, dated by the
anchors in ``catalogs/runtime-builds.yaml``) or a date (``2025``, ``2025-04``,
``2025-04-24``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from importlib import resources

import yaml

from ...errors import SymcostError

DATE = re.compile(r"^(20\d{2})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")
BUILD = re.compile(r"^b(\d{1,7})$")


class RuntimeVersionError(SymcostError):
    """A runtime version that names no build or date symcost can place in an era."""


@lru_cache(maxsize=1)
def build_anchors() -> dict[str, list[tuple[int, date]]]:
    """Per runtime backend, its (build number, date) anchors in build order."""
    with resources.as_file(resources.files("symcost.catalogs").joinpath("runtime-builds.yaml")) as path:
        raw = yaml.safe_load(path.read_text())
    return {
        backend: sorted((entry["build"], _as_date(entry["date"])) for entry in entries)
        for backend, entries in raw.items()
    }


def _as_date(text: str) -> date:
    match = DATE.match(str(text))
    if not match:
        raise RuntimeVersionError(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {text!r}")
    year, month, day = match.groups()
    return date(int(year), int(month or 1), int(day or 1))


def era_of_version(backend: str, version: str) -> str:
    """The era of ``version`` (a build ``b<N>`` or a date) of a runtime whose calibration backend is ``backend``."""
    text = version.strip()
    if DATE.match(text):
        return text[:4]
    build = BUILD.match(text)
    if not build:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise RuntimeVersionError(
            f"runtime version {shown!r}: give a build (b6918) or a date (2025, 2025-04, 2025-04-24)"
        )
    return str(_build_date(backend, int(build.group(1))).year)


def _build_date(backend: str, number: int) -> date:
    anchors = build_anchors().get(backend)
    if not anchors:
        raise RuntimeVersionError(f"no dated builds of {backend} are known: give the build's date instead")
    first_build, first_date = anchors[0]
    if number < first_build:
        raise RuntimeVersionError(
            f"build b{number} of {backend} predates the earliest dated build "
            f"(b{first_build}, {first_date.isoformat()}): give its date instead, e.g. {backend}@2024-06"
        )
    for (low, low_date), (high, high_date) in zip(anchors, anchors[1:]):
        if number <= high:
            share = (number - low) / (high - low)
            return date.fromordinal(
                low_date.toordinal() + round(share * (high_date.toordinal() - low_date.toordinal()))
            )
    return anchors[-1][1]  # newer than every anchor: at least that date, and the newest fitted era is used anyway


def era_of_record(backend: str, runtime_version: str, source_date: str) -> str | None:
    """A run record's era: from its runtime version when that places it, else from its date; None when neither does."""
    for text in (runtime_version, source_date):
        if text:
            try:
                return era_of_version(backend, text)
            except RuntimeVersionError:
                continue
    return None


def nearest_era(fitted: Sequence[str], wanted: str | None) -> str | None:
    """The fitted era closest to ``wanted`` (the newest when ``wanted`` is None or ties fall both ways)."""
    if not fitted:
        return None
    if wanted is None:
        return max(fitted)
    return min(sorted(fitted, reverse=True), key=lambda era: abs(int(era) - int(wanted)))
