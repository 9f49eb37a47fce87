"""Quantities with units: conversion to the field's unit, and dimension errors."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from symcost.units import field_unit, normalize_quantities, parse_unit, to_unit


@pytest.mark.parametrize("text, unit, expected", [
    ("0.37 pJ", "pJ", 0.37), ("370 fJ", "pJ", 0.37), ("3 ns", "ns", 3.0), ("3e-9 s", "ns", 3.0),
    ("0.02 mm^2", "mm^2", 0.02), ("20000 um^2", "mm^2", 0.02), ("25.6 GB/s", "GB/s", 25.6),
    ("25600 MB/s", "GB/s", 25.6), ("2 KiB", "B", 2048), ("1 uW", "nW", 1000.0), ("1 pJ/B", "pJ/B", 1.0),
])
def test_converts_to_the_field_unit(text, unit, expected):
    assert to_unit(text, parse_unit(unit)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text, unit", [("3 ns", "pJ"), ("1 pJ", "pJ/B"), ("2 mm", "mm^2"), ("5 W", "nJ")])
def test_refuses_wrong_dimension(text, unit):
    with pytest.raises(ValueError, match="expected"):
        to_unit(text, parse_unit(unit))


@pytest.mark.parametrize("name, unit", [
    ("energy_pj_per_conversion", "pJ"), ("latency_ns_per_mac", "ns"), ("area_mm2_per_unit", "mm^2"),
    ("read_energy_pj_per_byte", "pJ/B"), ("read_bandwidth_GBps", "GB/s"), ("arrays_nw", "nW"),
    ("capacity_bytes", "B"), ("value_bytes_per_elem", "B"), ("xbar_size", None), ("draft_bits", None),
])
def test_field_units_follow_field_names(name, unit):
    assert field_unit(name) == unit


def test_normalize_reports_field_path_and_leaves_other_fields():
    data = {"a": {"energy_pj_per_op": "2 ns", "latency_ns_per_op": "4 ns", "note": "3 pJ"}}
    converted, issues = normalize_quantities(data, "hw.yaml")
    assert converted == {"a": {"latency_ns_per_op": 4.0, "note": "3 pJ"}}
    assert [str(issue) for issue in issues] == [
        "hw.yaml: a.energy_pj_per_op: expected energy (convertible to pJ), got '2 ns' which is time"]


@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_femtojoule_round_trip(value):
    assert to_unit(f"{value!r} fJ", parse_unit("pJ")) == pytest.approx(value / 1000, rel=1e-12)
