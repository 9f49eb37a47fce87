"""Run the public tool llm-analysis on the rows of the LLM calibration CSV.

A side benchmark for the accuracy doc of symcost's LLM inference estimator:
the same error metrics for llm-analysis (cli99/llm-analysis, Cheng Li) on the
same measured rows. It runs ONLY in its own environment, made by
benchmarks/llm-analysis-env.sh, and never imports symcost:

    sh benchmarks/llm-analysis-env.sh                      # .bench-venv/llm-analysis
    .bench-venv/llm-analysis/bin/python benchmarks/llm_analysis_rows.py \
        [--csv PATH] [--output PATH] [--repeat 5]

Model, GPU and data-type configs are built as llm-analysis objects from each
row and passed to the LLMAnalysis class directly, so nothing is looked up on
the Hugging Face Hub (the Hub is also switched offline before import).
llm-analysis's own efficiency defaults are used and recorded.

Everything the CSV does not give is in the tables below, each with where it
comes from; the run also writes those choices into the JSON per row.
"""

import argparse
import csv
import importlib.metadata
import json
import logging
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

# llm-analysis imports transformers (for its Hub look-up, unused here): keep
# both offline and quiet before anything is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from llm_analysis import constant as la_constant
from llm_analysis.analysis import LLMAnalysis
from llm_analysis.config import (
    DtypeConfig,
    GPUConfig,
    ModelConfig,
    ParallelismConfig,
)
from llm_analysis.logger import logger as la_logger

la_logger.setLevel(logging.ERROR)

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE.parent.parent / "shared" / "data" / "llm_bench_calibration.csv"
DEFAULT_OUTPUT = HERE / "results" / "llm_analysis_rows.json"

SERVING_BATCH = 256  # rows whose batch is "max ...": aggregate serving throughput

# Per-model figures the CSV does not carry. Matched on the start of the CSV
# "model" string (longest prefix first).
#   vocab: vocabulary size; ffn: FFN intermediate width (per expert for MoE);
#   experts/top_k: llm-analysis's moe_num_experts / moe_top_k (it has MoE
#   fields); max_seq_len: the model's context length.
MODELS = {
    "Llama-3 8B": {
        "vocab": 128256,
        "ffn": 14336,
        "max_seq_len": 8192,
        "provenance": "Hugging Face config.json of meta-llama/Meta-Llama-3-8B "
        "(vocab_size, intermediate_size, max_position_embeddings)",
    },
    "Llama-3.1 8B": {
        "vocab": 128256,
        "ffn": 14336,
        "max_seq_len": 131072,
        "provenance": "Hugging Face config.json of meta-llama/Llama-3.1-8B",
    },
    "Llama-3 70B": {
        "vocab": 128256,
        "ffn": 28672,
        "max_seq_len": 8192,
        "provenance": "Hugging Face config.json of meta-llama/Meta-Llama-3-70B",
    },
    "Llama-3.3 70B": {
        "vocab": 128256,
        "ffn": 28672,
        "max_seq_len": 131072,
        "provenance": "Hugging Face config.json of meta-llama/Llama-3.3-70B-Instruct",
    },
    "gpt-oss-20b": {
        "vocab": 201088,
        "ffn": 2880,
        "experts": 32,
        "top_k": 4,
        "max_seq_len": 131072,
        "provenance": "Hugging Face config.json of openai/gpt-oss-20b "
        "(intermediate_size, num_local_experts, experts_per_token)",
    },
    "gpt-oss-120b": {
        "vocab": 201088,
        "ffn": 2880,
        "experts": 128,
        "top_k": 4,
        "max_seq_len": 131072,
        "provenance": "Hugging Face config.json of openai/gpt-oss-120b",
    },
    "Qwen3-30B-A3B": {
        "vocab": 151936,
        "ffn": 768,
        "experts": 128,
        "top_k": 8,
        "max_seq_len": 40960,
        "provenance": "Hugging Face config.json of Qwen/Qwen3-30B-A3B "
        "(moe_intermediate_size, num_experts, num_experts_per_tok)",
    },
    "Qwen2.5-Coder-7B": {
        "vocab": 152064,
        "ffn": 18944,
        "max_seq_len": 32768,
        "provenance": "Hugging Face config.json of Qwen/Qwen2.5-Coder-7B",
    },
    "Gemma-3 4B": {
        "vocab": 262144,
        "ffn": 10240,
        "max_seq_len": 131072,
        "provenance": "vocab 262144 as set by the benchmark brief (tokenizer size; "
        "the config.json vocab_size of google/gemma-3-4b-pt is padded "
        "to 262208); ffn and context from that config.json",
    },
    "test-13b": {
        "vocab": 32000,
        "ffn": 20480,
        "max_seq_len": 2048,
        "provenance": "vocab 32000 as set by the benchmark brief; ffn_embed_dim and "
        "max_seq_len from llm-analysis's own model_configs/test-13b.json",
    },
}

