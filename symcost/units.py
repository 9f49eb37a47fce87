"""Units: parsing quantities such as ``0.37 pJ`` and tracking dimensions.

pint parses unit text (it has its own expression parser; nothing is passed to
Python's ``eval``); the common names are read from a table of pint's own
factors. symcost keeps its own small dimension vector per unit so that bytes
are a dimension of their own (pint treats them as dimensionless) and so that
formula dimensions can be checked over SymPy trees (see
:mod:`symcost.dimensions`). Values are evaluated in coherent SI units plus the
byte: J, s, m^2, W, byte, byte/s.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .errors import InputIssue, PathPart, format_path
from .unit_text import canonical_text, unit_powers

BASE_DIMENSIONS = (
    "[mass]",
    "[length]",
    "[time]",
    "[current]",
    "[temperature]",
    "[substance]",
    "[luminosity]",
    "[information]",
)
Dimension = tuple[int, ...]
DIMENSIONLESS: Dimension = (0,) * len(BASE_DIMENSIONS)

_NAMED_DIMENSIONS = {
    (1, 2, -2, 0, 0, 0, 0, 0): "energy",
    (0, 0, 1, 0, 0, 0, 0, 0): "time",
    (0, 2, 0, 0, 0, 0, 0, 0): "area",
    (1, 2, -3, 0, 0, 0, 0, 0): "power",
    (0, 0, 0, 0, 0, 0, 0, 1): "information (bytes)",
    (0, 0, -1, 0, 0, 0, 0, 1): "bandwidth (bytes per time)",
    (1, 2, -2, 0, 0, 0, 0, -1): "energy per byte",
    (0, 0, -1, 0, 0, 0, 0, 0): "frequency",
    DIMENSIONLESS: "dimensionless",
}

MAX_QUANTITY_TEXT = 80
# Sections whose keys are field patterns or prose, not fields: never converted.
FREE_TEXT_SECTIONS = frozenset({"provenance", "source_map", "source_notes"})


@dataclass(frozen=True)
class Unit:
    """A unit as written (``text``), its factor to coherent SI, its dimension."""

    text: str
    si_factor: float
    dimension: Dimension

    @property
    def dimension_name(self) -> str:
        return describe_dimension(self.dimension)


_SI_NAMES = {
    (1, 2, -2, 0, 0, 0, 0, 0): "J",
    (0, 0, 1, 0, 0, 0, 0, 0): "s",
    (0, 2, 0, 0, 0, 0, 0, 0): "m^2",
    (1, 2, -3, 0, 0, 0, 0, 0): "W",
    (0, 0, 0, 0, 0, 0, 0, 1): "B",
    (0, 0, -1, 0, 0, 0, 0, 1): "B/s",
    (1, 2, -2, 0, 0, 0, 0, -1): "J/B",
    (0, 0, -1, 0, 0, 0, 0, 0): "1/s",
    DIMENSIONLESS: "1",
}
_SI_BASE = ("kg", "m", "s", "A", "K", "mol", "cd", "B")


def si_unit_text(dimension: Dimension) -> str:
    """The coherent SI unit symcost evaluates a dimension in: ``J``, ``B/s``, else ``kg^1 m^2 s^-3``."""
    named = _SI_NAMES.get(tuple(dimension))
    if named:
        return named
    return " ".join(f"{base}^{power}" for base, power in zip(_SI_BASE, dimension) if power)


def describe_dimension(dimension: Dimension) -> str:
    named = _NAMED_DIMENSIONS.get(tuple(dimension))
    if named:
        return named
    parts = [f"{name.strip('[]')}^{power}" for name, power in zip(BASE_DIMENSIONS, dimension) if power]
    return " ".join(parts)


# Unit names answered without pint: importing pint and building its registry is the better part of a second
# of a cold command, spent on a few texts such as pJ, ns, mm^2 and GB/s. The factors are pint's to the last bit
# (tests/core/test_units.py) when a text names at most two units and at most one of them has a factor other
# than 1; for longer products pint's own rounding differs (fJ^2*fW^-1), so those go to pint.
_DECIMAL_PREFIXES = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0}
_DECIMAL_PREFIXES.update({"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12})
_COHERENT_UNITS: dict[str, Dimension] = {
    "J": (1, 2, -2, 0, 0, 0, 0, 0),
    "W": (1, 2, -3, 0, 0, 0, 0, 0),
    "s": (0, 0, 1, 0, 0, 0, 0, 0),
    "Hz": (0, 0, -1, 0, 0, 0, 0, 0),
    "m": (0, 1, 0, 0, 0, 0, 0, 0),
    "B": (0, 0, 0, 0, 0, 0, 0, 1),
}
COMMON_UNITS: dict[str, tuple[float, Dimension]] = {
    prefix + name: (factor, dimension)
    for prefix, factor in _DECIMAL_PREFIXES.items()
    for name, dimension in _COHERENT_UNITS.items()
}
COMMON_UNITS.update({f"{prefix}iB": (1024.0**power, _COHERENT_UNITS["B"]) for power, prefix in enumerate("KMGT", 1)})
COMMON_UNITS["%"] = (0.01, DIMENSIONLESS)


def _common_unit(powers: dict[str, int]) -> tuple[float, Dimension] | None:
    """A unit text's factor and dimension from :data:`COMMON_UNITS`, or None where pint must answer."""
    known = [COMMON_UNITS.get(name) for name in powers]
    if None in known or len(known) > 2 or sum(factor != 1.0 for factor, _ in known) > 1:
        return None
    factor, dimension = 1.0, DIMENSIONLESS
    for (unit_factor, unit_dimension), power in zip(known, powers.values()):
        factor *= unit_factor**power
        dimension = tuple(total + power * part for total, part in zip(dimension, unit_dimension))
    return factor, dimension


