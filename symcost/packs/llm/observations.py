"""Measured figures next to the analytical model's predictions, evaluated in one batch.

An :class:`Observation` is one measured metric of one run record. All
observations of a set are evaluated in one call of the compiled model: the
scenario inputs are stacked into arrays, and each observation's coefficients
(which depend on its runtime and hardware class) are arrays too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .analytic import AnalyticModel, analytic_model
from .inputs import COEFFICIENT_FIELDS
from .records import METRICS, RunRecord
from .scenario import Coefficients, Scenario


@dataclass(frozen=True)
class Provenance:
    """Where and when a record was measured, and on what: what validation groups held-out errors by."""

    source: str = ""
    date: str = ""  # YYYY[-MM[-DD]]
    runtime_version: str = ""
    compute_backend: str = ""  # cuda, metal, rocm, vulkan, cpu, ...

    @classmethod
    def of(cls, record: RunRecord) -> Provenance:
        env = record.data.get("env", {})
        return cls(
            record.data.get("source", ""),
            record.data.get("source_date", ""),
            env.get("runtime_version", ""),
            env.get("backend", ""),
        )


@dataclass(frozen=True)
class Observation:
    run_id: str
    metric: str  # record metric (decode_toks_sec)
    quantity: str  # pack quantity it measures (decode_tps)
    measured: float  # SI
    scenario: Scenario
    provenance: Provenance = Provenance()

    @property
    def hardware(self) -> str:
        return self.scenario.hardware.id

    @property
    def backend(self) -> str:
        return self.scenario.pooling_keys[0]


def observations(records: Sequence[RunRecord], metrics: Sequence[str] | None = None) -> list[Observation]:
    found = []
    for record in records:
        scenario, provenance = record.scenario(), Provenance.of(record)
        for metric, value in record.metrics.items():
            if metric in METRICS and (metrics is None or metric in metrics):
                quantity, factor = METRICS[metric]
                found.append(Observation(record.run_id, metric, quantity, value * factor, scenario, provenance))
    return found


class Batch:
    """Observations stacked for the compiled model; :meth:`predict` takes per-observation coefficients."""

    def __init__(self, items: Sequence[Observation], model: AnalyticModel | None = None):
        self.items = list(items)
        self.model = model or analytic_model()
        # The observations of one record share its scenario: each is bound once.
        bound = {id(item.scenario): item.scenario for item in self.items}
        by_scenario = {key: self.model.scenario_values(scenario) for key, scenario in bound.items()}
        rows = [by_scenario[id(item.scenario)] for item in self.items]
        self.values = {name: np.array([row[name] for row in rows], dtype=float) for name in rows[0]} if rows else {}
        self.measured = np.array([item.measured for item in self.items])
        quantities = sorted({item.quantity for item in self.items})
        self.quantity_rows = {
            q: np.array([i for i, item in enumerate(self.items) if item.quantity == q]) for q in quantities
        }

    def predict(self, coefficients: Callable[[Observation], Coefficients] | None = None) -> np.ndarray:
        values = dict(self.values)
        if coefficients is not None:
            chosen = [coefficients(item) for item in self.items]
            for name, (
                field,
                _,
            ) in COEFFICIENT_FIELDS.items():  # the pack's coefficient symbols are named as their bindings
                values[name] = np.array([getattr(c, field) for c in chosen])
        results = self.model.evaluate(values)
        predicted = np.empty(len(self.items))
        for quantity, rows in self.quantity_rows.items():
            predicted[rows] = results[quantity][rows]
        return predicted

    def log_errors(self, coefficients: Callable[[Observation], Coefficients] | None = None) -> np.ndarray:
        """log(predicted / measured) per observation."""
        return np.log(self.predict(coefficients) / self.measured)
