"""Quantities with units: conversion to the field's unit, and dimension errors."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symcost.units import COMMON_UNITS, field_unit, normalize_quantities, parse_unit, to_unit


@pytest.mark.parametrize(
    "text, unit, expected",
    [
        ("0.37 pJ", "pJ", 0.37),
        ("370 fJ", "pJ", 0.37),
        ("3 ns", "ns", 3.0),
        ("3e-9 s", "ns", 3.0),
        ("0.02 mm^2", "mm^2", 0.02),
        ("20000 um^2", "mm^2", 0.02),
        ("25.6 GB/s", "GB/s", 25.6),
        ("25600 MB/s", "GB/s", 25.6),
        ("2 KiB", "B", 2048),
        ("1 uW", "nW", 1000.0),
        ("1 pJ/B", "pJ/B", 1.0),
    ],
)
def test_converts_to_the_field_unit(text, unit, expected):
    assert to_unit(text, parse_unit(unit)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text, unit", [("3 ns", "pJ"), ("1 pJ", "pJ/B"), ("2 mm", "mm^2"), ("5 W", "nJ")])
def test_refuses_wrong_dimension(text, unit):
    with pytest.raises(ValueError, match="expected"):
        to_unit(text, parse_unit(unit))


@pytest.mark.parametrize(
    "name, unit",
    [
        ("energy_pj_per_conversion", "pJ"),
        ("latency_ns_per_mac", "ns"),
        ("area_mm2_per_unit", "mm^2"),
        ("read_energy_pj_per_byte", "pJ/B"),
        ("read_bandwidth_GBps", "GB/s"),
        ("arrays_nw", "nW"),
        ("capacity_bytes", "B"),
        ("value_bytes_per_elem", "B"),
        ("xbar_size", None),
        ("draft_bits", None),
    ],
)
def test_field_units_follow_field_names(name, unit):
    assert field_unit(name) == unit


def test_normalize_reports_field_path_and_leaves_other_fields():
    data = {"a": {"energy_pj_per_op": "2 ns", "latency_ns_per_op": "4 ns", "note": "3 pJ"}}
    converted, issues = normalize_quantities(data, "hw.yaml")
    assert converted == {"a": {"latency_ns_per_op": 4.0, "note": "3 pJ"}}
    assert [str(issue) for issue in issues] == [
        "hw.yaml: a.energy_pj_per_op: expected energy (convertible to pJ), got '2 ns' which is time"
    ]


@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_femtojoule_round_trip(value):
    assert to_unit(f"{value!r} fJ", parse_unit("pJ")) == pytest.approx(value / 1000, rel=1e-12)


# -- the bounded unit grammar (symcost.unit_text) ---------------------------------------------------
NAMES = ["J", "pJ", "s", "ns", "m", "mm", "B", "GB", "KiB", "W", "nW", "Hz", "bit"]


@st.composite
def unit_products(draw):
    """Unit text over registry names with small powers, '*' '/' and spaces, and the exponents it means."""
    factors = draw(
        st.lists(
            st.tuples(st.sampled_from(NAMES), st.integers(-3, 3).filter(bool), st.sampled_from(["*", "/", " "])),
            min_size=1,
            max_size=4,
        )
    )
    text, powers = "", {}
    for index, (name, power, separator) in enumerate(factors):
        sign = -1 if index and separator == "/" else 1
        text += ("" if index == 0 else separator) + (name if power == 1 else f"{name}^{power}")
        powers[name] = powers.get(name, 0) + sign * power
    return text, powers


@functools.lru_cache(maxsize=1)
def _pint():
    import pint

    return pint.UnitRegistry()


@given(unit_products())
def test_grammar_agrees_with_pint_on_the_units_it_accepts(case):
    text, powers = case
    powers = {name: power for name, power in powers.items() if power}
    if any(abs(power) > 8 for power in powers.values()):
        return
    expected = _pint().Quantity(1, " * ".join(f"{name}**{power}" for name, power in powers.items()) or "dimensionless")
    unit = parse_unit(text)
    base = expected.to_base_units()
    bits = sum(power for name, power in powers.items() if name in ("B", "GB", "KiB", "bit") and power)
    assert unit.si_factor == pytest.approx(float(base.magnitude) / 8.0**bits, rel=1e-12)


@given(st.text(alphabet="Jpsm*/^()-+0123456789 _.;'", max_size=40))
def test_any_text_is_read_or_refused_with_a_value_error(text):
    try:
        parse_unit(text)
    except ValueError as error:
        assert "unit" in str(error)


@pytest.mark.parametrize(
    "text, message",
    [
        ("J**9**9**9", "a power may be given once"),
        ("J**99999", "expected a small integer power"),
        ("(J^4)^3", "J is raised to the power 12"),
        ("J^2 J^7", "J is raised to the power 9"),
        ("((((J))))", "parentheses nest at most 3 deep"),
        ("J;import os", "character ';' at column 2"),
        ("__class__", "character '_' at column 1"),
        ("flibbles", "unknown unit 'flibbles'"),
        ("J" * 70, "at most 64 are read"),
        ("(m", "expected ')'"),
        ("J+1", "expected '*', '/' or the end"),
    ],
)
def test_unit_text_outside_the_grammar_is_refused_naming_why(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_unit(text)


@pytest.mark.parametrize(
    "text, factor, dimension",
    [
        ("W/(m*K)", 1.0, "mass^1 length^1 time^-3 temperature^-1"),
        ("(m/s)^2", 1.0, "length^2 time^-2"),
        ("s^-1", 1.0, "frequency"),
        ("1/B", 1.0, "information^-1"),
        ("J s", 1.0, "mass^1 length^2 time^-1"),
        ("us", 1e-6, "time"),
        ("\u00b5s", 1e-6, "time"),
        ("%", 0.01, "dimensionless"),
    ],
)
def test_parentheses_powers_and_spaces_are_read(text, factor, dimension):
    unit = parse_unit(text)
    assert unit.si_factor == pytest.approx(factor) and unit.dimension_name == dimension


# -- the common units answered without pint: pint's factors to the last bit


def _pint_factor_and_dimension(text):
    from symcost.units import _pint_unit

    return _pint_unit(text)


@pytest.mark.parametrize("name", sorted(COMMON_UNITS))
def test_common_units_have_pints_factor_and_dimension_at_every_power(name):
    for power in (-8, -3, -2, -1, 1, 2, 3, 8):
        text = f"{name}^{power}"
        unit = parse_unit(text)
        assert (unit.si_factor, unit.dimension) == _pint_factor_and_dimension(text), text


@given(
    st.sampled_from(sorted(COMMON_UNITS)),
    st.sampled_from(sorted(name for name, (factor, _) in COMMON_UNITS.items() if factor == 1.0)),
    st.integers(-4, 4).filter(bool),
    st.integers(-4, 4).filter(bool),
    st.booleans(),
)
def test_products_of_two_common_units_have_pints_factor(scaled, coherent, scaled_power, coherent_power, scaled_first):
    parts = [f"{scaled}^{scaled_power}", f"{coherent}^{coherent_power}"]
    text = " * ".join(parts if scaled_first else parts[::-1])
    unit = parse_unit(text)
    assert (unit.si_factor, unit.dimension) == _pint_factor_and_dimension(text), text


@pytest.mark.parametrize("text", ["fJ^2 * fW^-1", "pJ/(ns*mm^2)", "nJ/bit", "ng"])
def test_other_units_are_read_by_pint(text):
    unit = parse_unit(text)
    assert (unit.si_factor, unit.dimension) == _pint_factor_and_dimension(text)


def test_common_units_are_read_without_importing_pint(tmp_path):
    script = "import sys; from symcost.units import parse_unit; parse_unit('pJ/B'); parse_unit('GB/s'); "
    script += "parse_unit('mm^2'); parse_unit('%'); print('pint' in sys.modules)"
    env = {**os.environ, "SYMCOST_CACHE_DIR": str(tmp_path)}  # empty: no unit remembered by an earlier run
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.stdout.strip() == "False", done.stderr
