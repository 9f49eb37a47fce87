"""The web page in a real browser: Debian's chromium driven by Playwright against a real ``symcost serve``.

Each mode is driven through its form (or a permalink) and what the page shows is
compared with what the API answers for the same inputs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from service.service_server import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000


def _missing(reason: str) -> None:
    """Skip locally; under CI a missing browser is a failure (``make test`` installs it)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: `make test` installs it (tools/apt-install.sh chromium)", pytrace=False)
    pytest.skip(f"{reason}; `make test` installs it")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("web-ui") / "db.sqlite", recalibrate_after=1000) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is missing")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    opened.dialogs = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.errors = []
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    assert opened.dialogs == [], "the page must never open a dialog"
    assert opened.errors == [], "uncaught script errors"
    context.close()


# ---------------------------------------------------------------------------------------------- helpers


def load(page, server, hash_: str = "") -> None:
    page.goto(f"{server.url}/{'#' + hash_ if hash_ else ''}")
    page.wait_for_selector("body[data-ready=true]")


def done_count(page, mode: str) -> int:
    return int(page.get_attribute(f"#panel-{mode}", "data-done") or 0)


def submit_and_wait(page, mode: str, click=None) -> None:
    """Submit a mode's form (or click something) and wait until its request has been answered."""
    before = done_count(page, mode)
    if click:
        page.click(click)
    else:
        page.click(f"#form-{mode} button[type=submit]")
    wait_done(page, mode, before)


def wait_done(page, mode: str, before: int = 0) -> None:
    page.wait_for_function(f"Number(document.querySelector('#panel-{mode}').dataset.done || 0) > {before}")


def number(text: str) -> float:
    return float(text.replace(",", "").strip())


def shown_range(range_element) -> tuple[float, float, float]:
    """(p10, p50, p90) as the page shows them in one range element."""
    return tuple(number(range_element.query_selector(f".{name}").inner_text()) for name in ("p10", "p50", "p90"))


def assert_range_shows(range_element, band: dict) -> None:
    p10, p50, p90 = shown_range(range_element)
    assert p10 <= p50 <= p90
    for shown, given in zip((p10, p50, p90), (band["p10"], band["p50"], band["p90"])):
        assert shown == pytest.approx(given, rel=6e-3, abs=0.6), (shown, given)  # three significant digits


def estimate_body(
    hardware: str,
    model: str,
    runtime: str,
    quant: str | None,
    prompt: int,
    output: int,
    users: int,
    tp: int = 1,
    pp: int = 1,
    offload: str = "auto",
    recommend: int = 5,
) -> dict:
    body = {
        "model_id": model,
        "runtime_id": runtime,
        "hardware": {"hardware_id": hardware},
        "workload": {"context_tokens": prompt, "output_tokens": output, "concurrency": users},
        "parallelism": {"tensor_parallel": tp, "pipeline_parallel": pp},
        "offload": offload,
        "recommend": recommend,
    }
    if quant:
        body["quant"] = quant
    return body


def fill_hardware_form(page, hw, model, runtime, quant, prompt, output, users, tp=1, pp=1, offload="auto") -> None:
    form = "#form-hardware"
    page.select_option(f"{form} select[name=hw]", hw)
    page.select_option(f"{form} select[name=model]", model)
    page.select_option(f"{form} select[name=runtime]", runtime)
    page.select_option(f"{form} select[name=quant]", quant or "")
    for name, value in (("prompt", prompt), ("output", output), ("users", users), ("tp", tp), ("pp", pp)):
        page.fill(f"{form} input[name={name}]", str(value))
    page.select_option(f"{form} select[name=offload]", offload)


# ---------------------------------------------------------------------------------------------- modes


