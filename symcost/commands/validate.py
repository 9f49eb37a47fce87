"""``symcost validate``: check input files and formula packs, reporting every problem."""

from __future__ import annotations

import argparse
from functools import partial

from ..errors import InputError
from .common import add_input_files


def register(commands) -> None:
    parser = commands.add_parser("validate", help="check input files and formula packs; report every problem")
    add_input_files(parser, required=False)
    parser.add_argument(
        "--pack",
        action="append",
        default=[],
        metavar="PACK",
        help="formula pack, file or packaged name (repeatable); with --input, also checks that the "
        "inputs give every symbol the pack binds",
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="the inputs of the one --pack, as for report",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..pack import load_pack
    from ..packs.selfspec.inputs import read_hardware, read_model, read_stats
    from ..registry import resolve_pack
    from ..validate import validate_all

    if not (args.model or args.hardware or args.stats or args.pack):
        raise InputError([])  # the CLI reports this as a usage problem
    checks = [
        (path, partial(reader, path))
        for path, reader in (
            (args.model, read_model),
            (args.hardware, partial(read_hardware, library_path=args.library_path)),
            (args.stats, read_stats),
        )
        if path
    ]
    checks += [(pack, partial(load_pack, resolve_pack(pack))) for pack in args.pack]
    if args.input:
        checks.append(("inputs of " + " ".join(args.pack), partial(_bind, args)))
    result = validate_all(checks)
    for label in result.checked:
        print(f"ok: {label}")
    if not result.ok:
        raise InputError(result.issues)
    return 0


def _bind(args: argparse.Namespace) -> None:
    from ..errors import SymcostError
    from ..input_tree import read_inputs
    from ..registry import build_pack_model

    if len(args.pack) != 1:
        raise SymcostError("--input needs exactly one --pack")
    build_pack_model(args.pack[0], read_inputs(args.input))
