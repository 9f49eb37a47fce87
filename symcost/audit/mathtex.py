"""Formulas as LaTeX for audit documents: names, numbers, and rows short enough to print.

SymPy's ``latex()`` never breaks a line (a burst latency can print as 40,000
characters) and renders underscored names as nested subscripts. Here names
come from the pack's ``latex`` fields or stay readable (``reads_draft_qkv``
prints as reads with subscript draft_qkv), floats show a fixed number of
significant digits, and :class:`MathLayout` splits a long expression at its top-level
``+`` into rows and names over-long parts (auxiliaries listed after the
equation), because neither LaTeX nor KaTeX can break inside ``\\left( ... \\right)``.
Only commands both pdflatex (amsmath, amssymb) and KaTeX know are produced.
"""

from __future__ import annotations

import functools
import re

import sympy as sp
from sympy.printing.latex import LatexPrinter, greek_letters_set, other_symbols, translate

from ..aggregates import at_step, layer_max, sum_steps
from ..replace import Replacement
from .document import Equation, Paragraph

ROW_WIDTH = 72  # visible characters per printed row (A4, 10 pt, 2 cm margins)
TABLE_WIDTH = 100  # visible characters across the line in a (footnote-size) table
_FONT = re.compile(r"\\(?:mathrm|mathit|mathcal|mathbb|operatorname|text)\{([^{}]*)\}")
_COMMAND = re.compile(r"\\[A-Za-z]+|\\.")
_SCRIPT = re.compile(r"[_^]\{([^{}]*)\}")
_CASES = re.compile(r"\\begin\{cases\}((?:(?!\\begin\{cases\}).)*?)\\end\{cases\}")


def symbol_latex(name: str) -> str:
    """A readable LaTeX name for a pack symbol without a ``latex`` field."""
    base, _, subscript = name.partition("_")
    # Greek names as letters; SymPy's other name modifiers (hbm -> bold h) would garble names.
    greek = base.lower() in greek_letters_set or base in other_symbols
    base_tex = translate(base) if greek else base if len(base) == 1 else rf"\mathrm{{{base}}}"
    if not subscript:
        return base_tex
    return rf"{base_tex}_{{\mathrm{{{subscript.replace('_', chr(92) + '_')}}}}}"


