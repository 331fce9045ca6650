"""The shell: panes and menus, status bar, persistence, the start-up dialog, crashes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from opsconductor_desktop import logs
from opsconductor_desktop.config import load_settings
from opsconductor_desktop.domain.errors import DatabaseUnavailableError, SchemaTooNewError
from opsconductor_desktop.gui import tasks
from opsconductor_desktop.gui.alerts.pane import AlertsPane
from opsconductor_desktop.gui.connectors.pane import ConnectorsPane
from opsconductor_desktop.gui.crash import CrashDialog, CrashHandler, build_report, redact
from opsconductor_desktop.gui.graphs.pane import GraphsPane
from opsconductor_desktop.gui.groups.pane import GroupsPane
from opsconductor_desktop.gui.jobs.pane import JobsPane
from opsconductor_desktop.gui.logs_pane import LogsPane
from opsconductor_desktop.gui.main_window import MainWindow
from opsconductor_desktop.gui.monitoring.pane import MonitoringPane
from opsconductor_desktop.gui.startup import (
    ChooseDatabaseDialog,
    StartupProblemDialog,
    open_core_interactively,
)
from opsconductor_desktop.gui.status import LoopLagTicker, percentile
from opsconductor_desktop.gui.targets.model import Column
from opsconductor_desktop.gui.targets.pane import TargetsPane
from opsconductor_desktop.paths import AppPaths
from opsconductor_desktop.services.app import Core

Shot = Callable[[QWidget, str], Path]


@pytest.fixture
def window(
    qtbot: Any, drive: Any, demo_core: Core, console_settings: QSettings
) -> Iterator[MainWindow]:
    win = MainWindow(demo_core, settings=console_settings)
    win.resize(1280, 800)
    win.show()
    win.start()
    targets = win.targets_pane()
    assert targets is not None
    drive.until(lambda: targets.loaded and not targets.is_reloading())
    yield win
    drive.run(win.shutdown())
    win.close()
    win.deleteLater()


def test_panes_menus_and_shortcuts(window: MainWindow, drive: Any, screenshot: Shot) -> None:
    order = [
        TargetsPane,
        GroupsPane,
        JobsPane,
        AlertsPane,
        GraphsPane,
        MonitoringPane,
        ConnectorsPane,
        LogsPane,
    ]
    names = ["Targets", "Groups", "Jobs", "Alerts", "Graphs", "Monitoring", "Connectors", "Logs"]
    assert [type(p) for p in window.panes] == order
    assert [window.switcher.item(i).text() for i in range(window.switcher.count())] == names
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["File", "Edit", "View", "Help"]
    file_items = [a.text().replace("&", "") for a in menus["File"].actions() if a.text()]
    assert file_items == ["Import targets…", "Export targets…", "Settings…", "Quit"]
    view_items = [a.text() for a in menus["View"].actions() if a.text()]
    assert view_items[:8] == names
    assert "Theme" in [a.text().replace("&", "") for a in menus["View"].actions()]
    edit_items = [a.text().replace("&", "") for a in menus["Edit"].actions()]
    assert "Add target…" in edit_items and "Delete…" in edit_items
    window.activateWindow()
    drive.until(lambda: QApplication.activeWindow() is window)
    keys = ((2, GroupsPane), (4, AlertsPane), (7, ConnectorsPane), (8, LogsPane), (1, TargetsPane))
    for number, kind in keys:
        QTest.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert isinstance(window.current_pane(), kind)
        assert window.pane_actions[number - 1].isChecked()
    window.show_pane(1)
    edit_items = [a.text().replace("&", "") for a in menus["Edit"].actions()]
    assert "Add target…" not in edit_items, "the Edit menu follows the current pane"
    window.show_pane(0)
    drive.sleep(0.3)
    screenshot(window, "main-window-targets")


def test_status_bar_shows_database_state_and_loop_lag(
    window: MainWindow, drive: Any, demo_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = window.status
    assert status.db_label.text().startswith("SQLite /")
    assert status.db_label.text().endswith("demo.db")
    assert str(demo_core.db_info) in status.db_label.toolTip()
    drive.until(lambda: status.db_state.text() == "● ok")
    drive.until(lambda: len(status.ticker.samples) >= 3)
    status.refresh_lag()
    assert status.lag_label.text().startswith("loop lag p99 ")
    assert status.lag_label.text().endswith(" ms")

    async def down() -> None:
        raise DatabaseUnavailableError("cannot reach the database: connection refused")

    monkeypatch.setattr(demo_core, "ping", down)
    # An operation that finds the database gone makes the status bar check at once.
    tasks.spawn(down(), on_error=lambda exc: None)
    drive.until(lambda: status.db_state.text() == "● unreachable")
    assert "connection refused" in status.db_state.toolTip()
    monkeypatch.undo()
    status.monitor.check_now()
    drive.until(lambda: status.db_state.text() == "● ok")


def test_lag_ticker_measures_a_blocked_loop(drive: Any) -> None:
    ticker = LoopLagTicker(interval=0.01, window=50)

    def blocking_slot() -> None:
        time.sleep(0.08)  # a slot that blocks the loop for 80 ms

    async def block() -> None:
        ticker.start()
        await asyncio.sleep(0.05)
        blocking_slot()
        await asyncio.sleep(0.05)
        ticker.stop()

    drive.run(block())
    assert ticker.worst() >= 0.07
    assert ticker.p99() == ticker.worst()
    assert percentile([], 0.99) == 0.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0


def test_window_remembers_geometry_pane_and_columns(
    qtbot: Any, drive: Any, demo_core: Core, tmp_path: Path
) -> None:
    ini = str(tmp_path / "console.ini")
    first = MainWindow(demo_core, settings=QSettings(ini, QSettings.Format.IniFormat))
    first.resize(790, 477)  # the offscreen screen is 800x600: widths get clamped
    first.show()
    targets = first.targets_pane()
    assert targets is not None
    targets.view.setColumnWidth(Column.VENDOR, 133)
    first.show_pane(1)
    first.close()  # closeEvent saves
    drive.run(first.shutdown())
    first.deleteLater()
    second = MainWindow(demo_core, settings=QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.height() == 477
    assert isinstance(second.current_pane(), GroupsPane)
    again = second.targets_pane()
    assert again is not None and again.view.columnWidth(Column.VENDOR) == 133
    drive.run(second.shutdown())
    assert Path(ini).is_file() and Path(ini).parent == tmp_path


def test_theme_choice_is_applied_and_saved(window: MainWindow, demo_core: Core) -> None:
    window.theme_actions["dark"].trigger()
    assert load_settings(demo_core.paths).theme == "dark"
    assert demo_core.settings.theme == "dark"
    window.theme_actions["system"].trigger()
    assert load_settings(demo_core.paths).theme == "system"


def test_settings_dialog_opens_from_the_file_menu(window: MainWindow, drive: Any) -> None:
    from opsconductor_desktop.gui.settings_dialog import SettingsDialog

    window.settings_action.trigger()
    drive.until(lambda: isinstance(window.dialog, SettingsDialog) and window.dialog.isVisible())
    assert window.dialog is not None
    window.dialog.reject()
    drive.until(lambda: window.dialog is None)


# ---- the database cannot be opened ----------------------------------------------------------


class FlakyOpener:
    """Fails ``failures`` times, then opens the real core; records the URLs asked for."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = list(failures)
        self.urls: list[str | None] = []

    async def __call__(self, *, home: Any, db_url: str | None, **options: Any) -> Core:
        from opsconductor_desktop.secrets import SecretStore
        from opsconductor_desktop.services.app import open_core

        self.urls.append(db_url)
        if self.failures:
            raise self.failures.pop(0)
        return await open_core(home=home, db_url=db_url, secrets=SecretStore(), actor="t")


