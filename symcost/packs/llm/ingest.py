"""``symcost llm calibrate``: store run records, then refit and store a new immutable bundle."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from .calibration import Bundle, CalibrationError, calibrate
from .observations import observations
from .quarantine import split_fittable
from .records import RunRecord, read_records
from .store import Store
from .text import quarantine_lines


def ingest_and_fit(
    path: str | Path,
    db: str | Path | None,
    min_records: int,
    fit: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """Lines describing what was stored and fitted (a generator: each step is done when its line is read)."""
    records = read_records(path)
    with Store(db) as store:
        added, present = store.add_runs(records)
        total = store.count_runs()
        yield f"stored {added} new run records in {store.path} ({present} already there; {total} in all)"
        if not fit:
            return
        if total < min_records:
            yield f"not refitted: {total} records < --min-records {min_records}"
            return
        bundle = refit(store, progress)
        yield (
            f"calibration bundle {bundle.bundle_id[:12]} fitted on {bundle.n_records - len(bundle.quarantined)} "
            f"of {bundle.n_records} records ({bundle.n_observations} measured figures) and stored"
        )
        for group, values in sorted(bundle.coefficients["groups"].items()):
            yield f"  {group}: offsets (log) " + ", ".join(f"{name} {value:+.3f}" for name, value in values.items())
        yield from quarantine_lines(bundle.quarantined, "kept in the store, not fitted")


def refit(store: Store, progress: Callable[[str], None] | None = None) -> Bundle:
    """A bundle fitted on every stored record that can be fitted, stored in ``store`` and returned.

    The others are quarantined: listed in the bundle and counted in its n_records, so the queue drains.
    """
    records = store.runs()
    kept, quarantined = split_fittable(records)
    if not kept:
        first = f"; the first: {quarantined[0]['run_id']}: {quarantined[0]['reason']}" if quarantined else ""
        raise CalibrationError(
            f"nothing to fit: {len(quarantined)} of {len(records)} stored records are quarantined{first}"
        )
    bundle = calibrate(
        observations(kept),
        tags=environment_tags(kept),
        n_records=len(records),
        progress=progress,
        quarantined=quarantined,
    )
    store.add_bundle(bundle)
    return bundle


def environment_tags(records: list[RunRecord]) -> dict[str, list[str]]:
    """The runtime versions, drivers and CUDA versions the bundle was fitted on (its version tags)."""
    tags: dict[str, Counter] = {"runtime_version": Counter(), "driver": Counter(), "cuda_version": Counter()}
    for record in records:
        env = record.data.get("env", {})
        for key in tags:
            if env.get(key):
                tags[key][f"{record.data['runtime_id']} {env[key]}" if key == "runtime_version" else env[key]] += 1
    return {key: sorted(counter) for key, counter in tags.items()}
