"""The subcommands of ``symcost``: one module each, registered in ``COMMANDS``.

A command module has ``register(commands)``, which adds its parser to the
``argparse`` sub-parsers and sets ``run`` (args -> exit code). Modules import
the library lazily inside ``run`` so that ``symcost --help`` stays fast.
The generic verbs are here; each pack's own verbs live in its package.
"""

from ..packs.cascade import commands as cascade
from ..packs.llm import commands as llm
from ..packs.selfspec.commands import batch_inputs, k_sweep, optimize_k
from ..packs.spatten import commands as spatten
from . import audit, breakeven, explore, plot, report, sensitivity, serve, sweep, validate

COMMANDS = (
    validate,
    report,
    sweep,
    explore,
    plot,
    breakeven,
    sensitivity,
    optimize_k,
    spatten,
    cascade,
    audit,
    k_sweep,
    batch_inputs,
    llm,
    serve,
)
