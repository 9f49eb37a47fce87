"""The ``symcost`` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from . import __version__
from .commands import COMMANDS, command_modules
from .errors import InputError, SymcostError

EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3
# What a shell reports for a program killed by SIGPIPE (128 + 13): the reader closed the pipe (| head).
EXIT_CLOSED_OUTPUT = 141


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        self.exit(EXIT_INPUT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of every command, or of the one command ``argv`` names (its module alone is imported)."""
    parser = _Parser(prog="symcost", description="Symbolic cost-model compiler for LLM accelerators.")
    parser.add_argument("--version", action="version", version=f"symcost {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # Only --version, --debug and -h/--help come before the command, and none takes a value.
    named = next((word for word in argv if not word.startswith("-")), None)
    for module in command_modules([named] if named in COMMANDS else None):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_INPUT_ERROR
    try:
        code = run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        return _quiet_after_closed_output()
    except InputError as error:
        if not error.issues:
            parser.exit(EXIT_INPUT_ERROR, f"symcost {args.command}: error: nothing to do; give at least one file\n")
        for issue in error.issues:
            print(f"error: {issue}", file=sys.stderr)
        return _debug_exit(args)
    except SymcostError as error:
        print(f"error: {error}", file=sys.stderr)
        return _debug_exit(args)
    except Exception as error:  # a bug in symcost, not in the input: say so, on one line
        print(
            f"internal error: {type(error).__name__}: {error} (a symcost bug; rerun with --debug "
            "for the traceback and report it)",
            file=sys.stderr,
        )
        if args.debug:
            traceback.print_exc()
        return EXIT_INTERNAL_ERROR


def _quiet_after_closed_output() -> int:
    """Exit without a word when stdout's reader has gone: point stdout at /dev/null so the
    interpreter's final flush cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_CLOSED_OUTPUT


def _debug_exit(args: argparse.Namespace) -> int:
    if args.debug:
        traceback.print_exc()
    return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
