"""Plain step-by-step oracle for the LLM estimator (formulas/llm.yaml).

Written from the pack's documented formulas and the catalogs' field meanings,
not from symcost.packs.llm: it never imports the pack, its compiled evaluator or the
scenario code. Catalog entries are the plain dicts of catalogs/*.yaml; every
quantity is one function over plain floats, counted layer by layer, decode
step by decode step and prefill micro-batch by micro-batch.

A scenario here is a dict:
    {"model": {...}, "hardware": {...}, "runtime": {...}, "quant": {...},
     "workload": {"prompt_tokens", "gen_tokens", "concurrency", "depth_tokens",
                  "decode_start_tokens" (optional), "context_alloc" (optional)},
     "layout": {"tp", "pp", "offload"},
     "coefficients": {"eta_bw", "eta_flops", "t0_s", "kappa_bw", "kappa_flops", "t_layer_s" (optional, 0)}}

Conventions taken from the pack's documentation:
- GB = 1e9 B, TFLOPS = 1e12 FLOP/s, latency_us = 1e-6 s, activations 2 B, logits 4 B;
- head dimension = hidden size / heads unless the model gives head_dim;
- the device is the first GPU type (its count summed over the GPU list), or the CPU
  of a CPU-only server (then its memory is the server's RAM and memory counts as unified);
- the peak FLOP rate is the device's figure at the quantization's compute precision
  (fp8 and fp4 read fp8_tflops, bf16 reads bf16_tflops) when listed, else fp16_tflops, read as
  fp16_acc16_tflops when the runtime accumulates in FP16 (matmul_accumulate: fp16) and the device lists it;
- block-quantized families (gguf, awq, gptq, exl2, mlx, mxfp, nvfp) dequantize:
  their efficiencies are scaled by kappa_bw / kappa_flops;
- prefill's non-matmul kernels read and write FP32 activations, per prompt token and layer 22
  hidden-size vectors (on every device) and 8 MLP-width ones (the layer's dense MLP, or its routed
  top-k and shared experts; split by tensor parallelism), at the peak bandwidth (no fitted efficiency),
  after the matmuls (added to the longer of compute and weight reads);
- a prompt token at position j (0-based, after S_0 cached tokens) attends to
  S_0 + j + 1/2 tokens: the continuum form S_p*S_0 + S_p^2/2 the pack documents
  (the discrete counts S_0 + j and S_0 + j + 1 bracket it).
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GB = 1e9
TERA = 1e12
ACT_BYTES = 2
LOGIT_BYTES = 4
# prefill's non-matmul kernels move FP32 activations: per token and layer 22 hidden-size vectors and 8 MLP-width ones
ACT_F32_BYTES = 4
ACT_HIDDEN_VECTORS = 22
ACT_MLP_VECTORS = 8
# unfused attention moves each score through memory: by default FP32 scores written, read and written by the
# softmax, read by the product with V
DEFAULT_SCORE_BYTES = 4 + (4 + 4) + 4
DEQUANTIZING = {"gguf", "awq", "gptq", "exl2", "mlx", "mxfp", "nvfp"}
ID_FIELDS = {"models": "model_id", "hardware": "hardware_id", "runtimes": "runtime_id", "quantizations": "quant_id"}


def load_catalog(kind: str) -> dict[str, dict]:
    """id -> raw entry of catalogs/<kind>.yaml."""
    with open(ROOT / "catalogs" / f"{kind}.yaml", encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)[kind]
    return {entry[ID_FIELDS[kind]]: entry for entry in entries}


# ---------------------------------------------------------------- architecture
def head_dim(model: dict) -> float:
    return model.get("head_dim") or model["hidden_size"] / model["n_heads"]


def moe_of(model: dict) -> dict | None:
    moe = model.get("moe") or {}
    return moe if moe.get("enabled") else None


def mlp_matrices(model: dict) -> int:
    return 3 if model.get("mlp", "gated") == "gated" else 2


def is_moe_layer(model: dict, layer: int) -> bool:
    """MoE models keep a dense MLP in their first dense_layers layers."""
    moe = moe_of(model)
    return moe is not None and layer >= moe.get("dense_layers", 0)


def attention_params(model: dict) -> float:
    d, heads = model["hidden_size"], model["n_heads"]
    if model.get("attention") == "mla":
        mla = model["mla"]
        qk = mla["qk_nope_head_dim"] + mla["qk_rope_head_dim"]
        if mla.get("q_lora_rank", 0) > 0:
            query = d * mla["q_lora_rank"] + mla["q_lora_rank"] * heads * qk
        else:
            query = d * heads * qk
        latent_down = d * (mla["kv_lora_rank"] + mla["qk_rope_head_dim"])
        kv_up = mla["kv_lora_rank"] * heads * (mla["qk_nope_head_dim"] + mla["v_head_dim"])
        output = heads * mla["v_head_dim"] * d
        return query + latent_down + kv_up + output
    dh = head_dim(model)
    return d * heads * dh + 2 * d * model["n_kv_heads"] * dh + heads * dh * d


def dense_mlp_params(model: dict) -> float:
    return mlp_matrices(model) * model["hidden_size"] * model["intermediate_size"]


def expert_params(model: dict) -> float:
    return mlp_matrices(model) * model["hidden_size"] * moe_of(model)["expert_intermediate_size"]


def router_params(model: dict) -> float:
    return model["hidden_size"] * moe_of(model)["experts"]


def norm_params(model: dict) -> float:
    return 2 * model["hidden_size"]


def layer_params(model: dict, layer: int, experts: float) -> float:
    """Weights of one layer, counting ``experts`` routed experts of a MoE layer (plus its shared ones)."""
    mlp = dense_mlp_params(model)
    if is_moe_layer(model, layer):
        mlp = (experts + moe_of(model).get("shared_experts", 0)) * expert_params(model) + router_params(model)
    return norm_params(model) + attention_params(model) + mlp


def embedding_params(model: dict) -> float:
    """Input embedding plus output head; one matrix when tied."""
    matrices = 1 if model.get("tied_embeddings") else 2
    return matrices * model["vocab_size"] * model["hidden_size"]


def total_params(model: dict) -> float:
    moe = moe_of(model)
    experts = moe["experts"] if moe else 0
    return embedding_params(model) + sum(layer_params(model, layer, experts) for layer in range(model["layers"]))


def active_params(model: dict) -> float:
    moe = moe_of(model)
    experts = moe["top_k"] if moe else 0
    return embedding_params(model) + sum(layer_params(model, layer, experts) for layer in range(model["layers"]))


def matmul_params(model: dict) -> float:
    """Weights every token multiplies through: the active ones without embedding and output head."""
    return active_params(model) - embedding_params(model)


def active_params_published_basis(model: dict) -> float:
    """Active parameters counted the way the publisher counts them (the catalog's active_params_basis)."""
    active = active_params(model)
    if model.get("active_params_basis") == "excluding_input_embedding":
        active -= model["vocab_size"] * model["hidden_size"]
    return active


# ---------------------------------------------------------------- bytes
def weight_bytes(model: dict, quant: dict) -> float:
    return total_params(model) * quant["bits_per_weight"] / 8


def kv_bytes_per_token(model: dict, quant: dict) -> float:
    """Keys and values of one token over every layer (MLA keeps the latent and the rotary key)."""
    bits = quant.get("kv_bits", 16)
    total = 0.0
    for _ in range(model["layers"]):
        if model.get("attention") == "mla":
            elements = model["mla"]["kv_lora_rank"] + model["mla"]["qk_rope_head_dim"]
        else:
            elements = 2 * model["n_kv_heads"] * head_dim(model)
        total += elements * bits / 8
    return total


# ---------------------------------------------------------------- hardware and runtime
def device(hardware: dict) -> dict:
    gpus = hardware.get("gpus") or []
    if gpus:
        return {**gpus[0], "memory_gb": gpus[0]["vram_gb"], "count": sum(g.get("count", 1) for g in gpus)}
    return {**hardware["cpu"], "memory_gb": hardware["ram_gb"], "count": 1}


def is_unified(hardware: dict) -> bool:
    return hardware.get("memory") == "unified" or not hardware.get("gpus")


def peak_flops(hardware: dict, quant: dict, runtime: dict) -> float:
    dev = device(hardware)
    field = {"fp8": "fp8_tflops", "fp4": "fp8_tflops", "bf16": "bf16_tflops"}.get(quant.get("compute", "fp16"))
    figure = dev.get(field) if field else None
    fp16 = dev.get("fp16_acc16_tflops") if field is None and runtime.get("matmul_accumulate") == "fp16" else None
    return (figure or fp16 or dev["fp16_tflops"]) * TERA


def host_mem_bw(hardware: dict) -> float:
    cpu = hardware.get("cpu") or {}
    return (cpu.get("mem_bw_gbps") or device(hardware)["mem_bw_gbps"]) * GB


def host_link_bw(hardware: dict) -> float:
    """Device-to-host bandwidth: the host link, else the interconnect, else host memory (unified)."""
    figure = hardware.get("host_link_gbps") or (hardware.get("interconnect") or {}).get("bw_gbps")
    return figure * GB if figure else host_mem_bw(hardware)


def link_bw(hardware: dict) -> float:
    link = hardware.get("interconnect") or {}
    figure = link.get("bw_gbps") or hardware.get("host_link_gbps")
    return figure * GB if figure else host_mem_bw(hardware)


def link_latency(hardware: dict) -> float:
    return (hardware.get("interconnect") or {}).get("latency_us", 0.0) * 1e-6


def collective_latency(hardware: dict) -> float:
    return (hardware.get("interconnect") or {}).get("collective_latency_us", 0.0) * 1e-6


def offload_policy(s: dict) -> str:
    """The layout's policy, or none when the runtime cannot offload."""
    return s["layout"]["offload"] if s["runtime"].get("offload", "none") != "none" else "none"


def eta_bw(s: dict) -> float:
    c = s["coefficients"]
    return c["eta_bw"] * (c["kappa_bw"] if s["quant"].get("family") in DEQUANTIZING else 1.0)


def eta_flops(s: dict) -> float:
    c = s["coefficients"]
    return c["eta_flops"] * (c["kappa_flops"] if s["quant"].get("family") in DEQUANTIZING else 1.0)


# ---------------------------------------------------------------- workload
def decode_start(s: dict) -> float:
    w = s["workload"]
    if w.get("decode_start_tokens") is not None:
        return w["decode_start_tokens"]
    return w.get("depth_tokens", 0) + w["prompt_tokens"]


def context_alloc(s: dict) -> float:
    w = s["workload"]
    if w.get("context_alloc"):
        return w["context_alloc"]
    return max(w.get("depth_tokens", 0) + w["prompt_tokens"], decode_start(s)) + w["gen_tokens"]


def devices(s: dict) -> int:
    return s["layout"]["tp"] * s["layout"]["pp"]


def usable_device_memory(s: dict) -> float:
    return (
        device(s["hardware"])["memory_gb"]
        * GB
        * s["hardware"].get("usable_memory_fraction", 1.0)
        * s["runtime"]["defaults"]["memory_utilization"]
    )


def sequences(s: dict) -> float:
    """Concurrent sequences: requested, or for a max-load run as many as fit (at least 1, at most the runtime's)."""
    w = s["workload"]
    if not w.get("saturate"):
        return w["concurrency"]
    rt = s["runtime"]["defaults"]
    free = (
        usable_device_memory(s) * devices(s) - weight_bytes(s["model"], s["quant"]) - devices(s) * rt["buffer_gb"] * GB
    )
    per_sequence = kv_bytes_per_token(s["model"], s["quant"]) * context_alloc(s) * (1 + rt["kv_reserve_fraction"])
    return min(s["runtime"].get("max_batch", 256), max(1, math.floor(free / per_sequence)))


# ---------------------------------------------------------------- memory
def kv_cache_bytes(s: dict) -> float:
    return kv_bytes_per_token(s["model"], s["quant"]) * context_alloc(s) * sequences(s)


def activation_bytes(s: dict) -> float:
    """One micro-batch's tokens in flight (hidden states, attention and MLP intermediates) and every sequence's logits."""
    model, b = s["model"], sequences(s)
    moe = moe_of(model)
    widest_mlp = (
        max(model["intermediate_size"], moe["top_k"] * moe["expert_intermediate_size"])
        if moe
        else model["intermediate_size"]
    )
    per_token = ACT_BYTES * (4 * model["hidden_size"] + 2 * widest_mlp)
    in_flight = min(s["runtime"]["defaults"]["ubatch"], max(b, s["workload"]["prompt_tokens"] * b))
    return per_token * in_flight + LOGIT_BYTES * model["vocab_size"] * b


def device_need(s: dict) -> float:
    rt = s["runtime"]["defaults"]
    kv = kv_cache_bytes(s)
    split = weight_bytes(s["model"], s["quant"]) + kv + rt["kv_reserve_fraction"] * kv
    return split / devices(s) + activation_bytes(s) + rt["buffer_gb"] * GB


def device_excess(s: dict) -> float:
    return max(0.0, device_need(s) - usable_device_memory(s))


def offloaded_weight_bytes(s: dict) -> float:
    if is_unified(s["hardware"]):
        return 0.0
    weights = weight_bytes(s["model"], s["quant"])
    policy = offload_policy(s)
    if policy == "full":
        return weights
    if policy == "auto":
        return min(weights, device_excess(s) * devices(s))
    return 0.0


def offloaded_share(s: dict) -> float:
    return offloaded_weight_bytes(s) / weight_bytes(s["model"], s["quant"])


def vram_peak(s: dict) -> float:
    return device_need(s) - offloaded_weight_bytes(s) / devices(s)


def feasibility(s: dict) -> str:
    vram_short = max(0.0, vram_peak(s) - usable_device_memory(s))
    ram_short = max(0.0, offloaded_weight_bytes(s) - s["hardware"].get("ram_gb", 0.0) * GB)
    if vram_short > 0 or ram_short > 0:
        return "insufficient_memory"
    return "with_offload" if offloaded_weight_bytes(s) > 0 else "in_vram"


# ---------------------------------------------------------------- decode, step by step
def experts_touched(model: dict, tokens: float) -> float:
    """Expected distinct routed experts ``tokens`` tokens route to (uniform top-k routing)."""
    moe = moe_of(model)
    return moe["experts"] * (1 - (1 - moe["top_k"] / moe["experts"]) ** tokens)


def weights_read(s: dict, tokens: float) -> float:
    """Weight bytes a forward pass of ``tokens`` tokens reads: output head, every layer, the experts touched."""
    model = s["model"]
    touched = experts_touched(model, tokens) if moe_of(model) else 0
    params = model["vocab_size"] * model["hidden_size"]
    params += sum(layer_params(model, layer, touched) for layer in range(model["layers"]))
    return params * s["quant"]["bits_per_weight"] / 8


def flash_attention(s: dict) -> bool:
    """The run's own setting, else the runtime's kernel flag."""
    asked = s["layout"].get("flash_attention")
    return asked if asked is not None else s["runtime"].get("kernel_flags", {}).get("flash_attention", True)


def score_traffic_per_token(s: dict, attended: float) -> float:
    """Bytes of the attention scores of one token over ``attended`` cached tokens, every layer and head, when
    attention is not fused (0 when it is)."""
    if flash_attention(s):
        return 0.0
    model = s["model"]
    score_bytes = s["runtime"].get("attention_score_bytes", DEFAULT_SCORE_BYTES)
    return sum(score_bytes * model["n_heads"] * attended for _ in range(model["layers"]))


def attention_flops_per_token(s: dict, attended: float) -> float:
    """Scores and weighted values of one token over ``attended`` cached tokens, every layer."""
    model = s["model"]
    return sum(4 * model["n_heads"] * head_dim(model) * attended for _ in range(model["layers"]))


def tp_time(s: dict, tokens: float) -> float:
    """Two ring all-reduces of the hidden state of ``tokens`` tokens per layer."""
    tp = s["layout"]["tp"]
    if tp == 1:
        return 0.0
    hw, d = s["hardware"], s["model"]["hidden_size"]
    chunk = tokens * d * ACT_BYTES / tp  # a ring moves one 1/tp chunk per step
    steps = [link_latency(hw) + chunk / link_bw(hw) for _ in range(tp - 1)]  # reduce-scatter
    steps += [link_latency(hw) + chunk / link_bw(hw) for _ in range(tp - 1)]  # all-gather
    one = collective_latency(hw) + sum(steps)
    return sum(2 * one for _ in range(s["model"]["layers"]))


def pp_time(s: dict, tokens: float) -> float:
    """The hidden state of ``tokens`` tokens handed over at each of the pp - 1 stage boundaries."""
    hw, d = s["hardware"], s["model"]["hidden_size"]
    return sum(link_latency(hw) + tokens * d * ACT_BYTES / link_bw(hw) for _ in range(s["layout"]["pp"] - 1))


def decode_step_parts(s: dict, cached: float) -> dict[str, float]:
    """Pieces of one decode step when every sequence has ``cached`` tokens in its KV cache."""
    model, hw = s["model"], s["hardware"]
    b, tp = sequences(s), s["layout"]["tp"]
    bandwidth = device(hw)["mem_bw_gbps"] * GB
    weights = weights_read(s, b)
    f_off = offloaded_share(s)
    kv = kv_bytes_per_token(model, s["quant"]) * cached * b
    scores = score_traffic_per_token(s, cached) * b
    memory = ((1 - f_off) * weights + kv + scores) / (tp * eta_bw(s) * bandwidth)
    flops = 2 * (matmul_params(model) + model["vocab_size"] * model["hidden_size"]) * b
    flops += attention_flops_per_token(s, cached) * b
    compute = flops / (tp * eta_flops(s) * peak_flops(hw, s["quant"], s["runtime"]))
    offload_bw = host_mem_bw(hw) if s["runtime"].get("offload") == "cpu_layers" else host_link_bw(hw)
    offload = f_off * weights / (eta_bw(s) * offload_bw)
    return {
        "memory": memory,
        "compute": compute,
        "offload": offload,
        "tp": tp_time(s, b),
        "pp": pp_time(s, b),
        "t0": forward_pass_overhead(s),
    }


def forward_pass_overhead(s: dict) -> float:
    """Fixed time of one forward pass: the host part, then each layer's launches and synchronisations."""
    overhead = s["coefficients"]["t0_s"]
    for _ in range(s["model"]["layers"]):
        overhead += s["coefficients"].get("t_layer_s", 0.0)
    return overhead


def decode_step_time(s: dict, cached: float) -> float:
    p = decode_step_parts(s, cached)
    return max(p["memory"], p["compute"]) + p["offload"] + p["tp"] + p["pp"] + p["t0"]


def decode_steps(s: dict) -> list[float]:
    """Time of step i = 0 .. S_g - 1; step i reads the KV of S_d + i tokens per sequence."""
    start = decode_start(s)
    return [decode_step_time(s, start + i) for i in range(s["workload"]["gen_tokens"])]


def decode_time(s: dict) -> float:
    return sum(decode_steps(s))


def decode_max_gap(s: dict) -> float:
    """How far the summed loop may exceed S_g steps at the mean context (Jensen gap of max(memory, compute)).

    With c_i = memory_i - compute_i (affine in i), sum max = sum (m + c)/2 + |c|/2 and
    S_g max(mean) = sum (m + c)/2 + |sum c|/2, so the gap is (sum |c_i| - |sum c_i|) / 2.
    """
    start, gaps = decode_start(s), []
    for i in range(s["workload"]["gen_tokens"]):
        p = decode_step_parts(s, start + i)
        gaps.append(p["memory"] - p["compute"])
    return (sum(abs(c) for c in gaps) - abs(sum(gaps))) / 2


# ---------------------------------------------------------------- prefill, micro-batch by micro-batch
def micro_batches(s: dict) -> list[list[int]]:
    """Prompt positions of the tokens of each micro-batch (sequence after sequence, u_b tokens at a time)."""
    prompt, b = s["workload"]["prompt_tokens"], int(sequences(s))
    ubatch = s["runtime"]["defaults"]["ubatch"]
    positions = [j for _ in range(b) for j in range(prompt)]
    batches = [positions[start : start + ubatch] for start in range(0, len(positions), ubatch)]
    return batches or [[]]


def mlp_width(model: dict, layer: int) -> float:
    """Intermediate activations one token has in the layer's MLP: the dense MLP's, or its experts' together."""
    if is_moe_layer(model, layer):
        moe = moe_of(model)
        return (moe["top_k"] + moe.get("shared_experts", 0)) * moe["expert_intermediate_size"]
    return model.get("intermediate_size", 0)


def activation_traffic(s: dict, tokens: float) -> float:
    """Bytes prefill's non-matmul kernels read and write for ``tokens`` prompt tokens, layer by layer."""
    model, tp = s["model"], s["layout"]["tp"]
    per_token = sum(
        ACT_HIDDEN_VECTORS * model["hidden_size"] + ACT_MLP_VECTORS * mlp_width(model, layer) / tp
        for layer in range(model["layers"])
    )
    return ACT_F32_BYTES * per_token * tokens


def prefill_parts(s: dict) -> dict[str, float]:
    model, hw, tp, pp = s["model"], s["hardware"], s["layout"]["tp"], s["layout"]["pp"]
    depth, b = s["workload"].get("depth_tokens", 0), sequences(s)
    bandwidth = device(hw)["mem_bw_gbps"] * GB
    f_off = offloaded_share(s)
    per_token_matmul = 2 * matmul_params(model)
    flops = weights = offloaded = scores = tp_comm = pp_comm = overhead = 0.0
    batches = micro_batches(s)
    for batch in batches:
        flops += sum(per_token_matmul + attention_flops_per_token(s, depth + j + 0.5) for j in batch)
        scores += sum(score_traffic_per_token(s, depth + j + 0.5) for j in batch) / tp
        read = weights_read(s, len(batch))
        weights += (1 - f_off) * read
        offloaded += f_off * read
        tp_comm += tp_time(s, len(batch))
        pp_comm += pp_time(s, len(batch))
        overhead += forward_pass_overhead(s)
    flops += 2 * model["vocab_size"] * model["hidden_size"] * b  # output head of each sequence's last token
    overlapped = s["runtime"].get("pipeline") == "microbatched"
    in_flight = len(batches) if overlapped else 1
    return {
        "compute": flops / (tp * eta_flops(s) * peak_flops(hw, s["quant"], s["runtime"])),
        "memory": weights / (tp * eta_bw(s) * bandwidth),
        "activations": activation_traffic(s, sum(len(batch) for batch in batches)) / bandwidth,
        "scores": scores / bandwidth,
        "pipeline_factor": (in_flight + pp - 1) / (in_flight * pp),
        "offload": offloaded / host_link_bw(hw),
        "tp": tp_comm,
        "pp": pp_comm,
        "t0": overhead,
        "micro_batches": len(batches),
    }


def prefill_time(s: dict) -> float:
    p = prefill_parts(s)
    return (
        (max(p["compute"], p["memory"]) + p["activations"] + p["scores"]) * p["pipeline_factor"]
        + p["offload"]
        + p["tp"]
        + p["pp"]
        + p["t0"]
    )


# ---------------------------------------------------------------- a request
def ttft(s: dict) -> float:
    """Prefill, then the first decode step (from S_d cached tokens)."""
    return prefill_time(s) + decode_step_time(s, decode_start(s))


def latency(s: dict) -> float:
    return prefill_time(s) + decode_time(s)
