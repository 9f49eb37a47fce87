"""Multi-device semantics per runtime: a llama.cpp layer split runs its devices one after another (no extra
bandwidth for one sequence), a row split and vLLM's tensor parallelism split each layer (bandwidth adds);
each runtime names its modes and its default one; --devices N uses the default."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from service.service_server import Server

from symcost.packs.llm.analytic import analytic_model
from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.multi_device import MultiDeviceError, default_mode, has_kind, modes
from symcost.packs.llm.requests import RequestError, packaged_bundle, scenario_from_request


def evaluated(hardware: str, runtime: str = "llama.cpp", quant: str = "q4_k_m", **parallelism) -> dict:
    """The pack's results for llama-3.1-8b (fits one 24 GB GPU), one sequence, calibrated coefficients."""
    scenario = scenario_from_request(
        {
            "model_id": "llama-3.1-8b",
            "runtime_id": runtime,
            "quant": quant,
            "hardware": {"hardware_id": hardware},
            "parallelism": parallelism,
            "workload": {"context_tokens": 512, "output_tokens": 128},
        }
    )
    scenario = scenario.with_(coefficients=packaged_bundle().coefficients_for(scenario))
    model = analytic_model()
    return {
        name: float(value) for name, value in model.evaluate(model.bind(scenario).numbers(model.input_names)).items()
    }


@pytest.mark.parametrize("runtime", [entry.id for entry in catalog("runtimes")])
def test_every_runtime_names_its_default_mode_and_its_tp_flag_agrees(runtime):
    entry = catalog("runtimes").get(runtime)
    assert default_mode(entry) in modes(entry)
    assert set(modes(entry).values()) <= {"tensor", "pipeline"}
    assert entry["tensor_parallel"] is has_kind(entry, "tensor")


@pytest.mark.parametrize(
    "runtime, mode",
    [
        ("llama.cpp", "layer"),
        ("ollama", "layer"),
        ("exllamav2", "layer"),
        ("vllm", "tensor"),
        ("tensorrt-llm", "tensor"),
        ("sglang", "tensor"),
    ],
)
def test_the_default_modes_are_the_runtimes_own(runtime, mode):
    assert default_mode(catalog("runtimes").get(runtime)) == mode


def test_a_llama_cpp_layer_split_over_two_gpus_is_not_faster_than_one_gpu():
    one = evaluated("rtx-4090")
    split = evaluated("2x-rtx-4090", devices=2)
    assert split["decode_tps"] <= one["decode_tps"]
    # the only difference is the hidden state's hand-over between the two halves
    assert split["t_pp"] > 0
    assert 1 / split["decode_tps"] - 1 / one["decode_tps"] == pytest.approx(split["t_pp"], rel=1e-6)


def test_a_llama_cpp_row_split_and_vllm_tensor_parallelism_add_bandwidth():
    assert (
        evaluated("2x-rtx-4090", devices=2, split_mode="row")["decode_tps"] > 1.3 * evaluated("rtx-4090")["decode_tps"]
    )
    vllm_one = evaluated("rtx-4090", runtime="vllm", quant="awq-int4")
    vllm_tp = evaluated("2x-rtx-4090", runtime="vllm", quant="awq-int4", devices=2)
    assert vllm_tp["decode_tps"] > 1.3 * vllm_one["decode_tps"]


def test_devices_in_a_mode_give_the_layout_of_its_kind():
    request = {"model_id": "llama-3.1-8b", "hardware": {"hardware_id": "2x-rtx-4090"}}
    layer = scenario_from_request({**request, "parallelism": {"devices": 2}}).layout
    row = scenario_from_request({**request, "parallelism": {"devices": 2, "split_mode": "row"}}).layout
    vllm = scenario_from_request({**request, "runtime_id": "vllm", "parallelism": {"devices": 2}}).layout
    assert (layer.tensor_parallel, layer.pipeline_parallel) == (1, 2)
    assert (row.tensor_parallel, row.pipeline_parallel) == (2, 1)
    assert (vllm.tensor_parallel, vllm.pipeline_parallel) == (2, 1)


def test_a_mode_the_runtime_lacks_or_devices_given_twice_are_refused():
    request = {"model_id": "llama-3.1-8b", "hardware": {"hardware_id": "2x-rtx-4090"}}
    with pytest.raises(MultiDeviceError, match="runtime ollama has no multi-device mode 'row': valid modes are layer"):
        scenario_from_request({**request, "runtime_id": "ollama", "parallelism": {"devices": 2, "split_mode": "row"}})
    with pytest.raises(RequestError, match="not both"):
        scenario_from_request({**request, "parallelism": {"devices": 2, "tensor_parallel": 2}})


def test_cli_devices_use_the_default_mode_and_the_response_names_it():
    result = run_cli(
        "llm",
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "2x-rtx-4090",
        "--devices",
        "2",
        "--recommend",
        "0",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    scenario = json.loads(result.stdout)["scenario"]
    assert (scenario["pipeline_parallel"], scenario["multi_device_mode"]) == (2, "layer")
    refused = run_cli(
        "llm",
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "2x-rtx-4090",
        "--devices",
        "2",
        "--split-mode",
        "tensor",
    )
    assert refused.code == 2
    assert (
        refused.stderr.strip()
        == "error: runtime llama.cpp has no multi-device mode 'tensor': valid modes are layer, row"
    )


def test_api_takes_devices_and_a_split_mode(tmp_path):
    body = {
        "model_id": "llama-3.1-8b",
        "hardware": {"hardware_id": "2x-rtx-4090"},
        "recommend": 0,
        "parallelism": {"devices": 2, "split_mode": "row"},
    }
    with Server(tmp_path / "db.sqlite", options=["--workers", "1"]) as server:
        status, answer = server.post("/v1/estimate", body)
        refused_status, refused = server.post("/v1/estimate", {**body, "runtime_id": "ollama"})
    assert status == 200
    assert (answer["scenario"]["tensor_parallel"], answer["scenario"]["multi_device_mode"]) == (2, "row")
    assert refused_status == 400 and "valid modes are layer" in refused["error"]
