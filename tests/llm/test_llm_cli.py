"""``symcost llm estimate|solve|calibrate|validate|catalog|audit`` as a user runs them.

Every run points SYMCOST_DATA_DIR at a temporary directory: no test reads or writes the user's store.
"""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ROOT, run_cli
from oracles.oracle_llm import load_catalog

from symcost.packs.llm.records import records_from_csv

CSV = ROOT / "data" / "llm_bench_calibration.csv"
RECORD = {
    "model_id": "llama-3-8b",
    "runtime_id": "llama.cpp",
    "hardware_id": "rtx-4090",
    "quant": "q4_k_m",
    "context_tokens": 512,
    "output_tokens": 128,
    "metrics": {"decode_toks_sec": 120.0},
}


@pytest.fixture
def llm(tmp_path):
    """Run ``symcost llm ARGS`` with a private data directory."""
    data = tmp_path / "data"

    def run(*args):
        return run_cli("llm", *args, env={"SYMCOST_DATA_DIR": str(data)})

    run.data = data
    return run


def one_error_line(result, *fragments: str) -> str:
    assert result.code == 2 and result.stdout == "", (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def write(path, document) -> str:
    path.write_text(json.dumps(document) if str(path).endswith(".json") else yaml.safe_dump(document))
    return str(path)


# ---------------------------------------------------------------- estimate
def test_estimate_text(llm):
    result = llm("estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert out.startswith("llama-3-8b on rtx-4090 with llama.cpp, q4_k_m, TP 1 x PP 1")
    assert "feasibility: in_vram" in out and "recommended configurations:" in out
    for line in ("decode_toks_sec", "ttft_ms", "weights_gb", "memory_bandwidth", "coefficients: eta_bw"):
        assert line in out


def test_estimate_json_has_the_response_fields(llm):
    result = llm(
        "estimate",
        "--model",
        "Llama 3 8B",
        "--hardware",
        "RTX 4090",
        "--format",
        "json",
        "--prompt-tokens",
        "2048",
        "--gen-tokens",
        "256",
        "--concurrency",
        "4",
    )
    assert result.code == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["feasibility"] in ("in_vram", "with_offload", "insufficient_memory")
    for figure in ("decode_toks_sec", "prefill_toks_sec", "ttft_ms"):
        band = response["estimates"][figure]
        assert set(band) == {"p10", "p50", "p90"} and band["p10"] <= band["p50"] <= band["p90"], figure
    assert response["bottlenecks"] and set(response["bottlenecks"]) <= set(response["bottleneck_shares_pct"]) | {
        "vram_capacity"
    }
    assert sum(response["bottleneck_shares_pct"].values()) == pytest.approx(100, abs=0.05)
    assert response["recommended_configs"] and all(
        c["hardware_id"] == "rtx-4090" for c in response["recommended_configs"]
    )
    assert response["explanations"] and all(isinstance(line, str) for line in response["explanations"])
    assert response["scenario"]["workload"]["concurrency"] == 4 and response["calibration"]


def test_estimate_output_file_holds_the_response(llm, tmp_path):
    output = tmp_path / "response.json"
    result = llm("estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--recommend", "0", "-o", output)
    assert result.code == 0, result.stderr
    response = json.loads(output.read_text())
    assert response["scenario"]["model_id"] == "llama-3-8b" and "decode_toks_sec" in response["estimates"]


def test_estimate_reports_the_fixed_overhead_parts_of_the_packaged_bundle(llm):
    result = llm("estimate", "--model", "llama-3-70b", "--hardware", "apple-m2-ultra-192gb", "--format", "json")
    assert result.code == 0, result.stderr
    coefficients = json.loads(result.stdout)["coefficients"]
    fitted = json.loads((ROOT / "catalogs" / "calibration.json").read_text())["coefficients"]["global"]["t_layer_s"]
    assert coefficients["t_layer_us"] == pytest.approx(fitted * 1e6, rel=1e-3)  # global: the same for every group
    text = llm("estimate", "--model", "llama-3-70b", "--hardware", "apple-m2-ultra-192gb").stdout
    assert f"t_layer {coefficients['t_layer_us']} us" in text


def test_estimate_json_stdout_stays_json_with_an_output_file(llm, tmp_path):
    output = tmp_path / "response.json"
    result = llm(
        "estimate",
        "--model",
        "llama-3-8b",
        "--hardware",
        "rtx-4090",
        "--recommend",
        "0",
        "--format",
        "json",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(output.read_text())


def test_own_model_and_hardware_files_need_no_code_change(llm, tmp_path):
    box = dict(load_catalog("hardware")["rtx-4090"], hardware_id="my-box", name="My box", aliases=[])
    box["gpus"] = [dict(box["gpus"][0], sku="Imaginary GPU", mem_bw_gbps=2016, vram_gb=48)]
    box["source"] = "test fixture: an RTX 4090 entry with twice the bandwidth and memory"
    model = dict(
        load_catalog("models")["llama-3-8b"],
        model_id="my-model",
        name="My model",
        aliases=[],
        layers=16,
        params_b=4.5,
        source="test fixture: llama-3-8b with half the layers",
    )
    args = ("--format", "json", "--recommend", "0", "--calibration", "none")
    base = json.loads(llm("estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", *args).stdout)
    result = llm(
        "estimate",
        "--model-file",
        write(tmp_path / "model.yaml", model),
        "--hardware-file",
        write(tmp_path / "box.json", box),
        *args,
    )
    assert result.code == 0, result.stderr
    mine = json.loads(result.stdout)
    assert (mine["scenario"]["model_id"], mine["scenario"]["hardware_id"]) == ("my-model", "my-box")
    assert mine["memory"]["per_device_usable_gb"] == 48
    assert mine["estimates"]["decode_toks_sec"]["p50"] > 2 * base["estimates"]["decode_toks_sec"]["p50"] * 0.9
    assert mine["memory"]["weights_gb"] < base["memory"]["weights_gb"]


# ---------------------------------------------------------------- solve
def test_solve_with_hardware_ranks_throughput(llm):
    result = llm(
        "solve",
        "--model",
        "llama-3-8b",
        "--hardware",
        "rtx-4090",
        "--hardware",
        "2x-rtx-3090",
        "--concurrency",
        "1,4",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    solved = json.loads(result.stdout)
    assert solved["objective"] == "throughput" and solved["top"]
    assert {c["hardware_id"] for c in solved["top"]} <= {"rtx-4090", "2x-rtx-3090"}
    rates = [c["expected_decode_toks_sec"] for c in solved["top"]]
    assert rates == sorted(rates, reverse=True)
    assert "evaluated" in result.stderr


def test_solve_without_hardware_finds_the_cheapest_machines(llm):
    result = llm("solve", "--model", "llama-3.1-70b", "--min-decode-tps", "5")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("objective min_hardware:")
    json_result = llm("solve", "--model", "llama-3.1-70b", "--min-decode-tps", "5", "--format", "json")
    machines = [c["hardware_id"] for c in json.loads(json_result.stdout)["top"]]
    assert len(machines) == len(set(machines)) == 5


# ---------------------------------------------------------------- calibrate, validate
def test_calibrate_twice_stores_nothing_new_the_second_time(llm, tmp_path):
    # The first 40 rows: the whole file's fit (its held-out fits per hardware and source) takes minutes.
    csv = tmp_path / "first-rows.csv"
    csv.write_text("".join(CSV.read_text().splitlines(keepends=True)[:41]))
    rows = len(records_from_csv(csv))
    first = llm("calibrate", csv)
    assert first.code == 0, first.stderr
    assert first.stdout.startswith(f"stored {rows} new run records in ") and str(llm.data) in first.stdout
    assert "calibration bundle" in first.stdout and "held-out fit" in first.stderr
    second = llm("calibrate", csv, "--no-fit")
    assert second.code == 0, second.stderr
    assert (
        second.stdout.startswith("stored 0 new run records")
        and f"({rows} already there; {rows} in all)" in second.stdout
    )
    bundle_id = first.stdout.split("calibration bundle ")[1].split()[0]
    estimate = json.loads(
        llm(
            "estimate",
            "--model",
            "llama-3-8b",
            "--hardware",
            "rtx-4090",
            "--recommend",
            "0",
            "--calibration",
            "store",
            "--format",
            "json",
        ).stdout
    )
    assert estimate["calibration"].startswith(bundle_id)


def test_validate_table_and_json(llm):
    text = llm("validate", CSV)
    assert text.code in (0, 1), text.stderr
    figures = sum(len(record.metrics) for record in records_from_csv(CSV))
    assert (
        f"{figures} measured figures" in text.stdout
        and "by metric:" in text.stdout
        and "by hardware class:" in text.stdout
    )
    assert ("no drift alarm" in text.stdout) == (text.code == 0)
    report = json.loads(llm("validate", CSV, "--format", "json").stdout)
    assert report["observations"] == figures and len(report["runs"]) == figures
    assert {row["metric"] for row in report["by_metric"]} >= {"decode_toks_sec", "prefill_toks_sec"}
    assert all(set(row) >= {"n", "median_abs_pct", "mape_pct"} for row in report["by_runtime"])


# ---------------------------------------------------------------- catalog, audit
def test_catalog_lists_every_kind(llm):
    counts = llm("catalog")
    assert counts.code == 0 and "models" in counts.stdout and "quantizations" in counts.stdout
    models = llm("catalog", "models")
    assert models.code == 0 and all(
        model_id in models.stdout for model_id, entry in load_catalog("models").items() if not entry.get("fixture")
    )  # fixtures (test-13b) are not listed
    listed = json.loads(llm("catalog", "hardware", "--format", "json").stdout)
    assert [entry["hardware_id"] for entry in listed["hardware"]] == list(load_catalog("hardware"))


def _table(text: str) -> list[dict[str, str]]:
    """The rows of the first printed table by header, cut where the dashed rule under the headers puts each
    column (a blank line ends the table)."""
    import itertools
    import re

    lines = text.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("--"))
    spans = [match.span() for match in re.finditer(r"-+", lines[start])]
    cut = lambda line: [line[low:high].strip() for low, high in spans]  # noqa: E731
    headers = cut(lines[start - 1])
    return [
        dict(zip(headers, cut(line.ljust(spans[-1][1])))) for line in itertools.takewhile(str.strip, lines[start + 1 :])
    ]


def _figure(value) -> str:
    return "-" if value is None else f"{float(value):.12g}"


def test_catalog_hardware_shows_vram_bandwidth_tflops_and_price(llm):
    result = llm("catalog", "hardware")
    assert result.code == 0, result.stderr
    rows = {row["id"]: row for row in _table(result.stdout)}
    profiles = load_catalog("hardware")
    assert list(rows) == list(profiles)
    for hardware_id, profile in profiles.items():
        row, device = rows[hardware_id], (profile["gpus"] or [profile["cpu"]])[0]
        assert row["vram GB/gpu"] == (_figure(device["vram_gb"]) if profile["gpus"] else "-")
        assert row["mem bw GB/s"] == _figure(device["mem_bw_gbps"])
        assert row["fp16 TFLOPS"] == _figure(device.get("fp16_tflops"))
        assert row["price USD"] == _figure(profile.get("price_usd"))
        assert row["ram GB"] == _figure(profile["ram_gb"])
    assert rows["rtx-4090"]["price USD"] == "1599" and rows["rtx-4090"]["mem bw GB/s"] == "1008"
    assert rows["2x-epyc-9654"]["devices"] == "CPU 2x EPYC 9654"


def test_solve_without_hardware_shows_the_price_it_ranks_by(llm):
    args = ("solve", "--model", "llama-3-8b", "--top", "5")
    text, answer = llm(*args), json.loads(llm(*args, "--format", "json").stdout)
    assert text.code == 0 and answer["objective"] == "min_hardware"
    rows, profiles = _table(text.stdout), load_catalog("hardware")
    assert [row["hardware"] for row in rows] == [config["hardware_id"] for config in answer["top"]]
    for row in rows:
        assert row["price USD"] == _figure(profiles[row["hardware"]].get("price_usd"))
    prices = [float(row["price USD"]) for row in rows]
    assert prices == sorted(prices)  # cheapest first, as the column now shows


def test_audit_markdown_names_every_quantity(llm, tmp_path):
    output = tmp_path / "audit.md"
    result = llm("audit", "--model", "mixtral-8x7b", "--hardware", "rtx-4090", "-o", output)
    assert result.code == 0, result.stderr
    text = output.read_text()
    pack = yaml.safe_load((ROOT / "formulas" / "llm.yaml").read_text())
    missing = [q["name"] for q in pack["quantities"] if f"`{q['name']}`" not in text]
    assert not missing
    assert "mixtral-8x7b" in text and "config.json of" in text  # inputs carry their provenance


# ---------------------------------------------------------------- bad input: exit 2, one clear line
def test_unknown_model_suggests_close_names(llm):
    one_error_line(
        llm("estimate", "--model", "llama-3-8", "--hardware", "rtx-4090"), "llama-3-8", "did you mean", "llama-3-8b"
    )


def test_negative_prompt_tokens_are_refused(llm):
    # argparse errors are one line after the usage lines
    result = llm("estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--prompt-tokens", "-5")
    assert result.code == 2 and result.stdout == ""
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("argument --prompt-tokens: expected an integer in 0..10,000,000, got '-5'")
    )


def test_tp_that_does_not_divide_the_heads_lists_the_valid_values(llm):
    one_error_line(
        llm("estimate", "--model", "llama-3-8b", "--hardware", "8x-h100-sxm", "--runtime", "vllm", "--tp", "3"),
        "TP=3",
        "32 attention heads",
        "valid: 1, 2, 4, 8",
    )


def test_a_record_with_a_prompt_is_refused(llm, tmp_path):
    path = write(tmp_path / "runs.json", dict(RECORD, prompt="the text someone typed"))
    one_error_line(llm("calibrate", path), "runs.json", "'prompt'")
    assert not (llm.data / "calibration.sqlite").exists()


def test_a_record_without_metrics_or_with_negative_tokens_is_refused_naming_the_field(llm, tmp_path):
    missing = {key: value for key, value in RECORD.items() if key != "metrics"}
    one_error_line(llm("calibrate", write(tmp_path / "missing.json", missing)), "missing.json", "metrics", "missing")
    one_error_line(llm("validate", write(tmp_path / "wrapped.json", {"runs": [missing]})), "wrapped.json", "metrics")
    one_error_line(
        llm("calibrate", write(tmp_path / "negative.json", dict(RECORD, context_tokens=-512))), "context_tokens", "-512"
    )
    assert not (llm.data / "calibration.sqlite").exists()


def test_unknown_hardware_in_a_record_is_refused(llm, tmp_path):
    path = write(tmp_path / "runs.yaml", {"runs": [RECORD, dict(RECORD, hardware_id="rtx-9090")]})
    one_error_line(llm("calibrate", path), "runs.yaml[1]", "hardware_id", "rtx-9090", "did you mean")
    assert not (llm.data / "calibration.sqlite").exists()


def test_an_unknown_solver_objective_is_bad_input(llm):
    result = llm("solve", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--objective", "fastest")
    assert result.code == 2 and "objective must be one of" in result.stderr
