"""The web page's runtime version: the hardware-first form sends it, the assumptions drawer names the era used,
and a version the service cannot place is shown as its error."""

from __future__ import annotations

from llm.test_llm_runtime_eras import newest_llama_cpp_era
from service.test_web_ui import browser, fill_hardware_form, load, page, server, submit_and_wait  # noqa: F401


def test_the_hardware_form_sends_the_runtime_version_and_shows_the_era(page, server):  # noqa: F811
    load(page, server)
    page.click("#tab-hardware")
    for version, era in (("2024-06", "llama.cpp@2024"), ("", newest_llama_cpp_era()), ("b6918", "llama.cpp@2025")):
        fill_hardware_form(page, "rtx-4090", "llama-3.1-8b", "llama.cpp", "q4_k_m", 512, 128, 1)
        page.fill("#form-hardware input[name=runtime_version]", version)
        submit_and_wait(page, "hardware")
        page.click("#results-hardware details.assumptions summary")
        # The runtime's era, then its compute backend's (CUDA on an RTX 4090).
        assert f" + {era} + llama.cpp|cuda@" in page.locator("#results-hardware .origin").inner_text(), version


def test_a_version_the_service_cannot_place_is_shown_as_an_error(page, server):  # noqa: F811
    load(page, server)
    page.click("#tab-hardware")
    fill_hardware_form(page, "rtx-4090", "llama-3.1-8b", "llama.cpp", "q4_k_m", 512, 128, 1)
    page.fill("#form-hardware input[name=runtime_version]", "b100")
    submit_and_wait(page, "hardware")
    assert page.locator("#error-hardware").inner_text().startswith("Error 400")
    assert "predates the earliest dated build" in page.locator("#error-hardware .error-message").inner_text()
