"""The LLM pack (formulas/llm.yaml) against the plain-loop oracle, the published parameter counts,
and properties over random catalog scenarios."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import oracle_llm as oracle

from symcost.packs.llm.analytic import analytic_model, scenario_values
from symcost.packs.llm.assess import SHARES, feasibility_codes
from symcost.packs.llm.backends import supported_backends
from symcost.packs.llm.catalog import CatalogEntry, catalog
from symcost.packs.llm.scenario import (
    Coefficients,
    ParallelLayout,
    Scenario,
    Workload,
    device_count,
    layout_problems,
    valid_tensor_parallel,
)

RAW = {kind: oracle.load_catalog(kind) for kind in oracle.ID_FIELDS}
MODELS = sorted(RAW["models"])
# Coefficients away from every default, kappas below 1 so dequantizing formats differ from plain ones.
COEFFICIENTS = {
    "eta_bw": 0.71,
    "eta_flops": 0.43,
    "t0_s": 6.5e-4,
    "kappa_bw": 0.9,
    "kappa_flops": 0.8,
    "t_layer_s": 2.5e-5,
}


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def close(actual: float, expected: float, relative: float = 1e-9) -> bool:
    return abs(actual - expected) <= relative * max(abs(expected), 1e-300)


def pack_scenario(
    model: str,
    hardware: str,
    runtime: str,
    quant: str,
    prompt: int = 512,
    gen: int = 128,
    concurrency: int = 1,
    depth: int = 0,
    tp: int = 1,
    pp: int = 1,
    offload: str = "auto",
    flash_attention: bool | None = None,
    coefficients: dict | None = COEFFICIENTS,
) -> Scenario:
    c = coefficients
    return Scenario(
        catalog("models").get(model),
        catalog("hardware").get(hardware),
        catalog("runtimes").get(runtime),
        catalog("quantizations").get(quant),
        Workload(prompt, gen, concurrency, depth),
        ParallelLayout(tp, pp, offload, flash_attention),
        Coefficients(c["eta_bw"], c["eta_flops"], c["t0_s"], c["kappa_bw"], c["kappa_flops"], c["t_layer_s"])
        if c
        else None,
    )


def oracle_scenario(
    model: str,
    hardware: str,
    runtime: str,
    quant: str,
    prompt: int = 512,
    gen: int = 128,
    concurrency: int = 1,
    depth: int = 0,
    tp: int = 1,
    pp: int = 1,
    offload: str = "auto",
    flash_attention: bool | None = None,
) -> dict:
    return {
        "model": RAW["models"][model],
        "hardware": RAW["hardware"][hardware],
        "runtime": RAW["runtimes"][runtime],
        "quant": RAW["quantizations"][quant],
        "workload": {"prompt_tokens": prompt, "gen_tokens": gen, "concurrency": concurrency, "depth_tokens": depth},
        "layout": {"tp": tp, "pp": pp, "offload": offload, "flash_attention": flash_attention},
        "coefficients": COEFFICIENTS,
    }


def evaluate(scenario: Scenario) -> dict[str, float]:
    """Every quantity of one scenario; the float path (scalars) and the array path (length-1 arrays) agree."""
    values = scenario_values(scenario)
    scalar = analytic_model().evaluate(values)
    array = analytic_model().evaluate({binding: np.array([value], dtype=float) for binding, value in values.items()})
    results = {}
    for name, value in scalar.items():
        results[name] = float(value)
        other = float(array[name][0])
        both_unknown = math.isnan(other) and math.isnan(results[name])  # a price or power not given
        assert other == results[name] or both_unknown or abs(other - results[name]) <= 1e-12 * abs(results[name]), name
    return results


# ---------------------------------------------------------------- parameters and bytes
@pytest.mark.parametrize("model_id", MODELS)
def test_parameter_count_matches_the_published_figure_and_the_oracle(model_id):
    raw = RAW["models"][model_id]
    results = evaluate(pack_scenario(model_id, "h100-sxm", "vllm", "bf16"))
    total, active = oracle.total_params(raw), oracle.active_params(raw)
    assert abs(total / 1e9 / raw["params_b"] - 1) <= 0.03
    if "active_params_b" in raw:
        assert abs(oracle.active_params_published_basis(raw) / 1e9 / raw["active_params_b"] - 1) <= 0.03
    else:
        assert active == total
    assert close(results["P_total"], total) and close(results["P_active"], active)
    assert close(results["P_matmul"], oracle.matmul_params(raw))


@pytest.mark.parametrize("model_id", MODELS)
@pytest.mark.parametrize("quant", ["bf16", "q4_k_m", "fp8", "awq-int4"])
def test_weight_and_kv_bytes_equal_the_oracle(model_id, quant):
    raw, raw_quant = RAW["models"][model_id], RAW["quantizations"][quant]
    runtime = "llama.cpp" if quant.startswith("q") else "vllm"
    results = evaluate(pack_scenario(model_id, "h100-sxm", runtime, quant, prompt=300, gen=20, concurrency=3))
    assert close(results["W"], oracle.weight_bytes(raw, raw_quant))
    assert close(results["kv_per_token"], oracle.kv_bytes_per_token(raw, raw_quant))
    s = oracle_scenario(model_id, "h100-sxm", runtime, quant, prompt=300, gen=20, concurrency=3)
    assert close(results["M_kv"], oracle.kv_cache_bytes(s))
    assert close(results["M_device_need"], oracle.device_need(s))


# ---------------------------------------------------------------- decode, prefill, a request
# (model, hardware, runtime, quant, prompt, gen, concurrency, depth, tp, pp, offload): dense, MoE, MLA, GQA with
# TP and PP, offload to host RAM over the CPU (llama.cpp) and the host link (vLLM), unified memory, a CPU server.
SCENARIOS = [
    ("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 512, 128, 1, 0, 1, 1, "auto"),
    ("llama-2-7b", "apple-m1-max-64gb", "llama.cpp", "q8_0", 1000, 300, 2, 0, 1, 1, "auto"),
    ("mixtral-8x7b", "rtx-4090", "llama.cpp", "q4_k_m", 512, 64, 1, 0, 1, 1, "auto"),
    ("mixtral-8x7b", "rtx-3090", "vllm", "awq-int4", 2048, 64, 2, 0, 1, 1, "auto"),
    ("deepseek-v2-lite", "h100-sxm", "vllm", "bf16", 1024, 64, 4, 0, 1, 1, "auto"),
    ("llama-3.1-70b", "8x-h100-sxm", "vllm", "fp8", 2048, 100, 16, 0, 4, 2, "auto"),
    ("llama-3.1-70b", "2x-rtx-3090", "llama.cpp", "q4_k_m", 512, 50, 1, 0, 1, 2, "auto"),
    ("qwen2.5-32b", "2x-a100-sxm-40gb", "tensorrt-llm", "fp8", 4096, 200, 8, 0, 2, 1, "none"),
    ("gpt-oss-20b", "2x-epyc-9654", "llama.cpp", "mxfp4", 300, 40, 3, 100, 1, 1, "auto"),
    ("gemma-2-9b", "rtx-3070", "llama.cpp", "q8_0", 700, 90, 1, 2000, 1, 1, "full"),
    ("test-13b", "a10", "fastertransformer", "f16", 256, 33, 5, 0, 1, 1, "auto"),
    # unfused attention: asked for (-fa 0), over a depth, split by rows; and Ollama's default
    ("llama-3-8b", "rtx-4090", "llama.cpp", "f16", 8192, 64, 1, 0, 1, 1, "auto", False),
    ("llama-3-8b", "a100-sxm-80gb", "llama.cpp", "q4_k_m", 1000, 300, 3, 5000, 1, 1, "auto", False),
    ("llama-3.1-70b", "2x-rtx-3090", "llama.cpp", "q4_k_m", 3000, 50, 1, 0, 2, 1, "auto", False),
    ("gemma-2-9b", "rtx-3070", "ollama", "q4_k_m", 2048, 64, 2, 700, 1, 1, "auto"),
]


def both(args):
    return oracle_scenario(*args), pack_scenario(*args)


@pytest.mark.parametrize("args", SCENARIOS, ids=lambda a: f"{a[0]}@{a[1]}")
def test_memory_and_feasibility_equal_the_oracle(args):
    s, scenario = both(args)
    results = evaluate(scenario)
    assert (
        close(results["W_off"], oracle.offloaded_weight_bytes(s))
        or results["W_off"] == oracle.offloaded_weight_bytes(s) == 0
    )
    assert close(results["M_vram_peak"], oracle.vram_peak(s))
    assert close(results["M_act"], oracle.activation_bytes(s))
    code = int(feasibility_codes({k: results[k] for k in ("vram_short", "ram_short", "W_off")}))
    assert ("in_vram", "with_offload", "insufficient_memory")[code] == oracle.feasibility(s)


@pytest.mark.parametrize("args", SCENARIOS, ids=lambda a: f"{a[0]}@{a[1]}")
def test_decode_time_is_the_summed_step_loop(args):
    """Memory-bound at every step (linear in context): S_g steps at the mean context are the loop exactly."""
    s, scenario = both(args)
    results = evaluate(scenario)
    steps = oracle.decode_steps(s)
    assert oracle.decode_max_gap(s) == 0
    assert all(
        p["memory"] >= p["compute"]
        for p in (oracle.decode_step_parts(s, oracle.decode_start(s) + i) for i in (0, len(steps) - 1))
    )
    assert close(args[5] * results["t_step"], sum(steps))
    assert close(results["latency"], oracle.latency(s))
    assert close(results["decode_tps"], args[6] * len(steps) / sum(steps))


def test_decode_crossing_from_compute_to_memory_bound_is_within_the_jensen_gap():
    """Compute-bound at the first steps, memory-bound at the last: the loop exceeds S_g mean steps by exactly
    (sum |memory_i - compute_i| - |sum (memory_i - compute_i)|) / 2, since both are affine in the context."""
    args = ("llama-3-8b", "h100-sxm", "vllm", "bf16", 128, 2048, 256, 0, 1, 1, "none")
    s, scenario = both(args)
    first, last = oracle.decode_step_parts(s, 128), oracle.decode_step_parts(s, 128 + 2047)
    assert first["compute"] > first["memory"] and last["memory"] > last["compute"]
    results = evaluate(scenario)
    packed, looped, gap = 2048 * results["t_step"], oracle.decode_time(s), oracle.decode_max_gap(s)
    assert gap > 1e-4 * looped
    assert packed <= looped <= packed + gap * (1 + 1e-9)
    assert close(looped, packed + gap)


@pytest.mark.parametrize("args", SCENARIOS, ids=lambda a: f"{a[0]}@{a[1]}")
def test_prefill_equals_the_micro_batch_loop(args):
    s, scenario = both(args)
    results = evaluate(scenario)
    parts = oracle.prefill_parts(s)
    assert results["n_ubatch"] == parts["micro_batches"]
    if oracle.moe_of(s["model"]) and len(oracle.micro_batches(s)[-1]) < len(oracle.micro_batches(s)[0]):
        # The pack reads the experts a FULL micro-batch touches in the last, partial one too: never less.
        last = oracle.micro_batches(s)[-1]
        slack = oracle.weights_read(s, len(oracle.micro_batches(s)[0])) - oracle.weights_read(s, len(last))
        assert oracle.prefill_time(s) <= results["t_prefill"] * (1 + 1e-12)
        bandwidth = oracle.device(s["hardware"])["mem_bw_gbps"] * 1e9
        bound = slack / (s["layout"]["tp"] * oracle.eta_bw(s) * bandwidth) + slack / oracle.host_link_bw(s["hardware"])
        assert results["t_prefill"] - oracle.prefill_time(s) <= bound * (1 + 1e-9)
    else:
        assert close(results["t_prefill"], oracle.prefill_time(s))
    assert close(results["t_pf_compute"], parts["compute"])


def test_prefill_attention_lies_between_the_discrete_causal_counts():
    s = oracle_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "f16", prompt=777, depth=123)
    results = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "f16", prompt=777, depth=123))
    matmul = 2 * oracle.matmul_params(s["model"]) * 777 + 2 * 128256 * 4096
    attention = results["FLOP_prefill"] - matmul
    low = sum(oracle.attention_flops_per_token(s, 123 + j) for j in range(777))
    high = sum(oracle.attention_flops_per_token(s, 123 + j + 1) for j in range(777))
    assert low < attention < high


@pytest.mark.parametrize("model_id, layers", [("llama-3-8b", 32), ("llama-3-70b", 80)])
def test_each_layer_adds_its_launch_time_to_every_forward_pass(model_id, layers):
    """By hand: t_layer = 25 us costs a decode step layers x 25 us and prefill that once per micro-batch."""
    with_launches = evaluate(pack_scenario(model_id, "rtx-4090", "llama.cpp", "q4_k_m", 2048, 64))
    no_launch = COEFFICIENTS | {"t_layer_s": 0.0}
    without = evaluate(pack_scenario(model_id, "rtx-4090", "llama.cpp", "q4_k_m", 2048, 64, coefficients=no_launch))
    assert close(with_launches["t_fixed"], 6.5e-4 + layers * 2.5e-5)
    assert close(with_launches["t_step"] - without["t_step"], layers * 2.5e-5, 1e-6)
    assert close(with_launches["t_prefill"] - without["t_prefill"], 4 * layers * 2.5e-5, 1e-6)  # 2048 / 512


def test_prefill_pays_for_the_activations_its_non_matmul_kernels_move():
    """By hand: Llama-3 8B (32 layers, hidden 4096, MLP 14336), 512 prompt tokens, FP32 activations:
    4 B x 512 x 32 x (22 x 4096 + 8 x 14336), moved at the RTX 4090's peak 1008 GB/s, after the matmuls."""
    results = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 512, 64))
    expected = 4 * 512 * 32 * (22 * 4096 + 8 * 14336)
    assert close(results["A_pf"], expected)
    assert close(results["t_pf_act"], expected / 1008e9)
    longer = max(results["t_pf_compute"], results["t_pf_memory"])
    assert close(results["t_prefill"], longer + results["t_pf_act"] + results["n_ubatch"] * results["t_fixed"])


