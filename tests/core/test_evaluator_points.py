"""A cached evaluator run on a few points of Python floats gives numpy's numbers to the bit, and gives way to
numpy wherever it could not promise that."""

from __future__ import annotations

import inspect
import math
import random
import struct

import numpy as np
import pytest
from conftest import EXAMPLES, PEER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symcost import build_model
from symcost.evaluator_points import _NAMESPACE, CachedFunction, _point_power, evaluate_points

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, math.inf, -math.inf, math.nan, 5e-324, 1.7e308]


def bits(value: float) -> bytes:
    return struct.pack("<d", value)


def same_bits(points: list[float], array: np.ndarray) -> bool:
    return len(points) == array.size and all(bits(a) == bits(float(b)) for a, b in zip(points, array.ravel()))


def random_floats(count: int = 20_000, seed: int = 16) -> list[float]:
    generator = random.Random(seed)
    return [generator.uniform(-10, 10) * 10.0 ** generator.randint(-300, 300) for _ in range(count)] + SPECIAL


@pytest.mark.parametrize("exponent", [-1, -1.0, 0, 0.0, 0.5, 1, 1.0, 2, 2.0])
def test_powers_follow_numpys_fast_paths_for_an_array(exponent):
    values = [
        value
        for value in random_floats()
        if not (exponent == -1 and value == 0) and not (exponent == 0.5 and value < 0)
    ]
    with np.errstate(all="ignore"):
        expected = np.array(values) ** exponent
    assert same_bits([_point_power(value, exponent) for value in values], expected)


def test_a_power_numpy_would_take_elsewhere_is_left_to_numpy():
    source = "def _lambdifygenerated(x):\n    y = x**3.0\n    return [y, 2.0**x]\n"
    assert CachedFunction(source, "<test>", []).points is None
    assert CachedFunction("def _lambdifygenerated(x):\n    return [2.0**x]\n", "<test>", []).points is None
    constant = CachedFunction(
        "def _lambdifygenerated(x):\n    c = 3\n    return [x + c**3.0, x**(-1.0)]\n", "<test>", []
    )
    assert constant.points is not None  # a power of numbers is Python's in both


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_treat_nan_and_signed_zeros_as_numpy(name):
    pairs = [(a, b) for a in SPECIAL for b in SPECIAL] + list(zip(random_floats(2000), random_floats(2000, seed=3)))
    first, second = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    expected = getattr(np, name)(first, second)
    found = [_NAMESPACE[name](a, b) for a, b in pairs]
    assert all(bits(a) == bits(float(b)) or (math.isnan(a) and math.isnan(b)) for a, b in zip(found, expected))


@pytest.mark.parametrize("name", ["floor", "ceil"])
def test_floor_and_ceil_keep_numpys_signed_zeros(name):
    values = [value for value in random_floats(5000) if math.isfinite(value)] + [-0.3, -0.0, 0.3, -1e-300]
    assert same_bits([_NAMESPACE[name](value) for value in values], getattr(np, name)(np.array(values)))


def test_a_zero_divisor_a_complex_number_or_an_infinity_gives_way_to_numpy():
    function = CachedFunction("def _lambdifygenerated(x):\n    return [1/x, x**0.5, x*1e307]\n", "<test>", [])
    assert evaluate_points(function.points, ["x"], ["a", "b", "c"], {"x": [2.0]}, []) is not None
    for point in ([0.0], [-4.0], [100.0]):
        assert evaluate_points(function.points, ["x"], ["a", "b", "c"], {"x": point}, []) is None


def test_a_point_beyond_a_limit_gives_way_to_numpy():
    function = CachedFunction("def _lambdifygenerated(x):\n    return [x, 2*x, 10]\n", "<test>", [])
    limit = [("context", "too long")]
    names = ["y", "limit.context.value", "limit.context.maximum"]
    assert evaluate_points(function.points, ["x"], names, {"x": [1, 2]}, limit) == {"y": [1.0, 2.0]}
    assert evaluate_points(function.points, ["x"], names, {"x": [1, 6]}, limit) is None


def test_the_numpy_function_is_compiled_on_first_call_from_the_same_source(tmp_path):
    source = "def _lambdifygenerated(x):\n    return [select([greater(x, 0), True], [x**(-1.0), 0], default=nan)]\n"
    (tmp_path / "evaluator.py").write_text(source)
    function = CachedFunction(source, str(tmp_path / "evaluator.py"), ["greater", "nan", "select"])
    assert function._function is None
    (result,) = function(np.array([2.0, -1.0]))
    assert list(result) == [0.5, 0.0] and function.points(2.0) == [0.5]
    assert inspect.getsource(function) == source  # what a Dask cluster's workers are sent


