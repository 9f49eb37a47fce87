"""symcost: a symbolic cost-model compiler for LLM inference hardware.

Cost models are data (YAML formula packs over declared symbols); symcost
validates the inputs, builds SymPy expressions through a whitelist parser,
derives closed forms, compiles numpy evaluators and emits auditable reports.
"""

from importlib import import_module

from .errors import FormulaError, InputError, InputIssue, SymcostError

# The one place the version is written: pyproject.toml reads it from here (without importing symcost).
# Asking importlib.metadata instead would cost `symcost --version` about 30 ms of its start-up.
__version__ = "0.1.0"

# The model API pulls in SymPy and numpy (about half a second); it is imported on first use (PEP 562)
# so that `import symcost` and the CLI's --version and --help stay fast.
_LAZY = {"CostModel": ".packs.selfspec.model", "build_model": ".packs.selfspec.model", "parse_formula": ".formula"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'symcost' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CostModel",
    "FormulaError",
    "InputError",
    "InputIssue",
    "SymcostError",
    "__version__",
    "build_model",
    "parse_formula",
]
