"""The selfspec pack (dual-mode residual analog accelerator with self-speculation): its model for the generic verbs."""
from .pack_model import SelfspecModel

__all__ = ["SelfspecModel"]
