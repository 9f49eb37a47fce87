"""The selfspec pack (dual-mode residual analog accelerator with self-speculation, seeds 000 and 001).

Its input readers (model, hardware with component libraries, stats), its binding of those files to
``formulas/selfspec.yaml``, the burst-accounting cost model with the baseline, its report, break-even
questions, sensitivities, optimal K, compatibility with the reference calculator, and its own verbs.
"""