def test_hardware_first_shows_the_api_answer(page, server):
    load(page, server)
    page.click("#tab-hardware")
    runtimes = {entry["runtime_id"]: entry for entry in server.get("/v1/catalog/runtimes")}
    page.select_option("#form-hardware select[name=runtime]", "vllm")
    offered = page.eval_on_selector_all(
        "#form-hardware select[name=quant] option", "options => options.map(o => o.value)"
    )
    assert offered == [""] + runtimes["vllm"]["supported_quant"], "quantizations follow the runtime"

    scenarios = [
        ("rtx-4090", "llama-3.1-8b", "llama.cpp", "q4_k_m", 4096, 256, 4, 1, 1),
        ("2x-rtx-4090", "llama-3.1-70b", "vllm", "awq-int4", 8192, 512, 8, 2, 1),
        ("rtx-3070", "llama-3.1-70b", "llama.cpp", "f16", 2048, 128, 1, 1, 1),
    ]
    seen = set()
    for hw, model, runtime, quant, prompt, output, users, tp, pp in scenarios:
        fill_hardware_form(page, hw, model, runtime, quant, prompt, output, users, tp, pp)
        submit_and_wait(page, "hardware")
        status, answer = server.post(
            "/v1/estimate", estimate_body(hw, model, runtime, quant, prompt, output, users, tp, pp)
        )
        assert status == 200
        seen.add(answer["feasibility"])
        results = page.locator("#results-hardware")
        assert results.locator(".feasibility .badge").inner_text() == answer["feasibility"]
        assert results.locator(".codes li").all_inner_texts() == answer["reason_codes"]

        # every estimate with a p10 and a p90 is shown as three ordered numbers equal to the API's
        for key, band in answer["estimates"].items():
            row = page.query_selector(f"#results-hardware table.estimates tr[data-key='{key}'] .range")
            if band.get("p10") is not None:
                assert_range_shows(row, band)
            else:
                assert number(row.query_selector(".p50").inner_text()) == pytest.approx(band["p50"], rel=6e-3, abs=0.01)

        # one stacked bar for the bottleneck shares: its drawn segments fill the bar (~100 %)
        bar = page.query_selector("#results-hardware .card:nth-child(2) .stacked")
        segments = bar.query_selector_all(".seg")
        assert [segment.get_attribute("data-key") for segment in segments] == sorted(
            answer["bottleneck_shares_pct"], key=lambda name: -answer["bottleneck_shares_pct"][name]
        )
        assert sum(float(segment.get_attribute("data-pct")) for segment in segments) == pytest.approx(100, abs=0.5)
        drawn = sum(segment.bounding_box()["width"] for segment in segments)
        assert drawn == pytest.approx(bar.bounding_box()["width"] - 2, abs=2.5)  # minus the 1 px borders

        assert results.locator(".explanations li").all_inner_texts() == answer["explanations"]
        assert results.locator("table.recommended tbody tr").count() == len(answer["recommended_configs"])

        # the assumptions drawer: coefficients with their origin, and the calibration id
        page.click("#results-hardware details.assumptions summary")
        assert results.locator(".origin").inner_text() == answer["coefficients"]["origin"]
        assert results.locator(".calibration-id").inner_text() == answer["calibration"]
        assert results.locator("table.coefficients tbody tr").count() == len(answer["coefficients"]) - 1
    assert seen == {"in_vram", "with_offload", "insufficient_memory"}, "all three badges were exercised"


def test_hardware_first_marks_an_uncalibrated_runtime_and_shows_the_warnings(page, server):
    load(page, server)
    page.click("#tab-hardware")
    results = page.locator("#results-hardware")
    for runtime, quant, calibrated in (("vllm", "mxfp4", False), ("llama.cpp", "mxfp4", True)):
        fill_hardware_form(page, "rtx-4090", "gpt-oss-20b", runtime, quant, 2048, 64, 1)
        submit_and_wait(page, "hardware")
        answer = server.post("/v1/estimate", estimate_body("rtx-4090", "gpt-oss-20b", runtime, quant, 2048, 64, 1))[1]
        assert answer["runtime_calibrated"] is calibrated
        assert results.locator("ul.warnings li").all_inner_texts() == answer["warnings"]
        assert any("sliding window" in line for line in answer["warnings"])
        assert results.locator(".badge.uncalibrated").count() == (0 if calibrated else 1)


