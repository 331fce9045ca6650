"""Desktop notifications of alerts, with real alerts in a real (SQLite) database through
the alert service: which alerts notify, the repeat until acknowledged or resolved, mute
(kept in the settings file) and quiet hours (a fake clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from opsconductor_desktop.config import load_settings, with_updates
from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.silences import Matchers
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui import notifications
from opsconductor_desktop.gui.notifications import AlertNotifier, Sound, write_tone
from opsconductor_desktop.services.app import Core

Driver = Any  # tests/gui/conftest.py: Driver (run, until, settle, find)


def problem(target: str, key: str, severity: Severity, *, clear: bool = False) -> NormalizedAlert:
    return NormalizedAlert(
        source="rule",
        key=key,
        severity=Severity.CLEAR if clear else severity,
        summary=f"{key} on {target}",
        target=target,
        clear=clear,
    )


class Clock:
    """A settable local wall clock (quiet hours are local time)."""

    def __init__(self, hour: int, minute: int = 0) -> None:
        self.now = datetime(2026, 3, 10, hour, minute).astimezone()  # local wall time

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """A notifier on the test's core, recording what it shows and plays."""

    def __init__(self, core: Core, clock: Clock) -> None:
        self.messages: list[tuple[str, str]] = []
        self.status: list[str] = []
        self.sound = Sound()
        self.notifier = AlertNotifier(
            core,
            show_status=lambda text, _ms: self.status.append(text),
            sound=self.sound,
            clock=clock,
            tray=False,
        )
        self.notifier.notified.connect(lambda title, text: self.messages.append((title, text)))

    @property
    def played(self) -> list[Severity]:
        return list(self.sound.played)


@pytest.fixture
def clock() -> Clock:
    return Clock(12)


@pytest.fixture
def harness(drive: Driver, gui_core: Core, clock: Clock) -> Iterator[Harness]:
    h = Harness(gui_core, clock)
    yield h
    drive.run(h.notifier.stop())
    h.notifier.deleteLater()


def test_new_critical_and_major_alerts_notify_minor_ones_do_not(
    drive: Driver, gui_core: Core, harness: Harness
) -> None:
    n = harness.notifier
    assert drive.run(n.check()) == []  # the first look: nothing active, nothing said
    assert harness.messages == [] and harness.played == []
    drive.run(gui_core.alerts.submit([problem("r1", "cpu", Severity.MINOR)]))
    drive.run(gui_core.alerts.submit([problem("r2", "info", Severity.INFO)]))
    assert drive.run(n.check()) == []
    drive.run(gui_core.alerts.submit([problem("r3", "bgp", Severity.CRITICAL)]))
    (new,) = drive.run(n.check())
    assert new.target == "r3"
    assert harness.messages == [("CRITICAL alert: r3", "critical: r3 — bgp on r3")]
    assert harness.played == [Severity.CRITICAL]
    # with no system tray (offscreen), the message goes to the status bar
    assert harness.status == ["🔔 CRITICAL alert: r3 — critical: r3 — bgp on r3"]
    # seen once: no second message for the same alert
    drive.run(gui_core.alerts.submit([problem("r3", "bgp", Severity.CRITICAL)]))
    assert drive.run(n.check()) == []
    assert len(harness.messages) == 1
    # several at once: one message, the worst sound
    drive.run(
        gui_core.alerts.submit(
            [problem("r4", "psu", Severity.MAJOR), problem("r5", "fan", Severity.CRITICAL)]
        )
    )
    assert len(drive.run(n.check())) == 2
    assert harness.messages[-1][0] == "2 new alerts: 1 critical, 1 major"
    assert harness.played == [Severity.CRITICAL, Severity.CRITICAL]


