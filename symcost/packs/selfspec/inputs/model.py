"""The model file: transformer dimensions and the draft precision policy."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ....checked import checked_document
from ....errors import InputError, InputIssue

BLOCKS = ("qkv", "wo", "ffn")
DEFAULT_FFN_EXPANSION = 4.0


@dataclass(frozen=True)
class BlockPolicy:
    """Precision ('draft' or 'full') of each analog block while drafting."""

    qkv: str = "draft"
    wo: str = "draft"
    ffn: str = "draft"

    def of(self, block: str) -> str:
        return getattr(self, block)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    activation_bits: int
    ffn_type: str
    d_ff: int
    default_policy: BlockPolicy = field(default_factory=BlockPolicy)
    per_layer_policy: dict[int, BlockPolicy] = field(default_factory=dict)
    source: str = ""

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    def policy(self, layer: int) -> BlockPolicy:
        return self.per_layer_policy.get(layer, self.default_policy)

    def layer_groups(self) -> list[tuple[BlockPolicy, int]]:
        """Distinct layer policies with how many layers use each (order of first use)."""
        # From the per-layer entries, not layer by layer: the work must not grow with n_layers.
        first_use: dict[BlockPolicy, int] = {}
        counts: Counter = Counter()
        for layer, policy in self.per_layer_policy.items():
            first_use[policy] = min(first_use.get(policy, layer), layer)
            counts[policy] += 1
        default_layers = self.n_layers - len(self.per_layer_policy)
        if default_layers:
            first_default = next(
                layer for layer in range(len(self.per_layer_policy) + 1) if layer not in self.per_layer_policy
            )
            first_use[self.default_policy] = min(first_use.get(self.default_policy, first_default), first_default)
            counts[self.default_policy] += default_layers
        return [(policy, counts[policy]) for policy in sorted(first_use, key=first_use.get)]


def read_model(path: str | Path, overrides: dict[str, Any] | None = None) -> ModelSpec:
    """Read and check a model file; ``overrides`` (dotted field -> value) change fields before the checks."""
    document = checked_document(path, "model", overrides)
    data, label = document.data, document.label
    issues = list(_semantic_issues(data, label))
    if issues:
        raise InputError(issues)
    policy = data.get("draft_policy", {})
    d_ff = data.get("d_ff")
    if d_ff is None:
        d_ff = int(round(data["d_model"] * data.get("ffn_expansion", DEFAULT_FFN_EXPANSION)))
    return ModelSpec(
        name=data.get("name") or Path(path).stem,
        n_layers=data["n_layers"],
        d_model=data["d_model"],
        n_heads=data["n_heads"],
        n_kv_heads=data.get("n_kv_heads", data["n_heads"]),
        activation_bits=data["activation_bits"],
        ffn_type=data.get("ffn_type", "mlp"),
        d_ff=d_ff,
        # A per-layer entry replaces the default for that layer; blocks it omits run
        # at draft precision (the reference implementation's rule, kept for parity).
        default_policy=BlockPolicy(**policy.get("default", {})),
        per_layer_policy={int(layer): BlockPolicy(**blocks) for layer, blocks in policy.get("per_layer", {}).items()},
        source=str(path),
    )


def _semantic_issues(data: dict, label: str):
    d_model, n_heads = data["d_model"], data["n_heads"]
    if d_model % n_heads:
        yield InputIssue(label, "n_heads", f"expected a divisor of d_model ({d_model}), got {n_heads}")
    n_kv_heads = data.get("n_kv_heads")
    if n_kv_heads is not None and n_heads % n_kv_heads:
        yield InputIssue(label, "n_kv_heads", f"expected a divisor of n_heads ({n_heads}), got {n_kv_heads}")
    n_layers = data["n_layers"]
    for layer in data.get("draft_policy", {}).get("per_layer", {}):
        if int(layer) >= n_layers:
            yield InputIssue(
                label,
                f"draft_policy.per_layer.{layer}",
                f"expected a layer index in 0..{n_layers - 1} (n_layers = {n_layers}), got {layer}",
            )
    if data.get("d_ff") is None and round(d_model * data.get("ffn_expansion", DEFAULT_FFN_EXPANSION)) < 1:
        yield InputIssue(label, "ffn_expansion", "gives d_ff < 1")
