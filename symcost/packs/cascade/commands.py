"""``symcost cascade report|check|audit FILE``: a speculative cascade's costs, placement, design space,
claims and audit document.

Exit codes: 0 when the placement fits (report) or every claim is consistent
(check), 1 when not, 2 for bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ...commands.common import bounded_int, emit_audit, positive_int
from ...finite import json_text
from ...size_limits import MAX_BURST_LENGTH


def register(commands) -> None:
    parser = commands.add_parser("cascade", help="speculative cascade (seed 003): report, or check a file's claims")
    actions = parser.add_subparsers(dest="cascade_action", metavar="ACTION", required=True)
    report = actions.add_parser(
        "report", help="per-stage costs, placement feasibility, optimal horizons; table and JSON"
    )
    report.add_argument("file", help="cascade file (YAML or JSON, schemas/cascade.schema.json)")
    report.add_argument(
        "--k-max",
        type=bounded_int(1, MAX_BURST_LENGTH),
        default=64,
        metavar="N",
        help=f"largest horizon searched (default 64, at most {MAX_BURST_LENGTH})",
    )
    report.add_argument(
        "--ratio",
        type=positive_int,
        default=4,
        metavar="R",
        help="horizon rule K_0 = R * K_1 to test (default 4, the seed's)",
    )
    report.add_argument("-o", "--output", metavar="FILE", help="also write the report as JSON")
    report.set_defaults(run=run_report)
    check = actions.add_parser(
        "check", help="recompute every claim of the file: consistent or inconsistent, with both numbers"
    )
    check.add_argument("file", help="cascade file with a claims section")
    check.add_argument("-o", "--output", metavar="FILE", help="also write the verdicts as JSON")
    check.set_defaults(run=run_check)
    audit = actions.add_parser(
        "audit",
        help="audit document: the pack's formulas, this cascade's inputs with "
        "provenance, every figure as closed form and value",
    )
    audit.add_argument("file", help="cascade file")
    audit.add_argument("--format", choices=("latex", "markdown"), help="default: from the -o suffix (.tex or .md)")
    audit.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    audit.set_defaults(run=run_audit)


def run_report(args: argparse.Namespace) -> int:
    from .config import read_cascade
    from .model import build_cascade
    from .placement import check_placement
    from .report import build_report, format_report
    from .search import search_horizons

    model = build_cascade(read_cascade(args.file))
    fits, design = check_placement(model), search_horizons(model, args.k_max, args.ratio)
    print(format_report(model, fits, design))
    _write(args.output, build_report(model, fits, design))
    return 0 if all(fit.fits for fit in fits) else 1


def run_check(args: argparse.Namespace) -> int:
    from ...errors import InputError, InputIssue
    from .claims import check_claims
    from .config import read_cascade
    from .model import build_cascade
    from .report import build_check, format_check

    config = read_cascade(args.file)
    if not config.claims:
        raise InputError([InputIssue(config.label, "claims", "no claims to check")])
    model = build_cascade(config)
    results = check_claims(config, model)
    print(format_check(results))
    _write(args.output, build_check(model, results))
    return 0 if all(result.consistent for result in results) else 1


def run_audit(args: argparse.Namespace) -> int:
    from .audit import cascade_audit
    from .config import read_cascade
    from .model import build_cascade
    from .placement import check_placement

    def document():
        model = build_cascade(read_cascade(args.file))
        return cascade_audit(model, check_placement(model))

    return emit_audit(args, document)


def _write(path: str | None, report: dict) -> None:
    if path:
        Path(path).write_text(json_text(report) + "\n", encoding="utf-8")
        print(f"\nwrote {path}")
