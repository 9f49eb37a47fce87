"""``symcost plot``: figures of a report, from a saved JSON report or built from the input files."""
from __future__ import annotations

import argparse
from functools import partial

from .common import add_input_files, add_prompt_lengths, bounded_int, build_from_args, int_list, prompt_lengths

DENSE_POINTS, DENSE_FROM, DENSE_TO = 120, 16, 65_536


def register(commands) -> None:
    parser = commands.add_parser("plot", help="figures: per-token energy and latency against prompt length with the "
                                              "break-even, and where a burst goes (PNG, SVG or PDF)")
    parser.add_argument("--report", metavar="REPORT.json", help="plot a report saved by `symcost report -o` "
                                                                "(instead of --model/--hardware/--stats)")
    add_input_files(parser, required=False)
    add_prompt_lengths(parser, computed_default=f"{DENSE_POINTS} log-spaced from {DENSE_FROM} to the context limit "
                                                f"or {DENSE_TO:,}")
    parser.add_argument("-o", "--output", metavar="FILE", help="per-token figure; the suffix (.png, .svg, .pdf) names the format")
    parser.add_argument("--breakdown", metavar="FILE", help="stacked bars of the burst's energy and latency by stage "
                                                            "and by phase")
    parser.add_argument("--breakdown-lengths", type=int_list, metavar="L1,L2,...",
                        help="prompt lengths of the bars (default: four spread over the curves; from a saved report, "
                             "its nearest points)")
    parser.add_argument("--dpi", type=bounded_int(10, 1200), default=100, help="PNG resolution (default 100; 10..1200)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SymcostError
    from ..plot import breakdown_figure, figure_format, per_token_figure, save_figure

    figures = [(args.output, per_token_figure), (args.breakdown, partial(breakdown_figure, lengths=args.breakdown_lengths))]
    figures = [(path, draw) for path, draw in figures if path]
    if not figures:
        raise SymcostError("nothing to draw: give -o FILE (per-token figure) and/or --breakdown FILE")
    for path, _draw in figures:
        figure_format(path)  # a bad suffix fails before the model is built
    report = _read_report(args) if args.report else _build_report(args)
    for path, draw in figures:
        save_figure(draw(report), path, args.dpi)
        print(f"wrote {path}")
    return 0


def _read_report(args: argparse.Namespace) -> dict:
    from ..documents import load_document
    from ..errors import InputError, SymcostError
    from ..schema_check import schema_issues

    given = [flag for flag in ("model", "hardware", "stats", "prompt_lengths", "prompt_range") if getattr(args, flag)]
    if given:
        raise SymcostError(f"--report plots a saved report; --{given[0].replace('_', '-')} does not apply to it")
    document = load_document(args.report)
    issues = schema_issues(document.data, "report", document.label)
    if issues:
        raise InputError(issues)
    return document.data


def _build_report(args: argparse.Namespace) -> dict:
    from ..errors import SymcostError
    from ..report import build_report

    missing = [f"--{flag}" for flag in ("model", "hardware", "stats") if not getattr(args, flag)]
    if missing:
        raise SymcostError(f"give --report FILE, or --model, --hardware and --stats (missing {', '.join(missing)})")
    model = build_from_args(args)
    lengths = prompt_lengths(args) or _dense_lengths(model)
    return build_report(model, sorted(set(lengths) | set(args.breakdown_lengths or ())))


def _dense_lengths(model) -> list[int]:
    """Log-spaced prompt lengths up to the largest the model accepts (its context limit)."""
    from ..breakeven import prompt_domain
    from .common import log_range

    upper = min(prompt_domain(model)[1], DENSE_TO)
    if upper <= DENSE_FROM:
        return list(range(1, upper + 1))
    return log_range(f"{DENSE_FROM}:{upper}:log{DENSE_POINTS}")
