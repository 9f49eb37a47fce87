"""The on-disk evaluator cache: a second build skips SymPy and gives the same numbers,
and the cache runs nothing it did not write itself."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, run_cli

from symcost import build_model
from symcost.cache import CacheEntry
from symcost.evaluator_source import UnsafeSource, checked_function

INPUTS = ("model_tiny.yaml", "hardware_soc_pipelined.yaml", "stats_k4.yaml")
LENGTHS = np.array([1.0, 100.0, 5000.0])
REPORT = [
    "report",
    "--model",
    EXAMPLES / "model_tiny.yaml",
    "--hardware",
    EXAMPLES / "hardware_knobs.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
]


def payload(marker: Path) -> str:
    """A line that escapes empty builtins (through a subclass walk to os) and creates ``marker``."""
    return (
        "\n[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
        f".__init__.__globals__['open']({str(marker)!r}, 0o101)\n"
    )


def key_of(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def vouch_for(entry: CacheEntry, name: str) -> None:
    """Record a changed file's digest in the index, as only someone running as the user could."""
    data = (entry.directory / name).read_bytes()
    with closing(sqlite3.connect(entry.root / "index.sqlite")) as connection, connection:
        connection.execute(
            "UPDATE files SET sha256 = ?, size = ? WHERE entry = ? AND name = ?",
            (hashlib.sha256(data).hexdigest(), len(data), entry.key, name),
        )


def tiny_entry(label: str, result_bytes: int = 0) -> CacheEntry:
    """An entry holding a real (small) lambdify evaluator and, optionally, a remembered result of about that size."""
    x = sp.Symbol("x")
    function = sp.lambdify([x], [2 * x, sp.ceiling(x)], modules="numpy")
    entry = CacheEntry.for_key(key_of(label))
    assert entry.store(function, inspect.getsource(function), {"inputs": ["x"]})
    if result_bytes:
        entry.remember("padding", lambda: "p" * result_bytes)
    return entry


def evaluators_in(root: Path) -> list[Path]:
    """The entries holding an evaluator (others keep checked documents, parsed units and the like)."""
    return sorted(
        entry
        for folder in root.iterdir()
        if folder.is_dir()
        for entry in folder.iterdir()
        if (entry / "evaluator.py").is_file()
    )


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def inputs(tmp_path):
    """Copies of the example inputs, so a test can change one."""
    copies = []
    for name in INPUTS:
        shutil.copy(EXAMPLES / name, tmp_path / name)
        copies.append(tmp_path / name)
    return copies


def test_second_build_loads_the_generated_source_without_sympy(cache_dir, inputs):
    cold = build_model(*inputs)
    assert (cold.cache.directory / "evaluator.py").is_file()
    warm = build_model(*inputs)
    assert "symbolic" not in warm.__dict__  # nothing symbolic was derived
    cold_results, warm_results = cold.evaluate(L_prompt=LENGTHS), warm.evaluate(L_prompt=LENGTHS)
    assert cold_results.keys() == warm_results.keys()
    for name in cold_results:
        np.testing.assert_array_equal(cold_results[name], warm_results[name])
    # The closed forms are still there on demand, matching the cached evaluator's outputs.
    assert list(warm.outputs) == list(warm.evaluator.names)


def test_a_changed_input_misses_the_cache(cache_dir, inputs):
    first = build_model(*inputs)
    hardware = inputs[1]
    hardware.write_text(hardware.read_text() + "\n# a comment changes the bytes\n")
    second = build_model(*inputs)
    assert second.cache.directory != first.cache.directory
    assert "symbolic" in second.__dict__


def test_kept_coefficients_are_part_of_the_key(cache_dir, inputs):
    plain = build_model(*inputs)
    kept = build_model(*inputs, keep=["e_AD"])
    assert plain.cache.directory != kept.cache.directory and "e_AD" in kept.evaluator.input_names


