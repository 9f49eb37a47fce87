"""``symcost report``: per-token metrics, baseline, breakdowns; a table, and JSON with ``-o``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..finite import json_text
from .common import (
    add_axes,
    add_input_files,
    add_prompt_lengths,
    build_from_args,
    build_pack_from_args,
    pack_columns,
    prompt_lengths,
    uses_pack_inputs,
    write_json_output,
)


def register(commands) -> None:
    parser = commands.add_parser(
        "report",
        help="evaluate a cost model: every term and quantity of a pack over its "
        "axes (selfspec: per-token metrics, baseline, breakdowns)",
    )
    add_input_files(parser, required=True, pack_inputs=True)
    add_prompt_lengths(parser)
    add_axes(parser, required=False)
    parser.add_argument("-o", "--output", metavar="FILE", help="also write the full report as JSON")
    parser.add_argument(
        "--compat",
        choices=["selfspec"],
        help="write the JSON in the reference calculator's layout (ppa-calculator: pJ/ns keys); "
        "without -o it goes to stdout instead of the table",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if uses_pack_inputs(args):
        return _run_pack(args)
    if args.compat:
        return _run_selfspec(args)
    from ..packs.selfspec.report import build_report, format_table

    # Only L_prompt varies in a report: K is folded in before accounting, so step sums are the few steps they are.
    report = build_report(build_from_args(args, vary=["L_prompt"]), prompt_lengths(args))
    print(format_table(report))
    if args.output:
        Path(args.output).write_text(json_text(report) + "\n", encoding="utf-8")
        print(f"\nwrote {args.output}")
    return 0


def _run_selfspec(args: argparse.Namespace) -> int:
    """The reference's layout to the file, with the usual table; without a file, the JSON alone (as ppa-calculator)."""
    from ..packs.selfspec.compat.layout import selfspec_report
    from ..packs.selfspec.report import build_report, format_table

    model, lengths = build_from_args(args), prompt_lengths(args)
    if args.output:
        print(format_table(build_report(model, lengths)) + "\n")
    paths = {"model": args.model, "hardware": args.hardware, "stats": args.stats}
    write_json_output(selfspec_report(model, lengths, paths), args.output)
    return 0


def _run_pack(args: argparse.Namespace) -> int:
    """Any pack through the pack protocol: the quantities as a table, every output as JSON with ``-o``."""
    from ..pack_report import format_pack_table, pack_report
    from ..sweep import parse_axis

    axes = [parse_axis(text) for text in args.axis]
    model, tree = build_pack_from_args(args, vary=[axis.name for axis in axes])
    report = pack_report(model, tree, axes)
    print(format_pack_table(report, pack_columns(model)))
    if args.output:
        write_json_output(report, args.output, note=sys.stdout)
    return 0
