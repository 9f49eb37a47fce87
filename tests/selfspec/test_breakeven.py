"""Analytical break-even points, checked against the compiled evaluator on both sides of each crossing."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost import build_model
from symcost.packs.selfspec.breakeven import find_break_even
from symcost.pieces import localise

CASES = {
    "knobs": ("model_llama2_7b.yaml", "hardware_knobs.yaml", "stats_k4.yaml"),
    "legacy": ("model_tiny.yaml", "hardware_legacy.yaml", "stats_geometric.yaml"),
    "pipelined": ("model_llama2_7b.yaml", "hardware_soc_pipelined.yaml", "stats_k4.yaml"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    model = build_model(*(EXAMPLES / name for name in CASES[request.param]))
    return model, find_break_even(model)


def _sides(model, comparison, quantity, lengths):
    """Left and right per-token cost straight from the evaluator's outputs, summed here independently."""
    results = model.evaluate(L_prompt=np.asarray(lengths, dtype=float))
    if comparison == "vs_baseline":
        return results[f"speculative.{quantity}_per_token"], results[f"baseline.{quantity}_per_token"]
    spec = next(c for c in model.pack.comparisons if c.name == comparison)

    def group(view, names):
        keys = [
            k
            for k in results
            if k.startswith(f"speculative.{view}.") and k.endswith(f".{quantity}") and k.split(".")[3] in names
        ]
        return sum(results[k] for k in keys) / results["speculative.committed_tokens"]

    return group(*spec.left), group(*spec.right)


def test_every_comparison_and_quantity_is_answered(case):
    model, found = case
    assert set(found) == {"vs_baseline", "attention_vs_linear"}
    assert all(set(by_quantity) == {"energy", "latency"} for by_quantity in found.values())


def test_curves_meet_at_each_crossing_and_swap_order(case):
    model, found = case
    checked = 0
    for comparison, by_quantity in found.items():
        for quantity, answer in by_quantity.items():
            for crossing in answer.crossings:
                below, at, above = crossing * (1 - 1e-4), crossing, crossing * (1 + 1e-4)
                left, right = _sides(model, comparison, quantity, [below, at, above])
                assert left[1] == pytest.approx(right[1], rel=1e-9)
                assert np.sign(left[0] - right[0]) == -np.sign(left[2] - right[2]) != 0
                checked += 1
            if answer.verdict != "crosses":
                assert answer.L_prompt is None and not answer.crossings
    assert checked >= 1


def test_verdicts_hold_over_random_prompt_lengths(case):
    model, found = case
    rng = np.random.default_rng(7)
    for comparison, by_quantity in found.items():
        for quantity, answer in by_quantity.items():
            lengths = rng.uniform(*answer.domain, size=500)
            left, right = _sides(model, comparison, quantity, lengths)
            if answer.verdict == "always_better":
                assert np.all(left <= right)
            elif answer.verdict == "never_better":
                assert np.all(left > right)
            else:
                first = answer.crossings[0]
                assert np.all(
                    np.sign(left - right)[lengths < first * 0.999] == np.sign(left - right)[np.argmin(lengths)]
                )


def test_linear_crossing_equals_the_line_through_two_evaluated_points():
    model = build_model(*(EXAMPLES / name for name in CASES["knobs"]))
    answer = find_break_even(model)["attention_vs_linear"]["latency"]
    left, right = _sides(model, "attention_vs_linear", "latency", [1000.0, 2000.0])
    gap = left - right
    assert answer.L_prompt == pytest.approx(1000.0 - gap[0] * 1000.0 / (gap[1] - gap[0]), rel=1e-9)
    # Both signs moved out: the crossing is positive, so the fraction is printed without any minus.
    assert answer.solution_latex.startswith("L_{prompt}^{*} = \\frac") and _signs_outside(answer.solution_latex)


def _signs_outside(latex: str) -> bool:
    """No negative numerator or denominator in the solution's fraction (exponents such as 10^{-7} may be)."""
    return "\\frac{-" not in latex and "}{-" not in latex


def test_report_carries_the_break_even_section():
    from symcost.packs.selfspec.report import build_report

    model = build_model(*(EXAMPLES / name for name in CASES["knobs"]))
    section = build_report(model, [128])["break_even"]
    entry = section["attention_vs_linear"]["energy"]
    assert entry["verdict"] == "crosses" and entry["L_prompt"] > 0 and "L_{prompt}" in entry["equation"]


x = sp.Symbol("x", real=True)


@settings(max_examples=40, deadline=None)
@given(st.floats(-50, 50), st.floats(-5, 5), st.floats(-100, 100))
def test_localise_agrees_with_the_full_expression_at_the_point(a, b, at):
    expression = sp.Max(a + b * x, 3 * x - 7) + sp.Piecewise((x**2, x > 1), (2 - x, True)) + sp.floor(x / 3)
    local = localise(expression, {x: at})
    assert not local.has(sp.Max, sp.Piecewise, sp.floor)
    assert float(local.subs(x, at)) == pytest.approx(float(expression.subs(x, at)), rel=1e-9, abs=1e-9)


