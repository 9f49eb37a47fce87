"""A pack's inputs as one tree: documents merged or mounted, dotted paths into it, ``--set`` overrides.

``--input FILE`` merges a YAML/JSON document's top-level keys into the tree;
``--input NAME=FILE`` mounts the document under the key NAME. A key given
twice is an error naming both files. A path is dotted, with list items by
index (``gpus.0.mem_bw_gbps`` or ``gpus[0].mem_bw_gbps``). ``--set PATH=VALUE``
replaces (or adds) one leaf; VALUE is read as a YAML scalar, so ``2 TB/s``
stays text for the binder to convert and ``4096`` is a number.

Readers of packaged packs may put :class:`Measured` leaves in a tree: a
number with its unit and provenance that a document does not carry itself
(a component library's figure chosen for a converter resolution).
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .documents import load_document, parse_text
from .errors import InputError, InputIssue, SymcostError

_INDEX = re.compile(r"^(?P<key>[^\[\]]*)((?:\[\d+\])+)$")
_MOUNT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<file>.+)$")


@dataclass(frozen=True)
class Measured:
    """A leaf a reader computed: its value in ``unit`` and where it comes from."""

    value: float | Any  # a number in ``unit``, or a SymPy expression a reader derived (SI)
    unit: str
    provenance: str
    exact: bool = False  # exact arithmetic (counts) rather than a float (a library's figure)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class InputTree:
    """The merged inputs, and for each top-level key the file it came from."""

    data: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    mounts: dict[str, Path] = field(default_factory=dict)  # documents mounted by name
    settings: tuple[tuple[str, Any], ...] = ()  # --set PATH=VALUE, in order

    @property
    def label(self) -> str:
        """What a message about the inputs as a whole names: the files they were read from."""
        return ", ".join(dict.fromkeys(path.name for path in self.files)) or "inputs"

    def lookup(self, path: str) -> Any:
        """The value at a dotted path, or :data:`MISSING`."""
        node: Any = self.data
        for part in split_path(path):
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return MISSING
        return node

    def origin(self, path: str) -> str:
        """Where a path's value comes from: ``gpu.yaml: bandwidth``, with the note a document's own
        ``provenance`` mapping gives the path (``gpu.yaml: bandwidth (vendor datasheet)``)."""
        head = str(split_path(path)[0])
        where = f"{self.origins[head]}: {path}" if head in self.origins else path
        notes = self.data.get("provenance")
        note = notes.get(path) if isinstance(notes, dict) else None
        return f"{where} ({note})" if isinstance(note, str) else where

    def leaf_paths(self) -> list[str]:
        return list(_leaves(self.data, ""))

    def closest(self, path: str, count: int = 3) -> list[str]:
        paths = self.leaf_paths()
        tail = path.rsplit(".", 1)[-1]
        same_leaf = [known for known in paths if known.rsplit(".", 1)[-1] == tail]
        return (same_leaf + difflib.get_close_matches(path, paths, n=count, cutoff=0.5))[:count]


@lru_cache(maxsize=4096)  # a pack binds the same few paths for every scenario
def split_path(path: str) -> tuple[str | int, ...]:
    """``'gpus[0].mem_bw'`` and ``'gpus.0.mem_bw'`` -> ``('gpus', 0, 'mem_bw')``."""
    parts: list[str | int] = []
    for piece in path.split("."):
        match = _INDEX.match(piece)
        if match:
            if match.group("key"):
                parts.append(match.group("key"))
            parts += [int(number) for number in re.findall(r"\[(\d+)\]", piece)]
        else:
            parts.append(int(piece) if piece.isdigit() else piece)
    if any(part == "" for part in parts):
        raise SymcostError(f"path {path!r}: empty part")
    return tuple(parts)


def read_inputs(specs: Sequence[str], mounted: Sequence[tuple[str, str | Path]] = ()) -> InputTree:
    """The tree of ``--input [NAME=]FILE`` arguments, plus documents ``mounted`` by name (selfspec's
    ``--model`` etc.)."""
    documents: list[tuple[str | None, Path]] = []
    for spec in specs:
        match = _MOUNT.match(spec)
        mounted_file = match and not Path(spec).exists()
        documents.append((match.group("name"), Path(match.group("file"))) if mounted_file else (None, Path(spec)))
    documents += [(name, Path(path)) for name, path in mounted]
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, path in documents:
        loaded = load_document(path).data
        if name is None and not isinstance(loaded, dict):
            raise InputError(
                [InputIssue(path.name, "<root>", "expected a mapping to merge (or mount it: --input NAME=FILE)")]
            )
        for key, value in ({name: loaded} if name else loaded).items():
            if key in data:
                raise InputError([InputIssue(path.name, key, f"key given twice: also in {origins[key]}")])
            data[key], origins[key] = value, path.name
    return InputTree(
        data,
        origins,
        tuple(path for _, path in documents),
        {name: path for name, path in documents if name is not None},
    )


def with_settings(tree: InputTree, settings: Sequence[str]) -> InputTree:
    """The tree with each ``PATH=VALUE`` set (the value read as a YAML scalar)."""
    if not settings:
        return tree
    data = copy.deepcopy(tree.data)
    origins = dict(tree.origins)
    applied = list(tree.settings)
    for setting in settings:
        path, separator, text = setting.partition("=")
        if not separator or not path.strip():
            raise SymcostError(f"--set {setting!r}: expected PATH=VALUE, e.g. gpu.bandwidth='2 TB/s'")
        value = parse_text(text, f"--set {path}", "yaml")
        if isinstance(value, (dict, list)):
            raise SymcostError(f"--set {setting!r}: expected one number or quantity, got a {type(value).__name__}")
        _assign(data, split_path(path.strip()), value, setting)
        origins.setdefault(str(split_path(path.strip())[0]), "--set")
        applied.append((path.strip(), value))
    return InputTree(data, origins, tree.files, tree.mounts, tuple(applied))


def _assign(data: dict[str, Any], parts: Sequence[str | int], value: Any, setting: str) -> None:
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            raise SymcostError(f"--set {setting!r}: {part!r} is not in the inputs")
    if isinstance(node, list) and isinstance(parts[-1], int) and parts[-1] < len(node):
        node[parts[-1]] = value
    elif isinstance(node, dict):
        node[parts[-1]] = value
    else:
        raise SymcostError(f"--set {setting!r}: cannot set {parts[-1]!r} there")


def _leaves(node: Any, prefix: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{prefix}{index}.")
    else:
        yield prefix[:-1]
