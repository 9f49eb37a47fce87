"""A bounded grammar for unit text, read before pint sees it.

pint's own parser accepts any arithmetic over unit names: ``J**9**9**9``
makes it build a power with billions of digits (minutes of CPU, gigabytes),
``J**99999`` overflows a float. symcost reads unit text with this small
grammar first and hands pint only a canonical product of names with small
integer powers::

    unit     := product
    product  := factor (('*' | '/' | ' ') factor)*
    factor   := atom [('^' | '**') exponent]
    atom     := NAME | '1' | '(' product ')'
    exponent := ['+' | '-'] DIGITS

Names must be known to the unit registry (the caller checks); the text is at
most :data:`MAX_UNIT_TEXT` characters, parentheses nest at most
:data:`MAX_PARENTHESES` deep, and the power of each name, after products and
parentheses are multiplied out, is at most :data:`MAX_POWER` in magnitude.
"""

from __future__ import annotations

import re
from collections import Counter

MAX_UNIT_TEXT = 64
MAX_PARENTHESES = 3
MAX_POWER = 8

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z\u00b5\u03bc\u03a9\u00b0%][A-Za-z_\u00b5\u03bc\u03a9\u00b0%]*)|(?P<number>[0-9]+)|(?P<power>\*\*|\^)"
    r"|(?P<op>[*/])|(?P<open>\()|(?P<close>\))|(?P<sign>[+-]))"
)


class UnitTextError(ValueError):
    """Unit text outside the grammar; the message says what and where."""


def unit_powers(text: str) -> dict[str, int]:
    """``{name: power}`` of unit text (``'pJ/B'`` -> ``{'pJ': 1, 'B': -1}``), names not yet checked."""
    if len(text) > MAX_UNIT_TEXT:
        raise UnitTextError(f"unit text is {len(text)} characters long; at most {MAX_UNIT_TEXT} are read")
    parser = _Parser(text)
    powers = parser.product(0)
    if parser.position < len(parser.tokens):
        raise parser.fail("expected '*', '/' or the end of the unit")
    too_big = [name for name, power in powers.items() if abs(power) > MAX_POWER]
    if too_big:
        raise UnitTextError(
            f"unit {text!r}: {too_big[0]} is raised to the power {powers[too_big[0]]}; "
            f"powers are limited to -{MAX_POWER}..{MAX_POWER}"
        )
    return {name: power for name, power in powers.items() if power}


def canonical_text(powers: dict[str, int]) -> str:
    """The product pint is given: ``'pJ * B**-1'`` (``'dimensionless'`` for no names)."""
    return " * ".join(f"{name}**{power}" for name, power in powers.items()) or "dimensionless"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def fail(self, message: str) -> UnitTextError:
        if self.position < len(self.tokens):
            kind, token, column = self.tokens[self.position]
            return UnitTextError(f"unit {self.text!r}: {message}, got {token!r} at column {column + 1}")
        return UnitTextError(f"unit {self.text!r}: {message}, got the end of the text")

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.position][1]
        self.position += 1
        return token

    def product(self, depth: int) -> Counter:
        powers = self.factor(depth)
        while self.peek() in ("op", "name", "number", "open"):
            divide = self.peek() == "op" and self.take() == "/"
            for name, power in self.factor(depth).items():
                powers[name] += -power if divide else power
        return powers

    def factor(self, depth: int) -> Counter:
        powers = self.atom(depth)
        if self.peek() == "power":
            self.take()
            exponent = self.exponent()
            powers = Counter({name: power * exponent for name, power in powers.items()})
            if self.peek() == "power":
                raise self.fail("a power may be given once")
        return powers

    def atom(self, depth: int) -> Counter:
        kind = self.peek()
        if kind == "name":
            return Counter({self.take(): 1})
        if kind == "number" and self.tokens[self.position][1] == "1":
            self.take()
            return Counter()
        if kind == "open":
            if depth >= MAX_PARENTHESES:
                raise self.fail(f"parentheses nest at most {MAX_PARENTHESES} deep")
            self.take()
            powers = self.product(depth + 1)
            if self.peek() != "close":
                raise self.fail("expected ')'")
            self.take()
            return powers
        raise self.fail("expected a unit name, '1' or '('")

    def exponent(self) -> int:
        sign = -1 if self.peek() == "sign" and self.take() == "-" else 1
        if self.peek() != "number" or len(self.tokens[self.position][1]) > 2:
            raise self.fail(f"expected a small integer power (-{MAX_POWER}..{MAX_POWER})")
        return sign * int(self.take())


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            column = position + len(text[position:]) - len(text[position:].lstrip())
            raise UnitTextError(
                f"unit {text!r}: character {text[column]!r} at column {column + 1} "
                "is not part of a unit (names, '*', '/', '^' with an integer, parentheses)"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens
