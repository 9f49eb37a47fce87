"""``symcost llm estimate|solve|calibrate|validate|catalog|audit``: the LLM compute estimator (seed 004).

Exit codes: 0 success; 1 ``validate`` raised a drift alarm, or ``solve`` found
no feasible configuration; 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from ...commands.common import bounded_int, emit_audit, positive_int, write_json_output
from ...finite import json_text
from ...size_limits import MAX_CONCURRENCY, MAX_PARALLEL, MAX_TOKENS

KINDS = ("models", "hardware", "runtimes", "quantizations")
BACKENDS = ("cuda", "rocm", "metal", "vulkan", "sycl", "cpu")
BACKEND_HELP = "compute backend (default: the hardware's, if the runtime has it; else the runtime's)"


def register(commands) -> None:
    parser = commands.add_parser(
        "llm", help="LLM inference estimator: memory, speed, feasibility, bottlenecks, config solver, calibration"
    )
    actions = parser.add_subparsers(dest="llm_action", metavar="ACTION", required=True)
    _estimate_parser(actions)
    _solve_parser(actions)
    calibrate = actions.add_parser("calibrate", help="store benchmark run records and refit the calibration")
    calibrate.add_argument("file", help="run records (JSON/YAML: one, a list or {runs: [...]}) or a calibration CSV")
    _store_options(calibrate)
    calibrate.add_argument(
        "--min-records",
        type=positive_int,
        default=10,
        metavar="N",
        help="refit only when the store holds at least N records (default 10)",
    )
    calibrate.add_argument("--no-fit", action="store_true", help="store the records only")
    calibrate.set_defaults(run=run_calibrate)
    validate = actions.add_parser("validate", help="error table of the estimator on measured runs; drift alarms")
    validate.add_argument("file", help="run records or a calibration CSV")
    _calibration_options(validate)
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(run=run_validate)
    listing = actions.add_parser("catalog", help="list the packaged models, hardware, runtimes or quantizations")
    listing.add_argument("kind", nargs="?", choices=KINDS, help="what to list (default: a count of each)")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(run=run_catalog)
    audit = actions.add_parser("audit", help="audit document of one estimate: every quantity as formula and value")
    _scenario_options(audit)
    audit.add_argument("--format", choices=("latex", "markdown"), help="default: from the -o suffix")
    audit.add_argument("-o", "--output", metavar="FILE")
    audit.set_defaults(run=run_audit)


def _estimate_parser(actions) -> None:
    estimate = actions.add_parser(
        "estimate",
        help="can this model run here, how fast, with how much memory, what limits it (seed section 6.1 response)",
    )
    _scenario_options(estimate)
    estimate.add_argument("--format", choices=("text", "json"), default="text")
    estimate.add_argument(
        "--recommend",
        type=bounded_int(0, 20),
        default=3,
        metavar="N",
        help="configurations to recommend from a solver run on this model and hardware (default 3; 0: none)",
    )
    estimate.add_argument("-o", "--output", metavar="FILE", help="write the JSON response here")
    estimate.set_defaults(run=run_estimate)


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", help="model id or alias (symcost llm catalog models)")
    model.add_argument("--model-file", help="your own model file, one entry in the catalog's form")
    hardware = parser.add_mutually_exclusive_group(required=True)
    hardware.add_argument("--hardware", help="hardware profile id or alias")
    hardware.add_argument("--hardware-file", help="your own hardware profile, one entry in the catalog's form")
    parser.add_argument(
        "--runtime",
        default="llama.cpp",
        help="runtime id or alias, optionally @version: a build (llama.cpp@b6918) or a date "
        "(llama.cpp@2024-06) choosing the calibration's runtime era (default llama.cpp, newest era)",
    )
    parser.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    parser.add_argument(
        "--quant",
        help="quantization id or alias (default: the runtime's default_quant, else q4_k_m, awq-int4, bf16, f16 as the runtime runs)",
    )
    parser.add_argument("--prompt-tokens", type=_count, default=512, metavar="N")
    parser.add_argument("--gen-tokens", type=_count, default=128, metavar="N")
    parser.add_argument("--concurrency", type=bounded_int(1, MAX_CONCURRENCY), default=1, metavar="N")
    parser.add_argument(
        "--context-window",
        type=bounded_int(1, MAX_TOKENS),
        metavar="N",
        help="context the runtime allocates per sequence (default: prompt + generated)",
    )
    parser.add_argument(
        "--tp", type=bounded_int(1, MAX_PARALLEL), default=1, metavar="N", help="tensor-parallel degree"
    )
    parser.add_argument(
        "--pp", type=bounded_int(1, MAX_PARALLEL), default=1, metavar="N", help="pipeline-parallel degree"
    )
    parser.add_argument(
        "--devices",
        type=bounded_int(1, MAX_PARALLEL),
        metavar="N",
        help="devices in the runtime's multi-device mode (instead of --tp/--pp)",
    )
    parser.add_argument(
        "--split-mode",
        metavar="MODE",
        help="multi-device mode (llama.cpp: layer, row; vllm: tensor, pipeline; default: the runtime's)",
    )
    parser.add_argument(
        "--offload",
        choices=("none", "auto", "full"),
        default="auto",
        help="weights in host RAM: none, what does not fit (auto, default), or all",
    )
    parser.add_argument(
        "--flash-attention",
        choices=("on", "off"),
        help="fused attention (llama.cpp -fa); off moves every attention score through memory "
        "(default: the runtime's, e.g. on for llama.cpp, off for Ollama)",
    )
    _calibration_options(parser)


def _solve_parser(actions) -> None:
    solve = actions.add_parser(
        "solve",
        help="rank configurations (quantization x TP x PP x offload x context x "
        "concurrency); without --hardware: the cheapest hardware that runs it",
    )
    solve.add_argument("--model", action="append", required=True, help="model id (repeatable; 'all' for every model)")
    solve.add_argument("--hardware", action="append", help="hardware id (repeatable; default: every profile)")
    solve.add_argument("--runtime", default="llama.cpp")
    solve.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    solve.add_argument("--quant", action="append", help="formats to consider (default: every format the runtime runs)")
    solve.add_argument("--tp", type=_int_list, help="TP degrees, e.g. 1,2,4 (default: 1,2,4,8 the model allows)")
    solve.add_argument("--pp", type=_int_list, help="PP degrees (default 1,2,4)")
    solve.add_argument(
        "--offload", type=_word_list, default=["none", "auto", "full"], help="offload policies (default none,auto,full)"
    )
    solve.add_argument(
        "--context-caps", type=_int_list, help="context windows to allocate (default: the need and 4k..128k above it)"
    )
    solve.add_argument("--concurrency", type=_int_list, help="concurrent sequences to consider (default 1)")
    solve.add_argument("--prompt-tokens", type=_count, default=512, metavar="N")
    solve.add_argument("--gen-tokens", type=_count, default=128, metavar="N")
    solve.add_argument(
        "--objective",
        default=None,
        help="throughput | latency | max_model_size | perf_per_dollar | "
        "min_hardware (default: throughput, or min_hardware without --hardware)",
    )
    solve.add_argument("--min-decode-tps", type=float, metavar="R", help="required decode tokens/s (all sequences)")
    solve.add_argument("--max-ttft-ms", type=float, metavar="T", help="largest acceptable time to first token")
    solve.add_argument("--top", type=bounded_int(1, 50), default=5)
    solve.add_argument("--format", choices=("text", "json"), default="text")
    solve.add_argument("-o", "--output", metavar="FILE")
    _calibration_options(solve)
    solve.set_defaults(run=run_solve)


def _calibration_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calibration",
        choices=("auto", "packaged", "store", "none"),
        default="auto",
        help="coefficients: the store's newest bundle, else the packaged one (auto, default); "
        "packaged; store; none (runtime defaults, no intervals)",
    )
    _store_options(parser)


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="calibration store (default: $SYMCOST_DATA_DIR or ~/.local/share/symcost/calibration.sqlite)",
    )


_count = bounded_int(0, MAX_TOKENS)


def _int_list(text: str) -> list[int]:
    parts = [part for part in text.split(",") if part.strip()]
    if len(parts) > 64:
        raise argparse.ArgumentTypeError(f"expected at most 64 values, got {len(parts):,}")
    values = [bounded_int(1, MAX_TOKENS)(part) for part in parts]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


def _word_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _scenario(args: argparse.Namespace):
    from .catalog import read_entry
    from .requests import scenario_from_request

    request = {
        "model_id": args.model,
        "runtime_id": args.runtime,
        "hardware": {"hardware_id": args.hardware},
        "quant": args.quant,
        "offload": args.offload,
        "flash_attention": {"on": True, "off": False}.get(args.flash_attention),
        "backend": args.backend,
        "workload": {
            "context_tokens": args.prompt_tokens,
            "output_tokens": args.gen_tokens,
            "concurrency": args.concurrency,
            **({"context_window": args.context_window} if args.context_window else {}),
        },
        "parallelism": {
            "tensor_parallel": args.tp,
            "pipeline_parallel": args.pp,
            "devices": args.devices,
            "split_mode": args.split_mode,
        },
    }
    return scenario_from_request(
        request,
        read_entry("models", args.model_file) if args.model_file else None,
        read_entry("hardware", args.hardware_file) if args.hardware_file else None,
    )


def run_estimate(args: argparse.Namespace) -> int:
    from .estimate import estimate
    from .recommend import recommended_configs
    from .requests import load_bundle
    from .text import estimate_text

    scenario = _scenario(args)
    bundle = load_bundle(args.calibration, args.db)
    response = estimate(scenario, bundle)
    response["recommended_configs"] = (
        recommended_configs(scenario, bundle, args.recommend) if args.recommend > 0 else []
    )
    if args.output:
        write_json_output(response, args.output, note=sys.stderr)
    if args.format == "json":
        print(json_text(response))
    else:
        print(estimate_text(response))
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from .recommend import solve_from_args
    from .requests import load_bundle
    from .text import solve_text

    result = solve_from_args(
        args, load_bundle(args.calibration, args.db), progress=lambda line: print(line, file=sys.stderr)
    )
    if args.output:
        write_json_output(result, args.output, note=sys.stderr)
    print(json_text(result) if args.format == "json" else solve_text(result))
    return 0 if result["top"] else 1


def run_calibrate(args: argparse.Namespace) -> int:
    from .ingest import ingest_and_fit

    for line in ingest_and_fit(
        args.file, args.db, args.min_records, fit=not args.no_fit, progress=lambda line: print(line, file=sys.stderr)
    ):
        print(line)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from .observations import observations
    from .quarantine import split_fittable
    from .records import read_records
    from .requests import load_bundle
    from .text import validation_text
    from .validation import validation_report

    kept, quarantined = split_fittable(read_records(args.file))
    report = validation_report(observations(kept), load_bundle(args.calibration, args.db), quarantined)
    print(json_text(report) if args.format == "json" else validation_text(report))
    return 1 if report["drift_alarms"] else 0


def run_catalog(args: argparse.Namespace) -> int:
    from .catalog import catalog
    from .text import catalog_text

    if args.format == "json":
        kinds = [args.kind] if args.kind else list(KINDS)
        print(json_text({kind: [entry.data for entry in catalog(kind)] for kind in kinds}))
    else:
        print(catalog_text(args.kind))
    return 0


def run_audit(args: argparse.Namespace) -> int:
    from .analytic import analytic_model
    from .audit import scenario_audit
    from .requests import load_bundle

    def document():
        scenario = _scenario(args)
        bundle = load_bundle(args.calibration, args.db)
        if bundle is not None:
            scenario = scenario.with_(coefficients=bundle.coefficients_for(scenario))
        model = analytic_model()
        bound = model.bind_exact(scenario)
        return scenario_audit(model, scenario, bound, model.evaluate(bound.numbers(model.input_names)))

    return emit_audit(args, document)
