"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SymcostError
from ..finite import json_text
from ..size_limits import MAX_PROMPT_LENGTH, MAX_REPORT_POINTS

if TYPE_CHECKING:
    from ..audit import LoadedDocument
    from ..packs.selfspec.model import Build


ROLES = ("model", "hardware", "stats")


def add_input_files(parser: argparse.ArgumentParser, *, required: bool, pack_inputs: bool = False) -> None:
    """The selfspec pack's three input files and the library search path; with ``pack_inputs``, also
    ``--pack``, ``--input`` and ``--set`` for any pack (the three files are then aliases of ``--input ROLE=FILE``)."""
    alias = " (--input model=FILE)" if pack_inputs else ""
    parser.add_argument("--model", required=required and not pack_inputs, help=f"model file (YAML){alias}")
    parser.add_argument(
        "--hardware",
        required=required and not pack_inputs,
        help=f"hardware file (YAML){alias.replace('model', 'hardware')}",
    )
    parser.add_argument(
        "--stats",
        required=required and not pack_inputs,
        help=f"speculation stats file (JSON or YAML){alias.replace('model', 'stats')}",
    )
    if pack_inputs:
        parser.add_argument(
            "--pack",
            metavar="PACK",
            help="formula pack: a packaged name (selfspec, llm, spatten, cascade) or a pack file (default selfspec)",
        )
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="[NAME=]FILE",
            help="YAML/JSON document merged into the inputs, or mounted under NAME (repeatable)",
        )
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            dest="settings",
            metavar="PATH=VALUE",
            help="override one input value, a unit allowed: --set gpu.mem_bw='2 TB/s' (repeatable)",
        )
    add_library_path(parser)


def add_axes(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--axis",
        action="append",
        default=[],
        required=required,
        metavar="NAME=SPEC",
        help="values of an axis or of any bound symbol (by symbol or input path): START:STOP "
        "(integers), START:STOP:N, START:STOP:logN or V1,V2,... (repeatable)",
    )


def add_cluster(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cluster",
        metavar="local:N|tcp://HOST:PORT",
        help="run on Dask: a local cluster of N worker processes, or a running scheduler "
        "(needs symcost[dask]; results are identical to a run without)",
    )
    parser.add_argument(
        "--task-points",
        type=_task_points,
        default=200_000,
        metavar="N",
        help="points per cluster task, a multiple of 20,000 (default 200,000)",
    )


def _task_points(text: str) -> int:
    value = bounded_int(20_000, 10**9)(text)
    if value % 20_000:
        # A task evaluates its points in the local run's chunks of 20,000, so results stay bitwise identical.
        raise argparse.ArgumentTypeError(f"expected a multiple of 20,000, got {_short(text)}")
    return value


def add_point_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="SYMBOL=VALUE",
        help="any pack: the value of an axis or input at which to work (repeatable; default: the inputs' values)",
    )


def point_values(args: argparse.Namespace) -> dict[str, float]:
    """``--at SYMBOL=VALUE`` options as {symbol: value}."""
    values = {}
    for text in args.at:
        name, separator, number = text.partition("=")
        try:
            values[name.strip()] = float(number)
        except ValueError:
            separator = ""
        if not separator or not name.strip():
            raise SymcostError(f"--at {text!r}: expected SYMBOL=NUMBER")
    return values


def number_range(text: str) -> tuple[float, float]:
    low, separator, high = text.partition(":")
    try:
        return float(low), float(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH, got {_short(text)}") from None


def uses_pack_inputs(args: argparse.Namespace) -> bool:
    """Whether a command runs through the pack protocol (a pack other than selfspec, --input or --set)
    rather than the selfspec pack's own commands."""
    return bool(getattr(args, "input", None) or getattr(args, "settings", None)) or getattr(args, "pack", None) not in (
        None,
        "selfspec",
    )


def build_pack_from_args(args: argparse.Namespace, vary=()):
    """The pack's model bound to ``--input``/``--set`` (and the selfspec aliases), and the input tree."""
    from ..input_tree import read_inputs, with_settings
    from ..registry import build_pack_model

    mounted = [(role, getattr(args, role)) for role in ROLES if getattr(args, role, None)]
    tree = with_settings(read_inputs(args.input, mounted), args.settings)
    return build_pack_model(args.pack or "selfspec", tree, vary, library_path=args.library_path), tree


def pack_columns(model) -> list[str]:
    """The outputs a pack's table and sweep show by default: its quantities, then its reductions (those the
    model offers under these names); every output where it offers none (the cascade's per-stage figures)."""
    names = [quantity.name for quantity in model.pack.quantities] + [
        reduction.name for reduction in model.pack.reductions
    ]
    return [name for name in dict.fromkeys(names) if name in model.output_names] or list(model.output_names)


def add_library_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--library-path",
        action="append",
        default=[],
        metavar="FILE",
        help="extra component-library file searched before the packaged one (repeatable; also SYMCOST_LIBRARY_PATH)",
    )


def build_from_args(args: argparse.Namespace, **options):
    """The selfspec cost model named by the input-file options (``options`` go to ``build_model``)."""
    from ..packs.selfspec.model import build_model

    missing = [f"--{role}" for role in ROLES if not getattr(args, role)]
    if missing:
        raise SymcostError(f"give {', '.join(missing)} (the selfspec pack's documents), or --pack PACK --input FILE")

    return build_model(*_model_arguments(args), library_path=args.library_path, **options)


def planned_build(args: argparse.Namespace) -> Build:
    """The build :func:`build_from_args` would run, worked out first, for a command that asks whether it is cached."""
    from ..packs.selfspec.model import Build

    return Build.of(*_model_arguments(args), library_path=args.library_path)


