"""A design space: axes a compiled evaluator varies, and axes that change what is compiled.

An axis is *symbolic* when the pack can keep its symbol as an evaluator input
(a prompt length, a coefficient: one compiled evaluator covers every value).
Any other axis is *structural*: an input path (``hardware.analog.adc.draft_bits``,
``hardware.soc.schedule``) whose value changes what the pack's reader resolves
(a library component chosen by resolution, a schedule, a ``when`` switch).
Each combination of structural values is one variant: its inputs with those
values set (``--set PATH=VALUE``), compiled once (the evaluator cache keeps it)
and evaluated over the symbolic sub-grid in vectorised chunks.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import SymcostError
from .input_tree import MISSING, InputTree, with_settings
from .registry import PackModel, build_pack_model, variable_names
from .size_limits import MAX_VARIANTS, check_size
from .sweep import CHUNK, Axis, checked_axes, evaluate_blocks


@dataclass(frozen=True)
class DesignSpace:
    pack: str
    tree: InputTree
    symbolic: tuple[Axis, ...]
    structural: tuple[Axis, ...]
    library_path: tuple[str, ...] = ()

    @property
    def axes(self) -> tuple[Axis, ...]:
        """Every axis, structural first: the order of the columns and of the rows."""
        return (*self.structural, *self.symbolic)

    @property
    def size(self) -> int:
        return math.prod(axis.values.size for axis in self.axes)

    def variants(self) -> Iterator[dict[str, object]]:
        """Each combination of structural values ({path: value}), in row-major order."""
        for values in itertools.product(*(axis.values.tolist() for axis in self.structural)):
            yield {axis.name: _scalar(value) for axis, value in zip(self.structural, values)}

    def model(self, variant: dict[str, object]) -> PackModel:
        """The compiled model of one variant, its symbolic axes left variable."""
        tree = with_settings(self.tree, [f"{path}={value}" for path, value in variant.items()])
        return build_pack_model(self.pack, tree, [axis.name for axis in self.symbolic], self.library_path)


def design_space(pack: str, tree: InputTree, axes: Sequence[Axis], library_path: Sequence[str] = ()) -> DesignSpace:
    """The axes split into symbolic and structural ones (by what the pack can keep variable)."""
    from .pack import load_pack
    from .registry import resolve_pack

    spec = load_pack(resolve_pack(pack))
    variable = variable_names(spec)
    words = [axis.name for axis in axes if axis.name in variable and axis.values.dtype.kind == "O"]
    if words:
        raise SymcostError(
            f"axis {words[0]}: expected numbers (words are values of a structural knob, "
            "such as hardware.soc.schedule=serialized,layer-pipelined)"
        )
    structural = tuple(
        Axis(_input_path(tree, axis.name, spec, variable), axis.values) for axis in axes if axis.name not in variable
    )
    check_size(
        "structural variants (one compile each)",
        math.prod(axis.values.size for axis in structural),
        MAX_VARIANTS,
        held_as=None,
        advice="keep the structural axes short and vary the symbolic ones",
    )
    return DesignSpace(
        pack, tree, tuple(axis for axis in axes if axis.name in variable), structural, tuple(library_path)
    )


def _input_path(tree: InputTree, name: str, pack, variable: set[str]) -> str:
    """A structural axis's path in the inputs: as given, or under the one mounted document that has it
    (``analog.adc.draft_bits`` is ``hardware.analog.adc.draft_bits`` with --hardware FILE)."""
    if tree.lookup(name) is not MISSING or name.split(".")[0] in tree.mounts:
        return name
    under = [f"{mount}.{name}" for mount in tree.mounts if tree.lookup(f"{mount}.{name}") is not MISSING]
    if len(under) == 1:
        return under[0]
    if under:
        raise SymcostError(f"axis {name!r} is in {' and '.join(under)}: name one")
    axes = ", ".join(
        spec.name
        for spec in pack.symbols.values()
        if spec.source in ("axis", "stats")
        and spec.table is None
        and (pack.index is None or spec.symbol != pack.index.step)
    )
    close = difflib.get_close_matches(name, sorted(variable | set(tree.leaf_paths())), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise SymcostError(
        f"{name!r} is neither an input ({axes}), a coefficient of pack {pack.name}, "
        f"nor a field of the input files{hint}"
    )


def design_blocks(
    space: DesignSpace,
    columns: Sequence[str],
    chunk: int = CHUNK,
    on_model: Callable[[PackModel], None] | None = None,
    mask_limits: bool = False,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Every design in row-major order (structural axes outermost), ``chunk`` points at a time:
    (designs done so far, {axis or output: values}); ``mask_limits`` as for
    :func:`~symcost.sweep.evaluate_blocks`."""
    done = 0
    for variant in space.variants():
        model = space.model(variant)
        if on_model:
            on_model(model)
        axes = checked_axes(model, space.symbolic)
        for _, block in evaluate_blocks(model, axes, columns, chunk, mask_limits):
            size = len(next(iter(block.values()))) if block else 1
            fixed = {name: np.full(size, value) for name, value in variant.items()}
            done += size
            yield done, {**fixed, **block}


def _scalar(value: object) -> object:
    """An axis value as a --set value: whole numbers without a trailing .0 (library resolutions are integers)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
