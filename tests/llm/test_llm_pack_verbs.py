"""The llm pack through every generic verb (report, sweep, breakeven, sensitivity, audit, plot), as a user
runs it: their own model and machine files, catalog ids for the runtime and the format, settings on the
command line. Every number is checked against a hand computation written out below in plain Python."""

from __future__ import annotations

import csv
import json
import math

import pytest
import yaml
from conftest import run_cli

MODEL = {
    "model_id": "tiny-gqa",
    "name": "Tiny GQA",
    "family": "test",
    "params_b": 0.03,
    "layers": 4,
    "hidden_size": 512,
    "n_heads": 8,
    "n_kv_heads": 2,
    "intermediate_size": 1536,
    "vocab_size": 32000,
    "tied_embeddings": False,
    "mlp": "gated",
    "context_max": 8192,
    "attention": "gqa",
    "moe": {"enabled": False, "experts": 0, "top_k": 0},
    "source": "made up for this test",
}
# No rated power and no price: power, energy per token and tokens/s per dollar are not known.
BOX = {
    "hardware_id": "test-box",
    "name": "Test box",
    "class": "datacenter_gpu",
    "memory": "discrete",
    "gpus": [{"sku": "Test GPU", "count": 2, "vram_gb": 80, "mem_bw_gbps": 2000, "fp16_tflops": 400}],
    "interconnect": {"type": "nvlink", "bw_gbps": 300, "latency_us": 5},
    "host_link_gbps": 64,
    "cpu": {"sku": "Test CPU", "cores": 32, "mem_bw_gbps": 200, "numa_nodes": 1},
    "ram_gb": 512,
    "source": "made up for this test",
}
# vLLM (catalog): buffers 1.5 GB, micro-batches of 2048 tokens; f16 (catalog): 16 bits, FP16 compute, plain floats.
COEFFICIENTS = {"eta_bw": 0.75, "eta_flops": 0.5, "t0": 2e-3}
SETTINGS = (
    "--set",
    "runtime=vllm",
    "--set",
    "quant=f16",
    "--set",
    "calibration=none",
    "--set",
    "coefficients.eta_bw=0.75",
    "--set",
    "coefficients.eta_flops=0.5",
    "--set",
    "coefficients.t0=2 ms",
)


def by_hand(prompt=512, gen=128, batch=1, bandwidth=2000e9, rate=400e12, eta_bw=0.75, eta_flops=0.5, t0=2e-3) -> dict:
    """One decode step and prefill of the tiny model on one GPU of the box, in plain arithmetic."""
    L, d, H, H_kv, F, V = 4, 512, 8, 2, 1536, 32000
    d_h = d // H
    attention = d * H * d_h + 2 * d * H_kv * d_h + H * d_h * d  # Q, K, V, O
    body = 2 * d * L + L * attention + L * 3 * d * F  # norms, attention, gated MLP
    weights_read = (V * d + body) * 2  # output head and body, 2 bytes each
    kv_per_token = 2 * L * H_kv * d_h * 2  # keys and values, 2 bytes each
    mean_context = prompt + (gen - 1) / 2
    step_bytes = weights_read + kv_per_token * mean_context * batch
    t_mem = step_bytes / (eta_bw * bandwidth)
    t_compute = (2 * (body + V * d) * batch + 4 * L * H * d_h * mean_context * batch) / (eta_flops * rate)
    t_step = max(t_mem, t_compute) + t0
    tokens = prompt * batch
    micro_batches = max(1, math.ceil(tokens / 2048))
    prefill_flops = 2 * body * tokens + 2 * V * d * batch + 4 * L * H * d_h * batch * prompt**2 / 2
    activations = 4 * tokens * L * (22 * d + 8 * F)  # FP32 vectors the non-matmul kernels move per token and layer
    t_prefill = (
        max(prefill_flops / (eta_flops * rate), micro_batches * weights_read / (eta_bw * bandwidth))
        + activations / bandwidth
        + micro_batches * t0
    )
    return {
        "W": (2 * V * d + body) * 2,
        "kv_per_token": kv_per_token,
        "D_step": step_bytes,
        "t_mem": t_mem,
        "t_compute": t_compute,
        "t_step": t_step,
        "decode_tps": batch / t_step,
        "t_prefill": t_prefill,
        "latency": t_prefill + gen * t_step,
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llm-inputs")
    (folder / "tiny.yaml").write_text(yaml.safe_dump(MODEL))
    (folder / "box.yaml").write_text(yaml.safe_dump(BOX))
    return (
        "--pack",
        "llm",
        "--input",
        f"model={folder / 'tiny.yaml'}",
        "--input",
        f"hardware={folder / 'box.yaml'}",
        *SETTINGS,
    )


def report(tmp_path, files, *extra):
    output = tmp_path / "report.json"
    result = run_cli("report", *files, *extra, "-o", output)
    assert result.code == 0, result.stderr
    return json.loads(output.read_text()), result.stdout


def test_report_over_the_prompt_length_equals_the_hand_computation(tmp_path, files):
    found, table = report(tmp_path, files, "--axis", "workload.prompt_tokens=128,1024,4096")
    assert [point["axes"] for point in found["points"]] == [{"workload.prompt_tokens": p} for p in (128, 1024, 4096)]
    for point in found["points"]:
        hand = by_hand(prompt=point["axes"]["workload.prompt_tokens"])
        for name, value in hand.items():
            assert point["values"][name]["value"] == pytest.approx(value, rel=1e-12), name
        assert point["values"]["t_step"]["unit"] == "s" and point["values"]["D_step"]["unit"] == "B"
    assert [item["file"] for item in found["inputs"]] == ["tiny.yaml", "box.yaml"]
    assert found["settings"]["coefficients.t0"] == "2 ms" and found["settings"]["runtime"] == "vllm"
    # What the box does not say is listed as not known, with the field that would make it known.
    assert {entry["name"]: entry["inputs"] for entry in found["unknown"]} == {
        "decode_tps_per_kusd": ["hardware.price_usd"],
        "power": ["hardware.cpu.tdp_w", "hardware.gpus.0.tdp_w"],
        "energy_per_token": ["hardware.cpu.tdp_w", "hardware.gpus.0.tdp_w"],
    }
    assert "power" not in found["points"][0]["values"]
    assert "power: not known without hardware.cpu.tdp_w and hardware.gpus.0.tdp_w" in table


def test_report_is_valid_against_its_schema(tmp_path, files):
    from symcost.schema_check import schema_issues

    found, _ = report(tmp_path, files, "--axis", "workload.concurrency=1,2")
    assert schema_issues(found, "pack-report", "report.json") == []


def test_settings_change_a_field_of_the_users_file_and_a_unit_may_be_given(tmp_path, files):
    found, _ = report(tmp_path, files, "--set", "hardware.gpus.0.mem_bw_gbps=1 TB/s", "--set", "workload.gen_tokens=16")
    hand = by_hand(gen=16, bandwidth=1e12)
    assert found["points"][0]["values"]["t_step"]["value"] == pytest.approx(hand["t_step"], rel=1e-12)


def test_catalog_ids_give_the_figures_of_llm_estimate(tmp_path):
    """The same scenario through the generic report and through `symcost llm estimate` (packaged calibration)."""
    found, _ = report(tmp_path, ("--pack", "llm", "--set", "model=llama-3-8b", "--set", "hardware=rtx-4090"))
    estimate = run_cli(
        "llm",
        "estimate",
        "--model",
        "llama-3-8b",
        "--hardware",
        "rtx-4090",
        "--calibration",
        "packaged",
        "--recommend",
        "0",
        "--format",
        "json",
    )
    assert estimate.code == 0, estimate.stderr
    response = json.loads(estimate.stdout)
    values = found["points"][0]["values"]
    four = lambda number: float(f"{number:.4g}")  # noqa: E731 - the response's rounding
    assert four(values["decode_tps"]["value"]) == response["estimates"]["decode_toks_sec"]["p50"]
    assert four(values["prefill_tps"]["value"]) == response["estimates"]["prefill_toks_sec"]["p50"]
    assert four(values["ttft"]["value"] * 1e3) == response["estimates"]["ttft_ms"]["p50"]
    assert four(values["W"]["value"] / 1e9) == response["memory"]["weights_gb"]
    assert four(values["power"]["value"]) == response["estimates"]["power_w"]["p50"]
    assert "unknown" not in found  # the RTX 4090's ratings and price are in the catalog


def test_sweep_writes_every_point(tmp_path, files):
    output = tmp_path / "sweep.csv"
    result = run_cli(
        "sweep",
        *files,
        "--axis",
        "workload.concurrency=1,4,32",
        "--axis",
        "workload.prompt_tokens=16,700",
        "--column",
        "decode_tps",
        "--column",
        "t_step",
        "--column",
        "D_step",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 6
    for row in rows:
        hand = by_hand(prompt=int(row["workload.prompt_tokens"]), batch=int(row["workload.concurrency"]))
        for name in ("decode_tps", "t_step", "D_step"):
            assert float(row[name]) == pytest.approx(hand[name], rel=1e-12), name


def test_breakeven_is_the_batch_where_decode_turns_compute_bound(tmp_path, files):
    result = run_cli(
        "breakeven",
        *files,
        "--set",
        "workload.prompt_tokens=16",
        "--set",
        "workload.gen_tokens=1",
        "--between",
        "t_mem",
        "t_compute",
        "--solve-for",
        "workload.concurrency",
        "--range",
        "1:1024",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    found = json.loads(result.stdout)
    # t_mem = (W_read + kv S B) / (eta_bw BW) and t_compute = f B / (eta_flops R) are both linear in B.
    one, two = by_hand(prompt=16, gen=1, batch=1), by_hand(prompt=16, gen=1, batch=2)
    memory_per_sequence, compute_per_sequence = two["t_mem"] - one["t_mem"], one["t_compute"]
    crossing = (one["t_mem"] - memory_per_sequence) / (compute_per_sequence - memory_per_sequence)
    assert found["crossings"] == [{"value": pytest.approx(crossing, rel=1e-9), "unit": "1"}]
    assert found["verdict"] == "t_mem and t_compute cross as workload.concurrency varies"


def test_sensitivity_of_the_decode_rate_is_its_log_derivative(tmp_path, files):
    result = run_cli("sensitivity", *files, "--output", "decode_tps", "--format", "json")
    assert result.code == 0, result.stderr
    found = json.loads(result.stdout)["elasticities"]
    hand = by_hand()
    assert hand["t_mem"] > hand["t_compute"]  # memory bound: decode_tps = 1 / (t_mem + t0)
    assert found["BW"] == pytest.approx(hand["t_mem"] / hand["t_step"], rel=1e-9)
    assert found["eta_bw"] == pytest.approx(hand["t_mem"] / hand["t_step"], rel=1e-9)
    assert found["t0"] == pytest.approx(-2e-3 / hand["t_step"], rel=1e-9)
    assert found["R_fp16"] == 0 and found["eta_flops"] == 0
    assert json.loads(result.stdout)["left_out"]["P_gpu"] == "its value is not known"


def test_audit_traces_every_value_to_a_file_field_or_the_catalog(tmp_path, files):
    output = tmp_path / "audit.md"
    result = run_cli("audit", *files, "--format", "markdown", "-o", output)
    assert result.code == 0, result.stderr
    text = output.read_text()
    for expected in (
        r"box.yaml: hardware.gpus.0.mem\_bw\_gbps",
        r"tiny.yaml: model.mlp = gated",
        r"runtimes vllm (catalog): runtime.defaults.buffer\_gb",
        r"quantizations f16 (catalog): quant.family = fp",
        r"pack default for d\_h (model.head\_dim not given)",
        "2000 GB/s",
        "Results at the inputs",
        "`decode_tps`",
    ):
        assert expected in text, expected


def test_plot_marks_where_memory_and_compute_time_cross(tmp_path, files):
    output = tmp_path / "decode.png"
    result = run_cli(
        "plot",
        *files,
        "--set",
        "workload.prompt_tokens=16",
        "--set",
        "workload.gen_tokens=1",
        "--axis",
        "workload.concurrency=1:1024",
        "--y",
        "t_mem",
        "--y",
        "t_compute",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    assert "1 crossing marked" in result.stdout and output.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--set", "model=llama-3-8b", "--set", "hardware=rtx-409"),
            "unknown hardware profile 'rtx-409'; did you mean rtx-4090",
        ),
        (("--set", "hardware=rtx-4090"), "pack llm needs a model: --set model=ID"),
        (
            ("--set", "model=llama-3-8b", "--set", "hardware=rtx-4090", "--set", "layout.tensor_parallel=2"),
            "TP x PP = 2 devices, but rtx-4090 has 1",
        ),
        (
            (
                "--set",
                "model=llama-3-8b",
                "--set",
                "hardware=rtx-4090",
                "--set",
                "quant=q4_k_m",
                "--set",
                "runtime=vllm",
            ),
            "runtime vllm does not run q4_k_m",
        ),
        (
            ("--set", "model=llama-3-8b", "--set", "hardware=rtx-4090", "--set", "workload.prompt_tokens=2 GB"),
            "expected dimensionless",
        ),
        (
            ("--set", "model=llama-3-8b", "--set", "hardware=rtx-4090", "--set", "calibration=store"),
            "calibration: expected one of packaged, none",
        ),
    ],
)
def test_mistakes_are_one_line_errors(args, message):
    result = run_cli("report", "--pack", "llm", *args)
    assert result.code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "setting, message",
    [
        ("model.mlp=gatedd", "tiny.yaml: <root>: expected one of gated, plain, got 'gatedd'"),  # the entry's schema
        ("layout.offload=sometimes", "offload must be one of none, auto, full, got 'sometimes'"),
    ],
)
def test_a_word_out_of_place_is_refused_naming_the_field(files, setting, message):
    result = run_cli("report", *files, "--set", setting)
    assert result.code == 2 and message in result.stderr, result.stderr


