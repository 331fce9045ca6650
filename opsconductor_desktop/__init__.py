"""OpsConductor Desktop: an operations console for NOC staff."""

__version__ = "0.1.0"