def test_a_damaged_entry_is_rebuilt(cache_dir, inputs):
    first = build_model(*inputs)
    (first.cache.directory / "meta.json").write_text("{not json")
    again = build_model(*inputs)
    assert "symbolic" in again.__dict__
    json.loads((again.cache.directory / "meta.json").read_text())  # rewritten whole


def test_remembered_results_are_computed_once(cache_dir, inputs):
    model = build_model(*inputs)
    calls = []
    assert model.remember("answer", lambda: calls.append(1) or {"x": 1}) == {"x": 1}
    assert build_model(*inputs).remember("answer", lambda: calls.append(1) or {"x": 2}) == {"x": 1}
    assert calls == [1]


def test_functions_using_names_outside_numpy_are_not_stored(cache_dir):
    def uses_a_builtin(x):
        return len(x)

    entry = CacheEntry.for_key(key_of("builtin"))
    assert not entry.store(uses_a_builtin, "def uses_a_builtin(x):\n    return len(x)\n", {})
    assert not entry.directory.exists()


def test_cache_can_be_switched_off(monkeypatch, inputs):
    monkeypatch.setenv("SYMCOST_NO_CACHE", "1")
    assert build_model(*inputs).cache is None


def test_closed_form_answers_from_a_warm_model_equal_the_cold_ones(cache_dir, inputs):
    # A cached evaluator's input symbols carry no assumptions; closed-form work must match by name.
    from symcost.packs.selfspec.breakeven import find_break_even, prompt_domain

    cold = build_model(*inputs)
    warm = build_model(*inputs)
    assert prompt_domain(warm) == prompt_domain(cold) == (0, 32764)
    cold_answers, warm_answers = find_break_even(cold), find_break_even(warm)
    assert {c: {q: a.as_json() for q, a in by.items()} for c, by in cold_answers.items()} == {
        c: {q: a.as_json() for q, a in by.items()} for c, by in warm_answers.items()
    }


def test_outputs_are_independent_arrays(cache_dir, inputs):
    model = build_model(*inputs)
    lengths = LENGTHS.copy()
    results = model.evaluate(L_prompt=lengths)
    arrays = list(results.values())
    assert all(array.flags.writeable and array.shape == lengths.shape for array in arrays)
    assert len({id(array) for array in arrays}) == len(arrays)
    assert not any(np.shares_memory(array, lengths) for array in arrays)


def test_a_poisoned_evaluator_is_not_run_and_is_rebuilt(cache_dir, inputs, tmp_path):
    cold = build_model(*inputs)
    evaluator = cold.cache.directory / "evaluator.py"
    marker = tmp_path / "marker"
    evaluator.write_text(evaluator.read_text() + payload(marker))
    warm = build_model(*inputs)
    assert not marker.exists()
    assert "symbolic" in warm.__dict__  # a miss: built again from the inputs
    for name, values in cold.evaluate(L_prompt=LENGTHS).items():
        np.testing.assert_array_equal(warm.evaluate(L_prompt=LENGTHS)[name], values)
    assert "_wrap_close" not in evaluator.read_text()  # the entry was overwritten
    assert "symbolic" not in build_model(*inputs).__dict__  # and is trusted again


def test_a_source_with_a_recorded_digest_must_still_pass_the_whitelist(cache_dir, inputs, tmp_path):
    cold = build_model(*inputs)
    evaluator = cold.cache.directory / "evaluator.py"
    marker = tmp_path / "marker"
    evaluator.write_text(evaluator.read_text() + payload(marker))
    vouch_for(cold.cache, "evaluator.py")
    assert cold.cache.load() is None
    warm = build_model(*inputs)
    assert not marker.exists() and "symbolic" in warm.__dict__


