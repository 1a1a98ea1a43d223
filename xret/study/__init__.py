"""Declarative studies: a grid of training regimes, alphas, seeds and base models, benched and
reported with intervals and a verdict per claim of the paper (docs/study.md)."""
