"""``symcost sweep``: a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV or Parquet."""
from __future__ import annotations

import argparse
import sys

from .common import add_axes, add_input_files, build_from_args, build_pack_from_args, pack_columns, uses_pack_inputs


def register(commands) -> None:
    parser = commands.add_parser("sweep", help="evaluate a grid of inputs (prompt length, K, alpha, kept coefficients) "
                                               "to CSV or Parquet")
    add_input_files(parser, required=True, pack_inputs=True)
    add_axes(parser, required=True)
    parser.add_argument("--column", action="append", metavar="OUTPUT",
                        help="output to write (repeatable; default: the pack's quantities and reductions; selfspec: "
                             "per-token metrics)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="file to write: Parquet if it ends in .parquet, else CSV")
    parser.add_argument("--format", choices=("csv", "parquet"), help="file format (default: from the suffix of -o)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction,
                        help="points done, rate and time left on stderr (default: only when stderr is a terminal)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..packs.selfspec.outputs import DEFAULT_COLUMNS
    from ..sweep import parse_axis, write_sweep
    from ..tables import format_for, require_pyarrow

    if format_for(args.output, args.format) == "parquet":
        require_pyarrow()  # before the model is built, which takes seconds
    axes = [parse_axis(text) for text in args.axis]
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    if uses_pack_inputs(args):
        model, _tree = build_pack_from_args(args, vary=[axis.name for axis in axes])
        columns = args.column or pack_columns(model)
    else:
        columns = args.column or DEFAULT_COLUMNS
        # Only the requested columns are compiled, and every input that is not an axis is folded in as a number.
        model = build_from_args(args, only=columns, vary=[axis.name for axis in axes])
    points = write_sweep(model, axes, args.output, columns,
                         format=args.format, progress=sys.stderr if show_progress else None)
    print(f"wrote {points:,} points to {args.output}")
    return 0