def test_target_model_first_lists_machines(page, server):
    load(page, server)
    page.click("#tab-target")
    form = "#form-target"
    page.select_option(f"{form} select[name=model]", "llama-3.1-70b")
    page.select_option(f"{form} select[name=runtime]", "llama.cpp")
    for name, value in (("prompt", 4096), ("output", 256), ("users", 1), ("min_tps", 10), ("top", 6)):
        page.fill(f"{form} input[name={name}]", str(value))
    submit_and_wait(page, "target")
    status, answer = server.post(
        "/v1/solve",
        {
            "model_ids": ["llama-3.1-70b"],
            "runtime_id": "llama.cpp",
            "objective": "min_hardware",
            "top": 6,
            "min_decode_tps": 10,
            "workload": {"context_tokens": 4096, "output_tokens": 256, "concurrency": 1},
        },
    )
    assert status == 200 and answer["top"]
    rows = page.query_selector_all("#results-target table.solve-table tbody tr")
    assert len(rows) == len(answer["top"])
    assert rows[0].query_selector("th").inner_text() == "Minimum build"
    assert rows[1].query_selector("th").inner_text() == "Upgrade tier 1"
    for row, config in zip(rows, answer["top"]):
        assert row.query_selector("code").inner_text() == config["hardware_id"]
        assert row.query_selector(".badge").inner_text() == config["feasibility"]
        assert_range_shows(row.query_selector(".range"), config["decode_toks_sec"])
        assert shown_range(row.query_selector(".range"))[1] >= 10 * 0.995
    assert (
        page.locator("#results-target .summary-line")
        .inner_text()
        .startswith(f"{answer['candidates']:,} configurations")
    )


def test_what_if_compares_three_builds(page, server):
    load(page, server)
    page.click("#tab-whatif")
    page.click("#whatif-add")
    columns = page.query_selector_all("#whatif-columns fieldset.column")
    assert len(columns) == 3 and page.is_disabled("#whatif-add")
    builds = [
        ("2x-rtx-4090", "llama.cpp", "q4_k_m", 1, 2),
        ("rtx-6000-ada", "vllm", "awq-int4", 1, 1),
        ("h100-sxm", "vllm", "fp8", 1, 1),
    ]
    for column, (hw, runtime, quant, tp, pp) in zip(columns, builds):
        column.query_selector("select[name=hw]").select_option(hw)
        column.query_selector("select[name=runtime]").select_option(runtime)
        column.query_selector("select[name=quant]").select_option(quant)
        column.query_selector("input[name=tp]").fill(str(tp))
        column.query_selector("input[name=pp]").fill(str(pp))
    page.select_option("#form-whatif select[name=model]", "llama-3.1-70b")
    submit_and_wait(page, "whatif")
    prices = {entry["hardware_id"]: entry.get("price_usd") for entry in server.get("/v1/catalog/hardware-profiles")}
    body_rows = page.query_selector_all("#results-whatif table.whatif-table tbody tr")
    cells = {row.query_selector("th").inner_text(): row.query_selector_all("td") for row in body_rows}
    for index, (hw, runtime, quant, tp, pp) in enumerate(builds):
        status, answer = server.post(
            "/v1/estimate", estimate_body(hw, "llama-3.1-70b", runtime, quant, 4096, 256, 1, tp, pp, recommend=0)
        )
        assert status == 200
        assert cells["Feasibility"][index].query_selector(".badge").inner_text() == answer["feasibility"]
        assert_range_shows(
            cells["Decode tok/s (all sequences)"][index].query_selector(".range"),
            answer["estimates"]["decode_toks_sec"],
        )
        assert_range_shows(
            cells["Time to first token ms"][index].query_selector(".range"), answer["estimates"]["ttft_ms"]
        )
        per_kusd = cells["Decode tok/s per $1k (p50)"][index].inner_text()
        if prices[hw]:
            expected = 1000 * answer["estimates"]["decode_toks_sec"]["p50"] / prices[hw]
            assert number(per_kusd) == pytest.approx(expected, rel=6e-3)
        else:
            assert per_kusd == "–"


