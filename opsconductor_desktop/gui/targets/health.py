"""The details panel's health section: each monitor's check state and metric sparklines.

``load(target)`` fetches the target's check states, its series (latest values) and their
recent points (``MonitoringService.sparklines``) — only for the target shown, after the
selection settles, so a ten-thousand-row table costs nothing more. A failing check reads
in red with its error; a check that works but misses something reads in amber. Clicking
a sparkline asks for the Graphs pane (``graphs_requested(target, series)``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.graphs.sparkline import Sparkline
from opsconductor_desktop.gui.graphs.values import age, format_value, local_time, series_colour
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import CheckStateInfo, Points, SeriesInfo

SPARK_HOURS = 6.0
SPARK_LIMIT = 8
_STATE_COLOURS = {  # (light, dark)
    "ok": ("#2e7d32", "#81c784"),
    "warn": ("#a86200", "#ffb74d"),
    "fail": ("#c62828", "#ff7b7b"),
}


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128


def state_kind(state: CheckStateInfo) -> str:
    """ok, warn (answers but reports a problem) or fail."""
    if not state.ok:
        return "fail"
    return "warn" if state.error else "ok"


def state_html(state: CheckStateInfo, now: datetime, dark: bool, muted: str = "#888") -> str:
    """One check as a line of rich text: a coloured mark, the monitor, what is wrong."""
    kind = state_kind(state)
    colour = _STATE_COLOURS[kind][1 if dark else 0]
    mark = {"ok": "●", "warn": "▲", "fail": "✖"}[kind]
    when = age((now - state.last_at).total_seconds())
    if kind == "fail":
        since = (
            f"failing for {age((now - state.last_ok_at).total_seconds())}"
            if state.last_ok_at
            else "never answered"
        )
        detail = f"{html.escape(state.error or 'check failed')} — {since}"
        detail += f" ({state.failures} check{'s' if state.failures != 1 else ''})"
    elif kind == "warn":
        detail = html.escape(state.error)
    else:
        detail = f"ok · {state.duration_ms:.0f} ms"
    return (
        f"<span style='color:{colour}'>{mark} <b>{html.escape(state.monitor)}</b>: "
        f"{detail}</span> <span style='color:{muted}'>· {when} ago</span>"
    )


class TargetHealth(QWidget):
    """See the module docstring."""

    graphs_requested = Signal(str, str)

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("targetHealth")
        self.core = core
        self.target: str | None = None
        self.states_label = QLabel()
        self.states_label.setObjectName("checkStates")
        self.states_label.setWordWrap(True)
        self.states_label.setTextFormat(Qt.TextFormat.RichText)
        self.states_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.states_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.metrics_title = _section(f"Metrics (last {SPARK_HOURS:g} h)")
        self.metrics_state = QLabel()
        self.metrics_state.setObjectName("metricsState")
        self.metrics_state.setWordWrap(True)
        self.metrics_state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        self.rows: list[tuple[QLabel, Sparkline, QLabel]] = []
        self._colours: list[int] = []  # each row's series colour index
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(_section("Checks"))
        layout.addWidget(self.states_label)
        layout.addWidget(self.metrics_title)
        layout.addWidget(self.metrics_state)
        layout.addLayout(self.grid)

    # ---- what the panel shows -------------------------------------------------------------

    def show_loading(self, target: str) -> None:
        """A new target: nothing of the previous one stays on screen."""
        self.target = target
        self.states_label.setText("Loading…")
        self.metrics_state.setText("Loading…")
        self.metrics_state.show()
        self._set_rows(0)

    def show_failure(self, text: str) -> None:
        self.states_label.setText(f"Cannot load the checks and metrics: {html.escape(text)}")
        self.metrics_state.setText("")
        self._set_rows(0)

    async def load(self, target: str) -> None:
        """Fetch and show ``target``'s checks and sparklines (dropped if it changed meanwhile)."""
        monitoring = self.core.monitoring
        states = await monitoring.check_states(target=target)
        series = await monitoring.series(target)
        lines = await monitoring.sparklines(target, hours=SPARK_HOURS, limit=SPARK_LIMIT)
        if self.target != target:
            return
        self.show_health(states, series, lines)

    def show_health(
        self,
        states: Sequence[CheckStateInfo],
        series: Sequence[SeriesInfo],
        lines: Sequence[Points],
    ) -> None:
        now = utcnow()
        dark = is_dark(self)
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        if states:
            self.states_label.setText("<br>".join(state_html(s, now, dark, muted) for s in states))
        else:
            self.states_label.setText("No monitor checks this target.")
        infos = {s.series: s for s in series}
        self._set_rows(len(lines))
        self._colours = []
        end = now.timestamp()
        window = (end - SPARK_HOURS * 3600, end)
        for row, points in enumerate(lines):
            name, spark, value = self.rows[row]
            info = infos.get(points.series)
            index = list(infos).index(points.series) if info else row
            colour = series_colour(index, dark)
            self._colours.append(index)
            name.setText(points.series)
            name.setToolTip(f"{points.series} (from {info.monitor})" if info else points.series)
            spark.set_points(points.ts, points.values, window, colour)
            spark.setToolTip(
                f"{points.series}: {len(points.ts):,} samples in the last {SPARK_HOURS:g} h"
                " — click to open in Graphs"
            )
            value.setText(_latest(info, now.timestamp()))
            if info is not None:
                value.setToolTip(f"{info.last_value!r} at {local_time(info.last_at.timestamp())}")
        if lines:
            more = len(series) - len(lines)
            self.metrics_state.setText(f"… and {more} more series in Graphs." if more > 0 else "")
            self.metrics_state.setVisible(more > 0)
        else:
            self.metrics_state.setText("No metrics yet — add a monitor that selects this target.")
            self.metrics_state.show()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(self)
            for (_, spark, _), index in zip(self.rows, self._colours, strict=False):
                spark.set_colour(series_colour(index, dark))
        super().changeEvent(event)

    def _set_rows(self, count: int) -> None:
        """Exactly ``count`` rows of (name, sparkline, latest value) in the grid."""
        while len(self.rows) < count:
            row = len(self.rows)
            name = QLabel()
            name.setObjectName("sparkName")
            spark = Sparkline()
            spark.clicked.connect(lambda r=row: self._clicked(r))
            value = QLabel()
            value.setObjectName("sparkValue")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("888 M (88 min)"))
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(spark, row, 1)
            self.grid.addWidget(value, row, 2)
            self.rows.append((name, spark, value))
        for row, widgets in enumerate(self.rows):
            for widget in widgets:
                widget.setVisible(row < count)

    def _clicked(self, row: int) -> None:
        if self.target is not None and row < len(self.rows):
            self.graphs_requested.emit(self.target, self.rows[row][0].text())

    def sparkline_count(self) -> int:
        return sum(1 for _, spark, _ in self.rows if not spark.isHidden())


def _latest(info: SeriesInfo | None, now: float) -> str:
    if info is None:
        return "—"
    text = format_value(info.last_value)
    stale = now - info.last_at.timestamp()
    return f"{text} ({age(stale)} ago)" if stale > 600 else text


def _section(title: str) -> QLabel:
    label = QLabel(f"<b>{title}</b>")
    label.setContentsMargins(0, 8, 0, 0)
    return label
