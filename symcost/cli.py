"""The ``symcost`` command line: a thin layer over the library."""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .errors import InputError, SymcostError
from .validate import validate_files

EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        self.exit(EXIT_INPUT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symcost", description="Symbolic cost-model compiler for LLM accelerators.")
    parser.add_argument("--version", action="version", version=f"symcost {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    validate = commands.add_parser("validate", help="check input files and formula packs; report every problem")
    _add_input_files(validate, required=False)
    validate.add_argument("--pack", action="append", default=[], metavar="FILE", help="formula pack (repeatable)")
    validate.set_defaults(run=_run_validate)

    report = commands.add_parser("report", help="evaluate the cost model: per-token metrics, baseline, breakdowns")
    _add_input_files(report, required=True)
    lengths = report.add_mutually_exclusive_group()
    lengths.add_argument("--prompt-lengths", type=_int_list, metavar="L1,L2,...", help="prompt lengths (default 128,512,2048)")
    lengths.add_argument("--prompt-range", type=_int_range, metavar="START:STOP:STEP", help="prompt lengths start..stop-1 by step")
    report.add_argument("-o", "--output", metavar="FILE", help="also write the full report as JSON")
    report.set_defaults(run=_run_report)

    sweep = commands.add_parser("sweep", help="evaluate a grid of inputs (prompt length, K, alpha, kept coefficients) to CSV")
    _add_input_files(sweep, required=True)
    sweep.add_argument("--axis", action="append", required=True, metavar="NAME=SPEC",
                       help="START:STOP (integers), START:STOP:N, START:STOP:logN or V1,V2,... (repeatable)")
    sweep.add_argument("--column", action="append", metavar="OUTPUT", help="output to write (repeatable; default: per-token metrics)")
    sweep.add_argument("-o", "--output", required=True, metavar="FILE.csv", help="CSV file to write")
    sweep.set_defaults(run=_run_sweep)
    return parser


def _run_sweep(args: argparse.Namespace) -> int:
    from .model import build_model
    from .sweep import DEFAULT_COLUMNS, parse_axis, write_sweep

    axes = [parse_axis(text) for text in args.axis]
    model = build_model(args.model, args.hardware, args.stats, library_path=args.library_path)
    points = write_sweep(model, axes, args.output, args.column or DEFAULT_COLUMNS)
    print(f"wrote {points:,} points to {args.output}")
    return 0


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 128,512,2048, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative prompt lengths, got {text!r}")
    return values


def _int_range(text: str) -> list[int]:
    parts = text.split(":")
    try:
        start, stop, step = (int(part) for part in (parts + ["1"])[:3]) if len(parts) in (2, 3) else (None, None, None)
    except ValueError:
        start = None
    if start is None or start < 0 or step <= 0 or stop <= start:
        raise argparse.ArgumentTypeError(f"expected START:STOP[:STEP] with 0 <= START < STOP and STEP > 0, got {text!r}")
    return list(range(start, stop, step))


def _run_report(args: argparse.Namespace) -> int:
    import json

    from .model import build_model
    from .report import build_report, format_table

    model = build_model(args.model, args.hardware, args.stats, library_path=args.library_path)
    report = build_report(model, args.prompt_lengths or args.prompt_range or [128, 512, 2048])
    print(format_table(report))
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.output}")
    return 0


def _add_input_files(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """The three input files every cost-model command takes, and the library search path."""
    parser.add_argument("--model", required=required, help="model file (YAML)")
    parser.add_argument("--hardware", required=required, help="hardware file (YAML)")
    parser.add_argument("--stats", required=required, help="speculation stats file (JSON or YAML)")
    parser.add_argument("--library-path", action="append", default=[], metavar="FILE",
                        help="extra component-library file searched before the packaged one (repeatable; "
                             "also SYMCOST_LIBRARY_PATH)")


def _run_validate(args: argparse.Namespace) -> int:
    if not (args.model or args.hardware or args.stats or args.pack):
        raise InputError([])  # handled below as a usage problem
    result = validate_files(model=args.model, hardware=args.hardware, stats=args.stats,
                            packs=args.pack, library_path=args.library_path)
    for path in result.checked:
        print(f"ok: {path}")
    if not result.ok:
        raise InputError(result.issues)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_INPUT_ERROR
    try:
        return run(args)
    except InputError as error:
        if not error.issues:
            parser.exit(EXIT_INPUT_ERROR, f"symcost {args.command}: error: nothing to do; give at least one file\n")
        for issue in error.issues:
            print(f"error: {issue}", file=sys.stderr)
        return _debug_exit(args)
    except SymcostError as error:
        print(f"error: {error}", file=sys.stderr)
        return _debug_exit(args)
    except Exception as error:  # a bug in symcost, not in the input: say so, on one line
        print(f"internal error: {type(error).__name__}: {error} (a symcost bug; rerun with --debug "
              "for the traceback and report it)", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_INTERNAL_ERROR


def _debug_exit(args: argparse.Namespace) -> int:
    if args.debug:
        traceback.print_exc()
    return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
