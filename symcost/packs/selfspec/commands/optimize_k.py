"""``symcost optimize-k``: the draft length that maximises throughput and the one that maximises tokens per joule."""

from __future__ import annotations

import argparse

from ....commands.common import add_input_files, add_prompt_lengths, bounded_int, prompt_lengths
from ....finite import json_text
from ....size_limits import MAX_BURST_LENGTH


def _alphas(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated acceptance rates such as 0.6,0.8, got {text!r}"
        ) from None


def register(commands) -> None:
    parser = commands.add_parser(
        "optimize-k",
        help="best draft length K for throughput and for tokens/J under geometric acceptance",
        description="Evaluates throughput and tokens per joule for K = 0..K_MAX (K = 0: no speculation) with "
        "E[a+1] = (1 - alpha^(K+1)) / (1 - alpha), and prints the curve and the best K for each.",
    )
    add_input_files(parser, required=True)
    add_prompt_lengths(parser, default="2048")
    parser.add_argument(
        "--alpha",
        type=_alphas,
        metavar="A1,A2,...",
        help="acceptance rates (default: the stats file's geometric alpha)",
    )
    parser.add_argument(
        "--k-max",
        type=bounded_int(1, MAX_BURST_LENGTH),
        default=32,
        metavar="N",
        help=f"largest K tried (default 32, at most {MAX_BURST_LENGTH})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (curves included) instead of tables")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..optimize_k import optimize_k

    curves = optimize_k(
        args.model,
        args.hardware,
        args.stats,
        prompt_lengths(args),
        alphas=args.alpha or (),
        k_max=args.k_max,
        library_path=args.library_path,
    )
    if args.json:
        print(json_text([curve.as_json() for curve in curves]))
        return 0
    for curve in curves:
        throughput = curve.values["speculative.throughput"]
        per_joule = curve.values["speculative.tokens_per_joule"]
        print(
            f"alpha = {curve.alpha:g}, L_prompt = {curve.L_prompt:g}: best K = {curve.best['throughput']} for "
            f"throughput, {curve.best['tokens_per_joule']} for tokens/J"
        )
        print(f"  {'K':>4} {'tokens/s':>12} {'tokens/J':>12}")
        for k, rate, efficiency in zip(curve.K.astype(int), throughput, per_joule):
            marks = ("  <- throughput" if k == curve.best["throughput"] else "") + (
                "  <- tokens/J" if k == curve.best["tokens_per_joule"] else ""
            )
            print(f"  {k:>4} {rate:>12.5g} {efficiency:>12.5g}{marks}")
    return 0
