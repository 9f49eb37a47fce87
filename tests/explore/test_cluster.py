"""Sweeps and explorations on Dask give the local run's output, byte for byte: on a LocalCluster, on a real
`dask scheduler` with two `dask worker` processes on loopback, and when a worker is killed mid-sweep."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import EXAMPLES, ROOT, run_cli

pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'symcost[dask]')")

USER_PACK = (
    "--pack",
    ROOT / "tests" / "data" / "user_pack" / "systolic.yaml",
    "--input",
    ROOT / "tests" / "data" / "user_pack" / "inputs.yaml",
)
BIG = ("--axis", "M=1:3000", "--axis", "dram.bandwidth_GBps=5:400:50", "--axis", "array.rows=16,32,64,128,256")
STRUCTURAL = (
    "--model",
    EXAMPLES / "model_tiny.yaml",
    "--hardware",
    EXAMPLES / "hardware_knobs.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
    "--axis",
    "analog.adc.draft_bits=3,4,5",
    "--axis",
    "hardware.soc.schedule=serialized,layer-pipelined",
    "--axis",
    "K=1:6",
    "--axis",
    "L_prompt=64:65536:log30",
)
OBJECTIVES = (
    "--objective",
    "min:speculative.energy_per_token",
    "--objective",
    "min:speculative.latency_per_token",
    "--objective",
    "min:speculative.power",
)


def same_as_local(tmp_path, command, args, cluster, name="out.csv"):
    local, remote = tmp_path / f"local-{name}", tmp_path / f"cluster-{name}"
    first = run_cli(command, *args, "-o", local, timeout=600)
    assert first.code == 0, first.stderr
    second = run_cli(command, *args, "-o", remote, "--cluster", cluster, timeout=600)
    assert second.code == 0, second.stderr
    assert remote.read_bytes() == local.read_bytes()
    return first.stdout, second.stdout


def test_a_sweep_on_a_local_cluster_is_the_local_sweep(tmp_path):
    same_as_local(tmp_path, "sweep", (*USER_PACK, *BIG), "local:2")


def test_structural_variants_compile_on_the_workers(tmp_path):
    same_as_local(tmp_path, "sweep", STRUCTURAL, "local:2")


def test_an_explored_front_on_a_local_cluster_is_the_local_front(tmp_path):
    local, remote = same_as_local(tmp_path, "explore", (*STRUCTURAL, *OBJECTIVES), "local:2")
    assert local.splitlines()[:-1] == remote.splitlines()[:-1]  # the same counts and extreme designs


def test_parquet_parts_hold_the_local_rows(tmp_path):
    pyarrow = pytest.importorskip("pyarrow.parquet")
    result = run_cli("sweep", *USER_PACK, *BIG, "-o", tmp_path / "dataset.parquet", "--cluster", "local:2", timeout=600)
    assert result.code == 0, result.stderr
    parts = sorted((tmp_path / "dataset.parquet").glob("part-*.parquet"))
    assert len(parts) == 4  # 750,000 points in tasks of 200,000
    rows = sum(pyarrow.read_table(part).num_rows for part in parts)
    assert rows == 750_000


@pytest.fixture
def scheduler(tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on loopback, stopped after the test."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    processes = [
        subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
        )
    ]
    _wait_for_port(port)
    worker = [
        sys.executable,
        "-m",
        "distributed.cli.dask_worker",
        address,
        "--nthreads",
        "1",
        "--no-dashboard",
        "--host",
        "127.0.0.1",
    ]
    processes += [
        subprocess.Popen(
            worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, start_new_session=True
        )
        for _ in range(2)
    ]
    time.sleep(3)  # the workers register
    yield address, processes[1:]
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_sweep_on_a_real_scheduler_and_two_workers(tmp_path, scheduler):
    address, _workers = scheduler
    same_as_local(tmp_path, "sweep", (*USER_PACK, *BIG), address)
    same_as_local(tmp_path, "explore", (*STRUCTURAL, *OBJECTIVES), address, name="front.csv")


def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path, scheduler):
    address, workers = scheduler
    # 300,000 points in 15 tasks of 20,000: the kill lands while most tasks are still to run
    grid = ("--axis", "M=1:3000", "--axis", "dram.bandwidth_GBps=5:400:20", "--axis", "array.rows=16,32,64,128,256")
    local = run_cli("sweep", *USER_PACK, *grid, "-o", tmp_path / "local.csv", timeout=600)
    assert local.code == 0, local.stderr
    command = [
        sys.executable,
        "-m",
        "symcost",
        "sweep",
        *map(str, USER_PACK),
        *grid,
        "-o",
        str(tmp_path / "cluster.csv"),
        "--cluster",
        address,
        "--task-points",
        "20000",
        "--progress",
    ]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_until_started(sweep)
    os.killpg(workers[0].pid, signal.SIGKILL)  # one worker dies while tasks run; its tasks run again elsewhere
    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr
    assert (tmp_path / "cluster.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def _wait_until_started(process: subprocess.Popen) -> None:
    """Until the sweep reports its first finished task (progress on stderr)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "cluster:" in line:
            return
        if process.poll() is not None:
            raise AssertionError(f"the sweep ended early: {process.stderr.read()}")
    raise AssertionError("no task finished within 120 s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"no scheduler on port {port}")


def test_without_dask_cluster_names_the_extra(tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "distributed").mkdir(parents=True)
    (hidden / "distributed" / "__init__.py").write_text("raise ImportError('no dask here')\n")
    result = run_cli(
        "sweep",
        *USER_PACK,
        "--axis",
        "M=1,2",
        "-o",
        tmp_path / "x.csv",
        "--cluster",
        "local:2",
        env={"PYTHONPATH": str(hidden)},
    )
    assert result.code == 2 and "pip install 'symcost[dask]'" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "options, message",
    [
        (("--cluster", "local:0"), "expected local:N with N in 1..256"),
        (("--cluster", "nowhere"), "expected local:N or tcp://HOST:PORT"),
        (("--cluster", "local:1", "--task-points", "30000"), "a multiple of 20,000"),
    ],
)
def test_bad_cluster_options(tmp_path, options, message):
    result = run_cli("sweep", *USER_PACK, "--axis", "M=1,2", "-o", tmp_path / "x.csv", *options)
    assert result.code == 2 and message in result.stderr, result.stderr