def test_selfspec_plots_curves_and_break_even(page, server):
    examples = server.get("/v1/selfspec/examples")
    name = "llama2-7b, SoC, layer-pipelined"
    assert name in examples
    load(page, server)
    page.click("#tab-selfspec")
    page.select_option("#selfspec-example", name)
    assert page.input_value("#selfspec-hist") == "10, 8, 12, 15, 55"
    submit_and_wait(page, "selfspec")
    plots = page.query_selector_all("#results-selfspec figure.plot")
    assert [plot.get_attribute("data-quantity") for plot in plots] == ["energy", "latency"]
    for plot in plots:
        curves = plot.query_selector_all("svg polyline.curve")
        assert [curve.get_attribute("data-series") for curve in curves] == ["speculative", "baseline"]
        assert all(len(curve.get_attribute("points").split()) >= 30 for curve in curves)
        # this example has no crossing within its prompt lengths: the verdict is shown as text
        assert plot.query_selector("g.break-even") is None
        assert "always better" in plot.query_selector("figcaption").inner_text()
        assert plot.query_selector("svg .verdict-text").text_content() == "always better"

    # fewer accepted drafts move the crossing into the plotted range: a vertical line with its label
    page.fill("#selfspec-hist", "70, 0, 0, 0, 30")
    submit_and_wait(page, "selfspec")
    example = examples[name]
    status, answer = server.post(
        "/v1/selfspec/curve",
        {
            "model": example["model"],
            "hardware": example["hardware"],
            "stats": {**example["stats"], "k": 4, "histogram": {"0": 70, "1": 0, "2": 0, "3": 0, "4": 30}},
            "prompt_lengths": [64, 1024, 32764],
        },
    )
    assert status == 200
    for plot in page.query_selector_all("#results-selfspec figure.plot"):
        quantity = plot.get_attribute("data-quantity")
        crossing = answer["break_even"][quantity]["L_prompt"]
        assert isinstance(crossing, float)
        mark = plot.query_selector("g.break-even")
        assert mark is not None and mark.query_selector("line") is not None
        assert number(mark.query_selector("text").text_content().split()[-1]) == pytest.approx(
            crossing, rel=1e-3, abs=1
        )


def test_selfspec_cuts_prompts_where_the_api_says(page, server):
    examples = server.get("/v1/selfspec/examples")
    sent: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda request: (
            sent.append((request.url.rsplit("/", 1)[-1], request.post_data))
            if "/v1/selfspec/" in request.url and request.method == "POST"
            else None
        ),
    )
    load(page, server)
    page.click("#tab-selfspec")
    name = "llama2-7b, SoC, layer-pipelined"
    page.select_option("#selfspec-example", name)
    page.fill("#selfspec-hist", "5, 5, 5, 5, 5, 5, 70")  # k = 6 drafted tokens
    submit_and_wait(page, "selfspec")
    example = examples[name]
    stats = {**example["stats"], "k": 6, "histogram": {str(a): n for a, n in enumerate([5, 5, 5, 5, 5, 5, 70])}}
    status, limits = server.post(
        "/v1/selfspec/limits", {"model": example["model"], "hardware": example["hardware"], "stats": stats}
    )
    assert status == 200 and limits["prompt_length_max"] == 32768 - 6
    # The page asks the API for the limits first, then plots up to the longest prompt they allow.
    assert [endpoint for endpoint, _ in sent] == ["limits", "curve"]
    assert json.loads(sent[0][1])["stats"] == stats
    assert json.loads(sent[1][1])["prompt_lengths"][-1] == limits["prompt_length_max"]
    note = page.inner_text("#results-selfspec .limit-note")
    assert f"Prompts are cut at {limits['prompt_length_max']:,} tokens" in note and "L_prompt + 6 ≤ 32,768" in note

    # Hardware without a context limit: the API bounds nothing, and the page says nothing of it.
    sent.clear()
    page.select_option("#selfspec-example", "tiny model, knob-based hardware")
    submit_and_wait(page, "selfspec")
    assert [endpoint for endpoint, _ in sent] == ["limits", "curve"]
    assert json.loads(sent[1][1])["prompt_lengths"][-1] == 65536
    assert page.query_selector("#results-selfspec .limit-note") is None


# ---------------------------------------------------------------------------------------------- permalink and errors


