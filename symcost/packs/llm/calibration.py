"""Fitting the model's free coefficients to measured runs, and intervals from held-out errors.

Coefficients (eta_bw, eta_flops, t0) are pooled in levels (LEVELS), in log
space: a global value, an offset per runtime backend, an offset per (backend,
compute backend, hardware class) group, an offset per (backend, runtime era)
and one per (backend, compute backend, era), the eras of each tied by a
random-walk prior (a smooth change from year to year, not a free factor per
build), and an eta_bw offset per GPU model within its group (a tighter ridge);
kappa_bw and kappa_flops (dequantizing formats) are global. The fit is robust least squares (soft-L1 loss, scipy) of
log(predicted / measured) over the timing metrics, with ridge penalties that
pull offsets to zero, so a group seen in few runs borrows from its backend and
an unseen one falls back to it (or to the global value).

Intervals are split-conformal: the errors of leave-one-source-out
predictions (each publication's records predicted by a fit that never saw
them; leave-one-hardware-out when every record has the same source) are
stored in the bundle; p10/p90 are their quantiles with the (n + 1)
finite-sample correction, applied to the prediction.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np

from ...errors import SymcostError
from .observations import Batch, Observation
from .runtime_eras import nearest_era
from .scenario import Coefficients, Scenario

FITTED = ("eta_bw", "eta_flops", "t0_s", "t_layer_s")
TIMING_METRICS = ("prefill_toks_sec", "decode_toks_sec", "output_toks_sec", "ttft_ms_p50", "latency_ms_p50")
# Families of metrics that share interval widths.
FAMILIES = {
    "decode_toks_sec": "decode",
    # Max-load serving throughput is a batch-scheduling figure, not a single-step one: its errors are its own.
    "output_toks_sec": "serving",
    "prefill_toks_sec": "prefill",
    "ttft_ms_p50": "prefill",
    "latency_ms_p50": "decode",
    "weights_gb": "memory",
    "vram_peak_gb": "memory",
    "ram_peak_gb": "memory",
}
NOISE = 0.1  # log-space scale of a measurement's error (soft-L1 threshold)
OFFSET_SCALE = 0.5  # log-space scale of a backend, group or era offset (ridge prior)
# Coefficients with one global value and no offsets. A layer's launch time: the public runs cannot tell it apart
# per group from t0 and eta_bw (held-out errors grew when it had group offsets).
GLOBAL_ONLY = ("t_layer_s",)
ERA_STEP_SCALE = 0.15  # log-space scale of an era offset's change over one year (random-walk prior)
# The coefficients with era offsets. Prefill's (eta_flops) has none: the public data measure prefill in more than
# one llama.cpp era on one machine only (an RTX 4080), too little to fit it; its era offset stays 0.
ERA_FITTED = ("eta_bw", "t0_s")
# Offset levels after the global values, in the order they add up, with the coefficients each has offsets for:
# the runtime backend, (runtime backend, compute backend, hardware class), (runtime backend, era) and
# (runtime backend, compute backend, era): a compute backend's own change over the years (early Vulkan builds
# were far slower than the runtime's other backends of the same year), pulled to the runtime's era by the ridge.
# Last, (runtime backend, compute backend, GPU model) within its group, for eta_bw only: a machine's own
# departure from its class in decode (an L40S's GDDR6 beside the HBM of the A100 and H100 in datacenter_gpu, decode
# under-predicted by about 30 % when held out), so that a machine's run in a later era is not read as a change of
# build that moves that era for every machine (an L40S run of 2025 raised the 2024 -> 2025 step of llama.cpp's CUDA
# eta_bw from +13 % to +23 % without it); a GPU model the fit never saw has none.
LEVEL_FITTED = {
    "backends": tuple(name for name in FITTED if name not in GLOBAL_ONLY),
    "groups": tuple(name for name in FITTED if name not in GLOBAL_ONLY),
    "eras": ERA_FITTED,
    "backend_eras": ERA_FITTED,
    "machines": ("eta_bw",),
}
LEVELS = tuple(LEVEL_FITTED)
# Ridge scales of levels other than OFFSET_SCALE. A machine's offset is held tighter than its group's (figures of
# session 10, keyed per hardware profile then): at 0.5 the machine offsets took over the group offsets a held-out machine is predicted with (leave-one-hardware-out decode
# median 10.2 % -> 13.3 %); at 0.1 they take only a machine's lasting departure (0.2 was not evaluated: its
# held-out fits ran several times slower).
LEVEL_SCALE = {"machines": 0.1}
ERA_LEVELS = ("eras", "backend_eras")
_TRAINING_KEYS: dict[str, Callable[[Scenario], str]] = {
    "backends": lambda scenario: scenario.pooling_keys[0],
    "groups": lambda scenario: scenario.pooling_keys[1],
    "machines": lambda scenario: f"{scenario.pooling_keys[1].rsplit('|', 1)[0]}|{gpu_model(scenario.hardware)}",
}


def gpu_model(hardware) -> str:
    """What a machine offset is per: the model of the machine's first GPU, else the machine itself (a CPU, an APU
    without a GPU list). The 1x and 2x profiles of one GPU share it: an offset of its own for a 2x profile made a
    llama.cpp layer split over two GPUs come out faster than one GPU."""
    gpus = hardware.get("gpus") or []
    return str(gpus[0]["sku"]) if gpus and gpus[0].get("sku") else hardware.id


PRIOR_SCALE = 1.0  # log-space scale of the global values around the runtime defaults
BOUNDS = {
    "eta_bw": (0.02, 1.2),
    "eta_flops": (0.005, 1.2),
    "t0_s": (1e-7, 0.2),
    "t_layer_s": (1e-8, 1e-3),
    "kappa_bw": (0.2, 1.5),
    "kappa_flops": (0.2, 1.5),
}
# t_layer_s: a layer's few kernel launches of some microseconds each (CUDA's launch latency is ~5 us).
DEFAULT_START = {"eta_bw": 0.7, "eta_flops": 0.4, "t0_s": 5e-4, "t_layer_s": 2e-5, "kappa_bw": 1.0, "kappa_flops": 1.0}


class CalibrationError(SymcostError):
    """Nothing a fit can use: no timing measurement, or every record quarantined."""


@dataclass(frozen=True, eq=False)
class Bundle:
    """An immutable calibration: pooled coefficients, held-out errors, tags. ``bundle_id`` hashes the content."""

    # {"global": {...}, "backends": {b: {...}}, "groups": {"b|compute|class": {...}}, "eras": {"b@year": {...}},
    # "backend_eras": {"b|compute@year": {...}}, "kappa_bw", "kappa_flops"}; older bundles lack the era levels
    coefficients: dict
    residuals: dict  # family -> sorted held-out log(measured / predicted)
    n_records: int
    n_observations: int
    tags: dict = field(default_factory=dict)  # runtime versions, drivers, CUDA versions of the runs
    # Records counted in n_records but not fitted, [{"run_id", "reason"}]; bundles stored before it existed lack it.
    quarantined: list = field(default_factory=list)
    # What the residuals' held-out fits left out (a key of FOLDS); bundles stored before it existed used hardware.
    held_out_by: str = "hardware"
    created_utc: str = ""
    bundle_id: str = ""

    def coefficients_for(self, scenario: Scenario) -> Coefficients:
        return pooled_coefficients(self.coefficients, scenario, f"calibration {self.bundle_id[:12]}")

    def interval(self, metric: str, predicted: float, level: float = 0.8, inverse: bool = False) -> dict[str, float]:
        """p10 / p50 / p90 (for level 0.8) around ``predicted`` from the stored held-out errors.

        ``inverse``: the figure is the inverse of the measured one (a time from a rate), so errors change sign.
        """
        low, high = _bounds_of(self, FAMILIES.get(metric, "decode"), level)
        if inverse:
            low, high = -high, -low
        tail = round((1 - level) / 2 * 100)
        return {f"p{tail}": predicted * math.exp(low), "p50": predicted, f"p{100 - tail}": predicted * math.exp(high)}

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Bundle:
        return cls(**data)


def pooled_coefficients(pooled: dict, scenario: Scenario, label: str) -> Coefficients:
    """The global values times the offsets of the scenario's key at every level (LEVELS) where fitted; an era level
    takes the scenario's era, else the nearest fitted one (the newest when it names none)."""
    fitted = [name for name in FITTED if name in pooled["global"]]  # bundles stored before t_layer_s lack it
    logs = {name: math.log(pooled["global"][name]) for name in fitted}
    used = ["global"]
    for level in LEVELS:
        key = level_key(pooled, level, scenario)
        if key in pooled.get(level, {}):
            used.append(key)
            for name in fitted:
                logs[name] += pooled[level][key][name]
    return Coefficients(
        **{name: math.exp(value) for name, value in logs.items()},
        kappa_bw=pooled["kappa_bw"],
        kappa_flops=pooled["kappa_flops"],
        origin=f"{label} ({' + '.join(used)})",
    )


