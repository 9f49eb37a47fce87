"""symcost.forked: a JSON value computed in a forked child, or here when the child cannot be used or fails; and
the commands that use it (a cold plot, an audit's break-even section) write the bytes they write without it."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading

import pytest
from conftest import EXAMPLES, ROOT, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost import forked
from symcost.audit.document import blocks_as_data, blocks_from_data
from symcost.errors import SymcostError

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="forking is not used here (platform, cores or threads)")

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def same(a, b) -> bool:
    """Equal as JSON values, NaN equal to NaN and -0.0 told from 0.0."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


@needs_fork
def test_the_value_is_computed_in_a_child():
    parent = os.getpid()
    pending = forked.fork_json(os.getpid)
    assert pending.forked
    assert pending.result() != parent


@needs_fork
@settings(max_examples=25, deadline=None)
@given(JSON_VALUES)
def test_every_json_value_comes_back_exactly(value):
    assert same(forked.fork_json(lambda: value).result(), value)


def test_without_fork_the_value_is_computed_here(monkeypatch):
    monkeypatch.setenv("SYMCOST_NO_FORK", "1")
    pending = forked.fork_json(os.getpid)
    assert not pending.forked
    assert pending.result() == os.getpid()


def test_a_process_with_another_thread_does_not_fork():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.can_fork()
        assert forked.fork_json(os.getpid).result() == os.getpid()
    finally:
        stop.set()
        thread.join()


@needs_fork
def test_an_error_in_the_child_is_raised_here_with_its_message():
    def compute():
        raise SymcostError("the model file names no layers")

    with pytest.raises(SymcostError, match="names no layers"):
        forked.fork_json(compute).result()


@needs_fork
@pytest.mark.parametrize("failure", ["killed", "not_json", "exits"])
def test_a_failed_child_leaves_the_value_to_this_process(failure):
    parent = os.getpid()

    def compute():
        if os.getpid() == parent:
            return "computed here"
        if failure == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if failure == "exits":
            sys.exit(0)  # a clean exit that sent nothing is a failure too
        return {1, 2}  # not JSON

    assert forked.fork_json(compute).result() == "computed here"


@needs_fork
def test_text_buffered_before_the_fork_is_written_once():
    script = (
        "import sys; from symcost.forked import fork_json\n"
        "print('before the fork')\n"  # buffered: stdout is a pipe
        "print(fork_json(lambda: 42).result())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["before the fork", "42"]


def test_audit_blocks_survive_json(tmp_path):
    from symcost.audit.build import break_even_blocks
    from symcost.packs.selfspec.breakeven import find_break_even
    from symcost.packs.selfspec.model import build_model

    model = build_model(EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml")
    blocks = break_even_blocks(model.pack, find_break_even(model))
    assert len(blocks) > 4
    assert blocks_from_data(json.loads(json.dumps(blocks_as_data(blocks)))) == blocks


ARGS = ("--model", EXAMPLES / "model_tiny.yaml", "--hardware", EXAMPLES / "hardware_knobs.yaml")


@pytest.mark.parametrize(
    "command, suffix",
    [
        (["plot", *ARGS, "--stats", EXAMPLES / "stats_k4.yaml", "-o"], "png"),
        (["audit", *ARGS, "--stats", EXAMPLES / "stats_k4.yaml", "-o"], "md"),
    ],
)
def test_commands_write_the_same_bytes_with_and_without_the_child(tmp_path, command, suffix):
    written = []
    for no_fork in ("0", "1"):
        output = tmp_path / f"{no_fork}.{suffix}"
        done = run_cli(*command, output, env={"SYMCOST_NO_CACHE": "1", "SYMCOST_NO_FORK": no_fork})
        assert done.code == 0, done.stderr
        written.append(output.read_bytes())
    assert written[0] == written[1]


def test_a_bad_input_gives_the_same_error_and_exit_code_with_and_without_the_child(tmp_path):
    model = tmp_path / "model.yaml"
    model.write_text("name: x\nlayers: -3\n")
    arguments = ["plot", "--model", model, "--hardware", EXAMPLES / "hardware_knobs.yaml"]
    arguments += ["--stats", EXAMPLES / "stats_k4.yaml", "-o", tmp_path / "figure.png"]
    runs = [run_cli(*arguments, env={"SYMCOST_NO_CACHE": "1", "SYMCOST_NO_FORK": flag}) for flag in ("0", "1")]
    assert runs[0].code == runs[1].code == 2
    assert runs[0].stderr == runs[1].stderr and "unknown field 'layers'" in runs[0].stderr
    assert not (tmp_path / "figure.png").exists()


@pytest.mark.parametrize("no_fork", ["0", "1"])
def test_an_audit_compiles_only_for_its_break_even_and_stores_that_evaluator(tmp_path, no_fork):
    cache = tmp_path / "cache"
    inputs = ["--model", EXAMPLES / "model_tiny.yaml", "--hardware", EXAMPLES / "hardware_knobs.yaml"]
    inputs += ["--stats", EXAMPLES / "stats_k4.yaml"]
    env = {"SYMCOST_CACHE_DIR": str(cache), "SYMCOST_NO_FORK": no_fork}
    without = run_cli("audit", *inputs, "--no-break-even", "-o", tmp_path / "plain.md", env=env)
    assert without.code == 0, without.stderr
    assert not list(cache.glob("*/*/meta.json"))  # nothing evaluated, nothing compiled
    audit = run_cli("audit", *inputs, "-o", tmp_path / "audit.md", env=env)
    assert audit.code == 0, audit.stderr
    (stored,) = cache.glob("*/*/evaluator.py")  # compiled once, for the break-even (in the child or not)
    written = stored.stat().st_mtime_ns
    report = run_cli("report", *inputs, env=env)
    assert report.code == 0, report.stderr
    assert stored.stat().st_mtime_ns == written  # the report loads what the audit's break-even stored
