"""``symcost sensitivity``: elasticities of the per-token costs to every hardware coefficient, ranked."""
from __future__ import annotations

import argparse

from ..finite import json_text
from .common import add_input_files, add_prompt_lengths, prompt_lengths


def register(commands) -> None:
    parser = commands.add_parser(
        "sensitivity", help="rank hardware coefficients by d log(metric) / d log(coefficient)",
        description="Elasticities of energy and latency per committed token to every hardware coefficient, from "
                    "the symbolic derivatives of the closed forms: +0.8 means a 1%% larger coefficient costs 0.8%% more.")
    add_input_files(parser, required=True)
    add_prompt_lengths(parser, default="2048")
    parser.add_argument("--scenario", choices=("speculative", "baseline"), default="speculative")
    parser.add_argument("--top", type=int, default=15, metavar="N", help="rows to print (default 15; 0 for all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..sensitivity import sensitivities

    found = sensitivities(args.model, args.hardware, args.stats, prompt_lengths(args), scenario=args.scenario,
                          library_path=args.library_path)
    if args.json:
        print(json_text(found.as_json()))
        return 0
    lengths = [f"{length:g}" for length in found.prompt_lengths]
    header = "".join(f" {'E@' + length:>10}" for length in lengths) + "".join(f" {'t@' + length:>10}" for length in lengths)
    print(f"elasticity d log(metric) / d log(coefficient), {args.scenario}, per committed token "
          f"(E: energy, t: latency, at L_prompt)")
    print(f"{'coefficient':<22} {'input field':<52} {'value':>14}{header}")
    rows = found.elasticities if args.top == 0 else found.elasticities[:args.top]
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