# GPU memory (GB per device) for hardware whose CSV name does not state it.
# Unified-memory machines: the whole memory is given to llm-analysis as GPU memory.
MEMORY_GB = {
    "Apple M1 Max (32-core GPU)": (
        64,
        ("XiongjieDai/GPU-Benchmarks-on-LLM-Inference README hardware name 'M1 Max 32-Core GPU 64GB'"),
    ),
    "Apple M2 Ultra (76-core GPU)": (
        192,
        ("XiongjieDai/GPU-Benchmarks-on-LLM-Inference README hardware name 'M2 Ultra 76-Core GPU 192GB'"),
    ),
    "Apple M3 Max (40-core GPU)": (
        64,
        ("XiongjieDai/GPU-Benchmarks-on-LLM-Inference README hardware name 'M3 Max 40-Core GPU 64GB'"),
    ),
    "NVIDIA DGX Spark (GB10)": (
        128,
        "NVIDIA DGX Spark specifications (128 GB unified LPDDR5x)",
    ),
}

# Peak FP16 TFLOPS for rows whose CSV peak_tflops_fp16 is empty.
PEAK_FP16_TFLOPS = {
    "Apple M1 (7-core GPU, 8GB)": (
        2.3,
        "figure set by the benchmark brief (Apple publishes no FP16 matrix peak)",
    ),
    "Apple M1 Max (32-core GPU)": (
        10.4,
        "figure set by the benchmark brief (Apple publishes no FP16 matrix peak)",
    ),
    "Apple M2 Ultra (76-core GPU)": (
        27.2,
        "figure set by the benchmark brief (Apple publishes no FP16 matrix peak)",
    ),
    "Apple M3 Max (40-core GPU)": (
        16.4,
        "figure set by the benchmark brief (Apple publishes no FP16 matrix peak)",
    ),
    "NVIDIA DGX Spark (GB10)": (
        125.0,
        (
            "GUESS: NVIDIA states 1 PFLOP FP4 with sparsity for DGX Spark; "
            "halved for dense, for FP8 and for FP16 (1000/2/2/2)"
        ),
    ),
}

# Intra-node (GPU to GPU) bandwidth for the 2-device rows, GB/s.
INTRA_NODE_GBPS = {
    "RTX": (32.0, "PCIe 4.0 x16, 32 GB/s per direction (PCI-SIG)"),
    "A100": (
        600.0,
        "NVLink 3 total bandwidth of A100 SXM, 600 GB/s (NVIDIA A100 datasheet)",
    ),
}
# llm-analysis's value in its shipped a100/h100 GPU configs; used for every row.
INTRA_NODE_MIN_MESSAGE_LATENCY_S = 8e-06

WEIGHT_BITS = (
    4,
    8,
    16,
)  # the widths llm-analysis's dtype configs and TFLOPS lookup know
ACTIVATION_BITS = 16
EMBEDDING_BITS = 16  # as in llm-analysis's w*a16e16 dtype presets
KV_CACHE_BYTES = 2  # 16-bit KV cache

