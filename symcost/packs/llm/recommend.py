"""Solver front ends: recommendations for one scenario, and a solve from command-line choices."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from .calibration import Bundle
from .catalog import catalog, resolve
from .requests import runtime_and_era
from .scenario import Scenario, Workload
from .solver import SolveRequest, solve


def recommended_configs(scenario: Scenario, bundle: Bundle | None, top: int = 3) -> list[dict[str, Any]]:
    """The best configurations of the scenario's model, hardware and runtime for its workload (max throughput)."""
    request = SolveRequest(
        models=[scenario.model],
        hardware=[scenario.hardware],
        runtime=scenario.runtime,
        workload=scenario.workload,
        concurrency=[scenario.workload.concurrency],
        top=top,
        runtime_era=scenario.runtime_era,
        backend=scenario.backend,
    )
    return solve(request, bundle)["top"]


def solve_request(
    model_ids: Sequence[str],
    hardware_ids: Sequence[str] | None,
    runtime_id: str,
    workload: Workload,
    quants: Sequence[str] | None = None,
    objective: str | None = None,
    **options: Any,
) -> SolveRequest:
    """A solver request from names as a user gives them: model ids ('all' for every model), hardware ids (none:
    every profile, and the cheapest-hardware objective by default), format ids; ``options`` go to SolveRequest."""
    models = list(catalog("models")) if "all" in model_ids else [resolve("models", name) for name in model_ids]
    hardware = [resolve("hardware", name) for name in hardware_ids] if hardware_ids else list(catalog("hardware"))
    runtime, era = runtime_and_era(runtime_id)
    return SolveRequest(
        models=models,
        hardware=hardware,
        runtime=runtime,
        runtime_era=era,
        workload=workload,
        quants=[resolve("quantizations", name) for name in quants] if quants else None,
        objective=objective or ("throughput" if hardware_ids else "min_hardware"),
        **options,
    )


def solve_from_args(
    args: argparse.Namespace, bundle: Bundle | None, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    request = solve_request(
        args.model,
        args.hardware,
        args.runtime,
        Workload(args.prompt_tokens, args.gen_tokens),
        args.quant,
        args.objective,
        tensor_parallel=args.tp,
        pipeline_parallel=args.pp,
        offload=args.offload,
        context_caps=args.context_caps,
        concurrency=args.concurrency,
        min_decode_tps=args.min_decode_tps,
        max_ttft_ms=args.max_ttft_ms,
        top=args.top,
        backend=args.backend,
    )
    return solve(request, bundle, progress=progress)
