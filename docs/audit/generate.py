"""Regenerate the committed audit documents of the bundled examples: ``make audit-docs``
(or ``python docs/audit/generate.py [--pdf]`` from the repository root).

tests/core/test_audit.py checks that the committed files match what this script writes.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EXAMPLES = {
    "llama2_7b_soc_pipelined_k4": ("examples/model_llama2_7b.yaml", "examples/hardware_soc_pipelined.yaml",
                                   "examples/stats_k4.yaml"),
    "tiny_knobs_geometric": ("examples/model_tiny.yaml", "examples/hardware_knobs.yaml",
                             "examples/stats_geometric.yaml"),
}
SUFFIXES = {"latex": ".tex", "markdown": ".md"}
PDF_LIMIT = 1_000_000  # bytes: larger PDFs are not committed


def example_paths(name: str) -> list[Path]:
    return [ROOT / path for path in EXAMPLES[name]]


def render_model(model) -> dict[str, str]:
    """The audit of a built cost model in every format, keyed by file suffix."""
    from symcost.audit import render
    from symcost.packs.selfspec.audit import model_audit

    document = model_audit(model)
    return {suffix: render(document, chosen) for chosen, suffix in SUFFIXES.items()}


def compile_pdf(tex: Path, target: Path) -> None:
    """Two pdflatex passes (longtable settles its column widths in the second)."""
    with tempfile.TemporaryDirectory() as build:
        for _ in range(2):
            subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"-output-directory={build}",
                            str(tex)], check=True, capture_output=True)
        shutil.copy(Path(build) / f"{tex.stem}.pdf", target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pdf", action="store_true", help=f"also compile PDFs (kept when under {PDF_LIMIT:,} bytes)")
    args = parser.parse_args()
    from symcost import build_model

    for name in EXAMPLES:
        for suffix, text in render_model(build_model(*example_paths(name))).items():
            (HERE / f"{name}{suffix}").write_text(text, encoding="utf-8")
            print(f"wrote docs/audit/{name}{suffix}")
        if args.pdf:
            pdf = HERE / f"{name}.pdf"
            compile_pdf(HERE / f"{name}.tex", pdf)
            size = pdf.stat().st_size
            if size > PDF_LIMIT:
                pdf.unlink()
            print(f"{'wrote' if size <= PDF_LIMIT else 'dropped (too large)'} docs/audit/{name}.pdf ({size:,} bytes)")


if __name__ == "__main__":
    main()
