"""The reference calculator's three CLIs as symcost subcommands, run as a user runs them.

report --compat selfspec (ppa-calculator), k-sweep (ppa-k-sweep) and
batch-inputs (ppa-batch-inputs), against the reference's golden reports and
the numbers in tests/data/compat/reference_outputs.json.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from conftest import PEER, ROOT, run_cli

DATA = ROOT / "tests" / "data" / "compat"
REFERENCE = json.loads((DATA / "reference_outputs.json").read_text())
NOT_REPRODUCED = ("activation_counts", "memory_traffic", "ownership_rules.", "generated_at")


def _one_line_error(result, *fragments: str) -> None:
    assert result.code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert all(fragment in result.stderr for fragment in fragments), result.stderr


def _keys(tree) -> set[str]:
    """Every key path of a JSON tree (lists by their first element)."""
    if isinstance(tree, dict):
        return {key for name, value in tree.items() for key in {name} | {f"{name}.{inner}" for inner in _keys(value)}}
    if isinstance(tree, list) and tree:
        return {f"[].{inner}" for inner in _keys(tree[0])}
    return set()


def test_report_compat_writes_the_reference_layout(peer_examples, tmp_path):
    golden = json.loads((PEER / "golden" / "model__hardware_soc_area__stats.json").read_text())
    output = tmp_path / "nested" / "report.json"
    result = run_cli(
        "report",
        "--compat",
        "selfspec",
        "--model",
        peer_examples / "model.yaml",
        "--hardware",
        peer_examples / "hardware_soc_area.yaml",
        "--stats",
        peer_examples / "stats.json",
        "--prompt-lengths",
        "1",
        "64",
        "512,2048",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    assert "energy/token" in result.stdout and f"wrote {output}" in result.stdout  # the usual table, and the file
    ours = json.loads(output.read_text())

    def comparable(keys: set[str]) -> set[str]:  # without the fields docs/compat.md lists as not reproduced
        return {key for key in keys if not any(field in key for field in NOT_REPRODUCED)}

    assert comparable(_keys(golden)) == comparable(_keys(ours))
    for index, point in enumerate(golden["points"]):
        for scenario in ("speculative", "baseline"):
            for metric, value in point[scenario].items():
                assert math.isclose(ours["points"][index][scenario][metric], value, rel_tol=1e-9)
    assert ours["paths"]["hardware"].endswith("hardware_soc_area.yaml")


def test_report_compat_without_output_prints_the_json(peer_examples):
    result = run_cli(
        "report",
        "--compat",
        "selfspec",
        "--model",
        peer_examples / "model.yaml",
        "--hardware",
        peer_examples / "hardware_legacy.yaml",
        "--stats",
        peer_examples / "stats.json",
        "--prompt-lengths",
        "64",
    )
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["hardware_mode"] == "legacy" and report["resolved_library"] is None
    assert [point["l_prompt"] for point in report["points"]] == [64]


@pytest.mark.parametrize("case", REFERENCE["k_sweep"], ids=lambda case: case["hardware"])
def test_k_sweep_cli_matches_the_reference(peer_examples, tmp_path, case):
    output = tmp_path / "k_sweep.json"
    result = run_cli(
        "k-sweep",
        "--model",
        peer_examples / case["model"],
        "--hardware",
        peer_examples / case["hardware"],
        "--acceptance-sweep",
        DATA / case["candidates"],
        "--prompt-lengths",
        *map(str, case["prompt_lengths"]),
        "--output",
        output,
    )
    assert result.code == 0, result.stderr
    report = json.loads(output.read_text())
    for ours, theirs in zip(report["points"], case["points"], strict=True):
        assert (ours["l_prompt"], ours["k"]) == (theirs["l_prompt"], theirs["k"])
        for metric, value in theirs["speculative"].items():
            assert math.isclose(ours["speculative"][metric], value, rel_tol=1e-9)
    for best in case["best"]:
        assert (
            f"L_prompt {best['l_prompt']}: best K {best['throughput_k']} by throughput, "
            f"{best['tokens_per_joule_k']} by tokens per joule" in result.stdout
        )


@pytest.mark.parametrize("case", REFERENCE["batch"], ids=lambda case: f"{case['hardware_template']}-{case['inputs']}")
def test_batch_inputs_cli_matches_the_reference(peer_examples, tmp_path, case):
    output = tmp_path / "out"
    force = ["--force-verify-adc-bits", str(case["force_verify_adc_bits"])] if case["force_verify_adc_bits"] else []
    result = run_cli(
        "batch-inputs",
        "--inputs-dir",
        DATA / case["inputs"],
        "--output-dir",
        output,
        "--hardware-template",
        peer_examples / case["hardware_template"],
        "--models-dir",
        peer_examples,
        *force,
    )
    assert result.code == 0, result.stderr
    assert f"processed {len(case['points'])} input files" in result.stdout
    assert (output / "summary.md").read_text() == case["summary_md"]
    assert (output / "summary_best.md").read_text() == case["summary_best_md"]
    rows = json.loads((output / "summary.json").read_text())["rows"]
    assert len(rows) == sum(len(points) for points in case["points"].values())
    for name, points in case["points"].items():
        report = json.loads((output / name).read_text())
        for ours, theirs in zip(report["points"], points, strict=True):
            assert ours["k"] == theirs["k"]
            for metric, value in theirs["speculative"].items():
                assert math.isclose(ours["speculative"][metric], value, rel_tol=1e-9)


def test_batch_inputs_defaults_are_the_reference_layout(peer_examples, tmp_path):
    """Run from a folder laid out like the reference's checkout, with no options at all."""
    shutil.copytree(peer_examples, tmp_path / "examples")
    shutil.copytree(DATA / "simulator_force", tmp_path / "inputs")
    result = run_cli("batch-inputs", cwd=tmp_path)
    assert result.code == 0, result.stderr
    expected = next(case for case in REFERENCE["batch"] if case["inputs"] == "simulator")
    ours = (tmp_path / "out" / "batch_inputs" / "summary_best.md").read_text().splitlines()
    assert ours[2] in expected["summary_best_md"].splitlines()