CATEGORIES_PACK = """
pack: words
version: 1
description: a pack whose inputs are words and an unrated power
symbols:
  - {name: m, description: MLP matrices, unit: '1', source: model, binding: model.mlp, categories: {gated: 3, plain: 2}, default: 3}
  - {name: d, description: width, unit: '1', source: model, binding: model.width}
  - {name: P, description: rated power, unit: W, source: hardware, binding: hardware.tdp_w, default: unknown}
quantities:
  - {name: weights, unit: '1', expression: 'm*d*d', description: MLP weights}
  - {name: watts_per_weight, unit: W, expression: 'P/weights', description: power per weight}
"""


@pytest.mark.parametrize("word, matrices", [("gated", 3), ("plain", 2), (None, 3)])
def test_a_word_stands_for_the_number_its_categories_give(tmp_path, word, matrices):
    pack = tmp_path / "words.yaml"
    pack.write_text(CATEGORIES_PACK)
    extra = ("--set", f"model.mlp={word}") if word else ()
    output = tmp_path / "report.json"
    result = run_cli("report", "--pack", pack, "--set", "model.width=10", *extra, "-o", output)
    assert result.code == 0, result.stderr
    found = json.loads(output.read_text())
    assert found["points"][0]["values"]["weights"]["value"] == matrices * 100
    # An input the pack calls unknown leaves what uses it not known, and says which field would make it known.
    assert found["unknown"] == [{"name": "watts_per_weight", "inputs": ["hardware.tdp_w"]}]


def test_a_word_not_among_the_categories_names_those_that_are(tmp_path):
    pack = tmp_path / "words.yaml"
    pack.write_text(CATEGORIES_PACK)
    result = run_cli("report", "--pack", pack, "--set", "model.width=10", "--set", "model.mlp=gatd")
    assert result.code == 2
    assert "model.mlp: 'gatd' is not one of gated, plain; did you mean 'gated'?" in result.stderr, result.stderr
