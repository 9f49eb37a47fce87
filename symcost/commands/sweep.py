"""``symcost sweep``: a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV."""
from __future__ import annotations

import argparse

from .common import add_input_files, build_from_args


def register(commands) -> None:
    parser = commands.add_parser("sweep", help="evaluate a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV")
    add_input_files(parser, required=True)
    parser.add_argument("--axis", action="append", required=True, metavar="NAME=SPEC",
                        help="START:STOP (integers), START:STOP:N, START:STOP:logN or V1,V2,... (repeatable)")
    parser.add_argument("--column", action="append", metavar="OUTPUT", help="output to write (repeatable; default: per-token metrics)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.csv", help="CSV file to write")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..sweep import DEFAULT_COLUMNS, parse_axis, write_sweep

    axes = [parse_axis(text) for text in args.axis]
    points = write_sweep(build_from_args(args), axes, args.output, args.column or DEFAULT_COLUMNS)
    print(f"wrote {points:,} points to {args.output}")
    return 0
