"""``symcost batch-inputs``: a k-sweep per functional-simulator result file, with summary tables (as ppa-batch-inputs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ....commands.common import add_library_path, positive_int


def register(commands) -> None:
    parser = commands.add_parser(
        "batch-inputs",
        help="k-sweep every functional-simulator result file of a folder; "
        "summary tables in JSON and Markdown (the reference's ppa-batch-inputs)",
    )
    parser.add_argument(
        "--inputs-dir",
        type=Path,
        default=Path("inputs"),
        help="folder of simulator K-sweep result files, *.json (default: inputs)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("out") / "batch_inputs",
        help="folder for one report per input and the summaries (default: out/batch_inputs)",
    )
    parser.add_argument(
        "--hardware-template",
        type=Path,
        default=Path("examples") / "hardware_soc_area.yaml",
        help="knob-based hardware file the runs' ADC knobs are applied to (default: examples/hardware_soc_area.yaml)",
    )
    parser.add_argument(
        "--force-verify-adc-bits",
        type=positive_int,
        default=None,
        metavar="BITS",
        help="verify (residual) ADC bits for every run instead of each file's value",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path("examples"),
        help="folder with model_qwen3_0p6b.yaml, model_qwen3_1p7b.yaml, model_llama3_2_1b.yaml (default: examples)",
    )
    add_library_path(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ....errors import InputError, InputIssue
    from ..compat.batch import BatchRunner

    if not args.inputs_dir.is_dir():
        raise InputError([InputIssue(str(args.inputs_dir), "<folder>", "inputs folder not found")])
    runner = BatchRunner(args.hardware_template, args.models_dir, args.force_verify_adc_bits, args.library_path)
    summary = runner.run(args.inputs_dir, args.output_dir)
    print(f"processed {summary.files} input files")
    print(f"wrote outputs to {args.output_dir}")
    print(f"summary table: {args.output_dir / 'summary.md'}")
    return 0
