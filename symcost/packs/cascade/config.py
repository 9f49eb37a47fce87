"""Reading a cascade file (``schemas/cascade.schema.json``) into plain data.

The schema checks types and ranges; this module checks what it cannot
express (names that must exist or be unique, fields that go together) and
reports every problem with the file, the field and what was expected.
Numbers stay in the units their fields name (bytes, GB/s, ns); the model
converts them to SI.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, replace
from pathlib import Path

from ...checked import checked_data, checked_document
from ...errors import InputError, InputIssue, SymcostError
from ...input_tree import InputTree

PRECISION_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4}


@dataclass(frozen=True)
class System:
    chips: int
    cores_per_chip: int


@dataclass(frozen=True)
class Level:
    name: str
    capacity_bytes: float
    per: str  # core | chip | system
    bandwidth_GBps: float


@dataclass(frozen=True)
class Placement:
    level: str
    shards: int = 1


@dataclass(frozen=True)
class Stage:
    name: str
    placement: Placement
    compute_time_ns: float
    acceptance: float
    speculation: int | None = None
    parameters: float | None = None
    bits_per_param: float | None = None
    precision: str | None = None
    weights_bytes: float | None = None
    model: str | None = None


@dataclass(frozen=True)
class Assumptions:
    """Changes to a cascade under which a claim's figure is recomputed."""

    weights: str = "as_given"  # or from_parameters
    placement: tuple[tuple[str, Placement], ...] = ()

    @property
    def label(self) -> str:
        parts = ["footprints from parameters x bits"] if self.weights == "from_parameters" else []
        parts += [
            f"{stage} on {p.level}" + (f" split over {p.shards}" if p.shards > 1 else "") for stage, p in self.placement
        ]
        return "; ".join(parts)


@dataclass(frozen=True)
class Claim:
    id: str
    figure: str
    stated: str | float | bool
    where: str
    path: str  # field path in the file, for error messages
    relation: str = "=="
    tolerance: str | None = None
    assume: Assumptions = Assumptions()
    note: str | None = None


@dataclass(frozen=True)
class CascadeConfig:
    name: str
    label: str
    path: Path
    system: System
    levels: tuple[Level, ...]
    stages: tuple[Stage, ...]
    claims: tuple[Claim, ...] = ()
    source: str | None = None

    def level(self, name: str) -> Level:
        return next(level for level in self.levels if level.name == name)

    def assuming(self, assumptions: Assumptions) -> CascadeConfig:
        """The same cascade with a claim's assumptions applied."""
        placements = dict(assumptions.placement)
        stages = []
        for stage in self.stages:
            if assumptions.weights == "from_parameters":
                stage = replace(stage, weights_bytes=None)
            stages.append(replace(stage, placement=placements.get(stage.name, stage.placement)))
        return replace(self, stages=tuple(stages))


def read_cascade(path: str | Path) -> CascadeConfig:
    """Load, schema-check and semantically check a cascade file."""
    document = checked_document(path, "cascade")
    return _cascade(document.data, document.label, document.path)


def cascade_from_tree(tree: InputTree) -> CascadeConfig:
    """The cascade the inputs of the generic verbs hold (``--input CASCADE``, ``--set`` applied)."""
    if not tree.files:
        raise SymcostError("pack cascade needs --input FILE: a cascade file as `symcost cascade report` reads it")
    label = tree.label
    return _cascade(checked_data(copy.deepcopy(tree.data), "cascade", label), label, tree.files[0])


def _cascade(data: dict, label: str, path: Path) -> CascadeConfig:
    config = CascadeConfig(
        name=data["cascade"],
        label=label,
        path=Path(path),
        system=System(data["system"]["chips"], data["system"].get("cores_per_chip", 1)),
        levels=tuple(
            Level(raw["name"], raw["capacity_bytes"], raw["per"], raw["bandwidth_GBps"]) for raw in data["memory"]
        ),
        stages=tuple(_stage(raw) for raw in data["stages"]),
        claims=tuple(_claim(raw, f"claims[{index}]") for index, raw in enumerate(data.get("claims", []))),
        source=data.get("source"),
    )
    issues = list(_semantic_issues(config))
    if issues:
        raise InputError(issues)
    return config


