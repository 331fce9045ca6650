"""The Jobs pane end to end: editor, run dialog, live view, cancel, re-run, output, export.

Real peers only: the in-process asyncssh server runs on the test's qasync loop (the same
loop as the GUI), the targets reach it through the product's SSH driver, and results go
through the real executor and database.
"""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QWidget
from support.sshserver import SshTestServer

from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.jobs import RunStatus, Selection, StepType, parse_job
from opsconductor_desktop.domain.targets import SshProfile, TargetKind, TargetSpec
from opsconductor_desktop.gui.jobs import pane as pane_module
from opsconductor_desktop.gui.jobs.editor import JobEditorDialog
from opsconductor_desktop.gui.jobs.live import LiveRow, LiveRunModel
from opsconductor_desktop.gui.jobs.pane import JobsPane
from opsconductor_desktop.gui.jobs.run_dialog import RunDialog
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.jobs import Progress

SSH_USER = "operator"
SSH_PASSWORD = "jobs-pane-password-1"
EDGE = [f"ams1-edge-{n:02d}" for n in range(1, 7)]
Shot = Callable[[QWidget, str], Path]
Driver = Any  # tests/gui/conftest.py: Driver (run, until, settle, find)


async def _start_servers(count: int) -> list[SshTestServer]:
    """``count`` SSH servers on 127.0.0.1, 127.0.0.2, … sharing one port.

    Distinct addresses because the executor runs one target per device address at a time
    (a per-address lock): a lab of devices must have addresses of their own to run in
    parallel. The first server picks the port; the others listen on the same one.
    """
    first = await SshTestServer.start(passwords={SSH_USER: SSH_PASSWORD})
    servers = [first]
    for n in range(2, count + 1):
        server = SshTestServer(
            passwords={SSH_USER: SSH_PASSWORD},
            authorized={},
            host_key=first.host_key,
            host=f"127.0.0.{n}",
            port=first.port,
        )
        await server.restart(new_host_key=False)  # listens on its host and the shared port
        servers.append(server)
    return servers


@pytest.fixture
def ssh_servers(drive: Driver) -> Iterator[list[SshTestServer]]:
    """The asyncssh test servers, listening on the GUI test's own qasync loop."""
    servers = drive.run(_start_servers(len(EDGE) + 1))
    try:
        yield servers
    finally:
        for server in servers:
            drive.run(server.stop())


@pytest.fixture
def ssh_server(ssh_servers: list[SshTestServer]) -> SshTestServer:
    return ssh_servers[0]


async def _lab(core: Core, servers: list[SshTestServer]) -> None:
    port = servers[0].port
    await core.credentials.create(
        "lab", CredentialKind.SSH_PASSWORD, Secret({"password": SSH_PASSWORD}), username=SSH_USER
    )
    for number, name in enumerate(EDGE, start=1):
        await core.inventory.create_target(
            TargetSpec(
                name,
                servers[number - 1].host,
                kind=TargetKind.ROUTER,
                vendor="cisco",
                model="ASR1001-X",
                site="ams1",
                tags=("edge", "prod"),
                ssh=SshProfile(port, SSH_USER, "lab"),
                vars={"code": 3 if number == 2 else 0},
            )
        )
    await core.inventory.create_target(
        TargetSpec(
            "fra2-core-01",
            servers[len(EDGE)].host,
            kind=TargetKind.SWITCH,
            vendor="arista",
            site="fra2",
            ssh=SshProfile(port, SSH_USER, "lab"),
            vars={"code": 0},
        )
    )
    await core.inventory.create_group(GroupSpec("edge-routers", "AMS1 edge"), members=EDGE[2:4])
    for document in (
        {
            "name": "backup-config",
            "description": "Copy the running configuration off the device",
            "steps": [{"type": "ssh.command", "command": "echo backup done"}],
        },
        {
            "name": "ntp-check",
            "description": "NTP port reachable",
            "steps": [{"type": "tcp.check", "port": port, "name": "ntp"}],
        },
    ):
        await core.jobs.save(parse_job(document))


@pytest.fixture
def lab(drive: Driver, gui_core: Core, ssh_servers: list[SshTestServer]) -> Core:
    drive.run(_lab(gui_core, ssh_servers))
    return gui_core


