"""The details of the selected alert: its fields, its full history and its details JSON.

The row already holds the alert; its history (every transition: when, who, from, to,
comment) comes from ``AlertService.get`` once the selection settles. A late answer for an
alert no longer shown is dropped. Several selected alerts show a summary instead.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import NotFoundError, OpsError
from opsconductor_desktop.gui.alerts import style
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.alerts import AlertInfo
from opsconductor_desktop.services.app import Core

SETTLE_MS = 120
HINT = "A acknowledge · U unacknowledge · R resolve · S silence"
FIELDS = (
    ("target", "Target"),
    ("source", "Source"),
    ("key", "Key"),
    ("count", "Seen"),
    ("first_seen", "First seen"),
    ("last_seen", "Last seen"),
    ("ack", "Acknowledged"),
    ("suppressed", "Suppressed by"),
    ("resolved", "Resolved"),
    ("id", "Id"),
)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _value_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def field_texts(alert: AlertInfo) -> dict[str, str]:
    """The value shown for each of ``FIELDS`` (local times)."""
    ack = ""
    if alert.ack_by:
        ack = f"by {alert.ack_by}: {alert.ack_comment or '(no comment)'}"
        if alert.ack_expires:
            ack += f" — until {style.local_time(alert.ack_expires)}"
    return {
        "target": alert.target or "(no target)",
        "source": alert.source,
        "key": alert.key,
        "count": f"{alert.count:,} time(s)",
        "first_seen": style.local_time(alert.first_seen),
        "last_seen": style.local_time(alert.last_seen),
        "ack": ack or "—",
        "suppressed": alert.suppressed_by or "—",
        "resolved": style.local_time(alert.resolved_at) or "—",
        "id": str(alert.id),
    }


class AlertDetails(QWidget):
    """See the module docstring; ``show_alerts`` switches what it shows."""

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertDetails")
        self.core = core
        self.alert: AlertInfo | None = None
        self.history_for: UUID | None = None  # whose history the table holds
        self._task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._fetch)
        self.stack = QStackedWidget()
        self.placeholder = QLabel()
        self.placeholder.setObjectName("alertDetailsPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self._build())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.show_alerts(())

    def _build(self) -> QWidget:
        self.heading = QLabel()
        self.heading.setObjectName("alertHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.icon = QLabel()
        self.icon.setFixedSize(32, 32)
        top = QHBoxLayout()
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.heading, 1)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setVerticalSpacing(3)
        self.values: dict[str, QLabel] = {}
        for key, title in FIELDS:
            self.values[key] = _value_label()
            form.addRow(f"{title}:", self.values[key])
        body = QWidget()
        left = QVBoxLayout(body)
        left.addLayout(top)
        left.addLayout(form)
        left.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.history = QTableWidget(0, 4)
        self.history.setObjectName("alertHistory")
        self.history.setHorizontalHeaderLabels(["When", "Who", "Change", "Comment"])
        self.history.verticalHeader().hide()
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setWordWrap(False)
        self.history.setAlternatingRowColors(True)
        self.history.verticalHeader().setDefaultSectionSize(self.history.fontMetrics().height() + 6)
        header = self.history.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.history_state = QLabel()
        self.history_state.setObjectName("historyState")
        history_page = QWidget()
        history_layout = QVBoxLayout(history_page)
        history_layout.setContentsMargins(0, 4, 0, 0)
        history_layout.addWidget(self.history_state)
        history_layout.addWidget(self.history, 1)
        self.details_text = QPlainTextEdit()
        self.details_text.setObjectName("alertDetailsJson")
        self.details_text.setReadOnly(True)
        self.details_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("alertDetailTabs")
        self.tabs.addTab(history_page, "&History")
        self.tabs.addTab(self.details_text, "Details (&JSON)")
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 2)
        layout.addWidget(self.tabs, 3)
        return page

    # ---- showing ------------------------------------------------------------------------------

    def show_alerts(self, alerts: Sequence[AlertInfo]) -> None:
        """One alert: its details (history fetched after a pause); several or none: a note."""
        if len(alerts) != 1:
            self.alert = None
            self._timer.stop()
            self._cancel()
            self.placeholder.setText(_summary(alerts))
            self.stack.setCurrentIndex(0)
            return
        (alert,) = alerts
        if alert == self.alert:
            return
        self.alert = alert
        self.stack.setCurrentIndex(1)
        self._show_fields(alert)
        self.details_text.setPlainText(
            json.dumps(dict(alert.details), indent=2, sort_keys=True, default=str)
            if alert.details
            else "{}"
        )
        if self.history_for != alert.id:
            self.history.setRowCount(0)
            self.history_state.setText("Loading the history…")
        self._timer.start()

    def _show_fields(self, alert: AlertInfo) -> None:
        dark = style.is_dark(self.palette())
        muted = not alert.status.open
        self.icon.setPixmap(style.severity_icon(alert.severity, dark, muted).pixmap(32, 32))
        colour = style.severity_colour(alert.severity, dark).name()
        flap = " · <b>flapping</b>" if alert.flapping and alert.status.open else ""
        self.heading.setText(
            f"<span style='color:{colour}; font-weight:600'>{alert.severity.label.upper()}</span>"
            f" · {alert.status.value}{flap}<br>"
            f"<span style='font-size:12pt; font-weight:600'>{_esc(alert.summary)}</span>"
        )
        for key, text in field_texts(alert).items():
            self.values[key].setText(_esc(text))

    def refresh(self) -> None:
        """Fetch the shown alert's history again (it changed)."""
        if self.alert is not None:
            self._timer.start()

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    def _fetch(self) -> None:
        self._cancel()
        if self.alert is not None:
            self._task = spawn(
                self._load(self.alert.id), on_error=self._failed, name="alert history"
            )

    async def _load(self, alert_id: UUID) -> None:
        try:
            full = await self.core.alerts.get(alert_id)
        except NotFoundError:
            return  # deleted meanwhile (retention): the pane's reload clears the panel
        if not alive(self) or self.alert is None or self.alert.id != alert_id:
            return
        self._fill_history(full)

    def _fill_history(self, alert: AlertInfo) -> None:
        self.history_for = alert.id
        events = list(reversed(alert.events))  # newest first: what just happened on top
        self.history.setRowCount(len(events))
        for row, event in enumerate(events):
            change = f"{event.from_status.value if event.from_status else 'new'} → "
            change += event.to_status.value
            cells = (style.local_time(event.at), event.actor, change, event.comment)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.history.setItem(row, column, item)
        self.history_state.setText(
            f"{len(events)} change(s), newest first" if events else "No recorded changes."
        )

    def _failed(self, error: OpsError) -> None:
        self.history_state.setText(f"Cannot load the history: {error}")

    def history_rows(self) -> list[tuple[str, ...]]:
        """The history table's texts (for tests and screenshots)."""
        return [
            tuple(self._cell(r, c) for c in range(self.history.columnCount()))
            for r in range(self.history.rowCount())
        ]

    def _cell(self, row: int, column: int) -> str:
        item = self.history.item(row, column)
        return item.text() if item is not None else ""

    def shutdown(self) -> None:
        if alive(self._timer):
            self._timer.stop()
        self._cancel()


def _summary(alerts: Sequence[AlertInfo]) -> str:
    if not alerts:
        return f"Select an alert to see its details and history.\n\n{HINT}"
    counts: Counter[Any] = Counter(a.severity for a in alerts)
    parts = ", ".join(f"{counts[s]} {s.label}" for s in style.SEVERITIES if counts[s])
    return f"{len(alerts)} alerts selected: {parts}.\n\n{HINT}"
