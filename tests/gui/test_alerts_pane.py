"""The Alerts pane against a real (SQLite) database: load, filter, sort, the operator's
actions (acknowledge with comment and expiry, unacknowledge, resolve, silence pre-filled,
several at once, the A/R/S keys), the history, and live refresh keeping the selection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from g2_fixtures import small_estate
from PySide6.QtCore import QPersistentModelIndex, QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert, Severity
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.alerts.dialogs import (
    CUSTOM,
    AckDialog,
    ResolveDialog,
    SilenceDialog,
    prefill,
    to_qt,
)
from opsconductor_desktop.gui.alerts.model import ALERT_ROLE, AlertTableModel, Column
from opsconductor_desktop.gui.alerts.pane import PAGE, AlertsPane
from opsconductor_desktop.services.alerts import AlertQuery
from opsconductor_desktop.services.app import Core

Driver = Any  # tests/gui/conftest.py: Driver (run, until, settle, find)


def problem(
    target: str | None,
    key: str,
    severity: Severity = Severity.MAJOR,
    *,
    source: str = "rule",
    summary: str = "",
    clear: bool = False,
) -> NormalizedAlert:
    return NormalizedAlert(
        source=source,
        key=key,
        severity=Severity.CLEAR if clear else severity,
        summary=summary or f"{key} on {target}",
        target=target,
        clear=clear,
    )


ESTATE_ALERTS = [
    problem("ams1-rou-01", "bgp:10.0.0.1", Severity.CRITICAL, summary="BGP peer 10.0.0.1 down"),
    problem("ams1-swi-02", "ifDown:49", Severity.MAJOR, summary="Ethernet1/49 down"),
    problem("fra2-fir-03", "cpu", Severity.MINOR, summary="CPU 91% for 10 min"),
    problem("lon1-ser-04", "ntp", Severity.WARNING, summary="NTP offset 180 ms"),
    problem("lab-rou-01", "config", Severity.INFO, source="syslog", summary="config changed"),
    problem("fra2-rou-01", "reach", Severity.CRITICAL, source="reachability", summary="down"),
]


@pytest.fixture
def core(drive: Driver, gui_core: Core) -> Core:
    drive.run(small_estate(gui_core))
    drive.run(gui_core.alerts.submit(ESTATE_ALERTS))
    return gui_core


@pytest.fixture
def pane(qtbot: Any, drive: Driver, core: Core) -> Iterator[AlertsPane]:
    widget = AlertsPane(core)
    widget.resize(1400, 800)
    widget.show()
    widget.activateWindow()
    drive.run(widget.reload())
    yield widget
    drive.run(widget.stopped())
    drive.settle()
    widget.close()
    widget.deleteLater()


def shown(pane: AlertsPane) -> list[tuple[str, str, str]]:
    """(target, severity, status) of each row, in order."""
    m = pane.model
    return [
        (
            m.index(r, Column.TARGET).data(),
            m.index(r, Column.SEVERITY).data(),
            m.index(r, Column.STATUS).data(),
        )
        for r in range(m.rowCount())
    ]


def targets(pane: AlertsPane) -> list[str]:
    return [t for t, _, _ in shown(pane)]


def select(pane: AlertsPane, *target_names: str) -> None:
    ids = [a.id for a in pane.model.alerts() if a.target in target_names]
    assert len(ids) == len(target_names)
    pane.select_ids(ids)


def focus_table(pane: AlertsPane, drive: Driver) -> None:
    """Give the table the keyboard focus (window activation is asynchronous offscreen)."""
    pane.activateWindow()
    pane.view.setFocus()
    drive.until(lambda: pane.view.hasFocus())


def reloaded(drive: Driver, pane: AlertsPane) -> None:
    drive.until(lambda: not pane.is_reloading())
    drive.settle()


def open_dialog(drive: Driver, pane: AlertsPane, kind: type[QDialog]) -> Any:
    drive.until(lambda: isinstance(pane.dialog, kind) and pane.dialog.isVisible())
    return pane.dialog


# ---- loading, looks, filters, sort ----------------------------------------------------------


def test_loads_open_alerts_newest_first_with_severity_looks(
    pane: AlertsPane, qtmodeltester: Any
) -> None:
    assert pane.model.rowCount() == 6
    assert pane.filters.count_label.text() == "6 alerts"
    seen = [a.last_seen for a in pane.model.alerts()]
    assert seen == sorted(seen, reverse=True)
    row = next(r for r, a in enumerate(pane.model.alerts()) if a.severity is Severity.CRITICAL)
    index = pane.model.index(row, Column.SEVERITY)
    assert index.data() == "critical"
    assert index.data(Qt.ItemDataRole.DecorationRole) is not None
    assert index.data(Qt.ItemDataRole.BackgroundRole) is not None  # active: tinted
    first_seen = pane.model.alert(row).first_seen
    assert pane.model.index(row, Column.FIRST_SEEN).data() == first_seen.astimezone().strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert "UTC" in pane.model.index(row, Column.FIRST_SEEN).data(Qt.ItemDataRole.ToolTipRole)
    qtmodeltester.check(pane.model)


def test_empty_database_says_all_quiet(qtbot: Any, drive: Driver, gui_core: Core) -> None:
    widget = AlertsPane(gui_core)
    widget.show()
    drive.run(widget.reload())
    assert widget.model.rowCount() == 0
    assert widget.empty_label.isVisible()
    assert "All quiet" in widget.empty_label.text()
    drive.run(widget.stopped())
    drive.settle()
    widget.close()
    widget.deleteLater()


def test_filters_status_severity_source_target_group_and_text(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    pane.filters.set_min_severity(Severity.MAJOR)
    reloaded(drive, pane)
    assert sorted(targets(pane)) == ["ams1-rou-01", "ams1-swi-02", "fra2-rou-01"]

    pane.filters.set_min_severity(None)
    pane.filters.set_source("syslog")
    reloaded(drive, pane)
    assert targets(pane) == ["lab-rou-01"]

    pane.filters.set_source(None)
    pane.filters.set_scope("fra2-fir-03")
    reloaded(drive, pane)
    assert targets(pane) == ["fra2-fir-03"]

    # a group: its effective members (tag:core and not site:lab → the routers but lab's)
    pane.filters.set_scope("group:core-routers")
    reloaded(drive, pane)
    assert sorted(targets(pane)) == ["ams1-rou-01", "fra2-rou-01"]
    # a plain name that is no target's is a group's
    pane.filters.set_scope("core-routers")
    reloaded(drive, pane)
    assert sorted(targets(pane)) == ["ams1-rou-01", "fra2-rou-01"]
    # a name the inventory does not know still filters (alerts outlive their targets)
    pane.filters.set_scope("gone-sw-01")
    reloaded(drive, pane)
    assert targets(pane) == []
    assert not pane.messages.text()

    pane.filters.set_scope("group:no-such-group")
    reloaded(drive, pane)
    assert targets(pane) == []
    assert "no-such-group" in pane.messages.text()

    pane.filters.set_scope("")
    pane.filters.set_text("ethernet1/49")  # case-insensitive substring of the summary
    reloaded(drive, pane)
    assert targets(pane) == ["ams1-swi-02"]
    pane.filters.set_text("50%_")  # LIKE wildcards are taken literally
    reloaded(drive, pane)
    assert targets(pane) == []
    assert "No alert matches" in pane.empty_label.text()


def test_status_filter_defaults_to_open_and_shows_resolved_on_request(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    drive.run(core.alerts.submit([problem("lon1-ser-04", "ntp", clear=True)]))
    reloaded(drive, pane)
    assert "lon1-ser-04" not in targets(pane)
    pane.filters.set_status("resolved")
    reloaded(drive, pane)
    assert shown(pane) == [("lon1-ser-04", "warning", "resolved")]
    row = 0
    foreground = pane.model.index(row, Column.SUMMARY).data(Qt.ItemDataRole.ForegroundRole)
    assert foreground is not None  # muted
    assert pane.model.index(row, Column.SEVERITY).data(Qt.ItemDataRole.BackgroundRole) is None
    pane.filters.set_status("all")
    reloaded(drive, pane)
    assert pane.model.rowCount() == 6


def test_sort_by_clicking_headers_is_done_by_the_database(pane: AlertsPane, drive: Driver) -> None:
    header = pane.view.horizontalHeader()
    x = header.sectionViewportPosition(Column.SEVERITY) + 10
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    reloaded(drive, pane)
    # severity sorts worst first on its first click
    assert pane.model.sort_spec() == ("severity", True)
    severities = [a.severity for a in pane.model.alerts()]
    assert severities == sorted(severities, reverse=True)
    pane.view.sortByColumn(Column.TARGET, Qt.SortOrder.AscendingOrder)
    reloaded(drive, pane)
    assert targets(pane) == sorted(targets(pane))
    pane.view.sortByColumn(Column.TARGET, Qt.SortOrder.DescendingOrder)
    reloaded(drive, pane)
    assert targets(pane) == sorted(targets(pane), reverse=True)


# ---- operator actions -----------------------------------------------------------------------


def test_acknowledge_with_comment_and_expiry_then_unacknowledge(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    select(pane, "ams1-rou-01")
    pane.ack_action.trigger()
    dialog: AckDialog = open_dialog(drive, pane, AckDialog)
    assert "ams1-rou-01" in dialog.intro.text()
    dialog.comment_edit.setPlainText("ticket INC-4711, maria on it")
    dialog.set_expiry(4 * 3600)
    before = utcnow()
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    reloaded(drive, pane)
    (alert,) = drive.run(core.alerts.list(status="acknowledged"))
    assert alert.target == "ams1-rou-01"
    assert alert.ack_by == "tester" and alert.ack_comment == "ticket INC-4711, maria on it"
    assert alert.ack_expires is not None
    expected = before + timedelta(hours=4)
    assert abs((alert.ack_expires - expected).total_seconds()) < 60
    row = pane.model.row_of(alert.id)
    assert row is not None
    assert pane.model.index(row, Column.STATUS).data() == "acknowledged"
    assert pane.model.index(row, Column.ACK_BY).data() == "tester"
    assert pane.unack_action.isEnabled() and not pane.ack_action.isEnabled()

    pane.unack_action.trigger()
    drive.settle()
    reloaded(drive, pane)
    assert drive.run(core.alerts.get(alert.id)).status is AlertStatus.ACTIVE
    assert pane.model.index(row, Column.STATUS).data() == "active"


def test_custom_expiry_in_the_past_is_refused_in_the_dialog(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    select(pane, "ams1-rou-01")
    pane.commands.acknowledge_selected()
    dialog: AckDialog = open_dialog(drive, pane, AckDialog)
    dialog.set_expiry(CUSTOM)
    assert dialog.until_edit.isEnabled()
    dialog.until_edit.setDateTime(to_qt(utcnow() - timedelta(hours=1)))
    dialog.accept()
    assert "past" in dialog.message.text()
    assert dialog.isVisible()
    dialog.until_edit.setDateTime(to_qt(utcnow() + timedelta(hours=2)))
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    (alert,) = drive.run(core.alerts.list(status="acknowledged"))
    assert alert.ack_expires is not None and alert.ack_expires > utcnow() + timedelta(hours=1)


def test_resolve_with_comment_keeps_history(pane: AlertsPane, drive: Driver, core: Core) -> None:
    select(pane, "fra2-fir-03")
    pane.resolve_action.trigger()
    dialog: ResolveDialog = open_dialog(drive, pane, ResolveDialog)
    dialog.comment_edit.setPlainText("scheduler job fixed")
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    reloaded(drive, pane)
    assert "fra2-fir-03" not in targets(pane)  # the open view no longer lists it
    (done,) = drive.run(core.alerts.list(status="resolved"))
    history = drive.run(core.alerts.get(done.id)).events
    assert history[-1].comment == "scheduler job fixed" and history[-1].actor == "tester"


def test_bulk_acknowledge_skips_what_cannot_be_acknowledged(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    drive.run(core.alerts.acknowledge([pane.model.alerts()[0].id], comment="already"))
    reloaded(drive, pane)
    pane.view.selectAll()
    assert len(pane.selected_alerts()) == 6
    pane.ack_action.trigger()
    dialog: AckDialog = open_dialog(drive, pane, AckDialog)
    assert dialog.windowTitle() == "Acknowledge 5 alerts"
    dialog.comment_edit.setPlainText("storm: looking")
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    reloaded(drive, pane)
    acked = drive.run(core.alerts.list(status="acknowledged"))
    assert len(acked) == 6
    assert sorted(a.ack_comment for a in acked) == ["already"] + ["storm: looking"] * 5
    assert len(pane.selected_alerts()) == 6  # the selection survived the refresh


def test_bulk_resolve(pane: AlertsPane, drive: Driver, core: Core) -> None:
    select(pane, "ams1-swi-02", "lon1-ser-04", "lab-rou-01")
    pane.commands.resolve_selected()
    dialog: ResolveDialog = open_dialog(drive, pane, ResolveDialog)
    assert dialog.windowTitle() == "Resolve 3 alerts"
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    reloaded(drive, pane)
    assert sorted(targets(pane)) == ["ams1-rou-01", "fra2-fir-03", "fra2-rou-01"]


def test_silence_is_prefilled_from_the_selection(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    select(pane, "ams1-swi-02")
    pane.silence_action.trigger()
    dialog: SilenceDialog = open_dialog(drive, pane, SilenceDialog)
    assert dialog.targets_edit.text() == "ams1-swi-02"
    assert dialog.source_edit.text() == "rule"
    assert dialog.key_edit.text() == r"^ifDown:49$"
    assert dialog.severity_combo.currentData() == int(Severity.MAJOR)
    assert "Matches 1 of the 1" in dialog.preview.text()
    dialog.accept()  # no comment yet
    assert "comment" in dialog.message.text() and dialog.isVisible()
    dialog.comment_edit.setText("CHG-1234 optics swap")
    dialog.set_duration(4 * 3600)
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    reloaded(drive, pane)
    (silence,) = drive.run(core.alerts.silences())
    assert silence.matchers.target == "ams1-swi-02" and silence.matchers.key_regex
    assert silence.silence.comment == "CHG-1234 optics swap"
    span = silence.silence.ends_at - silence.silence.starts_at
    assert abs(span.total_seconds() - 4 * 3600) < 60
    row = next(r for r, a in enumerate(pane.model.alerts()) if a.target == "ams1-swi-02")
    assert pane.model.index(row, Column.STATUS).data() == "suppressed"


def test_silence_of_several_targets_makes_one_silence_each(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    select(pane, "ams1-rou-01", "fra2-rou-01")
    pane.commands.silence_selected()
    dialog: SilenceDialog = open_dialog(drive, pane, SilenceDialog)
    assert dialog.targets_edit.text() == "ams1-rou-01, fra2-rou-01"
    assert dialog.source_edit.text() == ""  # rule and reachability: any source
    assert dialog.key_edit.text() == r"^(bgp:10\.0\.0\.1|reach)$"
    assert "2 silences" in dialog.preview.text()
    dialog.key_edit.setText("^(unclosed")
    assert "bad key_regex" in dialog.preview.text()
    dialog.key_edit.setText(prefill(pane.selected_alerts())["key_regex"])  # type: ignore[arg-type]
    dialog.comment_edit.setText("core maintenance")
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    silences = drive.run(core.alerts.silences())
    assert sorted(s.matchers.target for s in silences) == ["ams1-rou-01", "fra2-rou-01"]
    suppressed = drive.run(core.alerts.list(status="suppressed"))
    assert sorted(a.target for a in suppressed) == ["ams1-rou-01", "fra2-rou-01"]


def test_keys_a_r_s_and_ctrl_f(pane: AlertsPane, drive: Driver) -> None:
    select(pane, "lon1-ser-04")
    focus_table(pane, drive)
    for key, kind in ((Qt.Key.Key_A, AckDialog), (Qt.Key.Key_R, ResolveDialog),
                      (Qt.Key.Key_S, SilenceDialog)):  # fmt: skip
        QTest.keyClick(pane.view, key)
        dialog = open_dialog(drive, pane, kind)
        dialog.reject()
        drive.until(lambda: pane.dialog is None)
        focus_table(pane, drive)
    QTest.keyClick(pane.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert pane.filters.text_edit.hasFocus()
    QTest.keyClicks(pane.filters.text_edit, "ars")  # letters in the filter are just text
    assert pane.filters.text_edit.text() == "ars"
    assert pane.dialog is None


def test_details_show_the_full_history(pane: AlertsPane, drive: Driver, core: Core) -> None:
    alert = next(a for a in pane.model.alerts() if a.target == "ams1-rou-01")
    drive.run(core.alerts.acknowledge([alert.id], comment="looking"))
    drive.run(core.alerts.unacknowledge([alert.id], comment="wrong alert"))
    reloaded(drive, pane)
    select(pane, "ams1-rou-01")
    drive.until(lambda: len(pane.details.history_rows()) == 3)
    rows = pane.details.history_rows()
    assert [r[2] for r in rows] == [
        "acknowledged → active",
        "active → acknowledged",
        "new → active",
    ]
    assert rows[0][1] == "tester" and rows[0][3] == "wrong alert"
    assert rows[1][3] == "looking"
    assert "BGP peer 10.0.0.1 down" in pane.details.heading.text()
    assert pane.details.values["target"].text() == "ams1-rou-01"
    pane.view.selectAll()
    drive.settle()
    assert "6 alerts selected" in pane.details.placeholder.text()


def test_flapping_alert_is_marked(pane: AlertsPane, drive: Driver, core: Core) -> None:
    down = problem("ams1-swi-02", "ifDown:7", Severity.MINOR, summary="Gi0/7 down")
    up = problem("ams1-swi-02", "ifDown:7", clear=True)
    drive.run(core.alerts.submit([down, up] * 8))  # 16 checks: down, up, down, up, …
    reloaded(drive, pane)
    row = next(r for r, a in enumerate(pane.model.alerts()) if a.key == "ifDown:7")
    status = pane.model.index(row, Column.STATUS)
    assert status.data() == "active · flapping"
    assert "Flapping" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert status.data(Qt.ItemDataRole.ForegroundRole) is not None


# ---- live refresh ---------------------------------------------------------------------------


def test_live_refresh_after_a_submit_elsewhere_keeps_selection_and_scroll(
    qtbot: Any, drive: Driver, core: Core
) -> None:
    many = [problem(f"lab-ser-{n:03d}", "disk", Severity.WARNING) for n in range(400)]
    drive.run(core.alerts.submit(many))
    widget = AlertsPane(core)
    widget.resize(1200, 600)
    widget.show()
    drive.run(widget.reload())
    assert widget.model.rowCount() == PAGE and widget.model.total == 406
    # scroll: the view fetches the next page when it reaches the end
    widget.view.scrollToBottom()
    drive.until(lambda: widget.model.rowCount() == 400)
    widget.view.scrollToBottom()
    drive.until(lambda: widget.model.rowCount() == 406)
    assert not widget.model.canFetchMore(widget.model.index(-1, -1))
    widget.view.scrollTo(widget.model.index(150, 0), widget.view.ScrollHint.PositionAtTop)
    top = widget.model.alert(widget.view.rowAt(0)).id
    chosen = widget.model.alert(160).id
    widget.select_ids([chosen])
    # another process (the CLI, the poller) submits through the service: the change
    # counter moves and the change watcher publishes the event
    drive.run(core.watcher.poll())  # the baseline

    async def elsewhere() -> None:
        from opsconductor_desktop.secrets import SecretStore
        from opsconductor_desktop.services.app import open_core

        other = await open_core(
            home=core.paths.config_dir.parent,
            db_url=str(core.database.url),
            secrets=SecretStore(),
            actor="poller",
        )
        try:
            await other.alerts.submit([problem("ams1-rou-01", "fan", Severity.CRITICAL)])
        finally:
            await other.close()

    drive.run(elsewhere())
    events = drive.run(core.watcher.poll())
    assert [e.entity.value for e in events] == ["alert"]
    drive.until(lambda: widget.model.total == 407)
    reloaded(drive, widget)
    assert widget.model.alerts()[0].key == "fan"  # newest first
    assert [a.id for a in widget.selected_alerts()] == [chosen]
    assert widget.model.alert(widget.view.rowAt(0)).id == top  # the view did not jump
    drive.run(widget.stopped())
    drive.settle()
    widget.close()
    widget.deleteLater()


def test_live_refresh_at_the_top_shows_the_new_alert(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    select(pane, "fra2-fir-03")
    drive.run(core.alerts.submit([problem("lon1-rou-01", "bgp", Severity.CRITICAL)]))
    drive.until(lambda: pane.model.rowCount() == 7)
    reloaded(drive, pane)
    assert targets(pane)[0] == "lon1-rou-01"
    assert pane.view.rowAt(0) == 0
    assert [a.target for a in pane.selected_alerts()] == ["fra2-fir-03"]


def test_counts_signal_and_state_round_trip(
    pane: AlertsPane, drive: Driver, console_settings: QSettings, core: Core
) -> None:
    assert pane.counts[Severity.CRITICAL] == 2 and pane.counts[Severity.INFO] == 1
    counts: list[dict[Severity, int]] = []
    pane.counts_changed.connect(counts.append)
    pane.filters.set_status("all")
    pane.filters.set_min_severity(Severity.MINOR)
    pane.view.sortByColumn(Column.TARGET, Qt.SortOrder.AscendingOrder)
    reloaded(drive, pane)
    assert counts == []  # filters do not change the open counts: not read again
    drive.run(core.alerts.submit([problem("lab-swi-02", "psu", Severity.CRITICAL)]))
    drive.until(lambda: bool(counts))
    assert counts[-1][Severity.CRITICAL] == 3
    pane.refresh()
    drive.until(lambda: len(counts) == 2)
    console_settings.beginGroup("panes/alertsPane")
    pane.save_state(console_settings)
    console_settings.endGroup()
    again = AlertsPane(core)
    console_settings.beginGroup("panes/alertsPane")
    again.restore_state(console_settings)
    console_settings.endGroup()
    assert again.filters.status() == "all"
    assert again.filters.min_severity() is Severity.MINOR
    assert again.model.sort_spec() == ("target", False)
    drive.run(again.reload())
    assert again.query == AlertQuery(status="all", min_severity=Severity.MINOR, sort="target",
                                     descending=False)  # fmt: skip
    drive.run(again.stopped())
    again.deleteLater()


def test_model_sync_moves_rows_in_place(qtmodeltester: Any, drive: Driver, core: Core) -> None:
    model = AlertTableModel()
    alerts = drive.run(core.alerts.list(status="open"))
    model.sync(alerts, len(alerts))
    qtmodeltester.check(model)
    kept = QPersistentModelIndex(model.index(2, 0))
    kept_id = kept.data(ALERT_ROLE).id
    model.sync(list(reversed(alerts[1:])), len(alerts) - 1)
    assert model.rowCount() == len(alerts) - 1
    assert kept.isValid() and kept.data(ALERT_ROLE).id == kept_id
    assert [a.id for a in model.alerts()] == [a.id for a in reversed(alerts[1:])]


def test_the_window_shows_open_counts_and_a_mute_toggle(
    drive: Driver, core: Core, console_settings: QSettings
) -> None:
    from opsconductor_desktop.gui.main_window import MainWindow

    window = MainWindow(core, settings=console_settings)
    told: list[str] = []
    window.notifier.notified.connect(lambda title, _text: told.append(title))
    window.resize(1280, 800)
    window.show()
    window.start()
    try:
        alerts = window.alerts_pane()
        assert alerts is not None
        counts = window.status.alert_counts
        drive.until(lambda: counts.counts[Severity.CRITICAL] == 2)
        assert counts.text() == "2 critical, 1 major, 1 minor, 1 warning, 1 info"
        # the notifier's first look: one summary (no system tray offscreen: the status bar)
        drive.until(lambda: told == ["3 need attention: 2 critical, 1 major"])
        assert "3 need attention" in window.status.currentMessage()
        window.show_pane(0)
        QTest.mouseClick(counts, Qt.MouseButton.LeftButton)
        assert window.current_pane() is alerts
        view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
        assert window.notifier.mute_action in view_menu.actions()
        assert window.notifier.mute_action in window.toolbar.actions()
        assert alerts.ack_action in window.toolbar.actions()
        drive.run(core.alerts.submit([problem("lab-swi-02", "psu", Severity.CRITICAL)]))
        drive.until(lambda: counts.counts[Severity.CRITICAL] == 3)
        drive.until(lambda: told[-1:] == ["CRITICAL alert: lab-swi-02"])
    finally:
        drive.run(window.shutdown())
        window.close()
        window.deleteLater()


def test_silences_dialog_lists_and_ends_silences(
    pane: AlertsPane, drive: Driver, core: Core
) -> None:
    from opsconductor_desktop.domain.silences import Matchers
    from opsconductor_desktop.gui.alerts.silences import SilencesDialog

    now = utcnow()
    drive.run(
        core.alerts.add_silence(
            Matchers(target="ams1-swi-02"), starts_at=None, ends_at=now + timedelta(hours=2),
            comment="optics swap",
        )
    )  # fmt: skip
    drive.run(
        core.alerts.add_silence(
            Matchers(tag="lab"), starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2), comment="lab rebuild",
        )
    )  # fmt: skip
    reloaded(drive, pane)
    pane.commands.silences_action.trigger()
    dialog: SilencesDialog = open_dialog(drive, pane, SilencesDialog)
    drive.until(lambda: dialog.table.rowCount() == 2)
    texts = {dialog.table.item(r, 0).text(): dialog.table.item(r, 4).text() for r in range(2)}
    assert texts == {"target=ams1-swi-02": "in force", "tag=lab": "scheduled"}
    assert "1 in force" in dialog.summary.text()
    assert not dialog.remove_button.isEnabled()
    row = next(r for r in range(2) if dialog.table.item(r, 0).text() == "target=ams1-swi-02")
    dialog.table.selectRow(row)
    assert dialog.remove_button.isEnabled()
    drive.run(dialog._remove(dialog.chosen_ids(), ask_first=False))
    assert dialog.table.rowCount() == 1
    (left,) = drive.run(core.alerts.silences())
    assert left.silence.comment == "lab rebuild"
    dialog.reject()
    drive.until(lambda: pane.dialog is None)
    row = next(r for r, a in enumerate(pane.model.alerts()) if a.target == "ams1-swi-02")
    drive.until(lambda: pane.model.index(row, Column.STATUS).data() != "suppressed")