@pytest.fixture
def pane(qtbot: Any, drive: Driver, lab: Core) -> Iterator[JobsPane]:
    widget = JobsPane(lab)
    qtbot.addWidget(widget)
    widget.resize(1440, 860)
    widget.show()
    drive.run(widget.reload())
    yield widget
    widget.shutdown()
    drive.settle()  # a reload already under way ends before the widget is deleted


def facts_job(port: int, **select: Any) -> dict[str, Any]:
    return {
        "name": "collect-facts",
        "description": "Greeting, health code and SSH reachability",
        "select": select or {"targets": EDGE[:1]},
        "concurrency": 4,
        "failure_policy": "continue",
        "steps": [
            {
                "type": "ssh.command",
                "name": "greet",
                "command": "echo hello from {{ target.name }}",
                "expect": {"regex": "hello"},
                "capture": r"from (?P<host>\S+)",
            },
            {"type": "ssh.command", "name": "health", "command": "exit {{ vars.code }}"},
            {"type": "tcp.check", "name": "ssh-port", "port": port},
        ],
    }


def _wait_dialog(drive: Driver, pane: JobsPane, kind: type) -> Any:
    drive.until(lambda: isinstance(pane.dialog, kind) and pane.dialog.isVisible())
    return pane.dialog


def _confirm(drive: Driver, parent: QWidget) -> None:
    box = drive.find(parent, QMessageBox, "confirmBox")
    yes = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    yes.click()


def _statuses(pane: JobsPane) -> dict[str, RunStatus]:
    return {r.name: r.status for r in pane.run_view.model.rows()}


def _finished(pane: JobsPane) -> bool:
    view = pane.run_view
    return (
        view.status is not None
        and view.status.finished
        and bool(view.snapshot)
        and all(r.status.finished for r in view.model.rows())
    )


def _wait_finished(drive: Driver, pane: JobsPane, timeout: float) -> None:
    """Until the shown run has finished and its final reload (and all else) is done."""
    drive.until(lambda: _finished(pane), timeout=timeout)
    drive.settle()


# ---- the job editor -------------------------------------------------------------------------


