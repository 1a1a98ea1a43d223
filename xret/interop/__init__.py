"""Bridges to other evaluation frameworks. Each bridge is an optional extra, imported lazily."""
