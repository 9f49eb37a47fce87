"""Runtime version as an input: builds and dates placed in eras, era coefficients fitted with a smooth prior,
the newest era by default, and the era an estimate used named in its response."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import run_cli

from symcost.packs.llm.analytic import analytic_model, scenario_values
from symcost.packs.llm.calibration import Bundle, fit
from symcost.packs.llm.observations import observations
from symcost.packs.llm.records import RunRecord
from symcost.packs.llm.requests import packaged_bundle, scenario_from_request
from symcost.packs.llm.runtime_eras import RuntimeVersionError, era_of_record, era_of_version, nearest_era
from symcost.packs.llm.scenario import Coefficients


@pytest.mark.parametrize(
    "version, era",
    [
        ("b5163", "2025"),
        ("b6918", "2025"),
        ("b6000", "2025"),
        ("b99999", "2025"),
        ("2024", "2024"),
        ("2024-06", "2024"),
        ("2023-12-31", "2023"),
    ],
)
def test_builds_and_dates_are_placed_in_their_year(version, era):
    assert era_of_version("llama.cpp", version) == era


@pytest.mark.parametrize(
    "version, message",
    [
        ("b100", "predates the earliest dated build"),
        ("6918", "give a build"),
        ("2024-13", "give a build"),
        ("2024-02-30x", "give a build"),
        ("v1.2.3", "give a build"),
        ("", "give a build"),
    ],
)
def test_versions_that_cannot_be_placed_are_refused(version, message):
    with pytest.raises(RuntimeVersionError, match=message):
        era_of_version("llama.cpp", version)


def test_a_build_of_a_runtime_without_dated_builds_asks_for_a_date():
    with pytest.raises(RuntimeVersionError, match="no dated builds of vllm"):
        era_of_version("vllm", "b10")
    assert era_of_version("vllm", "2025-01") == "2025"


def test_a_record_takes_its_era_from_its_version_else_its_date():
    assert era_of_record("llama.cpp", "b6918", "2023-01") == "2025"
    assert era_of_record("llama.cpp", "v0.4", "2024-05") == "2024"
    assert era_of_record("llama.cpp", "", "") is None


def test_the_nearest_fitted_era_is_used_and_the_newest_by_default():
    assert nearest_era(["2022", "2024"], None) == "2024"
    assert nearest_era(["2022", "2024"], "2026") == "2024"
    assert nearest_era(["2022", "2024"], "2021") == "2022"
    assert nearest_era(["2022", "2024"], "2023") == "2024"  # a tie goes to the newer era
    assert nearest_era([], "2024") is None


ERA_TRUTH = {"2024": (0.70, 0.40, 1.2e-3), "2025": (0.85, 0.40, 0.8e-3)}  # eta_bw, eta_flops, t0_s per era
T_LAYER = 2e-5  # the per-layer time, one value for every era (the fit has no era offset for it)


def era_records() -> list[RunRecord]:
    """llama.cpp runs on consumer GPUs that the model itself predicts, with faster decode in 2025 than in 2024."""
    model, records = analytic_model(), []
    for era, hardware, model_id, prompt in itertools.product(
        ERA_TRUTH, ["rtx-3090", "rtx-4090", "rtx-4080"], ["llama-3.2-1b", "llama-3-8b"], [128, 2048]
    ):
        data = {
            "run_id": f"{era}-{hardware}-{model_id}-{prompt}",
            "model_id": model_id,
            "runtime_id": "llama.cpp",
            "hardware_id": hardware,
            "quant": "f16",
            "context_tokens": prompt,
            "output_tokens": 128,
            "source_date": era,
            "metrics": {"decode_toks_sec": 1.0},
        }
        run = RunRecord(data["run_id"], data)
        results = model.evaluate(
            scenario_values(run.scenario().with_(coefficients=Coefficients(*ERA_TRUTH[era], t_layer_s=T_LAYER)))
        )
        data["metrics"] = {
            "decode_toks_sec": float(results["decode_tps"]),
            "prefill_toks_sec": float(results["prefill_tps"]),
        }
        records.append(run)
    return records


def test_the_fit_recovers_the_change_of_decode_speed_between_eras():
    records = era_records()
    bundle = Bundle(fit(observations(records)), {}, 0, 0)
    assert set(bundle.coefficients["eras"]) == {"llama.cpp@2024", "llama.cpp@2025"}
    scenario = records[0].scenario()
    fitted = {era: bundle.coefficients_for(scenario.with_(runtime_era=era)) for era in ERA_TRUTH}
    truth_ratio = ERA_TRUTH["2025"][0] / ERA_TRUTH["2024"][0]
    assert fitted["2025"].eta_bw / fitted["2024"].eta_bw == pytest.approx(truth_ratio, rel=0.03)
    assert fitted["2025"].t0_s < fitted["2024"].t0_s
    assert "llama.cpp@2025" in bundle.coefficients_for(scenario.with_(runtime_era=None)).origin


def newest_llama_cpp_era() -> str:
    """The packaged bundle's newest llama.cpp era (``llama.cpp@YYYY``), which an undated runtime uses."""
    return max(era for era in packaged_bundle().coefficients["eras"] if era.startswith("llama.cpp@"))


