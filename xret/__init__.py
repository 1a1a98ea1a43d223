"""xret: evaluation of multilingual and cross-lingual retrieval models."""

__version__ = "0.1.0"
