"""Defaults that ``--help`` shows and the code applies, decided here once. Kept free of heavy
imports: the command line reads it when it builds its options."""

DEPTH = 100
"""Hits kept per query in corpus search (``--depth``): at least R@100's cutoff."""
CPU_BATCH = (128, 8192)
"""Texts and padded tokens per batch on a CPU (``--batch-size``, ``--max-tokens``)."""
GPU_BATCH = (1024, 131072)
"""The same on a GPU, which wants far larger batches than two CPU cores."""

CANDIDATE_TEXT = "sentence"
"""What is encoded of a pooled candidate (``--candidate-text``): the sentence alone."""
HEATMAP_SETTINGS = ("mono", "cross")
"""Cells a heatmap shows: monolingual on the diagonal, cross-lingual off it."""

# xret train (TrainConfig, RunOptions) and a study's [train] section.
TRAIN_EXCLUDE = ("xquad-r", "mlqa-r")
"""The evaluation tasks whose questions are kept out of training unless the user names others."""
HYBRID_ALPHA = 0.5
"""Probability of a monolingual batch in hybrid sampling: the paper's final setting (§1.2)."""
PASSAGE_UNIT = "sentence"
STEPS = 1000
BATCH_SIZE = 100
LEARNING_RATE = 3e-5
WEIGHT_DECAY = 0.01
WARMUP_RATIO = 0.1
MAX_SEQ_LENGTH = 128
SCALE = 20.0
"""sentence-transformers' default for MultipleNegativesRankingLoss (temperature 0.05): the paper
prints no temperature (protocol §1.1)."""
SAVE_STEPS = 100
KEEP_CHECKPOINTS = 2

# Statistics over per-query scores: leaderboard intervals (--ci, xret.bench's summary_ci, xret
# score) and xret compare's paired tests.
SEED = 0
"""Seed of every resampling (bootstrap draws, sign flips)."""
CI_RESAMPLES = 2000
"""Bootstrap resamples of the leaderboard's, the Python API's and a study's topic intervals."""
CONFIDENCE = 0.95
"""Level of every interval (topics, seeds, ranks)."""
ALPHA = 0.05
"""Level of paired tests after Holm's correction (compare, tied groups) and of power analysis."""
POWER = 0.8
"""Power at which a study says what an inconclusive verdict needs."""
COMPARE_RESAMPLES = 10_000
"""Sign flips and bootstrap draws of ``xret compare``."""