def _era_prefix(level: str, scenario: Scenario) -> str:
    """What an era level's keys are per: the runtime backend, or the runtime backend and the compute backend."""
    return scenario.pooling_keys[0] + (f"|{scenario.compute_backend}" if level == "backend_eras" else "")


def level_key(pooled: dict, level: str, scenario: Scenario) -> str | None:
    """The scenario's key at ``level``; at an era level ``prefix@era`` of the fitted era nearest the scenario's."""
    if level in ERA_LEVELS:
        prefix = _era_prefix(level, scenario)
        fitted = [key.rsplit("@", 1)[1] for key in pooled.get(level, {}) if key.rsplit("@", 1)[0] == prefix]
        era = nearest_era(fitted, scenario.runtime_era)
        return f"{prefix}@{era}" if era else None
    return _TRAINING_KEYS[level](scenario)


def _training_key(level: str, scenario: Scenario) -> str | None:
    """The key an observation's scenario fits at ``level`` (its own era, not the nearest fitted one)."""
    if level in ERA_LEVELS:
        return f"{_era_prefix(level, scenario)}@{scenario.runtime_era}" if scenario.runtime_era else None
    return _TRAINING_KEYS[level](scenario)


def conformal_bounds(errors: Sequence[float], level: float) -> tuple[float, float]:
    """Split-conformal bounds: the k-th smallest and k'-th smallest of ``errors``, with
    k = floor((n + 1) (1 - level) / 2) and k' = ceil((n + 1) (1 + level) / 2), clamped to 1 .. n."""
    ordered = sorted(errors)
    n = len(ordered)
    tail = (1 - level) / 2
    # Rounded first: (1 - 0.8) / 2 is 0.09999999999999998, and floor(20 x that) must still be 2.
    low = min(n, max(1, math.floor(round((n + 1) * tail, 9))))
    high = min(n, max(1, math.ceil(round((n + 1) * (1 - tail), 9))))
    return ordered[low - 1], ordered[high - 1]


