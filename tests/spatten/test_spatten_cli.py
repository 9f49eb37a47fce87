"""``symcost spatten run`` as a user runs it: the seed's figures, the plots, and refused configurations."""

from __future__ import annotations

import pytest
from conftest import run_cli
from spatten.spatten_configs import EXAMPLE, edited, write_config

from symcost.cli import main

# The seed's console output (shared/seeds/002, "Important run summary"), line for line.
SEED_SANITY_BLOCK = """\
--- Hardware Sanity Checks (V11 CV Demo Optimistic) ---
Default Bytes per Token (QKV): 4,608 bytes
Speculative/Corrective Bytes per Token (V): 1,536 bytes
BYTES_PER_CYCLE = 128.0000 bytes / cycle
Transfer cycles per token (QKV) ~= 36.00 cycles
Transfer cycles per token (V) ~= 12.00 cycles
Bandwidth window (approx) = 2,560 bytes
------------------------------------------------------------
"""
SEED_RESULT_CELLS = (  # each row's metric, baseline and Monte Carlo cells (symcost appends the exact column)
    "--- Results (Mean ± Std over 50 trials) ---",
    "Predictor Precision=0.995, Recall=0.995",
    "  Total Cycles                 | 6,224,129            | 1905201 ± 85 ",
    "  DRAM Traffic (MB)            | 10.90                | 13.80 ± 0.01 ",
    "    -> Wasted Traffic (MB)     | N/A                  | 0.01 ± 0.00 ",
    "  Avg Hidden Time (cycles)     | N/A                  | 3835 ± 7 ",
    "  Lookahead Finish Rate (%)    | N/A                  | 100.00 ± 0.00 ",
    "Net Performance Improvement (mean): 69.39%",
    "Current P=0.995, R=0.995 yields SPEEDUP (69.39%).",
    "(All points showed speedup)",
)
PLOTS = (
    "gantt_P0.995_R0.995.png",
    "speedup_hist_P0.995_R0.995.png",
    "wasted_hist_P0.995_R0.995.png",
    "hiding_hist_P0.995_R0.995.png",
    "pr_sweep_contour.png",
)


def test_run_prints_the_seed_figures_and_writes_the_plots(tmp_path):
    result = run_cli("spatten", "run", EXAMPLE, "--out", tmp_path / "plots")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(SEED_SANITY_BLOCK)
    for cells in SEED_RESULT_CELLS:
        assert cells in result.stdout, cells
    assert "| 1905191 ± 74" in result.stdout  # the exact expectation beside the seed's sample
    for name in PLOTS:
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name


def test_trials_and_seed_options_override_the_configuration(tmp_path, capsys):
    assert main(["spatten", "run", str(EXAMPLE), "--trials", "7", "--seed", "1", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "--- Results (Mean ± Std over 7 trials) ---" in output
    assert "7 trials (seed 1)" in output


def test_a_bad_configuration_is_one_error_line_and_exit_code_2(tmp_path):
    result = run_cli("spatten", "run", write_config(tmp_path, edited({"speculation.precision": 0})), "--out", tmp_path)
    assert result.code == 2
    assert result.stderr == "error: spatten.yaml: speculation.precision: expected number > 0, got 0\n"
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("changes", "field", "expectation"),
    [
        ({"speculation.recall": 1.2}, "speculation.recall", "expected number <= 1, got 1.2"),
        (
            {"hardware_latency.av_mult_factor": -0.1},
            "hardware_latency.av_mult_factor",
            "expected number >= 0, got -0.1",
        ),
        ({"model.token_pruning_rate": 1.0}, "model.token_pruning_rate", "expected number < 1, got 1.0"),
        (
            {"sweep.recall": {"from": 0.9, "to": 0.8, "points": 5}},
            "sweep.recall",
            "expected from <= to, got from 0.9 > to 0.8",
        ),
    ],
)
def test_more_bad_configurations(tmp_path, capsys, changes, field, expectation):
    # The same path as the subprocess test above, in-process to keep the suite quick.
    assert main(["spatten", "run", str(write_config(tmp_path, edited(changes))), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: spatten.yaml: {field}: {expectation}\n"


@pytest.mark.parametrize("option", [["--trials", "0"], ["--seed", "-1"], ["--trials", "many"]])
def test_bad_options_are_refused(capsys, option):
    with pytest.raises(SystemExit) as stopped:
        main(["spatten", "run", str(EXAMPLE), *option])
    assert stopped.value.code == 2 and "error:" in capsys.readouterr().err


def test_symcost_audit_prints_the_pack_formulas(capsys):
    assert main(["audit", "--pack", "spatten", "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    for name in (
        "fetch_cycles",
        "speculative_fetch_cycles",
        "corrective_fetch_cycles",
        "baseline_layer_cycles",
        "pipelined_layer_cycles",
        "lookahead_cycles",
        "hidden_cycles",
        "wasted_bytes",
        "kept_tokens",
    ):
        assert f"`{name}`" in text, name
    assert r"\left\lfloor{\frac{1}{2} + \frac{t_{\mathrm{p}}}{P}}\right\rfloor" in text  # n_pred = round(tp / P)


def test_spatten_audit_adds_the_configuration(tmp_path, capsys):
    output = tmp_path / "audit.tex"
    assert main(["spatten", "audit", str(EXAMPLE), "-o", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert r"\begin{document}" in text and "This configuration: V11 CV Demo Optimistic" in text
    assert r"speculation.\allowbreak{}precision (stated (P = 0.995))" in text  # provenance from the file
    assert "1.90519e+06" in text  # the exact expected pipelined cycles
