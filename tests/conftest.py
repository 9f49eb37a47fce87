"""Shared test helpers: where the examples are, and running the CLI as a user does.

Tests are grouped by area: core/ (the compiler), selfspec/, llm/, cascade/, spatten/, service/ (the HTTP
API and the web page), oracles/ (the plain-loop oracles), explore/, packs/ and security/. pytest imports
in its default "prepend" mode with no __init__.py files, so this folder (tests/) is on sys.path: test files
import ``from conftest import ...``, and helpers that live in an area folder by their package path from
here, e.g. ``from oracles import oracle_selfspec`` or ``from service.service_server import Server``.
Test file basenames must stay unique across all folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same examples every time (a red CI must mean a change broke something);
# local runs keep exploring new ones.
# No deadlines: a shared 2-core machine makes per-example timing noise, and timing is the
# benchmarks' business, not the tests'.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Compiled evaluators are cached on disk; tests use a fresh cache of their own, never the user's.
os.environ["SYMCOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="symcost-test-cache-")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
PEER = SHARED / "peer-selfspec"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> CliResult:
    """Run ``python -m symcost ARGS`` in a subprocess, as a user would from a shell (``timeout``: a hang guard)."""
    full_env = {**os.environ, **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "symcost", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def peer_examples() -> Path:
    if not (PEER / "examples").is_dir():
        pytest.skip(f"reference examples not found at {PEER / 'examples'} (shared/ is absent)")
    return PEER / "examples"
