"""The hostile-input corpus, run as a user runs symcost: each case is a subprocess.

Every case must end with exit code 2 and exactly one error line naming what
was refused, write nothing to stdout, leave the working folder as it was (no
output file, no partial file), leave no evaluator in the cache (the refusal
comes before any compilation, except where a case says it compiles), and
execute nothing (a sentinel file that an injection would create stays absent).
The subprocess timeout is a hang guard; docs/security.md records how long the
corpus takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from conftest import EXAMPLES, run_cli

MODEL = str(EXAMPLES / "model_tiny.yaml")
HARDWARE = str(EXAMPLES / "hardware_knobs.yaml")
STATS = str(EXAMPLES / "stats_k4.yaml")
MODEL_7B = str(EXAMPLES / "model_llama2_7b.yaml")
HARDWARE_SOC = str(EXAMPLES / "hardware_soc_pipelined.yaml")
GOOD_HARDWARE = (EXAMPLES / "hardware_knobs.yaml").read_text()
GOOD_SOC = (EXAMPLES / "hardware_soc_pipelined.yaml").read_text()
GOOD_MODEL = (EXAMPLES / "model_tiny.yaml").read_text()
PACK = (EXAMPLES.parent / "tests" / "data" / "pack_kv_read.yaml").read_text()
CSV_HEADER = (
    "source,runtime,model,params_b,layers,hidden,n_heads,n_kv_heads,quant,bits_per_weight,hardware,"
    "mem_bw_GBps,peak_tflops_fp16,prompt_tokens,gen_tokens,batch,pp_tok_s,tg_tok_s,vram_gb,notes\n"
)
CSV_ROW = (
    '"a bench",llama.cpp (CUDA/Metal),Llama-3 8B,8.03,32,4096,32,8,Q4_K_M,4.56,RTX 4090 24GB,1008,165,'
    "512,128,1,{pp},{tg},,llama-bench\n"
)
RECORD = {
    "model_id": "llama-3-8b",
    "runtime_id": "llama.cpp",
    "hardware_id": "rtx-4090",
    "quant": "q4_k_m",
    "context_tokens": 512,
    "output_tokens": 128,
    "source": "attack corpus",
    "metrics": {"decode_toks_sec": 120.0},
}
SENTINEL = "SENTINEL"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@dataclass(frozen=True)
class Attack:
    id: str
    args: tuple[str, ...]
    expected: str  # the one error line contains this
    files: dict[str, str | bytes] = field(default_factory=dict)
    compiles: bool = False  # the refusal comes after an evaluator was compiled


def report(hardware: str = HARDWARE, stats: str = STATS, model: str = MODEL, *extra: str) -> tuple[str, ...]:
    return ("report", "--model", model, "--hardware", hardware, "--stats", stats, *extra)


def knobs(old: str, new: str) -> str:
    assert old in GOOD_HARDWARE
    return GOOD_HARDWARE.replace(old, new)


def soc(old: str, new: str) -> str:
    assert old in GOOD_SOC
    return GOOD_SOC.replace(old, new)


def pack_with_unit(unit: str) -> str:
    return PACK.replace("unit: pJ/B, source: hardware", f"unit: '{unit}', source: hardware")


def histogram(k: int, entries: int) -> str:
    return f"k: {k}\nhistogram:\n" + "".join(f"  {a}: 1\n" for a in range(entries))


def records(metric_text: str) -> str:
    """A run-record file whose decode rate is ``metric_text`` as written (``NaN`` is not valid JSON for dumps)."""
    return json.dumps({**RECORD, "metrics": {"decode_toks_sec": "METRIC"}}).replace('"METRIC"', metric_text)


UNITS = [
    Attack(
        "unit-power-tower",
        report("hw.yaml"),
        "a power may be given once",
        {"hw.yaml": knobs("1.5 pJ", '"1 J**9**9**9"')},
    ),
    Attack(
        "unit-huge-power",
        report("hw.yaml"),
        "expected a small integer power",
        {"hw.yaml": knobs("1.5 pJ", '"1 J**99999"')},
    ),
    Attack(
        "unit-power-after-parentheses",
        report("hw.yaml"),
        "powers are limited to -8..8",
        {"hw.yaml": knobs("1.5 pJ", '"1 (J^4)^4"')},
    ),
    Attack(
        "unit-code-injection",
        report("hw.yaml"),
        "is not part of a unit",
        {"hw.yaml": knobs("1.5 pJ", "\"1 J;__import__('os').system('touch SENTINEL')\"")},
    ),
    Attack(
        "unit-dunder-name", report("hw.yaml"), "is not part of a unit", {"hw.yaml": knobs("1.5 pJ", '"1 __class__"')}
    ),
    Attack(
        "unit-unknown-name", report("hw.yaml"), "unknown unit 'flibbles'", {"hw.yaml": knobs("1.5 pJ", '"1 flibbles"')}
    ),
    Attack("unit-wrong-dimension", report("hw.yaml"), "expected energy", {"hw.yaml": knobs("1.5 pJ", '"1.5 ns"')}),
    Attack(
        "unit-parentheses-too-deep",
        report("hw.yaml"),
        "parentheses nest at most 3 deep",
        {"hw.yaml": knobs("1.5 pJ", '"1 ((((J))))"')},
    ),
    Attack(
        "quantity-text-too-long",
        report("hw.yaml"),
        "longer than 80 characters",
        {"hw.yaml": knobs("1.5 pJ", '"1.5 ' + "p" * 90 + 'J"')},
    ),
    Attack(
        "pack-unit-power-tower",
        ("validate", "--pack", "pack.yaml"),
        "a power may be given once",
        {"pack.yaml": pack_with_unit("bit**9**9**9")},
    ),
    Attack(
        "pack-unit-huge-power",
        ("validate", "--pack", "pack.yaml"),
        "expected a small integer power",
        {"pack.yaml": pack_with_unit("pJ**99999")},
    ),
]

NON_FINITE = [
    Attack("yaml-nan", report("hw.yaml"), "expected a finite number, got nan", {"hw.yaml": knobs("1.5 pJ", ".nan")}),
    Attack(
        "yaml-infinity", report("hw.yaml"), "expected a finite number, got inf", {"hw.yaml": knobs("1.5 pJ", ".inf")}
    ),
    Attack("yaml-1e999", report("hw.yaml"), "expected a finite number, got inf", {"hw.yaml": knobs("1.5 pJ", "1e999")}),
    Attack("quantity-1e999", report("hw.yaml"), "not finite", {"hw.yaml": knobs("1.5 pJ", '"1e999 pJ"')}),
    Attack(
        "json-nan",
        ("validate", "--stats", "stats.json"),
        "histogram.0: expected a finite number, got nan",
        {"stats.json": '{"k": 4, "histogram": {"0": NaN, "4": 1}}'},
    ),
    Attack(
        "json-minus-infinity",
        ("validate", "--stats", "stats.json"),
        "expected a finite number, got -inf",
        {"stats.json": '{"k": 4, "histogram": {"0": -Infinity, "4": 1}}'},
    ),
    Attack(
        "record-nan-metric",
        ("llm", "calibrate", "runs.json", "--db", "store.sqlite"),
        "expected a finite number",
        {"runs.json": records("NaN")},
    ),
    Attack(
        "record-infinite-metric",
        ("llm", "calibrate", "runs.json", "--db", "store.sqlite"),
        "expected a finite number",
        {"runs.json": records("1e999")},
    ),
    Attack(
        "csv-nan-metric",
        ("llm", "calibrate", "bench.csv", "--db", "store.sqlite"),
        "expected a finite number, got 'nan'",
        {"bench.csv": CSV_HEADER + CSV_ROW.format(pp="1000", tg="nan")},
    ),
    Attack(
        "csv-infinite-metric",
        ("llm", "calibrate", "bench.csv", "--db", "store.sqlite"),
        "expected a finite number",
        {"bench.csv": CSV_HEADER + CSV_ROW.format(pp="-infinity", tg="100")},
    ),
    Attack(
        "result-subnormal-bandwidth",
        report("soc.yaml", STATS, MODEL_7B, "-o", "report.json"),
        "speculative.energy_per_token is inf at L_prompt = 128: it is driven by hardware.memory.hbm.read_bandwidth_GBps",
        {"soc.yaml": soc("read_bandwidth_GBps: 460.8 GB/s", "read_bandwidth_GBps: 1e-320")},
        compiles=True,
    ),
    Attack(
        "llm-result-subnormal-bandwidth",
        ("llm", "estimate", "--model", "llama-3-8b", "--hardware-file", "box.yaml"),
        "is inf at the scenario llama-3-8b on tiny-box",
        {
            "box.yaml": "hardware_id: tiny-box\nname: t\nclass: consumer_gpu\nmemory: discrete\n"
            "gpus: [{sku: X, count: 1, vram_gb: 24, mem_bw_gbps: 1e-320, fp16_tflops: 165, pcie_gen: 4, "
            "pcie_lanes: 16}]\ninterconnect: {type: pcie, bw_gbps: 31.5, latency_us: 2.5}\n"
            "host_link_gbps: 31.5\ncpu: {sku: c, cores: 16, mem_bw_gbps: 83.2, numa_nodes: 1}\n"
            "ram_gb: 64\nsource: attack corpus\n"
        },
        compiles=True,
    ),  # the pack's own evaluator, cached
]

SIZES = [
    Attack(
        "stats-k-1e7",
        report(HARDWARE, "stats.yaml"),
        "k: expected integer <= 256",
        {"stats.yaml": "k: 10000000\ngeometric: {alpha: 0.8}\n"},
    ),
    Attack(
        "stats-k-1e8",
        ("validate", "--stats", "stats.yaml"),
        "k: expected integer <= 256, got 100000000",
        {"stats.yaml": "k: 100000000\ngeometric: {alpha: 0.8}\n"},
    ),
    Attack(
        "histogram-too-long", ("validate", "--stats", "stats.yaml"), "histogram: ", {"stats.yaml": histogram(256, 300)}
    ),
    Attack(
        "layers-1e12",
        ("validate", "--model", "model.yaml"),
        "n_layers: expected integer <= 4096",
        {"model.yaml": GOOD_MODEL.replace("n_layers: 2", "n_layers: 1000000000000")},
    ),
    Attack(
        "prompt-range-1e9",
        report(HARDWARE, STATS, MODEL, "--prompt-range", "0:1000000000"),
        "1,000,000,000 prompt lengths are more than the 100,000",
    ),
    Attack(
        "prompt-length-above-limit",
        report(HARDWARE, STATS, MODEL, "--prompt-lengths", "128,2000000000"),
        "prompt length 2,000,000,000 is above the limit",
    ),
    Attack(
        "prompt-log-range-count",
        report(HARDWARE, STATS, MODEL, "--prompt-range", "1:100000:log1000000"),
        "1,000,000 prompt lengths are more than",
    ),
    Attack(
        "sweep-axis-1e9",
        (
            "sweep",
            "--model",
            MODEL,
            "--hardware",
            HARDWARE,
            "--stats",
            STATS,
            "--axis",
            "L_prompt=1:1000000000",
            "-o",
            "sweep.csv",
        ),
        "values on one axis: 1,000,000,000 is above the limit of 10,000,000 (about 8 GB of memory)",
    ),
    Attack(
        "sweep-grid-too-large",
        (
            "sweep",
            "--model",
            MODEL,
            "--hardware",
            HARDWARE,
            "--stats",
            STATS,
            "--axis",
            "L_prompt=1:100000",
            "--axis",
            "K=0:200",
            "--axis",
            "E_commit=1:1.5:10",
            "-o",
            "sweep.csv",
        ),
        "sweep grid points: 201,000,000 is above the limit of 100,000,000",
    ),
    Attack(
        "sweep-structural-grid-too-large",
        (
            "sweep",
            "--model",
            MODEL,
            "--hardware",
            HARDWARE,
            "--stats",
            STATS,
            "--axis",
            "analog.adc.draft_bits=3,4",
            "--axis",
            "L_prompt=1:100000",
            "--axis",
            "K=0:999",
            "-o",
            "sweep.csv",
        ),
        "sweep grid points: 200,000,000 is above the limit of 100,000,000",
    ),
    Attack(
        "explore-structural-variants",
        (
            "explore",
            "--model",
            MODEL,
            "--hardware",
            HARDWARE,
            "--stats",
            STATS,
            "--axis",
            "analog.adc.draft_bits=1:200",
            "--axis",
            "analog.adc.residual_bits=1:200",
            "--axis",
            "L_prompt=128",
            "--objective",
            "min:speculative.energy_per_token",
            "--objective",
            "min:area.on_chip",
        ),
        "structural variants (one compile each): 40,000 is above the limit of 10,000; keep the structural",
    ),
    Attack(
        "sweep-linspace-count",
        (
            "sweep",
            "--model",
            MODEL,
            "--hardware",
            HARDWARE,
            "--stats",
            STATS,
            "--axis",
            "L_prompt=1:10:100000000000",
            "-o",
            "sweep.csv",
        ),
        "values on one axis: 100,000,000,000 is above the limit",
    ),
    Attack(
        "optimize-k-max",
        ("optimize-k", "--model", MODEL, "--hardware", HARDWARE, "--stats", STATS, "--k-max", "1000000000"),
        "argument --k-max: expected an integer in 1..256",
    ),
    Attack(
        "cascade-k-max",
        ("cascade", "report", str(EXAMPLES / "cascade_seed003.yaml"), "--k-max", "100000"),
        "argument --k-max: expected an integer in 1..256",
    ),
    Attack(
        "plot-dpi",
        ("plot", "--model", MODEL, "--hardware", HARDWARE, "--stats", STATS, "-o", "p.png", "--dpi", "1000000"),
        "argument --dpi: expected an integer in 10..1,200",
    ),
    Attack(
        "llm-tensor-parallel",
        ("llm", "estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--tp", "1000000"),
        "argument --tp: expected an integer in 1..64",
    ),
    Attack(
        "llm-prompt-tokens",
        ("llm", "estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--prompt-tokens", "1000000000000"),
        "argument --prompt-tokens: expected an integer in 0..10,000,000",
    ),
    Attack(
        "llm-concurrency",
        ("llm", "estimate", "--model", "llama-3-8b", "--hardware", "rtx-4090", "--concurrency", "1000000000"),
        "argument --concurrency: expected an integer in 1..100,000",
    ),
    Attack(
        "llm-solve-list",
        ("llm", "solve", "--model", "llama-3-8b", "--context-caps", ",".join(["4096"] * 1000)),
        "expected at most 64 values",
    ),
    Attack(
        "spatten-trials",
        ("spatten", "run", "spatten.yaml"),
        "above the limit of 200,000,000 Monte Carlo draws",
        {
            "spatten.yaml": (EXAMPLES / "spatten_v11_cv_demo_optimistic.yaml")
            .read_text()
            .replace("trials: 50", "trials: 10000000")
            .replace("layers: 12", "layers: 1000")
        },
    ),
]

DOCUMENTS = [
    Attack(
        "nul-bytes",
        ("validate", "--stats", "stats.yaml"),
        "contains a NUL character",
        {"stats.yaml": b"k: 4\nhist\0ogram: {0: 1}\n"},
    ),
    Attack("not-utf8", ("validate", "--stats", "stats.yaml"), "not UTF-8 text", {"stats.yaml": b"k: 4 \xff\xfe\n"}),
    Attack(
        "duplicate-key-00",
        ("validate", "--stats", "stats.yaml"),
        "histogram.0: key appears twice in the same mapping (written '00')",
        {"stats.yaml": "k: 4\nhistogram: {0: 1, 00: 5}\n"},
    ),
    Attack(
        "duplicate-key-0x0",
        ("validate", "--stats", "stats.yaml"),
        "histogram.0: key appears twice in the same mapping (written '0x0')",
        {"stats.yaml": "k: 4\nhistogram: {0: 1, 0x0: 5}\n"},
    ),
    Attack(
        "duplicate-key-text-and-number",
        ("validate", "--stats", "stats.yaml"),
        "histogram.0: key appears twice",
        {"stats.yaml": "k: 4\nhistogram: {0: 1, '0': 5}\n"},
    ),
    Attack(
        "json-duplicate-key",
        ("validate", "--stats", "stats.json"),
        "k: key appears twice",
        {"stats.json": '{"k": 4, "k": 5, "histogram": {"0": 1}}'},
    ),
    Attack(
        "yaml-nested-900",
        ("validate", "--model", "model.yaml"),
        "nested deeper than 64 levels",
        {"model.yaml": "n_layers: " + "[" * 900 + "]" * 900 + "\n"},
    ),
    Attack(
        "json-nested-100k",
        ("validate", "--stats", "stats.json"),
        "nested deeper than 64 levels",
        {"stats.json": '{"k": ' + "[" * 100_000 + "]" * 100_000 + "}"},
    ),
    Attack(
        "yaml-5000-digit-integer",
        ("validate", "--model", "model.yaml"),
        "an integer with more than 4300 digits",
        {"model.yaml": GOOD_MODEL.replace("n_layers: 2", "n_layers: " + "9" * 5000)},
    ),
    Attack(
        "json-5000-digit-integer",
        ("validate", "--stats", "stats.json"),
        "an integer with more than 4300 digits",
        {"stats.json": '{"k": ' + "9" * 5000 + ', "histogram": {"0": 1}}'},
    ),
    Attack(
        "integer-beyond-2-53",
        ("validate", "--model", "model.yaml"),
        "expected a number within +-9007199254740992",
        {"model.yaml": GOOD_MODEL.replace("d_model: 64", f"d_model: {2**60}")},
    ),
    Attack(
        "d-model-4e400",
        ("validate", "--model", "model.yaml"),
        "d_model: expected a finite number, got inf",
        {"model.yaml": GOOD_MODEL.replace("d_model: 64", "d_model: 4e400")},
    ),
    Attack(
        "alias-bomb",
        ("validate", "--model", "model.yaml"),
        "document expands to more than 200000 nodes",
        {"model.yaml": BOMB},
    ),
    Attack(
        "python-tag",
        ("validate", "--model", "model.yaml"),
        "could not determine a constructor",
        {"model.yaml": "n_layers: !!python/object/apply:os.system ['touch SENTINEL']\n"},
    ),
    Attack(
        "file-too-large",
        ("validate", "--stats", "stats.yaml"),
        "at most 8388608 are read",
        {"stats.yaml": "k: 4\n#" + "x" * (9 * 1024 * 1024) + "\n"},
    ),
    Attack("directory-as-file", ("validate", "--stats", "."), "file not found"),
    Attack(
        "unsupported-suffix",
        ("validate", "--stats", "stats.txt"),
        "unsupported file type '.txt'",
        {"stats.txt": "k: 4\n"},
    ),
    Attack(
        "library-path-traversal",
        report("hw.yaml"),
        "library_file",
        {"hw.yaml": GOOD_HARDWARE.replace("library: puma_like_v1", "library_file: ../../../../etc/passwd")},
    ),
]

FORMULAS = [
    Attack(
        "formula-import",
        ("validate", "--pack", "pack.yaml"),
        "function '__import__' is not on the whitelist",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "'__import__(os)'")},
    ),
    Attack(
        "formula-quoted-code",
        ("validate", "--pack", "pack.yaml"),
        "is not part of the formula language",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "\"__import__('os').system('touch SENTINEL')\"")},
    ),
    Attack(
        "formula-subclass-walk",
        ("validate", "--pack", "pack.yaml"),
        "calling anything but a named function is not allowed",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "'kv_bytes.__class__.__subclasses__()'")},
    ),
    Attack(
        "formula-power-tower",
        ("validate", "--pack", "pack.yaml"),
        "numeric exponent larger than 64",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "'kv_bytes * E_hbm * 9**9**9**9'")},
    ),
    Attack(
        "formula-5000-terms",
        ("validate", "--pack", "pack.yaml"),
        "characters long; at most 4000",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "'" + " + ".join(["kv_bytes * E_hbm"] * 5000) + "'")},
    ),
    Attack(
        "formula-too-many-nodes",
        ("validate", "--pack", "pack.yaml"),
        "more than 2000 syntax nodes",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "'kv_bytes * E_hbm * (" + "+".join(["1"] * 1990) + ")'")},
    ),
    Attack(
        "formula-lambda",
        ("validate", "--pack", "pack.yaml"),
        "character ':' is not part of the formula language",
        {"pack.yaml": PACK.replace("'kv_bytes * E_hbm'", "'(lambda: 1)()'")},
    ),
    Attack(
        "pack-symbol-dunder",
        ("validate", "--pack", "pack.yaml"),
        "'__class__' is reserved",
        {
            "pack.yaml": PACK.replace(
                "symbols:\n", "symbols:\n  - {name: __class__, description: x, unit: '1', source: model}\n"
            )
        },
    ),
]

CORPUS = UNITS + NON_FINITE + SIZES + DOCUMENTS + FORMULAS


def _snapshot(folder):
    return {path.relative_to(folder): path.stat().st_size for path in folder.rglob("*")}


def _cache_entries(cache):
    return [path for path in cache.rglob("evaluator.py")] if cache.exists() else []


@pytest.mark.parametrize("attack", CORPUS, ids=[attack.id for attack in CORPUS])
def test_attack_is_refused_in_one_line(attack, tmp_path):
    work, cache, data = tmp_path / "work", tmp_path / "cache", tmp_path / "data"
    work.mkdir()
    for name, content in attack.files.items():
        (work / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    before = _snapshot(work)
    result = run_cli(
        *attack.args, cwd=work, env={"SYMCOST_CACHE_DIR": str(cache), "SYMCOST_DATA_DIR": str(data)}, timeout=30
    )
    lines = result.stderr.strip().splitlines()
    assert result.code == 2, result.stderr
    assert len(lines) == 1 and "error" in lines[0] and attack.expected in lines[0], result.stderr
    assert result.stdout == ""
    assert _snapshot(work) == before, "a file was written or left behind"
    assert not (work / SENTINEL).exists() and not (tmp_path / SENTINEL).exists()
    assert attack.compiles or not _cache_entries(cache), "an evaluator was compiled for a refused input"
    assert not data.exists() or not any(data.iterdir()), "a store was created"


def test_corpus_is_large_and_unique():
    assert len(CORPUS) >= 60 and len({attack.id for attack in CORPUS}) == len(CORPUS)


def test_closed_stdout_exits_quietly(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "symcost", *report(HARDWARE, STATS, MODEL, "--prompt-range", "0:20000")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as process:
        process.stdout.readline()
        process.stdout.close()  # the reader goes away, as `| head -1` does
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert code == 141 and stderr == ""
