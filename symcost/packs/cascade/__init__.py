"""Speculative cascades (seed 003): the cascade file, its engine over formulas/cascade.yaml,
placement feasibility, claims checks and the design-space search."""
