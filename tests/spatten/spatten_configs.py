"""SpAtten configurations for the tests: the seed's example, edited copies, and random ones (hypothesis)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from conftest import EXAMPLES
from hypothesis import strategies as st

EXAMPLE = EXAMPLES / "spatten_v11_cv_demo_optimistic.yaml"


def example_data() -> dict:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["memory"]["bandwidth_GBps"] = 128.0  # the file's '1024 Gbit/s', as the oracle reads numbers
    return data


def edited(changes: dict[str, object], data: dict | None = None) -> dict:
    """A copy of ``data`` (the example by default) with dotted fields set."""
    data = copy.deepcopy(example_data() if data is None else data)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    return data


def write_config(directory: Path, data: dict, name: str = "spatten.yaml") -> Path:
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _decimal(low: str, high: str, places: int):
    return st.decimals(low, high, places=places).map(float)


@st.composite
def configs(draw, max_layers: int = 5, max_tokens: int = 96) -> dict:
    """A complete random configuration; small layer and token counts keep enumeration possible."""
    factor = _decimal("0", "2", 4)
    probability = _decimal("0.001", "1", 3)
    return edited(
        {
            "model.layers": draw(st.integers(1, max_layers)),
            "model.initial_tokens": draw(st.integers(1, max_tokens)),
            "model.heads": draw(st.integers(1, 16)),
            "model.embedding_dim": draw(st.integers(1, 1024)),
            "model.bytes_per_element": draw(st.sampled_from([1, 2, 4])),
            "model.token_pruning_rate": draw(_decimal("0", "0.95", 2)),
            **{
                f"hardware_latency.{name}": draw(factor)
                for name in (
                    "qk_mult_factor",
                    "softmax_factor",
                    "av_mult_factor",
                    "score_comp_factor",
                    "proxy_col_sum_factor",
                    "top_k_factor",
                    "predictor_compute_factor",
                )
            },
            "hardware_latency.min_stage_cycles": draw(st.sampled_from([0, 1, 2])),
            "memory.latency_cycles": draw(st.integers(0, 100)),
            "memory.bandwidth_GBps": draw(_decimal("0.5", "1000", 1)),
            "memory.clock_GHz": draw(_decimal("0.1", "4", 2)),
            "memory.saturation_window_multiplier": draw(_decimal("0", "4", 2)),
            "memory.vectors_per_token": draw(st.integers(0, 3)),
            "speculation.precision": draw(probability),
            "speculation.recall": draw(probability),
            "speculation.speculative_fetch_vectors": draw(st.integers(0, 3)),
            "speculation.corrective_fetch_vectors": draw(st.integers(0, 3)),
        }
    )
