"""Flash attention as an input: the runtime's kernel flag unless the request sets it, in the CLI (--flash-attention),
the API (flash_attention) and the web page; unfused attention moves every score through memory, so a long prompt
is slower without it. The arithmetic itself is checked against the oracle in test_llm_model.py."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from service.service_server import Server
from service.test_web_ui import browser, fill_hardware_form, load, page, server, submit_and_wait  # noqa: F401

from symcost.packs.llm.requests import RequestError, scenario_from_request

LONG_PROMPT = ["--model", "llama-3-8b", "--hardware", "rtx-4090", "--prompt-tokens", "8192", "--recommend", "0"]


def estimate_json(*options: str) -> dict:
    result = run_cli("llm", "estimate", *LONG_PROMPT, *options, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_cli_takes_flash_attention_and_says_which_was_used():
    default, on, off = (
        estimate_json(),
        estimate_json("--flash-attention", "on"),
        estimate_json("--flash-attention", "off"),
    )
    assert default["scenario"]["flash_attention"] is True  # llama.cpp's own setting
    assert on["estimates"] == default["estimates"]
    assert off["scenario"]["flash_attention"] is False
    assert off["estimates"]["prefill_toks_sec"]["p50"] < 0.9 * on["estimates"]["prefill_toks_sec"]["p50"]
    text = run_cli("llm", "estimate", *LONG_PROMPT, "--flash-attention", "off")
    assert text.code == 0 and "flash attention off" in text.stdout.splitlines()[0]


def test_the_cli_refuses_another_word():
    result = run_cli("llm", "estimate", *LONG_PROMPT, "--flash-attention", "maybe")
    assert result.code == 2 and "argument --flash-attention: invalid choice: 'maybe'" in result.stderr


def test_ollama_runs_unfused_attention_unless_asked():
    ollama = estimate_json("--runtime", "ollama")
    assert ollama["scenario"]["flash_attention"] is False
    assert estimate_json("--runtime", "ollama", "--flash-attention", "on")["scenario"]["flash_attention"] is True


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_a_request_with_a_flash_attention_that_is_not_true_false_or_null_is_refused(value):
    request = {"model_id": "llama-3-8b", "hardware": {"hardware_id": "rtx-4090"}, "flash_attention": value}
    with pytest.raises(RequestError, match="flash_attention: expected true, false or null"):
        scenario_from_request(request)


def test_the_api_takes_flash_attention_and_refuses_a_word(tmp_path):
    body = {"model_id": "llama-3-8b", "hardware": {"hardware_id": "rtx-4090"}, "recommend": 0}
    body["workload"] = {"context_tokens": 8192}
    with Server(tmp_path / "db.sqlite", options=["--workers", "1"]) as service:
        _, fused = service.post("/v1/estimate", body)
        status, unfused = service.post("/v1/estimate", {**body, "flash_attention": False})
        refused_status, _ = service.post("/v1/estimate", {**body, "flash_attention": "off"})
    assert status == 200 and fused["scenario"]["flash_attention"] is True
    assert unfused["scenario"]["flash_attention"] is False
    assert unfused["estimates"]["prefill_toks_sec"]["p50"] < fused["estimates"]["prefill_toks_sec"]["p50"]
    assert refused_status == 422


def test_the_hardware_form_sends_flash_attention_and_shows_it(page, server):  # noqa: F811
    load(page, server)
    page.click("#tab-hardware")
    for choice, shown in (("off", "flash attention off"), ("", "flash attention on")):
        fill_hardware_form(page, "rtx-4090", "llama-3.1-8b", "llama.cpp", "q4_k_m", 8192, 128, 1)
        page.select_option("#form-hardware select[name=flash_attention]", choice)
        submit_and_wait(page, "hardware")
        page.click("#results-hardware details.assumptions summary")
        assert shown in page.locator("#results-hardware details.assumptions").inner_text(), choice