@cache
def _registry():
    import pint  # imported lazily: building the registry costs ~0.3 s

    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


@lru_cache(maxsize=512)
def parse_unit(text: str) -> Unit:
    """Parse unit text such as ``pJ``, ``mm^2``, ``GB/s`` or ``1`` (dimensionless).

    The text is read by symcost's bounded grammar (:mod:`symcost.unit_text`);
    pint only sees a product of registry names with small integer powers.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected unit text, got {text!r}")
    if text.strip() in ("", "1", "dimensionless"):
        return Unit(text, 1.0, DIMENSIONLESS)
    common = _common_unit(unit_powers(text))
    if common is not None:
        return Unit(text, *common)
    from .cache_units import (
        remembered_unit,  # here: the cache loads numpy and sqlite3, which importers of units may not need
    )

    return Unit(text, *remembered_unit(text, lambda: _pint_unit(text)))


def _pint_unit(text: str) -> tuple[float, Dimension]:
    """A unit text's factor to coherent SI and its dimension, from pint."""
    powers = unit_powers(text)
    registry = _registry()
    unknown = [name for name in powers if not _known(registry, name)]
    if unknown:
        raise ValueError(f"unknown unit {unknown[0]!r} in {text!r}")
    try:
        quantity = registry.Quantity(1, canonical_text(powers))
    except Exception as exc:  # pint raises several unrelated types; the grammar leaves it little to refuse
        raise ValueError(f"unknown unit {text!r} ({exc})") from None
    return _factor_and_dimension(quantity)


def _known(registry: Any, name: str) -> bool:
    try:
        return name in registry
    except AttributeError:  # pint answers some names by attribute lookup on itself
        return False


def _factor_and_dimension(quantity: Any) -> tuple[float, Dimension]:
    registry = _registry()
    base = quantity.to_base_units()
    information = 0
    for name, power in quantity.units._units.items():
        if str(registry.get_root_units(name)[1]) == "bit":
            information += int(power)
    dims = base.dimensionality
    vector = tuple(int(dims.get(name, 0)) for name in BASE_DIMENSIONS[:-1]) + (information,)
    # pint's base unit for information is the bit; symcost counts bytes.
    factor = float(base.magnitude) / (8.0**information)
    return factor, vector


