"""The Check status tab: where each monitor stands on each target.

One row per (monitor, target) the poller has checked: OK or FAILING (coloured), the last
check and the last success in local time, consecutive failures, how long the check took
and its error. A quick filter matches any column; "Failing only" hides the healthy rows.
The pane feeds it (``show_states``) after check results are written, at most every few
seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from opsconductor_desktop.domain.timeutil import to_local, utcnow
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE
from opsconductor_desktop.gui.monitoring.common import FAIL_COLOURS, colour, make_table
from opsconductor_desktop.gui.monitoring.models import CheckStatesModel, StatesProxy
from opsconductor_desktop.services.monitoring import CheckStateInfo

EMPTY_HINT = (
    "No check results yet.\nEnabled monitors are checked by the dispatcher: this console "
    "when polling in the console is on, or `opsconductor agent` / `opsconductor poll`."
)


class CheckStatusView(QWidget):
    """See the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkStatus")
        self.loaded = False
        self.model = CheckStatesModel(self)
        self.proxy = StatesProxy(self.model, self)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("statesFilter")
        self.filter_edit.setPlaceholderText("Filter by target, monitor or error…")
        self.filter_edit.setClearButtonEnabled(True)
        self.failing_check = QCheckBox("&Failing only")
        self.failing_check.setObjectName("failingOnly")
        self.summary = QLabel()
        self.summary.setObjectName("statesSummary")
        self.view = make_table("statesTable")
        self.view.setModel(self.proxy)
        # failing checks first, then those missing some metrics (a stable sort keeps the
        # target order within each)
        self.view.sortByColumn(CheckStatesModel.TARGET, Qt.SortOrder.AscendingOrder)
        self.view.sortByColumn(CheckStatesModel.STATE, Qt.SortOrder.AscendingOrder)
        for column, width in enumerate((170, 150, 100, 150, 150, 70, 80)):
            self.view.setColumnWidth(column, width)
        self.empty_label = QLabel(self.view.viewport())
        self.empty_label.setObjectName("emptyHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); font-size: 11pt;")
        self.tools = QHBoxLayout()  # the pane adds its buttons at the end
        self.tools.addWidget(self.filter_edit, 1)
        self.tools.addWidget(self.failing_check)
        self.tools.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(self.tools)
        layout.addWidget(self.view, 1)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter_edit.textChanged.connect(self._update_summary)
        self.failing_check.toggled.connect(self.proxy.set_failing_only)
        self.failing_check.toggled.connect(self._update_summary)
        self._updated = ""

    def show_states(self, states: Sequence[CheckStateInfo]) -> None:
        self.model.replace(states)
        self.loaded = True
        self._updated = to_local(utcnow()).strftime("%H:%M:%S")
        self._update_summary()

    def selected_state(self) -> CheckStateInfo | None:
        index = self.view.currentIndex()
        if not index.isValid():
            rows = self.view.selectionModel().selectedRows()
            index = rows[0] if rows else index
        state = index.data(ITEM_ROLE) if index.isValid() else None
        return state if isinstance(state, CheckStateInfo) else None

    def failing(self) -> int:
        return sum(1 for s in self.model.items() if not s.ok)

    def _update_summary(self) -> None:
        total = self.model.rowCount()
        failing = self.failing()
        shown = self.proxy.rowCount()
        red = colour(FAIL_COLOURS).name()
        text = f"{total} check(s) · <span style='color:{red}'><b>{failing} failing</b></span>"
        if not failing:
            text = f"{total} check(s) · all OK"
        if shown != total:
            text += f" · {shown} shown"
        if self._updated:
            text += f" · updated {self._updated}"
        self.summary.setText(text)
        self._update_empty()

    def _update_empty(self) -> None:
        if self.proxy.rowCount():
            self.empty_label.hide()
            return
        if self.model.rowCount():
            self.empty_label.setText("No check matches the filter.")
        else:
            self.empty_label.setText(EMPTY_HINT if self.loaded else "Loading check states…")
        self.empty_label.resize(self.view.viewport().size())
        self.empty_label.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty_label.resize(self.view.viewport().size())