def test_an_escalation_to_major_notifies(drive: Driver, gui_core: Core, harness: Harness) -> None:
    drive.run(harness.notifier.check())
    drive.run(gui_core.alerts.submit([problem("r1", "disk", Severity.MINOR)]))
    assert drive.run(harness.notifier.check()) == []
    drive.run(gui_core.alerts.submit([problem("r1", "disk", Severity.MAJOR)]))
    (up,) = drive.run(harness.notifier.check())
    assert up.severity is Severity.MAJOR
    assert harness.played == [Severity.MAJOR]


def test_what_is_active_at_start_is_one_summary_without_sound(
    drive: Driver, gui_core: Core, harness: Harness
) -> None:
    drive.run(
        gui_core.alerts.submit(
            [problem("r1", "a", Severity.CRITICAL), problem("r2", "b", Severity.MAJOR)]
        )
    )
    assert drive.run(harness.notifier.check()) == []
    assert [t for t, _ in harness.messages] == ["2 need attention: 1 critical, 1 major"]
    assert harness.played == []
    assert not harness.notifier.pending  # the reminder is for what came while watching


def test_sound_repeats_until_acknowledged_or_resolved(
    drive: Driver, gui_core: Core, harness: Harness
) -> None:
    n = harness.notifier
    drive.run(n.check())
    drive.run(
        gui_core.alerts.submit(
            [problem("r1", "bgp", Severity.CRITICAL), problem("r2", "psu", Severity.MAJOR)]
        )
    )
    drive.run(n.check())
    assert harness.played == [Severity.CRITICAL]
    assert drive.run(n.remind()) is True
    assert harness.played == [Severity.CRITICAL] * 2
    assert harness.status[-1] == "🔔 2 alerts still unacknowledged"
    by_target = {a.target: a for a in drive.run(gui_core.alerts.list(status="open"))}
    drive.run(gui_core.alerts.acknowledge([by_target["r1"].id], comment="on it"))
    assert drive.run(n.remind()) is True  # r2 is still unacknowledged: its (major) sound
    assert harness.played[-1] is Severity.MAJOR
    drive.run(gui_core.alerts.resolve([by_target["r2"].id], comment="fixed"))
    assert drive.run(n.remind()) is False
    assert len(harness.played) == 3 and not n.pending
    # unacknowledged again: active again, so it notifies again
    drive.run(gui_core.alerts.unacknowledge([by_target["r1"].id]))
    assert [a.target for a in drive.run(n.check())] == ["r1"]


def test_the_repeat_timer_uses_the_settings_interval(
    drive: Driver, gui_core: Core, harness: Harness
) -> None:
    gui_core.settings = with_updates(gui_core.settings, notify_repeat_s=1)
    n = harness.notifier
    n.start()
    drive.until(lambda: n.known is not None)
    drive.run(gui_core.alerts.submit([problem("r1", "bgp", Severity.CRITICAL)]))
    # the service's change event makes the notifier look (no explicit check here)
    drive.until(lambda: harness.played == [Severity.CRITICAL])
    assert n.reminder_active()
    drive.until(lambda: len(harness.played) >= 2, timeout=5)  # a second later, again
    (alert,) = drive.run(gui_core.alerts.list(status="open"))
    drive.run(gui_core.alerts.acknowledge([alert.id]))
    drive.until(lambda: not n.reminder_active())
    played = len(harness.played)
    drive.sleep(1.5)
    assert len(harness.played) == played


def test_mute_silences_sounds_keeps_messages_and_is_saved(
    drive: Driver, gui_core: Core, harness: Harness
) -> None:
    n = harness.notifier
    drive.run(n.check())
    n.mute_action.trigger()
    assert n.muted and n.mute_action.isChecked()
    assert load_settings(gui_core.paths).notify_muted is True
    drive.run(gui_core.alerts.submit([problem("r1", "bgp", Severity.CRITICAL)]))
    assert len(drive.run(n.check())) == 1
    assert harness.messages and harness.played == []
    assert n.sounds_skipped == ["muted"]
    assert drive.run(n.remind()) is False
    n.set_muted(False)
    assert load_settings(gui_core.paths).notify_muted is False
    assert drive.run(n.remind()) is True
    assert harness.played == [Severity.CRITICAL]


