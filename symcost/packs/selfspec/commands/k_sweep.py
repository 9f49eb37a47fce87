"""``symcost k-sweep``: the best burst length K per prompt length from measured acceptance (as ppa-k-sweep)."""

from __future__ import annotations

import argparse

from ....commands.common import add_library_path, add_prompt_lengths, prompt_lengths, write_json_output


def register(commands) -> None:
    parser = commands.add_parser(
        "k-sweep",
        help="best K per prompt length from measured mean accepted tokens per K (the reference's ppa-k-sweep)",
    )
    parser.add_argument("--model", required=True, help="model file (YAML)")
    parser.add_argument("--hardware", required=True, help="hardware file (YAML)")
    parser.add_argument(
        "--acceptance-sweep",
        required=True,
        metavar="FILE",
        help="candidate K values with measured mean accepted tokens (JSON or YAML)",
    )
    add_library_path(parser)
    add_prompt_lengths(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the JSON report here (default: stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..compat.acceptance import read_candidates
    from ..compat.k_sweep import k_sweep_report, sweep_stats
    from ..model import build_model

    candidates = read_candidates(args.acceptance_sweep)
    model = build_model(
        args.model, args.hardware, sweep_stats(candidates, args.acceptance_sweep), library_path=args.library_path
    )
    paths = {"model": args.model, "hardware": args.hardware, "stats": args.acceptance_sweep}
    report = k_sweep_report(model, candidates, prompt_lengths(args), paths)
    write_json_output(report, args.output)
    if args.output:
        for best in report["best_by_prompt_length"]:
            print(
                f"L_prompt {best['l_prompt']}: best K {best['best_throughput']['k']} by throughput, "
                f"{best['best_tokens_per_joule']['k']} by tokens per joule"
            )
    return 0
