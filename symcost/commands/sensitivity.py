"""``symcost sensitivity``: elasticities of the per-token costs to every hardware coefficient, ranked."""

from __future__ import annotations

import argparse

from ..finite import json_text
from .common import (
    add_input_files,
    add_point_options,
    add_prompt_lengths,
    build_pack_from_args,
    point_values,
    prompt_lengths,
    uses_pack_inputs,
)


def register(commands) -> None:
    parser = commands.add_parser(
        "sensitivity",
        help="rank hardware coefficients by d log(metric) / d log(coefficient)",
        description="Elasticities of energy and latency per committed token to every hardware coefficient, from "
        "the symbolic derivatives of the closed forms: +0.8 means a 1%% larger coefficient costs 0.8%% more.",
    )
    add_input_files(parser, required=True, pack_inputs=True)
    add_prompt_lengths(parser, default="2048")
    parser.add_argument(
        "--output",
        dest="output_name",
        metavar="NAME",
        help="any pack: the output (term or quantity) whose elasticities to every input are wanted",
    )
    add_point_options(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="json: the same as --json")
    parser.add_argument("--scenario", choices=("speculative", "baseline"), default="speculative")
    parser.add_argument("--top", type=int, default=15, metavar="N", help="rows to print (default 15; 0 for all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..packs.selfspec.sensitivity import sensitivities

    if args.output_name or uses_pack_inputs(args):
        return _run_pack(args)

    found = sensitivities(
        args.model,
        args.hardware,
        args.stats,
        prompt_lengths(args),
        scenario=args.scenario,
        library_path=args.library_path,
    )
    if args.json or args.format == "json":
        print(json_text(found.as_json()))
        return 0
    lengths = [f"{length:g}" for length in found.prompt_lengths]
    header = "".join(f" {'E@' + length:>10}" for length in lengths) + "".join(
        f" {'t@' + length:>10}" for length in lengths
    )
    print(
        f"elasticity d log(metric) / d log(coefficient), {args.scenario}, per committed token "
        f"(E: energy, t: latency, at L_prompt)"
    )
    print(f"{'coefficient':<22} {'input field':<52} {'value':>14}{header}")
    rows = found.elasticities if args.top == 0 else found.elasticities[: args.top]
    for item in rows:
        cells = "".join(f" {value:>+10.4f}" for metric in found.metrics for value in item.by_metric[metric])
        print(f"{item.coefficient:<22} {(item.field or '-'):<52} {item.value:>10.4g} {item.unit:<3}{cells}")
    if len(found.elasticities) > len(rows):
        print(f"... {len(found.elasticities) - len(rows)} more (--top 0 shows all)")
    reasons: dict[str, list[str]] = {}
    for name, reason in found.left_out.items():
        reasons.setdefault(reason, []).append(name)
    for reason, names in reasons.items():
        print(f"left out, {reason}: {', '.join(names)}")
    return 0


def _run_pack(args: argparse.Namespace) -> int:
    """Any pack: d ln(output) / d ln(input) for every input, at the inputs' values or at --at."""
    from ..errors import SymcostError
    from ..pack import load_pack
    from ..pack_analysis import elasticities
    from ..registry import resolve_pack

    if not args.output_name:
        raise SymcostError("give --output NAME: the term or quantity whose sensitivities are wanted")
    pack = load_pack(resolve_pack(args.pack or "selfspec"))
    every_input = [spec.name for spec in pack.symbols.values() if spec.source not in ("derived", "constant")]
    model, _tree = build_pack_from_args(args, vary=every_input)
    found = elasticities(model, args.output_name, point_values(args))
    if args.format == "json" or args.json:
        print(json_text(found))
        return 0
    print(
        f"elasticity d ln({found['output']}) / d ln(input) at {found['output']} = {found['value']:.6g} {found['unit']}"
    )
    rows = list(found["elasticities"].items())
    for name, value in rows if args.top == 0 else rows[: args.top]:
        print(f"  {name:<24} {value:>+10.4f}   (at {found['at'][name]:.6g} SI)")
    for name, reason in found["left_out"].items():
        print(f"  {name:<24} left out: {reason}")
    return 0
