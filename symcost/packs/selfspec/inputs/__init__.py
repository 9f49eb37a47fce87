"""Readers for the input files: each returns a plain dataclass or raises InputError."""

from .hardware import Coefficient, HardwareSpec, read_hardware
from .library import ComponentLibrary, read_library_file
from .model import BlockPolicy, ModelSpec, read_model
from .stats import StatsSpec, read_stats

__all__ = [
    "BlockPolicy",
    "Coefficient",
    "ComponentLibrary",
    "HardwareSpec",
    "ModelSpec",
    "StatsSpec",
    "read_hardware",
    "read_library_file",
    "read_model",
    "read_stats",
]
