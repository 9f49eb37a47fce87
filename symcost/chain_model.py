"""A compiled cost model of a chain pack (no burst structure) bound to its inputs.

:meth:`ChainModel.build` binds the pack's symbols from an input tree, keeps
the axes (and any bound symbol named in ``vary``) as evaluator inputs, folds
every other value into the closed forms and compiles one evaluator. It
offers what the generic verbs need: ``evaluate``, ``closed_form``,
``input_for``, ``unit``, ``defaults`` and the pack's limits, the same
interface as the selfspec :class:`~symcost.packs.selfspec.model.CostModel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .binder import BoundValue, bind_symbols, resolved
from .chain import Chain, build_chain
from .compile import Evaluator
from .errors import SymcostError
from .finite import bound_inputs, checked_evaluation, require_inputs
from .input_tree import InputTree
from .pack import FormulaPack, domain_of
from .units import parse_unit


@dataclass
class ChainModel:
    pack: FormulaPack
    tree: InputTree
    chain: Chain
    bound: dict[sp.Symbol, BoundValue]
    fixed: dict[sp.Symbol, sp.Expr]  # every folded input's exact SI value
    evaluator: Evaluator
    defaults: dict[str, float]  # evaluator inputs with a value from the inputs or a default
    limits: tuple[tuple[str, str], ...] = ()
    not_known: dict[str, tuple[str, ...]] = field(default_factory=dict)  # output -> the unknown inputs it uses

    @classmethod
    def build(cls, pack: FormulaPack, tree: InputTree, vary: Sequence[str] = ()) -> ChainModel:
        chain = build_chain(pack)
        varied = [pack.find_symbol(name) for name in vary]
        inputs = [spec for spec in chain.inputs if spec.source == "axis" or spec in varied]
        bound = bind_symbols(pack, tree)
        missing = [spec.name for spec in chain.inputs if spec not in inputs and spec.symbol not in bound]
        if missing:
            raise SymcostError(f"pack {pack.name}: no value for {', '.join(missing)}")
        values = resolved(pack, {symbol: value.value for symbol, value in bound.items()})
        variable = {spec.symbol for spec in inputs}
        # A default over a varied input (S_d = S_0 + S_p with S_p on an axis) follows it: resolved without it.
        fixed = resolved(pack, {symbol: value.value for symbol, value in bound.items() if symbol not in variable})
        defaults = {
            spec.name: float(values[spec.symbol])
            for spec in inputs
            if spec.symbol in values and values[spec.symbol].is_number
        }
        limits = {
            f"limit.{limit.name}.{part}": chain.resolve(expression)
            for limit in pack.limits
            for part, expression in (("value", limit.expression), ("maximum", limit.maximum))
        }
        evaluator = chain.compile(inputs=[spec.symbol for spec in inputs], fixed=fixed, extra=limits)
        return cls(
            pack,
            tree,
            chain,
            bound,
            fixed,
            evaluator,
            defaults,
            tuple((limit.name, limit.message) for limit in pack.limits),
            _not_known(chain, fixed),
        )

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.chain.output_names

    def unit(self, name: str) -> str:
        return self.chain.units[name]

    def domain(self, name: str) -> str:
        """The domain of the input ``name`` (symbol or binding path)."""
        return domain_of(self.pack.find_symbol(name).symbol)

    def input_for(self, name: str) -> tuple[str, float]:
        """The evaluator input a user-facing name denotes, and the factor from the unit its values are
        given in to SI: the symbol's unit for a symbol name, the field's for a binding path
        (``gpu.mem_bw_gbps`` is in GB/s, as in the input file)."""
        spec = self.pack.find_symbol(name)
        if spec.name not in self.evaluator.input_names:
            raise SymcostError(
                f"{name!r} is fixed in this model; the varied inputs are "
                f"{', '.join(self.evaluator.input_names) or 'none'}"
            )
        return spec.name, parse_unit(self.pack.given_unit(name)).si_factor

    def evaluate(self, **inputs) -> dict[str, np.ndarray]:
        """Every output (SI) at the inputs; a point beyond a limit of the pack is an error."""
        return self.evaluate_within_limits(raise_beyond=True, **inputs)[0]

    def evaluate_within_limits(self, raise_beyond: bool = False, **inputs) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every output, and a mask of the points within the pack's limits."""
        values = {**self.defaults, **inputs}
        require_inputs(self.evaluator.input_names, values)
        return checked_evaluation(
            self.evaluator,
            values,
            self.limits,
            lambda: bound_inputs(self.pack, self.bound),
            mask_limits=not raise_beyond,
            not_known=self.not_known,
        )

    def closed_form(self, name: str, values: Mapping[str, float] = {}) -> sp.Expr:
        """Output ``name`` over the evaluator inputs, those in ``values`` replaced by numbers."""
        expression = self.chain.closed_form(name, self.fixed)
        return expression.xreplace(
            {symbol: sp.Float(values[symbol.name]) for symbol in expression.free_symbols if symbol.name in values}
        )


def _not_known(chain: Chain, fixed: dict[sp.Symbol, sp.Expr]) -> dict[str, tuple[str, ...]]:
    """Outputs that use, directly or through earlier quantities, an input whose value is not known (a
    symbol whose default is ``unknown``), with the paths those inputs are bound to."""
    unknown = {symbol for symbol, value in fixed.items() if value is sp.nan}
    if not unknown:
        return {}
    uses: dict[sp.Symbol, set[sp.Symbol]] = {}
    found: dict[str, tuple[str, ...]] = {}
    named = [(name, None, expression) for name, expression in chain.terms.items()]
    named += [(symbol.name, symbol, expression) for symbol, expression in chain.definitions]
    for name, symbol, expression in named:
        free = expression.free_symbols
        used = (free & unknown).union(*(uses.get(other, set()) for other in free))
        if used:
            found[name] = tuple(
                sorted(" or ".join(chain.pack.symbols[other.name].binding_paths) or other.name for other in used)
            )
            if symbol is not None:
                uses[symbol] = used
    return found