def test_editor_creates_a_job_and_refuses_an_invalid_oid(
    pane: JobsPane, drive: Driver, lab: Core, ssh_server: SshTestServer, screenshot: Shot
) -> None:
    pane.new_action.trigger()
    editor: JobEditorDialog = _wait_dialog(drive, pane, JobEditorDialog)
    assert not editor.save_button.isEnabled()  # a new job has no name yet
    editor.name_edit.setText("collect-facts")
    editor.description_edit.setText("Greeting, health code and SSH reachability")
    form = editor.step_form
    form.name_edit.setText("greet")
    form.command_edit.setPlainText("echo hello from {{ target.name }}")
    form.regex_edit.setText("hello")
    form.capture_edit.setText(r"from (?P<host>\S+)")
    editor.add_actions[StepType.SSH_COMMAND].trigger()
    form.name_edit.setText("health")
    form.command_edit.setPlainText("exit {{ vars.code }}")
    editor.add_actions[StepType.TCP_CHECK].trigger()
    form.name_edit.setText("ssh-port")
    form.port_spin.setValue(ssh_server.port)
    drive.until(lambda: not editor.pending())
    assert editor.definition is not None, editor.error
    assert editor.status.text() == "✔ Valid job: 3 step(s)"

    # an SNMP step with a bad OID: the error names the field, Save is disabled
    editor.add_actions[StepType.SNMP_GET].trigger()
    form.oids_edit.setPlainText("1.3.6.1.2.1.1.5.0\nsysName.0")
    assert not editor.save_button.isEnabled()  # at once, before the debounced check
    drive.until(lambda: not editor.pending())
    assert editor.error is not None
    assert editor.error.startswith("steps[3].oids[1]: invalid OID 'sysName.0'")
    assert "steps[3].oids[1]" in editor.status.text()
    assert not editor.save_button.isEnabled()
    assert editor.steps_model.error_row == 3
    editor.tabs.setCurrentIndex(0)
    screenshot(editor, "jobs-editor-invalid")

    # fixing it makes the job valid again; the YAML tab shows the document
    form.oids_edit.setPlainText("1.3.6.1.2.1.1.5.0")
    drive.until(lambda: not editor.pending())
    assert editor.error is None
    assert editor.save_button.isEnabled()
    assert "- 1.3.6.1.2.1.1.5.0" in editor.yaml_view.toPlainText()
    editor.remove_step()  # no SNMP agent in this lab
    drive.until(lambda: not editor.pending())
    assert editor.steps_model.rowCount() == 3

    # move up/down, default selection, then save
    editor.steps_view.selectRow(2)
    editor.up_button.click()
    assert [editor.steps_model.step(r)["type"] for r in range(3)] == [
        "ssh.command",
        "tcp.check",
        "ssh.command",
    ]
    editor.down_button.click()
    editor.steps_view.selectRow(0)
    editor.tabs.setCurrentIndex(1)
    editor.picker.targets.model.set_checked(EDGE[:2])
    editor.picker.rule_edit.setText("site:fra2")
    drive.until(lambda: not editor.pending())
    assert editor.save_button.isEnabled(), editor.error
    editor.tabs.setCurrentIndex(2)
    text = editor.yaml_view.toPlainText()
    assert "rule: site:fra2" in text
    assert "command: exit {{ vars.code }}" in text
    screenshot(editor, "jobs-editor-yaml")
    editor.tabs.setCurrentIndex(1)
    screenshot(editor, "jobs-editor-selection")
    editor.tabs.setCurrentIndex(0)
    screenshot(editor, "jobs-editor")
    editor.save_button.click()
    drive.until(lambda: pane.dialog is None)
    drive.settle()
    stored = drive.run(lab.jobs.get("collect-facts"))
    assert [s.name for s in stored.definition.steps] == ["greet", "health", "ssh-port"]
    assert stored.definition.select == Selection(tuple(EDGE[:2]), (), "site:fra2")
    assert stored.definition.steps[0].capture == r"from (?P<host>\S+)"
    assert pane.selected_job() is not None
    assert pane.selected_job().name == "collect-facts"

    # a new job may not take an existing name
    pane.new_action.trigger()
    other: JobEditorDialog = _wait_dialog(drive, pane, JobEditorDialog)
    other.name_edit.setText("ntp-check")
    other.step_form.command_edit.setPlainText("echo x")
    drive.until(lambda: not other.pending())
    assert other.error == "name: a job named 'ntp-check' already exists"
    assert not other.save_button.isEnabled()
    QTest.keyClick(other, Qt.Key.Key_Escape)  # Esc cancels the dialog
    drive.until(lambda: pane.dialog is None)


def test_editor_edits_and_renames_a_job_keeping_unknown_keys(
    pane: JobsPane, drive: Driver, lab: Core, qtmodeltester: Any
) -> None:
    drive.run(
        lab.jobs.save(
            parse_job(
                {
                    "name": "walk-interfaces",
                    "steps": [
                        {"type": "snmp.walk", "oid": "1.3.6.1.2.1.2.2.1.2", "max_varbinds": 500},
                        {
                            "type": "snmp.set",
                            "oid": "1.3.6.1.2.1.1.6.0",
                            "value_type": "s",
                            "value": "{{ target.site }}",
                        },
                    ],
                }
            )
        )
    )
    drive.run(pane.reload())
    assert pane.select_job("walk-interfaces")
    pane.edit_action.trigger()
    editor: JobEditorDialog = _wait_dialog(drive, pane, JobEditorDialog)
    qtmodeltester.check(editor.steps_model)
    qtmodeltester.check(editor.picker.targets.model)
    assert editor.step_form.walk_oid_edit.text() == "1.3.6.1.2.1.2.2.1.2"
    editor.step_form.repetitions_spin.setValue(50)
    editor.steps_view.selectRow(1)
    assert editor.step_form.set_value_edit.text() == "{{ target.site }}"
    editor.name_edit.setText("walk-ifnames")
    drive.until(lambda: not editor.pending())
    assert editor.rename_hint.isVisible()
    editor.accept()
    drive.until(lambda: pane.dialog is None)
    drive.settle()
    jobs = {j.name: j for j in drive.run(lab.jobs.definitions())}
    assert "walk-interfaces" not in jobs
    walk = jobs["walk-ifnames"].definition.steps[0]
    assert walk.params == {"oid": "1.3.6.1.2.1.2.2.1.2", "max_repetitions": 50, "max_varbinds": 500}


