"""Safe loading: alias bombs, Python tags, duplicate keys and non-finite numbers are refused."""

from __future__ import annotations

import pytest

from symcost.documents import load_document
from symcost.errors import InputError

BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _issue(tmp_path, name, text):
    with pytest.raises(InputError) as caught:
        load_document(_write(tmp_path, name, text))
    return str(caught.value)


def test_alias_bomb_is_refused_before_expansion(tmp_path):
    assert "alias bomb" in _issue(tmp_path, "bomb.yaml", BILLION_LAUGHS)


def test_python_tags_are_not_constructed(tmp_path):
    sentinel = tmp_path / "pwned"
    message = _issue(tmp_path, "tag.yaml", f"x: !!python/object/apply:os.system ['touch {sentinel}']\n")
    assert "invalid YAML" in message and not sentinel.exists()


def test_duplicate_yaml_key_is_an_error(tmp_path):
    assert "n_layers: key appears twice" in _issue(tmp_path, "dup.yaml", "n_layers: 2\nn_layers: 3\n")


def test_duplicate_json_key_is_an_error(tmp_path):
    assert "key appears twice" in _issue(tmp_path, "dup.json", '{"k": 1, "k": 2}')


@pytest.mark.parametrize(
    "name, text",
    [
        ("nan.yaml", "x: .nan\n"),
        ("inf.yaml", "x: [1, -.inf]\n"),
        ("nan.json", '{"x": NaN}'),
        ("inf.json", '{"x": Infinity}'),
    ],
)
def test_non_finite_numbers_are_refused(tmp_path, name, text):
    assert "finite" in _issue(tmp_path, name, text) or "not a number" in _issue(tmp_path, name, text)


def test_keys_become_strings_for_yaml_and_json_alike(tmp_path):
    from_yaml = load_document(_write(tmp_path, "h.yaml", "histogram: {0: 1, 1: 2}\n")).data
    from_json = load_document(_write(tmp_path, "h.json", '{"histogram": {"0": 1, "1": 2}}')).data
    assert from_yaml == from_json == {"histogram": {"0": 1, "1": 2}}


def test_reports_yaml_syntax_position(tmp_path):
    assert "line 2 column 4: invalid YAML" in _issue(tmp_path, "bad.yaml", "a: 1\n  b: 2\n")


def test_exponent_floats_without_a_dot_are_numbers(tmp_path):
    # YAML 1.1 reads 1e-10 as text; symcost reads it as the number a user means.
    assert load_document(_write(tmp_path, "f.yaml", "a: 1e-10\nb: -2E+3\nc: 1.5e-3\nd: 1e\n")).data == {
        "a": 1e-10,
        "b": -2000.0,
        "c": 1.5e-3,
        "d": "1e",
    }


@pytest.mark.parametrize(
    "text, where, message",
    [
        ("a: b: c\n", "line 1 column 5", "mapping values are not allowed here"),
        ("a: *missing\n", "line 1 column 4", "found undefined alias 'missing'"),
        ("a: 1\n\tb: 2\n", "line 2 column 1", "found character '\\t' that cannot start any token"),
        ("a: [1, 2\n", "line 2 column 1", "expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_yaml_errors_name_the_offending_token(tmp_path, text, where, message):
    # libyaml (the fast parser) words these with less; the message comes from PyYAML's own parser.
    with pytest.raises(InputError) as info:
        load_document(_write(tmp_path, "bad.yaml", text))
    assert where in str(info.value) and message in str(info.value)


def test_nesting_beyond_libyamls_limit_is_refused_as_too_deep(tmp_path):
    with pytest.raises(InputError, match="nested|deep"):
        load_document(_write(tmp_path, "deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n"))