GENERATED = (
    "def _lambdifygenerated(x):\n    _o0 = greater(x, 0)\n    return [select([_o0, True], [x**2, 0], default=nan)]\n"
)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(GENERATED.replace("x**2", "x.__class__"), id="dunder attribute"),
        pytest.param(GENERATED.replace("x**2", "x.real"), id="attribute"),
        pytest.param(GENERATED.replace("default=nan", "default=__builtins__"), id="dunder name"),
        pytest.param(GENERATED.replace("greater(x, 0)", "open('marker', 'w')"), id="call of a builtin"),
        pytest.param(GENERATED.replace("greater(x, 0)", "'text'"), id="string"),
        pytest.param(GENERATED.replace("greater(x, 0)", "(lambda: 0)()"), id="lambda"),
        pytest.param(GENERATED.replace("greater(x, 0)", "[y for y in x]"), id="comprehension"),
        pytest.param(GENERATED.replace("_o0 = greater(x, 0)", "import os"), id="import"),
        pytest.param(GENERATED.replace("_o0 = greater(x, 0)", "greater = select"), id="rebinding a provided name"),
        pytest.param(GENERATED.replace("default=nan", "**x"), id="keyword unpacking"),
        pytest.param(GENERATED.replace("(x):", "(x=nan):"), id="default argument"),
        pytest.param("@select\n" + GENERATED, id="decorator"),
        pytest.param(GENERATED + "greater(1, 0)\n", id="second statement"),
        pytest.param(GENERATED.replace("_lambdifygenerated", "other"), id="other function name"),
        pytest.param(
            GENERATED.replace("_o0 = greater(x, 0)", "if x:\n        return [x]\n    _o0 = greater(x, 0)"), id="branch"
        ),
        pytest.param(GENERATED.replace("greater(x, 0)", "undefined_name"), id="unknown name"),
        pytest.param(GENERATED.replace("greater(x, 0)", "x[0]"), id="subscript"),
        pytest.param(GENERATED.replace("greater(x, 0)", "(y := x)"), id="walrus"),
        pytest.param(GENERATED.replace("x**2", "_o0.reduce(x)"), id="reduce of something not a ufunc"),
        pytest.param(GENERATED.replace("greater(x, 0)", "nan(x)"), id="call of a constant"),
    ],
)
def test_the_whitelist_refuses_anything_lambdify_does_not_write(source):
    with pytest.raises(UnsafeSource):
        checked_function(source, "evaluator.py", ["greater", "select", "nan"])


def test_the_whitelist_accepts_what_lambdify_writes():
    function = checked_function(GENERATED, "evaluator.py", ["greater", "select", "nan"])
    assert function(np.array([-2.0, 3.0]))[0].tolist() == [0.0, 9.0]
    conjunction = GENERATED.replace("greater(x, 0)", "logical_and.reduce((greater(x, 0), less(x, 5)))")
    assert checked_function(conjunction, "evaluator.py", ["greater", "less", "logical_and", "select", "nan"])


@pytest.mark.parametrize(
    "hardware, options",
    [
        ("hardware_knobs.yaml", {"vary": ["L_prompt"]}),
        ("hardware_legacy.yaml", {}),
        # many kept coefficients: SymPy prints logical_and.reduce for the conditions
        ("hardware_soc_pipelined.yaml", {"keep": ["e_AD", "t_AD", "e_arr", "t_arr", "capacity_sram"]}),
    ],
)
def test_every_generated_evaluator_passes_the_whitelist(cache_dir, hardware, options):
    files = (EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / hardware, EXAMPLES / "stats_k4.yaml")
    cold = build_model(*files, **options)
    assert cold.cache.load() is not None
    assert "symbolic" not in build_model(*files, **options).__dict__


def test_a_world_writable_cache_is_bypassed_with_one_warning(tmp_path):
    root = tmp_path / "shared-cache"
    root.mkdir()
    root.chmod(0o777)
    result = run_cli(*REPORT, env={"SYMCOST_CACHE_DIR": str(root)})
    assert result.code == 0, result.stderr
    assert "energy/token" in result.stdout
    (warning,) = warnings_in(result.stderr)
    assert str(root) in warning and "SYMCOST_CACHE_DIR" in warning and "written by others" in warning
    assert list(root.iterdir()) == []  # nothing stored in it


