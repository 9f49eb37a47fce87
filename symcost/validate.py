"""Validation of a set of input files, collecting the problems of all of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import InputError, InputIssue
from .packs.selfspec.inputs import read_hardware, read_model, read_stats
from .pack import load_pack


@dataclass
class ValidationResult:
    checked: list[str] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def validate_files(*, model: str | None = None, hardware: str | None = None, stats: str | None = None,
                   packs: list[str] | None = None, library_path: list[str] | None = None) -> ValidationResult:
    """Read every given file; return what was checked and every issue found."""
    readers: list[tuple[str, Callable[[str], object]]] = []
    if model:
        readers.append((model, read_model))
    if hardware:
        readers.append((hardware, lambda path: read_hardware(path, library_path)))
    if stats:
        readers.append((stats, read_stats))
    readers += [(pack, load_pack) for pack in packs or []]
    result = ValidationResult()
    for path, reader in readers:
        try:
            reader(path)
            result.checked.append(str(Path(path)))
        except InputError as error:
            result.issues.extend(error.issues)
    return result
