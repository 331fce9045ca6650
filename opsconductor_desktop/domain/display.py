"""Numbers and durations as an operator reads them (the console and the CLI alike)."""

from __future__ import annotations

__all__ = ["number_text", "seconds_text"]


def seconds_text(value: float) -> str:
    """A number of seconds as an operator reads it: ``45s``, ``5m``, ``1h30m``."""
    whole = int(value)
    if whole != value:
        return f"{value:g}s"
    if whole < 60 or whole % 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


def number_text(value: float) -> str:
    """A threshold as an operator reads it: ``90``, ``0.5``, ``8G`` for 8e9, ``1.5M``."""
    for limit, unit, suffix in (
        (1e12, 1e12, "T"),
        (1e9, 1e9, "G"),
        (1e6, 1e6, "M"),
        (1e4, 1e3, "k"),
    ):
        if abs(value) >= limit:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:.6g}"
