"""The compute backend as a dimension: which backends runtimes and machines run, the default of a pair, refusals
of impossible combinations (CLI exit 2, HTTP 400), per-backend calibration and widened intervals where the
calibration never measured the runtime on that backend."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from conftest import run_cli
from service.service_server import Server

from symcost.packs.llm.backends import BackendError, choose_backend
from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.estimate import estimate
from symcost.packs.llm.requests import packaged_bundle, scenario_from_request
from symcost.packs.llm.uncalibrated import widening_factors


def request(hardware="rtx-4090", runtime="llama.cpp", backend=None) -> dict:
    return {
        "model_id": "llama-3.1-8b",
        "runtime_id": runtime,
        "hardware": {"hardware_id": hardware},
        "backend": backend,
    }


@pytest.mark.parametrize("kind", ["runtimes", "hardware"])
def test_every_catalog_default_backend_is_one_of_its_backends(kind):
    for entry in catalog(kind):
        assert entry["default_backend"] in entry["backends"], entry.id


@pytest.mark.parametrize(
    "hardware, runtime, expected",
    [
        ("rtx-4090", "llama.cpp", "cuda"),
        ("apple-m1-max-64gb", "llama.cpp", "metal"),
        ("mi300x", "vllm", "rocm"),
        ("2x-epyc-9654", "llama.cpp", "cpu"),
        ("apple-m1-max-64gb", "mlx", "metal"),
    ],
)
def test_the_default_backend_is_the_machines_when_the_runtime_has_it(hardware, runtime, expected):
    assert choose_backend(catalog("runtimes").get(runtime), catalog("hardware").get(hardware)) == expected


def test_a_machine_file_without_backends_takes_the_runtimes_default():
    hardware = catalog("hardware").get("rtx-4090")
    own = replace(
        hardware,
        data={key: value for key, value in hardware.data.items() if key not in ("backends", "default_backend")},
        origin="my-box.yaml",
    )
    assert choose_backend(catalog("runtimes").get("llama.cpp"), own, None) == "cuda"
    assert choose_backend(catalog("runtimes").get("llama.cpp"), own, "sycl") == "sycl"


@pytest.mark.parametrize(
    "hardware, runtime, backend, message",
    [
        ("rtx-4090", "llama.cpp", "metal", "valid backends are cuda, vulkan"),
        ("apple-m1-max-64gb", "vllm", None, "no backend in common"),
        ("rtx-4090", "mlx", None, "no backend in common"),
        ("mi300x", "tensorrt-llm", None, "no backend in common"),
    ],
)
def test_an_impossible_combination_is_refused_naming_the_valid_ones(hardware, runtime, backend, message):
    with pytest.raises(BackendError, match=message):
        scenario_from_request(request(hardware, runtime, backend))


def test_cli_refuses_metal_on_an_nvidia_gpu_with_exit_2():
    result = run_cli("llm", "estimate", "--model", "llama-3.1-8b", "--hardware", "rtx-4090", "--backend", "metal")
    assert result.code == 2
    assert result.stderr.strip() == (
        "error: backend 'metal' cannot run llama.cpp on rtx-4090: valid backends are cuda, vulkan"
    )


def test_an_unmeasured_backend_is_marked_and_its_intervals_widened():
    bundle = packaged_bundle()
    cuda = estimate(scenario_from_request(request(backend="cuda")), bundle)
    # llama.cpp runs measured on cuda, metal, rocm, sycl and on_cpu; none on a CPU server
    on_cpu = estimate(scenario_from_request(request("2x-epyc-9654", backend="cpu")), bundle)
    assert (cuda["scenario"]["backend"], on_cpu["scenario"]["backend"]) == ("cuda", "cpu")
    assert cuda["backend_calibrated"] is True and on_cpu["backend_calibrated"] is False
    assert on_cpu["runtime_calibrated"] is True  # llama.cpp itself is measured
    assert "llama.cpp|cuda|consumer_gpu" in cuda["coefficients"]["origin"]
    assert "|cpu|" not in on_cpu["coefficients"]["origin"]
    assert any("Uncalibrated for the cpu backend" in line for line in on_cpu["warnings"])
    assert not any("Uncalibrated" in line for line in cuda["warnings"])
    band = on_cpu["estimates"]["decode_toks_sec"]
    base = bundle.interval("decode_toks_sec", band["p50"])
    factor = widening_factors()["decode"]
    assert math.log(band["p90"] / band["p50"]) == pytest.approx(factor * math.log(base["p90"] / base["p50"]), abs=2e-3)


def test_a_backend_measured_on_another_hardware_class_only_is_marked_and_widened():
    # llama.cpp's ROCm runs are on Radeon cards (consumer_gpu); none on an Instinct GPU (datacenter_gpu)
    bundle = packaged_bundle()
    radeon = estimate(scenario_from_request(request("rx-7900-xtx")), bundle)
    instinct = estimate(scenario_from_request(request("mi300x")), bundle)
    assert radeon["scenario"]["backend"] == instinct["scenario"]["backend"] == "rocm"
    assert radeon["backend_calibrated"] is True and instinct["backend_calibrated"] is False
    assert any("Uncalibrated for the rocm backend on datacenter_gpu" in line for line in instinct["warnings"])
    band = instinct["estimates"]["prefill_toks_sec"]
    base = bundle.interval("prefill_toks_sec", band["p50"])
    factor = widening_factors()["prefill"]
    assert math.log(band["p10"] / band["p50"]) == pytest.approx(factor * math.log(base["p10"] / base["p50"]), abs=2e-3)


def test_calibration_pools_llama_cpp_per_backend():
    groups = packaged_bundle().coefficients["groups"]
    assert {"llama.cpp|cuda|consumer_gpu", "llama.cpp|metal|apple_silicon", "llama.cpp|vulkan|consumer_gpu"} <= set(
        groups
    )


def test_solve_with_a_backend_rejects_machines_without_it():
    result = run_cli(
        "llm",
        "solve",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "rtx-4090",
        "--hardware",
        "apple-m1-max-64gb",
        "--backend",
        "metal",
        "--quant",
        "q4_k_m",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {row["hardware_id"] for row in answer["top"]} == {"apple-m1-max-64gb"}
    assert {row["backend"] for row in answer["top"]} == {"metal"}
    assert answer["rejected"]["layout:backend_unsupported"] > 0


def test_api_takes_a_backend_and_refuses_an_impossible_one(tmp_path):
    body = {**request(backend="vulkan"), "recommend": 0}
    unmeasured = {**request("2x-epyc-9654", backend="cpu"), "recommend": 0}
    with Server(tmp_path / "db.sqlite", options=["--workers", "1"]) as server:
        status, answer = server.post("/v1/estimate", body)
        refused_status, refused = server.post("/v1/estimate", {**body, "backend": "metal"})
        _, on_cpu = server.post("/v1/estimate", unmeasured)
    assert status == 200
    assert answer["scenario"]["backend"] == "vulkan" and answer["backend_calibrated"] is True  # measured since 98 rows
    assert on_cpu["scenario"]["backend"] == "cpu" and on_cpu["backend_calibrated"] is False
    assert refused_status == 400
    assert "valid backends are cuda, vulkan" in refused["error"]