@lru_cache(maxsize=256)
def _bounds_of(bundle: Bundle, family: str, level: float) -> tuple[float, float]:
    return conformal_bounds(bundle.residuals.get(family) or bundle.residuals.get("all") or [0.0], level)


@dataclass
class _Layout:
    """Positions of the pooled parameters in the fit vector: global, then the keys of each level in LEVELS (one row
    of len(FITTED) values each), then the 2 kappas."""

    levels: dict[str, list[str]]

    @classmethod
    def of(cls, timing: Sequence[Observation]) -> _Layout:
        keys = {level: {_training_key(level, item.scenario) for item in timing} for level in LEVELS}
        return cls({level: sorted(found - {None}) for level, found in keys.items()})

    @property
    def rows(self) -> int:
        return 1 + sum(len(keys) for keys in self.levels.values())

    @property
    def size(self) -> int:
        return len(FITTED) * self.rows + 2

    def first_row(self, level: str) -> int:
        return 1 + sum(len(self.levels[before]) for before in LEVELS[: LEVELS.index(level)])

    def live(self) -> np.ndarray:
        """Mask of the fit vector's entries that are fitted: the global row, each level's coefficients, the kappas."""
        rows = [np.ones(len(FITTED), dtype=bool)]
        for level, keys in self.levels.items():
            rows += [np.array([name in LEVEL_FITTED[level] for name in FITTED])] * len(keys)
        return np.concatenate([*rows, np.ones(2, dtype=bool)])

    def scales(self) -> np.ndarray:
        """The ridge scale of each offset entry (the level rows after the global one), row by row."""
        return np.concatenate(
            [
                np.full(len(FITTED) * len(keys), LEVEL_SCALE.get(level, OFFSET_SCALE))
                for level, keys in self.levels.items()
            ]
            or [np.empty(0)]
        )

    def era_steps(self) -> list[tuple[int, int, float]]:
        """(row, next row, years apart) of consecutive fitted eras of one prefix at each era level."""
        steps = []
        for level in ERA_LEVELS:
            by_prefix: dict[str, list[tuple[int, int]]] = {}
            for index, key in enumerate(self.levels[level]):
                prefix, era = key.rsplit("@", 1)
                by_prefix.setdefault(prefix, []).append((int(era), self.first_row(level) + index))
            for eras in by_prefix.values():
                eras.sort()
                steps += [(row_a, row_b, year_b - year_a) for (year_a, row_a), (year_b, row_b) in zip(eras, eras[1:])]
        return steps


