"""``symcost plot``: figures of a report, from a saved JSON report or built from the input files."""

from __future__ import annotations

import argparse
from functools import partial
from typing import TYPE_CHECKING

from .common import (
    add_axes,
    add_input_files,
    add_prompt_lengths,
    bounded_int,
    build_pack_from_args,
    int_list,
    planned_build,
    prompt_lengths,
    uses_pack_inputs,
)

if TYPE_CHECKING:
    from ..packs.selfspec.model import Build

DENSE_POINTS, DENSE_FROM, DENSE_TO = 120, 16, 65_536


def register(commands) -> None:
    parser = commands.add_parser(
        "plot",
        help="figures: per-token energy and latency against prompt length with the "
        "break-even, and where a burst goes (PNG, SVG or PDF)",
    )
    parser.add_argument(
        "--report",
        metavar="REPORT.json",
        help="plot a report saved by `symcost report -o` (instead of --model/--hardware/--stats)",
    )
    add_input_files(parser, required=False, pack_inputs=True)
    add_axes(parser, required=False)
    parser.add_argument(
        "--y",
        action="append",
        default=[],
        metavar="OUTPUT",
        help="any pack: an output (term or quantity) to draw against the one --axis (repeatable; with "
        "two, their crossings are solved and marked)",
    )
    add_prompt_lengths(
        parser, computed_default=f"{DENSE_POINTS} log-spaced from {DENSE_FROM} to the context limit or {DENSE_TO:,}"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="per-token figure; the suffix (.png, .svg, .pdf) names the format"
    )
    parser.add_argument(
        "--breakdown", metavar="FILE", help="stacked bars of the burst's energy and latency by stage and by phase"
    )
    parser.add_argument(
        "--breakdown-lengths",
        type=int_list,
        metavar="L1,L2,...",
        help="prompt lengths of the bars (default: four spread over the curves; from a saved report, "
        "its nearest points)",
    )
    parser.add_argument("--dpi", type=bounded_int(10, 1200), default=100, help="PNG resolution (default 100; 10..1200)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SymcostError
    from ..figure_files import figure_format, write_figure

    if args.y or uses_pack_inputs(args):
        return _run_pack(args)

    figures = [(args.output, "per_token", None), (args.breakdown, "breakdown", args.breakdown_lengths)]
    figures = [figure for figure in figures if figure[0]]
    if not figures:
        raise SymcostError("nothing to draw: give -o FILE (per-token figure) and/or --breakdown FILE")
    for path, _name, _lengths in figures:
        figure_format(path)  # a bad suffix fails before the model is built
    report = _read_report(args) if args.report else _build_report(args)
    for path, name, lengths in figures:
        content = {"figure": name, "lengths": lengths, "report": report}
        write_figure(path, partial(_selfspec_figure, name, report, lengths), dpi=args.dpi, content=content)
        print(f"wrote {path}")
    return 0


def _selfspec_figure(name: str, report: dict, lengths: list[int] | None):
    from ..packs.selfspec.plots import breakdown_figure, per_token_figure

    return per_token_figure(report) if name == "per_token" else breakdown_figure(report, lengths=lengths)


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
    from ..forked import fork_json

    missing = [f"--{flag}" for flag in ("model", "hardware", "stats") if not getattr(args, flag)]
    if missing:
        raise SymcostError(f"give --report FILE, or --model, --hardware and --stats (missing {', '.join(missing)})")
    build = planned_build(args)
    if build.compiled:
        return _report_from_files(args, build)
    # Seconds of SymPy ahead: built in a child process while this one loads matplotlib for the figure.
    pending = fork_json(partial(_report_from_files, args, build))
    if pending.forked:
        from ..plot import warm_up

        warm_up()
    return pending.result()


def _report_from_files(args: argparse.Namespace, build: Build) -> dict:
    from ..packs.selfspec.report import build_report

    model = build.model()
    lengths = prompt_lengths(args) or _dense_lengths(model)
    return build_report(model, sorted(set(lengths) | set(args.breakdown_lengths or ())))


def _dense_lengths(model) -> list[int]:
    """Log-spaced prompt lengths up to the largest the model accepts (its context limit)."""
    from .common import log_range

    # The domain needs the closed forms; remembered in the evaluator cache, a warm plot skips SymPy.
    upper = min(model.remember("prompt_domain", lambda: _prompt_domain(model))[1], DENSE_TO)
    if upper <= DENSE_FROM:
        return list(range(1, upper + 1))
    return log_range(f"{DENSE_FROM}:{upper}:log{DENSE_POINTS}")


def _prompt_domain(model) -> list[int]:
    from ..packs.selfspec.breakeven import prompt_domain

    return list(prompt_domain(model))


def _run_pack(args: argparse.Namespace) -> int:
    """Any pack: outputs against one axis, with the crossings of the first two marked."""
    from ..errors import SymcostError
    from ..figure_files import figure_format, write_figure
    from ..pack_analysis import break_even
    from ..pack_report import pack_report
    from ..sweep import parse_axis

    if len(args.axis) != 1 or not args.y or not args.output:
        raise SymcostError("give one --axis NAME=SPEC, at least one --y OUTPUT and -o FILE")
    figure_format(args.output)
    axis = parse_axis(args.axis[0])
    model, tree = build_pack_from_args(args, vary=[axis.name])
    report = pack_report(model, tree, [axis])
    crossings = []
    if len(args.y) >= 2:
        found = break_even(
            model, args.y[0], args.y[1], axis.name, domain=(float(axis.values.min()), float(axis.values.max()))
        )
        crossings = [crossing["value"] for crossing in found["crossings"]]
    content = {"figure": "pack", "report": report, "axis": axis.name, "outputs": args.y, "crossings": crossings}
    write_figure(
        args.output, partial(_pack_figure, report, axis.name, args.y, crossings), dpi=args.dpi, content=content
    )
    print(
        f"wrote {args.output}"
        + (f" ({len(crossings)} crossing{'s' if len(crossings) != 1 else ''} marked)" if len(args.y) >= 2 else "")
    )
    return 0


def _pack_figure(report: dict, axis: str, outputs: list[str], crossings: list[float]):
    from ..plot import pack_figure

    return pack_figure(report, axis, outputs, crossings)
