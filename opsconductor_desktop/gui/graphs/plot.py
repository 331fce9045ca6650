"""The metric plot: several series over time, with a min–max band for rollups.

One pyqtgraph ``PlotWidget`` with a local-time date axis (stored times are UTC epoch
seconds; ``DateAxisItem`` shows them in the machine's time zone) and a value axis with SI
prefixes. Each series keeps its points as numpy arrays and draws with pyqtgraph's peak
downsampling and clip-to-view, so a month of five-minute rollups or a week of raw samples
pans smoothly. A gap in the samples longer than ``GAP_FACTOR`` times their usual step is
not bridged by a line.

The mouse pans and zooms the time axis (drag, wheel); the value axis follows what is
visible. ``view_changed_by_user`` tells the pane that the operator took over the view (so
"follow now" stops). Hovering shows a cursor line and the values under it in the
readout line below the plot. Colours follow the palette (light or dark) live.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget

from opsconductor_desktop.gui.graphs.values import (
    format_value,
    local_time,
    series_colour,
    tick_labels,
)
from opsconductor_desktop.services.monitoring import Points

GAP_FACTOR = 3.5
MIN_X_SPAN = 120.0  # seconds: zooming in further shows nothing more
HOVER_RATE = 40  # readout updates per second at most
# Peak downsampling to one min/max pair per pixel column: what a pixel can show anyway.
# Painting time grows with the points drawn (and antialiasing would cost ten times more).
CURVE_OPTIONS: dict[str, Any] = {"autoDownsampleFactor": 1.0, "antialias": False}
PEN_WIDTH = 1.5
BAND_ALPHA = {False: 60, True: 70}  # the min–max band's opacity on light / dark
READOUT_HINT = (
    "Hover to read values · drag to pan · wheel to zoom time · "
    "Reset zoom (Ctrl+0) shows the whole range"
)
Array = np.ndarray[Any, np.dtype[np.float64]]


class ValueAxis(pg.AxisItem):  # type: ignore[misc]
    """A value axis with SI prefixes (2 G, 500 M) instead of pyqtgraph's exponents."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return tick_labels([v * scale for v in values], spacing * scale)


def _array(values: tuple[float, ...]) -> Array:
    return np.asarray(values, dtype=np.float64)


def with_gaps(ts: Array, *columns: Array) -> tuple[Array, ...]:
    """``ts`` and ``columns`` with a NaN row after every gap, so no line bridges it."""
    if ts.size < 3:
        return (ts, *columns)
    steps = np.diff(ts)
    gaps = np.flatnonzero(steps > max(float(np.median(steps)) * GAP_FACTOR, 1.0)) + 1
    if gaps.size == 0:
        return (ts, *columns)
    at = ts[gaps - 1] + steps[gaps - 1] / 2
    return (np.insert(ts, gaps, at), *(np.insert(c, gaps, np.nan) for c in columns))


@dataclass
class Series:
    """One drawn series: its points and its pyqtgraph items."""

    name: str
    index: int  # its place among the target's series: picks its colour
    resolution: str
    ts: Array
    values: Array
    low: Array  # empty for raw samples
    high: Array
    curve: Any = None
    band: list[Any] = field(default_factory=list)  # low curve, high curve, fill
    step: float = 60.0  # the usual time between points (hover tolerance)

    @property
    def banded(self) -> bool:
        return self.low.size == self.ts.size and self.ts.size > 0


