"""Reading the evaluated quantities: feasibility class, reason codes, bottleneck shares, explanations.

Everything here compares or formats numbers the pack computed; it computes no
cost. Functions take the evaluator's arrays, so one call classifies one
scenario or every solver candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IN_VRAM, WITH_OFFLOAD, INSUFFICIENT = "in_vram", "with_offload", "insufficient_memory"
CLASSES = np.array([IN_VRAM, WITH_OFFLOAD, INSUFFICIENT])
# bottleneck name -> pack quantity holding its share of a decode step
SHARES = {
    "memory_bandwidth": "share_memory",
    "compute": "share_compute",
    "offload_bandwidth": "share_offload",
    "interconnect": "share_interconnect",
    "fixed_overhead": "share_overhead",
}
SIGNIFICANT_SHARE = 0.10


def feasibility_codes(results: dict[str, np.ndarray]) -> np.ndarray:
    """0 in_vram, 1 with_offload, 2 insufficient_memory, per element."""
    short = (results["vram_short"] > 0) | (results["ram_short"] > 0)
    offloaded = results["W_off"] > 0
    return np.where(short, 2, np.where(offloaded, 1, 0))


def reason_codes(results: dict[str, np.ndarray], index=()) -> list[str]:
    """Why one scenario (element ``index``) is not simply in VRAM."""
    value = lambda name: float(results[name][index])  # noqa: E731
    reasons = []
    if value("M_excess") > 0:
        reasons.append("exceeds_vram")
    if value("W_off") > 0:
        reasons.append("weights_offloaded")
    if value("vram_short") > 0:
        reasons.append("vram_capacity" if value("W_off") < value("W") else "kv_cache_and_buffers_exceed_vram")
    if value("ram_short") > 0:
        reasons.append("host_ram_capacity")
    return reasons


@dataclass(frozen=True)
class Bottleneck:
    name: str
    share: float
    explanation: str


def bottlenecks(results: dict[str, np.ndarray], offload_path: str, index=()) -> list[Bottleneck]:
    """Shares of a decode step, largest first, each with what it means."""
    value = lambda name: float(results[name][index])  # noqa: E731
    found = []
    for name, quantity in SHARES.items():
        share = value(quantity)
        if share > 0:
            found.append(
                Bottleneck(
                    name if name != "offload_bandwidth" else offload_path,
                    share,
                    _explain(name, share, value, offload_path),
                )
            )
    return sorted(found, key=lambda item: -item.share)


def _explain(name: str, share: float, value, offload_path: str) -> str:
    percent = f"{share:.0%} of each decode step"
    if name == "memory_bandwidth":
        return (
            f"Decode is memory-bandwidth bound: each step reads {value('D_step') / 1e9:.2f} GB (weights and KV cache) "
            f"from device memory ({percent})."
        )
    if name == "compute":
        return f"Decode is compute bound: {value('FLOP_step') / 1e9:.1f} GFLOP per step ({percent}); batching no longer hides the weights."
    if name == "offload_bandwidth":
        return (
            f"{value('W_off') / 1e9:.1f} GB of weights live in host RAM and are read over the "
            f"{offload_path.replace('_', ' ')} every step ({percent})."
        )
    if name == "interconnect":
        return f"Tensor/pipeline-parallel communication between devices takes {percent}."
    return f"Fixed per-step overhead (kernel launches, sampling) is {percent}; small models are launch-bound."


def memory_explanations(results: dict[str, np.ndarray], index=()) -> list[str]:
    value = lambda name: float(results[name][index]) / 1e9  # noqa: E731
    lines = []
    if value("M_excess") > 0:
        lines.append(
            f"One device needs {value('M_device_need'):.1f} GB but {value('C_use'):.1f} GB is usable: "
            f"short by {value('M_excess'):.1f} GB."
        )
    if value("W_off") > 0:
        lines.append(f"{value('W_off'):.1f} GB of weights ({float(results['f_off'][index]):.0%}) are kept in host RAM.")
    if value("vram_short") > 0:
        lines.append(
            f"Even after offloading, one device lacks {value('vram_short'):.1f} GB (KV cache, activations, buffers)."
        )
    if value("ram_short") > 0:
        lines.append(f"Host RAM lacks {value('ram_short'):.1f} GB for the offloaded weights.")
    if value("M_kv") > value("W"):
        lines.append(
            f"The KV cache ({value('M_kv'):.1f} GB) outweighs the weights ({value('W'):.1f} GB): "
            "a shorter context or fewer concurrent sequences frees the most memory."
        )
    return lines
