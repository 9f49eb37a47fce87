"""Safe loading of YAML and JSON input documents.

YAML is read with PyYAML's safe loader only (no Python tags). Before a YAML
document is constructed, its node graph is checked: an alias-expansion bomb
("billion laughs") is rejected by its expanded size, and a key repeated in one
mapping is an error instead of a silent overwrite. NaN and infinities (YAML's .nan,
JSON's NaN, Infinity, 1e999) are refused naming their field.
Mapping keys are returned as strings so JSON and YAML files look the same to
the schema stage (YAML writes ``0:``; JSON writes ``"0":``).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import InputError, InputIssue, PathPart, format_path

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_EXPANDED_NODES = 200_000


@dataclass(frozen=True)
class Document:
    """A parsed input file: its data with string keys, and where it came from."""

    path: Path
    data: Any

    @property
    def label(self) -> str:
        return self.path.name


def load_document(path: str | Path) -> Document:
    """Read ``path`` as YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
    path = Path(path)
    label = path.name
    text = read_input_text(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = _parse_json(text, label)
    elif suffix in (".yaml", ".yml"):
        data = _parse_yaml(text, label)
    else:
        raise InputError([InputIssue(label, "<file>", f"unsupported file type {path.suffix!r}; expected .yaml, .yml or .json")])
    issues = list(unrepresentable_numbers(data, label))
    if issues:
        raise InputError(issues)
    return Document(path=path, data=_string_keys(data))


def read_input_text(path: str | Path) -> str:
    """The text of an input file: it must exist, be at most MAX_FILE_BYTES and be UTF-8."""
    path = Path(path)
    label = path.name
    if not path.is_file():
        raise InputError([InputIssue(label, "<file>", f"file not found: {path}")])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError([InputIssue(label, "<file>", f"file is {size} bytes; at most {MAX_FILE_BYTES} are read")])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([InputIssue(label, "<file>", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None


def _parse_json(text: str, label: str) -> Any:
    # NaN and Infinity are parsed, then refused by unrepresentable_numbers with the field they are in.
    try:
        return json.loads(text, object_pairs_hook=_json_object(label))
    except json.JSONDecodeError as exc:
        raise InputError([InputIssue(label, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}")]) from None
    except ValueError as exc:
        raise InputError([InputIssue(label, "<document>", f"invalid JSON: {exc}")]) from None


def _json_object(label: str):
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InputError([InputIssue(label, key, "key appears twice in the same object")])
            result[key] = value
        return result

    return build


class _Loader(yaml.SafeLoader):
    """The safe loader, also reading exponent floats without a dot (``1e-10``), which YAML 1.1 leaves as text."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def _parse_yaml(text: str, label: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_graph(node, label)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "<document>"
        problem = exc.problem or exc.context or "cannot be parsed"
        raise InputError([InputIssue(label, where, f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([InputIssue(label, "<document>", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def _check_yaml_graph(root: yaml.Node, label: str) -> None:
    sizes: dict[int, int] = {}

    def expanded_size(node: yaml.Node, path: list[PathPart]) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = MAX_EXPANDED_NODES + 1  # a cycle counts as unbounded
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                total += expanded_size(child, path + [index])
                _refuse_if_too_big(total, label, path)
        elif isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
                if key in seen:
                    raise InputError([InputIssue(label, format_path(path + [key]), "key appears twice in the same mapping")])
                seen.add(key)
                total += 1 + expanded_size(value_node, path + [key])
                _refuse_if_too_big(total, label, path)
        sizes[id(node)] = total
        return total

    expanded_size(root, [])


def _refuse_if_too_big(total: int, label: str, path: list[PathPart]) -> None:
    if total > MAX_EXPANDED_NODES:
        raise InputError([InputIssue(
            label, format_path(path),
            f"document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb or runaway file); refused")])


def unrepresentable_numbers(data: Any, label: str, path: list[PathPart] | None = None,
                            max_integer: int | None = None) -> Iterator[InputIssue]:
    """Issues for every non-finite float in ``data`` and, given ``max_integer``, every integer beyond it in size."""
    path = path or []
    if isinstance(data, float) and not math.isfinite(data):
        yield InputIssue(label, format_path(path), f"expected a finite number, got {data}")
    elif max_integer is not None and isinstance(data, int) and not isinstance(data, bool) and abs(data) > max_integer:
        digits = str(data)
        shown = digits if len(digits) <= 30 else f"an integer of {len(digits.lstrip('-'))} digits"
        yield InputIssue(label, format_path(path), f"expected a number within +-{max_integer}, got {shown}")
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from unrepresentable_numbers(value, label, path + [str(key)], max_integer)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from unrepresentable_numbers(value, label, path + [index], max_integer)


def _string_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {_key_text(key): _string_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_string_keys(value) for value in data]
    return data


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)
