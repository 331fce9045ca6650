"""The Graphs pane's range bar: range buttons, a custom window, the resolution.

``RangeBar`` emits ``range_chosen(TimeRange)`` and ``resolution_chosen(str)``; the custom
window is asked for in a small dialog (two local date-times, validated before OK).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.graphs.values import PRESETS, RESOLUTIONS, TimeRange
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import ask, dispose

CUSTOM = "Custom…"
MAX_CUSTOM_SPAN = timedelta(days=400)


def _qt(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


def _aware(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)


class CustomRangeDialog(QDialog):
    """From and to, in local time; OK only for a window that makes sense."""

    def __init__(self, start: datetime, end: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customRangeDialog")
        self.setWindowTitle("Custom time range")
        self.start_edit = self._edit(start)
        self.end_edit = self._edit(end)
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setStyleSheet("color: #c62828;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("From:", self.start_edit)
        form.addRow("To:", self.end_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.start_edit.dateTimeChanged.connect(self.validate)
        self.end_edit.dateTimeChanged.connect(self.validate)
        self.validate()

    def _edit(self, moment: datetime) -> QDateTimeEdit:
        edit = QDateTimeEdit(_qt(moment))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        return edit

    def chosen_window(self) -> tuple[datetime, datetime]:
        """(start, end) as aware UTC."""
        return _aware(self.start_edit.dateTime()), _aware(self.end_edit.dateTime())

    def validate(self) -> str:
        start, end = self.chosen_window()
        problem = ""
        if end <= start:
            problem = "The range must end after it starts."
        elif end - start > MAX_CUSTOM_SPAN:
            problem = f"At most {MAX_CUSTOM_SPAN.days} days at once."
        elif end - start < timedelta(minutes=5):
            problem = "At least 5 minutes."
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        return problem


class RangeBar(QWidget):
    """See the module docstring."""

    range_chosen = Signal(object)  # TimeRange
    resolution_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rangeBar")
        self.current = TimeRange.preset("24 h")
        self.dialog: CustomRangeDialog | None = None
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for label, _ in PRESETS:
            button = self._button(label, f"The last {label} up to now")
            button.clicked.connect(lambda _=False, t=label: self.choose(TimeRange.preset(t)))
            layout.addWidget(button)
        custom = self._button(CUSTOM, "A fixed window: from … to …")
        custom.clicked.connect(self.ask_custom)
        layout.addWidget(custom)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Resolution:"))
        self.resolution = QComboBox()
        self.resolution.setObjectName("graphsResolution")
        for label, value in RESOLUTIONS:
            self.resolution.addItem(label, value)
        self.resolution.setToolTip(
            "Auto: raw samples up to 36 h, 5-minute averages up to 8 days, hourly beyond.\n"
            "Averages show the min–max of each interval as a band."
        )
        self.resolution.currentIndexChanged.connect(
            lambda _: self.resolution_chosen.emit(self.resolution_value())
        )
        layout.addWidget(self.resolution)
        self._mark(self.current)

    def _button(self, label: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(f"range {label}")
        button.setText(label)
        button.setToolTip(tip)
        button.setCheckable(True)
        self.group.addButton(button)
        self.buttons[label] = button
        return button

    def resolution_value(self) -> str:
        return str(self.resolution.currentData())

    def set_resolution(self, value: str) -> None:
        index = self.resolution.findData(value)
        self.resolution.setCurrentIndex(max(index, 0))

    def show_choice(self, time_range: TimeRange, resolution: str) -> None:
        """Show a range and resolution without announcing them (restoring a layout)."""
        self.current = time_range
        self._mark(time_range)
        self.resolution.blockSignals(True)
        try:
            self.set_resolution(resolution)
        finally:
            self.resolution.blockSignals(False)

    def choose(self, time_range: TimeRange) -> None:
        """Make ``time_range`` current (as if clicked) and announce it."""
        self.current = time_range
        self._mark(time_range)
        self.range_chosen.emit(time_range)

    def _mark(self, time_range: TimeRange) -> None:
        label = time_range.label if time_range.live else CUSTOM
        self.buttons[label].setChecked(True)
        self.buttons[CUSTOM].setText(CUSTOM if time_range.live else time_range.label)

    def ask_custom(self) -> None:
        spawn(self._custom(), name="custom time range")

    async def _custom(self) -> None:
        start, end = self.current.window(utcnow())
        dialog = CustomRangeDialog(start, end, self)
        self.dialog = dialog
        try:
            accepted = await ask(dialog) == QDialog.DialogCode.Accepted
            chosen = dialog.chosen_window()
        finally:
            self.dialog = None
            dispose(dialog)
        if accepted:
            self.choose(TimeRange.custom(*chosen))
        else:
            self._mark(self.current)  # the Custom button was pressed: undo that