def test_permalink_restores_inputs_and_runs(page, server, browser):
    load(page, server)
    page.click("#tab-hardware")
    fill_hardware_form(page, "2x-rtx-3090", "qwen2.5-32b", "vllm", "awq-int4", 3000, 300, 3, tp=2)
    page.fill("#form-hardware input[name=window]", "8192")
    page.click("#copy-permalink")
    page.wait_for_selector("#permalink-status :is(code, input)")
    link = page.url
    assert "#" in link
    params = parse_qs(link.split("#", 1)[1])
    assert params["mode"] == ["hardware"] and params["hw"] == ["2x-rtx-3090"] and params["tp"] == ["2"]
    shown = page.locator("#permalink-status code, #permalink-status input").first
    shown_link = shown.input_value() if shown.evaluate("node => node.tagName") == "INPUT" else shown.inner_text()
    assert shown_link == link

    fresh = page.context.new_page()
    fresh.goto(link)
    wait_done(fresh, "hardware")
    assert fresh.get_attribute("#tab-hardware", "aria-selected") == "true"
    assert fresh.is_hidden("#panel-target")
    expected = {
        "hw": "2x-rtx-3090",
        "model": "qwen2.5-32b",
        "runtime": "vllm",
        "quant": "awq-int4",
        "prompt": "3000",
        "output": "300",
        "users": "3",
        "window": "8192",
        "tp": "2",
        "pp": "1",
        "offload": "auto",
    }
    for name, value in expected.items():
        assert fresh.input_value(f"#form-hardware [name={name}]") == value, name
    body = estimate_body("2x-rtx-3090", "qwen2.5-32b", "vllm", "awq-int4", 3000, 300, 3, tp=2)
    body["workload"]["context_window"] = 8192
    status, answer = server.post("/v1/estimate", body)
    assert status == 200
    assert fresh.locator("#results-hardware .feasibility .badge").inner_text() == answer["feasibility"]
    assert_range_shows(
        fresh.query_selector("#results-hardware tr[data-key=decode_toks_sec] .range"),
        answer["estimates"]["decode_toks_sec"],
    )
    fresh.close()

    # what-if: the columns are part of the link
    link = (
        f"{server.url}/#mode=whatif&model=llama-3.1-8b&prompt=1000&output=100&users=2"
        "&col=rtx-4090~llama.cpp~q8_0~1~1&col=rtx-3090~exllamav2~exl2-4.0bpw~1~1&col=l4~vllm~~1~1"
    )
    page.goto(link)
    page.reload()
    wait_done(page, "whatif")
    columns = page.query_selector_all("#whatif-columns fieldset.column")
    assert [column.query_selector("select[name=quant]").input_value() for column in columns] == [
        "q8_0",
        "exl2-4.0bpw",
        "",
    ]
    assert page.locator("#results-whatif table.whatif-table .badge").count() == 3
    page.click("#tab-selfspec")
    assert parse_qs(page.url.split("#", 1)[1])["mode"] == ["selfspec"]


def test_api_errors_are_shown_in_the_page(page, server):
    load(page, server)
    page.click("#tab-hardware")
    fill_hardware_form(page, "2x-rtx-4090", "llama-3.1-70b", "vllm", "awq-int4", 4096, 256, 1, tp=3)
    submit_and_wait(page, "hardware")
    status, answer = server.post(
        "/v1/estimate", estimate_body("2x-rtx-4090", "llama-3.1-70b", "vllm", "awq-int4", 4096, 256, 1, tp=3)
    )
    assert status == 400
    assert page.is_visible("#error-hardware")
    assert page.locator("#error-hardware .error-message").inner_text() == answer["error"]
    assert page.locator("#error-hardware").inner_text().startswith("Error 400")
    assert page.locator("#results-hardware .badge").count() == 0

    # a request pydantic refuses: the issues are listed
    page.fill("#form-hardware input[name=tp]", "1")
    page.fill("#form-hardware input[name=prompt]", "-5")
    submit_and_wait(page, "hardware")
    assert page.locator("#error-hardware .error-message").inner_text() == "invalid request"
    issues = page.locator("#error-hardware .issues li").all_inner_texts()
    assert any(re.search(r"context_tokens", issue) for issue in issues), issues

    # an error clears on the next good request
    page.fill("#form-hardware input[name=prompt]", "512")
    submit_and_wait(page, "hardware")
    assert page.is_hidden("#error-hardware")

    # a what-if column the API refuses shows its error in that column only
    load(
        page,
        server,
        "mode=whatif&model=llama-3.1-70b&col=2x-rtx-4090~vllm~awq-int4~3~1&col=rtx-4090~llama.cpp~q4_k_m~1~1",
    )
    wait_done(page, "whatif")
    assert "does not divide" in page.locator("#results-whatif .cell-error").inner_text()
    assert page.locator("#results-whatif .badge").count() == 1


