"""Solver front ends: recommendations for one scenario, and a solve from command-line choices."""
from __future__ import annotations

import argparse
from typing import Any, Callable

from .calibration import Bundle
from .catalog import catalog, resolve
from .scenario import Scenario, Workload
from .solver import SolveRequest, solve


def recommended_configs(scenario: Scenario, bundle: Bundle | None, top: int = 3) -> list[dict[str, Any]]:
    """The best configurations of the scenario's model, hardware and runtime for its workload (max throughput)."""
    request = SolveRequest(models=[scenario.model], hardware=[scenario.hardware], runtime=scenario.runtime,
                           workload=scenario.workload, concurrency=[scenario.workload.concurrency], top=top)
    return solve(request, bundle)["top"]


def solve_from_args(args: argparse.Namespace, bundle: Bundle | None,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    models = list(catalog("models")) if "all" in args.model else [resolve("models", name) for name in args.model]
    hardware = [resolve("hardware", name) for name in args.hardware] if args.hardware else list(catalog("hardware"))
    objective = args.objective or ("throughput" if args.hardware else "min_hardware")
    request = SolveRequest(
        models=models, hardware=hardware, runtime=resolve("runtimes", args.runtime),
        workload=Workload(args.prompt_tokens, args.gen_tokens),
        quants=[resolve("quantizations", name) for name in args.quant] if args.quant else None,
        tensor_parallel=args.tp, pipeline_parallel=args.pp, offload=args.offload, context_caps=args.context_caps,
        concurrency=args.concurrency, objective=objective, min_decode_tps=args.min_decode_tps,
        max_ttft_ms=args.max_ttft_ms, top=args.top)
    return solve(request, bundle, progress=progress)
