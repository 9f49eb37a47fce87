"""SpAtten-style speculative token pruning with lookahead (seed 002): the
``formulas/spatten.yaml`` pack bound to a configuration, its exact expected
values, a seeded Monte Carlo on the compiled evaluator, and plots."""