def click_choice(drive: Any, task: asyncio.Task[Any], name: str) -> StartupProblemDialog:
    def found() -> StartupProblemDialog | None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, StartupProblemDialog) and widget.isVisible():
                return widget
        return None

    drive.until(lambda: found() is not None or task.done())
    dialog = found()
    assert dialog is not None, "the start-up dialog was shown"
    button = dialog.findChild(QPushButton, f"choice-{name}")
    assert button is not None
    button.click()
    return dialog


def test_unreachable_database_offers_retry_then_the_embedded_one(
    drive: Any, tmp_path: Path, screenshot: Shot
) -> None:
    home = tmp_path / "home"
    opener = FlakyOpener(
        [
            DatabaseUnavailableError("cannot connect to PostgreSQL at db.example.net: refused"),
            DatabaseUnavailableError("cannot connect to PostgreSQL at db.example.net: refused"),
        ]
    )
    wanted = "postgresql://opsc:s3cr3t-pw@db.example.net/opsc"
    task = asyncio.ensure_future(
        open_core_interactively(home, wanted, opener=opener), loop=drive.loop
    )
    dialog = click_choice(drive, task, "retry")
    assert "refused" in dialog.findChild(QWidget, "problemReason").text()  # type: ignore[union-attr]
    details = dialog.findChild(QWidget, "problemDetails").text()  # type: ignore[union-attr]
    assert "s3cr3t-pw" not in details and "db.example.net" in details
    screenshot(dialog, "startup-database-cannot-open")
    click_choice(drive, task, "default")
    drive.until(task.done)
    core = task.result()
    try:
        default = AppPaths.resolve(home).default_database
        assert opener.urls == [wanted, wanted, f"sqlite:///{default}"]
        assert core.db_info.dialect == "sqlite"
    finally:
        drive.run(core.close())


