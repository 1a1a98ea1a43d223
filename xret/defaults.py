"""Defaults that ``--help`` shows and the code applies, decided here once. Kept free of heavy
imports: the command line reads it when it builds its options."""

DEPTH = 100
"""Hits kept per query in corpus search (``--depth``): at least R@100's cutoff."""
CPU_BATCH = (128, 8192)
"""Texts and padded tokens per batch on a CPU (``--batch-size``, ``--max-tokens``)."""
GPU_BATCH = (1024, 131072)
"""The same on a GPU, which wants far larger batches than two CPU cores."""
