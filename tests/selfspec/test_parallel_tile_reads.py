"""soc.parallel_tile_reads: P read pipelines share the tiles of a block. Time counts each pipeline's share,
energy every read; P = 1 is the reference's single pipeline."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import yaml
from conftest import EXAMPLES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symcost import build_model

FILES = (EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml")
ENERGY_OUTPUTS = ("speculative.dynamic_energy", "baseline.dynamic_energy")
LATENCY_OUTPUTS = ("speculative.latency_per_token", "baseline.latency_per_token", "speculative.burst_latency")


@functools.cache
def model_over_p():
    return build_model(*FILES, keep=["P_read"])


@functools.cache
def model_as_filed():
    return build_model(*FILES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 5000), min_size=2, max_size=8, unique=True), st.integers(1, 30000))
def test_latency_never_rises_and_energy_stays_as_p_grows(p_values, prompt):
    p = np.array(sorted(p_values), dtype=float)
    results = model_over_p().evaluate(L_prompt=np.full(p.size, prompt), P_read=p)
    for name in LATENCY_OUTPUTS:
        assert np.all(np.diff(results[name]) <= 1e-12 * results[name][0]), name
    for name in ENERGY_OUTPUTS:
        np.testing.assert_allclose(results[name], results[name][0], rtol=1e-12, err_msg=name)


def test_p_of_one_is_the_default():
    prompts = np.array([1, 128, 4096, 30000])
    default = model_as_filed().evaluate(L_prompt=prompts)
    explicit = model_over_p().evaluate(L_prompt=prompts, P_read=np.ones(prompts.size))
    assert set(default) == set(explicit)
    for name, values in default.items():
        np.testing.assert_allclose(explicit[name], values, rtol=1e-12, atol=0, err_msg=name)


def test_parallel_reads_shorten_the_analog_blocks_by_the_tiles_each_pipeline_holds():
    """model_tiny: d = 64, d_ff = 256 on 128 x 128 crossbars: QKV has 2 tiles, W_O 1, the two-projection
    FFN 2 + 2 = 4 (hand count). With 2 pipelines the FFN's reads come in ceil(4 / 2) = 2 waves per slice
    instead of 4, QKV's in 1; W_O's single tile gains nothing."""
    results = model_over_p().evaluate(L_prompt=np.array([64, 64]), P_read=np.array([1.0, 2.0]))
    ffn = results["speculative.stage.verify_bonus.ffn.latency"]
    wo = results["speculative.stage.verify_bonus.wo.latency"]
    assert ffn[1] < ffn[0] and wo[1] == wo[0]
    adc = results["speculative.component.verify_bonus.adc_residual.latency"]
    assert adc[1] / adc[0] == pytest.approx(4 / 7)  # busy time in waves: (1 + 1 + 2) vs (2 + 1 + 4) tiles x slices


@pytest.mark.parametrize(
    "value, fragment",
    [(0, "expected integer >= 1, got 0"), (-3, "expected integer >= 1, got -3"), (2.5, "expected integer, got 2.5")],
)
def test_bad_values_in_the_hardware_file_exit_2(tmp_path, value, fragment):
    hardware = yaml.safe_load(FILES[1].read_text())
    hardware["soc"]["parallel_tile_reads"] = value
    path = tmp_path / "hardware.yaml"
    path.write_text(yaml.safe_dump(hardware))
    result = run_cli("report", "--model", FILES[0], "--hardware", path, "--stats", FILES[2], "--prompt-lengths", "64")
    assert result.code == 2
    assert result.stderr.strip() == f"error: hardware.yaml: soc.parallel_tile_reads: {fragment}"


def test_a_sweep_takes_it_as_an_axis(tmp_path):
    output = tmp_path / "grid.csv"
    result = run_cli(
        "sweep",
        "--model",
        FILES[0],
        "--hardware",
        FILES[1],
        "--stats",
        FILES[2],
        "--axis",
        "L_prompt=64",
        "--axis",
        "soc.parallel_tile_reads=1,2,8",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    rows = [line.split(",") for line in output.read_text().splitlines()]
    column = rows[0].index("speculative.latency_per_token")
    assert [row[1] for row in rows[1:]] == ["1", "2", "8"]
    latencies = [float(row[column]) for row in rows[1:]]
    assert latencies[0] > latencies[1] >= latencies[2]
