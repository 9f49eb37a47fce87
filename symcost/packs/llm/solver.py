"""The configuration solver (seed 004 section 5.3): enumerate, evaluate in one batch, rank.

Candidates are model x hardware x quantization x TP x PP x offload policy x
context cap x concurrency. Layouts a model or machine cannot take (TP not
dividing the heads, more devices than the machine has, a runtime without TP
or without the format) are rejected before evaluation with their reason; the
rest are evaluated by one call of the compiled model and classified. The
ranking keeps the feasible candidates that meet the speed constraints and
orders them by the objective; every rejection is counted by reason.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError, SymcostError
from .analytic import AnalyticModel, analytic_model
from .assess import CLASSES, feasibility_codes
from .calibration import Bundle
from .catalog import CatalogEntry, catalog
from .inputs import context_needed
from .scenario import OFFLOAD_POLICIES, ParallelLayout, Scenario, Workload, layout_problems, valid_tensor_parallel
from .uncalibrated import backend_calibrated, band

OBJECTIVES = ("throughput", "latency", "max_model_size", "perf_per_dollar", "min_hardware")
DEFAULT_CONTEXT_CAPS = (4096, 8192, 32768, 131072)
DEFAULT_TENSOR_PARALLEL = (1, 2, 4, 8)  # those the model's heads allow
DEFAULT_PIPELINE_PARALLEL = (1, 2, 4)


class SolverError(SymcostError):
    """A solver request that cannot be run as asked (unknown objective, too many candidates)."""


@dataclass(frozen=True)
class SolveRequest:
    models: Sequence[CatalogEntry]
    hardware: Sequence[CatalogEntry]
    runtime: CatalogEntry
    workload: Workload
    quants: Sequence[CatalogEntry] | None = None  # default: every format the runtime runs
    tensor_parallel: Sequence[int] | None = None  # default: 1, 2, 4, 8 that the model and machine allow
    pipeline_parallel: Sequence[int] | None = None
    offload: Sequence[str] = OFFLOAD_POLICIES
    context_caps: Sequence[int] | None = None  # default: the request's need and the usual windows above it
    concurrency: Sequence[int] | None = None  # default: the workload's
    objective: str = "throughput"
    min_bits_per_weight: float = 4.0  # quality is not modelled: sub-4-bit formats only when asked
    max_candidates: int | None = None  # refuse larger grids before building them
    min_decode_tps: float | None = None
    max_ttft_ms: float | None = None
    top: int = 5
    runtime_era: str | None = None  # the runtime's era; None: the newest the calibration knows
    backend: str | None = None  # compute backend; None: each machine's default for the runtime


@dataclass
class Candidates:
    """The evaluated grid: one entry per candidate in every array."""

    scenarios: list[tuple[CatalogEntry, CatalogEntry, CatalogEntry, ParallelLayout]] = field(
        default_factory=list
    )  # per block
    block: np.ndarray | None = None
    context_alloc: np.ndarray | None = None
    concurrency: np.ndarray | None = None
    offload: np.ndarray | None = None
    results: dict[str, np.ndarray] = field(default_factory=dict)


def solve(
    request: SolveRequest,
    bundle: Bundle | None = None,
    model: AnalyticModel | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    if request.objective not in OBJECTIVES:
        raise SolverError(f"objective must be one of {', '.join(OBJECTIVES)}, got {request.objective!r}")
    if request.max_candidates is not None and (size := grid_size(request)) > request.max_candidates:
        raise SolverError(f"{size:,} candidates is more than the {request.max_candidates:,} allowed")
    model = model or analytic_model()
    rejected: Counter[str] = Counter()
    inner, short_caps = _inner_grid(request, model)
    blocks, block_values, layout_rejections = _blocks(request, bundle, model)
    per_block = len(inner["alloc"]) + short_caps
    for reason, count in layout_rejections.items():
        rejected[reason] += count * per_block
    if short_caps and blocks:
        rejected["context_cap_below_request"] += short_caps * len(blocks)
    not_evaluated = sum(rejected.values())
    grid = _evaluate(blocks, block_values, inner, model)
    evaluated = 0 if grid.block is None else len(grid.block)
    if progress:
        progress(f"evaluated {evaluated:,} candidates")
    ranked, feasible = _rank(request, grid, bundle, rejected) if evaluated else ([], 0)
    return {
        "objective": request.objective,
        "candidates": evaluated + not_evaluated,
        "evaluated": evaluated,
        "feasible": feasible,
        "top": ranked,
        "rejected": dict(rejected.most_common()),
    }


def grid_size(request: SolveRequest, model: AnalyticModel | None = None) -> int:
    """The candidates a request asks for, counted without building them (``solve``'s ``candidates``)."""
    inner, short_caps = _inner_grid(request, model or analytic_model())
    layouts = sum(len(_tensor_parallel(request, model_entry)) for model_entry in request.models)
    return (
        layouts
        * len(_pipeline_parallel(request))
        * len(request.hardware)
        * len(_quants(request))
        * (len(inner["alloc"]) + short_caps)
    )


def _blocks(
    request: SolveRequest, bundle: Bundle | None, model: AnalyticModel
) -> tuple[list, list[dict[str, float]], Counter]:
    """Valid (model, hardware, quant, TP, PP) combinations, their input values, and the rejected ones.

    Each (model, hardware, quant) is bound once; its layouts differ only in the pack's TP and PP inputs.
    """
    blocks, values, rejected = [], [], Counter()
    degrees = [model.symbols.bound_to(path).name for path in ("layout.tensor_parallel", "layout.pipeline_parallel")]
    for model_entry, hardware, quant in itertools.product(request.models, request.hardware, _quants(request)):
        layouts = []
        for tp, pp in itertools.product(_tensor_parallel(request, model_entry), _pipeline_parallel(request)):
            layout = ParallelLayout(tp, pp, "auto")
            problems = layout_problems(
                Scenario(
                    model_entry, hardware, request.runtime, quant, request.workload, layout, backend=request.backend
                )
            )
            if problems:
                rejected[f"layout:{problems[0][0]}"] += 1
            else:
                layouts.append(layout)
        if not layouts:
            continue
        scenario = Scenario(
            model_entry,
            hardware,
            request.runtime,
            quant,
            request.workload,
            layouts[0],
            runtime_era=request.runtime_era,
            backend=request.backend,
        )
        if bundle is not None:
            scenario = scenario.with_(coefficients=bundle.coefficients_for(scenario))
        try:
            row = model.scenario_values(scenario)
        except InputError:  # a hardware entry the model cannot use (e.g. a CPU without fp16_tflops)
            rejected["layout:unusable_hardware"] += len(layouts)
            continue
        for layout in layouts:
            blocks.append((model_entry, hardware, quant, layout))
            values.append({**row, **dict(zip(degrees, (layout.tensor_parallel, layout.pipeline_parallel)))})
    return blocks, values, rejected


def _quants(request: SolveRequest) -> Sequence[CatalogEntry]:
    if request.quants:
        return request.quants
    supported = request.runtime.get("supported_quant")
    return [
        entry
        for entry in catalog("quantizations")
        if (not supported or entry.id in supported) and entry["bits_per_weight"] >= request.min_bits_per_weight
    ]


def _tensor_parallel(request: SolveRequest, model_entry: CatalogEntry) -> Sequence[int]:
    allowed = valid_tensor_parallel(model_entry)
    return request.tensor_parallel or [tp for tp in DEFAULT_TENSOR_PARALLEL if tp in allowed]


def _pipeline_parallel(request: SolveRequest) -> Sequence[int]:
    return request.pipeline_parallel or DEFAULT_PIPELINE_PARALLEL


def _inner_grid(request: SolveRequest, model: AnalyticModel) -> tuple[dict[str, np.ndarray], int]:
    """Offload policy x context cap x concurrency, the same for every block; and how many combinations of
    each block are dropped because their context cap is below what the request needs (the pack's S_need)."""
    need = context_needed(model.symbols, request.workload)
    caps = request.context_caps or sorted({need, *(cap for cap in DEFAULT_CONTEXT_CAPS if cap > need)})
    concurrency = request.concurrency or (request.workload.concurrency,)
    short = sum(1 for cap in caps if cap < need) * len(request.offload) * len(concurrency)
    combos = list(itertools.product(request.offload, [cap for cap in caps if cap >= need], concurrency))
    grid = {
        "offload": np.array([c[0] for c in combos]),
        "alloc": np.array([c[1] for c in combos], dtype=float),
        "concurrency": np.array([c[2] for c in combos], dtype=float),
    }
    return grid, short


def _evaluate(blocks, block_values, inner, model: AnalyticModel) -> Candidates:
    grid = Candidates(scenarios=blocks)
    n_inner = len(inner["alloc"])
    if not blocks or not n_inner:
        return grid
    grid.block = np.repeat(np.arange(len(blocks)), n_inner)
    grid.offload, grid.context_alloc, grid.concurrency = (
        np.tile(inner[key], len(blocks)) for key in ("offload", "alloc", "concurrency")
    )
    values = {name: np.array([row[name] for row in block_values])[grid.block] for name in block_values[0]}
    symbol = model.symbols.bound_to  # the pack's symbols by the paths they are bound to
    policy = dict(symbol("layout.offload").categories)  # the pack's numbers for the offload policies
    values.update(
        {
            symbol("workload.context_alloc").name: grid.context_alloc,
            symbol("workload.concurrency").name: grid.concurrency,
            symbol("layout.offload").name: np.array([policy[name] for name in grid.offload], dtype=float),
        }
    )
    grid.results = model.evaluate(values)
    return grid


def _rank(request: SolveRequest, grid: Candidates, bundle: Bundle | None, rejected: Counter) -> tuple[list[dict], int]:
    results = grid.results
    codes = feasibility_codes(results)
    ok = codes < 2
    rejected["insufficient_memory"] += int(np.sum(~ok))
    if request.min_decode_tps is not None:
        slow = ok & (results["decode_tps"] < request.min_decode_tps)
        rejected["below_min_decode_tps"] += int(np.sum(slow))
        ok &= ~slow
    if request.max_ttft_ms is not None:
        late = ok & (results["ttft"] * 1e3 > request.max_ttft_ms)
        rejected["above_max_ttft_ms"] += int(np.sum(late))
        ok &= ~late
    price = np.array([hardware.get("price_usd") or np.nan for _, hardware, _, _ in grid.scenarios])[grid.block]
    order = _order(request.objective, results, price, ok, grid)
    key = (
        (lambda i: grid.scenarios[grid.block[i]][1].id)
        if request.objective == "min_hardware"
        else (lambda i: (grid.block[i], grid.concurrency[i]))
    )
    chosen = _first_of_each(order, key, request.top)
    return [_describe(index, grid, codes, price, bundle, request) for index in chosen], int(np.sum(ok))


def _order(
    objective: str, results: dict[str, np.ndarray], price: np.ndarray, ok: np.ndarray, grid: Candidates
) -> np.ndarray:
    """Indices of the acceptable candidates, best first (ties: faster decode, then less memory, then no offload)."""
    decode = results["decode_tps"]
    keys = {
        "throughput": -decode,
        "latency": results["latency"],
        "max_model_size": -results["P_total"],
        "perf_per_dollar": -results["decode_tps_per_kusd"],
        "min_hardware": np.where(np.isnan(price), np.inf, price),
    }[objective]
    if objective == "perf_per_dollar":
        ok = ok & ~np.isnan(price)
    candidates = np.flatnonzero(ok)
    offloaded = results["W_off"][candidates] > 0
    return candidates[np.lexsort((offloaded, results["M_total"][candidates], -decode[candidates], keys[candidates]))]


def _first_of_each(order: np.ndarray, key: Callable[[int], object], limit: int) -> list[int]:
    """The first candidate of each key (a configuration, or a hardware profile), in ``order``, up to ``limit``."""
    seen, chosen = set(), []
    for index in order:
        if key(index) not in seen:
            seen.add(key(index))
            chosen.append(int(index))
            if len(chosen) == limit:
                break
    return chosen


def _describe(
    index: int, grid: Candidates, codes: np.ndarray, price: np.ndarray, bundle: Bundle | None, request: SolveRequest
) -> dict[str, Any]:
    model_entry, hardware, quant, layout = grid.scenarios[grid.block[index]]
    scenario = Scenario(
        model_entry, hardware, request.runtime, quant, request.workload, layout, backend=request.backend
    )
    calibrated = backend_calibrated(bundle, scenario)
    value = lambda name, factor=1.0: float(f"{float(grid.results[name][index]) * factor:.4g}")  # noqa: E731
    decode = value("decode_tps")
    described = {
        "model_id": model_entry.id,
        "hardware_id": hardware.id,
        "backend": scenario.compute_backend,
        "quant": quant.id,
        "tensor_parallel": layout.tensor_parallel,
        "pipeline_parallel": layout.pipeline_parallel,
        "offload": str(grid.offload[index]),
        "context_alloc": int(grid.context_alloc[index]),
        "concurrency": int(grid.concurrency[index]),
        "feasibility": str(CLASSES[codes[index]]),
        "expected_decode_toks_sec": decode,
        "decode_toks_sec": {
            k: float(f"{v:.4g}") for k, v in band(bundle, calibrated, "decode_toks_sec", decode).items()
        },
        "prefill_toks_sec": value("prefill_tps"),
        "ttft_ms": value("ttft", 1e3),
        "vram_peak_gb": value("M_vram_total", 1e-9),
        "ram_peak_gb": value("M_ram_peak", 1e-9),
        "params_b": value("P_total", 1e-9),
    }
    if np.isfinite(grid.results["power"][index]):
        described.update(power_w=value("power"), energy_per_token_j=value("energy_per_token"))
    if not np.isnan(price[index]):
        described["price_usd"] = float(price[index])
        described["decode_toks_sec_per_kusd"] = value("decode_tps_per_kusd")
    return described
