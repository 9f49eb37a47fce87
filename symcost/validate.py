"""Validation of a set of inputs, collecting the problems of all of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .errors import InputError, InputIssue


@dataclass
class ValidationResult:
    checked: list[str] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def validate_all(checks: Sequence[tuple[str, Callable[[], object]]]) -> ValidationResult:
    """Run every check (a label and a function that reads something, raising :class:`InputError` on a
    problem); return what passed and every issue found."""
    result = ValidationResult()
    for label, check in checks:
        try:
            check()
            result.checked.append(label)
        except InputError as error:
            result.issues.extend(error.issues)
    return result