# ---- bad input: one line, exit 2 ----------------------------------------------------------------


def test_k_sweep_missing_measurement_file(peer_examples, tmp_path):
    result = run_cli(
        "k-sweep",
        "--model",
        peer_examples / "model.yaml",
        "--hardware",
        peer_examples / "hardware.yaml",
        "--acceptance-sweep",
        tmp_path / "absent.yaml",
        "--prompt-lengths",
        "64",
    )
    _one_line_error(result, "absent.yaml", "file not found")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("candidates:\n  - {k: 2, expected_accepted_tokens: 2.5}\n", "exceeds K = 2"),
        ("candidates:\n  - {k: 2, expected_accepted_tokens: lots}\n", "candidates[0].expected_accepted_tokens"),
        ("1: [0.8\n", "sweep.yaml"),
    ],
)
def test_k_sweep_malformed_measurement_file(peer_examples, tmp_path, text, fragment):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(text)
    result = run_cli(
        "k-sweep",
        "--model",
        peer_examples / "model.yaml",
        "--hardware",
        peer_examples / "hardware.yaml",
        "--acceptance-sweep",
        sweep,
        "--prompt-lengths",
        "64",
    )
    _one_line_error(result, fragment)


def test_batch_inputs_missing_inputs_folder(tmp_path):
    _one_line_error(run_cli("batch-inputs", "--inputs-dir", tmp_path / "nowhere"), "nowhere", "inputs folder not found")


def test_batch_inputs_malformed_simulator_file(peer_examples, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "run.json").write_text(
        '{"model": {"checkpoint_path": "Qwen3-0.6B"}, "dataset": {}, '
        '"knobs": {"draft_adc_bits": 4, "verify_adc_bits": 12}, "results_by_k": {"2": {"mean_accepted": 1}}}'
    )
    result = run_cli(
        "batch-inputs",
        "--inputs-dir",
        inputs,
        "--output-dir",
        tmp_path / "out",
        "--hardware-template",
        peer_examples / "hardware_soc_area.yaml",
        "--models-dir",
        peer_examples,
    )
    _one_line_error(result, "run.json", "dataset.prompt_length")


def test_batch_reads_each_simulator_file_once_and_stops_at_a_bad_one_in_name_order(
    peer_examples, tmp_path, monkeypatch
):
    """The prebuild and the run share one read of each file; a file that cannot be read still fails in its turn,
    after the files before it are written."""
    from symcost.errors import SymcostError
    from symcost.packs.selfspec.compat import batch

    case = REFERENCE["batch"][0]
    inputs = tmp_path / "inputs"
    shutil.copytree(DATA / case["inputs"], inputs)
    good = sorted(path.name for path in inputs.glob("*.json"))
    (inputs / "zz-bad.json").write_text('{"model": {"checkpoint_path": "Qwen3-0.6B"}, "dataset": {}}')
    reads, read_run = [], batch.read_run
    monkeypatch.setattr(batch, "read_run", lambda path: reads.append(path.name) or read_run(path))
    runner = batch.BatchRunner(peer_examples / case["hardware_template"], peer_examples, case["force_verify_adc_bits"])
    with pytest.raises(SymcostError, match="zz-bad.json"):
        runner.run(inputs, tmp_path / "out")
    assert sorted(reads) == [*good, "zz-bad.json"]
    assert all((tmp_path / "out" / name).is_file() for name in good)


def test_batch_inputs_knob_the_library_cannot_serve(peer_examples, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    data = json.loads((DATA / "simulator" / "run_qwen0p6b_adc4_12.json").read_text())
    data["knobs"]["draft_adc_bits"] = 17
    (inputs / "run.json").write_text(json.dumps(data))
    result = run_cli(
        "batch-inputs",
        "--inputs-dir",
        inputs,
        "--output-dir",
        tmp_path / "out",
        "--hardware-template",
        peer_examples / "hardware_soc_area.yaml",
        "--models-dir",
        peer_examples,
    )
    _one_line_error(result, "run.json", "analog.adc.draft_bits", "17-bit ADC")


def test_batch_inputs_needs_a_knob_based_template(peer_examples, tmp_path):
    result = run_cli(
        "batch-inputs",
        "--inputs-dir",
        DATA / "simulator",
        "--output-dir",
        tmp_path / "out",
        "--hardware-template",
        peer_examples / "hardware_legacy.yaml",
        "--models-dir",
        peer_examples,
    )
    _one_line_error(result, "hardware_legacy.yaml", "knob-based")
