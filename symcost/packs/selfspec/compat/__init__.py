"""Compatibility with the reference calculator (pku-lemonade/selfspec-calculator).

One module per job: ``layout`` (its report layout from symcost's outputs),
``echo`` (its echoes of the inputs), ``acceptance`` (its k-sweep input),
``k_sweep`` (best K per prompt length), ``simulator`` (functional-simulator
result files) and ``batch`` (its batch runner with summary tables).
docs/compat.md maps each of its commands and options to symcost's.
"""