class MetricPlot(QWidget):
    """See the module docstring."""

    view_changed_by_user = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricPlot")
        self.series: dict[str, Series] = {}
        self._dark = False
        self.date_axis = pg.DateAxisItem(orientation="bottom")
        self.value_axis = ValueAxis(orientation="left")
        self.view = pg.PlotWidget(axisItems={"bottom": self.date_axis, "left": self.value_axis})
        self.view.setObjectName("metricPlotView")
        self.item = self.view.getPlotItem()
        self.item.setMenuEnabled(False)
        self.item.hideButtons()
        self.item.showGrid(x=True, y=True, alpha=0.16)
        # for every curve added: draw at most a few points per pixel, only what is in view
        self.item.setDownsampling(auto=True, mode="peak")
        self.item.setClipToView(True)
        self.value_axis.setWidth(58)
        self.box = self.item.getViewBox()
        self.box.setMouseEnabled(x=True, y=False)
        self.box.setAutoVisible(y=True)
        self.box.enableAutoRange(axis=pg.ViewBox.YAxis)
        self.box.disableAutoRange(axis=pg.ViewBox.XAxis)
        self.box.setLimits(minXRange=MIN_X_SPAN)
        self.box.sigRangeChangedManually.connect(self._manual)
        self.legend = self.item.addLegend(offset=(10, 8), labelTextSize="9pt")
        self.time_cursor = pg.InfiniteLine(angle=90, movable=False)
        self.time_cursor.hide()
        self.item.addItem(self.time_cursor, ignoreBounds=True)
        self._hover_proxy = pg.SignalProxy(
            self.view.scene().sigMouseMoved, rateLimit=HOVER_RATE, slot=self._hovered
        )
        self.view.viewport().installEventFilter(self)
        self.message = QLabel()
        self.message.setObjectName("plotMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 12pt;")
        self.readout = QLabel(READOUT_HINT)
        self.readout.setObjectName("plotReadout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.pages = QStackedLayout()
        self.pages.addWidget(self.view)
        self.pages.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self.pages, 1)
        layout.addWidget(self.readout)
        self.apply_palette()

    # ---- data ---------------------------------------------------------------------------

    def set_series(self, name: str, points: Points, index: int) -> None:
        """Show ``points`` as the series ``name`` (replacing what it showed)."""
        self.remove(name)
        series = Series(
            name,
            index,
            points.resolution,
            _array(points.ts),
            _array(points.values),
            _array(points.minimum),
            _array(points.maximum),
        )
        self.series[name] = series
        self._draw(series)
        self.show_plot()

    def append(self, name: str, points: Points) -> int:
        """Merge newer points into a series (they replace any it has from their first time
        on: a rollup bucket may have grown); the number of points added."""
        series = self.series.get(name)
        if series is None or not points.ts:
            return 0
        new_ts = _array(points.ts)
        keep = int(np.searchsorted(series.ts, new_ts[0], side="left"))
        before = series.ts.size
        banded = series.banded and len(points.minimum) == len(points.ts)
        series.ts = np.concatenate((series.ts[:keep], new_ts))
        series.values = np.concatenate((series.values[:keep], _array(points.values)))
        if banded:
            series.low = np.concatenate((series.low[:keep], _array(points.minimum)))
            series.high = np.concatenate((series.high[:keep], _array(points.maximum)))
        self._update(series)
        return series.ts.size - before

    def remove(self, name: str) -> None:
        series = self.series.pop(name, None)
        if series is None:
            return
        for item in (series.curve, *series.band):
            self.item.removeItem(item)

    def clear(self) -> None:
        for name in list(self.series):
            self.remove(name)
        self.time_cursor.hide()
        self.readout.setText(READOUT_HINT)

    def point_count(self, name: str) -> int:
        series = self.series.get(name)
        return 0 if series is None else int(series.ts.size)

    def last_time(self) -> float | None:
        """The newest point's time over every series (epoch seconds), None when empty."""
        ends = [float(s.ts[-1]) for s in self.series.values() if s.ts.size]
        return max(ends) if ends else None

    def _draw(self, series: Series) -> None:
        colour = QColor(series_colour(series.index, self._dark))
        series.curve = pg.PlotDataItem(
            name=series.name, pen=_pen(colour), connect="finite", **CURVE_OPTIONS
        )
        if series.banded:
            edges = [
                pg.PlotDataItem(pen=pg.mkPen(None), connect="finite", **CURVE_OPTIONS)
                for _ in range(2)
            ]
            for edge in edges:
                self.item.addItem(edge)
                # A peak-downsampled edge zigzags, and filling between zigzags costs ten
                # times more to paint; averaged edges stay smooth (the readout is exact).
                edge.setDownsampling(method="mean")
            fill = QColor(colour)
            fill.setAlpha(BAND_ALPHA[self._dark])
            # between the edges' inner curves: they change with the view (clipping,
            # downsampling), the PlotDataItems only when given new data
            band = pg.FillBetweenItem(edges[0].curve, edges[1].curve, brush=fill)
            self.item.addItem(band, ignoreBounds=True)
            series.band = [*edges, band]
        self.item.addItem(series.curve)
        self._update(series)

    def _update(self, series: Series) -> None:
        if series.ts.size > 2:
            series.step = float(np.median(np.diff(series.ts)))
        if series.banded and len(series.band) == 3:
            ts, values, low, high = with_gaps(series.ts, series.values, series.low, series.high)
            series.band[0].setData(ts, low)
            series.band[1].setData(ts, high)
        else:
            ts, values = with_gaps(series.ts, series.values)
        series.curve.setData(ts, values)

    # ---- view ---------------------------------------------------------------------------

    def set_x_range(self, start: float, end: float) -> None:
        """Show the time from ``start`` to ``end`` (epoch seconds); values fit what shows."""
        self.box.setXRange(start, end, padding=0.0)
        self.box.enableAutoRange(axis=pg.ViewBox.YAxis)

    def x_range(self) -> tuple[float, float]:
        low, high = self.box.viewRange()[0]
        return float(low), float(high)

    def _manual(self, *_: object) -> None:
        self.view_changed_by_user.emit()

    def show_message(self, text: str) -> None:
        """Replace the plot by a message (nothing to show, or why)."""
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)
        self.readout.setText("")

    def show_plot(self) -> None:
        if self.pages.currentWidget() is not self.view:
            self.pages.setCurrentWidget(self.view)
            self.readout.setText(READOUT_HINT)

    def showing_message(self) -> bool:
        return self.pages.currentWidget() is self.message

    # ---- hover readout ------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave and watched is self.view.viewport():
            self.time_cursor.hide()
            if self.series:
                self.readout.setText(READOUT_HINT)
        return False

    def _hovered(self, args: tuple[QPointF]) -> None:
        position = args[0]
        if not self.series or not self.box.sceneBoundingRect().contains(position):
            self.time_cursor.hide()
            return
        x = float(self.box.mapSceneToView(position).x())
        self.readout_at(x)

    def readout_at(self, x: float) -> str:
        """Put the cursor at time ``x`` and show the values there; the readout text."""
        self.time_cursor.setPos(x)
        self.time_cursor.show()
        low, high = self.x_range()
        pixel = (high - low) / max(self.box.width(), 1.0)
        parts = [f"<b>{local_time(x)}</b>"]
        for series in self.series.values():
            tolerance = max(pixel * 4, series.step * 0.75)
            found = _nearest(series.ts, x, tolerance)
            colour = series_colour(series.index, self._dark)
            text = "—"
            if found is not None:
                text = f"<b>{format_value(float(series.values[found]))}</b>"
                if series.banded:
                    text += (
                        f" ({format_value(float(series.low[found]))}–"
                        f"{format_value(float(series.high[found]))})"
                    )
            parts.append(f"<span style='color:{colour}'>■</span> {html.escape(series.name)} {text}")
        self.readout.setText(" &nbsp;&nbsp; ".join(parts))
        return self.readout.text()

    # ---- colours ------------------------------------------------------------------------

    @property
    def dark(self) -> bool:
        """Whether the plot is drawn for a dark palette."""
        return self._dark

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self.apply_palette()
        super().changeEvent(event)

    def apply_palette(self) -> None:
        """Background, axes, legend and series colours from the current palette."""
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        self._dark = base.lightness() < 128
        self.view.setBackground(base)
        for axis in (self.date_axis, self.value_axis):
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(text))
        legend_bg = QColor(base)
        legend_bg.setAlpha(215)
        self.legend.setBrush(legend_bg)
        self.legend.setPen(pg.mkPen(muted))
        self.legend.setLabelTextColor(text)
        for _, label in self.legend.items:
            label.setText(label.text)  # labels take the new colour when set again
        cursor = QColor(text)
        cursor.setAlpha(110)
        self.time_cursor.setPen(pg.mkPen(cursor, width=1, style=Qt.PenStyle.DashLine))
        self.message.setStyleSheet(f"font-size: 12pt; color: {muted.name()};")
        for series in list(self.series.values()):
            self._recolour(series)

    def _recolour(self, series: Series) -> None:
        colour = QColor(series_colour(series.index, self._dark))
        series.curve.setPen(_pen(colour))
        if len(series.band) == 3:
            fill = QColor(colour)
            fill.setAlpha(BAND_ALPHA[self._dark])
            series.band[2].setBrush(fill)


def _pen(colour: QColor) -> Any:
    return pg.mkPen(colour, width=PEN_WIDTH)


def _nearest(ts: Array, x: float, tolerance: float) -> int | None:
    """The index of the point nearest to ``x`` within ``tolerance``, if any."""
    if ts.size == 0:
        return None
    i = int(np.searchsorted(ts, x))
    best = min((j for j in (i - 1, i) if 0 <= j < ts.size), key=lambda j: abs(ts[j] - x))
    return best if abs(float(ts[best]) - x) <= tolerance else None
