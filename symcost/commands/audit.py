"""``symcost audit``: the audit document (LaTeX or Markdown) of a cost model, or of a formula pack alone."""

from __future__ import annotations

import argparse
import functools
import hashlib

from ..errors import SymcostError
from .common import add_input_files, build_from_args, build_pack_from_args, emit_audit, uses_pack_inputs

FORMATS = ("latex", "markdown")


def register(commands) -> None:
    parser = commands.add_parser(
        "audit",
        help="write the audit document: every formula, closed form, coefficient "
        "and break-even derivation behind a report (LaTeX or Markdown)",
    )
    add_input_files(parser, required=False, pack_inputs=True)
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from the -o suffix, .tex or .md)")
    parser.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    parser.add_argument("--no-break-even", action="store_true", help="leave out the break-even section (faster)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if uses_pack_inputs(args) and (args.input or args.settings):
        return emit_audit(args, lambda: _pack_model_audit(args))
    inputs = [args.model, args.hardware, args.stats]
    if any(inputs) and not all(inputs):
        raise SymcostError("give --model, --hardware and --stats together (or only --pack to audit a pack alone)")
    if all(inputs):
        options = {"pack": args.pack} if args.pack else {}
        # Compiled on use: by the forked child that solves the break-even while this process lays out
        # the closed forms (symcost.packs.selfspec.audit), and not at all with --no-break-even.
        model = functools.cache(lambda: build_from_args(args, compile_on_use=True, **options))
        return emit_audit(
            args,
            lambda: _selfspec_audit(model(), args),
            lambda chosen, render: model().remember(_audit_name(args, chosen), render),
        )
    if args.pack:
        return emit_audit(args, lambda: _pack_alone_audit(args.pack))
    raise SymcostError("nothing to audit: give --model, --hardware and --stats, or --pack")


def _selfspec_audit(model, args: argparse.Namespace):
    from ..packs.selfspec.audit import model_audit

    return model_audit(model, break_even=not args.no_break_even)


def _pack_alone_audit(pack: str):
    from ..audit import pack_audit

    return pack_audit(_load_pack(pack))


def _audit_name(args: argparse.Namespace, chosen: str) -> str:
    """What a rendered audit is remembered as in the evaluator cache entry (keyed by the documents' contents):
    by format and options, and by the paths it cites, which the entry's key leaves out."""
    cited = hashlib.sha256("\0".join(map(str, (args.model, args.hardware, args.stats))).encode()).hexdigest()[:16]
    return f"audit_{chosen}_{'no_break_even' if args.no_break_even else 'break_even'}_{cited}"


def _load_pack(pack: str):
    from ..pack import load_pack
    from ..registry import resolve_pack

    return load_pack(resolve_pack(pack))


def _pack_model_audit(args: argparse.Namespace):
    from ..audit import chain_model_audit
    from ..packs.selfspec.model import CostModel

    model, tree = build_pack_from_args(args)
    if isinstance(model, CostModel):  # the selfspec pack: its own audit, burst sums and break-even included
        return _selfspec_audit(model, args)
    if hasattr(model, "audit_document"):  # a packaged pack's own audit (SpAtten's expectations, the cascade's stages)
        return model.audit_document()
    return chain_model_audit(model, tree.files)
