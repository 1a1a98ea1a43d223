"""xret: evaluation of multilingual and cross-lingual retrieval models.

The Python API (xret.api) is imported on first use, so ``import xret`` and ``xret --help`` stay
light (no torch, pandas or faiss).
"""

__version__ = "0.1.0"

_API = ("bench", "score", "load_results", "leaderboard", "heatmap", "compare")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from xret import api

        return getattr(api, name)
    raise AttributeError(f"module 'xret' has no attribute {name!r}")
