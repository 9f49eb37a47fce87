"""symcost: a symbolic cost-model compiler for LLM inference hardware.

Cost models are data (YAML formula packs over declared symbols); symcost
validates the inputs, builds SymPy expressions through a whitelist parser,
derives closed forms, compiles numpy evaluators and emits auditable reports.
"""
from importlib.metadata import PackageNotFoundError, version as _version

from .errors import FormulaError, InputError, InputIssue, SymcostError
from .formula import parse_formula
from .packs.selfspec.model import CostModel, build_model

try:
    __version__ = _version("symcost")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = ["CostModel", "FormulaError", "InputError", "InputIssue", "SymcostError", "__version__", "build_model",
           "parse_formula"]
