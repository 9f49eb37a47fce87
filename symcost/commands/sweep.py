"""``symcost sweep``: a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV or Parquet."""
from __future__ import annotations

import argparse
import sys

from .common import add_axes, add_input_files, build_from_args, build_pack_from_args, uses_pack_inputs


def register(commands) -> None:
    parser = commands.add_parser("sweep", help="evaluate a grid of inputs (prompt length, K, alpha, kept coefficients) "
                                               "to CSV or Parquet")
    add_input_files(parser, required=True, pack_inputs=True)
    add_axes(parser, required=True)
    parser.add_argument("--column", action="append", metavar="OUTPUT",
                        help="output to write (repeatable; default: the pack's quantities; selfspec: per-token metrics)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="file to write: Parquet if it ends in .parquet, else CSV")
    parser.add_argument("--format", choices=("csv", "parquet"), help="file format (default: from the suffix of -o)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction,
                        help="points done, rate and time left on stderr (default: only when stderr is a terminal)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..design_space import design_space
    from ..input_tree import read_inputs, with_settings
    from ..sweep import parse_axis, write_sweep
    from ..tables import format_for, require_pyarrow
    from .common import ROLES

    if format_for(args.output, args.format) == "parquet":
        require_pyarrow()  # before the model is built, which takes seconds
    axes = [parse_axis(text) for text in args.axis]
    progress = sys.stderr if (sys.stderr.isatty() if args.progress is None else args.progress) else None
    mounted = [(role, getattr(args, role)) for role in ROLES if getattr(args, role)]
    space = design_space(args.pack or "selfspec", with_settings(read_inputs(args.input, mounted), args.settings),
                         axes, args.library_path)
    if space.structural:
        points = _structural_sweep(args, space, progress)
    elif uses_pack_inputs(args):
        model, _tree = build_pack_from_args(args, vary=[axis.name for axis in axes])
        points = write_sweep(model, axes, args.output, args.column or _default_columns(model.pack),
                             format=args.format, progress=progress)
    else:
        columns = args.column or _default_columns(None)
        # Only the requested columns are compiled, and every input that is not an axis is folded in as a number.
        model = build_from_args(args, only=columns, vary=[axis.name for axis in axes])
        points = write_sweep(model, axes, args.output, columns, format=args.format, progress=progress)
    print(f"wrote {points:,} points to {args.output}")
    return 0


def _structural_sweep(args: argparse.Namespace, space, progress) -> int:
    """A sweep with axes that change what is compiled: one compiled variant per structural combination."""
    from ..design_space import design_blocks
    from ..sweep import write_blocks

    from ..pack import load_pack
    from ..registry import resolve_pack

    first = space.model(next(space.variants()))
    pack = load_pack(resolve_pack(space.pack))
    columns = args.column or _default_columns(pack if pack.name != "selfspec" else None)
    blocks = design_blocks(space, columns)
    kinds = {axis.name: axis.values.dtype.kind for axis in space.structural}
    integers = [axis.name for axis in space.symbolic if first.is_integer(axis.name)]
    integers += [name for name, kind in kinds.items() if kind == "f" and all(float(v).is_integer()
                 for v in next(axis for axis in space.structural if axis.name == name).values)]
    texts = [name for name, kind in kinds.items() if kind == "O"]
    return write_blocks(args.output, [axis.name for axis in space.axes] + list(columns), blocks, space.size,
                        integers=integers, texts=texts, format=args.format, progress=progress)


def _default_columns(pack) -> list[str]:
    """The pack's quantities; the selfspec pack's per-token metrics (pack None)."""
    from ..packs.selfspec.outputs import DEFAULT_COLUMNS

    if pack is None:
        return list(DEFAULT_COLUMNS)
    return list(dict.fromkeys(quantity.name for quantity in pack.quantities))
