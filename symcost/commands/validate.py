"""``symcost validate``: check input files and formula packs, reporting every problem."""
from __future__ import annotations

import argparse

from ..errors import InputError
from .common import add_input_files


def register(commands) -> None:
    parser = commands.add_parser("validate", help="check input files and formula packs; report every problem")
    add_input_files(parser, required=False)
    parser.add_argument("--pack", action="append", default=[], metavar="FILE", help="formula pack (repeatable)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..validate import validate_files

    if not (args.model or args.hardware or args.stats or args.pack):
        raise InputError([])  # the CLI reports this as a usage problem
    result = validate_files(model=args.model, hardware=args.hardware, stats=args.stats,
                            packs=args.pack, library_path=args.library_path)
    for path in result.checked:
        print(f"ok: {path}")
    if not result.ok:
        raise InputError(result.issues)
    return 0
