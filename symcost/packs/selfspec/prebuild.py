"""Several cost models compiled side by side, into the evaluator cache, before a command uses them in turn.

A cold build is SymPy work of a second or more on one core. A command that needs several different models
(``batch-inputs``: one per model file and ADC knobs) would build them one after another; here the missing
ones are built in worker processes, up to two per core, each storing its evaluator in the cache
(:mod:`symcost.cache`, safe for concurrent writers). The command then calls :func:`build_model` in its own
order, as before, and loads each from the cache. Nothing is passed back from the workers: a build that
fails in a worker is built again by the command, which reports the error as it always did.

Workers are forked, so they start with SymPy and symcost already imported; where forking is not available
(Windows, macOS's default) or there is one core, one missing model or no cache, nothing happens here.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import SymcostError
from ...forked import cores
from .model import build_model, recipe_of


def prebuild(requests: Sequence[Mapping[str, Any]]) -> int:
    """Build the models of ``requests`` (keyword arguments of :func:`build_model`) that the cache lacks, in
    parallel; the number of workers used (0: nothing to do in parallel)."""
    missing = _missing(requests)
    # Up to two workers per core: n builds of about equal length on c cores end after about n / c build times
    # instead of ceil(n / c) rounds (three on two cores: 1.5 instead of 2). That pays only because the pack
    # is parsed here, once, before the workers are forked: each would otherwise import SymPy and parse it.
    workers = min(len(missing), 2 * cores()) if cores() >= 2 else 0
    if workers < 2:
        return 0
    # Imported here: a warm command, whose models are all cached, does without them.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    _parse_packs(missing)
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns on forking with threads running (numpy's BLAS pool): the workers use no BLAS.
            warnings.simplefilter("ignore", DeprecationWarning)
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                list(pool.map(_build_quietly, missing))
    except BrokenProcessPool:  # a worker died (out of memory, killed): the command builds what is missing
        pass
    return workers


def _missing(requests: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One request per cache entry not stored yet (requests without an entry are built by the command)."""
    by_key: dict[str, Mapping[str, Any]] = {}
    for request in requests:
        entry = recipe_of(**request).cache_entry()
        if entry is not None and not entry.exists():
            by_key.setdefault(entry.key, request)
    return list(by_key.values())


def _parse_packs(requests: Sequence[Mapping[str, Any]]) -> None:
    """Parse each request's pack in this process, so that the forked workers share it (load_pack remembers)."""
    from ...pack import load_pack

    for path in {recipe_of(**request).pack_path for request in requests}:
        try:
            load_pack(path)
        except SymcostError:  # a broken pack: each build reports it
            return


def _build_quietly(request: Mapping[str, Any]) -> None:
    try:
        build_model(**request)
    except Exception:  # noqa: BLE001  (the command builds it again and reports the error in its context)
        return
