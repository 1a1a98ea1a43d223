"""Pure functions of stored result records: leaderboard tables, heatmaps, significance
(the statistics themselves are in ``xret.measures``).

scores       records -> per-language scores of a system on one evaluation of a task
published    the paper's numbers as data (reference rows and tables)
table        one table value; Markdown, LaTeX, CSV and rich renderers
leaderboard  the document of headline and per-language tables
heatmap      query × pool language matrices, delta maps, rank-distance chart
compare      records' per-query scores -> paired tests of every pair of systems, Holm-corrected
html         the self-contained HTML page
commands     what the CLI commands do
"""
