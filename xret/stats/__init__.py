"""Statistics over per-query scores, shared by leaderboards, comparisons and studies.

paired     paired randomisation test, bootstrap interval of a difference, Holm's correction
bootstrap  percentile cluster bootstrap of macro statistics (topics, and training seeds)
ranks      competition ranks, rank intervals, pairwise Holm-adjusted tests, tied groups
"""
