"""Accounting: from a pack and bound inputs to closed-form burst totals.

For every term and every phase it applies to, the term is summed over the
layer groups (layer scope: count x per-layer value with the group's policy)
and then over the phase's steps in closed form (:mod:`symcost.sums`). The
result is a table of :class:`TermTotal` (one closed form per term and phase, with
the term's tags), which breakdowns query by stage, component, feature or
channel. The pack's quantities (burst latency per schedule, per-token
metrics) are then built from engine aggregates over that table.

Symbols whose source is ``axis`` or ``stats`` (prompt length, K, E[a+1], ...)
stay symbolic; every other bound symbol is replaced by its value (SI) unless
listed in ``keep``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp

from .aggregates import AGGREGATE_QUANTITIES, aggregate_name, at_step, layer_max, sum_steps
from .binder import Bindings
from .errors import SymcostError
from .pack import FormulaPack, QuantitySpec, TermSpec
from .sums import closed_sum

VIEWS = ("stage", "component", "feature", "channel")


_UNROLLED_STEPS = 256  # more steps than this are summed in closed form even when K is a number


class AccountingError(SymcostError):
    """The pack and inputs do not form a consistent accounting."""


@dataclass(frozen=True)
class TermTotal:
    """One term's closed-form total over one phase of a burst (static terms: phase is the label)."""

    term: TermSpec
    phase: str
    expression: sp.Expr

    def tag(self, view: str) -> str | None:
        return getattr(self.term, view)


@dataclass(frozen=True)
class Accounting:
    pack: FormulaPack
    bindings: Bindings
    entries: tuple[TermTotal, ...]
    quantities: dict[str, sp.Expr]
    free_symbols: tuple[sp.Symbol, ...]
    quantity_symbols: dict[str, sp.Symbol]
    limits: tuple[tuple[str, sp.Expr, sp.Expr, str], ...] = ()

    def definitions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        """The quantities in order, each referring to earlier ones by symbol (a chain to evaluate in order).
        Per-step quantities (functions of the step index) are inlined where used and left out."""
        step = self.pack.index.step
        return [
            (self.quantity_symbols[name], expression)
            for name, expression in self.quantities.items()
            if not expression.has(step)
        ]

    def select(self, *, quantity: str, phase: str | None = None, view: str | None = None) -> list[TermTotal]:
        return [
            entry
            for entry in self.entries
            if entry.term.quantity == quantity
            and (phase is None or entry.phase == phase)
            and (view is None or entry.tag(view) is not None)
        ]

    def total(self, quantity: str, phase: str | None = None) -> sp.Expr:
        """Burst total: the stage view, which partitions every charge exactly once."""
        return sp.Add(*(entry.expression for entry in self.select(quantity=quantity, phase=phase, view="stage")))

    def terms_by_status(self) -> dict[str, list[TermSpec]]:
        """The accounted terms grouped by status (modeled, proxy, out_of_scope), each once."""
        grouped: dict[str, dict[str, TermSpec]] = {"modeled": {}, "proxy": {}, "out_of_scope": {}}
        for entry in self.entries:
            grouped[entry.term.status][entry.term.name] = entry.term
        return {status: list(terms.values()) for status, terms in grouped.items()}

    def breakdown(self, view: str, quantity: str, phase: str | None = None) -> dict[str, sp.Expr]:
        """Totals grouped by a tag. Channels split the stage view (component-only
        terms attribute busy time to components and are not part of any total)."""
        grouped: dict[str, sp.Expr] = defaultdict(lambda: sp.Integer(0))
        for entry in self.select(quantity=quantity, phase=phase, view=view):
            if view == "channel" and entry.term.stage is None:
                continue
            grouped[entry.tag(view)] += entry.expression
        return dict(grouped)


def account(
    pack: FormulaPack, bindings: Bindings, keep: Iterable[sp.Symbol] = (), fixed: Iterable[sp.Symbol] = ()
) -> Accounting:
    if pack.index is None:
        raise AccountingError(f"pack {pack.name} has no index section: it defines no burst structure")
    return _Accountant(pack, bindings, frozenset(keep), frozenset(fixed)).run()


