"""The subcommands of ``symcost``: one module each, named in ``COMMANDS``.

A command module has ``register(commands)``, which adds its parser to the
``argparse`` sub-parsers and sets ``run`` (args -> exit code). Modules import
the library lazily inside ``run`` so that ``symcost --help`` stays fast, and
a command line naming one command imports and registers that command alone.
The generic verbs are here; each pack's own verbs live in its package.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# Command name -> its module, in the order ``symcost --help`` lists them.
COMMANDS = {
    "validate": "symcost.commands.validate",
    "report": "symcost.commands.report",
    "sweep": "symcost.commands.sweep",
    "explore": "symcost.commands.explore",
    "plot": "symcost.commands.plot",
    "breakeven": "symcost.commands.breakeven",
    "sensitivity": "symcost.commands.sensitivity",
    "optimize-k": "symcost.packs.selfspec.commands.optimize_k",
    "spatten": "symcost.packs.spatten.commands",
    "cascade": "symcost.packs.cascade.commands",
    "audit": "symcost.commands.audit",
    "k-sweep": "symcost.packs.selfspec.commands.k_sweep",
    "batch-inputs": "symcost.packs.selfspec.commands.batch_inputs",
    "llm": "symcost.packs.llm.commands",
    "serve": "symcost.commands.serve",
}


def command_modules(names: list[str] | None = None) -> list[ModuleType]:
    """The modules of the commands ``names`` (all of them when None)."""
    return [import_module(COMMANDS[name]) for name in (COMMANDS if names is None else names)]
