"""Loop health, database state and open alerts for the status bar.

``LoopLagTicker`` sleeps a fixed interval on the asyncio loop and records how late it
wakes up: the scheduling lag every other coroutine and Qt event suffers too. The status
bar shows the p99 of the last samples. ``DatabaseMonitor`` pings the database every ten
seconds (and at once when an operation reports the database unavailable).
``AlertCounts`` shows the open alerts per severity (the Alerts pane updates it on each
refresh); a click on it shows the Alerts pane.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStatusBar, QWidget

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import DatabaseUnavailableError
from opsconductor_desktop.gui.alerts import style as alert_style
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import BusyBar, alive
from opsconductor_desktop.services.app import Core

log = logging.getLogger(__name__)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no samples)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class LoopLagTicker:
    """Measures event-loop scheduling lag in seconds; keeps the last ``window`` samples."""

    def __init__(self, interval: float = 0.1, window: int = 200) -> None:
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=window)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = spawn(self._run(), name="loop lag ticker")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def reset(self) -> None:
        self.samples.clear()

    def p99(self) -> float:
        return percentile(list(self.samples), 0.99)

    def worst(self) -> float:
        return max(self.samples, default=0.0)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, loop.time() - started - self.interval))


class DbState(StrEnum):
    CHECKING = "checking"
    OK = "ok"
    UNREACHABLE = "unreachable"


class DatabaseMonitor(QObject):
    """Pings the database on a timer and on demand; emits the state when it changes."""

    state_changed = Signal(str, str)  # state, detail
    INTERVAL_MS = 10_000

    def __init__(self, core: Core, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.state = DbState.CHECKING
        self.detail = ""
        self._pinging: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self.check_now)

    def start(self) -> None:
        self._timer.start()
        self.check_now()

    def stop(self) -> None:
        self._timer.stop()
        if self._pinging is not None:
            self._pinging.cancel()
            self._pinging = None

    def check_now(self) -> None:
        if self._pinging is None:
            self._pinging = spawn(self._ping(), name="database ping")

    async def _ping(self) -> None:
        try:
            await self.core.ping()
        except DatabaseUnavailableError as exc:
            self._set(DbState.UNREACHABLE, str(exc))
        else:
            self._set(DbState.OK, "")
        finally:
            self._pinging = None

    def _set(self, state: DbState, detail: str) -> None:
        if not alive(self):
            return  # the window went away while the ping was under way
        changed = state != self.state or detail != self.detail
        self.state, self.detail = state, detail
        if changed:
            if state is DbState.UNREACHABLE:
                log.warning("database unreachable: %s", detail)
            elif state is DbState.OK:
                log.info("database reachable")
            self.state_changed.emit(state.value, detail)


class AlertCounts(QWidget):
    """Open alerts per severity, worst first: an icon and a number each (see module doc)."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertCounts")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.counts: dict[Severity, int] = {s: 0 for s in alert_style.SEVERITIES}
        self.icons: dict[Severity, QLabel] = {}
        self.numbers: dict[Severity, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(3)
        for severity in alert_style.SEVERITIES:
            icon, number = QLabel(), QLabel("–")
            number.setObjectName(f"alertCount_{severity.label}")
            number.setMinimumWidth(number.fontMetrics().horizontalAdvance("8888"))
            layout.addWidget(icon)
            layout.addWidget(number)
            self.icons[severity], self.numbers[severity] = icon, number
        self.refresh_palette()
        self.setToolTip("Open alerts per severity — click to show the Alerts pane")

    def set_counts(self, counts: Mapping[Severity, int]) -> None:
        for severity in alert_style.SEVERITIES:
            n = int(counts.get(severity, 0))
            self.counts[severity] = n
            label = self.numbers[severity]
            label.setText(f"{n:,}")
            label.setStyleSheet("font-weight: 600;" if n else "color: palette(mid);")
            label.setToolTip(f"{n:,} open {severity.label} alert{'s' if n != 1 else ''}")
            self.icons[severity].setToolTip(label.toolTip())

    def text(self) -> str:
        """The counts as words ("2 critical, 5 major, …"), for tests and screen readers."""
        return ", ".join(f"{self.counts[s]} {s.label}" for s in alert_style.SEVERITIES)

    def refresh_palette(self) -> None:
        dark = alert_style.is_dark()
        for severity, icon in self.icons.items():
            icon.setPixmap(alert_style.severity_icon(severity, dark).pixmap(14, 14))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.refresh_palette()
        super().changeEvent(event)


DB_TEXT_MAX = 60  # characters: a long SQLite path must not widen the window


class StatusBar(QStatusBar):
    """Database (and its state), busy work, open alerts and the loop lag, always visible."""

    LAG_REFRESH_MS = 1000

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.core = core
        self.busy = BusyBar()
        self.db_label = QLabel(_middle_elided(str(core.db_info), DB_TEXT_MAX))
        self.db_label.setObjectName("dbLabel")
        self.db_label.setToolTip(f"Database: {core.db_info} (chosen by {core.database.source})")
        self.db_state = QLabel()
        self.db_state.setObjectName("dbState")
        self.lag_label = QLabel("loop lag –")
        self.lag_label.setObjectName("lagLabel")
        self.lag_label.setMinimumWidth(
            self.lag_label.fontMetrics().horizontalAdvance("loop lag p99 8888 ms") + 8
        )
        self.lag_label.setToolTip(
            "Event-loop scheduling lag, p99 of the last 20 s: how late the console reacts"
        )
        self.alert_counts = AlertCounts()
        self.addWidget(self.busy)
        self.addPermanentWidget(self.alert_counts)
        self.addPermanentWidget(self.db_label)
        self.addPermanentWidget(self.db_state)
        self.addPermanentWidget(self.lag_label)
        self.ticker = LoopLagTicker()
        self.monitor = DatabaseMonitor(core, self)
        self.monitor.state_changed.connect(self._show_db_state)
        self._lag_timer = QTimer(self)
        self._lag_timer.setInterval(self.LAG_REFRESH_MS)
        self._lag_timer.timeout.connect(self.refresh_lag)
        self._show_db_state(DbState.CHECKING.value, "")

    def start(self) -> None:
        self.ticker.start()
        self.monitor.start()
        self._lag_timer.start()

    def stop(self) -> None:
        self._lag_timer.stop()
        self.monitor.stop()
        self.ticker.stop()

    def refresh_lag(self) -> None:
        p99 = self.ticker.p99() * 1000
        self.lag_label.setText(f"loop lag p99 {p99:.0f} ms")
        warn = p99 >= 100
        self.lag_label.setStyleSheet("color: #c62828;" if warn else "")

    def set_busy(self, busy: bool, text: str = "") -> None:
        if busy:
            self.busy.start(text)
        else:
            self.busy.stop()

    def _show_db_state(self, state: str, detail: str) -> None:
        colours = {"ok": "#2e7d32", "unreachable": "#c62828", "checking": "#8d6e00"}
        self.db_state.setText(f"● {state}")
        self.db_state.setStyleSheet(f"color: {colours.get(state, '')};")
        self.db_state.setToolTip(detail or f"database {state}")


def _middle_elided(text: str, limit: int) -> str:
    """``text`` shortened in the middle (a long path keeps its start and file name)."""
    if len(text) <= limit:
        return text
    keep = (limit - 1) // 2
    return f"{text[:keep]}…{text[-(limit - 1 - keep) :]}"


def on_database_error(monitor: DatabaseMonitor) -> Callable[[BaseException], None]:
    """An error hook that re-checks the database when an operation found it unavailable."""

    def hook(exc: BaseException) -> None:
        if isinstance(exc, DatabaseUnavailableError):
            monitor.check_now()

    return hook
