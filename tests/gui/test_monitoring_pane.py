"""The Monitoring pane end to end: monitors and rules defined in the GUI, check status.

A real SQLite database and the real services; check states come from the real poller
probing TCP listeners on loopback (no external network). Dialogs are driven as an
operator would: fields typed, tabs switched, Save clicked, confirmations answered.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from g2_fixtures import small_estate
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.domain.targets import TargetKind, TargetSpec
from opsconductor_desktop.gui.jobs.common import local_time
from opsconductor_desktop.gui.monitoring.check_dialog import CheckDialog
from opsconductor_desktop.gui.monitoring.common import as_yaml, to_text, to_value
from opsconductor_desktop.gui.monitoring.import_dialog import ImportDialog
from opsconductor_desktop.gui.monitoring.models import CheckStatesModel
from opsconductor_desktop.gui.monitoring.monitor_editor import MonitorEditorDialog
from opsconductor_desktop.gui.monitoring.pane import MONITORS, RULES, STATUS, MonitoringPane
from opsconductor_desktop.gui.monitoring.rule_editor import FOR_DURATION, RuleEditorDialog
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import Core, open_core
from opsconductor_desktop.services.monitoring import load_documents

Driver = Any  # tests/gui/conftest.py: Driver (run, until, settle, find)
Shot = Callable[[QWidget, str], Path]

PING = {
    "name": "core-ping",
    "kind": "reachability",
    "method": "icmp",
    "interval": 30,
    "select": {"groups": ["core-routers"]},
}
CPU = {
    "name": "cpu",
    "kind": "snmp",
    "interval": "5m",
    "select": {"rule": "kind:router"},
    "metrics": [{"name": "cpuLoad", "oid": "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", "type": "gauge"}],
}
CPU_HIGH = {
    "name": "cpu-high",
    "metric": "cpuLoad",
    "op": ">",
    "threshold": 90,
    "clear": 80,
    "for": "5m",
    "severity": "major",
}


@pytest.fixture
def listening() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections (the kernel's backlog does)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


async def _estate(core: Core) -> None:
    await small_estate(core, per_site=4)
    for name, address in (("lab-web-01", "127.0.0.1"), ("lab-web-02", "127.0.0.2")):
        await core.inventory.create_target(
            TargetSpec(name, address, kind=TargetKind.SERVER, vendor="dell", site="lab")
        )
    await core.monitoring.save_monitor(PING)
    await core.monitoring.save_monitor(CPU)
    await core.monitoring.save_rule(CPU_HIGH)


@pytest.fixture
def core(drive: Driver, gui_core: Core) -> Core:
    drive.run(_estate(gui_core))
    return gui_core


@pytest.fixture
def pane(qtbot: Any, drive: Driver, core: Core) -> Iterator[MonitoringPane]:
    widget = MonitoringPane(core)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    drive.run(widget.reload())
    yield widget
    widget.shutdown()  # before pytest-qt deletes the widget
    drive.settle()  # a reload already under way ends before the widget is deleted


def _wait_dialog(drive: Driver, pane: MonitoringPane, kind: type) -> Any:
    drive.until(lambda: isinstance(pane.dialog, kind) and pane.dialog.isVisible())
    return pane.dialog


def _answer(drive: Driver, parent: QWidget, yes: bool = True) -> None:
    box = drive.find(parent, QMessageBox, "confirmBox")
    role = QMessageBox.ButtonRole.AcceptRole if yes else QMessageBox.ButtonRole.RejectRole
    button = next(b for b in box.buttons() if box.buttonRole(b) == role)
    button.click()


def _set_cell(editor: MonitorEditorDialog, row: int, key: str, value: Any) -> None:
    model = editor.metrics_model
    index = model.index(row, model.column_of(key))
    role = Qt.ItemDataRole.CheckStateRole if key == "walk" else Qt.ItemDataRole.EditRole
    assert model.setData(index, value, role)


def _names(pane: MonitoringPane, tab: int) -> list[str]:
    proxy = pane.monitors_proxy if tab == MONITORS else pane.rules_proxy
    return sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount()))


def _save(drive: Driver, pane: MonitoringPane, editor: Any) -> None:
    editor.save_button.click()
    drive.until(lambda: pane.dialog is None)
    drive.settle()


# ---- helpers -------------------------------------------------------------------------------


def test_field_text_round_trips_numbers_and_durations() -> None:
    for value in (90, 0.5, 1e9, -3, "5m", "1h30m", 2.25):
        assert to_value(to_text(value)) == value
    assert to_value("") is None
    assert to_value(" 60 ") == 60
    assert to_value("abc") == "abc"  # reaches validation, which names the field


# ---- monitors --------------------------------------------------------------------------------


def test_lists_monitors_and_rules_with_their_models(
    pane: MonitoringPane, qtmodeltester: Any
) -> None:
    assert _names(pane, MONITORS) == ["core-ping", "cpu"]
    assert _names(pane, RULES) == ["cpu-high"]
    qtmodeltester.check(pane.monitors_model)
    qtmodeltester.check(pane.rules_model)
    qtmodeltester.check(pane.status_view.model)
    row = pane.monitors_model.row_of(pane.monitor_named("cpu").id)
    model = pane.monitors_model
    assert model.index(row, model.KIND).data() == "snmp"
    assert model.index(row, model.INTERVAL).data() == "5m"
    assert model.index(row, model.APPLIES).data() == "rule “kind:router”"
    assert model.index(row, model.METRICS).data() == "1"
    assert pane.tabs.tabText(MONITORS) == "Monitors (2)"
    rule = pane.rules_model.index(0, pane.rules_model.CONDITION).data()
    assert rule == "cpuLoad > 90 (clear at 80)"
    assert pane.rules_model.index(0, pane.rules_model.HOLD).data() == "for 5m"
    pane.monitors_filter.setText("ping")
    assert _names(pane, MONITORS) == ["core-ping"]


def test_new_snmp_monitor_through_the_form_and_errors_naming_the_field(
    pane: MonitoringPane, drive: Driver, core: Core, qtmodeltester: Any, screenshot: Shot
) -> None:
    pane.tabs.setCurrentIndex(MONITORS)
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    pane.monitors_view.setFocus()
    QTest.keyClick(pane.monitors_view, Qt.Key.Key_Insert)
    editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    assert editor.windowTitle() == "New monitor"
    editor.name_edit.setText("interface-traffic")
    editor.kind_combo.setCurrentIndex(editor.kind_combo.findData("snmp"))
    assert editor.metrics_model.rowCount() == 1  # a fresh row to fill in
    qtmodeltester.check(editor.metrics_model)
    _set_cell(editor, 0, "name", "ifHCIn")
    _set_cell(editor, 0, "oid", "ifHCInOctets")  # a name, not a numeric OID
    _set_cell(editor, 0, "type", "counter")
    _set_cell(editor, 0, "walk", Qt.CheckState.Checked)
    _set_cell(editor, 0, "scale", "8")
    editor.interval_edit.setText("5m")
    editor.picker.groups.model.set_checked(["core-routers"])
    drive.until(lambda: not editor.pending())
    assert editor.error is not None
    assert editor.error.startswith("metrics[0].oid: invalid OID 'ifHCInOctets'")
    assert "metrics[0].oid" in editor.status.text()
    assert editor.metrics_model.error_row == 0 and editor.metrics_model.error_key == "oid"
    editor.tabs.setCurrentIndex(1)  # the operator looks elsewhere, then saves
    editor.save_button.click()
    assert editor.isVisible()  # not saved: the field is brought forward instead
    assert editor.tabs.currentIndex() == 0
    current = editor.metrics_view.currentIndex()
    assert (current.row(), current.column()) == (0, editor.metrics_model.column_of("oid"))
    assert editor.metrics_view.hasFocus()
    screenshot(editor, "monitoring-editor-invalid")

    _set_cell(editor, 0, "oid", "1.3.6.1.2.1.31.1.1.1.6")
    editor.add_metric()
    _set_cell(editor, 1, "name", "cpuLoad")
    _set_cell(editor, 1, "oid", "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1")
    # a timeout that does not fit the interval: the timeout field is named and focused
    editor.interval_edit.setText("10")
    editor.timeout_edit.setText("10")
    editor.save_button.click()
    assert editor.error_field == "timeout"
    assert editor.timeout_edit.hasFocus()
    assert "border" in editor.timeout_edit.styleSheet()
    editor.interval_edit.setText("5m")
    editor.timeout_edit.setText("")
    drive.until(lambda: not editor.pending())
    assert editor.error is None, editor.error
    assert editor.timeout_edit.styleSheet() == ""
    assert editor.status.text() == "✔ Valid snmp monitor: 2 metric(s), every 5m"
    screenshot(editor, "monitoring-editor")
    _save(drive, pane, editor)

    stored = drive.run(core.monitoring.get_monitor("interface-traffic")).monitor
    assert stored.interval == 300 and stored.select.groups == ("core-routers",)
    walked = stored.metrics[0]
    assert (walked.name, walked.walk, walked.scale, walked.type.value) == (
        "ifHCIn",
        True,
        8.0,
        "counter",
    )
    assert dict(stored.source)["interval"] == "5m"  # as typed, not converted
    assert pane.selected_monitors()[0].name == "interface-traffic"


def test_yaml_view_round_trips_with_the_form(
    pane: MonitoringPane, drive: Driver, core: Core, screenshot: Shot
) -> None:
    assert pane.select_name(MONITORS, "core-ping")
    pane.edit_action.trigger()
    editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    yaml_tab = editor.tabs.count() - 1
    editor.tabs.setCurrentIndex(yaml_tab)
    assert yaml.safe_load(editor.yaml_edit.toPlainText()) == PING

    # YAML → form: the form shows what was typed there
    edited = dict(PING, interval="2m", method="tcp", port=8443, description="edge HTTPS")
    editor.yaml_edit.setPlainText(as_yaml(edited))
    editor.tabs.setCurrentIndex(0)
    assert editor.interval_edit.text() == "2m"
    assert editor.method_combo.currentData() == "tcp"
    assert editor.port_spin.value() == 8443 and editor.port_spin.isEnabled()
    assert editor.description_edit.text() == "edge HTTPS"

    # form → YAML: the form's edits show in the YAML
    editor.down_after_spin.setValue(5)
    editor.tabs.setCurrentIndex(yaml_tab)
    assert yaml.safe_load(editor.yaml_edit.toPlainText()) == dict(edited, down_after=5)
    screenshot(editor, "monitoring-editor-yaml")
    editor.tabs.setCurrentIndex(1)
    screenshot(editor, "monitoring-editor-applies-to")
    editor.tabs.setCurrentIndex(yaml_tab)

    # broken YAML keeps the operator on the YAML tab, with the line
    editor.yaml_edit.setPlainText("name: core-ping\nkind: [reachability\n")
    editor.tabs.setCurrentIndex(0)
    assert editor.tabs.currentIndex() == yaml_tab
    assert editor.error is not None and editor.error.startswith("YAML line")

    # a key the form has no field for is kept, and validation names it
    editor.yaml_edit.setPlainText(as_yaml(dict(edited, colour="blue")))
    drive.until(lambda: not editor.pending())
    assert editor.error == "monitor: unknown key(s) colour"
    editor.tabs.setCurrentIndex(0)
    assert "colour" in editor.document()
    editor.save_button.click()  # not in the form: the YAML is shown and focused
    assert editor.tabs.currentIndex() == yaml_tab and editor.yaml_edit.hasFocus()
    editor.yaml_edit.setPlainText(as_yaml(edited))
    _save(drive, pane, editor)
    stored = drive.run(core.monitoring.get_monitor("core-ping"))
    assert dict(stored.monitor.source) == edited
    assert stored.monitor.port == 8443


def test_edit_rename_duplicate_toggle_and_delete_monitors(
    pane: MonitoringPane, drive: Driver, core: Core
) -> None:
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    assert pane.select_name(MONITORS, "cpu")
    pane.monitors_view.setFocus()
    QTest.keyClick(pane.monitors_view, Qt.Key.Key_Return)
    editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    assert editor.metrics_model.rowCount() == 1
    editor.name_edit.setText("cpu-load")
    drive.until(lambda: not editor.pending())
    assert editor.rename_hint.isVisible()
    editor.name_edit.setText("core-ping")  # taken
    drive.until(lambda: not editor.pending())
    assert editor.error == "name: a monitor named 'core-ping' already exists"
    editor.name_edit.setText("cpu-load")
    _save(drive, pane, editor)
    assert _names(pane, MONITORS) == ["core-ping", "cpu-load"]

    # duplicate opens the copy under a free name; saving creates it
    pane.duplicate_action.trigger()
    copy_editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    assert copy_editor.name_edit.text() == "cpu-load-copy"
    _save(drive, pane, copy_editor)
    assert "cpu-load-copy" in _names(pane, MONITORS)

    # disable, then enable again
    assert pane.select_name(MONITORS, "cpu-load-copy")
    assert pane.toggle_action.text() == "Disa&ble"
    pane.toggle_action.trigger()
    drive.until(lambda: not pane.monitor_named("cpu-load-copy").monitor.enabled)
    assert pane.toggle_action.text() == "Ena&ble"
    assert not drive.run(core.monitoring.get_monitor("cpu-load-copy")).monitor.enabled

    # Delete asks; Cancel keeps it, Delete removes it
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    pane.monitors_view.setFocus()
    QTest.keyClick(pane.monitors_view, Qt.Key.Key_Delete)
    _answer(drive, pane, yes=False)
    drive.settle()
    assert "cpu-load-copy" in _names(pane, MONITORS)
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    QTest.keyClick(pane.monitors_view, Qt.Key.Key_Delete)
    box = drive.find(pane, QMessageBox, "confirmBox")
    assert "cpu-load-copy" in box.text()
    _answer(drive, pane)
    drive.until(lambda: "cpu-load-copy" not in _names(pane, MONITORS))
    assert [m.name for m in drive.run(core.monitoring.monitors())] == ["core-ping", "cpu-load"]
    # Delete in the filter box edits the text
    pane.monitors_filter.setFocus()
    pane.monitors_filter.setText("cpu")
    pane.monitors_filter.setCursorPosition(0)
    QTest.keyClick(pane.monitors_filter, Qt.Key.Key_Delete)
    assert pane.monitors_filter.text() == "pu"
    drive.settle()
    assert len(drive.run(core.monitoring.monitors())) == 2


def test_saving_over_a_change_made_elsewhere_asks_first(
    pane: MonitoringPane, drive: Driver, core: Core
) -> None:
    assert pane.select_name(MONITORS, "cpu")
    pane.edit_action.trigger()
    editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    editor.description_edit.setText("mine")
    drive.run(core.monitoring.save_monitor(dict(CPU, description="theirs")))
    editor.save_button.click()
    _answer(drive, editor, yes=False)
    drive.until(lambda: not editor.busy)
    assert editor.isVisible()
    assert drive.run(core.monitoring.get_monitor("cpu")).monitor.description == "theirs"
    editor.save_button.click()
    _answer(drive, editor)
    drive.until(lambda: pane.dialog is None)
    drive.settle()
    assert drive.run(core.monitoring.get_monitor("cpu")).monitor.description == "mine"


# ---- import and export -------------------------------------------------------------------


IMPORT_FILE = """\
monitors:
  - name: core-ping          # as stored: unchanged
    kind: reachability
    method: icmp
    interval: 30
    select: {{groups: [core-routers]}}
  - name: cpu                # changed interval: updated
    kind: snmp
    interval: 10m
    select: {{rule: "kind:router"}}
    metrics:
      - {{name: cpuLoad, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, type: gauge}}
  - name: web-port           # new: created
    kind: reachability
    method: tcp
    port: {port}
    interval: 60
    select: {{targets: [lab-web-01]}}
