"""The wheel and the sdist that ``python -m build`` makes install in a fresh venv and run as the checkout does.

schemas/, formulas/ and catalogs/ live at the top of the repository and reach the package through the
symlinks symcost/schemas, symcost/formulas and symcost/catalogs; these tests fail when a packaging change
drops them (or the web page's static files, or the calibration bundle) from either artifact. One build makes
both artifacts (the wheel is built from the sdist, as pip would build it); each is installed into its own
venv, with its dependencies from the package index or pip's cache, and run from a folder outside the checkout
so nothing is imported from the source tree. Hang guards only: a cold install takes a couple of minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, ROOT, run_cli

BUILD_TIMEOUT_S = 900
DEMO = (
    "report",
    "--model",
    EXAMPLES / "model_llama2_7b.yaml",
    "--hardware",
    EXAMPLES / "hardware_soc_pipelined.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
    "--prompt-lengths",
    "128,512,2048,8192",
)
ESTIMATE = (
    "llm",
    "estimate",
    "--model",
    "llama-3.1-8b",
    "--hardware",
    "rtx-4090",
    "--runtime",
    "llama.cpp",
    "--prompt-tokens",
    "4096",
    "--gen-tokens",
    "256",
    "--format",
    "json",
)
# What the installed package must hold, named by the checkout's own files (so a new schema or catalog is
# checked without editing this list).
SHIPPED = {
    "schemas": ("*.schema.json",),
    "formulas": ("*.yaml",),
    "catalogs": ("*.yaml", "*.json"),
    "service/static": ("*.html", "*.js", "*.css"),
    "packs/selfspec/libraries": ("*.yaml",),
}


def run(*command: str | Path, cwd: Path) -> str:
    """Run a command with no trace of the checkout in its environment; its stdout, or a failure with its stderr."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    completed = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
    )
    assert completed.returncode == 0, f"{command[:4]} exited {completed.returncode}:\n{completed.stderr[-4000:]}"
    return completed.stdout


def installed_symcost(artifact: Path, folder: Path) -> Path:
    """A fresh venv in ``folder`` with ``artifact`` installed; the path of its ``symcost`` package."""
    venv = folder / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=folder)
    # --no-compile: byte-compiling sympy, scipy and matplotlib would be most of the install's time
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", artifact, cwd=folder)
    located = run(venv / "bin" / "python", "-c", "import symcost; print(symcost.__file__)", cwd=folder)
    package = Path(located.strip()).parent
    assert package.is_relative_to(venv), f"symcost imported from {package}, not from the fresh venv"
    return package


def without_paths(report: dict) -> dict:
    """The report with the input files' paths left out (the two runs name the same files differently)."""
    return {**report, "inputs": {name: entry["sha256"] for name, entry in report["inputs"].items()}}


def source_tree(folder: Path) -> Path:
    """The checkout's files as a fresh clone would hold them (new files included), symlinks kept as links.

    Not the checkout itself: setuptools' sdist also packs every file a stale symcost.egg-info/SOURCES.txt (left
    by an editable install) names, which would hide a file the package data no longer matches.
    """
    listed = run("git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source, copy = ROOT / name, folder / name
        if not source.is_symlink() and not source.is_file():
            continue  # deleted in the working tree
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, copy)
    return folder


def checkout_answers(folder: Path) -> tuple[dict, dict]:
    """The demo report and the LLM estimate as the checkout's own symcost gives them."""
    demo = run_cli(*DEMO, "-o", folder / "checkout-report.json", cwd=folder)
    assert demo.code == 0, demo.stderr
    estimate = run_cli(*ESTIMATE, cwd=folder)
    assert estimate.code == 0, estimate.stderr
    return without_paths(json.loads((folder / "checkout-report.json").read_text())), json.loads(estimate.stdout)


def test_wheel_and_sdist_install_and_run_as_the_checkout(tmp_path):
    """One test for both artifacts, so that one build makes them even when pytest-xdist spreads the tests."""
    dist = tmp_path / "dist"
    dist.mkdir()
    run(sys.executable, "-m", "build", "--outdir", dist, source_tree(tmp_path / "source"), cwd=dist)
    built = {"wheel": sorted(dist.glob("symcost-*.whl")), "sdist": sorted(dist.glob("symcost-*.tar.gz"))}
    assert all(len(files) == 1 for files in built.values()), built
    expected = checkout_answers(tmp_path)
    for kind, (artifact,) in built.items():
        folder = tmp_path / kind
        folder.mkdir()
        check_installed(kind, artifact, folder, expected)


def check_installed(kind: str, artifact: Path, folder: Path, expected: tuple[dict, dict]) -> None:
    """The artifact's files are the checkout's, and its demo report and LLM estimate equal the checkout's."""
    package = installed_symcost(artifact, folder)
    for part, patterns in SHIPPED.items():
        wanted = {path.name for pattern in patterns for path in (ROOT / "symcost" / part).glob(pattern)}
        shipped = {path.name for pattern in patterns for path in (package / part).glob(pattern)}
        assert wanted and shipped == wanted, f"{kind}: symcost/{part} holds {sorted(shipped)}, not {sorted(wanted)}"
        assert not any((package / part / name).is_symlink() for name in shipped), f"{kind}: {part} ships links"

    work = folder / "work"
    work.mkdir()
    symcost = package.parents[3] / "bin" / "symcost"  # venv/lib/pythonX.Y/site-packages/symcost
    run(symcost, *DEMO, "-o", work / "demo-report.json", cwd=work)
    report = json.loads((work / "demo-report.json").read_text())
    assert [point["L_prompt"] for point in report["points"]] == [128, 512, 2048, 8192]
    assert without_paths(report) == expected[0], f"{kind}: the demo report differs from the checkout's"

    answer = json.loads(run(symcost, *ESTIMATE, cwd=work))
    assert answer["feasibility"] == "in_vram"
    assert answer["coefficients"]["origin"].startswith("calibration "), "the packaged calibration bundle is used"
    band = answer["estimates"]["decode_toks_sec"]
    assert 0 < band["p10"] <= band["p50"] <= band["p90"]
    assert answer == expected[1], f"{kind}: the estimate differs from the checkout's"
