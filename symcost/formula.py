"""The formula language: a whitelist parser from text to SymPy.

Formulas in formula packs are user text. They are parsed with Python's ``ast``
module (which only parses; nothing is executed) and every node is checked
against a whitelist before a SymPy object is built from it. ``sympify`` and
``parse_expr`` evaluate Python code and never see user text.

Accepted: numbers; declared names; ``+ - * / // **`` (a numeric exponent is
bounded); unary ``+``/``-``; parentheses; calls of the functions in
:data:`FUNCTIONS` with positional arguments; inside ``Piecewise`` the
``(value, condition)`` pairs, comparisons, ``and``/``or`` and ``True``.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Iterable, Mapping

import sympy as sp

from .errors import FormulaError

FUNCTIONS: dict[str, Callable[..., sp.Basic]] = {
    "ceiling": sp.ceiling,
    "ceil": sp.ceiling,
    "floor": sp.floor,
    "Max": lambda *arguments: lattice_bound(sp.Max, arguments),
    "Min": lambda *arguments: lattice_bound(sp.Min, arguments),
    "Abs": sp.Abs,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "Piecewise": sp.Piecewise,
}
MAX_LENGTH = 4000
MAX_NESTING = 40
MAX_NODES = 2000
MAX_INTEGER_DIGITS = 30
MAX_NUMERIC_EXPONENT = 64

_ALLOWED_CHARACTERS = re.compile(r"[A-Za-z0-9_+\-*/().,<>=!\s]*")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COMPARISONS = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: sp.floor(a / b),
}

_CHAINED = (ast.Add, ast.Sub, ast.Mult, ast.Div)

Symbols = Mapping[str, sp.Basic] | Iterable[str]


def parse_formula(
    text: str,
    symbols: Symbols,
    *,
    name: str | None = None,
    functions: Mapping[str, Callable[..., sp.Basic]] | None = None,
) -> sp.Expr:
    """Parse ``text`` into a SymPy expression over the declared ``symbols``.

    ``symbols`` maps names to SymPy objects (or is an iterable of names, each
    becoming a plain Symbol). ``functions`` adds callables to the whitelist
    (formula packs add their macros and the engine's aggregate functions).
    Raises :class:`FormulaError` naming the position and the offending token
    for anything outside the whitelist.
    """
    table = _symbol_table(symbols)
    try:
        return _Parser(text, table, {**FUNCTIONS, **(functions or {})}).parse()
    except FormulaError as error:
        raise (error.named(name) if name else error) from None


def lattice_bound(kind: type[sp.Max] | type[sp.Min], arguments: Iterable[sp.Basic]) -> sp.Basic:
    """``Max``/``Min`` of formula arguments: nested ones of the same kind flattened, exact duplicates dropped.

    SymPy's own construction also compares every pair of symbolic arguments under the symbols' assumptions
    to drop dominated ones (``Max(x, 2*x)`` is ``2*x`` for ``x >= 0``), a few milliseconds per pair that
    made up most of parsing a pack. Formula packs write no dominated arguments
    (``tests/core/test_formula.py`` checks the shipped ones), and a dominated argument would change no
    value, only the printed form. Numbers still go through SymPy, whose comparisons of numbers are cheap.
    """
    flat: dict[sp.Basic, None] = {}
    for argument in arguments:
        for part in argument.args if isinstance(argument, kind) else (argument,):
            if part.is_extended_real is False or (part.is_number and not part.is_comparable):
                raise ValueError(f"the argument {part} is not a real number")
            flat[part] = None
    if len(flat) == 1 or any(part.is_number for part in flat):
        return kind(*flat)
    return kind(*flat, evaluate=False)


def is_valid_name(name: str) -> bool:
    """Whether ``name`` may be used as a symbol name (it reaches generated code)."""
    return bool(_NAME.match(name)) and not name.startswith("__") and name not in FUNCTIONS


def _symbol_table(symbols: Symbols) -> Mapping[str, sp.Basic]:
    if isinstance(symbols, Mapping):
        return symbols  # only read: a pack passes the same table for each of its formulas
    return {symbol_name: sp.Symbol(symbol_name) for symbol_name in symbols}


class _Parser:
    def __init__(self, text: str, symbols: Mapping[str, sp.Basic], functions: Mapping[str, Callable[..., sp.Basic]]):
        self.text = text
        self.symbols = symbols
        self.functions = functions
        self.nodes = 0

    def fail(self, message: str, token: str | None = None, position: int | None = None) -> FormulaError:
        return FormulaError(
            message,
            formula=self.text if isinstance(self.text, str) else repr(self.text),
            token=token,
            position=position,
        )

    def parse(self) -> sp.Expr:
        self._check_text()
        try:
            # A formula is one expression: line breaks (folded YAML) are spaces.
            tree = ast.parse(self.text.strip().replace("\n", " "), mode="eval")
        except SyntaxError as exc:
            column = (exc.offset or 1) - 1 + (len(self.text) - len(self.text.lstrip()))
            raise self.fail(f"syntax error: {exc.msg}", self.text[column : column + 10] or None, column) from None
        except (RecursionError, MemoryError, ValueError):
            raise self.fail("formula is too deeply nested or too large") from None
        try:
            return self.expression(tree.body)
        except RecursionError:
            raise self.fail("formula is nested too deeply (unary signs or powers in a long chain)") from None

    def _check_text(self) -> None:
        if not isinstance(self.text, str):
            raise self.fail(f"expected formula text, got {type(self.text).__name__}")
        if not self.text.strip():
            raise self.fail("formula is empty")
        if len(self.text) > MAX_LENGTH:
            raise self.fail(f"formula is {len(self.text)} characters long; at most {MAX_LENGTH} are allowed")
        allowed = _ALLOWED_CHARACTERS.match(self.text)
        if allowed.end() != len(self.text):
            bad = self.text[allowed.end()]
            raise self.fail(f"character {bad!r} is not part of the formula language", bad, allowed.end())
        depth = 0
        for index, char in enumerate(self.text):
            depth += char == "("
            depth -= char == ")"
            if depth > MAX_NESTING:
                raise self.fail(f"parentheses nested deeper than {MAX_NESTING}", "(", index)

    def position(self, node: ast.AST) -> int:
        return len(self.text) - len(self.text.lstrip()) + node.col_offset

    def token(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text.strip().replace("\n", " "), node) or type(node).__name__
        return segment if len(segment) <= 40 else segment[:37] + "..."

    def reject(self, node: ast.AST, what: str) -> FormulaError:
        return self.fail(f"{what} is not allowed in formulas", self.token(node), self.position(node))

    def count(self, node: ast.AST) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"formula has more than {MAX_NODES} syntax nodes", self.token(node), self.position(node))

    def expression(self, node: ast.AST) -> sp.Basic:
        self.count(node)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.expression(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.reject(node, _describe(node))

    def number(self, node: ast.Constant) -> sp.Number:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.reject(node, f"constant {value!r}")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_INTEGER_DIGITS:
                raise self.fail(
                    f"integer literal longer than {MAX_INTEGER_DIGITS} digits", self.token(node), self.position(node)
                )
            return sp.Integer(value)
        # Decimal literals become exact rationals so closed forms stay exact.
        return sp.Rational(repr(value))

    def name(self, node: ast.Name) -> sp.Basic:
        identifier = node.id
        if identifier.startswith("__"):
            raise self.reject(node, f"dunder name {identifier!r}")
        if identifier in self.symbols:
            return self.symbols[identifier]
        if identifier in self.functions:
            raise self.fail(f"function {identifier!r} must be called", identifier, self.position(node))
        close = difflib.get_close_matches(identifier, list(self.symbols), n=1, cutoff=0.7)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise self.fail(f"undeclared name {identifier!r}{hint}", identifier, self.position(node))

    def binary(self, node: ast.BinOp) -> sp.Basic:
        if type(node.op) in _CHAINED:
            return self.chain(node)
        left = self.expression(node.left)
        right = self.expression(node.right)
        if isinstance(node.op, ast.Pow):
            numbers = [part for part in (left, right) if part.is_number]
            if right.is_number and abs(right) > MAX_NUMERIC_EXPONENT:
                raise self.fail(
                    f"numeric exponent larger than {MAX_NUMERIC_EXPONENT}",
                    self.token(node.right),
                    self.position(node.right),
                )
            if len(numbers) == 2 and abs(left) > 10**6:
                raise self.fail("numeric power of a base above 1e6", self.token(node), self.position(node))
            return left**right
        operator = _OPERATORS.get(type(node.op))
        if operator is None:
            raise self.reject(node, f"operator {type(node.op).__name__}")
        return operator(left, right)

    def chain(self, node: ast.BinOp) -> sp.Basic:
        """``a + b - c + ...`` (or ``a * b / c ...``) walked along its left spine in a loop: a sum of
        hundreds of terms nests that deep in the syntax tree, beyond what recursion allows."""
        spine = [node]  # counted by expression()
        node = node.left
        while isinstance(node, ast.BinOp) and type(node.op) in _CHAINED:
            self.count(node)
            spine.append(node)
            node = node.left
        value = self.expression(node)
        for link in reversed(spine):
            value = _OPERATORS[type(link.op)](value, self.expression(link.right))
        return value

    def call(self, node: ast.Call) -> sp.Basic:
        if not isinstance(node.func, ast.Name):
            raise self.reject(node.func, "calling anything but a named function")
        function_name = node.func.id
        if function_name not in self.functions:
            raise self.fail(
                f"function {function_name!r} is not on the whitelist ({', '.join(sorted(self.functions))})",
                function_name,
                self.position(node.func),
            )
        if node.keywords:
            raise self.reject(node.keywords[0].value, "keyword argument")
        if not node.args:
            raise self.fail(f"{function_name}() needs arguments", function_name, self.position(node))
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.reject(argument, "starred argument")
        if function_name == "Piecewise":
            return sp.Piecewise(*(self.piece(argument) for argument in node.args))
        arguments = [self.expression(argument) for argument in node.args]
        try:
            return self.functions[function_name](*arguments)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"bad arguments to {function_name}: {exc}", function_name, self.position(node)) from None

    def piece(self, node: ast.AST) -> tuple[sp.Basic, sp.Basic]:
        if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
            raise self.fail("Piecewise takes (value, condition) pairs", self.token(node), self.position(node))
        self.count(node)
        return self.expression(node.elts[0]), self.condition(node.elts[1])

    def condition(self, node: ast.AST) -> sp.Basic:
        self.count(node)
        if isinstance(node, ast.Constant) and node.value is True:
            return sp.true
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISONS:
            return _COMPARISONS[type(node.ops[0])](self.expression(node.left), self.expression(node.comparators[0]))
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(value) for value in node.values]
            return sp.And(*parts) if isinstance(node.op, ast.And) else sp.Or(*parts)
        raise self.fail(
            "expected a comparison such as 'x < y' or True as a Piecewise condition",
            self.token(node),
            self.position(node),
        )


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.List: "list",
        ast.Tuple: "tuple",
        ast.Dict: "dict",
        ast.Set: "set",
        ast.Compare: "comparison outside Piecewise",
        ast.BoolOp: "boolean operator outside Piecewise",
        ast.IfExp: "conditional expression",
        ast.ListComp: "comprehension",
        ast.GeneratorExp: "generator",
        ast.DictComp: "comprehension",
        ast.SetComp: "comprehension",
        ast.NamedExpr: "assignment expression",
        ast.JoinedStr: "string",
        ast.Starred: "starred expression",
        ast.Await: "await",
        ast.Yield: "yield",
    }
    return names.get(type(node), type(node).__name__)
