"""Error types shared by every stage.

Every problem with user input is reported as an :class:`InputIssue`: the file,
the field path inside it and what was expected. Stages collect issues and raise
them together so a user sees all problems of a file set at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int


def format_path(parts: Sequence[PathPart]) -> str:
    """Render a field path as ``a.b[2].c`` (``<root>`` for the document itself)."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


@dataclass(frozen=True)
class InputIssue:
    """One problem in one input file, reported on one line."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


class SymcostError(Exception):
    """Base class of the errors symcost reports to users without a traceback."""


class InputError(SymcostError):
    """One or more problems in user input; ``issues`` holds them all."""

    def __init__(self, issues: Iterable[InputIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class FormulaError(SymcostError, ValueError):
    """A formula string that the whitelist parser refuses.

    ``position`` is the 0-based character offset of ``token`` in the formula
    (``None`` when the whole formula is at fault, e.g. it is too long).
    """

    def __init__(
        self,
        message: str,
        *,
        formula: str,
        token: str | None = None,
        position: int | None = None,
        name: str | None = None,
    ):
        self.formula = formula
        self.token = token
        self.position = position
        self.name = name
        where = f"formula {name!r}" if name else "formula"
        at = f" at column {position + 1}" if position is not None else ""
        offending = f" (offending token {token!r})" if token else ""
        self.reason = message
        super().__init__(f"{where}{at}: {message}{offending}")

    def named(self, name: str) -> FormulaError:
        """The same error attributed to the formula called ``name``."""
        return FormulaError(self.reason, formula=self.formula, token=self.token, position=self.position, name=name)
