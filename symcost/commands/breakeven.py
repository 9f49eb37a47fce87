"""``symcost breakeven``: where speculation (or attention) stops paying, solved analytically."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys

from ..finite import json_text
from .common import (
    add_input_files,
    add_point_options,
    build_from_args,
    build_pack_from_args,
    number_range,
    point_values,
    uses_pack_inputs,
)


def register(commands) -> None:
    parser = commands.add_parser(
        "breakeven",
        help="solve where two per-token costs meet, for the prompt length or any coefficient",
        description="For each comparison (speculative vs baseline, and the pack's, e.g. attention vs linear) and "
        "quantity (energy, latency), print the equation on the piece that holds the crossing, its "
        "closed-form solution and its value.",
    )
    add_input_files(parser, required=True, pack_inputs=True)
    parser.add_argument(
        "--solve-for",
        default="L_prompt",
        metavar="NAME",
        help="L_prompt (default) or a coefficient, by pack symbol (e_AD) or input field "
        "(adc_draft.energy_pj_per_conversion)",
    )
    parser.add_argument(
        "--between",
        nargs=2,
        metavar=("A", "B"),
        help="any pack: the two outputs (terms or quantities) whose crossing is solved for",
    )
    add_point_options(parser)
    parser.add_argument(
        "--range",
        type=number_range,
        metavar="LOW:HIGH",
        help="any pack: search the unknown over this range (default: 1e-6 to 1e6 times its value)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="json: the same as --json")
    parser.add_argument(
        "--prompt-length", type=int, metavar="L", help="prompt length at which a coefficient is solved for"
    )
    parser.add_argument("--comparison", action="append", metavar="NAME", help="only this comparison (repeatable)")
    parser.add_argument("--quantity", choices=("energy", "latency"), action="append", help="only this quantity")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SymcostError

    if args.between or uses_pack_inputs(args):
        return _run_pack(args)

    solving_for_coefficient = args.solve_for != "L_prompt"
    if solving_for_coefficient and args.prompt_length is None:
        raise SymcostError(f"--solve-for {args.solve_for} needs --prompt-length L")
    model = build_from_args(args, keep=[args.solve_for] if solving_for_coefficient else [])
    # Solving needs the closed forms (SymPy); the printed answers are remembered in the evaluator cache entry,
    # whose key covers the documents and the kept unknown, by the options that select and shape them.
    options = [
        args.prompt_length,
        sorted(args.comparison or ()),
        sorted(args.quantity or ()),
        bool(args.json or args.format == "json"),
    ]
    name = "breakeven_" + hashlib.sha256(json.dumps(options).encode()).hexdigest()[:16]
    sys.stdout.write(model.remember(name, lambda: _answers_text(model, args)))
    return 0


def _answers_text(model, args: argparse.Namespace) -> str:
    with contextlib.redirect_stdout(io.StringIO()) as text:
        _print_answers(model, args)
    return text.getvalue()


def _print_answers(model, args: argparse.Namespace) -> None:
    from ..errors import SymcostError
    from ..packs.selfspec.breakeven import QUANTITIES, find_break_even

    unknown = model.kept[0] if args.solve_for != "L_prompt" else "L_prompt"
    found = find_break_even(model, unknown, prompt_length=args.prompt_length)
    unknown_comparisons = set(args.comparison or ()) - set(found)
    if unknown_comparisons:
        raise SymcostError(
            f"unknown comparison {', '.join(sorted(unknown_comparisons))}; this model has {', '.join(found)}"
        )
    selected = [
        (comparison, quantity, answer)
        for comparison, by_quantity in found.items()
        for quantity, answer in by_quantity.items()
        if (not args.comparison or comparison in args.comparison) and (not args.quantity or quantity in args.quantity)
    ]
    if args.json or args.format == "json":
        print(json_text({f"{comparison}.{quantity}": answer.as_json() for comparison, quantity, answer in selected}))
        return
    for comparison, quantity, answer in selected:
        _print_answer(comparison, quantity, answer, QUANTITIES[quantity])


def _print_answer(comparison: str, quantity: str, answer, unit: str) -> None:
    """One answer as text: the crossing in the unit the unknown is given in; the equation, solved in SI."""
    print(f"{comparison} / {quantity}: {answer.verdict}")
    print(f"  {answer.description}")
    si = "" if answer.si_unit == "1" else f" {answer.si_unit}"
    given = f" ({answer.unknown} in {answer.si_unit})" if si else ""
    print(
        f"  equation in {unit} per committed token{given}, on the piece at {answer.unknown} = {answer.shown_at:.6g}{si}:"
    )
    print(f"    {answer.equation_text}")
    print(f"    LaTeX: {answer.equation_latex}")
    if answer.solution_latex:
        in_unit = f" = {answer.shown(answer.value)}" if answer.unit.text != answer.si_unit else ""
        print(f"  solution: {answer.solution_latex}{si}{in_unit}")


def _run_pack(args: argparse.Namespace) -> int:
    """Any pack: where two outputs meet as one symbol varies, the others at their input values."""
    from ..errors import SymcostError
    from ..pack_analysis import break_even

    if not args.between:
        raise SymcostError("give --between A B: the two outputs whose crossing to solve for")
    model, _tree = build_pack_from_args(args, vary=[args.solve_for, *point_values(args)])
    found = break_even(model, *args.between, args.solve_for, at=point_values(args), domain=args.range)
    if args.format == "json" or args.json:
        print(json_text(found))
        return 0
    unit = "" if found["domain"]["unit"] == "1" else f" {found['domain']['unit']}"
    values = ", ".join(f"{crossing['value']:.6g}{unit}" for crossing in found["crossings"]) or "none"
    print(f"{found['verdict']}: {args.solve_for} = {values}")
    print(
        f"  equation (SI) on the piece at {args.solve_for} = {found['equation_piece_at']['value']:.6g}{unit}: "
        f"{found['equation']}"
    )
    domain = found["domain"]
    print(f"  searched {args.solve_for} from {domain['from']:.6g} to {domain['to']:.6g}{unit}")
    return 0
