"""Measures: what a score means and how it is computed, over plain values (ranks, qrels, runs).

Below tasks, results and the engine; imports nothing of xret but ``errors`` and ``defaults``.
What lives where:

- ``table``: the measure table (``FAMILIES``): each measure declared once (pytrec_eval family,
  cutoff, digits, direction, multilingual only), and ``Measure`` values parsed from strings.
  A new measure starts here; nothing else decides by a measure's name.
- ``trec``: the one module that talks to pytrec_eval (per-query values of a run).
- ``trec_formulas``: trec_eval's rank-based measures from relevant ranks, bit for bit.
- ``ranks``: per-query values of the standard measures from each query's relevant ranks.
- ``bias``: language-bias measures trec_eval lacks (rank distance and the bias panel,
  docs/bias.md), written by hand.
- ``paired``: paired randomisation test and bootstrap interval of a difference, Holm's correction.
- ``bootstrap``: percentile cluster bootstrap of macro statistics (topics, and training seeds).
- ``standings``: systems' ranks, rank intervals, pairwise Holm-adjusted tests and tied groups.
- ``power``: power, minimum detectable effect and sample size of the paired t-test.

New measures (more bias measures) and statistics over per-query values (intervals, ranks)
belong in this package, each in a module named for what it computes.
"""
