"""Statistics over per-query scores, shared by leaderboards, comparisons and studies.

paired     paired randomisation test or clustered Student t, interval of a difference, Holm
bootstrap  percentile cluster bootstrap of macro statistics (topics, and training seeds)
ranks      competition ranks, rank intervals, pairwise Holm-adjusted tests, tied groups
power      power, minimum detectable effect and sample size of the paired t-test
"""