LATENCY_KEYS_EXTRA = (
    "kv_cache_latency",
    "total_decode_latency",
    "total_latency",
    "total_per_token_latency",
)


def model_entry(model):
    for key in sorted(MODELS, key=len, reverse=True):
        if model.startswith(key):
            return key, MODELS[key]
    raise KeyError(f"no model table entry for {model!r}")


def device_memory_gb(hardware):
    if hardware in MEMORY_GB:
        return MEMORY_GB[hardware]
    match = re.search(r"(\d+(?:\.\d+)?)\s*GB", hardware)
    if not match:
        raise KeyError(f"no memory size for {hardware!r}")
    return float(match.group(1)), "hardware name in the CSV"


def peak_fp16(row):
    text = row["peak_tflops_fp16"].strip()
    if text:
        return float(text), "CSV peak_tflops_fp16"
    if row["hardware"] in PEAK_FP16_TFLOPS:
        return PEAK_FP16_TFLOPS[row["hardware"]]
    raise KeyError(f"no peak FP16 TFLOPS for {row['hardware']!r}")


def tensor_parallel(row):
    hardware, runtime = row["hardware"], row["runtime"]
    if re.match(r"\s*2x\b", hardware) or re.search(r"TP\s*=?\s*2\b", runtime):
        return 2
    return 1


def intra_node(hardware, tp):
    if tp == 1:
        return None, "not used (tp_size 1)"
    for key, value in INTRA_NODE_GBPS.items():
        if key in hardware:
            return value
    raise KeyError(f"no intra-node bandwidth for {hardware!r}")


def nearest_bits(bits_per_weight):
    return min(WEIGHT_BITS, key=lambda b: (abs(b - bits_per_weight), b))


def depth_of(notes, prompt_tokens):
    """KV-cache depth a llama-bench row was measured at ("pp2048 @ d32768")."""
    match = re.search(r"@\s*d(\d+)", notes)
    if not match:
        return 0, prompt_tokens
    depth = int(match.group(1))
    return depth, prompt_tokens - depth


def number(text):
    text = text.strip()
    return float(text) if text else None


def context_length(entry, prompt, gen):
    """max_seq_len for the model config, raised to fit the row if need be.

    llm-analysis refuses seq_len > max_seq_len; a row measured beyond the
    config's context (llama.cpp runs past n_ctx_train, e.g. with YaRN) gets
    the context it was run at, and the record says so (max_seq_len_raised).
    """
    return max(entry["max_seq_len"], prompt + gen)


def model_config(key, entry, row, max_seq_len):
    ffn, hidden = entry["ffn"], int(row["hidden"])
    return ModelConfig(
        name=key,
        num_layers=int(row["layers"]),
        n_head=int(row["n_heads"]),
        hidden_dim=hidden,
        vocab_size=entry["vocab"],
        max_seq_len=max_seq_len,
        num_key_value_heads=int(row["n_kv_heads"]),
        ffn_embed_dim=ffn,
        # Given explicitly: llm-analysis asserts ffn_embed_dim % hidden_dim == 0
        # when it has to derive the ratio, which 14336/4096 etc. are not.
        expansion_ratio=ffn / hidden,
        moe_num_experts=entry.get("experts", 1),
        moe_top_k=entry.get("top_k", 1),
    )


def model_record(key, entry, row, model, max_seq_len):
    """What the model config was built from, so each row's choices can be audited."""
    ffn = entry["ffn"]
    return {
        "table_key": key,
        "ffn_embed_dim": ffn,
        "expansion_ratio": ffn / int(row["hidden"]),
        "vocab_size": entry["vocab"],
        "max_seq_len": max_seq_len,
        "max_seq_len_config": entry["max_seq_len"],
        "max_seq_len_raised": max_seq_len != entry["max_seq_len"],
        "moe_num_experts": model.moe_num_experts,
        "moe_top_k": model.moe_top_k,
        "provenance": entry["provenance"],
    }


