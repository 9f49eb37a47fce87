"""The configuration solver: one batched call over 10^4+ candidates, constraints, orderings, rejection
accounting, and its best configuration against a brute-force loop of single estimates."""

from __future__ import annotations

import itertools
import math

import pytest

from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.estimate import estimate
from symcost.packs.llm.requests import packaged_bundle
from symcost.packs.llm.scenario import ParallelLayout, Scenario, Workload, layout_problems
from symcost.packs.llm.solver import SolveRequest, grid_size, solve

MODELS = ("llama-3-8b", "qwen2.5-7b", "mixtral-8x7b", "llama-3.1-70b")
HARDWARE = (
    "rtx-4090",
    "rtx-3090",
    "2x-rtx-4090",
    "h100-sxm",
    "8x-h100-sxm",
    "a10",
    "l40s",
    "apple-m1-max-64gb",
    "dgx-spark",
    "2x-a100-sxm-40gb",
)
WORKLOAD = Workload(1024, 256)
EVALUATED_REASONS = ("insufficient_memory", "below_min_decode_tps", "above_max_ttft_ms")


def entries(kind: str, names) -> list:
    return [catalog(kind).get(name) for name in names]


def big_request(**changes) -> SolveRequest:
    fields = {
        "models": entries("models", MODELS),
        "hardware": entries("hardware", HARDWARE),
        "runtime": catalog("runtimes").get("vllm"),
        "workload": WORKLOAD,
        "concurrency": [1, 4, 16, 64],
        "min_decode_tps": 50.0,
        "max_ttft_ms": 2000.0,
        "top": 8,
        **changes,
    }
    return SolveRequest(**fields)


@pytest.fixture(scope="module")
def bundle():
    return packaged_bundle()


@pytest.fixture(scope="module")
def throughput(bundle):
    return solve(big_request(), bundle)


def scenario_of(config: dict, request: SolveRequest) -> Scenario:
    w = request.workload
    return Scenario(
        catalog("models").get(config["model_id"]),
        catalog("hardware").get(config["hardware_id"]),
        request.runtime,
        catalog("quantizations").get(config["quant"]),
        Workload(w.prompt_tokens, w.gen_tokens, config["concurrency"], context_alloc=config["context_alloc"]),
        ParallelLayout(config["tensor_parallel"], config["pipeline_parallel"], config["offload"]),
    )


def test_ten_thousand_candidates_in_one_call_and_the_rejections_add_up(throughput):
    result = throughput
    assert result["candidates"] >= 10_000 and result["evaluated"] >= 10_000
    rejected = result["rejected"]
    pre = sum(count for reason, count in rejected.items() if reason not in EVALUATED_REASONS)
    assert result["candidates"] == result["evaluated"] + pre
    assert result["evaluated"] == result["feasible"] + sum(rejected.get(reason, 0) for reason in EVALUATED_REASONS)
    assert all(count > 0 for reason, count in rejected.items() if reason != "insufficient_memory")


def test_every_returned_config_is_feasible_and_meets_the_constraints(throughput, bundle):
    request = big_request()
    assert len(throughput["top"]) == request.top
    for config in throughput["top"]:
        assert config["feasibility"] in ("in_vram", "with_offload")
        response = estimate(scenario_of(config, request), bundle)
        assert response["feasibility"] == config["feasibility"]
        assert response["estimates"]["decode_toks_sec"]["p50"] >= request.min_decode_tps
        assert response["estimates"]["ttft_ms"]["p50"] <= request.max_ttft_ms
        assert response["estimates"]["decode_toks_sec"]["p50"] == pytest.approx(
            config["expected_decode_toks_sec"], rel=1e-3
        )


def test_throughput_is_ranked_descending(throughput):
    rates = [config["expected_decode_toks_sec"] for config in throughput["top"]]
    assert rates == sorted(rates, reverse=True)


def test_latency_is_ranked_ascending(bundle):
    request = big_request(objective="latency")
    result = solve(request, bundle)
    latencies = [
        estimate(scenario_of(config, request), bundle)["estimates"]["latency_ms"]["p50"] for config in result["top"]
    ]
    assert len(latencies) == request.top and latencies == sorted(latencies)


def test_min_hardware_gives_one_entry_per_machine_cheapest_first(bundle):
    request = big_request(
        hardware=list(catalog("hardware")),
        objective="min_hardware",
        models=entries("models", ["llama-3-8b"]),
        min_decode_tps=None,
        max_ttft_ms=None,
        concurrency=[1],
        top=50,
    )
    result = solve(request, bundle)
    machines = [config["hardware_id"] for config in result["top"]]
    assert len(machines) == len(set(machines)) > 5
    prices = [config.get("price_usd", math.inf) for config in result["top"]]
    assert prices == sorted(prices)
    priced = {entry.id for entry in catalog("hardware") if entry.get("price_usd")}
    assert {m for m in machines if m in priced} and machines[: len([m for m in machines if m in priced])] == [
        m for m in machines if m in priced
    ]


