"""The whitelist formula parser: what it accepts, what it refuses, and that refusing runs nothing."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost import FormulaError, parse_formula
from symcost.formula import lattice_bound
from symcost.registry import packaged_pack

NAMES = ["x", "y", "L", "K"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ceiling(x / 4)", sp.ceiling(sp.Symbol("x") / 4)),
        ("floor(x) + Abs(y)", sp.floor(sp.Symbol("x")) + sp.Abs(sp.Symbol("y"))),
        ("Max(x, y) - Min(x, 2)", sp.Max(sp.Symbol("x"), sp.Symbol("y")) - sp.Min(sp.Symbol("x"), 2)),
        ("log(x) + sqrt(y) + exp(L)", sp.log(sp.Symbol("x")) + sp.sqrt(sp.Symbol("y")) + sp.exp(sp.Symbol("L"))),
        (
            "Piecewise((x, x < L), (y, True))",
            sp.Piecewise((sp.Symbol("x"), sp.Symbol("x") < sp.Symbol("L")), (sp.Symbol("y"), True)),
        ),
        ("x // 3", sp.floor(sp.Symbol("x") / 3)),
        ("0.1 * x", sp.Rational(1, 10) * sp.Symbol("x")),
        ("2**K", 2 ** sp.Symbol("K")),
        ("-x + +y", -sp.Symbol("x") + sp.Symbol("y")),
    ],
)
def test_accepts_whitelisted_forms(text, expected):
    assert sp.simplify(parse_formula(text, NAMES) - expected) == 0


def test_decimal_literals_are_exact_rationals():
    assert parse_formula("4.85", []) == sp.Rational(97, 20)


def test_uses_the_given_symbol_objects():
    length = sp.Symbol("L", positive=True)
    assert parse_formula("L + 1", {"L": length}).free_symbols == {length}


@pytest.mark.parametrize(
    "text, token",
    [
        ("__import__('os').system('touch /tmp/symcost-pwned')", "'"),
        ("().__class__.__bases__", "().__class__.__bases__"),
        ("lambda: 1", ":"),
        ("open('x')", "'"),
        ("x.y", "x.y"),
        ("[1,2]", "["),
        ("'str'", "'"),
        ("undeclared + 1", "undeclared"),
        ("getattr(x, y)", "getattr"),
        ("x if y else 1", "x if y else 1"),
        ("x < y", "x < y"),
        ("Max(x, key=y)", "y"),
        ("9**9**9**9", "9**9"),
        ("{1: 2}", "{"),
        ("x @ y", "@"),
        ("__builtins__", "__builtins__"),
        ("Piecewise(x)", "x"),
        ("Piecewise((x, 1))", "1"),
        ("x;y", ";"),
    ],
)
def test_refuses_non_whitelisted_forms(text, token):
    with pytest.raises(FormulaError) as caught:
        parse_formula(text, NAMES)
    assert caught.value.token == token
    assert caught.value.position is not None


@pytest.mark.parametrize(
    "text", ["(" * 5000 + "1" + ")" * 5000, "(" * 41 + "x" + ")" * 41, "x+" * 3000 + "x", "", "   "]
)
def test_refuses_oversized_or_empty_formulas(text):
    with pytest.raises(FormulaError):
        parse_formula(text, NAMES)


def test_refusing_executes_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    for attempt in [
        f"__import__('os').system('touch {sentinel}')",
        f"open('{sentinel}', 'w')",
        "().__class__.__base__.__subclasses__()",
    ]:
        with pytest.raises(FormulaError):
            parse_formula(attempt, NAMES)
    assert not sentinel.exists()


def test_error_names_formula_position_and_suggestion():
    with pytest.raises(FormulaError) as caught:
        parse_formula("x + Lprompt", ["x", "L_prompt"], name="kv_read")
    message = str(caught.value)
    assert "formula 'kv_read'" in message and "column 5" in message and "did you mean 'L_prompt'" in message


# -- property test: printed random expressions parse back to the same expression


def _expressions():
    leaves = st.one_of(
        st.sampled_from([sp.Symbol(name) for name in NAMES]), st.integers(min_value=0, max_value=1000).map(sp.Integer)
    )

    def extend(children):
        return st.one_of(
            st.tuples(children, children).map(lambda pair: pair[0] + pair[1]),
            st.tuples(children, children).map(lambda pair: pair[0] * pair[1]),
            st.tuples(children, children).map(lambda pair: sp.Max(*pair)),
            children.map(sp.ceiling),
            st.tuples(children, st.integers(min_value=1, max_value=9)).map(lambda pair: pair[0] / pair[1]),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_expressions())
def test_printed_expressions_parse_back(expression):
    # Equal as mathematics: SymPy may distribute a coefficient differently when rebuilding (2*(x + y) -> 2*x + 2*y).
    parsed = parse_formula(str(expression), NAMES)
    assert sp.expand(parsed, deep=True) == sp.expand(expression, deep=True)


@pytest.mark.parametrize("operator", ["+", "*", "-", "/"])
def test_a_600_term_chain_parses_like_the_pairwise_operations(operator):
    a, b = sp.symbols("a b")
    text = operator.join(["a", "b"] * 300)
    expected = a
    for symbol in [b, a] * 299 + [b]:
        expected = {"+": expected + symbol, "*": expected * symbol, "-": expected - symbol, "/": expected / symbol}[
            operator
        ]
    assert parse_formula(text, {"a": a, "b": b}) == expected


def test_a_chain_over_the_node_limit_is_refused():
    with pytest.raises(FormulaError, match="more than 2000 syntax nodes"):
        parse_formula("+".join(["a"] * 1500), ["a"])


# -- Max/Min: built without SymPy's pairwise search, the same expressions for the shipped packs


@pytest.mark.parametrize("pack_name", ["selfspec", "llm", "spatten"])  # cascade writes no Max or Min
def test_shipped_packs_build_max_and_min_as_sympy_would(monkeypatch, pack_name):
    from symcost import formula, pack

    built = []

    def recording(kind, arguments):
        arguments = tuple(arguments)
        result = lattice_bound(kind, arguments)
        built.append((result, kind(*arguments)))
        return result

    monkeypatch.setattr(formula, "lattice_bound", recording)
    pack._load_pack.__wrapped__(str(packaged_pack(pack_name)), None)  # not the per-process cache
    assert built
    for ours, sympys in built:
        assert type(ours) is type(sympys) and ours.args == sympys.args


def test_max_and_min_are_flattened_and_keep_one_copy_of_each_argument():
    x, y = sp.symbols("x y")
    assert parse_formula("Max(x, Max(y, x), x)", ["x", "y"]) == sp.Max(x, y)
    assert parse_formula("Min(Min(x, y), y)", ["x", "y"]).args == sp.Min(x, y).args
    assert parse_formula("Max(x, x)", ["x"]) == x


def test_max_and_min_with_numbers_still_simplify_under_the_assumptions():
    x = sp.Symbol("x", nonnegative=True)
    assert parse_formula("Max(0, x)", {"x": x}) == x
    assert parse_formula("Min(0, x)", {"x": x}) == 0
    assert parse_formula("Max(2, 3, 1)", []) == 3


def test_max_of_a_non_real_argument_is_refused():
    with pytest.raises(FormulaError, match="bad arguments to Max"):
        parse_formula("Max(sqrt(0 - 1), x)", ["x"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["x", "2*x", "y", "x + y", "x*y", "3"]), min_size=1, max_size=5),
    st.floats(0, 100),
    st.floats(0, 100),
    st.sampled_from(["Max", "Min"]),
)
def test_max_and_min_have_sympys_values(parts, x_value, y_value, kind):
    symbols = {name: sp.Symbol(name, nonnegative=True) for name in "xy"}
    ours = parse_formula(f"{kind}({', '.join(parts)})", symbols)
    sympys = getattr(sp, kind)(*(parse_formula(part, symbols) for part in parts))
    values = {symbols["x"]: x_value, symbols["y"]: y_value}
    assert float(ours.xreplace(values)) == float(sympys.xreplace(values))