def test_a_symlinked_root_is_judged_where_it_points(tmp_path, monkeypatch, capsys):
    target = tmp_path / "target"
    target.mkdir()
    target.chmod(0o777)
    (tmp_path / "link").symlink_to(target)
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "link"))
    assert CacheEntry.for_key(key_of("symlinked")) is None
    assert len(warnings_in(capsys.readouterr().err)) == 1
    target.chmod(0o700)
    (tmp_path / "private-link").symlink_to(target)
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "private-link"))
    assert CacheEntry.for_key(key_of("symlinked")) is not None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another uid needs root")
def test_an_entry_owned_by_another_user_is_bypassed(cache_dir, inputs, capsys):
    cold = build_model(*inputs)
    os.chown(cold.cache.directory, 65534, 65534)
    capsys.readouterr()
    warm = build_model(*inputs)
    assert "symbolic" in warm.__dict__  # not loaded
    (warning,) = warnings_in(capsys.readouterr().err)
    assert "uid 65534" in warning
    assert build_model(*inputs).cache is None  # off for the rest of the process, without a second warning
    assert warnings_in(capsys.readouterr().err) == []


def test_the_tree_is_private_whatever_the_umask(tmp_path, monkeypatch, inputs):
    root = tmp_path / "a" / "b" / "cache"
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(root))
    previous = os.umask(0)
    try:
        build_model(*inputs).remember("answer", lambda: 42)
    finally:
        os.umask(previous)
    created = [tmp_path / "a", tmp_path / "a" / "b", root, *root.rglob("*")]
    modes = {path.relative_to(tmp_path): stat.S_IMODE(path.stat().st_mode) for path in created}
    assert {
        path: mode for path, mode in modes.items() if mode != (0o700 if (tmp_path / path).is_dir() else 0o600)
    } == {}
    assert Path("a/b/cache/index.sqlite") in modes and len(modes) >= 9


def test_the_same_documents_in_two_folders_share_one_entry(cache_dir, tmp_path):
    from symcost.packs.selfspec.report import build_report

    folders = [tmp_path / "first", tmp_path / "second"]
    for folder in folders:
        folder.mkdir()
        for name in INPUTS:
            shutil.copy(EXAMPLES / name, folder / name)
    first, second = (build_model(*(folder / name for name in INPUTS)) for folder in folders)
    build_report(first, [128])
    assert second.cache.directory == first.cache.directory and "symbolic" not in second.__dict__
    pack_digest = hashlib.sha256(Path(first.pack.source).read_bytes()).hexdigest()
    assert build_report(second, [128])["pack"] == {"name": "selfspec", "version": 1, "sha256": pack_digest}
    # Nothing remembered names a path: every copy of the inputs gets the same answers.
    assert not any(str(tmp_path) in file.read_text() for file in first.cache.directory.iterdir())


def test_the_service_leaves_one_entry_for_identical_requests(cache_dir, tmp_path):
    from symcost.service.selfspec import DocumentFolder, build_for, report_from_files, selfspec_examples

    documents = selfspec_examples()["tiny model, knob-based hardware"]
    reports = []
    for scratch in ("first", "again"):  # two server processes: two scratch folders
        folder = DocumentFolder(tmp_path / scratch)
        folder.root.mkdir()
        with folder.holding(**documents) as paths:
            reports.append(report_from_files(build_for(paths), [128]))
    first, again = reports
    assert first == again and len(evaluators_in(cache_dir)) == 1
    assert set(first["pack"]) == {"name", "version", "sha256"}


