"""Lodestar's engine: metric history, KPIs and key results, free of any UI."""
__version__ = "0.1.0"
