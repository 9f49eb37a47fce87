"""``symcost spatten run|audit CONFIG``: the SpAtten lookahead study (seed 002) with its plots, and its audit document."""

from __future__ import annotations

import argparse

from ...commands.common import emit_audit


def register(commands) -> None:
    parser = commands.add_parser(
        "spatten", help="SpAtten speculative token pruning with lookahead (formulas/spatten.yaml)"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_parser = actions.add_parser(
        "run", help="sanity checks, baseline vs pipelined (Monte Carlo and exact expectation), plots"
    )
    run_parser.add_argument("config", metavar="CONFIG", help="SpAtten configuration (YAML or JSON)")
    run_parser.add_argument(
        "--trials", type=_positive, metavar="N", help="Monte Carlo trials (default: the configuration's)"
    )
    run_parser.add_argument("--seed", type=_seed, metavar="S", help="random seed (default: the configuration's)")
    run_parser.add_argument(
        "--out", default="spatten-results", metavar="DIR", help="directory for the plots (default: %(default)s)"
    )
    run_parser.set_defaults(run=run)
    audit_parser = actions.add_parser(
        "audit",
        help="audit document: the pack's formulas with this configuration's "
        "values and provenance, token counts, expectations",
    )
    audit_parser.add_argument("config", metavar="CONFIG", help="SpAtten configuration (YAML or JSON)")
    audit_parser.add_argument(
        "--format", choices=("latex", "markdown"), help="default: from the -o suffix (.tex or .md)"
    )
    audit_parser.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    audit_parser.set_defaults(run=run_audit)


def run(args: argparse.Namespace) -> int:
    from .config import load_config

    config = load_config(args.config)
    from .plots import write_plots
    from .report import results_table, sanity_block, sweep_summary
    from .study import run_study

    study = run_study(config, args.trials, args.seed)
    print(sanity_block(study))
    print(
        f"\nRunning Monte Carlo: {study.montecarlo.trials} trials (seed {study.montecarlo.seed}) "
        "for both baseline & pipelined, and the exact expectation...\n"
    )
    print(results_table(study))
    print()
    print(sweep_summary(study))
    for path in write_plots(study, args.out):
        print(f"Saved {path}")
    return 0


def run_audit(args: argparse.Namespace) -> int:
    from .audit import spatten_audit
    from .config import load_config
    from .expectation import exact_metrics
    from .model import build_layer_model

    def document():
        model = build_layer_model(load_config(args.config))
        return spatten_audit(model, exact_metrics(model))

    return emit_audit(args, document)


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of trials, got {text!r}")
    return value


def _seed(text: str) -> int:
    value = _integer(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to 2**32 - 1, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
