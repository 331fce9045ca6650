"""The Settings dialog's Notifications page: alert sounds, their repetition, quiet hours.

What it edits lives in the settings file (``notify_sound``, ``notify_repeat_s``,
``quiet_hours_start``, ``quiet_hours_end``); the mute toggle is the toolbar's, not here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.config import Settings, parse_clock
from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.gui.notifications import Sound

DEFAULT_QUIET = ("22:00", "07:00")


def _qtime(text: str) -> QTime:
    value = parse_clock(text)
    return QTime(value.hour, value.minute)


class NotificationsPage(QWidget):
    """See the module docstring; ``values()`` gives the settings fields to save."""

    def __init__(self, settings: Settings, sound: Sound, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sound = sound
        self.sound_check = QCheckBox("Play a &sound for new critical and major alerts")
        self.sound_check.setObjectName("notifySound")
        self.sound_check.setChecked(settings.notify_sound)
        self.repeat_spin = QSpinBox()
        self.repeat_spin.setObjectName("notifyRepeat")
        self.repeat_spin.setRange(0, 86_400)
        self.repeat_spin.setSingleStep(30)
        self.repeat_spin.setSuffix(" s")
        self.repeat_spin.setSpecialValueText("never")
        self.repeat_spin.setValue(settings.notify_repeat_s)
        self.test_button = QPushButton("&Test sound")
        self.test_button.clicked.connect(lambda: self.sound.play(Severity.CRITICAL))
        backend = QLabel(f"Sound: {sound.describe()}.")
        backend.setObjectName("soundBackend")
        backend.setWordWrap(True)
        self.quiet_box = QGroupBox("&Quiet hours (local time): no sound, messages still show")
        self.quiet_box.setObjectName("quietHours")
        self.quiet_box.setCheckable(True)
        hours = settings.quiet_hours()
        self.quiet_box.setChecked(hours is not None)
        start, end = (
            (settings.quiet_hours_start, settings.quiet_hours_end) if hours else DEFAULT_QUIET
        )
        self.quiet_start = QTimeEdit(_qtime(start or DEFAULT_QUIET[0]))
        self.quiet_start.setObjectName("quietStart")
        self.quiet_start.setDisplayFormat("HH:mm")
        self.quiet_end = QTimeEdit(_qtime(end or DEFAULT_QUIET[1]))
        self.quiet_end.setObjectName("quietEnd")
        self.quiet_end.setDisplayFormat("HH:mm")
        quiet = QHBoxLayout(self.quiet_box)
        quiet.addWidget(QLabel("From"))
        quiet.addWidget(self.quiet_start)
        quiet.addWidget(QLabel("until"))
        quiet.addWidget(self.quiet_end)
        quiet.addStretch(1)
        repeat = QHBoxLayout()
        repeat.addWidget(self.repeat_spin)
        repeat.addWidget(QLabel("while they are unacknowledged"))
        repeat.addStretch(1)
        form = QFormLayout()
        form.addRow(self.sound_check)
        form.addRow("&Repeat every:", repeat)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.quiet_box)
        row = QHBoxLayout()
        row.addWidget(backend, 1)
        row.addWidget(self.test_button)
        layout.addLayout(row)
        note = QLabel(
            "A new critical or major alert shows a message (in the system tray, else the "
            "status bar) and plays its sound. The toolbar's mute button silences the sounds."
        )
        note.setWordWrap(True)
        note.setStyleSheet("font-style: italic;")
        layout.addWidget(note)
        layout.addStretch(1)
        self.sound_check.toggled.connect(self._update)
        self._update()

    def _update(self) -> None:
        on = self.sound_check.isChecked()
        self.repeat_spin.setEnabled(on)
        self.quiet_box.setEnabled(on)

    def values(self) -> dict[str, Any]:
        """The settings fields this page edits; ``ValidationError`` when they make no sense."""
        start = end = None
        if self.quiet_box.isChecked():
            start = self.quiet_start.time().toString("HH:mm")
            end = self.quiet_end.time().toString("HH:mm")
            if start == end:
                raise ValidationError("quiet hours must start and end at different times")
        return {
            "notify_sound": self.sound_check.isChecked(),
            "notify_repeat_s": self.repeat_spin.value(),
            "quiet_hours_start": start,
            "quiet_hours_end": end,
        }
