"""How metric times and values read: time ranges, SI-prefixed numbers, ages, colours.

Pure Python (no widgets), so the rules are easy to test: ``format_value`` keeps three
significant digits with an SI prefix ("6.21 G", "742 M", "0.85"); ``tick_labels`` gives
axis labels precise enough to tell adjacent ticks apart; ``TimeRange`` is a preset span
ending now (it moves) or a fixed custom window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))

#: (label, span) of the range buttons
PRESETS: tuple[tuple[str, timedelta], ...] = (
    ("1 h", timedelta(hours=1)),
    ("6 h", timedelta(hours=6)),
    ("24 h", timedelta(hours=24)),
    ("7 d", timedelta(days=7)),
    ("30 d", timedelta(days=30)),
)
#: (label, the service's resolution name)
RESOLUTIONS: tuple[tuple[str, str], ...] = (
    ("Auto", "auto"),
    ("Raw", "raw"),
    ("5 min", "5m"),
    ("1 h", "1h"),
)
RESOLUTION_TEXT = {"raw": "raw samples", "5m": "5-minute averages", "1h": "hourly averages"}

# Series colours: distinct, and legible on white (light) or on the dark theme's base.
_LIGHT = ("#1f6fd1", "#e07b00", "#2e9e4f", "#c62828", "#7b4fd0", "#00897b", "#d81b60", "#6d8f00")
_DARK = ("#64a8ff", "#ffb74d", "#6fd08c", "#ff7b7b", "#b39dff", "#4dd0c4", "#f48fb1", "#c5e15a")


def series_colour(index: int, dark: bool) -> str:
    """The colour of the ``index``-th series of a target (stable as others come and go)."""
    colours = _DARK if dark else _LIGHT
    return colours[index % len(colours)]


def _prefix(magnitude: float) -> tuple[float, str]:
    for factor, prefix in _PREFIXES:
        if magnitude >= factor:
            return factor, prefix
    return 1.0, ""


def format_value(value: float) -> str:
    """Three significant digits with an SI prefix: 6.21 G, 742 M, 12.3 k, 42.1, 0.853."""
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    # the prefix of the value as it will be shown: 999.7 k reads 1 M
    factor, prefix = _prefix(abs(float(f"{value:.3g}")))
    scaled = value / factor
    digits = max(0, 2 - math.floor(math.log10(abs(scaled))))
    text = f"{scaled:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {prefix}" if prefix else text


def tick_labels(values: Sequence[float], spacing: float) -> list[str]:
    """Axis labels sharing one SI prefix, with as many decimals as the spacing needs."""
    if not values:
        return []
    factor, prefix = _prefix(max(abs(v) for v in values))
    step = spacing / factor if spacing > 0 else 1.0
    decimals = next((d for d in range(7) if abs(round(step, d) - step) <= step * 1e-6), 6)
    suffix = f" {prefix}" if prefix else ""
    return [f"{v / factor:.{decimals}f}{suffix}" if v else "0" for v in values]


def age(seconds: float) -> str:
    """How long ago, roughly: "12 s", "4 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def local_time(epoch: float, *, seconds: bool = True) -> str:
    """Epoch seconds (UTC) as the machine's local wall time, for display."""
    moment = datetime.fromtimestamp(epoch, UTC).astimezone()
    return moment.strftime("%a %Y-%m-%d %H:%M:%S" if seconds else "%a %Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A preset span ending now (``span``), or a fixed window (``start``, ``end``)."""

    label: str
    span: timedelta | None = None
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def preset(cls, label: str) -> TimeRange:
        spans = dict(PRESETS)
        if label not in spans:
            label = "24 h"
        return cls(label, spans[label])

    @classmethod
    def custom(cls, start: datetime, end: datetime) -> TimeRange:
        text = f"{_short(start)} – {_short(end)}"
        return cls(text, None, start, end)

    @property
    def live(self) -> bool:
        """Whether the range ends now (and moves with it)."""
        return self.span is not None

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the range, aware UTC, at ``now``."""
        if self.span is not None:
            return now - self.span, now
        return self._bounds()

    def key(self) -> str:
        """What identifies the range (a custom one by its bounds)."""
        if self.span is not None:
            return self.label
        start, end = self._bounds()
        return f"{start.isoformat()}/{end.isoformat()}"

    def _bounds(self) -> tuple[datetime, datetime]:
        if self.start is None or self.end is None:
            raise ValueError("a custom time range needs a start and an end")
        return self.start, self.end


def _short(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
