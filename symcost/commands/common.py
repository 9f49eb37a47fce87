"""Argument helpers shared by the subcommands."""
from __future__ import annotations

import argparse


def add_input_files(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """The three input files every cost-model command takes, and the library search path."""
    parser.add_argument("--model", required=required, help="model file (YAML)")
    parser.add_argument("--hardware", required=required, help="hardware file (YAML)")
    parser.add_argument("--stats", required=required, help="speculation stats file (JSON or YAML)")
    parser.add_argument("--library-path", action="append", default=[], metavar="FILE",
                        help="extra component-library file searched before the packaged one (repeatable; "
                             "also SYMCOST_LIBRARY_PATH)")


def build_from_args(args: argparse.Namespace, **options):
    """The cost model named by the input-file options (``options`` go to ``build_model``)."""
    from ..model import build_model

    return build_model(args.model, args.hardware, args.stats, library_path=args.library_path, **options)


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 128,512,2048, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative prompt lengths, got {text!r}")
    return values


def int_range(text: str) -> list[int]:
    parts = text.split(":")
    try:
        start, stop, step = (int(part) for part in (parts + ["1"])[:3]) if len(parts) in (2, 3) else (None, None, None)
    except ValueError:
        start = None
    if start is None or start < 0 or step <= 0 or stop <= start:
        raise argparse.ArgumentTypeError(f"expected START:STOP[:STEP] with 0 <= START < STOP and STEP > 0, got {text!r}")
    return list(range(start, stop, step))


def add_prompt_lengths(parser: argparse.ArgumentParser, default: str = "128,512,2048") -> None:
    lengths = parser.add_mutually_exclusive_group()
    lengths.add_argument("--prompt-lengths", type=int_list, metavar="L1,L2,...", help=f"prompt lengths (default {default})")
    lengths.add_argument("--prompt-range", type=int_range, metavar="START:STOP:STEP", help="prompt lengths start..stop-1 by step")
    parser.set_defaults(default_prompt_lengths=int_list(default))


def prompt_lengths(args: argparse.Namespace) -> list[int]:
    return args.prompt_lengths or args.prompt_range or args.default_prompt_lengths
