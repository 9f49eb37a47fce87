"""Safe loading of YAML and JSON input documents.

YAML is read with PyYAML's safe loader only (no Python tags). Before a YAML
document is constructed, its node graph is checked: an alias-expansion bomb
("billion laughs") is rejected by its expanded size, and a key repeated in one
mapping is an error instead of a silent overwrite. JSON rejects NaN/Infinity.
Mapping keys are returned as strings so JSON and YAML files look the same to
the schema stage (YAML writes ``0:``; JSON writes ``"0":``); two keys that
become the same text (YAML's ``0``, ``00`` and ``0x0``) are an error. Numbers
must be finite and integers within what a float64 holds exactly; documents
nest at most :data:`MAX_DEPTH` deep and hold no NUL characters.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

from .errors import InputError, InputIssue, PathPart, format_path

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 64
MAX_EXACT_INTEGER = 2**53


@dataclass(frozen=True)
class LoadedDocument:
    """A parsed input file: its data with string keys, and where it came from."""

    path: Path
    data: Any

    @property
    def label(self) -> str:
        return self.path.name


def load_document(path: str | Path) -> LoadedDocument:
    """Read ``path`` as YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
    path = Path(path)
    label = path.name
    text = read_input_text(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError(
            [InputIssue(label, "<file>", f"unsupported file type {path.suffix!r}; expected .yaml, .yml or .json")]
        )
    return LoadedDocument(path=path, data=parse_text(text, label, "json" if suffix == ".json" else "yaml"))


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


def parse_text(text: str, label: str, syntax: str = "json") -> Any:
    """A document's data from its text (``syntax`` ``'json'`` or ``'yaml'``), checked as files are.

    Mapping keys come back as strings; NUL characters, nesting deeper than
    :data:`MAX_DEPTH`, non-finite numbers and integers beyond float64's exact
    range are refused with an :class:`InputError` naming the place.
    """
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise InputError(
            [InputIssue(label, f"line {line}", "contains a NUL character (a binary file?); expected text")]
        )
    data = _parse_json(text, label) if syntax == "json" else _parse_yaml(text, label)
    issues = number_issues(data, label)
    if issues:
        raise InputError(issues)
    return _string_keys(data)


def _parse_json(text: str, label: str) -> Any:
    # NaN and Infinity are parsed, then refused by number_issues naming the field they are in.
    try:
        data = json.loads(text, object_pairs_hook=_json_object(label))
    except json.JSONDecodeError as exc:
        raise InputError(
            [InputIssue(label, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}")]
        ) from None
    except RecursionError:
        raise _too_deep(label, []) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise _unreadable_number(label, "JSON", exc) from None
    _check_depth(data, label)
    return data


def _check_depth(data: Any, label: str, path: Sequence[PathPart] = ()) -> None:
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in children:
        if len(path) + 1 >= MAX_DEPTH and isinstance(value, (dict, list)):
            raise _too_deep(label, [*path, key])
        _check_depth(value, label, [*path, key])


def _too_deep(label: str, path: Sequence[PathPart]) -> InputError:
    where = format_path(path[:2]) + ("..." if len(path) > 2 else "")
    return InputError([InputIssue(label, where, f"nested deeper than {MAX_DEPTH} levels; refused")])


def _unreadable_number(label: str, syntax: str, error: ValueError) -> InputError:
    if "integer string conversion" in str(error):
        message = f"invalid {syntax}: an integer with more than {sys.get_int_max_str_digits()} digits; refused"
    else:
        message = f"invalid {syntax}: {error}"
    return InputError([InputIssue(label, "<document>", message)])


def _json_object(label: str):
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InputError([InputIssue(label, key, "key appears twice in the same object")])
            result[key] = value
        return result

    return build


@functools.cache
def _loader_classes() -> tuple[type, type]:
    """The safe loaders (libyaml's when PyYAML has it, and the pure-Python one), both also reading exponent
    floats without a dot (``1e-10``), which YAML 1.1 leaves as text.

    libyaml reads a large file ten times faster, but words its errors with less (no offending character,
    no alias name): a document it refuses is read again by the pure-Python parser for the message.
    Made on first use: a warm command reads its documents from the evaluator cache and need not import PyYAML.
    """
    import yaml

    exponent_float = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
    loaders = []
    for base in (getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.SafeLoader):
        loader = type("Loader", (base,), {})
        loader.add_implicit_resolver("tag:yaml.org,2002:float", exponent_float, list("-+0123456789"))
        loaders.append(loader)
    return loaders[0], loaders[1]


def _parse_yaml(text: str, label: str) -> Any:
    import yaml

    fast, exact = _loader_classes()
    try:
        return _read_yaml(fast, text, label)
    except yaml.YAMLError:
        pass  # worded below
    try:
        return _read_yaml(exact, text, label)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "<document>"
        problem = exc.problem or exc.context or "cannot be parsed"
        raise InputError([InputIssue(label, where, f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([InputIssue(label, "<document>", f"invalid YAML: {exc}")]) from None


def _read_yaml(loader_class: type, text: str, label: str) -> Any:
    loader = None
    try:
        loader = loader_class(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_graph(node, label, loader)
        return loader.construct_document(node)
    except RecursionError:
        raise _too_deep(label, []) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise _unreadable_number(label, "YAML", exc) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_yaml_graph(root: yaml.Node, label: str, loader: yaml.SafeLoader) -> None:
    import yaml

    sizes: dict[int, int] = {}

    def expanded_size(node: yaml.Node, path: list[PathPart]) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if len(path) > MAX_DEPTH:
            raise _too_deep(label, path[:MAX_DEPTH])
        sizes[id(node)] = MAX_EXPANDED_NODES + 1  # a cycle counts as unbounded
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                total += expanded_size(child, path + [index])
                _refuse_if_too_big(total, label, path)
        elif isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = _yaml_key_text(key_node, loader)
                if key in seen:
                    raise InputError(
                        [
                            InputIssue(
                                label,
                                format_path(path + [key]),
                                "key appears twice in the same mapping"
                                + ("" if key == key_node.value else f" (written {key_node.value!r})"),
                            )
                        ]
                    )
                seen.add(key)
                total += 1 + expanded_size(value_node, path + [key])
                _refuse_if_too_big(total, label, path)
        sizes[id(node)] = total
        return total

    expanded_size(root, [])


def _yaml_key_text(key_node: yaml.Node, loader: yaml.SafeLoader) -> str:
    """A key as the document will hold it: ``00`` and ``0x0`` are the integer 0, so the key ``'0'``."""
    import yaml

    if not isinstance(key_node, yaml.ScalarNode):
        return "<complex key>"
    return _key_text(loader.construct_object(key_node))


def _refuse_if_too_big(total: int, label: str, path: list[PathPart]) -> None:
    if total > MAX_EXPANDED_NODES:
        raise InputError(
            [
                InputIssue(
                    label,
                    format_path(path),
                    f"document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb or runaway file); refused",
                )
            ]
        )


def number_issues(data: Any, label: str, path: Sequence[PathPart] = ()) -> list[InputIssue]:
    """One issue per number in ``data`` that symcost cannot compute with: a float that is not finite
    (NaN, infinity, ``1e999``), or an integer beyond float64's exact range (+-2**53)."""
    if isinstance(data, float) and not math.isfinite(data):
        return [InputIssue(label, format_path(path), f"expected a finite number, got {data}")]
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_EXACT_INTEGER:
        digits = str(data)
        shown = digits if len(digits) <= 30 else f"an integer of {len(digits.lstrip('-'))} digits"
        # Larger integers are not all exact as float64, the type symcost computes in: 2**53 + 1 reads as 2**53.
        return [InputIssue(label, format_path(path), f"expected a number within +-{MAX_EXACT_INTEGER}, got {shown}")]
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    return [issue for key, value in children for issue in number_issues(value, label, [*path, key])]


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
