"""The subcommands of ``symcost``: one module each, registered in ``COMMANDS``.

A command module has ``register(commands)``, which adds its parser to the
``argparse`` sub-parsers and sets ``run`` (args -> exit code). Modules import
the library lazily inside ``run`` so that ``symcost --help`` stays fast.
"""
from . import audit, batch_inputs, breakeven, cascade, k_sweep, llm, optimize_k, plot, report, sensitivity, serve, spatten, sweep, validate

COMMANDS = (validate, report, sweep, plot, breakeven, sensitivity, optimize_k, spatten, cascade, audit, k_sweep, batch_inputs, llm, serve)
