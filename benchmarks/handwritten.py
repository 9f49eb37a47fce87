"""Hand-written numpy for the per-token energy and latency of the Llama-2-7B examples (K = 4, stats_k4).

The practical limit for an evaluator: what a person would type for one
example's closed form as a function of L_prompt, every other input fixed.
The numbers are symcost's for these inputs (``model.closed_form(name)`` of
the serialized example; for the pipelined one the per-step pieces of the
pack's ``burst_latency``), written with 17 significant digits. The benchmark
checks each function against symcost's evaluator before timing it, so a
stale coefficient (an example file or the pack changed) stops the run
instead of producing a meaningless ratio. Valid for L_prompt >= 1.
"""

from __future__ import annotations

import numpy as np

E_COMMIT = 3.97  # E[a+1] of stats_k4.yaml


def serialized_knobs(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """model_llama2_7b + hardware_knobs (serialized, no leakage): both metrics are affine in L."""
    energy = 2.3782851385390424e-10 * L + 5.954945460296221e-05
    latency = 4.161128463476071e-07 * L + 0.0024223173020050375
    return energy, latency


def pipelined_soc(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """model_llama2_7b + hardware_soc_pipelined: the layer-pipelined burst of formulas/selfspec.yaml,

    draft + first verify step with its memory time
    + sum over i = 1..3 of max(slowest layer, memory time) + max(bonus layer, memory time) at i = 4,
    with the memory time of step i max(SRAM read, fabric, HBM read at L + i) + write time.
    """
    sram_read = 5.777777777777778e-07 * L + 2.9634600163000005e-08
    hbm_read = 1.664e-05 * L + 2.0e-09
    layer = 5.9904e-07 * L

    def memory(step: int) -> np.ndarray:
        fabric = 1.2051270399999999e-05 * step + 3.80895e-09 if step > 0 else 0.0
        return np.maximum(np.maximum(sram_read, fabric), hbm_read + 1.664e-05 * step) + 1.6642e-05

    draft = (
        7.667712e-05 * L
        + np.maximum(6.656e-05 * L + 9.9842e-05, 2.311111111111111e-06 * L + 2.9634600163000005e-08)
        + 2.7053378589726065
    )
    first_verify_step = 1.916928e-05 * L + 4.925291379678752 + memory(0)
    latency = draft + first_verify_step
    for step in (1, 2, 3):
        latency += np.maximum(layer + (5.9904e-07 * step + 0.153915355614961), memory(step))
    latency += np.maximum(layer + (5.9904e-07 * 4 + 0.15383036745496104), memory(4))
    dynamic = 7.6288136228571425e-06 * E_COMMIT + 8.28121789769143e-05 * L + 0.020005590024842066
    leakage_power = 2.7634765424628536
    return (dynamic + leakage_power * latency) / E_COMMIT, latency / E_COMMIT
