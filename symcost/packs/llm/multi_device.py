"""How a runtime spreads one model over several devices: its named multi-device modes and the default one.

Each runtime's ``multi_device`` (catalogs/runtimes.yaml) maps its own mode names (llama.cpp's
``--split-mode layer`` / ``row``, vLLM's tensor and pipeline parallelism) to one of two kinds the pack
models (formulas/llm.yaml): ``pipeline``, devices holding consecutive layers that run one after another
(the layout's pipeline degree: a single sequence reads every weight at one device's bandwidth, plus a
hand-over per stage boundary), and ``tensor``, each layer's matrices split across the devices (the
layout's tensor degree: bandwidth and compute add, all-reduces per layer). Here is only the mapping
from a device count and a mode to the layout; the costs are the pack's.
"""

from __future__ import annotations

from ...errors import SymcostError
from .catalog import CatalogEntry


class MultiDeviceError(SymcostError):
    """A multi-device mode the runtime does not have, or devices given twice."""


def modes(runtime: CatalogEntry) -> dict[str, str]:
    """Mode name -> kind (tensor or pipeline) of the runtime."""
    return dict((runtime.get("multi_device") or {}).get("modes") or {})


def default_mode(runtime: CatalogEntry) -> str | None:
    return (runtime.get("multi_device") or {}).get("default")


def degrees_for(runtime: CatalogEntry, devices: int, mode: str | None) -> tuple[int, int]:
    """(tensor, pipeline) degrees of ``devices`` devices in ``mode`` (default: the runtime's default mode)."""
    chosen = mode or default_mode(runtime)
    known = modes(runtime)
    if chosen not in known:
        raise MultiDeviceError(
            f"runtime {runtime.id} has no multi-device mode {chosen!r}: "
            f"valid modes are {', '.join(known) or 'none (one device only)'}"
        )
    return (devices, 1) if known[chosen] == "tensor" else (1, devices)


def has_kind(runtime: CatalogEntry, kind: str) -> bool:
    return kind in modes(runtime).values()


def mode_of(runtime: CatalogEntry, tensor_parallel: int, pipeline_parallel: int) -> str | None:
    """The runtime's name for a layout's use of devices (``row+layer`` for both kinds), None on one device;
    of two modes of one kind, the default."""
    used = [kind for kind, degree in (("tensor", tensor_parallel), ("pipeline", pipeline_parallel)) if degree > 1]
    named = sorted(modes(runtime).items(), key=lambda item: item[0] != default_mode(runtime))
    return "+".join(next((name for name, of in named if of == kind), kind) for kind in used) or None