def fit(items: Sequence[Observation], start: dict | None = None) -> dict:
    """Pooled coefficients fitted to the timing observations ``items`` (dict as in :class:`Bundle`)."""
    timing = [item for item in items if item.metric in TIMING_METRICS]
    if not timing:
        raise CalibrationError("no timing measurements to calibrate on")
    batch = Batch(timing)
    layout = _Layout.of(timing)
    prior = np.log([(start or {}).get(name, DEFAULT_START[name]) for name in FITTED])
    steps = layout.era_steps()
    width = len(FITTED)

    live = layout.live()  # the entries a residual depends on: offsets a level does not have stay out of the fit
    scales = layout.scales()

    def residuals(free: np.ndarray) -> np.ndarray:
        vector = np.zeros(layout.size)
        vector[live] = free
        pooled = _unpack(vector, layout)
        errors = batch.log_errors(fitted_chooser(pooled)) / NOISE
        offsets = vector[width:-2] / scales
        rows = vector[:-2].reshape(-1, width)
        # The smooth prior: an era's offsets are a random walk from the previous era's.
        walk = [(rows[b] - rows[a]) / (ERA_STEP_SCALE * math.sqrt(years)) for a, b, years in steps]
        return np.concatenate(
            [errors, offsets, *walk, (vector[:width] - prior) / PRIOR_SCALE, vector[-2:] / OFFSET_SCALE]
        )

    from scipy.optimize import least_squares  # here: importing scipy costs an estimate 0.4 s it never uses

    lower, upper = _bounds(layout)
    x0 = np.clip(np.concatenate([prior, np.zeros(layout.size - width)]), lower + 1e-9, upper - 1e-9)
    solution = least_squares(
        residuals,
        x0[live],
        bounds=(lower[live], upper[live]),
        loss="soft_l1",
        f_scale=1.0,
        x_scale=1.0,
        diff_step=1e-4,
        max_nfev=400,
    )
    vector = np.zeros(layout.size)
    vector[live] = solution.x
    return _unpack(vector, layout)


def _bounds(layout: _Layout) -> tuple[np.ndarray, np.ndarray]:
    offsets = layout.size - len(FITTED) - 2
    lower = [math.log(BOUNDS[name][0]) for name in FITTED] + [-3.0] * offsets
    upper = [math.log(BOUNDS[name][1]) for name in FITTED] + [3.0] * offsets
    lower += [math.log(BOUNDS["kappa_bw"][0]), math.log(BOUNDS["kappa_flops"][0])]
    upper += [math.log(BOUNDS["kappa_bw"][1]), math.log(BOUNDS["kappa_flops"][1])]
    return np.array(lower), np.array(upper)