def test_quiet_hours_silence_sounds_but_not_messages(
    drive: Driver, gui_core: Core, harness: Harness, clock: Clock
) -> None:
    gui_core.settings = with_updates(
        gui_core.settings, quiet_hours_start="22:00", quiet_hours_end="07:00"
    )
    n = harness.notifier
    drive.run(n.check())
    clock.now = clock.now.replace(hour=23, minute=30)
    drive.run(gui_core.alerts.submit([problem("r1", "bgp", Severity.CRITICAL)]))
    drive.run(n.check())
    assert len(harness.messages) == 1 and harness.played == []
    assert n.sounds_skipped == ["quiet hours"]
    clock.now = clock.now.replace(hour=6, minute=59)
    assert drive.run(n.remind()) is False
    clock.now = clock.now.replace(hour=7, minute=0)  # quiet hours are over
    assert drive.run(n.remind()) is True
    assert harness.played == [Severity.CRITICAL]


def test_silenced_alerts_do_not_notify(drive: Driver, gui_core: Core, harness: Harness) -> None:
    drive.run(harness.notifier.check())
    drive.run(
        gui_core.alerts.add_silence(
            Matchers(target="r9"),
            starts_at=None,
            ends_at=utcnow() + timedelta(hours=1),
            comment="maintenance",
        )
    )
    drive.run(gui_core.alerts.submit([problem("r9", "down", Severity.CRITICAL)]))
    assert drive.run(harness.notifier.check()) == []
    assert harness.messages == [] and harness.played == []


def test_sounds_degrade_to_the_system_beep_without_qtmultimedia(tmp_path: Any) -> None:
    sound = Sound(tmp_path)
    if notifications.QSoundEffect is None:
        assert sound.backend == "beep"
        assert "QtMultimedia is not installed" in sound.describe()
    else:
        assert sound.backend == "wav"
    sound.play(Severity.MAJOR)
    assert list(sound.played) == [Severity.MAJOR]
    tone = write_tone(tmp_path / "t.wav", 660.0, 2)
    assert tone.stat().st_size > 8000  # a real WAV file, should QSoundEffect be there


def test_the_settings_dialog_saves_notifications_and_applies_them_at_once(
    drive: Driver, gui_core: Core
) -> None:
    from PySide6.QtCore import QTime

    from opsconductor_desktop.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(gui_core)
    dialog.show()
    drive.until(lambda: dialog.credentials.loaded)
    page = dialog.notifications
    assert page.sound_check.isChecked() and page.repeat_spin.value() == 60
    assert not page.quiet_box.isChecked()
    page.repeat_spin.setValue(120)
    page.quiet_box.setChecked(True)
    page.quiet_start.setTime(QTime(23, 0))
    page.quiet_end.setTime(QTime(23, 0))
    dialog.accept()
    assert "different times" in dialog.message.text()  # refused, the dialog stays
    page.quiet_end.setTime(QTime(6, 30))
    dialog.accept()
    saved = load_settings(gui_core.paths)
    assert (saved.notify_repeat_s, saved.quiet_hours_start, saved.quiet_hours_end) == (
        120,
        "23:00",
        "06:30",
    )
    assert gui_core.settings.quiet_hours_start == "23:00"  # the running notifier sees it
    again = SettingsDialog(gui_core)
    assert again.notifications.quiet_box.isChecked()
    assert again.notifications.quiet_start.time() == QTime(23, 0)
    again.notifications.sound_check.setChecked(False)
    assert not again.notifications.repeat_spin.isEnabled()
    again.accept()
    assert load_settings(gui_core.paths).notify_sound is False
    drive.settle()
    again.deleteLater()
    dialog.deleteLater()
