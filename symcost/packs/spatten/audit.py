"""The audit document of a SpAtten configuration.

:func:`symcost.audit.pack_audit` gives the pack's symbols (here with this
configuration's values and provenance), macros, terms and quantities; this
module adds what symcost.packs.spatten makes of them: the token count of every
layer, the expectation that turns the per-layer formulas into closed-form
expected values, and each metric's exact mean and standard deviation.
"""

from __future__ import annotations

from ...audit import AuditDocument, pack_audit
from ...audit.document import Block, Code, Heading, Math, Paragraph, Table
from ...audit.mathtex import AuditPrinter, MathLayout
from ...audit.sections import symbol_names
from .expectation import Moments
from .model import LayerModel

DIGITS = 6
EXPECTATION = (
    r"\sum_{\ell=1}^{L} \sum_{t=0}^{K_\ell} \binom{K_\ell}{t} R^{t} (1 - R)^{K_\ell - t}"
    r"\, x_\ell\left(t_{\mathrm{p}} = t\right)"
)


def spatten_audit(model: LayerModel, exact: Moments) -> AuditDocument:
    config = model.config
    blocks = _token_flow(model) + _expected_values(model, exact)
    audit = pack_audit(model.pack, values=model.values, inputs=[config.path], extra=blocks)
    return AuditDocument(f"SpAtten lookahead audit: {config.name}", audit.version_line, audit.blocks)


def _token_flow(model: LayerModel) -> list[Block]:
    """The configuration's tokens layer by layer."""
    return [
        Heading(1, f"This configuration: {model.config.name}"),
        Paragraph(
            (
                "Tokens entering each layer follow the quantity ",
                Code("kept_tokens"),
                " layer after layer in exact arithmetic; a layer keeps K tokens, which enter the next.",
            )
        ),
        Table(
            ("Layer", "Tokens N", "Kept K"),
            tuple(
                ((str(layer),), (f"{tokens:.0f}",), (f"{kept:.0f}",))
                for layer, (tokens, kept) in enumerate(zip(model.tokens, model.kept))
            ),
            (0.2, 0.4, 0.4),
        ),
    ]


def _expected_values(model: LayerModel, exact: Moments) -> list[Block]:
    """The exact expectation, the reductions' means and the network's figures at those means."""
    layout = MathLayout(AuditPrinter(symbol_names(model.pack), digits=DIGITS))
    network = model.series(exact.mean)
    return [
        Heading(2, "Expected values"),
        Paragraph(
            (
                "The only random input is each layer's true-positive count, ",
                Math(r"t_{\mathrm{p}}"),
                ", Binomial(K, R), independent between layers. The expected value of a metric built from a "
                "per-layer quantity ",
                Math(r"x_\ell"),
                " is the finite sum below (for totals; per-layer means "
                "divide it by L), exact and symbolic in P, R and every coefficient; the variances of the "
                "layers add up the same way.",
            )
        ),
        *layout.equation(r"\mathbb{E}[X]", EXPECTATION),
        Table(
            ("Reduction", "Per-layer output", "Over layers", "Exact mean", "Exact std"),
            tuple(
                (
                    (Code(reduction.name),),
                    (Code(reduction.of),),
                    (reduction.reduce,),
                    (f"{float(exact.mean[reduction.name]):.{DIGITS}g}",),
                    (f"{float(exact.std[reduction.name]):.{DIGITS}g}",),
                )
                for reduction in model.pack.reductions
            ),
            (0.3, 0.25, 0.1, 0.175, 0.175),
        ),
        Paragraph(
            (
                "Figures of the whole network are the pack's formulas over these reductions, here at their "
                "exact means (the seed's net speedup is that of the expected cycles):",
            )
        ),
        Table(
            ("Figure", "Formula", "Value"),
            tuple(
                ((Code(quantity.name),), (Code(quantity.text),), (f"{float(network[quantity.name]):.{DIGITS}g}",))
                for quantity in model.pack.quantities
                if quantity.series
            ),
            (0.3, 0.5, 0.2),
        ),
    ]