KNOBS = [
    "--model",
    EXAMPLES / "model_llama2_7b.yaml",
    "--hardware",
    EXAMPLES / "hardware_knobs.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
]


def test_cli_prints_equation_and_solution():
    from conftest import run_cli

    result = run_cli("breakeven", *KNOBS, "--comparison", "attention_vs_linear", "--quantity", "latency")
    assert result.code == 0, result.stderr
    assert "attention_vs_linear / latency: crosses" in result.stdout
    assert "L_{prompt}^{*} = \\frac" in result.stdout and "*L_prompt" in result.stdout


def test_cli_solves_for_a_coefficient_given_as_an_input_field():
    import json

    from conftest import run_cli

    result = run_cli(
        "breakeven", *KNOBS, "--solve-for", "adc_draft.energy_pj_per_conversion", "--prompt-length", "2048", "--json"
    )
    assert result.code == 0, result.stderr
    answers = json.loads(result.stdout)
    assert set(answers) == {
        "vs_baseline.energy",
        "vs_baseline.latency",
        "attention_vs_linear.energy",
        "attention_vs_linear.latency",
    }
    assert all("e_AD" in answer for answer in answers.values())


def test_solving_for_a_coefficient_finds_where_the_comparison_flips():
    # Attention energy (independent of the ADC) exceeds linear energy only if the draft ADC is cheap enough.
    model = build_model(*(EXAMPLES / name for name in CASES["knobs"]), keep=["e_AD"])
    answer = find_break_even(model, "e_AD", prompt_length=300_000)["attention_vs_linear"]["energy"]
    assert answer.verdict == "crosses"
    for factor, sign in ((0.999, 1), (1.001, -1)):
        results = model.evaluate(L_prompt=300_000.0, e_AD=answer.value * factor)
        attention = sum(
            v
            for k, v in results.items()
            if k.startswith("speculative.stage.")
            and k.endswith(".energy")
            and k.split(".")[3] in ("qk", "pv", "softmax", "kv_cache")
        )
        linear = sum(
            v
            for k, v in results.items()
            if k.startswith("speculative.stage.") and k.endswith(".energy") and k.split(".")[3] in ("qkv", "wo", "ffn")
        )
        assert np.sign(attention - linear) == sign


PIPELINED = [
    "--model",
    EXAMPLES / "model_llama2_7b.yaml",
    "--hardware",
    EXAMPLES / "hardware_soc_pipelined.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
    "--prompt-length",
    "2048",
]


@pytest.mark.parametrize("name", ["adc_draft.energy_pj_per_conversion", "e_AD"])
def test_cli_json_gives_a_coefficient_in_its_field_unit_beside_si(name):
    import json

    from conftest import run_cli

    result = run_cli("breakeven", *PIPELINED, "--solve-for", name, "--json")
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)["vs_baseline.energy"]
    assert answer["verdict"] == "crosses"
    # The field is in pJ (and e_AD declares pJ in formulas/selfspec.yaml); 1 pJ = 1e-12 J, converted by hand.
    assert (answer["unit"], answer["si_unit"]) == ("pJ", "J")
    assert answer["value_in_unit"] == pytest.approx(answer["e_AD"] * 1e12, rel=1e-12)
    assert answer["crossings_in_unit"] == pytest.approx([value * 1e12 for value in answer["crossings"]], rel=1e-12)
    assert f"e_AD = {answer['e_AD'] * 1e12:.6g} pJ" in answer["description"]


def test_cli_text_prints_the_coefficient_in_pj_and_no_double_negative():
    import json

    from conftest import run_cli

    field = ["--solve-for", "adc_draft.energy_pj_per_conversion"]
    si = json.loads(run_cli("breakeven", *PIPELINED, *field, "--json").stdout)
    result = run_cli("breakeven", *PIPELINED, *field)
    assert result.code == 0, result.stderr
    solutions = [line for line in result.stdout.splitlines() if line.startswith("  solution:")]
    crossing = [answer["e_AD"] for answer in si.values() if answer["verdict"] == "crosses"]
    assert len(solutions) == len(crossing) >= 1
    for line, value in zip(solutions, crossing):
        assert line.endswith(f" J = {value * 1e12:.6g} pJ") and f"\\approx {value:.6g} J" in line
        assert "-\\frac" not in line and _signs_outside(line)
    assert f"meet at e_AD = {crossing[0] * 1e12:.6g} pJ" in result.stdout


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--solve-for", "adc_draf", "--prompt-length", "10"], "did you mean adc_draft."),
        (["--solve-for", "e_AD"], "needs --prompt-length"),
        (["--comparison", "nope"], "unknown comparison nope"),
    ],
)
def test_cli_bad_input_exits_2(extra, fragment):
    from conftest import run_cli

    result = run_cli("breakeven", *KNOBS, *extra)
    assert result.code == 2 and fragment in result.stderr and "Traceback" not in result.stderr
