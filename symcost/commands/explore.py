"""``symcost explore``: the Pareto front of a pack's outputs over its knobs, under constraints."""

from __future__ import annotations

import argparse
import sys

from .common import add_axes, add_cluster, add_input_files, bounded_int

EXHAUSTIVE_LIMIT = 1_000_000  # nsga2 compares with the exhaustive front up to this many designs


def register(commands) -> None:
    parser = commands.add_parser(
        "explore",
        help="the Pareto-optimal designs over every knob (symbolic or structural), under constraints",
        description="Evaluates every design of the axes' grid (streamed in chunks; memory bounded by the front) "
        "and keeps the feasible non-dominated ones. An axis the pack keeps symbolic is varied inside "
        "one compiled evaluator; any other (a component choice, a schedule) compiles one variant per value.",
    )
    add_input_files(parser, required=True, pack_inputs=True)
    add_axes(parser, required=True)
    parser.add_argument(
        "--objective",
        action="append",
        required=True,
        metavar="min:OUTPUT|max:OUTPUT",
        help="an output to minimise or maximise (at least two)",
    )
    parser.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="OUTPUT<=VALUE",
        help="a bound on an output, a unit allowed: 'area.on_chip<=800 mm^2' (repeatable; also >=)",
    )
    parser.add_argument(
        "--column", action="append", default=[], metavar="OUTPUT", help="another output to write (repeatable)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="the front as CSV, or Parquet if it ends in .parquet")
    parser.add_argument("--plot", metavar="FILE", help="the front as a figure (.png, .svg, .pdf)")
    parser.add_argument(
        "--search",
        choices=("grid", "nsga2"),
        default="grid",
        help="grid: every design, streamed (default); nsga2: pymoo's NSGA-II for grids too large "
        "to enumerate (needs symcost[explore])",
    )
    parser.add_argument("--budget", type=bounded_int(10, 10**9), metavar="N", help="nsga2: designs to evaluate")
    parser.add_argument(
        "--seed", type=bounded_int(0, 2**31), default=1, metavar="S", help="nsga2: random seed (default 1)"
    )
    add_cluster(parser)
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="designs done, rate and time left on stderr (default: when stderr is a terminal)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..design_space import design_space
    from ..explore import explore_grid, write_front
    from ..figure_files import figure_format
    from ..input_tree import read_inputs, with_settings
    from ..pareto import parse_objective
    from ..sweep import parse_axis
    from .common import ROLES

    objectives = [parse_objective(text) for text in args.objective]
    if args.plot:
        figure_format(args.plot)  # a bad suffix fails before any work
    mounted = [(role, getattr(args, role)) for role in ROLES if getattr(args, role)]
    tree = with_settings(read_inputs(args.input, mounted), args.settings)
    space = design_space(args.pack or "selfspec", tree, [parse_axis(text) for text in args.axis], args.library_path)
    progress = sys.stderr if (sys.stderr.isatty() if args.progress is None else args.progress) else None
    if args.search == "nsga2":
        found = _nsga2(args, space, objectives, progress)
    elif args.cluster:
        found = _on_cluster(args, space, objectives, progress)
        _summary(found)
    else:
        found = explore_grid(space, objectives, args.constraint, args.column, progress=progress)
        _summary(found)
    if args.output:
        write_front(found, args.output)
        print(f"wrote {found.front.size:,} design{'' if found.front.size == 1 else 's'} to {args.output}")
    if args.plot:
        _plot(found, args)
    return 0 if found.front.size else 1


def _summary(found) -> None:
    front = found.front
    variants = sum(1 for _ in found.space.variants())
    print(
        f"evaluated {front.evaluated:,} designs ({variants} compiled variant{'s' if variants > 1 else ''}), "
        f"{front.feasible:,} feasible, {front.size:,} on the front"
    )
    for objective, design in found.extremes().items() if front.size else ():
        units = found.units or {}
        cells = ", ".join(f"{name} = {_cell(value)}{_unit(units.get(name))}" for name, value in design.items())
        print(f"  best {objective}: {cells}")


def _nsga2(args: argparse.Namespace, space, objectives, progress):
    """NSGA-II within the budget; its front's hypervolume against the exhaustive front when the grid is small."""
    from ..errors import SymcostError
    from ..explore import explore_grid, hypervolume_ratio
    from ..explore_nsga import explore_nsga2

    if args.budget is None:
        raise SymcostError("--search nsga2 needs --budget N (designs to evaluate)")
    found = explore_nsga2(
        space, objectives, args.constraint, args.column, budget=args.budget, seed=args.seed, progress=progress
    )
    _summary(found)
    if space.size <= EXHAUSTIVE_LIMIT and found.front.size:
        exhaustive = explore_grid(space, objectives, args.constraint, args.column)
        print(
            f"hypervolume: {hypervolume_ratio(found, exhaustive):.4f} of the exhaustive front's "
            f"({exhaustive.front.size} designs, {space.size:,} evaluated)"
        )
    else:
        print(f"hypervolume against the exhaustive front: not computed ({space.size:,} designs > {EXHAUSTIVE_LIMIT:,})")
    return found


def _on_cluster(args: argparse.Namespace, space, objectives, progress):
    """The grid on Dask: each task keeps its own front on its worker; the driver merges the fronts."""
    from ..distributed import cluster_client, compile_variants, explore_fronts
    from ..explore import ExploreSetup

    setup = ExploreSetup(space, objectives, args.constraint, args.column)
    with cluster_client(args.cluster) as client:
        shipped = compile_variants(client, space, setup.outputs)
        setup.on_model(shipped[0])
        explore_fronts(client, space, shipped, setup, progress, args.task_points)
    return setup.result()


def _cell(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _unit(unit: str | None) -> str:
    return f" {unit}" if unit and unit != "1" else ""


def _plot(found, args: argparse.Namespace) -> None:
    from ..figure_files import write_figure
    from ..plot import front_figure

    objectives = [(objective.name, objective.sense, found.units[objective.name]) for objective in found.objectives]
    write_figure(args.plot, lambda: front_figure(found.front.ordered(), objectives))
    print(f"wrote {args.plot}")
