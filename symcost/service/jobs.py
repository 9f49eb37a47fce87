"""The work that runs in worker processes: picklable arguments in, JSON-ready results out.

The forkserver imports this module once (and with it SymPy, numpy and the
libraries), so every worker forked from it starts with them loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sympy  # noqa: F401 - for the selfspec compiles; the llm model loaded from the cache does not import it

from ..packs.llm.analytic import analytic_model
from ..packs.llm.calibration import Bundle
from ..packs.llm.estimate import estimate
from ..packs.llm.ingest import refit
from ..packs.llm.recommend import recommended_configs
from ..packs.llm.scenario import Scenario
from ..packs.llm.store import Store
from . import selfspec  # noqa: F401 - loaded in the forkserver for the selfspec jobs


def warm_up() -> None:
    analytic_model()


def estimate_response(scenario: Scenario, bundle: Bundle, recommend: int) -> dict[str, Any]:
    """Seed 004 section 6.1: the estimate, and ``recommend`` configurations (a solver run) when asked."""
    response = estimate(scenario, bundle)
    response["recommended_configs"] = recommended_configs(scenario, bundle, recommend) if recommend else []
    return response


def refit_store(db: str) -> str:
    """Refit the calibration on the store's records; the new bundle's id (the bundle is stored)."""
    with Store(Path(db)) as store:
        return refit(store).bundle_id