def gpu_config(row, tp):
    """The GPU config and its record; figures the CSV lacks carry their source."""
    memory_gb, memory_src = device_memory_gb(row["hardware"])
    tflops, tflops_src = peak_fp16(row)
    intra_bw, intra_src = intra_node(row["hardware"], tp)
    gpu = GPUConfig(
        name=row["hardware"],
        mem_per_GPU_in_GB=memory_gb,
        hbm_bandwidth_in_GB_per_sec=float(row["mem_bw_GBps"]),
        intra_node_bandwidth_in_GB_per_sec=intra_bw,
        intra_node_min_message_latency=INTRA_NODE_MIN_MESSAGE_LATENCY_S,
        peak_fp16_TFLOPS=tflops,
    )
    record = {
        "mem_per_GPU_in_GB": memory_gb,
        "memory_source": memory_src,
        "hbm_bandwidth_in_GB_per_sec": gpu.hbm_bandwidth_in_GB_per_sec,
        "peak_fp16_TFLOPS": tflops,
        "peak_source": tflops_src,
        "intra_node_bandwidth_in_GB_per_sec": intra_bw,
        "intra_node_source": intra_src,
    }
    return gpu, record


def dtype_config(weight_bits):
    return DtypeConfig(
        name=f"w{weight_bits}a{ACTIVATION_BITS}e{EMBEDDING_BITS}",
        weight_bits=weight_bits,
        activation_bits=ACTIVATION_BITS,
        embedding_bits=EMBEDDING_BITS,
    )


def batch_of(row):
    """(serving_row, batch): serving rows give no batch number, so SERVING_BATCH stands in."""
    serving = row["batch"].strip().lower().startswith("max")
    return serving, SERVING_BATCH if serving else int(row["batch"])


def inference_workload(batch, prompt, gen):
    """Keyword arguments of LLMAnalysis.inference for one row.

    seq_len is the whole prompt, depth included: llm-analysis has no notion of
    a KV cache already filled before the prompt (see ASSUMPTIONS).
    """
    return {
        "batch_size_per_gpu": batch,
        "seq_len": prompt,
        "num_tokens_to_generate": gen,
        "kv_cache_dtype_bytes": KV_CACHE_BYTES,
    }


def measured(row):
    """The CSV's measured figures; an empty cell becomes None, not an error."""
    return {
        "pp_tok_s": number(row["pp_tok_s"]),
        "tg_tok_s": number(row["tg_tok_s"]),
        "vram_gb": number(row["vram_gb"]),
    }


def build(index, row):
    """Configs and workload of one row, plus what was chosen for it."""
    key, entry = model_entry(row["model"])
    prompt, gen = int(row["prompt_tokens"]), int(row["gen_tokens"])
    max_seq_len = context_length(entry, prompt, gen)
    model = model_config(key, entry, row, max_seq_len)
    tp = tensor_parallel(row)
    gpu, gpu_record = gpu_config(row, tp)
    bpw = float(row["bits_per_weight"])
    wbits = nearest_bits(bpw)
    dtype = dtype_config(wbits)
    parallel = ParallelismConfig(tp_size=tp)
    serving, batch = batch_of(row)
    depth, new_prompt = depth_of(row["notes"], prompt)
    workload = inference_workload(batch, prompt, gen)
    record = {
        "row": index,
        "hardware": row["hardware"],
        "model": row["model"],
        "runtime": row["runtime"],
        "quant": row["quant"],
        "bits_per_weight": bpw,
        "weight_bits_used": wbits,
        "dtype": dtype.name,
        "serving_row": serving,
        "batch_csv": row["batch"],
        "batch_used": batch,
        "prompt_tokens": prompt,
        "gen_tokens": gen,
        "depth_tokens": depth,
        "new_prompt_tokens": new_prompt,
        "seq_len_used": prompt,
        "tp_size": tp,
        "measured": measured(row),
        "model_config": model_record(key, entry, row, model, max_seq_len),
        "gpu_config": gpu_record,
    }
    return (model, gpu, dtype, parallel, workload), record