EXAMPLE_INPUTS = [
    pytest.param(
        (PEER / "examples/model.yaml", PEER / "examples/hardware.yaml", PEER / "examples/stats.json"),
        marks=pytest.mark.skipif(
            not (PEER / "examples").is_dir(), reason=f"reference examples not found at {PEER} (shared/ is absent)"
        ),
    ),
    (EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml"),
    (EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml"),
]


@pytest.mark.parametrize("files", EXAMPLE_INPUTS, ids=lambda files: files[1].stem)
def test_a_cached_report_evaluator_gives_numpys_bits_without_numpy(files, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    build_model(*files, vary=["L_prompt"])  # fills the cache
    model = build_model(*files, vary=["L_prompt"])
    assert model.evaluator.function.points is not None
    lengths = [1, 64, 128, 512, 4096, 16000]
    points = model.evaluate_points(L_prompt=lengths)
    arrays = model.evaluate(L_prompt=np.array(lengths))
    assert isinstance(points["speculative.energy_per_token"], list)
    assert points.keys() == arrays.keys()
    assert all(same_bits(points[name], arrays[name]) for name in arrays)


def test_nested_and_constant_powers_give_numpys_bits():
    source = (
        "def _lambdifygenerated(x, y):\n"
        "    c = 3.0\n"
        "    a = (x**2)**(-1.0) + c**(-1.0)\n"
        "    return [a, (y +\n        x)**0.5, select([greater(x, 1), True], [x**2, c**0.5], default=nan), 7]\n"
    )
    function = CachedFunction(source, "<test>", ["greater", "nan", "select"])
    xs, ys = random_floats(500), random_floats(500, seed=5)
    xs, ys = ([abs(value) for value in values if 1e-100 < abs(value) < 1e100] for values in (xs, ys))
    count = min(len(xs), len(ys), 64)
    with np.errstate(all="ignore"):
        expected = function(np.array(xs[:count]), np.array(ys[:count]))
    found = evaluate_points(function.points, ["x", "y"], ["a", "b", "c", "d"], {"x": xs[:count], "y": ys[:count]}, [])
    assert found is not None
    assert all(same_bits(found[name], np.broadcast_to(value, (count,))) for name, value in zip("abcd", expected))


# -- any compiled evaluator: hypothesis -------------------------------------------------------------------

x_symbol, y_symbol = __import__("sympy").symbols("x y", real=True)


def _random_outputs(draw_kinds: list[int], draw_numbers: list[float]):
    """Closed forms built as the packs build them: sums, products, quotients, powers, Max/Min, floor/ceiling,
    Piecewise, over two inputs and numbers."""
    import sympy as sp

    numbers = iter(draw_numbers)
    pool = [x_symbol, y_symbol, sp.Float(next(numbers))]
    for kind in draw_kinds:
        a, b = pool[-1], pool[(kind * 7) % len(pool)]
        pool.append(
            [
                a + b,
                a * b,
                a / (b * b + sp.Float(next(numbers)) ** 2 + 1),
                sp.Max(a, b),
                sp.Min(a, sp.Float(next(numbers))),
                sp.floor(a / 3),
                sp.ceiling(b),
                a**2,
                sp.sqrt(a * a + 1),
                1 / (a * a + 1),
                sp.Piecewise((a, b > 1), (b, True)),
            ][kind]
        )
    return {f"out{index}": expression for index, expression in enumerate(pool[2:])}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 10), min_size=1, max_size=8),
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=20, max_size=20),
    st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=8),
)
def test_any_compiled_evaluator_gives_numpys_bits_or_gives_way(kinds, numbers, points):
    """Wherever the per-point path answers, every output is numpy's to the bit (else numpy evaluates)."""
    from symcost.compile import compile_outputs
    from symcost.evaluator_source import global_names

    outputs = _random_outputs(kinds, numbers)
    evaluator = compile_outputs(outputs, [x_symbol, y_symbol])
    source = evaluator.source()
    function = CachedFunction(source, "<hypothesis>", sorted(global_names(evaluator.function.__code__)))
    if function.points is None:  # a power numpy takes elsewhere: numpy evaluates, nothing to compare
        return
    xs, ys = [point[0] for point in points], [point[1] for point in points]
    found = evaluate_points(function.points, ["x", "y"], list(outputs), {"x": xs, "y": ys}, [])
    if found is None:
        return
    expected = evaluator(x=np.array(xs), y=np.array(ys))
    assert found.keys() == expected.keys()
    assert all(same_bits(found[name], expected[name]) for name in expected)