def test_ttft_is_prefill_plus_the_first_step_and_ignores_later_tokens():
    short = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 512, 1, 8))
    long = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 512, 4096, 8))
    s = oracle_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 512, 4096, 8)
    assert close(long["ttft"], oracle.ttft(s), 1e-6)
    assert close(long["ttft"], short["ttft"], 1e-6)


# ---------------------------------------------------------------- properties over random scenarios
RUNTIMES = sorted(RAW["runtimes"])
HARDWARE = sorted(RAW["hardware"])


@st.composite
def scenarios(draw, offload=None):
    model = catalog("models").get(draw(st.sampled_from(MODELS)))
    runtime = catalog("runtimes").get(draw(st.sampled_from(RUNTIMES)))
    # a machine the runtime has a backend for (MLX runs on Apple silicon only, TensorRT-LLM on NVIDIA GPUs)
    hardware = catalog("hardware").get(
        draw(st.sampled_from([name for name in HARDWARE if supported_backends(runtime, catalog("hardware").get(name))]))
    )
    quant = catalog("quantizations").get(draw(st.sampled_from(sorted(runtime["supported_quant"]))))
    count = device_count(hardware)
    tps = [tp for tp in valid_tensor_parallel(model, count) if tp == 1 or runtime.get("tensor_parallel")]
    tp = draw(st.sampled_from(tps))
    pp = draw(st.sampled_from([pp for pp in range(1, count // tp + 1)]))
    workload = Workload(
        draw(st.integers(0, 8192)),
        draw(st.integers(1, 1024)),
        draw(st.integers(1, 64)),
        draw(st.sampled_from([0, 0, 1000])),
    )
    layout = ParallelLayout(tp, pp, offload or draw(st.sampled_from(["none", "auto", "full"])))
    coefficients = Coefficients(
        draw(st.floats(0.3, 1.0)),
        draw(st.floats(0.1, 0.9)),
        draw(st.floats(0, 5e-3)),
        draw(st.floats(0.5, 1.2)),
        draw(st.floats(0.5, 1.2)),
    )
    scenario = Scenario(model, hardware, runtime, quant, workload, layout, coefficients)
    assert not layout_problems(scenario)
    return scenario


def with_device(scenario: Scenario, field: str, factor: float) -> Scenario:
    """The scenario on a copy of its hardware whose computing device has ``field`` scaled by ``factor``."""
    data = copy.deepcopy(scenario.hardware.data)
    if data.get("gpus"):
        data["gpus"][0][field] *= factor
    elif field == "vram_gb":
        data["ram_gb"] *= factor
    else:
        data["cpu"][field] *= factor
    return scenario.with_(hardware=CatalogEntry("hardware", scenario.hardware.id, data, "test"))


def with_workload(scenario: Scenario, **changes) -> Scenario:
    w = scenario.workload
    fields = {
        "prompt_tokens": w.prompt_tokens,
        "gen_tokens": w.gen_tokens,
        "concurrency": w.concurrency,
        "depth_tokens": w.depth_tokens,
        **changes,
    }
    return scenario.with_(workload=Workload(**fields))


@examples(150)
@given(scenarios())
def test_decode_rate_is_positive_and_finite_and_the_shares_sum_to_one(scenario):
    results = evaluate(scenario)
    assert 0 < results["decode_tps"] < math.inf and 0 < results["decode_tps_per_sequence"] < math.inf
    assert all(results[name] >= 0 for name in SHARES.values())
    assert abs(sum(results[name] for name in SHARES.values()) - 1) <= 1e-9


@examples(150)
@given(scenarios(), st.floats(1.0, 4.0))
def test_more_bandwidth_never_slows_decode(scenario, factor):
    before = evaluate(scenario)["decode_tps"]
    assert evaluate(with_device(scenario, "mem_bw_gbps", factor))["decode_tps"] >= before * (1 - 1e-12)


@examples(150)
@given(scenarios(), st.integers(1, 64))
def test_more_concurrency_never_lowers_aggregate_decode_rate(scenario, extra):
    """At the same share of weights in host RAM (more sequences may push weights out of VRAM: a slower machine)."""
    more = with_workload(scenario, concurrency=scenario.workload.concurrency + extra)
    before, after = evaluate(scenario), evaluate(more)
    if after["f_off"] == before["f_off"]:
        assert after["decode_tps"] >= before["decode_tps"] * (1 - 1e-12)


@examples(150)
@given(scenarios(), st.integers(1, 8192))
def test_longer_context_never_raises_the_per_sequence_decode_rate(scenario, extra):
    longer = with_workload(scenario, prompt_tokens=scenario.workload.prompt_tokens + extra)
    assert evaluate(longer)["decode_tps_per_sequence"] <= evaluate(scenario)["decode_tps_per_sequence"] * (1 + 1e-12)


@examples(150)
@given(scenarios(), st.floats(1.0, 8.0))
def test_more_device_memory_never_worsens_the_feasibility_class(scenario, factor):
    before = evaluate(scenario)
    after = evaluate(with_device(scenario, "vram_gb", factor))

    def code(r):
        return int(feasibility_codes({k: r[k] for k in ("vram_short", "ram_short", "W_off")}))

    assert code(after) <= code(before)


@examples(100)
@given(scenarios())
def test_nothing_is_offloaded_without_offload_or_with_unified_memory(scenario):
    unified = scenario.hardware.get("memory") == "unified" or not scenario.hardware.get("gpus")
    for policy in ("none", "auto", "full"):
        results = evaluate(
            scenario.with_(
                layout=ParallelLayout(scenario.layout.tensor_parallel, scenario.layout.pipeline_parallel, policy)
            )
        )
        if policy == "none" or unified or scenario.runtime.get("offload") == "none":
            assert results["W_off"] == 0 and results["t_offload"] == 0 and results["M_ram_peak"] == 0


def test_unfused_attention_moves_every_score_through_memory():
    """By hand: Llama-3 8B (32 layers, 32 heads), 8192 prompt tokens with -fa 0 on an RTX 4090 (1008 GB/s):
    llama.cpp's unfused path moves its catalog's attention_score_bytes (24) per score, 32 x 32 x 8192^2 / 2
    causal scores in prefill, at the peak bandwidth; each decode step that x 32 x 32 per cached token, with the
    KV cache."""
    score_bytes = RAW["runtimes"]["llama.cpp"]["attention_score_bytes"]
    fused = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "f16", 8192, 64))
    unfused = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "f16", 8192, 64, flash_attention=False))
    scores = score_bytes * 32 * 32 * 8192**2 / 2
    assert fused["A_pf_scores"] == 0 and close(unfused["A_pf_scores"], scores)
    assert close(unfused["t_prefill"] - fused["t_prefill"], scores / 1008e9, 1e-6)
    per_step = score_bytes * 32 * 32 * (8192 + 63 / 2)
    assert fused["Sc_step"] == 0 and close(unfused["Sc_step"], per_step)
    assert close(unfused["t_mem"] - fused["t_mem"], per_step / (unfused["eta_bw_q"] * 1008e9), 1e-6)


def test_flash_attention_follows_the_runtime_unless_the_run_sets_it():
    """llama.cpp runs fused attention unless -fa 0; Ollama unfused unless its flash-attention switch is on."""
    llama = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 4096))
    assert llama["A_pf_scores"] == 0
    assert evaluate(pack_scenario("llama-3-8b", "rtx-4090", "llama.cpp", "q4_k_m", 4096, flash_attention=True)) == llama
    ollama = evaluate(pack_scenario("llama-3-8b", "rtx-4090", "ollama", "q4_k_m", 4096))
    ollama_bytes = RAW["runtimes"]["ollama"]["attention_score_bytes"]
    assert close(ollama["A_pf_scores"], ollama_bytes * 32 * 32 * 4096**2 / 2)
    assert (
        evaluate(pack_scenario("llama-3-8b", "rtx-4090", "ollama", "q4_k_m", 4096, flash_attention=True))["A_pf_scores"]
        == 0
    )
