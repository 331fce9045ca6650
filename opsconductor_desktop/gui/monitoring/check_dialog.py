"""“Test on target…”: run one monitor once on one target and show what it found.

The check goes through the product's poller and drivers, exactly as the dispatcher would
run it, but its result is only shown: no sample, check state or alert is stored. The
targets the monitor applies to are listed first. A counter gives a rate from its second
reading, so testing a counter twice shows the rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.metrics import MetricType
from opsconductor_desktop.domain.monitors import Monitor
from opsconductor_desktop.gui.monitoring.common import ERROR_STYLE, OK_STYLE
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.app import Core


async def run_check(core: Core, monitor: Monitor, target: str) -> Any:
    """One check of ``monitor`` on the target named ``target``; a CheckResult, not stored."""
    return await core.polling.test_check(monitor, target)


class CheckDialog(QDialog):
    """See the module docstring. ``result`` is the last check's result (a CheckResult)."""

    def __init__(
        self,
        core: Core,
        monitor: Monitor,
        targets: Sequence[str],
        *,
        target: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checkDialog")
        self.setWindowTitle(f"Test {monitor.name} on a target")
        self.core = core
        self.monitor = monitor
        self.result: Any = None
        self.running: asyncio.Task[Any] | None = None
        self._all = sorted(targets, key=str.lower)
        self._build(target)
        self.resize(640, 460)
        self.listing = spawn(
            self._list_applicable(target), on_error=self._failed, name="monitor targets"
        )

    def _build(self, target: str | None) -> None:
        intro = QLabel(
            f"Runs <b>{self.monitor.name}</b> ({self.monitor.kind.value}) once on the chosen "
            "target, through the same drivers as the poller. Nothing is stored."
        )
        intro.setWordWrap(True)
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("checkTarget")
        self.target_combo.setEditable(True)
        self.target_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_combo.addItems(self._all)
        completer = QCompleter(self._all, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.target_combo.setCompleter(completer)
        if target:
            self.target_combo.setCurrentText(target)
        self.run_button = QPushButton("&Run check")
        self.run_button.setObjectName("runCheck")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        label = QLabel("&Target:")
        label.setBuddy(self.target_combo)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.target_combo, 1)
        row.addWidget(self.run_button)
        self.outcome = QLabel("Choose a target and run the check.")
        self.outcome.setObjectName("checkOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.samples = QTableWidget(0, 2)
        self.samples.setObjectName("checkSamples")
        self.samples.setHorizontalHeaderLabels(["Series", "Value"])
        self.samples.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.samples.verticalHeader().hide()
        self.samples.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.samples.setColumnWidth(1, 160)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.outcome)
        layout.addWidget(self.samples, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

    async def _list_applicable(self, chosen: str | None) -> None:
        """The targets the monitor applies to first, the rest of the estate after them."""
        try:
            applicable = [t.name for t in await self.core.jobs.resolve(self.monitor.select)]
        except ValidationError:
            return  # a group or target it names is gone: offer the whole estate
        if not alive(self):
            return
        first = sorted(applicable, key=str.lower)
        rest = [n for n in self._all if n not in set(first)]
        current = chosen or self.target_combo.currentText()
        self.target_combo.clear()
        self.target_combo.addItems([*first, *rest])
        if first and not chosen:
            current = first[0]
        self.target_combo.setCurrentText(current)

    def target(self) -> str:
        return self.target_combo.currentText().strip()

    def run(self) -> None:
        if self.running is not None:
            return
        name = self.target()
        if not name:
            self._show_error("Choose a target first.")
            return
        self.run_button.setEnabled(False)
        self.outcome.setStyleSheet("")
        self.outcome.setText(f"Checking {name}…")
        self.running = spawn(self._run(name), on_error=self._failed, name="test monitor")

    async def _run(self, name: str) -> None:
        try:
            result = await run_check(self.core, self.monitor, name)
        finally:
            if alive(self):
                self.running = None
                self.run_button.setEnabled(True)
        if alive(self):
            self.show_result(result)

    def show_result(self, result: Any) -> None:
        self.result = result
        took = f"{result.duration_ms:.0f} ms"
        if result.ok:
            text = f"✔ {result.target}: OK in {took}"
            if result.error:
                text += f" — but: {result.error}"
            self.outcome.setStyleSheet(OK_STYLE if not result.error else "color: #a66a00;")
        else:
            text = f"✖ {result.target}: FAILED after {took}: {result.error or 'no answer'}"
            self.outcome.setStyleSheet(ERROR_STYLE)
        self.outcome.setText(text)
        self.samples.setRowCount(len(result.samples))
        for row, (series, value) in enumerate(result.samples):
            self.samples.setItem(row, 0, QTableWidgetItem(series))
            cell = QTableWidgetItem(f"{value:,.6g}")
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.samples.setItem(row, 1, cell)
        counters = any(m.type is MetricType.COUNTER for m in self.monitor.metrics)
        self.note.setText(
            "Counters give a rate from their second reading: run again to see it."
            if counters
            else ""
        )

    def _show_error(self, text: str) -> None:
        self.outcome.setText(f"✖ {text}")
        self.outcome.setStyleSheet(ERROR_STYLE)

    def _failed(self, error: OpsError) -> None:
        self._show_error(str(error))

    def _stop(self) -> None:
        """Closing the dialog abandons a check under way (and the target listing)."""
        self.listing.cancel()
        if self.running is not None:
            self.running.cancel()

    def done(self, code: int) -> None:
        self._stop()
        super().done(code)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop()
        super().closeEvent(event)
