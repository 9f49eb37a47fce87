"""Cascade reports: JSON-ready dicts and readable tables for ``symcost cascade report`` and ``check``.

Every number in the JSON is in SI units (s, B, B/s) and every input carries
its provenance; the tables print the same numbers with SI prefixes.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict

from ... import __version__
from ...units import format_si
from .claims import ClaimResult
from .model import CascadeModel
from .placement import LevelFit
from .search import DesignSearch, Horizons

# A bound claim (stated >= or <= a recomputed bound) shows the bound as a minimum or maximum.
_BOUND = {"==": "", ">=": "min ", "<=": "max "}


def build_report(model: CascadeModel, fits: tuple[LevelFit, ...], design: DesignSearch) -> dict:
    figures = model.figures()
    return {
        **_header(model),
        "feasible": all(fit.fits for fit in fits),
        "placement": [{**asdict(fit), "fits": fit.fits} for fit in fits],
        "figures": {name: {"value": value, "unit": model.units[name]} for name, value in figures.items()},
        "design": {**asdict(design), "rule_holds": design.rule_holds},
        "inputs": {
            symbol.name: {"value": value, "provenance": model.provenance[symbol]}
            for symbol, value in model.values.items()
        },
    }


def build_check(model: CascadeModel, results: list[ClaimResult]) -> dict:
    return {
        **_header(model),
        "claims": [_claim_json(result) for result in results],
        "inconsistent": sum(not result.consistent for result in results),
    }


def _header(model: CascadeModel) -> dict:
    path = model.config.path
    return {
        "symcost_version": __version__,
        "pack": {"name": model.pack.name, "version": model.pack.version},
        "input": {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        "cascade": model.config.name,
        "stages": [
            {"name": stage.name, "model": stage.model, "level": stage.placement.level, "shards": stage.placement.shards}
            for stage in model.config.stages
        ],
    }


def _claim_json(result: ClaimResult) -> dict:
    claim = result.claim
    return {
        "id": claim.id,
        "figure": claim.figure,
        "where": claim.where,
        "stated": claim.stated,
        "stated_si": result.stated.value,
        "relation": claim.relation,
        "tolerance_si": result.stated.tolerance,
        "recomputed_si": result.recomputed,
        "consistent": result.consistent,
        "assumptions": claim.assume.label or None,
        "note": claim.note,
    }


def format_report(model: CascadeModel, fits: tuple[LevelFit, ...], design: DesignSearch) -> str:
    figures = model.figures()
    lines = [
        f"{model.config.name} ({model.config.label}), {len(model.config.stages)} stages",
        "",
        f"{'stage':<10} {'level':<6} {'W':>9} {'W/BW':>10} {'T':>10} {'E[N]':>8} {'seed cost':>10} "
        f"{'T share':>8} {'E_accept':>8} {'t/token':>10}",
    ]
    for stage in model.config.stages:
        value = functools.partial(_stage_figure, figures, stage.name)
        accepted = f"{value('E_accept'):.4g}" if value("E_accept") is not None else "-"
        lines.append(
            f"{stage.name:<10} {stage.placement.level:<6} {format_si(value('W'), 'B'):>9} "
            f"{format_si(value('stream_time'), 's'):>10} {format_si(stage.compute_time_ns * 1e-9, 's'):>10} "
            f"{value('N'):>8.4g} {format_si(value('stage_cost'), 's'):>10} {value('time_share'):>8.1%} "
            f"{accepted:>8} {format_si(value('t_token'), 's'):>10}"
        )
    lines += ["", "memory levels (usage per unit of capacity):"]
    for fit in fits:
        verdict = "fits" if fit.fits else "DOES NOT FIT"
        lines.append(
            f"  {fit.name:<6} {format_si(fit.usage, 'B')} of {format_si(fit.capacity, 'B')} per {fit.per} "
            f"({fit.units} {fit.per}{'s' if fit.units != 1 else ''}): {fit.utilisation:.1%}  {verdict}"
        )
        lines += [f"    {problem}" for problem in fit.problems]
    cascade = lambda name: figures[f"cascade.{name}"]  # noqa: E731
    lines += [
        "",
        f"seed equations: gamma_total = {cascade('gamma_total'):.4g}, C_total = "
        f"{format_si(cascade('C_total'), 's')} per iteration, speedup = {cascade('speedup_seed'):.4g} "
        f"(T_baseline = the target's W/BW + T = {format_si(cascade('T_baseline'), 's')})",
        f"staged speculative decoding: {cascade('tokens_per_iteration'):.4g} tokens per target iteration, "
        f"{format_si(cascade('time_per_token'), 's')} per token, speedup {cascade('speedup_standard'):.4g}",
        "",
    ] + format_design(design)
    return "\n".join(lines)


def format_design(design: DesignSearch) -> list[str]:
    best = ", ".join(
        f"K_{index} = {stage.horizon}" + (f" (continuous {stage.continuous:.3g})" if stage.continuous else "")
        for index, stage in enumerate(design.stages)
    )
    lines = [
        f"design, staged speculative decoding (K in 1..{design.k_max}): optimal {best}: "
        f"{format_si(design.optimum.time_per_token, 's')} per token, speedup {design.optimum.speedup:.4g}",
        f"  as given {_horizons(design.as_given)}: speedup {design.as_given.speedup:.4g}",
    ]
    if design.rule is not None:
        lines.append(
            f"  best with K_0 = {design.ratio} K_1: {_horizons(design.rule)}, speedup {design.rule.speedup:.4g}; "
            f"the optimum {'satisfies' if design.rule_holds else 'does not satisfy'} the rule"
        )
    seed = design.seed
    cost = f"C_total depends on {', '.join(seed.cost_horizons) or 'no horizon'}" + (
        f" and is proportional to K_0 ({format_si(seed.cost_slope, 's')} per unit of K_0)"
        if seed.cost_proportional
        else ""
    )
    speedup = ", ".join(seed.speedup_horizons) or "no horizon"
    lines.append(
        f"design, seed equations: {cost}; their speedup depends on {speedup}: no optimal horizon, "
        "so no ratio of horizons follows from them"
    )
    return lines


def _horizons(found: Horizons) -> str:
    return "K = (" + ", ".join(map(str, found.horizons)) + ")"


def format_check(results: list[ClaimResult]) -> str:
    width = max((len(result.claim.id) for result in results), default=5)
    lines = [f"{'claim':<{width}} {'stated':>10} {'recomputed':>15}  verdict       assumptions / note"]
    for result in results:
        recomputed = _BOUND[result.claim.relation] + result.recomputed_text
        verdict = "consistent" if result.consistent else "INCONSISTENT"
        comment = "; ".join(part for part in (result.claim.assume.label, result.claim.note) if part)
        lines.append(f"{result.claim.id:<{width}} {result.stated_text:>10} {recomputed:>15}  {verdict:<13} {comment}")
    inconsistent = sum(not result.consistent for result in results)
    lines += ["", f"{inconsistent} of {len(results)} claims inconsistent"]
    return "\n".join(lines)


def _stage_figure(figures: dict, stage: str, name: str) -> float | None:
    return figures.get(f"stage.{stage}.{name}")