rules:
  - name: web-slow
    metric: tcp_connect_ms
    op: ">"
    threshold: 500
    for_checks: 3
    severity: warning
silences:
  - matchers: {{group: core-routers}}
    duration: 2h
    comment: planned core maintenance
"""


def test_import_file_preview_then_apply(
    pane: MonitoringPane, drive: Driver, core: Core, tmp_path: Path, screenshot: Shot
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(IMPORT_FILE.format(port="http"), encoding="utf-8")
    pane.tabs.setCurrentIndex(MONITORS)
    pane.import_action.trigger()
    dialog: ImportDialog = _wait_dialog(drive, pane, ImportDialog)
    assert drive.run(dialog.load_file(str(bad))) is False
    problem = dialog.problem.text()
    assert problem.startswith(f"✖ {bad}:13: monitors[2]: port")
    assert not dialog.apply_button.isEnabled()

    good = tmp_path / "monitoring.yaml"
    good.write_text(IMPORT_FILE.format(port=8080), encoding="utf-8")
    dialog.file_edit.setText(str(good))
    assert drive.run(dialog.load_file(str(good)))
    preview = {(r[0], r[1]): r[2] for r in dialog.rows}
    assert preview == {
        ("monitors", "core-ping"): "unchanged",
        ("monitors", "cpu"): "update",
        ("monitors", "web-port"): "create",
        ("rules", "web-slow"): "create",
        ("silences", "group=core-routers"): "add",
    }
    assert dialog.table.rowCount() == 5
    assert dialog.apply_button.isEnabled()
    screenshot(dialog, "monitoring-import-preview")
    dialog.sections["silences"].setChecked(False)  # leave the silence out
    dialog.apply_button.click()
    drive.until(lambda: pane.dialog is None)
    drive.settle()
    assert _names(pane, MONITORS) == ["core-ping", "cpu", "web-port"]
    assert drive.run(core.monitoring.get_monitor("cpu")).monitor.interval == 600
    assert [r.name for r in drive.run(core.monitoring.rules())] == ["cpu-high", "web-slow"]
    assert drive.run(core.alerts.silences()) == []


def test_import_adds_silences_and_export_round_trips(
    pane: MonitoringPane, drive: Driver, core: Core, tmp_path: Path
) -> None:
    good = tmp_path / "monitoring.yaml"
    good.write_text(IMPORT_FILE.format(port=8080), encoding="utf-8")
    task = spawn(pane.commands.import_from(str(good)))
    drive.until(lambda: isinstance(pane.dialog, ImportDialog) and bool(pane.dialog.rows))
    pane.dialog.apply_button.click()
    drive.until(task.done)
    report = task.result()
    assert ("silence", "group=core-routers", "added") in report
    assert len(drive.run(core.alerts.silences())) == 1

    # export the monitors shown; the file imports as "unchanged"
    pane.tabs.setCurrentIndex(MONITORS)
    pane.monitors_view.clearSelection()
    out = drive.run(pane.commands.export_to(str(tmp_path / "export.yaml")))
    text = out.read_text(encoding="utf-8")
    docs = load_documents(text, str(out))
    assert [m.name for m in docs.monitors] == ["core-ping", "cpu", "web-port"]
    outcomes = drive.run(core.monitoring.import_documents(docs))
    assert {o for _, _, o in outcomes} == {"unchanged"}
    # the selected rule only
    pane.tabs.setCurrentIndex(RULES)
    assert pane.select_name(RULES, "web-slow")
    out = drive.run(pane.commands.export_to(str(tmp_path / "rules.yaml")))
    rules = load_documents(out.read_text(encoding="utf-8"), str(out)).rules
    assert [r.name for r in rules] == ["web-slow"]


# ---- rules -------------------------------------------------------------------------------


def test_new_rule_through_the_form_edit_and_delete(
    pane: MonitoringPane, drive: Driver, core: Core, screenshot: Shot
) -> None:
    pane.tabs.setCurrentIndex(RULES)
    pane.new_action.trigger()
    editor: RuleEditorDialog = _wait_dialog(drive, pane, RuleEditorDialog)
    editor.name_edit.setText("if-util")
    editor.metric_edit.setText("ifHCIn.*")
    editor.op_combo.setCurrentText(">")
    editor.threshold_edit.setText("8e9")
    editor.clear_edit.setText("9e9")  # above the threshold: not a clear point for ">"
    editor.hold_combo.setCurrentIndex(FOR_DURATION)
    editor.for_edit.setText("10m")
    editor.severity_combo.setCurrentIndex(editor.severity_combo.findData("minor"))
    editor.summary_edit.setText("{target} {metric} at {value:.3g} bit/s")
    editor.tabs.setCurrentIndex(1)  # Scope
    editor.picker.groups.model.set_checked(["core-routers"])
    editor.tags_edit.setText("prod")
    screenshot(editor, "monitoring-rule-editor-scope")
    editor.save_button.click()
    assert editor.error is not None
    assert editor.error.startswith("clear: must not be above the threshold")
    assert editor.tabs.currentIndex() == 0 and editor.clear_edit.hasFocus()
    screenshot(editor, "monitoring-rule-editor-invalid")
    editor.clear_edit.setText("7e9")
    drive.until(lambda: not editor.pending())
    assert editor.error is None, editor.error
    assert "Example alert (minor after 10m)" in editor.preview.text()
    screenshot(editor, "monitoring-rule-editor")
    _save(drive, pane, editor)
    rule = drive.run(core.monitoring.get_rule("if-util")).rule
    assert (rule.threshold, rule.clear_threshold, rule.for_seconds) == (8e9, 7e9, 600)
    assert rule.scope.groups == ("core-routers",) and rule.scope.rule == "tag:prod"
    assert dict(rule.source)["scope"] == {"groups": ["core-routers"], "tags": ["prod"]}
    assert _names(pane, RULES) == ["cpu-high", "if-util"]

    # edit: hold for N checks instead, severity critical
    assert pane.select_name(RULES, "cpu-high")
    pane.edit_action.trigger()
    editor = _wait_dialog(drive, pane, RuleEditorDialog)
    assert editor.for_edit.text() == "5m" and editor.clear_edit.text() == "80"
    editor.hold_combo.setCurrentIndex(2)
    editor.for_checks_spin.setValue(3)
    editor.severity_combo.setCurrentIndex(editor.severity_combo.findData("critical"))
    _save(drive, pane, editor)
    rule = drive.run(core.monitoring.get_rule("cpu-high")).rule
    assert (rule.for_seconds, rule.for_checks, rule.severity.label) == (0, 3, "critical")
    assert "for" not in rule.source

    # delete with confirmation
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    pane.rules_view.setFocus()
    QTest.keyClick(pane.rules_view, Qt.Key.Key_Delete)
    _answer(drive, pane)
    drive.until(lambda: _names(pane, RULES) == ["if-util"])
    assert [r.name for r in drive.run(core.monitoring.rules())] == ["if-util"]


# ---- check status ---------------------------------------------------------------------------


def _web_monitor(port: int) -> dict[str, Any]:
    return {
        "name": "web-port",
        "kind": "reachability",
        "method": "tcp",
        "port": port,
        "timeout": 2,
        "retries": 0,
        "down_after": 1,
        "select": {"targets": ["lab-web-01", "lab-web-02"]},
    }


def _only_web(core: Core, port: int) -> Any:
    """The web-port monitor, with the others disabled (they would probe fictional hosts)."""

    async def save() -> None:
        await core.monitoring.save_monitor(dict(PING, enabled=False))
        await core.monitoring.save_monitor(dict(CPU, enabled=False))
        await core.monitoring.save_monitor(_web_monitor(port))

    return save()


def _states(pane: MonitoringPane) -> dict[str, Any]:
    return {s.target: s for s in pane.status_view.model.items() if s.monitor == "web-port"}


def test_check_status_shows_states_written_by_the_poller(
    pane: MonitoringPane, drive: Driver, core: Core, listening: int, screenshot: Shot
) -> None:
    # 127.0.0.1 accepts connections on the port; nothing listens on 127.0.0.2
    drive.run(_only_web(core, listening))
    pane.tabs.setCurrentIndex(STATUS)
    drive.until(lambda: pane.monitor_named("web-port") is not None)
    drive.settle()
    before = pane.states.loads
    drive.run(core.polling.round(every=True))
    drive.until(lambda: len(_states(pane)) == 2)  # refreshed by the metric change
    assert pane.states.loads == before + 1
    states = _states(pane)
    ok, failing = states["lab-web-01"], states["lab-web-02"]
    assert ok.ok and not failing.ok
    assert failing.failures == 1 and f"port {listening}" in failing.error
    model, proxy = pane.status_view.model, pane.status_view.proxy
    assert proxy.index(0, CheckStatesModel.TARGET).data() == "lab-web-02"  # failing first
    row = model.row_of(("web-port", "lab-web-02"))
    assert model.index(row, model.STATE).data() == "FAILING"
    red = model.index(row, model.STATE).data(Qt.ItemDataRole.ForegroundRole).color().name()
    assert red in ("#c62828", "#ef5350")
    assert model.index(row, model.LAST).data() == local_time(failing.last_at)  # local time
    assert model.index(row, model.LAST_OK).data() == "never"
    ok_row = model.row_of(("web-port", "lab-web-01"))
    assert model.index(ok_row, model.STATE).data() == "OK"
    assert pane.tabs.tabText(STATUS) == "Check status (1 failing)"
    web = pane.monitors_model.row_of(pane.monitor_named("web-port").id)
    assert pane.monitors_model.index(web, pane.monitors_model.CHECKS).data() == "1 failing of 2"

    pane.status_view.failing_check.setChecked(True)
    assert proxy.rowCount() == 1
    assert proxy.index(0, CheckStatesModel.TARGET).data() == "lab-web-02"
    pane.status_view.failing_check.setChecked(False)
    pane.status_view.filter_edit.setText("web-01")
    assert proxy.rowCount() == 1
    pane.status_view.filter_edit.clear()
    screenshot(pane, "monitoring-check-status")

    # Enter on a state opens its monitor
    pane.status_view.view.selectRow(0)
    pane.edit_action.trigger()
    editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    assert editor.original == pane.status_view.selected_state().monitor
    editor.reject()
    drive.until(lambda: pane.dialog is None)


def test_metric_changes_refresh_states_at_most_every_two_seconds(
    pane: MonitoringPane, drive: Driver, core: Core
) -> None:
    pane.tabs.setCurrentIndex(STATUS)
    drive.settle()
    before = pane.states.loads
    for _ in range(30):  # a burst of check results
        core.bus.publish(Changed(Entity.METRIC, Action.CREATED))
        drive.sleep(0.02)
    drive.settle()
    assert pane.states.loads == before + 1  # the first at once, the rest wait
    drive.until(lambda: pane.states.loads == before + 2, timeout=3.0)  # then one more
    drive.sleep(2.3)
    assert pane.states.loads == before + 2  # nothing new arrived: no more fetching

    # a hidden pane only notes it, and catches up when shown
    pane.hide()
    drive.sleep(2.1)
    core.bus.publish(Changed(Entity.METRIC, Action.CREATED))
    drive.sleep(0.1)
    assert pane.states.loads == before + 2
    pane.show()
    drive.until(lambda: pane.states.loads == before + 3)


def test_live_refresh_when_another_client_saves_a_monitor(
    pane: MonitoringPane, drive: Driver, core: Core, tmp_path: Path
) -> None:
    # through this console's services: the change event reloads the pane
    drive.run(core.monitoring.save_monitor(dict(CPU, name="mem", description="memory")))
    drive.until(lambda: "mem" in _names(pane, MONITORS))

    # through another process's core on the same database: noticed by the change watcher
    other = drive.run(
        open_core(
            home=tmp_path / "other-home",
            db_url=f"sqlite:///{tmp_path / 'opsc.db'}",  # gui_core's database
            secrets=SecretStore(),
            actor="other",
        )
    )
    try:
        drive.run(core.watcher.poll())  # the baseline
        drive.run(other.monitoring.save_monitor(dict(PING, name="edge-ping")))
        drive.run(other.monitoring.save_rule(dict(CPU_HIGH, name="cpu-warn", severity="warning")))
        events = drive.run(core.watcher.poll())
        assert {e.entity for e in events} >= {Entity.MONITOR, Entity.ALERT_RULE}
        drive.until(lambda: "edge-ping" in _names(pane, MONITORS))
        drive.until(lambda: "cpu-warn" in _names(pane, RULES))
    finally:
        drive.run(other.close())


# ---- test on target -------------------------------------------------------------------------


def test_test_on_target_runs_one_check_and_stores_nothing(
    pane: MonitoringPane, drive: Driver, core: Core, listening: int, screenshot: Shot
) -> None:
    drive.run(core.monitoring.save_monitor(_web_monitor(listening)))
    drive.until(lambda: pane.select_name(MONITORS, "web-port"))
    pane.test_action.trigger()
    dialog: CheckDialog = _wait_dialog(drive, pane, CheckDialog)
    drive.until(dialog.listing.done)
    assert dialog.target() == "lab-web-01"  # the monitor's own targets come first
    dialog.run_button.click()
    drive.until(lambda: dialog.result is not None and dialog.running is None)
    assert dialog.result.ok
    assert [s for s, _ in dialog.result.samples] == ["tcp_connect_ms"]
    assert dialog.outcome.text().startswith("✔ lab-web-01: OK in")
    assert dialog.samples.item(0, 0).text() == "tcp_connect_ms"
    screenshot(dialog, "monitoring-test-on-target")
    dialog.target_combo.setCurrentText("lab-web-02")
    dialog.run_button.click()
    drive.until(lambda: dialog.result.target == "lab-web-02" and dialog.running is None)
    assert not dialog.result.ok
    assert dialog.outcome.text().startswith("✖ lab-web-02: FAILED after")
    dialog.target_combo.setCurrentText("no-such-target")
    dialog.run_button.click()
    drive.until(lambda: dialog.running is None and "no-such" in dialog.outcome.text())
    assert "unknown target(s): no-such-target" in dialog.outcome.text()
    dialog.reject()
    drive.until(lambda: pane.dialog is None)
    assert drive.run(core.monitoring.check_states(monitor="web-port")) == []


def test_editor_tests_the_monitor_as_edited(
    pane: MonitoringPane, drive: Driver, core: Core, listening: int
) -> None:
    pane.new_action.trigger()
    editor: MonitorEditorDialog = _wait_dialog(drive, pane, MonitorEditorDialog)
    editor.name_edit.setText("draft")
    editor.method_combo.setCurrentIndex(editor.method_combo.findData("tcp"))
    editor.port_spin.setValue(listening)
    editor.picker.targets.model.set_checked(["lab-web-01"])
    drive.until(lambda: not editor.pending())
    assert editor.test_button.isEnabled(), editor.error
    editor.test_button.click()
    drive.until(lambda: editor.tester is not None and editor.tester.isVisible())
    tester: CheckDialog = editor.tester
    drive.until(tester.listing.done)
    tester.run_button.click()
    drive.until(lambda: tester.result is not None)
    assert tester.result.ok and tester.result.monitor == "draft"
    tester.reject()
    drive.until(lambda: editor.tester is None)
    editor.reject()
    drive.until(lambda: pane.dialog is None)
    assert "draft" not in {m.name for m in drive.run(core.monitoring.monitors())}


# ---- layout ------------------------------------------------------------------------------------


def test_layout_state_round_trip(
    pane: MonitoringPane, core: Core, console_settings: QSettings, drive: Driver
) -> None:
    pane.tabs.setCurrentIndex(RULES)
    pane.status_view.failing_check.setChecked(True)
    pane.save_state(console_settings)
    other = MonitoringPane(core)
    try:
        other.restore_state(console_settings)
        assert other.tabs.currentIndex() == RULES
        assert other.status_view.failing_check.isChecked()
    finally:
        drive.run(other.stopped())
        other.deleteLater()
        QApplication.processEvents()
