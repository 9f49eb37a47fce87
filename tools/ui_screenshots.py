"""Screenshots of the web UI's four modes for docs/web-ui.md.

Starts ``symcost serve`` on a free loopback port (or uses --url), drives each mode
through its permalink in Debian's chromium and saves
docs/screenshots/{target-model-first,hardware-first,what-if,selfspec}.png.

    .venv/bin/python tools/ui_screenshots.py [--out docs/screenshots] [--url http://127.0.0.1:8765]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright
from service.service_server import Server

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
# file name -> (mode, permalink hash)
SHOTS = {
    "target-model-first": (
        "target",
        ("mode=target&model=llama-3.1-70b&runtime=llama.cpp&prompt=4096&output=256&users=1&min_tps=10&top=6"),
    ),
    "hardware-first": (
        "hardware",
        (
            "mode=hardware&hw=2x-rtx-4090&model=llama-3.1-70b&runtime=vllm&quant=awq-int4"
            "&prompt=8192&output=512&users=8&tp=2&pp=1&offload=auto"
        ),
    ),
    "what-if": (
        "whatif",
        (
            "mode=whatif&model=llama-3.1-70b&prompt=4096&output=256&users=1"
            "&col=2x-rtx-4090~llama.cpp~q4_k_m~1~2&col=rtx-6000-ada~vllm~awq-int4~1~1"
            "&col=apple-m3-ultra-512gb~mlx~mlx-4bit~1~1"
        ),
    ),
    # an acceptance histogram with few accepted drafts puts the break-even inside the plotted prompt lengths
    "selfspec": ("selfspec", "mode=selfspec&example=llama2-7b%2C+SoC%2C+layer-pipelined&hist=70%2C+0%2C+0%2C+0%2C+30"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--url", help="a running symcost serve (default: start one)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="symcost-ui-") as folder:
        server = nullcontext(None) if args.url else Server(Path(folder) / "db.sqlite", recalibrate_after=1000)
        with server as running, sync_playwright() as playwright:
            url = args.url or running.url
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            for name, (mode, hash_) in SHOTS.items():
                page.goto(f"{url}/#{hash_}")
                page.wait_for_function(f"Number(document.querySelector('#panel-{mode}').dataset.done || 0) > 0")
                if page.is_visible(f"#error-{mode}"):
                    raise SystemExit(f"{name}: the page shows an error: {page.inner_text(f'#error-{mode}')}")
                if mode == "hardware":
                    page.click("#results-hardware details.assumptions summary")
                page.mouse.move(0, 0)
                path = args.out / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
            browser.close()


if __name__ == "__main__":
    main()
