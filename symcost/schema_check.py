"""JSON Schema validation with one-line, field-level error messages.

The schemas in ``schemas/`` are the contract for every input file. jsonschema
finds the violations; this module words them for people: the field path, what
was expected, what was found, and a did-you-mean for misspelt keys.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .errors import InputIssue, format_path

if TYPE_CHECKING:  # imported by validating: reading the schemas' field lists (leaf_fields) must not pay for it
    import jsonschema
    from jsonschema.exceptions import ValidationError


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The packaged schema ``name`` (e.g. ``'hardware'`` -> hardware.schema.json)."""
    text = resources.files("symcost.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    # The packaged schemas are checked against the meta-schema by the tests (test_schema_files.py),
    # not here: that check took about 0.1 s of every command.
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name))


def schema_issues(data: Any, schema_name: str, label: str) -> list[InputIssue]:
    """All schema violations of ``data`` as issues, in document order."""
    errors = sorted(_validator(schema_name).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    issues: list[InputIssue] = []
    for error in errors:
        issues.extend(_issues_for(error, label))
    return _deduplicate(issues)


def _deduplicate(issues: Iterable[InputIssue]) -> list[InputIssue]:
    seen: set[InputIssue] = set()
    return [issue for issue in issues if not (issue in seen or seen.add(issue))]


def _issues_for(error: ValidationError, label: str) -> list[InputIssue]:
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        return [
            InputIssue(label, format_path(path + [key]), _unknown_key_message(key, error.schema))
            for key in _extra_keys(error)
        ]
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return [InputIssue(label, format_path(path + [missing]), "required field is missing")]
    if kind == "if":
        return []  # the failing branch ('then'/'else') reports the details
    if "propertyNames" in error.schema_path:
        return [InputIssue(label, format_path(path), _bad_key_message(error))]
    return [InputIssue(label, format_path(path), _expectation(error))]


def _bad_key_message(error: ValidationError) -> str:
    expected = error.schema.get("description") or f"keys matching {error.schema.get('pattern')}"
    return f"key {error.instance!r} is not allowed: expected {expected}"


def _extra_keys(error: ValidationError) -> list[str]:
    allowed = set(error.schema.get("properties", {}))
    return [key for key in error.instance if key not in allowed]


def _unknown_key_message(key: str, schema: dict[str, Any]) -> str:
    allowed = sorted(schema.get("properties", {}))
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = f" (allowed: {', '.join(allowed)})" if allowed and not close and len(allowed) <= 12 else ""
    return f"unknown field {key!r}{hint}{listing}"


def _expectation(error: ValidationError) -> str:
    schema, value = error.schema, error.instance
    got = f"got {_show(value)}"
    kind = error.validator
    if kind in ("anyOf", "oneOf") and "x-unit" in schema:
        return f"expected a non-negative number in {schema['x-unit']} or a quantity such as '1.5 {schema['x-unit']}', {got}"
    if kind in ("anyOf", "oneOf"):
        best = _best_branch(error)
        if best is not None:
            return _expectation(best)
        if kind == "oneOf" and all("required" in branch for branch in error.validator_value):
            names = [branch["required"][0] for branch in error.validator_value]
            return f"expected exactly one of {', '.join(names)}"
    if kind == "type":
        return f"expected {_type_text(error.validator_value)}, {got}"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        return f"expected {_type_text(schema.get('type', 'number'))} {sign} {error.validator_value}, {got}"
    if kind == "enum":
        options = [str(option) for option in error.validator_value]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"expected one of {', '.join(options)}, {got}{hint}"
    if kind == "const":
        return f"expected {error.validator_value!r}, {got}"
    if kind == "minProperties":
        return f"expected at least {error.validator_value} entr{'y' if error.validator_value == 1 else 'ies'}, got none"
    if kind == "pattern":
        return f"expected text matching {error.validator_value}, {got}"
    if kind in ("maxLength", "minLength"):
        return f"expected text of {'at most' if kind == 'maxLength' else 'at least'} {error.validator_value} characters, {got}"
    return error.message


def _best_branch(error: ValidationError) -> ValidationError | None:
    # Prefer the branch whose type matched (its error is about the value, not the type).
    candidates = [e for e in error.context if e.validator not in ("type", "required")]
    deepest = sorted(candidates, key=lambda e: -len(e.absolute_path))
    return deepest[0] if deepest else None


def _type_text(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    words = {
        "integer": "integer",
        "number": "number",
        "string": "text",
        "object": "a mapping",
        "array": "a list",
        "boolean": "true or false",
        "null": "null",
    }
    return " or ".join(words.get(name, name) for name in names)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def leaf_fields(schema_name: str, pointer: str) -> dict[str, dict[str, Any]]:
    """The scalar fields below ``pointer`` (e.g. ``/properties/soc``) of a schema.

    Returns dotted path -> the leaf's schema (with ``default`` and ``x-unit``
    where the schema gives them), following ``$ref`` and the non-null branch of
    ``anyOf``. Used to fill defaults from the schema, the one place they live.
    """
    schema = load_schema(schema_name)
    node = _resolve_pointer(schema, pointer)
    leaves: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        node = _dereference(schema, node)
        if "properties" in node:
            for key, child in node["properties"].items():
                walk(child, f"{prefix}{key}.")
            return
        leaves[prefix[:-1]] = node

    walk(node, "")
    return leaves


def _dereference(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = {
                **_resolve_pointer(schema, node["$ref"].lstrip("#")),
                **{k: v for k, v in node.items() if k != "$ref"},
            }
        elif "anyOf" in node and "x-unit" not in node and "default" not in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            node = {**branches[0], "nullable": True} if len(branches) == 1 else node
            if len(branches) != 1:
                return node
        else:
            return node


def _resolve_pointer(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    node: Any = schema
    for part in [p for p in pointer.split("/") if p]:
        node = node[part]
    return node
