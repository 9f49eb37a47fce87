"""``symcost sweep``: a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV or Parquet."""

from __future__ import annotations

import argparse
import sys

from .common import add_axes, add_cluster, add_input_files, build_from_args, build_pack_from_args, uses_pack_inputs


def register(commands) -> None:
    parser = commands.add_parser(
        "sweep", help="evaluate a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV or Parquet"
    )
    add_input_files(parser, required=True, pack_inputs=True)
    add_axes(parser, required=True)
    add_cluster(parser)
    parser.add_argument(
        "--column",
        action="append",
        metavar="OUTPUT",
        help="output to write (repeatable; default: the pack's quantities and reductions; selfspec: per-token metrics)",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="file to write: Parquet if it ends in .parquet, else CSV"
    )
    parser.add_argument("--format", choices=("csv", "parquet"), help="file format (default: from the suffix of -o)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="points done, rate and time left on stderr (default: only when stderr is a terminal)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..design_space import design_space
    from ..input_tree import read_inputs, with_settings
    from ..packs.selfspec.outputs import DEFAULT_COLUMNS
    from ..sweep import check_grid, parse_axis, write_sweep
    from ..tables import format_for, require_pyarrow
    from .common import ROLES

    if format_for(args.output, args.format) == "parquet":
        require_pyarrow()  # before the model is built, which takes seconds
    axes = [parse_axis(text) for text in args.axis]
    progress = sys.stderr if (sys.stderr.isatty() if args.progress is None else args.progress) else None
    mounted = [(role, getattr(args, role)) for role in ROLES if getattr(args, role)]
    space = design_space(
        args.pack or "selfspec", with_settings(read_inputs(args.input, mounted), args.settings), axes, args.library_path
    )
    check_grid(space.size, len(axes) + len(args.column or ()))  # structural and cluster sweeps too
    if args.cluster:
        points = _cluster_sweep(args, space, progress)
    elif space.structural:
        points = _structural_sweep(args, space, progress)
    elif uses_pack_inputs(args):
        model, _tree = build_pack_from_args(args, vary=[axis.name for axis in axes])
        points = write_sweep(
            model,
            axes,
            args.output,
            args.column or _default_columns(space, model),
            format=args.format,
            progress=progress,
        )
    else:
        columns = args.column or list(DEFAULT_COLUMNS)
        # Only the requested columns are compiled, and every input that is not an axis is folded in as a number.
        model = build_from_args(args, only=columns, vary=[axis.name for axis in axes])
        points = write_sweep(model, axes, args.output, columns, format=args.format, progress=progress)
    print(f"wrote {points:,} points to {args.output}")
    return 0


def _structural_sweep(args: argparse.Namespace, space, progress) -> int:
    """A sweep with axes that change what is compiled: one compiled variant per structural combination."""
    from ..design_space import design_blocks
    from ..sweep import is_integer, write_blocks

    first = space.model(next(space.variants()))
    columns = args.column or _default_columns(space, first)
    integers = _integer_columns(space, [axis.name for axis in space.symbolic if is_integer(first, axis.name)])
    return write_blocks(
        args.output,
        [axis.name for axis in space.axes] + list(columns),
        design_blocks(space, columns),
        space.size,
        integers=integers,
        texts=_text_columns(space),
        format=args.format,
        progress=progress,
    )


def _cluster_sweep(args: argparse.Namespace, space, progress) -> int:
    """The sweep on Dask: variants compiled on the workers, ranges of points evaluated there, written in order
    (CSV), or each range as one part of a Parquet dataset (a folder)."""
    from ..distributed import cluster_client, compile_variants, sweep_blocks
    from ..sweep import is_integer, write_blocks
    from ..tables import format_for

    columns = args.column or _default_columns(space)
    names = [axis.name for axis in space.axes] + list(columns)
    with cluster_client(args.cluster) as client:
        shipped = compile_variants(client, space, columns)
        integers = _integer_columns(space, sorted(name for name in shipped[0].domains if is_integer(shipped[0], name)))
        tasks = sweep_blocks(client, space, shipped, columns, progress, args.task_points)
        if format_for(args.output, args.format) == "parquet":
            return _parquet_parts(args.output, names, tasks, integers, _text_columns(space))
        blocks = ((done, block) for done, task in tasks for block in task)
        return write_blocks(
            args.output, names, blocks, space.size, integers=integers, texts=_text_columns(space), format=args.format
        )


def _parquet_parts(folder: str, names, tasks, integers, texts) -> int:
    """Each task's blocks as one Parquet file of a dataset folder (part-000000.parquet, ...)."""
    from pathlib import Path

    from ..sweep import write_blocks

    Path(folder).mkdir(parents=True, exist_ok=True)
    done = 0
    for part, (done, blocks) in enumerate(tasks):
        write_blocks(
            Path(folder) / f"part-{part:06d}.parquet",
            names,
            ((0, block) for block in blocks),
            done,
            integers=integers,
            texts=texts,
            format="parquet",
        )
    return done


def _integer_columns(space, symbolic: list[str]) -> list[str]:
    whole = [
        axis.name
        for axis in space.structural
        if axis.values.dtype.kind == "f" and all(float(value).is_integer() for value in axis.values)
    ]
    return whole + symbolic


def _text_columns(space) -> list[str]:
    return [axis.name for axis in space.structural if axis.values.dtype.kind == "O"]


def _default_columns(space, model=None) -> list[str]:
    """The selfspec pack's per-token metrics; another pack's quantities and reductions (those a built model
    offers, else every output it has: the cascade's per-stage figures)."""
    from ..pack import load_pack
    from ..packs.selfspec.outputs import DEFAULT_COLUMNS
    from ..registry import resolve_pack
    from .common import pack_columns

    pack = load_pack(resolve_pack(space.pack))
    if pack.name == "selfspec":
        return list(DEFAULT_COLUMNS)
    if model is not None:
        return pack_columns(model)
    return list(dict.fromkeys([quantity.name for quantity in pack.quantities] + [r.name for r in pack.reductions]))