def test_choose_another_database_and_remember_it(drive: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    opener = FlakyOpener([SchemaTooNewError("the database schema is newer than this version")])
    task = asyncio.ensure_future(
        open_core_interactively(home, None, opener=opener), loop=drive.loop
    )
    dialog = click_choice(drive, task, "retry")  # shows once more
    del dialog
    opener.failures.append(SchemaTooNewError("still too new"))
    drive.until(lambda: len(opener.urls) == 2)

    def problem() -> StartupProblemDialog:
        return next(
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, StartupProblemDialog) and w.isVisible()
        )

    drive.until(
        lambda: any(
            isinstance(w, StartupProblemDialog) and w.isVisible()
            for w in QApplication.topLevelWidgets()
        )
    )
    problem().remember.setChecked(True)
    click_choice(drive, task, "choose")
    drive.until(
        lambda: any(
            isinstance(w, ChooseDatabaseDialog) and w.isVisible()
            for w in QApplication.topLevelWidgets()
        )
    )
    chooser = next(
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, ChooseDatabaseDialog) and w.isVisible()
    )
    chooser.postgres.setChecked(True)
    chooser.url_edit.setText("mysql://nope")
    assert not chooser.box.button(chooser.box.StandardButton.Open).isEnabled()
    chooser.sqlite.setChecked(True)
    other = tmp_path / "other.db"
    chooser.file_edit.setText(str(other))
    chooser.accept()
    drive.until(task.done)
    core = task.result()
    try:
        assert opener.urls[-1] == f"sqlite:///{other}"
        assert load_settings(AppPaths.resolve(home)).db_url == f"sqlite:///{other}"
    finally:
        drive.run(core.close())


def test_quit_at_startup_returns_none(drive: Any, tmp_path: Path) -> None:
    opener = FlakyOpener([DatabaseUnavailableError("no")])
    task = asyncio.ensure_future(
        open_core_interactively(tmp_path / "h", None, opener=opener), loop=drive.loop
    )
    click_choice(drive, task, "quit")
    drive.until(task.done)
    assert task.result() is None


def test_broken_settings_file_can_be_reset(drive: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    paths = AppPaths.resolve(home).ensure()
    paths.settings_file.write_text("this is = = not toml", encoding="utf-8")
    opener = FlakyOpener([])
    task = asyncio.ensure_future(
        open_core_interactively(home, None, opener=opener), loop=drive.loop
    )
    click_choice(drive, task, "reset-settings")
    drive.until(task.done)
    core = task.result()
    try:
        assert not paths.settings_file.exists()
        assert (paths.config_dir / "settings.toml.broken").exists()
    finally:
        drive.run(core.close())


# ---- crashes ---------------------------------------------------------------------------------


def test_crash_report_has_the_traceback_but_no_secrets(tmp_path: Path) -> None:
    logs.redact("hunter2-very-secret")
    log_file = tmp_path / "opsconductor.jsonl"
    log_file.write_text(
        '{"ts": "2026-01-01T00:00:00+00:00", "level": "INFO", "category": "x", '
        '"message": "started", "cid": "abc"}\n',
        encoding="utf-8",
    )
    try:
        raise RuntimeError(
            "boom with hunter2-very-secret at postgresql://opsc:pa55word@db/x password=letmein"
        )
    except RuntimeError as exc:
        report = build_report(exc, log_file=log_file, db="SQLite /tmp/x.db")
    assert "Traceback (most recent call last)" in report
    assert "RuntimeError: boom" in report
    assert "OpsConductor Desktop" in report and "python:" in report and "platform:" in report
    for secret in ("hunter2-very-secret", "pa55word", "letmein"):
        assert secret not in report
    assert "INFO x [abc]: started" in report
    assert redact("token: abc123 and community=public") == "token: *** and community=***"


def test_unexpected_errors_reach_the_crash_dialog_and_the_console_survives(
    window: MainWindow, drive: Any, tmp_path: Path, screenshot: Shot, caplog: Any
) -> None:
    handler = CrashHandler(tmp_path / "opsconductor.jsonl", parent_widget=lambda: window)
    tasks.set_crash_handler(handler._crashed.emit)  # as install() does, minus sys hooks
    try:

        async def broken() -> None:
            raise ZeroDivisionError("division by zero in a slot's task")

        with caplog.at_level(logging.ERROR):
            tasks.spawn(broken(), name="broken")
            drive.until(lambda: handler.dialog is not None and handler.dialog.isVisible())
        dialog = handler.dialog
        assert isinstance(dialog, CrashDialog)
        assert "ZeroDivisionError: division by zero" in dialog.report()
        assert any("unexpected error" in r.getMessage() for r in caplog.records)
        try:
            raise ValueError("a second one, from a slot")
        except ValueError as exc:
            handler.excepthook(ValueError, exc, exc.__traceback__)
        drive.until(lambda: dialog.count == 2)
        assert "ValueError: a second one" in dialog.report()
        screenshot(dialog, "crash-dialog")
        dialog.copy_report()
        assert "ZeroDivisionError" in QApplication.clipboard().text()
        # The console keeps working.
        targets = window.targets_pane()
        assert targets is not None
        targets.filter_edit.setText("kind:router")
        assert targets.proxy.rowCount() > 0
    finally:
        tasks.set_crash_handler(None)
        handler.uninstall()