def _unpack(vector: np.ndarray, layout: _Layout) -> dict:
    rows = vector[:-2].reshape(-1, len(FITTED))

    def named(row: np.ndarray, kept: Sequence[str]) -> dict[str, float]:
        # An offset a coefficient does not have is 0 in the predictions too: its ridge term alone holds it there.
        return {name: float(value) if name in kept else 0.0 for name, value in zip(FITTED, row)}

    pooled: dict = {"global": {name: float(math.exp(value)) for name, value in zip(FITTED, rows[0])}}
    for level, keys in layout.levels.items():
        first = layout.first_row(level)
        pooled[level] = {key: named(rows[first + i], LEVEL_FITTED[level]) for i, key in enumerate(keys)}
    return {**pooled, "kappa_bw": float(math.exp(vector[-2])), "kappa_flops": float(math.exp(vector[-1]))}


def fitted_chooser(pooled: dict) -> Callable[[Observation], Coefficients]:
    """For each observation, the coefficients a fit (:func:`fit`'s pooled levels) gives its scenario."""
    return lambda item: pooled_coefficients(pooled, item.scenario, "fit")


# What a held-out fit leaves out: one hardware profile, one publication (records without a source count as
# their hardware's), or one year (undated records share one).
FOLDS: dict[str, Callable[[Observation], str]] = {
    "hardware": lambda item: item.hardware,
    "source": lambda item: item.provenance.source or f"hardware {item.hardware}",
    "period": lambda item: item.provenance.date[:4] or "undated",
    "runtime": lambda item: item.backend,  # for the widening of runtimes the calibration never measured
}


def held_out_errors(
    items: Sequence[Observation], progress: Callable[[str], None] | None = None, fold: str = "hardware"
) -> list[tuple[Observation, float]]:
    """Each observation's log(measured / predicted) from a fit that never saw its ``fold`` (a key of FOLDS)."""
    key = FOLDS[fold]
    found = []
    groups = sorted({key(item) for item in items})
    for index, left_out in enumerate(groups):
        if progress:
            progress(f"held-out fit {index + 1}/{len(groups)} ({fold}): {left_out[:60]}")
        training = [item for item in items if key(item) != left_out]
        tested = [item for item in items if key(item) == left_out]
        pooled = fit(training) if any(item.metric in TIMING_METRICS for item in training) else None
        chooser = fitted_chooser(pooled) if pooled else None
        errors = -Batch(tested).log_errors(chooser)
        found += list(zip(tested, errors.tolist()))
    return found


def interval_fold(items: Sequence[Observation]) -> str:
    """Intervals come from leave-one-source-out errors, or leave-one-hardware-out when there is one source."""
    return "source" if len({FOLDS["source"](item) for item in items}) > 1 else "hardware"


def calibrate(
    items: Sequence[Observation],
    tags: dict | None = None,
    n_records: int | None = None,
    progress: Callable[[str], None] | None = None,
    quarantined: Sequence[dict] = (),
) -> Bundle:
    """A bundle: coefficients fitted on every observation, intervals from held-out errors.

    ``quarantined``: the records set aside before the fit ({run_id, reason}), kept in the bundle.
    """
    pooled = fit(items)
    fold = interval_fold(items)
    by_family: dict[str, list[float]] = {}
    for item, error in held_out_errors(items, progress, fold):
        by_family.setdefault(FAMILIES[item.metric], []).append(error)
        if item.metric in TIMING_METRICS:
            by_family.setdefault("all", []).append(error)
    residuals = {family: sorted(errors) for family, errors in by_family.items()}
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "coefficients": pooled,
        "residuals": residuals,
        "n_records": n_records or len({i.run_id for i in items}),
        "n_observations": len(items),
        "tags": tags or {},
        "quarantined": list(quarantined),
        "held_out_by": fold,
    }
    bundle_id = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return Bundle(**body, created_utc=created, bundle_id=bundle_id)