def estimate(model, gpu, dtype, parallel, workload):
    """The timed estimation call: llm-analysis with its default efficiencies."""
    analysis = LLMAnalysis(model, gpu, dtype, parallel)
    return analysis, analysis.inference(**workload)


def time_call(args, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        estimate(*args)
        best = min(best, time.perf_counter() - start)
    return best


def run_row(index, row, repeat):
    args, record = build(index, row)
    try:
        analysis, summary = estimate(*args)
    except Exception as exc:  # noqa: BLE001 -- rows llm-analysis cannot run: any failure is recorded
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    batch, seq = record["batch_used"], record["seq_len_used"]
    record["predicted"] = {
        "prefill_tok_s": seq * batch / summary["prefill_latency"],
        "decode_tok_s": batch / summary["decode_latency"],
        "weight_memory_GB": summary["weight_memory_per_gpu"] / 1e9,
        "kv_cache_memory_GB": summary["kv_cache_memory_per_gpu"] / 1e9,
        "prefill_activation_memory_GB": summary["prefill_activation_memory_per_gpu"] / 1e9,
        "decode_activation_memory_GB": summary["decode_activation_memory_per_gpu"] / 1e9,
        "total_memory_GB": None,  # llm-analysis reports no total; the parts are above
        "num_params_total": analysis.total_num_params,
        "num_active_params_total": analysis.total_num_active_params,
    }
    record["raw_latency_s"] = {
        k: v for k, v in summary.items() if k.endswith("latency") or "latency_" in k or k in LATENCY_KEYS_EXTRA
    }
    seconds = time_call(args, repeat)
    record["estimate_seconds_best"] = seconds
    record["estimates_per_second"] = 1.0 / seconds
    record["accuracy"] = ape(record)
    return record


def ape(record):
    """Absolute percentage errors of the predicted rates against the measured ones."""
    out = {}
    pred, meas = record["predicted"], record["measured"]
    for name, p, m in (
        ("prefill", pred["prefill_tok_s"], meas["pp_tok_s"]),
        ("decode", pred["decode_tok_s"], meas["tg_tok_s"]),
    ):
        out[f"{name}_ape_percent"] = None if not m else 100.0 * abs(p - m) / m
        out[f"{name}_ratio_pred_over_measured"] = None if not m else p / m
    return out


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(rows):
    ok = [r for r in rows if "error" not in r]
    decode_b1 = [r["accuracy"]["decode_ape_percent"] for r in ok if not r["serving_row"] and r["batch_used"] == 1]
    decode_batched = [r["accuracy"]["decode_ape_percent"] for r in ok if not r["serving_row"] and r["batch_used"] > 1]
    decode_serving = [r["accuracy"]["decode_ape_percent"] for r in ok if r["serving_row"]]
    prefill = [r["accuracy"]["prefill_ape_percent"] for r in ok]
    return {
        "rows": len(rows),
        "rows_run": len(ok),
        "rows_failed": [r["row"] for r in rows if "error" in r],
        "decode_batch1_median_ape_percent": median_or_none(decode_b1),
        "decode_batch1_rows": len([v for v in decode_b1 if v is not None]),
        "decode_batched_median_ape_percent": median_or_none(decode_batched),
        "decode_serving_median_ape_percent": median_or_none(decode_serving),
        "decode_serving_rows": len([v for v in decode_serving if v is not None]),
        "prefill_median_ape_percent": median_or_none(prefill),
        "prefill_rows": len([v for v in prefill if v is not None]),
    }


def machine():
    info = {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


# Written into the JSON so a reader of the results sees every modelling choice
# this benchmark made on llm-analysis's behalf without reading the code.
ASSUMPTIONS = (
    (
        "weights: bits_per_weight rounded to the nearest of 4/8/16 "
        "(llm-analysis knows no other widths); activations, embeddings and KV cache 16 bit"
    ),
    (
        f"serving rows (batch 'max ...') run with batch {SERVING_BATCH}; "
        "their measured tg_tok_s is aggregate output throughput"
    ),
    (
        "depth rows ('pp2048 @ d32768'): llm-analysis has no KV depth; run with "
        "seq_len = prompt_tokens (depth + new tokens), so predicted prefill tok/s "
        "is over all prompt_tokens and decode reads a KV cache of prompt+gen tokens"
    ),
    (
        "tp_size 2 for '2x' hardware and FasterTransformer TP=2 rows "
        "(the llama.cpp 2-GPU rows actually used layer split, not tensor parallel)"
    ),
    "unified-memory machines: the whole memory is given as GPU memory",
    (
        "llm-analysis models a 2-matrix MLP (2*h*ffn per expert), ties input and "
        "output embeddings and sets the attention width to hidden_dim; "
        "its parameter counts are recorded per row (num_params_total)"
    ),
)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="timing repeats per row, best taken (default 5)",
    )
    return parser.parse_args(argv)


def default_efficiencies(first_row):
    """llm-analysis's efficiency defaults, read off an instance.

    Nothing is passed, so the instance's values are what every row ran with;
    the first CSV row serves only to construct one.
    """
    probe = LLMAnalysis(*build(0, first_row)[0][:4])
    return {
        "flops_efficiency": probe.flops_efficiency,
        "hbm_memory_efficiency": probe.hbm_memory_efficiency,
        "intra_node_memory_efficiency": probe.intra_node_memory_efficiency,
        "inter_node_memory_efficiency": probe.inter_node_memory_efficiency,
        "source": "llm-analysis defaults (constant.FLOPS_EFFICIENCY="
        f"{la_constant.FLOPS_EFFICIENCY}, HBM_MEMORY_EFFICIENCY="
        f"{la_constant.HBM_MEMORY_EFFICIENCY}); nothing passed",
    }


def result_document(opts, csv_rows, rows):
    rates = [r["estimates_per_second"] for r in rows if "estimates_per_second" in r]
    return {
        "tool": "llm-analysis",
        "version": importlib.metadata.version("llm-analysis"),
        "python": sys.version.split()[0],
        "machine": machine(),
        "csv": str(opts.csv.name),
        "efficiencies": default_efficiencies(csv_rows[0]),
        "estimates_per_second_median": statistics.median(rates) if rates else None,
        "timing": f"best of {opts.repeat} per row of LLMAnalysis(...) construction plus "
        ".inference(...) (configs built beforehand, logger at ERROR); "
        "median over rows that ran",
        "assumptions": list(ASSUMPTIONS),
        "summary": summarise(rows),
        "rows": rows,
    }


def write_json(path, result):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def print_headline(result, output):
    s = result["summary"]
    print(f"llm-analysis {result['version']}: {s['rows_run']}/{s['rows']} rows ran; failed {s['rows_failed']}")
    print(f"median APE decode (batch 1, {s['decode_batch1_rows']} rows): {s['decode_batch1_median_ape_percent']}")
    print(f"median APE prefill ({s['prefill_rows']} rows): {s['prefill_median_ape_percent']}")
    print(f"estimates/s (median): {result['estimates_per_second_median']}")
    print(f"wrote {output}")


def main(argv=None):
    opts = parse_args(argv)
    with open(opts.csv, newline="") as f:
        csv_rows = list(csv.DictReader(f))
    rows = [run_row(i, row, opts.repeat) for i, row in enumerate(csv_rows)]
    result = result_document(opts, csv_rows, rows)
    write_json(opts.output, result)
    print_headline(result, opts.output)


if __name__ == "__main__":
    main()
