"""``symcost audit``: the audit document (LaTeX or Markdown) of a cost model, or of a formula pack alone."""
from __future__ import annotations

import argparse

from ..errors import SymcostError
from .common import add_input_files, build_from_args, build_pack_from_args, emit_audit, uses_pack_inputs

FORMATS = ("latex", "markdown")


def register(commands) -> None:
    parser = commands.add_parser("audit", help="write the audit document: every formula, closed form, coefficient "
                                               "and break-even derivation behind a report (LaTeX or Markdown)")
    add_input_files(parser, required=False, pack_inputs=True)
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from the -o suffix, .tex or .md)")
    parser.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    parser.add_argument("--no-break-even", action="store_true", help="leave out the break-even section (faster)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..audit import pack_audit
    from ..packs.selfspec.audit import model_audit

    if uses_pack_inputs(args) and (args.input or args.settings):
        return emit_audit(args, lambda: _pack_model_audit(args))
    inputs = [args.model, args.hardware, args.stats]
    if any(inputs) and not all(inputs):
        raise SymcostError("give --model, --hardware and --stats together (or only --pack to audit a pack alone)")
    if all(inputs):
        options = {"pack": args.pack} if args.pack else {}
        return emit_audit(args, lambda: model_audit(build_from_args(args, **options), break_even=not args.no_break_even))
    if args.pack:
        return emit_audit(args, lambda: pack_audit(_load_pack(args.pack)))
    raise SymcostError("nothing to audit: give --model, --hardware and --stats, or --pack")


def _load_pack(pack: str):
    from ..registry import resolve_pack
    from ..pack import load_pack

    return load_pack(resolve_pack(pack))


def _pack_model_audit(args: argparse.Namespace):
    from ..audit import chain_model_audit
    from ..packs.selfspec.audit import model_audit
    from ..packs.selfspec.model import CostModel

    model, tree = build_pack_from_args(args)
    if isinstance(model, CostModel):  # the selfspec pack: its own audit, burst sums and break-even included
        return model_audit(model, break_even=not args.no_break_even)
    if hasattr(model, "audit_document"):  # a packaged pack's own audit (SpAtten's expectations, the cascade's stages)
        return model.audit_document()
    return chain_model_audit(model, tree.files)
