"""Which compute backend (cuda, metal, rocm, vulkan, sycl, cpu) a scenario runs on.

A runtime is built for some backends and a machine's devices run some; a
scenario's backend must be in both. Without a request, the machine's default
is taken when the runtime has it (llama.cpp on a Mac: metal), else the
runtime's own default when the machine runs it, else the first the two share.
A machine file without ``backends`` (a user's own) takes any the runtime has.
"""

from __future__ import annotations

from ...errors import SymcostError
from .catalog import CatalogEntry


class BackendError(SymcostError):
    """A backend the runtime or the machine cannot run."""


def supported_backends(runtime: CatalogEntry, hardware: CatalogEntry) -> list[str]:
    """The backends both run, in the runtime's order."""
    machine = hardware.get("backends")
    return [name for name in runtime.get("backends") or [] if machine is None or name in machine]


def choose_backend(runtime: CatalogEntry, hardware: CatalogEntry, requested: str | None = None) -> str:
    """The requested backend, checked, or the default of the pair; a clear error listing the valid ones."""
    valid = supported_backends(runtime, hardware)
    if not valid:
        raise BackendError(
            f"runtime {runtime.id} runs on {_listed(runtime.get('backends'))} and {hardware.id} on "
            f"{_listed(hardware.get('backends'))}: no backend in common"
        )
    if requested:
        if requested not in valid:
            raise BackendError(
                f"backend {requested!r} cannot run {runtime.id} on {hardware.id}: valid backends are {', '.join(valid)}"
            )
        return requested
    for preferred in (hardware.get("default_backend"), runtime.get("default_backend")):
        if preferred in valid:
            return preferred
    return valid[0]


def _listed(names: list[str] | None) -> str:
    return ", ".join(names) if names else "no listed backend"
