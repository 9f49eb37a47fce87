"""``symcost report``: per-token metrics, baseline, breakdowns; a table, and JSON with ``-o``."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..finite import json_text
from .common import add_input_files, add_prompt_lengths, build_from_args, prompt_lengths, write_json_output


def register(commands) -> None:
    parser = commands.add_parser("report", help="evaluate the cost model: per-token metrics, baseline, breakdowns")
    add_input_files(parser, required=True)
    add_prompt_lengths(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="also write the full report as JSON")
    parser.add_argument("--compat", choices=["selfspec"],
                        help="write the JSON in the reference calculator's layout (ppa-calculator: pJ/ns keys); "
                             "without -o it goes to stdout instead of the table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.compat:
        return _run_selfspec(args)
    from ..report import build_report, format_table

    # Only L_prompt varies in a report: K is folded in before accounting, so step sums are the few steps they are.
    report = build_report(build_from_args(args, vary=["L_prompt"]), prompt_lengths(args))
    print(format_table(report))
    if args.output:
        Path(args.output).write_text(json_text(report) + "\n", encoding="utf-8")
        print(f"\nwrote {args.output}")
    return 0


def _run_selfspec(args: argparse.Namespace) -> int:
    """The reference's layout to the file, with the usual table; without a file, the JSON alone (as ppa-calculator)."""
    from ..compat.layout import selfspec_report
    from ..report import build_report, format_table

    model, lengths = build_from_args(args), prompt_lengths(args)
    if args.output:
        print(format_table(build_report(model, lengths)) + "\n")
    paths = {"model": args.model, "hardware": args.hardware, "stats": args.stats}
    write_json_output(selfspec_report(model, lengths, paths), args.output)
    return 0
