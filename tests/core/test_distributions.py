"""Tables, expectations and default alternatives in the formula language, through the generic binder
and verbs (a user's pack, no Python), against hand computations with exact fractions."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import sympy as sp
import yaml
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.binder import bind_symbols, resolve_formulas
from symcost.distributions import Table, expected, table_from_mapping
from symcost.errors import InputError
from symcost.input_tree import InputTree
from symcost.pack import load_pack

RETRY_PACK = {
    "pack": "retry-cost",
    "version": 1,
    "description": "A transfer retried a random number of times.",
    "phases": ["transfer"],
    "components": ["link", "dram"],
    "off_chip": ["dram"],
    "symbols": [
        {
            "name": "n",
            "description": "attempts a transfer takes",
            "unit": "1",
            "source": "outcome",
            "domain": "positive_integer",
        },
        {
            "name": "P_n",
            "description": "measured attempts",
            "unit": "1",
            "source": "workload",
            "binding": "link.attempts",
            "table": "n",
        },
        {
            "name": "e_try",
            "description": "energy per attempt",
            "unit": "pJ",
            "source": "hardware",
            "binding": "link.energy_pj_per_attempt",
        },
        {
            "name": "rate",
            "description": "retry probability of a geometric model",
            "unit": "1",
            "source": "workload",
            "binding": "link.geometric.rate",
            "default": 0,
        },
        {
            "name": "mean_tries",
            "description": "expected attempts",
            "unit": "1",
            "source": "workload",
            "default": [
                {"given": "link.attempts", "value": "expected(P_n, n)"},
                {"given": "link.geometric", "value": "1 / (1 - rate)"},
            ],
        },
    ],
    "terms": [
        {
            "name": "transfer_energy",
            "quantity": "energy",
            "expression": "mean_tries * e_try",
            "phases": ["transfer"],
            "component": "link",
            "channel": "movement",
            "status": "modeled",
        }
    ],
    "quantities": [
        {"name": "second_moment", "unit": "1", "description": "E[n^2]", "expression": "expected(P_n, n**2)"},
        {
            "name": "energy_spread",
            "unit": "J",
            "description": "E[n^2] times the energy per attempt, charged to the link",
            "expression": "expected(P_n, n**2) * e_try",
            "component": "link",
        },
    ],
}


def write(tmp_path, name: str, data: dict):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def by_hand(attempts: dict[int, float], energy_pj: float) -> dict[str, float]:
    total = sum(Fraction(repr(weight)) for weight in attempts.values())
    probability = {n: Fraction(repr(weight)) / total for n, weight in attempts.items()}
    mean = sum(n * p for n, p in probability.items())
    second = sum(n * n * p for n, p in probability.items())
    return {
        "mean": mean,
        "second": second,
        "energy": float(mean) * energy_pj * 1e-12,
        "spread": float(second) * energy_pj * 1e-12,
    }


def test_a_users_pack_takes_expectations_through_the_verbs(tmp_path):
    pack = write(tmp_path, "retry.yaml", RETRY_PACK)
    attempts = {1: 70, 2: 20.5, 3: 9.5}
    inputs = write(tmp_path, "link.yaml", {"link": {"energy_pj_per_attempt": 2.5, "attempts": attempts}})
    result = run_cli("report", "--pack", pack, "--input", inputs, "-o", tmp_path / "report.json")
    assert result.code == 0, result.stderr
    values = json.loads((tmp_path / "report.json").read_text())["points"][0]["values"]
    expected_values = by_hand(attempts, 2.5)
    assert values["transfer_energy"]["value"] == pytest.approx(expected_values["energy"], rel=1e-12)
    assert values["second_moment"]["value"] == pytest.approx(float(expected_values["second"]), rel=1e-12)
    assert values["energy_spread"]["value"] == pytest.approx(expected_values["spread"], rel=1e-12)
    audit = run_cli("audit", "--pack", pack, "--input", inputs, "-o", tmp_path / "audit.md")
    assert audit.code == 0, audit.stderr
    text = (tmp_path / "audit.md").read_text()
    # the table as bound (exact probabilities), and the expectation as a formula
    assert r"P\left(n\right) = \left\{1: \frac{7}{10}, 2: \frac{41}{200}, 3: \frac{19}{200}\right\}" in text
    assert r"\mathbb{E}_{P_{\mathrm{n}}}\left[n^{2}\right]" in text and "| `n` | 1 | outcome | summed over |" in text


def test_a_default_alternative_is_chosen_by_the_path_the_inputs_give(tmp_path):
    pack = load_pack(write(tmp_path, "retry.yaml", RETRY_PACK))
    histogram = InputTree({"link": {"energy_pj_per_attempt": 1, "attempts": {"1": 3, "2": 1}}}, {"link": "link.yaml"})
    geometric = InputTree({"link": {"energy_pj_per_attempt": 1, "geometric": {"rate": 0.25}}}, {"link": "link.yaml"})
    mean = pack.symbol("mean_tries")
    from_histogram = resolve_formulas(bind_symbols(pack, histogram))[mean]
    assert from_histogram.value == sp.Rational(5, 4) and "link.attempts given" in from_histogram.provenance
    assert from_histogram.formula == expected(pack.symbol("P_n"), pack.symbol("n"))  # kept for the audit
    bound = bind_symbols(pack, geometric)
    assert pack.symbol("P_n") not in bound  # a table the inputs do not give stays unbound
    assert resolve_formulas(bound)[mean].value == sp.Rational(4, 3)
    kept = resolve_formulas(bound, keep=frozenset({pack.symbol("rate")}))[mean].value
    assert kept == 1 / (1 - pack.symbol("rate"))  # an evaluator input stays a symbol
    with pytest.raises(InputError, match="mean_tries"):
        bind_symbols(pack, InputTree({"link": {"energy_pj_per_attempt": 1}}, {"link": "link.yaml"}))


def test_an_expectation_over_a_missing_table_names_it(tmp_path):
    data = json.loads(json.dumps(RETRY_PACK))
    data["symbols"][4]["default"] = "expected(P_n, n)"
    pack = load_pack(write(tmp_path, "retry.yaml", data))
    bound = bind_symbols(pack, InputTree({"link": {"energy_pj_per_attempt": 1}}, {"link": "link.yaml"}))
    with pytest.raises(
        InputError, match="symbol mean_tries: takes an expectation over P_n, which the inputs do not give"
    ):
        resolve_formulas(bound)


@pytest.mark.parametrize(
    "attempts, message",
    [
        ({1: -1, 2: 3}, "outcome 1: expected a non-negative finite weight, got -1"),
        ({1: 0, 2: 0.0}, "expected at least one positive weight, got all zero"),
        ({"two": 1}, "expected outcomes such as 0 or '3', got 'two'"),
        ({1: "3"}, "outcome 1: expected a non-negative finite weight, got '3'"),
        ({1: True}, "outcome 1: expected a non-negative finite weight, got True"),
        ([0.5, 0.5], "link.attempts: expected a mapping outcome -> weight (a histogram), got a list"),
    ],
)
def test_a_table_that_is_no_distribution_is_an_input_error(tmp_path, attempts, message):
    pack = load_pack(write(tmp_path, "retry.yaml", RETRY_PACK))
    tree = InputTree({"link": {"energy_pj_per_attempt": 1, "attempts": attempts}}, {"link": "link.yaml"})
    with pytest.raises(InputError) as caught:
        bind_symbols(pack, tree)
    assert message in str(caught.value) and "link.yaml" in str(caught.value)


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.integers(0, 300),
        st.one_of(st.integers(0, 10**6), st.floats(0, 1e6).map(lambda x: round(x, 4))),
        min_size=1,
        max_size=40,
    ).filter(lambda weights: sum(weights.values()) > 0),
    st.integers(-3, 3),
)
def test_expectations_over_a_table_equal_exact_plain_sums(weights, shift):
    outcome = sp.Symbol("a", integer=True, nonnegative=True)
    table = table_from_mapping(outcome, weights)
    total = sum(
        Fraction(repr(weight)) if isinstance(weight, float) else Fraction(weight) for weight in weights.values()
    )
    exact = {
        value: (Fraction(repr(weight)) if isinstance(weight, float) else Fraction(weight)) / total
        for value, weight in weights.items()
    }
    assert {int(value): Fraction(int(p.p), int(p.q)) for value, p in table.entries} == exact
    assert sum(table.probability(value) for value in weights) == 1
    moment = expected(table, (outcome + shift) ** 2)
    assert moment == sum((value + shift) ** 2 * p for value, p in exact.items())
    assert table.probability(max(weights) + 1) == 0


def test_expectations_stay_symbolic_until_the_table_is_known():
    outcome, table_symbol, rate = sp.symbols("a P r")
    unevaluated = expected(table_symbol, rate * outcome)
    assert isinstance(unevaluated, expected)
    filled = unevaluated.xreplace(
        {table_symbol: Table(outcome, {sp.Integer(0): sp.Rational(1, 4), sp.Integer(2): sp.Rational(3, 4)})}
    )
    assert filled == sp.Rational(3, 2) * rate


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["terms"][0].update(expression="expected(e_try, n) * e_try"),
            "expected(e_try, ...): the first argument must be a table symbol",
        ),
        (lambda d: d["symbols"][1].update(table="e_try"), "'e_try' is not an outcome symbol declared before 'P_n'"),
        (lambda d: d["symbols"][1].update(unit="pJ"), "a table holds probabilities: its unit must be '1'"),
        (
            lambda d: d["terms"][0].update(expression="expected(P_n, n * e_try) / e_try"),
            "expected energy (quantity energy), but the formula is dimensionless",
        ),
        (
            lambda d: d["quantities"][1].update(component="disk"),
            "quantities[1].component: 'disk' is not among the pack's components",
        ),
        (lambda d: d.update(off_chip=["disk"]), "off_chip[0]: 'disk' is not among the pack's components"),
        (
            lambda d: d["symbols"][4].update(default=[{"given": "link.attempts", "value": "expected(P_n, n) * e_try"}]),
            "symbols[4].default[0].value: expected dimensionless (unit 1), but the formula is energy",
        ),
    ],
)
def test_broken_distribution_declarations_name_the_field(tmp_path, edit, message):
    data = json.loads(json.dumps(RETRY_PACK))
    edit(data)
    with pytest.raises(InputError) as caught:
        load_pack(write(tmp_path, "retry.yaml", data))
    assert message in str(caught.value)


def test_the_pack_placement_and_component_charges_load(tmp_path):
    pack = load_pack(write(tmp_path, "retry.yaml", RETRY_PACK))
    assert pack.off_chip == ("dram",)
    assert [(quantity.name, quantity.component) for quantity in pack.quantities] == [
        ("second_moment", None),
        ("energy_spread", "link"),
    ]
    assert (
        pack.symbols["P_n"].table == pack.symbol("n")
        and pack.symbols["mean_tries"].default[1].given == "link.geometric"
    )