def to_unit(text: str, unit: Unit) -> float:
    """Convert quantity text (``'370 fJ'``) to a number in ``unit`` (``pJ`` -> 0.37)."""
    if len(text) > MAX_QUANTITY_TEXT:
        raise ValueError(f"quantity text longer than {MAX_QUANTITY_TEXT} characters")
    match = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*", text)
    if not match:
        raise ValueError(f"expected a number with a unit such as '0.37 pJ', got {text!r}")
    magnitude, unit_text = float(match.group(1)), match.group(2)
    given = parse_unit(unit_text) if unit_text else parse_unit("1")
    if given.dimension != unit.dimension:
        raise ValueError(
            f"expected {unit.dimension_name} (convertible to {unit.text}), got {text!r} which is {given.dimension_name}"
        )
    # Round off the binary noise of the scale factors (370 fJ is 0.37 pJ, not
    # 0.37000000000000005): inputs never carry 15 significant digits.
    if given.si_factor == unit.si_factor:
        value = magnitude
    else:
        value = float(f"{magnitude * given.si_factor / unit.si_factor:.15g}")
    if not math.isfinite(value):
        raise ValueError(f"quantity {text!r} is not finite")
    return value


# A field's unit comes from its name, as in the reference formats
# (energy_pj_per_conversion, read_bandwidth_GBps, arrays_nw, capacity_bytes).
_FIELD_UNIT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"_pj_per_byte$"), "pJ/B"),
    (re.compile(r"_pj(_per_[a-z0-9_]+)?$"), "pJ"),
    (re.compile(r"_ns(_per_[a-z0-9_]+)?$"), "ns"),
    (re.compile(r"_mm2(_per_[a-z0-9_]+)?$"), "mm^2"),
    (re.compile(r"_GBps$"), "GB/s"),
    # The LLM catalogs' seed-form names (vram_gb, mem_bw_gbps: gigabytes per second, latency_us).
    (re.compile(r"_gbps$"), "GB/s"),
    (re.compile(r"_gb$"), "GB"),
    (re.compile(r"_us$"), "us"),
    (re.compile(r"_ms$"), "ms"),
    (re.compile(r"_nw$"), "nW"),
    (re.compile(r"_w$"), "W"),
    # FLOP and OP counts are dimensionless: a TFLOPS figure is 10^12 per second.
    (re.compile(r"_(tflops|tops)$"), "THz"),
    (re.compile(r"(^|_)bytes(_per_[a-z0-9_]+)?$"), "B"),
)


@lru_cache(maxsize=1024)  # binders ask for the same field names over and over
def field_unit(field_name: str) -> str | None:
    """The unit a field is named for, or None for fields without a unit."""
    for pattern, unit in _FIELD_UNIT_RULES:
        if pattern.search(field_name):
            return unit
    return None


def normalize_quantities(data: Any, label: str) -> tuple[Any, list[InputIssue]]:
    """Replace quantity strings in unit-named fields by numbers in the field's unit.

    Returns the converted data and one issue per field that could not be
    converted (those fields are removed so the schema stage does not report
    them a second time).
    """
    issues: list[InputIssue] = []

    def walk(node: Any, path: list[PathPart]) -> Any:
        if isinstance(node, dict):
            result = {}
            for key, value in node.items():
                if key in FREE_TEXT_SECTIONS:
                    result[key] = value
                    continue
                unit_text = field_unit(key)
                if unit_text and isinstance(value, str):
                    try:
                        result[key] = _integral_if_whole(to_unit(value, parse_unit(unit_text)), unit_text)
                    except ValueError as exc:
                        issues.append(InputIssue(label, format_path(path + [key]), str(exc)))
                    continue
                result[key] = walk(value, path + [key])
            return result
        if isinstance(node, list):
            return [walk(value, path + [index]) for index, value in enumerate(node)]
        return node

    return walk(data, []), issues


def _integral_if_whole(value: float, unit_text: str) -> float | int:
    # Byte counts are integers in the schemas; '2 KiB' must still validate.
    if unit_text == "B" and float(value).is_integer():
        return int(value)
    return value


_SI_PREFIXES = (
    (1e-15, "f"),
    (1e-12, "p"),
    (1e-9, "n"),
    (1e-6, "u"),
    (1e-3, "m"),
    (1.0, ""),
    (1e3, "k"),
    (1e6, "M"),
    (1e9, "G"),
    (1e12, "T"),
)


def format_si(value: float, unit: str, digits: int = 4) -> str:
    """``value`` (in ``unit``, SI) with an SI prefix: ``format_si(1.34e10, 'B')`` is ``'13.4 GB'``."""
    magnitude = abs(value)
    scale, prefix = _SI_PREFIXES[0] if magnitude else (1.0, "")
    for candidate, name in _SI_PREFIXES:
        if magnitude >= candidate:
            scale, prefix = candidate, name
    return f"{value / scale:.{digits}g} {prefix}{unit}"
