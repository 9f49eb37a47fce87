"""Plain-text renderings of the estimator's JSON results for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .catalog import KINDS, catalog

LISTED_FIELDS = {
    "models": ("params_b", "layers", "attention", "context_max"),
    "runtimes": ("backend", "scheduler", "tensor_parallel", "offload"),
    "quantizations": ("family", "bits_per_weight", "compute"),
}
# A hardware profile's figures are per device, as the catalog gives them (a 2x box: per GPU, its count in
# 'devices'); a CPU-only server's bandwidth and TFLOPS are its CPUs' (no VRAM). '-': the catalog has none.
HARDWARE_HEADERS = (
    "id",
    "class",
    "memory",
    "devices",
    "vram GB/gpu",
    "mem bw GB/s",
    "fp16 TFLOPS",
    "ram GB",
    "price USD",
)
MISSING = "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(value) for value in row] for row in rows]
    widths = [
        max(len(str(header)), *(len(row[i]) for row in cells)) if cells else len(str(header))
        for i, header in enumerate(headers)
    ]
    line = lambda values: "  ".join(str(v).ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line("-" * w for w in widths), *(line(row) for row in cells)])


def _band(value: dict[str, float]) -> str:
    if "p10" in value:
        return f"{value['p50']:g}  (p10 {value['p10']:g} .. p90 {value['p90']:g})"
    return f"{value['p50']:g}"


def estimate_text(response: dict[str, Any]) -> str:
    scenario = response["scenario"]
    lines = [
        f"{scenario['model_id']} on {scenario['hardware_id']} with {scenario['runtime_id']}, {scenario['quant']}, "
        f"TP {scenario['tensor_parallel']} x PP {scenario['pipeline_parallel']}"
        + (f" ({scenario['multi_device_mode']} split)" if scenario.get("multi_device_mode") else "")
        + f", backend {scenario['backend']}"
        + ("" if scenario["flash_attention"] else ", flash attention off"),
        f"feasibility: {response['feasibility']}"
        + (f"  ({', '.join(response['reason_codes'])})" if response["reason_codes"] else ""),
        *_calibration_line(response.get("runtime_calibrated"), response.get("backend_calibrated")),
        "",
    ]
    lines.append(table(("estimate", "value"), [(name, _band(value)) for name, value in response["estimates"].items()]))
    lines += ["", table(("memory", "GB"), list(response["memory"].items())), ""]
    lines.append(table(("decode step", "share %"), list(response["bottleneck_shares_pct"].items())))
    lines += ["", *(f"- {text}" for text in response["explanations"])]
    if response.get("warnings"):
        lines += ["", "warnings:", *(f"! {text}" for text in response["warnings"])]
    if response.get("recommended_configs"):
        lines += ["", "recommended configurations:", _configs(response["recommended_configs"])]
    coefficients = response["coefficients"]
    lines += [
        "",
        f"coefficients: eta_bw {coefficients['eta_bw']}, eta_flops {coefficients['eta_flops']}, "
        f"t0 {coefficients['t0_ms']} ms, t_layer {coefficients['t_layer_us']} us ({coefficients['origin']})",
    ]
    return "\n".join(lines)


def _calibration_line(calibrated: bool | None, on_backend: bool | None) -> list[str]:
    if calibrated is False:
        return ["calibration: UNCALIBRATED for this runtime (no measured run; intervals widened, see warnings)"]
    if on_backend is False:
        return [
            "calibration: UNCALIBRATED for this backend on this hardware class (no measured run; intervals widened, "
            "see warnings)"
        ]
    return []


def _configs(configs: Sequence[dict[str, Any]], price: bool = False) -> str:
    """Configurations as a table; ``price``: with each hardware's price (what min_hardware ranks by)."""
    headers = (
        "hardware",
        "quant",
        "TP",
        "PP",
        "offload",
        "ctx",
        "conc",
        "feasibility",
        "decode tok/s",
        "ttft ms",
        "vram GB",
        *(("price USD",) if price else ()),
    )
    return table(
        headers,
        [
            (
                c["hardware_id"],
                c["quant"],
                c["tensor_parallel"],
                c["pipeline_parallel"],
                c["offload"],
                c["context_alloc"],
                c["concurrency"],
                c["feasibility"],
                _band(c["decode_toks_sec"]),
                c["ttft_ms"],
                c["vram_peak_gb"],
                *((_number(c.get("price_usd")),) if price else ()),
            )
            for c in configs
        ],
    )


