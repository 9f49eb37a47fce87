"""``symcost validate`` run as a subprocess, on good files and on a corpus of broken ones.

Every broken input must give exit code 2, one ``error: FILE: FIELD: ...`` line
per problem, no traceback, and must not execute anything (a sentinel file that
an injection attempt would create stays absent).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import EXAMPLES, run_cli

GOOD_MODEL = (EXAMPLES / "model_tiny.yaml").read_text()
GOOD_HARDWARE = (EXAMPLES / "hardware_knobs.yaml").read_text()
LEGACY_HARDWARE = (EXAMPLES / "hardware_legacy.yaml").read_text()
PACK = (EXAMPLES.parent / "tests" / "data" / "pack_kv_read.yaml").read_text()
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@dataclass
class Case:
    id: str
    option: str
    file: str
    text: str
    expected: str  # the one-line message must contain this (file and field included)


def _knobs(**replace: str) -> str:
    text = GOOD_HARDWARE
    for old, new in replace.items():
        assert old.replace("_", " ") in text or old in text
        text = text.replace(old, new)
    return text


CORPUS = [
    Case(
        "yaml-syntax",
        "--model",
        "model.yaml",
        "n_layers: [1, 2\nd_model: 3\n",
        "model.yaml: line 2 column 8: invalid YAML",
    ),
    Case("yaml-bomb", "--model", "model.yaml", BOMB, "document expands to more than 200000 nodes (alias bomb"),
    Case(
        "python-tag",
        "--model",
        "model.yaml",
        "n_layers: !!python/object/apply:os.system ['touch SENTINEL']\n",
        "model.yaml: line 1 column 11: invalid YAML: could not determine a constructor",
    ),
    Case(
        "duplicate-key",
        "--model",
        "model.yaml",
        GOOD_MODEL + "n_layers: 3\n",
        "model.yaml: n_layers: key appears twice",
    ),
    Case(
        "wrong-type",
        "--model",
        "model.yaml",
        GOOD_MODEL.replace("n_layers: 2", "n_layers: many"),
        "model.yaml: n_layers: expected integer, got 'many'",
    ),
    Case(
        "unknown-key",
        "--model",
        "model.yaml",
        GOOD_MODEL.replace("n_layers: 2", "n_layer: 2"),
        "model.yaml: n_layer: unknown field 'n_layer'; did you mean 'n_layers'?",
    ),
    Case(
        "bad-enum",
        "--model",
        "model.yaml",
        GOOD_MODEL.replace("ffn_type: mlp", "ffn_type: swigl"),
        "model.yaml: ffn_type: expected one of mlp, swiglu, got 'swigl'; did you mean 'swiglu'?",
    ),
    Case(
        "heads-not-dividing",
        "--model",
        "model.yaml",
        GOOD_MODEL.replace("n_heads: 4", "n_heads: 5"),
        "model.yaml: n_heads: expected a divisor of d_model (64), got 5",
    ),
    Case(
        "kv-heads-not-dividing",
        "--model",
        "model.yaml",
        GOOD_MODEL + "n_kv_heads: 3\n",
        "model.yaml: n_kv_heads: expected a divisor of n_heads (4), got 3",
    ),
    Case(
        "policy-layer-out-of-range",
        "--model",
        "model.yaml",
        GOOD_MODEL.replace("    0: {qkv: full}", "    7: {qkv: full}"),
        "model.yaml: draft_policy.per_layer.7: expected a layer index in 0..1",
    ),
    Case(
        "policy-bad-block",
        "--model",
        "model.yaml",
        GOOD_MODEL.replace("0: {qkv: full}", "0: {qkvv: full}"),
        "model.yaml: draft_policy.per_layer.0.qkvv: unknown field 'qkvv'; did you mean 'qkv'?",
    ),
    Case(
        "adc-bits-zero",
        "--hardware",
        "hardware.yaml",
        _knobs(**{"draft_bits: 4": "draft_bits: 0"}),
        "hardware.yaml: analog.adc.draft_bits: expected integer >= 1, got 0",
    ),
    Case(
        "adc-bits-not-in-library",
        "--hardware",
        "hardware.yaml",
        _knobs(**{"draft_bits: 4": "draft_bits: 7"}),
        "hardware.yaml: analog.adc.draft_bits: 7-bit ADC not in library 'puma_like_v1' (available bits: 3, 4, 5, 8",
    ),
    Case(
        "xbar-not-divisible",
        "--hardware",
        "hardware.yaml",
        _knobs(**{"num_columns_per_adc: 16": "num_columns_per_adc: 48"}),
        "hardware.yaml: analog.num_columns_per_adc: expected a divisor of analog.xbar_size (128), got 48",
    ),
    Case(
        "wrong-unit",
        "--hardware",
        "hardware.yaml",
        _knobs(**{"energy_pj_per_token: 1.5 pJ": "energy_pj_per_token: 1.5 ns"}),
        "hardware.yaml: soc.control.energy_pj_per_token: expected energy (convertible to pJ), got '1.5 ns' which is time",
    ),
    Case(
        "unknown-unit",
        "--hardware",
        "hardware.yaml",
        _knobs(**{"latency_ns_per_token: 2 ns": "latency_ns_per_token: 2 bananas"}),
        "hardware.yaml: soc.control.latency_ns_per_token: unknown unit 'bananas'",
    ),
    Case(
        "negative-coefficient",
        "--hardware",
        "hardware.yaml",
        LEGACY_HARDWARE.replace("energy_pj_per_mac: 0.001,", "energy_pj_per_mac: -0.001,"),
        "hardware.yaml: costs.analog_draft.energy_pj_per_mac: expected a non-negative number in pJ",
    ),
    Case(
        "non-finite",
        "--hardware",
        "hardware.yaml",
        LEGACY_HARDWARE.replace("energy_pj_per_mac: 0.001,", "energy_pj_per_mac: .nan,"),
        "hardware.yaml: costs.analog_draft.energy_pj_per_mac: expected a finite number, got nan",
    ),
    Case(
        "mixed-knob-legacy",
        "--hardware",
        "hardware.yaml",
        GOOD_HARDWARE + LEGACY_HARDWARE.split("reuse_policy: reuse", 1)[1],
        "hardware.yaml: costs: cannot be combined with analog.* knobs",
    ),
    Case(
        "neither-knobs-nor-costs",
        "--hardware",
        "hardware.yaml",
        "reuse_policy: reuse\n",
        "hardware.yaml: <root>: expected either analog.* knobs",
    ),
    Case(
        "legacy-missing-section",
        "--hardware",
        "hardware.yaml",
        LEGACY_HARDWARE.replace("  analog_full:", "  analog_fulll:"),
        "hardware.yaml: costs.analog_fulll: unknown field 'analog_fulll'; did you mean 'analog_full'?",
    ),
    Case(
        "missing-library-file",
        "--hardware",
        "hardware.yaml",
        GOOD_HARDWARE + "library_file: nowhere/lib.json\n",
        "hardware.yaml: library_file: library file not found",
    ),
    Case(
        "unknown-library",
        "--hardware",
        "hardware.yaml",
        _knobs(**{"library: puma_like_v1": "library: puma_like_v3"}),
        "hardware.yaml: library: unknown component library 'puma_like_v3'; did you mean",
    ),
    Case(
        "malformed-library-file",
        "--hardware",
        "hardware.yaml",
        GOOD_HARDWARE + "library_file: lib.json\n",
        "lib.json: line 1 column 2: invalid JSON",
    ),
    Case(
        "histogram-out-of-range",
        "--stats",
        "stats.yaml",
        "k: 2\nhistogram: {0: 1, 5: 2}\n",
        "stats.yaml: histogram.5: expected an accepted-prefix length in 0..2 (k = 2), got 5",
    ),
    Case(
        "histogram-negative",
        "--stats",
        "stats.yaml",
        "k: 2\nhistogram: {0: -1, 1: 2}\n",
        "stats.yaml: histogram.0: expected number >= 0, got -1",
    ),
    Case(
        "histogram-all-zero",
        "--stats",
        "stats.yaml",
        "k: 2\nhistogram: {0: 0, 1: 0}\n",
        "stats.yaml: histogram: expected at least one positive count, got all zero",
    ),
    Case(
        "histogram-bad-key",
        "--stats",
        "stats.json",
        '{"k": 2, "histogram": {"two": 1}}',
        "stats.json: histogram: key 'two' is not allowed: expected an accepted-prefix length (integer)",
    ),
    Case(
        "alpha-one",
        "--stats",
        "stats.yaml",
        "k: 4\ngeometric: {alpha: 1.0}\n",
        "stats.yaml: geometric.alpha: expected number < 1, got 1.0",
    ),
    Case(
        "negative-k",
        "--stats",
        "stats.yaml",
        "k: -1\nhistogram: {0: 1}\n",
        "stats.yaml: k: expected integer >= 0, got -1",
    ),
    Case(
        "both-distributions",
        "--stats",
        "stats.yaml",
        "k: 1\nhistogram: {0: 1}\ngeometric: {alpha: 0.5}\n",
        "stats.yaml: <root>: expected exactly one of histogram, geometric",
    ),
    Case("invalid-json", "--stats", "stats.json", '{"k": 3,', "stats.json: line 1 column 9: invalid JSON"),
    Case(
        "json-infinity",
        "--stats",
        "stats.json",
        '{"k": 3, "histogram": {"0": Infinity}}',
        "stats.json: histogram.0: expected a finite number, got inf",
    ),
    Case("unsupported-suffix", "--stats", "stats.txt", "k: 3", "stats.txt: <file>: unsupported file type '.txt'"),
    Case(
        "pack-injection",
        "--pack",
        "pack.yaml",
        PACK.replace("'kv_bytes * E_hbm'", "\"__import__('os').system('touch SENTINEL')\""),
        "pack.yaml: terms[0].expression: formula 'kv_read_energy' at column 12: character \"'\" is not part of the formula language",
    ),
    Case(
        "pack-attribute",
        "--pack",
        "pack.yaml",
        PACK.replace("'kv_bytes * E_hbm'", "'E_hbm.__class__'"),
        "pack.yaml: terms[0].expression: formula 'kv_read_energy' at column 1: attribute access is not allowed",
    ),
    Case(
        "pack-lambda",
        "--pack",
        "pack.yaml",
        PACK.replace("'kv_bytes * E_hbm'", "'(lambda x: x)(E_hbm)'"),
        "pack.yaml: terms[0].expression: formula 'kv_read_energy' at column 10: character ':'",
    ),
    Case(
        "pack-undeclared",
        "--pack",
        "pack.yaml",
        PACK.replace("'kv_bytes * E_hbm'", "'kv_bytes * E_hbn'"),
        "pack.yaml: terms[0].expression: formula 'kv_read_energy' at column 12: undeclared name 'E_hbn'; did you mean 'E_hbm'?",
    ),
    Case(
        "pack-dimension",
        "--pack",
        "pack.yaml",
        PACK.replace("'kv_bytes * E_hbm'", "'kv_bytes / BW_hbm'"),
        "pack.yaml: terms[0].expression: expected energy (quantity energy), but the formula is time",
    ),
    Case("missing-file", "--model", "", "", "absent.yaml: <file>: file not found"),
]


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_broken_input_gives_one_line_error_and_exit_2(tmp_path, case):
    sentinel = tmp_path / "SENTINEL"
    if case.file:
        (tmp_path / case.file).write_text(case.text.replace("SENTINEL", str(sentinel)))
        (tmp_path / "lib.json").write_text("{not json")
        target = tmp_path / case.file
    else:
        target = tmp_path / "absent.yaml"
    result = run_cli("validate", case.option, target, cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(case.expected.replace("SENTINEL", str(sentinel)) in line for line in lines), result.stderr
    assert all(line.startswith("error: ") for line in lines), result.stderr
    assert not sentinel.exists()


def test_corpus_is_large_and_distinct():
    assert len({case.id for case in CORPUS}) == len(CORPUS) >= 20


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(
        GOOD_MODEL.replace("n_layers: 2", "n_layers: 0").replace("d_model: 64", "d_model: x") + "colour: blue\n"
    )
    result = run_cli("validate", "--model", path)
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 3


def test_debug_flag_adds_the_traceback(tmp_path):
    path = tmp_path / "stats.yaml"
    path.write_text("k: -1\nhistogram: {0: 1}\n")
    assert "Traceback" in run_cli("--debug", "validate", "--stats", path).stderr


def test_validate_accepts_every_bundled_example():
    models = sorted(EXAMPLES.glob("model_*.yaml"))
    hardware = sorted(EXAMPLES.glob("hardware_*.yaml"))
    stats = sorted(EXAMPLES.glob("stats_*.yaml"))
    assert models and hardware and stats
    for index, hardware_file in enumerate(hardware):
        result = run_cli(
            "validate",
            "--model",
            models[index % len(models)],
            "--hardware",
            hardware_file,
            "--stats",
            stats[index % len(stats)],
        )
        assert result.code == 0, result.stderr
        assert result.stdout.count("ok: ") == 3


def test_validate_accepts_every_reference_example(peer_examples):
    models = sorted(peer_examples.glob("model*.yaml"))
    hardware = sorted(peer_examples.glob("hardware*.yaml"))
    for model in models:
        for hardware_file in hardware:
            result = run_cli(
                "validate", "--model", model, "--hardware", hardware_file, "--stats", peer_examples / "stats.json"
            )
            assert result.code == 0, (model.name, hardware_file.name, result.stderr)


def test_validate_a_formula_pack():
    result = run_cli("validate", "--pack", EXAMPLES.parent / "tests" / "data" / "pack_kv_read.yaml")
    assert result.code == 0 and "ok: " in result.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "give at least one file"),
        (["--model"], "expected one argument"),
        (["--frobnicate", "x"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2(args, fragment):
    result = run_cli("validate", *args)
    assert result.code == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def test_version():
    result = run_cli("--version")
    assert result.code == 0 and result.stdout.startswith("symcost ")
