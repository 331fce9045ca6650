"""Desktop notifications of new critical and major alerts: a message and a sound.

``AlertNotifier`` looks at the active (open, unacknowledged, unsuppressed) alerts of
severity major and above whenever alerts change — here, in another console or in the
poller (the change watcher tells) — and on a timer:

* an alert it has not seen active before (new, reopened, escalated to major or critical,
  unacknowledged again, released by a silence) raises a tray message — or, with no
  system tray, a status-bar message — and plays its severity's sound;
* the sound repeats every ``notify_repeat_s`` seconds (settings; 0: never) while any of
  those alerts is still active: acknowledging, resolving or silencing them stops it;
* the mute toggle (persisted) and quiet hours (local time, in the settings) silence the
  sound only: the message still shows;
* what is already active when the console starts is one summary message, no sound: the
  sound is for what happens while the operator watches.

Sounds: a short tone per severity through QtMultimedia's ``QSoundEffect`` when it is
installed; PySide6-Essentials has no QtMultimedia, and then the system beep (three for
critical, one for major) — ``Sound.backend`` says which.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import struct
import wave
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

from opsconductor_desktop.config import in_quiet_hours, load_settings, save_settings, with_updates
from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.gui.tasks import report_ops_error, spawn
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.alerts import AlertInfo
from opsconductor_desktop.services.app import Core


def _sound_effect_class() -> Any:
    """``QSoundEffect`` when QtMultimedia is installed (not in PySide6-Essentials), else None."""
    try:
        module = importlib.import_module("PySide6.QtMultimedia")
    except ImportError:
        return None
    return getattr(module, "QSoundEffect", None)


QSoundEffect = _sound_effect_class()

log = logging.getLogger(__name__)

ATTENTION = Severity.MAJOR  # this level and above notifies
WATCHED = 2000  # at most this many active alerts are looked at (newest first)
CHECK_DELAY_MS = 300  # a burst of alert changes: one look
MESSAGE_MS = 15_000
SHOWN = 3  # alerts named in one message
BEEPS = {Severity.CRITICAL: 3, Severity.MAJOR: 1}
BEEP_GAP_MS = 250
TONES = {Severity.CRITICAL: (880.0, 3), Severity.MAJOR: (660.0, 2)}  # Hz, pulses

Clock = Callable[[], datetime]


def local_now() -> datetime:
    return datetime.now(UTC).astimezone()


def write_tone(path: Path, frequency: float, pulses: int, rate: int = 22_050) -> Path:
    """A short WAV file of ``pulses`` beeps at ``frequency`` (for ``QSoundEffect``)."""
    frames = bytearray()
    pulse, gap = int(rate * 0.12), int(rate * 0.08)
    for _ in range(pulses):
        for n in range(pulse):
            fade = min(1.0, n / 200, (pulse - n) / 200)
            value = int(12_000 * fade * math.sin(2 * math.pi * frequency * n / rate))
            frames += struct.pack("<h", value)
        frames += b"\0\0" * gap
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


class Sound(QObject):
    """The sound of a severity (see the module docstring); ``played`` records each one."""

    def __init__(self, folder: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.played: deque[Severity] = deque(maxlen=100)
        self._effects: dict[Severity, Any] = {}
        self.backend = "beep"
        if QSoundEffect is not None and folder is not None:
            try:
                for severity, (frequency, pulses) in TONES.items():
                    path = write_tone(folder / f"alert-{severity.label}.wav", frequency, pulses)
                    effect = QSoundEffect(self)
                    effect.setSource(QUrl.fromLocalFile(str(path)))
                    self._effects[severity] = effect
                self.backend = "wav"
            except OSError as exc:
                log.warning("alert sounds unavailable (%s); using the system beep", exc)
                self._effects.clear()
        if self.backend == "beep":
            log.info("alert sounds: the system beep (QtMultimedia is not installed)")

    def describe(self) -> str:
        if self.backend == "wav":
            return "a tone per severity"
        return "the system beep (QtMultimedia is not installed)"

    def play(self, severity: Severity) -> None:
        self.played.append(severity)
        effect = self._effects.get(severity) or self._effects.get(Severity.MAJOR)
        if effect is not None:
            effect.play()
            return
        for n in range(BEEPS.get(severity, 1)):
            QTimer.singleShot(n * BEEP_GAP_MS, QApplication.beep)


class AlertNotifier(QObject):
    """See the module docstring. ``start()`` begins watching, ``stop()`` ends it."""

    notified = Signal(str, str)  # title, text: every message shown
    activated = Signal()  # the operator clicked a message: show the alerts

    def __init__(
        self,
        core: Core,
        *,
        show_status: Callable[[str, int], None],
        sound: Sound | None = None,
        clock: Clock = local_now,
        icon: QIcon | None = None,
        tray: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self.clock = clock
        self.show_status = show_status
        self.sound = sound or Sound(core.paths.data_dir / "sounds", self)
        self.known: dict[UUID, Severity] | None = None  # active alerts seen (None: not yet)
        self.pending: dict[UUID, Severity] = {}  # notified and still active: the reminder
        self.sounds_skipped: list[str] = []  # why a sound did not play (muted, quiet hours)
        self._task: asyncio.Task[Any] | None = None
        self._again = False
        self._running = False
        self._unsubscribe: Callable[[], None] | None = None
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check_soon)
        self._repeat_timer = QTimer(self)
        self._repeat_timer.timeout.connect(self._remind_now)
        self.tray = self._make_tray(icon) if tray else None
        self.mute_action = self._make_mute_action()

    def _make_tray(self, icon: QIcon | None) -> QSystemTrayIcon | None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        style = QApplication.style()
        tray = QSystemTrayIcon(
            icon or style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning), self
        )
        tray.setToolTip("OpsConductor")
        tray.messageClicked.connect(self.activated)
        tray.activated.connect(lambda _reason: self.activated.emit())
        return tray

    def _make_mute_action(self) -> QAction:
        action = QAction("&Mute alert sounds", self)
        action.setObjectName("muteAlertSounds")
        action.setCheckable(True)
        action.setChecked(self.core.settings.notify_muted)
        action.setToolTip("No sound for new alerts (the messages still show); kept across starts")
        self._show_mute_icon(action.isChecked(), action)
        action.toggled.connect(self.set_muted)
        return action

    def _show_mute_icon(self, muted: bool, action: QAction | None = None) -> None:
        action = action or self.mute_action
        pixmap = (
            QStyle.StandardPixmap.SP_MediaVolumeMuted
            if muted
            else QStyle.StandardPixmap.SP_MediaVolume
        )
        action.setIcon(QApplication.style().standardIcon(pixmap))
        action.setText("Alert sounds &muted" if muted else "&Mute alert sounds")

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._unsubscribe = self.core.bus.subscribe(self._on_changed)
        if self.tray is not None:
            self.tray.show()
        self.check_soon()

    async def stop(self) -> None:
        self._running = False
        self._check_timer.stop()
        self._repeat_timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.tray is not None and alive(self.tray):
            self.tray.hide()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    @property
    def muted(self) -> bool:
        return self.core.settings.notify_muted

    def set_muted(self, muted: bool) -> None:
        """Mute or unmute the alert sounds, and keep the choice in the settings file."""
        if self.mute_action.isChecked() != muted:
            self.mute_action.setChecked(muted)  # re-enters through toggled
            return
        self._show_mute_icon(muted)
        self.core.settings = with_updates(self.core.settings, notify_muted=muted)
        try:
            stored = with_updates(load_settings(self.core.paths), notify_muted=muted)
            save_settings(self.core.paths, stored)
        except (OSError, OpsError) as exc:
            self.show_status(f"⚠ Sounds {'muted' if muted else 'on'}, but not saved: {exc}", 15_000)
            return
        self.show_status("Alert sounds muted" if muted else "Alert sounds on", 4000)

    # ---- looking --------------------------------------------------------------------------------

    def _on_changed(self, event: Changed) -> None:
        if event.entity in (Entity.ALERT, Entity.SILENCE) and self._running:
            self._check_timer.start()

    def check_soon(self) -> None:
        """Look at the alerts now (or right after the look under way)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = spawn(self._check_loop(), on_error=self._failed, name="alert notifier")

    async def _check_loop(self) -> None:
        while True:
            self._again = False
            await self.check()
            if not self._again:
                return

    def _failed(self, error: OpsError) -> None:
        report_ops_error(error, lambda e: log.warning("alert notifications: %s", e))

    async def check(self) -> list[AlertInfo]:
        """Compare the active major and critical alerts with those seen; the new ones."""
        alerts = await self.core.alerts.list(status="active", severity=ATTENTION, limit=WATCHED)
        current = {a.id: a.severity for a in alerts}
        if self.known is None:  # the first look: a summary, no sound
            self.known = current
            if alerts:
                self._message(
                    _counts_title(alerts, "need attention"), _lines(alerts), max(current.values())
                )
            return []
        new = [a for a in alerts if a.id not in self.known or a.severity > self.known[a.id]]
        self.known = current
        self.pending = {i: current[i] for i in self.pending if i in current}
        self.pending.update((a.id, a.severity) for a in new)
        if new:
            worst = max(a.severity for a in new)
            if len(new) == 1:
                title = f"{worst.label.upper()} alert: {new[0].target or new[0].source}"
            else:
                title = _counts_title(new, "new alerts")
            self._message(title, _lines(new), worst)
            self.play(worst)
        self._schedule_reminder()
        return new

    async def remind(self) -> bool:
        """Repeat the sound if notified alerts are still active; whether it played."""
        await self.check()
        if not self.pending:
            return False
        worst = max(self.pending.values())
        n = len(self.pending)
        self.show_status(f"🔔 {n} alert{'s' if n != 1 else ''} still unacknowledged", 8000)
        return self.play(worst)

    def _remind_now(self) -> None:
        if self._running:
            spawn(self.remind(), on_error=self._failed, name="alert reminder")

    def _schedule_reminder(self) -> None:
        seconds = self.core.settings.notify_repeat_s
        if self.pending and seconds > 0 and self._running:
            if not self._repeat_timer.isActive() or self._repeat_timer.interval() != seconds * 1000:
                self._repeat_timer.start(seconds * 1000)
        else:
            self._repeat_timer.stop()

    def reminder_active(self) -> bool:
        return self._repeat_timer.isActive()

    # ---- telling ------------------------------------------------------------------------------

    def play(self, severity: Severity) -> bool:
        """The severity's sound, unless sounds are off, muted or in quiet hours."""
        settings = self.core.settings
        if not settings.notify_sound:
            self.sounds_skipped.append("sounds off")
            return False
        if settings.notify_muted:
            self.sounds_skipped.append("muted")
            return False
        if in_quiet_hours(settings.quiet_hours(), self.clock().time()):
            self.sounds_skipped.append("quiet hours")
            return False
        self.sound.play(severity)
        return True

    def _message(self, title: str, text: str, severity: Severity) -> None:
        self.notified.emit(title, text)
        if self.tray is not None and self.tray.isVisible():
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if severity >= Severity.CRITICAL
                else QSystemTrayIcon.MessageIcon.Warning
            )
            self.tray.showMessage(title, text, icon, MESSAGE_MS)
        else:
            first = text.splitlines()[0] if text else ""
            self.show_status(f"🔔 {title} — {first}" if first else f"🔔 {title}", MESSAGE_MS)
        window = self.parent()
        if isinstance(window, QWidget) and window.isVisible():
            QApplication.alert(window, 0)  # the taskbar entry asks for attention


def _counts_title(alerts: Sequence[AlertInfo], what: str) -> str:
    critical = sum(1 for a in alerts if a.severity >= Severity.CRITICAL)
    major = len(alerts) - critical
    parts = [f"{critical} critical" if critical else "", f"{major} major" if major else ""]
    return f"{len(alerts)} {what}: {', '.join(p for p in parts if p)}"


def _lines(alerts: Sequence[AlertInfo]) -> str:
    worst_first = sorted(alerts, key=lambda a: (-int(a.severity), -a.last_seen.timestamp()))
    lines = [_line(a) for a in worst_first[:SHOWN]]
    if len(alerts) > SHOWN:
        lines.append(f"… and {len(alerts) - SHOWN} more")
    return "\n".join(lines)


def _line(alert: AlertInfo) -> str:
    what = alert.summary.splitlines()[0] if alert.summary else alert.key
    where = f"{alert.target} — " if alert.target else ""
    return f"{alert.severity.label}: {where}{what}"