def test_least_recently_used_entries_are_evicted_first(cache_dir, monkeypatch):
    oldest, older, old = (tiny_entry(label, 600) for label in ("oldest", "older", "old"))
    size = sum(file.stat().st_size for file in oldest.directory.iterdir())
    monkeypatch.setenv("SYMCOST_CACHE_MAX_MB", str(3.5 * size / 2**20))
    assert oldest.load() is not None  # used again: now the most recent
    newest = tiny_entry("newest", 600)
    assert not older.directory.exists()
    assert all(entry.directory.exists() for entry in (oldest, old, newest))
    assert tiny_entry("newer still", 600) and not old.directory.exists()
    assert sum(file.stat().st_size for file in cache_dir.rglob("*.*") if file.name != "index.sqlite") <= 3.5 * size
    assert oldest.directory.exists() and newest.directory.exists()


def test_loading_the_most_recently_used_entry_writes_nothing_to_the_index(cache_dir):
    older, newest = tiny_entry("older"), tiny_entry("newest")

    def used() -> list:
        with closing(sqlite3.connect(cache_dir / "index.sqlite")) as connection:
            return connection.execute("SELECT entry, name, used FROM files ORDER BY entry, name").fetchall()

    before = used()
    assert CacheEntry(cache_dir, newest.key).load() is not None
    assert used() == before  # already the newest: touching it would change no eviction
    assert CacheEntry(cache_dir, older.key).load() is not None
    assert used() != before


WRITER = """
import hashlib, inspect
import sympy as sp
from symcost.cache import CacheEntry
x = sp.Symbol("x")
function = sp.lambdify([x], [2 * x, sp.ceiling(x)], modules="numpy")
for round in range(3):
    for label in range(8):  # the same labels in every process: they race on the same entries
        entry = CacheEntry.for_key(hashlib.sha256(f"shared {label}".encode()).hexdigest())
        entry.store(function, inspect.getsource(function), {"inputs": ["x"]})  # False when evicted meanwhile
        entry.remember("padding", lambda: "p" * 400)
        entry.load()
"""


def test_processes_sharing_a_cache_evict_and_rebuild_without_errors(cache_dir):
    size = sum(file.stat().st_size for file in tiny_entry("probe", 400).directory.iterdir())
    limit = {"SYMCOST_CACHE_MAX_MB": str(3 * size / 2**20)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER], env={**os.environ, **limit}, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0 and writer.stderr.read() == ""
    # Each entry left is whole (it loads and runs) or cleanly absent; the oldest was evicted.
    loaded = [CacheEntry(cache_dir, key_of(f"shared {label}")).load() for label in range(8)]
    assert all(result is None or result[0](3.5)[1] == 4.0 for result in loaded)
    assert any(loaded) and CacheEntry(cache_dir, key_of("probe")).load() is None


def test_an_evicted_entry_is_a_miss(cache_dir, monkeypatch):
    entry = tiny_entry("evicted")
    monkeypatch.setenv("SYMCOST_CACHE_MAX_MB", "0")
    tiny_entry("evicter")
    assert not entry.directory.exists() and entry.load() is None


def test_a_remembered_result_that_is_not_as_written_is_computed_again(cache_dir):
    entry = tiny_entry("remembered")
    assert entry.remember("answer", lambda: {"x": 1}) == {"x": 1}
    (entry.directory / "answer.json").write_text('{"x": 666}')
    assert entry.remember("answer", lambda: {"x": 2}) == {"x": 2}
    assert json.loads((entry.directory / "answer.json").read_text()) == {"x": 2}  # rewritten and recorded
    assert entry.remember("answer", lambda: {"x": 3}) == {"x": 2}


def test_a_file_the_index_does_not_know_is_a_miss(cache_dir):
    entry = tiny_entry("unrecorded")
    with closing(sqlite3.connect(cache_dir / "index.sqlite")) as connection, connection:
        connection.execute("DELETE FROM files WHERE entry = ?", (entry.key,))
    assert entry.load() is None
    assert entry.remember("padding", lambda: "computed") == "computed"


def test_a_bad_size_limit_is_a_one_line_error():
    result = run_cli(*REPORT, env={"SYMCOST_CACHE_MAX_MB": "lots"})
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "error: SYMCOST_CACHE_MAX_MB must be a number of megabytes, 0 or more, not 'lots'"
    ]