def test_the_packaged_bundle_has_llama_cpp_eras_and_defaults_to_the_newest():
    bundle = packaged_bundle()
    assert {"llama.cpp@2024", "llama.cpp@2025"} <= set(bundle.coefficients["eras"])
    request = {"model_id": "llama-3-8b", "hardware": {"hardware_id": "rtx-4090"}}
    newest = bundle.coefficients_for(scenario_from_request(request))
    dated = bundle.coefficients_for(scenario_from_request({**request, "runtime_id": "llama.cpp@2024-06"}))
    assert f"{newest_llama_cpp_era()} + " in newest.origin and "llama.cpp@2024 + " in dated.origin
    assert newest.eta_bw != dated.eta_bw


def test_an_old_bundle_without_eras_still_gives_coefficients():
    coefficients = {
        key: value for key, value in packaged_bundle().coefficients.items() if key not in ("eras", "backend_eras")
    }
    scenario = scenario_from_request(
        {"model_id": "llama-3-8b", "hardware": {"hardware_id": "rtx-4090"}, "runtime_id": "llama.cpp@b6918"}
    )
    assert "@" not in Bundle(coefficients, {}, 0, 0).coefficients_for(scenario).origin


@pytest.mark.parametrize(
    "runtime, era",
    [
        ("llama.cpp@b6918", "llama.cpp@2025"),
        ("llama.cpp@2024-06", "llama.cpp@2024"),
        ("llama.cpp", "newest"),
        ("ollama@2024", "llama.cpp@2024"),
    ],
)
def test_the_cli_estimate_names_the_era_it_used(runtime, era):
    result = run_cli(
        "llm",
        "estimate",
        "--model",
        "llama-3-8b",
        "--hardware",
        "rtx-4090",
        "--runtime",
        runtime,
        "--calibration",
        "packaged",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    era = newest_llama_cpp_era() if era == "newest" else era
    # The runtime's era, then its compute backend's (CUDA on an RTX 4090).
    assert f" + {era} + llama.cpp|cuda@" in json.loads(result.stdout)["coefficients"]["origin"]


@pytest.mark.parametrize(
    "runtime, message",
    [
        ("llama.cpp@b100", "predates the earliest dated build (b5163"),
        ("llama.cpp@last-tuesday", "give a build (b6918) or a date"),
    ],
)
def test_the_cli_refuses_a_version_it_cannot_place(runtime, message):
    result = run_cli("llm", "estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--runtime", runtime)
    assert result.code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_api_takes_the_version_and_names_the_era(tmp_path):
    from service.service_server import Server

    request = {"model_id": "llama-3-8b", "hardware": {"hardware_id": "rtx-4090"}}
    with Server(tmp_path / "db.sqlite") as server:
        status, body = server.post("/v1/estimate", {**request, "runtime_id": "llama.cpp@2024-06"})
        assert status == 200, body
        assert body["coefficients"]["origin"].endswith(
            " + llama.cpp@2024 + llama.cpp|cuda@2024 + llama.cpp|cuda|RTX 4090)"
        )
        status, body = server.post("/v1/estimate", {**request, "runtime_id": "llama.cpp@b100"})
        assert status == 400 and "predates the earliest dated build" in body["error"]


def test_the_solver_and_the_recommendations_use_the_asked_era():
    from symcost.packs.llm.recommend import recommended_configs, solve_request
    from symcost.packs.llm.scenario import Workload
    from symcost.packs.llm.solver import solve

    bundle, workload = packaged_bundle(), Workload(512, 128)
    top = {
        runtime: solve(solve_request(["llama-3-8b"], ["rtx-4090"], runtime, workload), bundle)["top"][0]
        for runtime in ("llama.cpp@2024", newest_llama_cpp_era(), "llama.cpp")
    }
    assert top[newest_llama_cpp_era()]["decode_toks_sec"] == top["llama.cpp"]["decode_toks_sec"]  # newest by default
    assert top["llama.cpp@2024"]["decode_toks_sec"] != top["llama.cpp"]["decode_toks_sec"]
    request = {"model_id": "llama-3-8b", "hardware": {"hardware_id": "rtx-4090"}, "runtime_id": "llama.cpp@2024"}
    recommended = recommended_configs(scenario_from_request(request), bundle)[0]
    assert recommended["decode_toks_sec"] == top["llama.cpp@2024"]["decode_toks_sec"]


# eta_bw, eta_flops, t0_s per (compute backend, era): Vulkan's decode improves from 2024 to 2025, CUDA's does not.
BACKEND_ERA_TRUTH = {
    ("cuda", "2024"): (0.80, 0.40, 1.0e-3),
    ("cuda", "2025"): (0.80, 0.40, 1.0e-3),
    ("vulkan", "2024"): (0.40, 0.40, 1.0e-3),
    ("vulkan", "2025"): (0.70, 0.40, 1.0e-3),
}


def backend_era_records() -> list[RunRecord]:
    """llama.cpp runs the model itself predicts, on CUDA and on Vulkan, in 2024 and 2025."""
    model, records = analytic_model(), []
    for (backend, era), hardware, model_id in itertools.product(
        BACKEND_ERA_TRUTH, ["rtx-3090", "rtx-4090"], ["llama-3.2-1b", "llama-3-8b"]
    ):
        data = {
            "run_id": f"{backend}-{era}-{hardware}-{model_id}",
            "model_id": model_id,
            "runtime_id": "llama.cpp",
            "hardware_id": hardware,
            "quant": "f16",
            "context_tokens": 512,
            "output_tokens": 128,
            "source_date": era,
            "env": {"backend": backend},
            "metrics": {"decode_toks_sec": 1.0},
        }
        run = RunRecord(data["run_id"], data)
        truth = Coefficients(*BACKEND_ERA_TRUTH[(backend, era)], t_layer_s=T_LAYER)
        data["metrics"] = {
            "decode_toks_sec": float(
                model.evaluate(scenario_values(run.scenario().with_(coefficients=truth)))["decode_tps"]
            )
        }
        records.append(run)
    return records


def test_the_fit_recovers_a_compute_backends_own_change_between_eras():
    records = backend_era_records()
    bundle = Bundle(fit(observations(records)), {}, 0, 0)
    assert {"llama.cpp|vulkan@2024", "llama.cpp|vulkan@2025", "llama.cpp|cuda@2024"} <= set(
        bundle.coefficients["backend_eras"]
    )
    scenario = records[0].scenario()
    eta = {
        key: bundle.coefficients_for(scenario.with_(backend=key[0], runtime_era=key[1])).eta_bw
        for key in BACKEND_ERA_TRUTH
    }
    # The priors pull each ratio towards 1 a little; the fit must still see Vulkan's change and CUDA's lack of one.
    assert eta[("vulkan", "2025")] / eta[("vulkan", "2024")] > 1.5
    assert eta[("cuda", "2025")] / eta[("cuda", "2024")] == pytest.approx(1.0, abs=0.05)
    origin = bundle.coefficients_for(scenario.with_(backend="vulkan", runtime_era="2024")).origin
    assert origin.endswith("llama.cpp@2024 + llama.cpp|vulkan@2024 + llama.cpp|vulkan|RTX 3090)")  # then the GPU's