def _model_arguments(args: argparse.Namespace) -> tuple:
    """The model, hardware and stats files the options name, in build_model's order."""
    return args.model, args.hardware, args.stats


def int_list(text: str) -> list[int]:
    parts = [part for part in text.split(",") if part.strip()]
    _check_prompt_count(len(parts))
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 128,512,2048, got {_short(text)}"
        ) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative prompt lengths, got {_short(text)}")
    _check_prompt_length(max(values))
    return values


def int_range(text: str) -> list[int]:
    parts = text.split(":")
    if len(parts) == 3 and parts[2].startswith("log"):
        return log_range(text)
    try:
        start, stop, step = (int(part) for part in (parts + ["1"])[:3]) if len(parts) in (2, 3) else (None, None, None)
    except ValueError:
        start = None
    if start is None or start < 0 or step <= 0 or stop <= start:
        raise argparse.ArgumentTypeError(
            f"expected START:STOP[:STEP] with 0 <= START < STOP and STEP > 0, got {_short(text)}"
        )
    _check_prompt_length(stop - 1)
    _check_prompt_count(len(range(start, stop, step)))
    return list(range(start, stop, step))


def log_range(text: str) -> list[int]:
    """START:STOP:logN: N log-spaced prompt lengths, START and STOP included (fewer where they round alike)."""
    start_text, stop_text, count_text = text.split(":")
    try:
        start, stop, count = int(start_text), int(stop_text), int(count_text[len("log") :])
    except ValueError:
        start = None
    if start is None or not 0 < start < stop or count < 2:
        raise argparse.ArgumentTypeError(
            f"expected START:STOP:logN with 0 < START < STOP and N >= 2, got {_short(text)}"
        )
    _check_prompt_length(stop)
    _check_prompt_count(count)
    return sorted({round(start * (stop / start) ** (index / (count - 1))) for index in range(count)})


def _check_prompt_count(count: int) -> None:
    if count > MAX_REPORT_POINTS:
        raise argparse.ArgumentTypeError(
            f"{count:,} prompt lengths are more than the {MAX_REPORT_POINTS:,} one command "
            "holds in memory; `symcost sweep` streams larger grids to a file"
        )


def _check_prompt_length(length: int) -> None:
    if length > MAX_PROMPT_LENGTH:
        raise argparse.ArgumentTypeError(f"prompt length {length:,} is above the limit of {MAX_PROMPT_LENGTH:,} tokens")


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def add_prompt_lengths(
    parser: argparse.ArgumentParser, default: str = "128,512,2048", *, computed_default: str | None = None
) -> None:
    """The prompt-length options. A command whose default depends on the model describes it in
    ``computed_default``; ``prompt_lengths`` then gives [] when no option is used."""
    lengths = parser.add_mutually_exclusive_group()
    # nargs: the reference calculator's space-separated form (64 128 256) works as well as 64,128,256
    lengths.add_argument(
        "--prompt-lengths",
        type=int_list,
        nargs="+",
        metavar="L1,L2,...",
        help=f"prompt lengths, comma- or space-separated (default {computed_default or default})",
    )
    lengths.add_argument(
        "--prompt-range",
        type=int_range,
        metavar="START:STOP:STEP",
        help="prompt lengths START..STOP-1 by STEP, or START:STOP:logN for N log-spaced ones up to STOP",
    )
    parser.set_defaults(default_prompt_lengths=[] if computed_default else int_list(default))


def prompt_lengths(args: argparse.Namespace) -> list[int]:
    if args.prompt_lengths:
        return [length for group in args.prompt_lengths for length in group]
    return args.prompt_range or args.default_prompt_lengths


def write_json_output(payload: dict, output: str | None, note=None) -> None:
    """JSON (sorted keys, as the reference calculator writes it) to ``output``, or to stdout without one.

    ``note``: where "wrote FILE" goes (stdout by default; stderr when stdout carries the answer itself).
    """
    text = json_text(payload, sort_keys=True)
    if output is None:
        print(text)
        return
    try:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise SymcostError(f"cannot write {output}: {error.strerror or error}") from None
    print(f"wrote {output}", file=note or sys.stdout)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {_short(text)}")
    return value


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``low..high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer in {low}..{high:,}, got {_short(text)}")
        return value

    parse.__name__ = f"integer in {low}..{high}"  # argparse names the type in its own messages
    return parse


def emit_audit(
    args: argparse.Namespace,
    document_of: Callable[[], LoadedDocument],
    remember: Callable[[str, Callable[[], str]], str] | None = None,
) -> int:
    """The audit document ``document_of()`` builds, rendered in the format asked for (``--format``, else
    the ``-o`` file's suffix), to ``-o`` or stdout. The format is checked before the document is built.
    ``remember(format, render)`` may keep the rendered text (in the evaluator cache)."""
    chosen = args.format or (_audit_format(Path(args.output)) if args.output else None)
    if chosen is None:
        raise SymcostError("give --format latex or --format markdown (or an -o file ending in .tex or .md)")
    text = (remember or (lambda _, compute: compute()))(chosen, lambda: _rendered(document_of(), chosen))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({chosen}, {len(text):,} characters)")
    else:
        sys.stdout.write(text)
    return 0


# symcost.audit imports SymPy: only a run that renders (not one that finds the text remembered) pays for it.
def _audit_format(output: Path) -> str | None:
    from ..audit import SUFFIXES

    return SUFFIXES.get(output.suffix.lower())


def _rendered(document: LoadedDocument, chosen: str) -> str:
    from ..audit import render

    return render(document, chosen)