# ---------------------------------------------------------------------------------------------- layout

# One scenario per mode whose figures are long (five-digit latencies with thousands separators, offload).
LAYOUT_SCENARIOS = {
    "target": "mode=target&model=llama-3.1-70b&runtime=llama.cpp&prompt=4096&output=256&users=1&min_tps=10&top=6",
    "hardware": (
        "mode=hardware&hw=2x-rtx-4090&model=llama-3.1-70b&runtime=vllm&quant=awq-int4&prompt=8192"
        "&output=512&users=8&tp=2&pp=1&offload=auto"
    ),
    "whatif": (
        "mode=whatif&model=llama-3.1-70b&prompt=8192&output=512&users=8&col=2x-rtx-4090~llama.cpp~q4_k_m~1~2"
        "&col=rtx-6000-ada~vllm~awq-int4~1~1&col=apple-m3-ultra-512gb~mlx~mlx-4bit~1~1"
    ),
    "selfspec": "mode=selfspec&example=llama2-7b%2C+SoC%2C+layer-pipelined&hist=70%2C+0%2C+0%2C+0%2C+30",
}
LAYOUT_WIDTHS = (390, 1280, 1920)

# Elements that show a value (with its unit, where it has one), the inputs included.
VALUE_SELECTOR = ", ".join(
    [
        ".range-text",
        ".badge",
        "td",
        "th",
        ".legend li",
        ".meter-wrap p",
        ".codes li",
        ".feas-text",
        ".summary-line",
        ".explanations li",
        ".origin",
        ".calibration-id",
        ".drawer li",
        ".verdict",
        ".limit-note",
        "svg text",
        "select",
        "input",
        "button",
    ]
)

# For each shown value: it and its box (the nearest cell, item or paragraph) scroll nothing out of sight, and its
# rectangle lies inside its card (or the mode's panel), inside every ancestor that clips or scrolls, and inside
# the window.
OVERFLOWS_JS = """([panelSelector, valueSelector]) => {
  const panel = document.querySelector(panelSelector);
  const tolerance = 1;
  const found = [];
  const name = (node) => `${node.tagName.toLowerCase()}${node.classList.length ? "." + [...node.classList].join(".") : ""}`;
  const text = (node) => (node.value || node.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
  const inside = (inner, outer) => inner.left >= outer.left - tolerance && inner.right <= outer.right + tolerance
    && inner.top >= outer.top - tolerance && inner.bottom <= outer.bottom + tolerance;
  const scrolls = (node) => node.scrollWidth > node.clientWidth + tolerance;
  const windowRect = { left: 0, top: -Infinity, right: document.documentElement.clientWidth, bottom: Infinity };
  const firstProblem = (node) => {
    const rect = node.getBoundingClientRect();
    if (scrolls(node)) return `is cut: scrollWidth ${node.scrollWidth} > clientWidth ${node.clientWidth}`;
    const box = node.parentElement.closest("td, th, li, p, figcaption, label");
    if (box && scrolls(box)) return `overflows its box ${name(box)} (${box.scrollWidth} > ${box.clientWidth})`;
    const frame = node.closest(".card") || panel;
    if (!inside(rect, frame.getBoundingClientRect())) return `leaves its ${name(frame)}`;
    if (!inside(rect, windowRect)) return `leaves the window (right edge ${Math.round(rect.right)} > ${windowRect.right})`;
    for (let up = node.parentElement; up !== panel; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible" && !inside(rect, up.getBoundingClientRect())) {
        return `is clipped by ${name(up)} (overflow-x ${getComputedStyle(up).overflowX})`;
      }
    }
    return null;
  };
  for (const node of panel.querySelectorAll(valueSelector)) {
    if (!node.getClientRects().length) continue;  // not rendered (a closed drawer)
    const problem = firstProblem(node);
    if (problem) found.push(`${name(node)} "${text(node)}" ${problem}`);
  }
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth + tolerance) {
    found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${document.documentElement.clientWidth}`);
  }
  return found;
}"""