@functools.lru_cache(maxsize=8192)  # the layout measures the same pieces (names, subscripts) many times
def visible_width(latex: str) -> int:
    """Rough printed width in characters: a command is one glyph, sub- and superscripts count
    60 %, a ``cases`` block is as wide as its widest branch."""
    latex = _CASES.sub(lambda match: max(match.group(1).split(r"\\"), key=len), latex)
    latex = _repeat(_FONT, lambda match: match.group(1), latex)
    latex = _repeat(_SCRIPT, lambda match: "x" * -(-3 * visible_width(match.group(1)) // 5), latex)
    text = _COMMAND.sub("x", latex.replace(r"\left", "").replace(r"\right", ""))
    text = re.sub(r"[{}^_\s]", "", text)
    return len(text) + text.count("+") + text.count("=")


def _repeat(pattern: re.Pattern, replacement, text: str) -> str:
    """Substitute until nothing matches (innermost groups first)."""
    previous = None
    while previous != text:
        previous, text = text, pattern.sub(replacement, text)
    return text


def breaks_into(expression: sp.Basic, printer: AuditPrinter, width: int) -> bool:
    """Whether inline math can wrap ``expression`` into lines of ``width``: TeX breaks only
    after top-level + and times, so every factor of every term must fit on its own."""
    if isinstance(expression, (sp.Add, sp.Mul)):
        return all(breaks_into(argument, printer, width) for argument in expression.args)
    return visible_width(printer.doprint(expression)) <= width


class AuditPrinter(LatexPrinter):
    """LaTeX printer with the pack's symbol names, rounded floats and the engine functions.

    ``inline`` prints ``Piecewise`` on one line (for table cells, where the
    ``&`` and ``\\\\`` of a ``cases`` environment would clash with the table).
    """

    def __init__(self, names: dict[str, str], *, inline: bool = False, digits: int = 6, step: str = "i"):
        super().__init__({"mul_symbol": "dot"})
        self.names = names
        self.inline = inline
        self.digits = digits
        self.step = step
        # Integral floats (1.0 from a coefficient file) as integers, so "-L" does not print as
        # "-1 \cdot L"; remembered by sub-expression, as the audit tidies the same closed forms often.
        self.tidy = Replacement(_integer_for_integral_float)

    def formula(self, expression: sp.Basic) -> str:
        """One expression, its integral floats tidied (for table cells and short formulas)."""
        return self.doprint(self.tidy(expression))

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        return self.names.get(expr.name) or symbol_latex(expr.name)

    def _print_Float(self, expr: sp.Float) -> str:
        mantissa, _, exponent = f"{float(expr):.{self.digits}g}".partition("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}" if exponent else mantissa

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        if not self.inline:
            return super()._print_Piecewise(expr)
        branches = [
            self._print(value)
            + (r"\ \text{otherwise}" if condition == sp.true else r"\ \text{if}\ " + self._print(condition))
            for value, condition in expr.args
        ]
        return r"\left\{" + r";\ ".join(branches) + r"\right."

    def _print_sum_steps(self, expr: sum_steps) -> str:
        summand = self.parenthesize(expr.args[0], 50)  # Add binds looser than the sum sign
        if len(expr.args) == 1:
            return rf"\sum_{{{self.step} \in \mathrm{{phase}}}} {summand}"
        return rf"\sum_{{{self.step}={self._print(expr.args[1])}}}^{{{self._print(expr.args[2] - 1)}}} {summand}"

    def _print_at_step(self, expr: at_step) -> str:
        return rf"\left. {self._print(expr.args[0])} \right|_{{{self.step}={self._print(expr.args[1])}}}"

    def _print_layer_max(self, expr: layer_max) -> str:
        return rf"\max_{{\mathrm{{layers}}}}\left({self._print(expr.args[0])}\right)"


class MathLayout:
    """Prints equations in rows of at most ``width`` visible characters.

    A long sum is cut between its terms; a term still too long has its
    largest parts replaced by auxiliaries (``\\mathcal{A}_1``, ...), each
    defined (and laid out the same way) right after the equation.
    """

    def __init__(self, printer: AuditPrinter, width: int = ROW_WIDTH):
        self.printer = printer
        self.width = width
        self._printed: dict[sp.Basic, str] = {}
        self._auxiliaries: list[list] = []
        self._named: dict[sp.Expr, sp.Symbol] = {}
        self.definitions: dict[sp.Symbol, sp.Expr] = {}  # auxiliary -> the part it names

    def latex(self, expression: sp.Basic) -> str:
        if expression not in self._printed:
            self._printed[expression] = self.printer.doprint(expression)
        return self._printed[expression]

    def fits(self, expression: sp.Basic) -> bool:
        return visible_width(self.latex(expression)) <= self.width

    def equation(self, lhs: str, *sides: sp.Basic | str) -> list:
        """``lhs = side = side ...`` as blocks: the equation, then its auxiliaries (if any)."""
        self._auxiliaries, self._named, self.definitions = [], {}, {}
        laid_out = tuple((side,) if isinstance(side, str) else self.rows(self.printer.tidy(side)) for side in sides)
        blocks: list = [Equation(lhs, laid_out)]
        if self._auxiliaries:
            blocks.append(Paragraph(("where",)))
            blocks += [Equation(name, (rows,)) for name, rows in self._auxiliaries]
        return blocks

    def rows(self, expression: sp.Basic) -> tuple[str, ...]:
        if self.fits(expression) or not isinstance(expression, sp.Add):
            return (self.latex(self.fit(expression)),)
        rows: list[str] = []
        for term in self.printer._as_ordered_terms(expression, order=None):
            negative = term.could_extract_minus_sign()  # printed as "- x", as SymPy does
            piece = self.latex(self.fit(-term if negative else term))
            sign = "- " if negative else "+ "
            if rows and visible_width(rows[-1] + piece) + 2 <= self.width:
                rows[-1] += f" {sign}{piece}"
            else:
                rows.append(f"{sign}{piece}" if rows or negative else piece)
        return tuple(rows)

    def fit(self, expression: sp.Basic) -> sp.Basic:
        """``expression`` shortened until it fits: first inside its long parts (sums excepted,
        they print over rows), then by naming its widest parts, as few as needed."""
        if self.fits(expression):
            return expression
        arguments = _arguments(expression)
        compound = [index for index, part in enumerate(arguments) if isinstance(part, sp.Expr) and part.args]
        for index in compound:
            if not (self.fits(arguments[index]) or isinstance(arguments[index], sp.Add)):
                arguments[index] = self.fit(arguments[index])
        shortened = _rebuild(expression, arguments)
        for index in sorted(compound, key=lambda k: -visible_width(self.latex(arguments[k]))):
            if self.fits(shortened):
                break
            arguments[index] = self.auxiliary(arguments[index])
            shortened = _rebuild(expression, arguments)
        while isinstance(shortened, sp.Piecewise) and not self.fits(shortened):
            conditions = shortened.args
            shortened = sp.Piecewise(
                *((value, self._shorter(condition)) for value, condition in conditions), evaluate=False
            )
            if shortened.args == conditions:  # no compound side left to name
                break
        return shortened

    def _shorter(self, condition: sp.Basic) -> sp.Basic:
        """``condition`` with its widest compound comparison side named (a Piecewise's values are
        shortened first, its conditions only when the cases still do not fit)."""
        sides = [
            side
            for comparison in condition.atoms(sp.core.relational.Relational)
            for side in comparison.args
            if isinstance(side, sp.Expr) and side.args
        ]
        if not sides:
            return condition
        widest = max(sides, key=lambda side: visible_width(self.latex(side)))
        return condition.xreplace({widest: self.auxiliary(widest)})

    def auxiliary(self, expression: sp.Expr) -> sp.Symbol:
        """A name for ``expression`` (the same one for repeated parts), defined after the equation."""
        if expression in self._named:
            return self._named[expression]
        number = len(self._auxiliaries) + 1
        name = rf"\mathcal{{A}}_{{{number}}}"
        symbol = self._named[expression] = sp.Symbol(f"_audit_auxiliary_{number}")
        self.definitions[symbol] = expression
        self.printer.names[symbol.name] = name
        entry = [name, ()]
        self._auxiliaries.append(entry)  # listed before the auxiliaries its own definition needs
        entry[1] = self.rows(expression)
        return symbol


def _integer_for_integral_float(node: sp.Basic) -> sp.Integer | None:
    return sp.Integer(int(node)) if isinstance(node, sp.Float) and float(node).is_integer() else None


def _arguments(expression: sp.Basic) -> list[sp.Basic]:
    """The arguments that may be shortened (a Piecewise's branch values; its conditions apart, in ``_shorter``)."""
    if isinstance(expression, sp.Piecewise):
        return [value for value, _condition in expression.args]
    return list(expression.args)


def _rebuild(expression: sp.Basic, arguments: list[sp.Basic]) -> sp.Basic:
    # Unevaluated: re-evaluating would flatten or reorder Max/Min/Add and lose the named parts.
    if isinstance(expression, sp.Piecewise):
        return sp.Piecewise(
            *((value, condition) for value, (_old, condition) in zip(arguments, expression.args)), evaluate=False
        )
    try:
        return expression.func(*arguments, evaluate=False)
    except TypeError:  # classes without the option (Sum) do not evaluate anyway
        return expression.func(*arguments)
