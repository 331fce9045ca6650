"""A sparkline: a series' recent shape as a small polyline, painted with QPainter.

Cheap by design (no plot library, no scene graph): the points are mapped to the widget
once per data or size change, thinned to about two per pixel column (the minimum and the
maximum, so spikes survive), and painted as one polyline per stretch of data. A gap in
the samples longer than ``GAP_FACTOR`` times their usual step breaks the line, and time
runs over a fixed window, so a series that stopped reporting visibly ends early.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

GAP_FACTOR = 3.0
MARGIN = 3.0


def _gap(ts: Sequence[float]) -> float:
    """The step beyond which two successive samples are not joined."""
    if len(ts) < 3:
        return math.inf
    steps = sorted(b - a for a, b in itertools.pairwise(ts))
    return max(steps[len(steps) // 2] * GAP_FACTOR, 1.0)


def thin(
    ts: Sequence[float], values: Sequence[float], start: float, end: float, columns: int
) -> list[list[tuple[float, float]]]:
    """Stretches of (t, value), at most two points (min and max) per column, split at gaps.

    Points outside [start, end] and non-finite values are dropped.
    """
    if columns < 1 or end <= start:
        return []
    gap = _gap(ts)
    width = (end - start) / columns
    stretches: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    column, low, high = -1, (0.0, 0.0), (0.0, 0.0)
    previous = -math.inf

    def flush() -> None:
        if column >= 0:
            pair = sorted({low, high})
            current.extend(pair)

    for t, v in zip(ts, values, strict=True):
        if not (start <= t <= end) or not math.isfinite(v):
            continue
        if t - previous > gap and current:
            flush()
            stretches.append(current)
            current, column = [], -1
        previous = t
        here = min(int((t - start) / width), columns - 1)
        if here != column:
            flush()
            column, low, high = here, (t, v), (t, v)
        elif v < low[1]:
            low = (t, v)
        elif v > high[1]:
            high = (t, v)
    flush()
    if current:
        stretches.append(current)
    return stretches


class Sparkline(QWidget):
    """See the module docstring; ``set_points`` gives it data, ``clicked`` opens more."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sparkline")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._ts: Sequence[float] = ()
        self._values: Sequence[float] = ()
        self._window = (0.0, 1.0)
        self._colour = QColor("#1f6fd1")
        self._polylines: list[QPolygonF] | None = None

    def sizeHint(self) -> QSize:
        return QSize(140, 30)

    def set_points(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        window: tuple[float, float],
        colour: str,
    ) -> None:
        """Show ``values`` at epoch seconds ``ts`` over ``window`` (start, end)."""
        self._ts, self._values, self._window = ts, values, window
        self._colour = QColor(colour)
        self._polylines = None
        self.update()

    def set_colour(self, colour: str) -> None:
        self._colour = QColor(colour)
        self.update()

    def point_count(self) -> int:
        return len(self._values)

    def polylines(self) -> list[QPolygonF]:
        """The polylines as painted (computed on demand, kept until data or size change)."""
        if self._polylines is None:
            self._polylines = self._map()
        return self._polylines

    def _map(self) -> list[QPolygonF]:
        area = QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        start, end = self._window
        stretches = thin(self._ts, self._values, start, end, max(1, int(area.width())))
        shown = [v for s in stretches for _, v in s]
        if not shown:
            return []
        low, high = min(shown), max(shown)
        if high - low < 1e-12:  # a flat line sits in the middle
            low, high = low - 1, high + 1
        sx = area.width() / (end - start)
        sy = area.height() / (high - low)
        return [
            QPolygonF(
                [
                    QPointF(area.left() + (t - start) * sx, area.bottom() - (v - low) * sy)
                    for t, v in s
                ]
            )
            for s in stretches
        ]

    def resizeEvent(self, event: object) -> None:
        self._polylines = None
        super().resizeEvent(event)  # type: ignore[arg-type]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = self.palette().color(QPalette.ColorRole.Mid)
        base.setAlpha(90)
        painter.setPen(QPen(base, 1))
        painter.drawLine(
            QPointF(MARGIN, self.height() - MARGIN),
            QPointF(self.width() - MARGIN, self.height() - MARGIN),
        )
        lines = self.polylines()
        if not lines:
            painter.end()
            return
        painter.setPen(QPen(self._colour, 1.4))
        for line in lines:
            if line.size() == 1:
                painter.drawPoint(line.at(0))
            else:
                painter.drawPolyline(line)
        last = lines[-1].at(lines[-1].size() - 1)
        painter.setBrush(self._colour)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(last, 2.2, 2.2)
        painter.end()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)