@pytest.mark.parametrize("width", LAYOUT_WIDTHS)
@pytest.mark.parametrize("mode", list(LAYOUT_SCENARIOS))
def test_no_value_overflows_its_box(browser, server, mode, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{server.url}/#{LAYOUT_SCENARIOS[mode]}")
        wait_done(page, mode)
        assert page.is_hidden(f"#error-{mode}"), page.inner_text(f"#error-{mode}")
        # every drawer open, so what it holds is measured too
        page.eval_on_selector_all(f"#panel-{mode} details", "drawers => drawers.forEach(d => { d.open = true; })")
        problems = page.evaluate(OVERFLOWS_JS, [f"#panel-{mode}", VALUE_SELECTOR])
        assert problems == [], f"{mode} at {width} px:\n" + "\n".join(problems)
    finally:
        context.close()


def test_hardware_first_sends_the_backend_and_marks_an_unmeasured_one(page, server):
    load(page, server)
    page.click("#tab-hardware")
    results = page.locator("#results-hardware")
    # llama.cpp has measured runs on cuda (and vulkan, rocm, sycl, metal), none on a CPU server
    for hardware, backend, calibrated in (("2x-epyc-9654", "cpu", False), ("rtx-4090", "", True)):
        fill_hardware_form(page, hardware, "llama-3.1-8b", "llama.cpp", "q4_k_m", 512, 64, 1)
        page.select_option("#form-hardware select[name=backend]", backend)
        submit_and_wait(page, "hardware")
        body = {
            **estimate_body(hardware, "llama-3.1-8b", "llama.cpp", "q4_k_m", 512, 64, 1),
            **({"backend": backend} if backend else {}),
        }
        answer = server.post("/v1/estimate", body)[1]
        assert answer["backend_calibrated"] is calibrated
        assert results.locator(".badge.uncalibrated-backend").count() == (0 if calibrated else 1)
        assert f"on {answer['scenario']['backend']}," in results.text_content()  # the assumptions drawer


def test_hardware_first_sends_devices_in_the_runtimes_own_multi_device_mode(page, server):
    load(page, server)
    page.click("#tab-hardware")
    runtimes = {entry["runtime_id"]: entry for entry in server.get("/v1/catalog/runtimes")}
    modes = "#form-hardware select[name=split_mode] option"
    for runtime in ("llama.cpp", "vllm"):
        page.select_option("#form-hardware select[name=runtime]", runtime)
        offered = page.eval_on_selector_all(modes, "options => options.map(o => o.value)")
        assert offered == ["", *runtimes[runtime]["multi_device"]["modes"]], "the modes follow the runtime"
    results = page.locator("#results-hardware")
    decode = "#results-hardware table.estimates tr[data-key='decode_toks_sec'] .p50"
    for mode in ("layer", "row"):
        fill_hardware_form(page, "2x-rtx-4090", "llama-3.1-8b", "llama.cpp", "q4_k_m", 512, 64, 1)
        page.fill("#form-hardware input[name=devices]", "2")
        page.select_option("#form-hardware select[name=split_mode]", mode)
        submit_and_wait(page, "hardware")
        body = estimate_body("2x-rtx-4090", "llama-3.1-8b", "llama.cpp", "q4_k_m", 512, 64, 1)
        status, answer = server.post("/v1/estimate", {**body, "parallelism": {"devices": 2, "split_mode": mode}})
        assert status == 200 and answer["scenario"]["multi_device_mode"] == mode
        shown = number(page.inner_text(decode))
        assert shown == pytest.approx(answer["estimates"]["decode_toks_sec"]["p50"], rel=6e-3)
        page.click("#results-hardware details.assumptions summary")
        assert f"({mode} split)" in results.text_content()
