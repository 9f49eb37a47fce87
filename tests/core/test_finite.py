"""Non-finite results are errors naming the output, the point and the inputs that drive them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import EXAMPLES

from symcost.finite import InputValue, NonFiniteResultError, json_text, refuse_non_finite
from symcost.packs.selfspec.model import build_model


def test_finite_results_pass():
    refuse_non_finite({"a": np.array([1.0, 2.0])}, str, lambda: pytest.fail("inputs asked for without need"))


def test_the_first_non_finite_output_is_named_with_its_point_and_the_extreme_inputs():
    inputs = [
        InputValue("hw.bw = 1e-320 GB/s", 1e-311, divides=True),
        InputValue("hw.e = 2 pJ", 2e-12),
        InputValue("hw.zero_in_a_sum = 0", 0.0),
        InputValue("hw.rate = 0", 0.0, divides=True),
        InputValue("hw.power = unknown", math.nan),
    ]
    with pytest.raises(NonFiniteResultError) as caught:
        refuse_non_finite(
            {"ok": np.ones(3), "t": np.array([1.0, np.inf, np.nan])}, lambda index: f"L = {index}", lambda: inputs
        )
    assert str(caught.value) == "t is inf at L = 1: it is driven by hw.bw = 1e-320 GB/s, hw.rate = 0"


def test_without_extreme_inputs_the_message_says_where_to_look():
    with pytest.raises(NonFiniteResultError, match="no input is zero where it divides"):
        refuse_non_finite({"t": np.array([np.nan])}, str, lambda: [InputValue("x = 1", 1.0)])


def test_json_text_refuses_nan_naming_where_it_is():
    with pytest.raises(NonFiniteResultError, match=r"points\[1\]\.energy: expected a finite number, got nan"):
        json_text({"points": [{"energy": 1.0}, {"energy": math.nan}]})
    assert json_text({"a": 1.5}) == '{\n  "a": 1.5\n}'


def test_a_subnormal_bandwidth_is_named(tmp_path):
    hardware = tmp_path / "hardware.yaml"
    text = (EXAMPLES / "hardware_soc_pipelined.yaml").read_text()
    hardware.write_text(text.replace("read_bandwidth_GBps: 460.8 GB/s", "read_bandwidth_GBps: 1e-320"))
    model = build_model(EXAMPLES / "model_tiny.yaml", hardware, EXAMPLES / "stats_k4.yaml", vary=["L_prompt"])
    with pytest.raises(
        NonFiniteResultError, match="at L_prompt = 64: it is driven by hardware.memory.hbm.read_bandwidth_GBps = "
    ):
        model.evaluate(L_prompt=np.array([64]))