def _number(value: Any) -> str:
    # 12 digits: a catalog figure as written (40.6, 23610), a float price without its '.0'
    return MISSING if value is None else f"{value:.12g}"


def solve_text(result: dict[str, Any]) -> str:
    lines = [
        f"objective {result['objective']}: {result['candidates']:,} candidates, {result['evaluated']:,} evaluated, "
        f"{result['feasible']:,} acceptable",
        "",
    ]
    # The price column whenever a row has one: the cheapest-hardware ranking (solve without --hardware) is by it.
    price = any("price_usd" in row for row in result["top"])
    lines.append(
        _configs(result["top"], price) if result["top"] else "no configuration is feasible and meets the constraints"
    )
    if result["rejected"]:
        lines += ["", table(("rejected because", "candidates"), list(result["rejected"].items()))]
    return "\n".join(lines)


def validation_text(report: dict[str, Any]) -> str:
    lines = [
        f"{report['observations']} measured figures, calibration {report['calibration'] or 'none (runtime defaults)'}",
        "",
    ]
    for title, key in (("metric", "by_metric"), ("hardware class", "by_hardware_class"), ("runtime", "by_runtime")):
        rows = report[key]
        group = (
            [k for k in rows[0] if k not in ("metric", "n", "median_abs_pct", "mape_pct", "median_signed_pct")]
            if rows
            else []
        )
        lines += [
            f"by {title}:",
            table(
                ("metric", *group, "n", "median |err| %", "MAPE %", "median err %"),
                [
                    (
                        r["metric"],
                        *(r[g] for g in group),
                        r["n"],
                        r["median_abs_pct"],
                        r["mape_pct"],
                        r["median_signed_pct"],
                    )
                    for r in rows
                ],
            ),
            "",
        ]
    lines += [f"DRIFT: {alarm}" for alarm in report["drift_alarms"]] or ["no drift alarm"]
    lines += quarantine_lines(report["quarantined"], "left out of the tables")
    return "\n".join(lines)


def quarantine_lines(quarantined: Sequence[dict[str, str]], effect: str, limit: int = 10) -> list[str]:
    """A heading saying the ``effect`` of quarantine, one line per record (the first ``limit``), and how many more."""
    if not quarantined:
        return []
    lines = [f"quarantined {len(quarantined)} record{'s' if len(quarantined) > 1 else ''} ({effect}):"]
    lines += [f"  {_printable(entry['run_id'])}: {_printable(entry['reason'])}" for entry in quarantined[:limit]]
    if len(quarantined) > limit:
        lines.append(f"  ... and {len(quarantined) - limit} more")
    return lines


def _printable(text: str) -> str:
    # Ids and reasons quote user text: control characters would break the one-line form or drive the terminal.
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def catalog_text(kind: str | None) -> str:
    if kind is None:
        return table(("catalog", "entries"), [(name, len(catalog(name))) for name in KINDS])
    if kind == "hardware":
        return table(HARDWARE_HEADERS, [_hardware_row(entry.data) for entry in catalog(kind)])
    fields = LISTED_FIELDS[kind]
    return table(("id", *fields), [(entry.id, *(entry.get(field, "") for field in fields)) for entry in catalog(kind)])


def _hardware_row(profile: dict[str, Any]) -> tuple[str, ...]:
    gpus = profile["gpus"]
    if gpus:
        devices = " + ".join(f"{gpu['count']}x {gpu['sku']}" for gpu in gpus)
        vram, bandwidth, tflops = (
            " + ".join(_number(gpu.get(field)) for gpu in gpus) for field in ("vram_gb", "mem_bw_gbps", "fp16_tflops")
        )
    else:
        cpu = profile["cpu"]
        devices, vram = f"CPU {cpu['sku']}", MISSING
        bandwidth, tflops = _number(cpu.get("mem_bw_gbps")), _number(cpu.get("fp16_tflops"))
    return (
        profile["hardware_id"],
        profile["class"],
        profile["memory"],
        devices,
        vram,
        bandwidth,
        tflops,
        _number(profile.get("ram_gb")),
        _number(profile.get("price_usd")),
    )