class _Accountant:
    def __init__(
        self,
        pack: FormulaPack,
        bindings: Bindings,
        keep: frozenset[sp.Symbol],
        fixed: frozenset[sp.Symbol] = frozenset(),
    ):
        self.pack = pack
        self.bindings = bindings
        self.index = pack.index
        symbolic = {spec.symbol for spec in pack.symbols.values() if spec.source in ("axis", "stats")} - fixed
        base = bindings.substitutions(keep | symbolic)
        # Resolve derived symbols once, in declaration order, on numbers where possible;
        # per layer group as well, so per-layer expressions fold to numbers early.
        self.resolved = pack.resolve_derived(base)
        self.resolved_groups = [pack.resolve_derived({**base, **group.values}) for group in bindings.groups]
        self.step = self.index.step
        # A term's per-step and per-layer values are the same in every phase it applies to; each is wanted
        # for the phase total and again for the step and layer aggregates (keyed by the term's identity).
        self._per_group: dict[int, list[sp.Expr]] = {}
        self._per_step: dict[int, sp.Expr] = {}

    def value(self, expression: sp.Expr, group: int | None = None) -> sp.Expr:
        """Derived symbols expanded and bound values substituted (for one layer group if given)."""
        return expression.xreplace(self.resolved if group is None else self.resolved_groups[group])

    def active(self, condition: sp.Expr | None, where: str) -> bool:
        if condition is None:
            return True
        value = sp.simplify(self.value(condition))
        if not value.is_number:
            raise AccountingError(f"{where}: 'when' must depend only on structural inputs, got {value}")
        return value != 0

    def bounds(self, phase: str) -> tuple[sp.Expr, sp.Expr]:
        lo, hi = self.index.phases[phase]
        return self.value(lo), self.value(hi)

    def per_group(self, term: TermSpec) -> list[sp.Expr]:
        """A layer-scope term's per-layer value in each layer group."""
        if id(term) not in self._per_group:
            groups = range(len(self.bindings.groups))
            self._per_group[id(term)] = [self.value(term.expression, index) for index in groups]
        return self._per_group[id(term)]

    def per_step(self, term: TermSpec) -> sp.Expr:
        """The term's value for one step (all layers), before summing over steps."""
        if id(term) not in self._per_step:
            if term.scope == "layer":
                groups = zip(self.bindings.groups, self.per_group(term))
                self._per_step[id(term)] = sp.Add(*(group.count * value for group, value in groups))
            else:
                self._per_step[id(term)] = self.value(term.expression)
        return self._per_step[id(term)]

    def run(self) -> Accounting:
        entries: list[TermTotal] = []
        step_values: dict[tuple[str, str], sp.Expr] = defaultdict(lambda: sp.Integer(0))
        layer_values: dict[tuple[str, str], list[sp.Expr]] = defaultdict(
            lambda: [sp.Integer(0)] * len(self.bindings.groups)
        )
        for term in self.pack.terms:
            if not self.active(term.when, f"term {term.name}"):
                continue
            for phase in term.phases:
                entries.append(TermTotal(term, phase, self.phase_total(term, phase)))
                if term.stage is not None and term.scope in ("layer", "step") and term.quantity in AGGREGATE_QUANTITIES:
                    step_values[(term.quantity, phase)] += self.per_step(term)
                    if term.scope == "layer":
                        key = (term.quantity, phase)
                        layer_values[key] = [old + new for old, new in zip(layer_values[key], self.per_group(term))]
        self.layer_values = {
            self.pack.aggregates[aggregate_name("layer", quantity, phase)]: values
            for (quantity, phase), values in layer_values.items()
        }
        aggregates = self.aggregates(entries, step_values)
        quantities, symbols = self.quantities(aggregates)
        free = set().union(
            *(entry.expression.free_symbols for entry in entries), *(q.free_symbols for q in quantities.values())
        )
        free -= set(symbols.values())
        limits = tuple(
            (limit.name, self.value(limit.expression), self.value(limit.maximum), limit.message)
            for limit in self.pack.limits
            if self.active(limit.when, f"limit {limit.name}")
        )
        return Accounting(
            self.pack, self.bindings, tuple(entries), quantities, tuple(sorted(free, key=str)), symbols, limits
        )

    def phase_total(self, term: TermSpec, phase: str) -> sp.Expr:
        if term.scope == "static":
            return self.value(term.expression)
        lo, hi = self.bounds(phase)
        if term.scope == "phase":
            return self.engine_functions(self.value(term.expression), default_range=(lo, hi))
        return self.sum_over_steps(self.per_step(term), lo, hi)

    def aggregates(self, entries: list[TermTotal], step_values) -> dict[sp.Symbol, sp.Expr]:
        result = {}
        for phase in self.index.phases:
            for quantity in AGGREGATE_QUANTITIES:
                total = sp.Add(
                    *(
                        e.expression
                        for e in entries
                        if e.phase == phase and e.term.quantity == quantity and e.term.stage is not None
                    )
                )
                result[self.pack.aggregates[aggregate_name("total", quantity, phase)]] = total
                result[self.pack.aggregates[aggregate_name("step", quantity, phase)]] = step_values[(quantity, phase)]
        return result

    def quantities(self, aggregates: dict[sp.Symbol, sp.Expr]) -> tuple[dict[str, sp.Expr], dict[str, sp.Symbol]]:
        """Each active quantity's expression. Earlier quantities stay referenced by symbol
        (substituting them would make SymPy re-examine large expressions in every
        comparison) except per-step ones, which must sit inside sum_steps / at_step."""
        per_step: dict[sp.Symbol, sp.Expr] = {}
        results: dict[str, sp.Expr] = {}
        symbols: dict[str, sp.Symbol] = {}
        for quantity in self.pack.quantities:
            if not self.active(quantity.when, f"quantity {quantity.name}"):
                continue
            if quantity.name in results:
                raise AccountingError(f"quantity {quantity.name}: more than one alternative applies")
            expression = self.quantity(quantity, aggregates, per_step)
            if expression.has(self.step):
                per_step[quantity.symbol] = expression
            results[quantity.name], symbols[quantity.name] = expression, quantity.symbol
        return results, symbols

    def quantity(self, quantity: QuantitySpec, aggregates, per_step) -> sp.Expr:
        expression = self.expand_layer_max(quantity.expression.xreplace(aggregates).xreplace(per_step))
        return self.engine_functions(self.value(expression), default_range=None)

    def expand_layer_max(self, expression: sp.Expr) -> sp.Expr:
        """layer_max(x): x evaluated for every layer group (per-layer aggregates included), then the maximum."""
        groups = range(len(self.bindings.groups))

        def expand(node: sp.Basic) -> sp.Basic:
            if isinstance(node, layer_max):
                per_group = []
                for index in groups:
                    aggregates = {symbol: values[index] for symbol, values in self.layer_values.items()}
                    per_group.append(self.value(node.args[0].xreplace(aggregates), index))
                return sp.Max(*per_group)
            return node

        return _rebuild_bottom_up(expression, expand)

    def sum_over_steps(self, summand: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
        """Sum over steps lo..hi-1: term by term when the bounds are numbers (K fixed: a few
        steps, each a plain expression), else in closed form for symbolic bounds."""
        if lo.is_Integer and hi.is_Integer and 0 <= hi - lo <= _UNROLLED_STEPS:
            return sp.Add(*(summand.xreplace({self.step: sp.Integer(step)}) for step in range(int(lo), int(hi))))
        return closed_sum(summand, self.step, lo, hi)

    def engine_functions(self, expression: sp.Expr, default_range) -> sp.Expr:
        def expand(node: sp.Basic) -> sp.Basic:
            if isinstance(node, at_step):
                return node.args[0].subs(self.step, node.args[1])
            if isinstance(node, sum_steps):
                if len(node.args) == 3:
                    return self.sum_over_steps(node.args[0], node.args[1], node.args[2])
                if default_range is None:
                    raise AccountingError(f"sum_steps({node.args[0]}) needs explicit bounds outside a phase term")
                return self.sum_over_steps(node.args[0], *default_range)
            if isinstance(node, layer_max):
                raise AccountingError("layer_max() is only available in quantities")
            return node

        return _rebuild_bottom_up(expression, expand)


def _rebuild_bottom_up(expression: sp.Basic, transform) -> sp.Basic:
    if not expression.args:
        return transform(expression)
    arguments = [_rebuild_bottom_up(argument, transform) for argument in expression.args]
    rebuilt = expression.func(*arguments) if arguments != list(expression.args) else expression
    return transform(rebuilt)