def test_perf_per_dollar_ranks_by_decode_rate_per_price_and_only_priced_machines(bundle):
    request = big_request(objective="perf_per_dollar", min_decode_tps=None, max_ttft_ms=None, top=10)
    result = solve(request, bundle)
    per_kusd = [config["decode_toks_sec_per_kusd"] for config in result["top"]]
    assert len(per_kusd) == 10 and per_kusd == sorted(per_kusd, reverse=True)
    for config in result["top"]:  # the pack's figure, rounded once (the decode rate shown is rounded too)
        ratio = config["expected_decode_toks_sec"] / config["price_usd"] * 1e3
        assert config["decode_toks_sec_per_kusd"] == pytest.approx(ratio, rel=1e-3)
    priced = {entry.id for entry in catalog("hardware") if entry.get("price_usd")}
    assert {config["hardware_id"] for config in result["top"]} <= priced


def test_candidates_is_the_size_of_the_grid():
    quants = entries("quantizations", ["bf16", "fp8"])
    request = SolveRequest(
        entries("models", ["llama-3-8b", "qwen2.5-7b"]),
        entries("hardware", ["rtx-4090", "rtx-3090"]),
        catalog("runtimes").get("vllm"),
        WORKLOAD,
        quants=quants,
        tensor_parallel=[1, 2],
        pipeline_parallel=[1],
        offload=["none", "auto"],
        context_caps=[512, 2048, 4096],
        concurrency=[1, 2],
    )
    result = solve(request)
    assert result["candidates"] == 2 * 2 * 2 * 2 * 1 * 2 * 3 * 2 == grid_size(request)


# ---------------------------------------------------------------- brute force on a small grid
SMALL = {
    "models": ["llama-3-8b", "mixtral-8x7b"],
    "hardware": ["rtx-4090", "2x-rtx-3090", "apple-m1-max-64gb"],
    "quants": ["q4_k_m", "q8_0"],
    "tp": [1],
    "pp": [1, 2],
    "offload": ["none", "auto", "full"],
    "caps": [4096, 16384],
    "concurrency": [1, 4],
}


def small_request(objective: str) -> SolveRequest:
    return SolveRequest(
        entries("models", SMALL["models"]),
        entries("hardware", SMALL["hardware"]),
        catalog("runtimes").get("llama.cpp"),
        Workload(2000, 300),
        quants=entries("quantizations", SMALL["quants"]),
        tensor_parallel=SMALL["tp"],
        pipeline_parallel=SMALL["pp"],
        offload=SMALL["offload"],
        context_caps=SMALL["caps"],
        concurrency=SMALL["concurrency"],
        objective=objective,
        min_decode_tps=5.0,
        top=6,
    )


def brute_force(request: SolveRequest, bundle) -> tuple[list[dict], int]:
    """Every grid point estimated on its own; the acceptable ones with their figures, and how many were evaluated."""
    found, evaluated = [], 0
    for model, hardware, quant, tp, pp, offload, cap, concurrency in itertools.product(
        request.models,
        request.hardware,
        request.quants,
        SMALL["tp"],
        SMALL["pp"],
        SMALL["offload"],
        SMALL["caps"],
        SMALL["concurrency"],
    ):
        scenario = Scenario(
            model,
            hardware,
            request.runtime,
            quant,
            Workload(2000, 300, concurrency, context_alloc=cap),
            ParallelLayout(tp, pp, offload),
        )
        if layout_problems(scenario):
            continue
        evaluated += 1
        response = estimate(scenario, bundle)
        decode = response["estimates"]["decode_toks_sec"]["p50"]
        if response["feasibility"] != "insufficient_memory" and decode >= request.min_decode_tps:
            found.append(
                {
                    "key": (model.id, hardware.id, quant.id, tp, pp, concurrency),
                    "decode": decode,
                    "latency": response["estimates"]["latency_ms"]["p50"],
                    "offload": offload,
                    "cap": cap,
                }
            )
    return found, evaluated


@pytest.mark.parametrize("objective, figure, sign", [("throughput", "decode", -1), ("latency", "latency", 1)])
def test_best_configs_equal_a_brute_force_loop_of_single_estimates(bundle, objective, figure, sign):
    request = small_request(objective)
    result = solve(request, bundle)
    found, evaluated = brute_force(request, bundle)
    assert result["evaluated"] == evaluated and result["feasible"] == len(found) > 10
    best_per_key: dict[tuple, float] = {}
    for row in found:
        value = sign * row[figure]
        best_per_key[row["key"]] = min(best_per_key.get(row["key"], math.inf), value)
    expected = sorted(best_per_key.values())[: request.top]
    top = result["top"]
    if objective == "throughput":
        got = [-config["expected_decode_toks_sec"] for config in top]
    else:
        got = [estimate(scenario_of(config, request), bundle)["estimates"]["latency_ms"]["p50"] for config in top]
    assert got == pytest.approx(expected, rel=1e-3)
    best = top[0]
    key = (
        best["model_id"],
        best["hardware_id"],
        best["quant"],
        best["tensor_parallel"],
        best["pipeline_parallel"],
        best["concurrency"],
    )
    assert min(sign * row[figure] for row in found if row["key"] == key) == pytest.approx(expected[0], rel=1e-3)
