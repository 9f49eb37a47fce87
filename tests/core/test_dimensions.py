"""The dimension walker over SymPy trees."""

from __future__ import annotations

import pytest
import sympy as sp

from symcost.dimensions import DimensionError, dimension_of
from symcost.units import parse_unit

E, T, N, B, BW = sp.symbols("E T N B BW")
TABLE = {
    E: parse_unit("pJ").dimension,
    T: parse_unit("ns").dimension,
    N: parse_unit("1").dimension,
    B: parse_unit("B").dimension,
    BW: parse_unit("GB/s").dimension,
}


@pytest.mark.parametrize(
    "expression, unit",
    [
        (E * N + E, "J"),
        (sp.Max(E, 0), "J"),
        (B / BW, "s"),
        (sp.ceiling(N / 4) * T, "s"),
        (sp.Piecewise((T, N < 3), (2 * T, True)), "s"),
        (E / T, "W"),
        (sp.sqrt(E * E), "J"),
        (sp.Abs(T), "s"),
        (N**N, "1"),
        (sp.log(N) + sp.exp(N), "1"),
    ],
)
def test_dimension_of(expression, unit):
    assert dimension_of(expression, TABLE) == parse_unit(unit).dimension


@pytest.mark.parametrize(
    "expression, fragment",
    [
        (E + T, "mixes dimensions"),
        (sp.Max(E, T), "mixes dimensions"),
        (sp.ceiling(T), "dimensionless argument"),
        (E + 1, "mixes dimensions"),
        (E**N, "non-numeric power"),
        (sp.Piecewise((E, T < N), (2 * E, True)), "mixes dimensions"),
        (sp.Symbol("unknown"), "no declared unit"),
        (sp.exp(B), "dimensionless argument"),
    ],
)
def test_dimension_errors(expression, fragment):
    with pytest.raises(DimensionError, match=fragment):
        dimension_of(expression, TABLE)
