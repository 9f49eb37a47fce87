"""`symcost --version` and every verb's `--help` start fast: they import none of the heavy libraries
(SymPy and numpy alone take about half a second), and the model API still loads on first use."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

# importlib.metadata is here too: it would cost --version about 30 ms of a 0.15 s budget.
HEAVY = (
    "sympy",
    "numpy",
    "scipy",
    "jsonschema",
    "pint",
    "matplotlib",
    "yaml",
    "fastapi",
    "uvicorn",
    "pebble",
    "importlib.metadata",
)

# Run in a fresh interpreter: the test process has long since imported everything.
EVERY_HELP = """
import argparse, contextlib, io, sys
from symcost.cli import build_parser, main

def verbs(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from verbs(sub, (*prefix, name))

runs = [["--version"], ["--help"]] + [[*verb, "--help"] for verb in verbs(build_parser())]
for args in runs:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(args)
print(len(runs), *sorted(name for name in sys.argv[1:] if name in sys.modules))
"""


def _python(code: str, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()


def test_version_and_every_help_import_no_heavy_library():
    count, *loaded = _python(EVERY_HELP, *HEAVY)
    assert int(count) > 20 and loaded == []  # 20: the verbs and nested verbs are all walked


def test_import_symcost_is_light_and_the_model_api_loads_on_first_use():
    code = (
        "import sys, symcost; light = not any(name in sys.modules for name in sys.argv[1:]); "
        "print(light, symcost.__version__, symcost.build_model.__module__, symcost.parse_formula.__module__)"
    )
    # the installed metadata's version is the one symcost/__init__.py declares (pyproject.toml reads it there)
    assert _python(code, *HEAVY) == ["True", version("symcost"), "symcost.packs.selfspec.model", "symcost.formula"]


ONE_COMMAND = """
import contextlib, io, sys
from symcost.cli import main

with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(*sorted(name for name in ("symcost.commands.report", "symcost.packs.llm.commands") if name in sys.modules))
"""


def test_a_command_line_imports_the_module_of_its_command_alone():
    assert _python(ONE_COMMAND, "--debug", "report", "--help") == ["symcost.commands.report"]
    assert _python(ONE_COMMAND, "llm", "estimate", "--help") == ["symcost.packs.llm.commands"]
    # --help lists every command, and an unknown one is refused with the list of all
    assert _python(ONE_COMMAND, "--help") == ["symcost.commands.report", "symcost.packs.llm.commands"]
    assert _python(ONE_COMMAND, "reprot") == ["symcost.commands.report", "symcost.packs.llm.commands"]