# ---- running --------------------------------------------------------------------------------


def test_run_dialog_preview_live_view_output_export_and_rerun(
    pane: JobsPane,
    drive: Driver,
    lab: Core,
    ssh_server: SshTestServer,
    qtmodeltester: Any,
    screenshot: Shot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drive.run(lab.jobs.save(parse_job(facts_job(ssh_server.port))))
    drive.run(pane.reload())
    assert pane.select_job("collect-facts")
    pane.run_action.trigger()
    dialog: RunDialog = _wait_dialog(drive, pane, RunDialog)
    assert dialog.picker.targets.model.checked() == EDGE[:1]  # the job's default selection
    drive.until(lambda: dialog.resolved == 1)
    assert dialog.run_button.isEnabled()

    dialog.picker.targets.filter_edit.setText("edge-0")
    assert dialog.picker.targets.proxy.rowCount() == 6
    dialog.picker.targets.model.set_checked([EDGE[1]])
    dialog.picker.groups.model.set_checked(["edge-routers"])
    assert not dialog.run_button.isEnabled()  # until the new selection is previewed
    drive.until(lambda: dialog.resolved == 4)
    names = sorted(t.name for t in dialog.preview_model.items())
    assert names == EDGE[:4]
    assert "4" in dialog.preview_label.text()
    dialog.picker.rule_edit.setText("site:")  # a broken rule: shown, Run disabled
    drive.until(lambda: dialog.preview_error is not None)
    assert "rule:" in dialog.picker.rule_error.text()
    assert not dialog.run_button.isEnabled()
    dialog.picker.rule_edit.setText("site:fra2")
    drive.until(lambda: dialog.resolved == 5)
    for model in (
        dialog.picker.targets.model,
        dialog.picker.targets.proxy,
        dialog.picker.groups.model,
        dialog.preview_model,
        dialog.preview_proxy,
    ):
        qtmodeltester.check(model)
    dialog.picker.targets.filter_edit.clear()
    drive.sleep(0.05)  # let Qt lay out before the screenshot
    screenshot(dialog, "jobs-run-dialog")
    dialog.run_button.click()
    drive.until(lambda: pane.dialog is None)
    _wait_finished(drive, pane, 60)
    statuses = _statuses(pane)
    assert statuses == {
        **dict.fromkeys(EDGE[:4], RunStatus.SUCCEEDED),
        EDGE[1]: RunStatus.FAILED,
        "fra2-core-01": RunStatus.SUCCEEDED,
    }
    view = pane.run_view
    assert view.status is RunStatus.FAILED
    assert "5/5 finished: 4 ok, 1 failed" in view.heading.text()
    assert view.rerun_button.isEnabled()
    assert not view.cancel_run_button.isEnabled()
    drive.until(lambda: pane.selected_run() is not None)
    first_run = pane.selected_run()
    assert first_run.id == view.run_id
    drive.until(lambda: pane.runs_model.find(first_run.id).status is RunStatus.FAILED)

    # failed only
    view.failed_only.setChecked(True)
    assert view.proxy.rowCount() == 1
    view.failed_only.setChecked(False)
    assert view.proxy.rowCount() == 5

    # the output viewer: steps, error, captured data, search
    assert view.select_target(EDGE[1])
    drive.until(lambda: view.output.target is not None and view.output.target.name == EDGE[1])
    text = view.output.plain_text()
    assert f"hello from {EDGE[1]}" in text
    assert "exit status 3" in text
    assert f"host = {EDGE[1]}" in text  # the captured field
    view.output.search_edit.setText("hello")
    assert view.output.match_count() == 2  # the command line and its output
    view.output.find_next()
    assert view.output.current_match() == 1
    view.output.find_next()
    assert view.output.current_match() == 0  # wraps around
    assert "exit status 3" in view.output.copy()
    assert QApplication.clipboard().text() == view.output.plain_text()
    for model in (
        pane.jobs_model,
        pane.jobs_proxy,
        pane.runs_model,
        pane.runs_proxy,
        view.model,
        view.proxy,
        view.output.steps_model,
    ):
        qtmodeltester.check(model)
    screenshot(pane, "jobs-pane")

    # export JSON and CSV
    json_file, csv_file = tmp_path / "run.json", tmp_path / "run.csv"
    assert drive.run(view.export_to(str(json_file))) == 5
    view.export_button.click()  # through the file dialog, as an operator does
    _choose_file(drive, view, csv_file)
    drive.until(csv_file.exists)
    drive.settle()
    document = json.loads(json_file.read_text(encoding="utf-8"))
    assert document["run"]["job"] == "collect-facts"
    assert document["run"]["status"] == "failed"
    failed = next(t for t in document["targets"] if t["name"] == EDGE[1])
    assert failed["status"] == "failed"
    assert [s["name"] for s in failed["steps"]] == ["greet", "health", "ssh-port"]
    assert failed["steps"][0]["stdout"] == f"hello from {EDGE[1]}\n"
    assert failed["steps"][0]["data"]["captured"] == {"host": EDGE[1]}
    assert failed["steps"][1]["exit_status"] == 3
    with csv_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 15  # 5 targets × 3 steps
    health = next(r for r in rows if r["target"] == EDGE[1] and r["step"] == "health")
    assert (health["status"], health["exit"], health["error"]) == ("failed", "3", "exit status 3")
    assert health["address"] == "127.0.0.2"
    greet = next(r for r in rows if r["target"] == EDGE[0] and r["step"] == "greet")
    assert greet["output"] == f"hello from {EDGE[0]}\n"

    # re-run failed: a new run over the one failed target, selected in the history
    view.rerun_button.click()
    drive.until(lambda: view.run_id != first_run.id)
    assert [r.name for r in view.model.rows()] == [EDGE[1]]
    _wait_finished(drive, pane, 60)
    assert _statuses(pane) == {EDGE[1]: RunStatus.FAILED}
    drive.until(lambda: pane.selected_run() is not None and pane.selected_run().id == view.run_id)
    rerun = drive.run(lab.jobs.run(view.run_id))
    assert rerun.rerun_of == first_run.id

    # selecting the first run in the history shows it again
    assert pane.select_run(first_run.id)
    drive.until(lambda: view.run_id == first_run.id and len(view.snapshot) == 5)
    assert _statuses(pane)[EDGE[1]] is RunStatus.FAILED

    # the history pages: "Load more" fetches the next page
    monkeypatch.setattr(pane_module, "RUN_PAGE", 1)
    pane.run_limit = 1
    drive.run(pane.reload())
    assert pane.runs_model.rowCount() == 1
    assert pane.more_button.isVisibleTo(pane)
    pane.more_button.click()
    drive.until(lambda: pane.runs_model.rowCount() == 2)
    assert pane.runs_proxy.index(0, 0).data() == "collect-facts"
    newest = pane.runs_proxy.index(0, 0).data(pane_module.ITEM_ROLE)
    assert newest.id == rerun.id  # newest first


def test_cancel_a_target_then_the_run(
    pane: JobsPane,
    drive: Driver,
    lab: Core,
    ssh_servers: list[SshTestServer],
    screenshot: Shot,
) -> None:
    drive.run(
        lab.jobs.save(
            parse_job(
                {
                    "name": "slow-firmware-check",
                    "description": "Takes a while on every device",
                    "select": {"targets": EDGE},
                    "concurrency": 4,
                    "steps": [
                        {"type": "ssh.command", "name": "banner", "command": "echo checking"},
                        {"type": "ssh.command", "name": "verify", "command": "sleep 30"},
                    ],
                }
            )
        )
    )
    drive.run(pane.reload())
    assert pane.select_job("slow-firmware-check")
    pane.jobs_view.setFocus()
    QTest.keyClick(pane.jobs_view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Ctrl+R
    dialog: RunDialog = _wait_dialog(drive, pane, RunDialog)
    drive.until(lambda: dialog.resolved == 6)
    dialog.accept()
    drive.until(lambda: pane.dialog is None)
    view = pane.run_view

    def running() -> int:
        return sum(1 for r in view.model.rows() if r.status is RunStatus.RUNNING)

    def at_sleep() -> bool:
        return sum(1 for r in view.model.rows() if r.step_index == 0) == 4

    drive.until(lambda: running() == 4 and at_sleep(), timeout=30)
    assert view.cancel_run_button.isEnabled()
    assert not view.rerun_button.isEnabled()
    pending = [r.name for r in view.model.rows() if r.status is RunStatus.PENDING]
    assert len(pending) == 2
    victim = next(r.name for r in view.model.rows() if r.status is RunStatus.RUNNING)
    assert view.select_target(victim)
    assert view.cancel_target_button.isEnabled()
    view.cancel_target_button.click()
    drive.until(lambda: view.model.row(victim).status is RunStatus.CANCELLED)
    # its place is taken by a pending target (concurrency 4)
    drive.until(lambda: running() == 4 and not view._queue)
    assert view.model.row(victim).step_index == 1  # stopped in "verify", the step it was in
    # the elapsed time of running targets ticks (a repaint of that column once a second)
    ticks: list[int] = []
    view.model.dataChanged.connect(
        lambda first, last, *_: (
            ticks.append(first.column())
            if first.column() == LiveRunModel.ELAPSED == last.column()
            else None
        )
    )
    drive.until(lambda: len(ticks) >= 2)
    view.view.clearSelection()
    drive.sleep(0.05)  # let Qt lay out before the screenshot
    screenshot(pane, "jobs-live-run")
    view.cancel_run_button.click()
    _wait_finished(drive, pane, 30)
    assert view.status is RunStatus.CANCELLED
    statuses = _statuses(pane)
    assert set(statuses.values()) == {RunStatus.CANCELLED}
    assert view.model.row(victim).error == "cancelled by the operator"
    events = [e for server in ssh_servers for e in server.events]
    assert ("closed-early", "sleep 30") in events  # the remote work was stopped
    assert view.rerun_button.isEnabled()
    run = drive.run(lab.jobs.run(view.run_id))
    assert (run.status, run.cancelled, run.total) == (RunStatus.CANCELLED, 6, 6)


def test_output_viewer_shows_binary_and_truncated_output_safely(
    pane: JobsPane, drive: Driver, lab: Core
) -> None:
    job = parse_job(
        {
            "name": "odd-output",
            "select": {"targets": EDGE[:1]},
            "failure_policy": "continue",
            "steps": [
                {"type": "ssh.command", "name": "raw", "command": "binary"},
                {"type": "ssh.command", "name": "flood", "command": "big 5000", "max_output": 1024},
            ],
        }
    )
    drive.run(lab.jobs.save(job))
    drive.run(pane.reload())
    info = drive.run(lab.jobs.get("odd-output"))
    handle = drive.run(lab.jobs.start(info.definition, job_id=info.id))
    pane.run_view.follow(handle, "odd-output")
    _wait_finished(drive, pane, 30)
    view = pane.run_view
    assert view.select_target(EDGE[0])
    drive.until(lambda: view.output.target is not None)
    text = view.output.plain_text()
    assert "[binary output, 1,024 bytes]" in text
    assert "00000000  00 01 02 03" in text
    assert "[truncated: only the first 1,024 bytes were kept]" in text
    assert "\x00" not in text
    view.output.steps_view.selectRow(1)  # jumps to the step's section
    cursor = view.output.text.textCursor()
    assert cursor.block().text().startswith("━━ Step 2/2 · flood")
    # Ctrl+F in the output goes to its search box; Enter goes to the next match
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    view.output.text.setFocus()
    QTest.keyClick(view.output.text, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.output.search_edit.hasFocus()
    QTest.keyClicks(view.output.search_edit, "y")
    assert view.output.match_count() > 100  # "y\n" × 512 of the kept kilobyte
    QTest.keyClick(view.output.search_edit, Qt.Key.Key_Return)
    assert view.output.current_match() == 1


# ---- import, delete, keys ---------------------------------------------------------------------


def _choose_file(drive: Driver, parent: QWidget, path: Path) -> None:
    """Type the file's path in the (non-native) file dialog and accept, as an operator would."""
    dialog = drive.find(parent, QFileDialog, "fileDialog")
    name_edit = dialog.findChild(QLineEdit, "fileNameEdit")
    name_edit.setText(str(path))
    dialog.accept()


def test_import_job_file_with_errors_then_valid_then_replace(
    pane: JobsPane, drive: Driver, lab: Core, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-job.yaml"
    bad.write_text(
        "name: poll-sysname\nsteps:\n  - type: snmp.get\n    oids: [1.3.6.1.2.1.1.5.0, sysName]\n",
        encoding="utf-8",
    )
    pane.import_action.trigger()
    _choose_file(drive, pane, bad)
    drive.until(lambda: pane.messages.text() != "")
    assert pane.messages.text().startswith(f"{bad}: steps[0].oids[1]: invalid OID 'sysName'")

    good = tmp_path / "poll.json"
    good.write_text(
        json.dumps(
            {"name": "poll-sysname", "steps": [{"type": "snmp.get", "oids": ["1.3.6.1.2.1.1.5.0"]}]}
        ),
        encoding="utf-8",
    )
    pane.import_action.trigger()
    _choose_file(drive, pane, good)
    drive.until(lambda: "poll-sysname" in pane.jobs_model.names())
    assert pane.messages.text() == ""
    assert pane.selected_job().name == "poll-sysname"

    # the same name again asks before replacing
    good.write_text(
        json.dumps(
            {
                "name": "poll-sysname",
                "description": "v2",
                "steps": [{"type": "snmp.get", "oids": ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.3.0"]}],
            }
        ),
        encoding="utf-8",
    )
    pane.import_action.trigger()
    _choose_file(drive, pane, good)
    _confirm(drive, pane)
    drive.until(lambda: any(j.description == "v2" for j in pane.jobs_model.items()))
    drive.settle()
    stored = drive.run(lab.jobs.get("poll-sysname"))
    assert len(stored.definition.steps[0].params["oids"]) == 2


def test_delete_key_deletes_the_selected_job_after_confirming(
    pane: JobsPane, drive: Driver, lab: Core
) -> None:
    pane.activateWindow()
    drive.until(pane.isActiveWindow)
    assert pane.select_job("backup-config")
    pane.jobs_view.setFocus()
    QTest.keyClick(pane.jobs_view, Qt.Key.Key_Delete)
    box = drive.find(pane, QMessageBox, "confirmBox")
    assert "backup-config" in box.text()
    _confirm(drive, pane)
    drive.until(lambda: "backup-config" not in pane.jobs_model.names())
    assert [j.name for j in drive.run(lab.jobs.definitions())] == ["ntp-check"]
    # Delete in the filter box edits the text, never deletes a job
    pane.filter_edit.setFocus()
    pane.filter_edit.setText("ntp")
    pane.filter_edit.setCursorPosition(0)
    QTest.keyClick(pane.filter_edit, Qt.Key.Key_Delete)
    assert pane.filter_edit.text() == "tp"
    drive.settle()
    assert "ntp-check" in pane.jobs_model.names()


# ---- many targets -------------------------------------------------------------------------------


def test_a_burst_of_progress_is_applied_in_few_batches(
    pane: JobsPane, drive: Driver, qtmodeltester: Any
) -> None:
    """A 1,000-target run's progress: queued cheaply, applied in one batch, few signals."""
    view = pane.run_view
    run_id = uuid.uuid4()
    names = [f"site{n // 100:02d}-sw-{n:04d}" for n in range(1000)]
    view.model.show_run(run_id, ["show version", "show inventory"], [LiveRow(n) for n in names])
    signals: list[tuple[int, int]] = []
    view.model.dataChanged.connect(lambda a, b, *_: signals.append((a.row(), b.row())))
    batches: list[int] = []
    view.flushed.connect(batches.append)
    for n, name in enumerate(names):
        view.on_progress(Progress(run_id, name, "target-started", RunStatus.RUNNING))
        view.on_progress(
            Progress(run_id, name, "step-finished", RunStatus.SUCCEEDED, 0, "show version", "ok")
        )
        status = RunStatus.FAILED if n % 10 == 0 else RunStatus.SUCCEEDED
        view.on_progress(Progress(run_id, name, "target-finished", status, line="x" * (n % 2)))
    view.on_progress(Progress(uuid.uuid4(), "other-run", "target-started", RunStatus.RUNNING))
    assert len(view._queue) == 3000  # the other run's event was not even queued
    drive.until(lambda: batches)
    assert batches == [1000]
    assert len(signals) <= 5  # consecutive rows go out as one range
    counts = view.model.counts()
    assert (counts[RunStatus.FAILED], counts[RunStatus.SUCCEEDED]) == (100, 900)
    view.failed_only.setChecked(True)
    assert view.proxy.rowCount() == 100
    qtmodeltester.check(view.model)
    qtmodeltester.check(view.proxy)
    assert view.model.index(0, LiveRunModel.STEP).data() == "1/2  show version"


# ---- screenshots of the demo estate -------------------------------------------------------------


def test_screenshot_helpers_on_the_demo_estate(
    qtbot: Any, drive: Driver, demo_core: Core, screenshot: Shot, tmp_path: Path
) -> None:
    """``render_job_shots`` (for ``opsconductor gui --screenshot``) writes nothing and runs
    nothing; it renders the editor, the run dialog and an example live run."""
    from opsconductor_desktop.gui.jobs.shots import render_job_shots

    pane = JobsPane(demo_core)
    qtbot.addWidget(pane)
    pane.resize(1440, 860)
    pane.show()
    drive.run(pane.reload())
    demo_jobs = drive.run(demo_core.jobs.definitions())
    assert pane.jobs_model.rowCount() == len(demo_jobs) == 3  # the demo estate's jobs

    async def shoot(widget: QWidget, _out: Path, name: str) -> Path:
        widget.show()
        await asyncio.sleep(0.05)
        return screenshot(widget, f"jobs-demo-{name}")

    shots = drive.run(render_job_shots(pane, pane, tmp_path, shoot))
    assert [p.name for p in shots] == [
        "jobs-demo-dialog-job-editor.png",
        "jobs-demo-dialog-job-editor-invalid.png",
        "jobs-demo-dialog-job-run.png",
        "jobs-demo-pane-jobs-live-run.png",
    ]
    assert drive.run(demo_core.jobs.definitions()) == demo_jobs  # nothing written
    assert drive.run(demo_core.jobs.runs()) == []  # nothing run
    assert pane.run_view.run_id is None  # the example run is gone again
    drive.settle()
    pane.shutdown()


def test_output_text_helpers_keep_binary_and_control_characters_safe() -> None:
    from opsconductor_desktop.gui.jobs.common import decode_output, last_line
    from opsconductor_desktop.gui.jobs.output import data_lines

    assert decode_output(b"ok\r\nbell\x07 \xff end\n") == "ok\nbell\\x07 \ufffd end\n"
    dump = decode_output(bytes(range(256)) * 40)
    assert dump.startswith("[binary output, 10,240 bytes; hex dump of the first 4,096]\n")
    assert "00000010  10 11 12 13" in dump
    assert last_line(b"first\n\nlast line\n\n") == "last line"
    lines = data_lines(
        {
            "command": "snmp get",
            "captured": {"descr": "Linux"},
            "varbinds": [{"oid": "1.3.6.1.2.1.1.1.0", "type": "OctetString", "value": "Linux"}],
            "rtt_ms": 1.5,
        }
    )
    assert lines == [
        "captured:",
        "  descr = Linux",
        "varbinds (1):",
        "  1.3.6.1.2.1.1.1.0 = OctetString: Linux",
        "rtt_ms: 1.5",
    ]


def test_layout_state_round_trip(pane: JobsPane, lab: Core, console_settings: Any) -> None:
    pane.runs_view.setColumnWidth(0, 222)
    pane.run_view.view.setColumnWidth(1, 181)
    pane.splitter.setSizes([400, 1000])
    pane.save_state(console_settings)
    other = JobsPane(lab)
    other.restore_state(console_settings)
    assert other.runs_view.columnWidth(0) == 222
    assert other.run_view.view.columnWidth(1) == 181
    other.shutdown()
    other.deleteLater()