def _placement(raw: dict) -> Placement:
    return Placement(raw["level"], raw.get("shards", 1))


def _stage(raw: dict) -> Stage:
    bits = raw.get("bits_per_param", PRECISION_BITS.get(raw.get("precision")))
    return Stage(
        raw["name"],
        _placement(raw["placement"]),
        raw["compute_time_ns"],
        raw["acceptance"],
        raw.get("speculation"),
        raw.get("parameters"),
        bits,
        raw.get("precision"),
        raw.get("weights_bytes"),
        raw.get("model"),
    )


def _claim(raw: dict, path: str) -> Claim:
    assume = raw.get("assume", {})
    assumptions = Assumptions(
        assume.get("weights", "as_given"),
        tuple((stage, _placement(p)) for stage, p in assume.get("placement", {}).items()),
    )
    return Claim(
        raw["id"],
        raw["figure"],
        raw["stated"],
        raw["where"],
        path,
        raw.get("relation", "=="),
        raw.get("tolerance"),
        assumptions,
        raw.get("note"),
    )


def _semantic_issues(config: CascadeConfig):
    label = config.label
    yield from _duplicates([level.name for level in config.levels], "memory", "level", label)
    yield from _duplicates([stage.name for stage in config.stages], "stages", "stage", label)
    yield from _duplicates([claim.id for claim in config.claims], "claims", "claim id", label)
    levels = [level.name for level in config.levels]
    for index, stage in enumerate(config.stages):
        where = f"stages[{index}]"
        yield from _unknown(stage.placement.level, levels, f"{where}.placement.level", "memory level", label)
        if stage.precision and stage.bits_per_param != PRECISION_BITS[stage.precision]:
            yield InputIssue(
                label,
                f"{where}.bits_per_param",
                f"{stage.bits_per_param:g} bits contradicts precision "
                f"{stage.precision} ({PRECISION_BITS[stage.precision]} bits); give one of them",
            )
        if (stage.parameters is None) != (stage.bits_per_param is None):
            yield InputIssue(
                label, where, "parameters and a precision (or bits_per_param) go together: give both or neither"
            )
        if stage.weights_bytes is None and stage.parameters is None:
            yield InputIssue(
                label, where, "the footprint is unknown: give weights_bytes, or parameters with a precision"
            )
        if stage.speculation is None and index < len(config.stages) - 1:
            yield InputIssue(
                label,
                f"{where}.speculation",
                "required for every stage but the last (tokens it proposes per iteration of the next stage)",
            )
    for claim in config.claims:
        yield from _claim_issues(claim, config, levels, label)


def _claim_issues(claim: Claim, config: CascadeConfig, levels: list[str], label: str):
    stages = [stage.name for stage in config.stages]
    for stage, placement in claim.assume.placement:
        yield from _unknown(stage, stages, f"{claim.path}.assume.placement", "stage", label)
        yield from _unknown(
            placement.level, levels, f"{claim.path}.assume.placement.{stage}.level", "memory level", label
        )
    if claim.assume.weights == "from_parameters":
        missing = [stage.name for stage in config.stages if stage.parameters is None]
        if missing:
            yield InputIssue(
                label,
                f"{claim.path}.assume.weights",
                f"from_parameters needs parameters for every stage; missing for {', '.join(missing)}",
            )
    kind, *rest = claim.figure.split(".")
    if kind in ("stage", "level"):
        yield from _unknown(rest[0], stages if kind == "stage" else levels, f"{claim.path}.figure", kind, label)


def _duplicates(names: list[str], where: str, what: str, label: str):
    for name in sorted({name for name in names if names.count(name) > 1}):
        yield InputIssue(label, where, f"{what} {name!r} appears more than once")


def _unknown(name: str, known: list[str], where: str, what: str, label: str):
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        yield InputIssue(label, where, f"unknown {what} {name!r}{hint}")
