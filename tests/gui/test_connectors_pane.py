"""The Connectors pane end to end: add through the form, test, poll, failure, disable, remove.

A real SQLite database and the real connector service, polling a real HTTP server on
loopback (aiohttp, in its own thread) that answers like Prometheus Alertmanager API v2
``GET /api/v2/alerts``. Dialogs are driven as an operator would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

from opsconductor_desktop.domain.targets import TargetKind, TargetSpec
from opsconductor_desktop.gui.connectors.dialogs import ConnectorDialog, PollPreviewDialog
from opsconductor_desktop.gui.connectors.models import ConnectorsModel
from opsconductor_desktop.gui.connectors.pane import ConnectorsPane
from opsconductor_desktop.gui.connectors.settings_form import SettingsForm
from opsconductor_desktop.gui.connectors.shots import render_connector_shots
from opsconductor_desktop.services.app import Core

Driver = Any  # tests/gui/conftest.py: Driver (run, until, settle, find)
TOKEN = "am-token-0123456789"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def am_alert(name: str, instance: str, severity: str, summary: str) -> dict[str, Any]:
    """One gettable alert as Alertmanager API v2 lists it."""
    return {
        "annotations": {"summary": summary},
        "endsAt": "2026-11-20T10:05:00.000Z",
        "fingerprint": f"{abs(hash((name, instance))) % 16**16:016x}",
        "receivers": [{"name": "default"}],
        "startsAt": "2026-11-20T10:00:00.000Z",
        "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
        "updatedAt": "2026-11-20T10:01:00.000Z",
        "generatorURL": "http://prometheus:9090/graph",
        "labels": {"alertname": name, "instance": instance, "job": "node", "severity": severity},
    }


@dataclass
class Alertmanager:
    """A loopback Alertmanager; ``stop()`` makes it go away (connection refused)."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    base: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"code": 401, "message": "unauthorized"}, status=401)
        return web.json_response(self.alerts)

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="alertmanager", daemon=True).start()

        async def up() -> None:
            app = web.Application()
            app.router.add_get("/api/v2/alerts", self._handle)
            self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            host, port = self._runner.addresses[0][:2]
            self.base = f"http://{host}:{port}"

        asyncio.run_coroutine_threadsafe(up(), self._loop).result(10)

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop = self._runner = None


@pytest.fixture
def alertmanager() -> Iterator[Alertmanager]:
    server = Alertmanager(
        alerts=[
            am_alert("InstanceDown", "lab-web-01:9100", "critical", "lab-web-01 is down"),
            am_alert("DiskFull", "lab-web-02:9100", "warning", "disk 95% full on lab-web-02"),
        ]
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def core(drive: Driver, gui_core: Core) -> Core:
    async def no_wait(_seconds: float) -> None:
        return None

    gui_core.connectors.sleep = no_wait  # retries do not wait

    async def estate() -> None:
        for name, address in (("lab-web-01", "10.9.0.1"), ("lab-web-02", "10.9.0.2")):
            await gui_core.inventory.create_target(
                TargetSpec(name, address, kind=TargetKind.SERVER, site="lab")
            )

    drive.run(estate())
    return gui_core


@pytest.fixture
def pane(qtbot: Any, drive: Driver, core: Core) -> Iterator[ConnectorsPane]:
    widget = ConnectorsPane(core)
    qtbot.addWidget(widget)
    widget.resize(1400, 700)
    widget.show()
    drive.run(widget.reload())
    yield widget
    widget.shutdown()
    drive.settle()


def _cell(pane: ConnectorsPane, name: str, column: int) -> str:
    for row in range(pane.proxy.rowCount()):
        if pane.proxy.index(row, ConnectorsModel.NAME).data() == name:
            return str(pane.proxy.index(row, column).data())
    raise AssertionError(f"no row {name}")


def _names(pane: ConnectorsPane) -> list[str]:
    return [pane.proxy.index(r, 0).data() for r in range(pane.proxy.rowCount())]


def _wait_dialog(drive: Driver, pane: ConnectorsPane, kind: type) -> Any:
    drive.until(lambda: isinstance(pane.dialog, kind) and pane.dialog.isVisible())
    return pane.dialog


def _answer(drive: Driver, parent: QWidget, yes: bool = True) -> None:
    box = drive.find(parent, QMessageBox, "confirmBox")
    role = QMessageBox.ButtonRole.AcceptRole if yes else QMessageBox.ButtonRole.RejectRole
    next(b for b in box.buttons() if box.buttonRole(b) == role).click()


def _add(drive: Driver, core: Core, pane: ConnectorsPane, url: str, name: str = "am") -> None:
    drive.run(core.connectors.add("alertmanager", name=name, settings={"url": url, "token": TOKEN}))
    drive.until(lambda: name in _names(pane))
    assert pane.select_name(name)


def test_add_through_the_form(drive: Driver, core: Core, pane: ConnectorsPane, alertmanager: Any):
    pane.add_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    ids = [m.id for m in dialog.manifests]
    dialog.manifest_combo.setCurrentIndex(ids.index("alertmanager"))
    form = dialog.form
    assert isinstance(form, SettingsForm)
    assert set(form.editors) >= {"url", "token", "interval", "verify_tls"}
    token = form.editors["token"]
    assert isinstance(token, QLineEdit) and token.echoMode() == QLineEdit.EchoMode.Password
    dialog.name_edit.setText("prod-am")
    form.editors["url"].setText("not a url")  # type: ignore[attr-defined]
    token.setText(TOKEN)
    dialog.save_button.click()
    drive.until(lambda: dialog.error_label.isVisible())
    assert dialog.error_label.text().startswith("url"), dialog.error_label.text()
    assert form.editors["url"].styleSheet(), "the culprit field is marked"
    assert pane.dialog is dialog and _names(pane) == []
    form.editors["url"].setText(alertmanager.base)  # type: ignore[attr-defined]
    dialog.save_button.click()
    drive.until(lambda: "prod-am" in _names(pane) and pane.dialog is None)
    assert _cell(pane, "prod-am", ConnectorsModel.MANIFEST) == "alertmanager 1.0"
    assert _cell(pane, "prod-am", ConnectorsModel.KIND) == "http_poll"
    assert _cell(pane, "prod-am", ConnectorsModel.ENABLED) == "yes"
    assert _cell(pane, "prod-am", ConnectorsModel.STATE) == "unknown"
    info = drive.run(core.connectors.get("prod-am"))
    assert info.settings["url"] == alertmanager.base and info.secrets_set == ("token",)
    pane.select_name("prod-am")
    details = pane.details.toPlainText()
    assert "(set)" in details and TOKEN not in details
    assert alertmanager.requests == 0, "adding polls nothing"


def test_edit_settings_keeps_the_secret(
    drive: Driver, core: Core, pane: ConnectorsPane, alertmanager: Any
):
    _add(drive, core, pane, alertmanager.base)
    pane.edit_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    token = dialog.form.editors["token"]
    assert isinstance(token, QLineEdit)
    assert token.text() == "" and "set" in token.placeholderText()
    dialog.form.editors["interval"].setValue(120)  # type: ignore[attr-defined]
    dialog.save_button.click()
    drive.until(lambda: pane.dialog is None)
    info = drive.run(core.connectors.get("am"))
    assert info.settings["interval"] == 120 and info.interval == 120
    assert info.secrets_set == ("token",)
    drive.until(lambda: "120" in pane.details.toPlainText())


def test_test_shows_alerts_poll_stores_them_and_failure_is_shown(
    drive: Driver, core: Core, pane: ConnectorsPane, alertmanager: Any
):
    _add(drive, core, pane, alertmanager.base)
    pane.test_action.trigger()
    dialog: PollPreviewDialog = _wait_dialog(drive, pane, PollPreviewDialog)
    rows = [
        [dialog.model.index(r, c).data() for c in range(4)] for r in range(dialog.model.rowCount())
    ]
    shown = sorted((r[0], r[1], r[3]) for r in rows)
    assert shown == [
        ("critical", "lab-web-01", "lab-web-01 is down"),
        ("warning", "lab-web-02", "disk 95% full on lab-web-02"),
    ]
    assert all(r[2].startswith(("InstanceDown/", "DiskFull/")) for r in rows)
    assert "Nothing was stored" in dialog.summary.text()
    dialog.reject()
    drive.until(lambda: pane.dialog is None)
    assert drive.run(core.alerts.list(status="open")) == [], "a test stores nothing"
    assert _cell(pane, "am", ConnectorsModel.STATE) == "unknown"

    pane.poll_action.trigger()
    drive.until(lambda: _cell(pane, "am", ConnectorsModel.STATE) == "ok")
    drive.until(lambda: _cell(pane, "am", ConnectorsModel.OPEN_ALERTS) == "2")
    info = drive.run(core.connectors.get("am"))
    from opsconductor_desktop.gui.jobs.common import local_time

    assert _cell(pane, "am", ConnectorsModel.LAST_POLL) == local_time(info.last_poll_at)
    assert _cell(pane, "am", ConnectorsModel.LAST_SUCCESS) == local_time(info.last_success_at)
    stored = drive.run(core.alerts.list(status="open", source="connector:am"))
    assert sorted(a.target or "" for a in stored) == ["lab-web-01", "lab-web-02"]
    colour = pane.proxy.index(0, ConnectorsModel.STATE).data(9)  # ForegroundRole
    assert colour is not None and colour.color().name() in ("#2e7d32", "#81c784")

    alertmanager.stop()  # the source goes away: connection refused
    for _ in range(3):  # the breaker opens after three failed polls
        pane.select_name("am")
        pane.poll_action.trigger()
        drive.settle()
    drive.until(lambda: _cell(pane, "am", ConnectorsModel.STATE) == "failing")
    error = _cell(pane, "am", ConnectorsModel.LAST_ERROR)
    assert error and "connect" in error.lower(), error
    assert _cell(pane, "am", ConnectorsModel.FAILURES) == "3"
    assert "failed" in pane.messages.text()
    pane.select_name("am")
    assert error in pane.details.toPlainText()
    colour = pane.proxy.index(0, ConnectorsModel.STATE).data(9)
    assert colour.color().name() in ("#c62828", "#ef5350")


def test_disable_enable_and_remove(
    drive: Driver, core: Core, pane: ConnectorsPane, alertmanager: Any
):
    _add(drive, core, pane, alertmanager.base)
    pane.poll_action.trigger()
    drive.until(lambda: _cell(pane, "am", ConnectorsModel.OPEN_ALERTS) == "2")
    pane.select_name("am")
    pane.toggle_action.trigger()
    drive.until(lambda: _cell(pane, "am", ConnectorsModel.ENABLED) == "no")
    pane.select_name("am")
    assert not pane.poll_action.isEnabled() and pane.toggle_action.text() == "Ena&ble"
    assert not drive.run(core.connectors.get("am")).enabled
    pane.toggle_action.trigger()
    drive.until(lambda: _cell(pane, "am", ConnectorsModel.ENABLED) == "yes")

    pane.select_name("am")
    pane.remove_action.trigger()
    _answer(drive, pane, yes=False)
    drive.settle()
    assert _names(pane) == ["am"]
    pane.remove_action.trigger()
    _answer(drive, pane)
    drive.until(lambda: _names(pane) == [])
    assert drive.run(core.connectors.list()) == []
    assert drive.run(core.alerts.list(status="open", source="connector:am")) == []


def test_filter_and_errors_in_the_message_bar(
    drive: Driver, core: Core, pane: ConnectorsPane, alertmanager: Any
):
    _add(drive, core, pane, alertmanager.base, name="am-prod")
    _add(drive, core, pane, alertmanager.base, name="am-lab")
    pane.filter_edit.setText("lab")
    assert _names(pane) == ["am-lab"]
    pane.filter_edit.setText("")
    assert sorted(_names(pane)) == ["am-lab", "am-prod"]
    drive.run(core.connectors.remove("am-lab"))  # gone behind the pane's back
    drive.until(lambda: _names(pane) == ["am-prod"])
    pane.select_name("am-prod")
    drive.run(core.connectors.disable("am-prod"))
    drive.until(lambda: _cell(pane, "am-prod", ConnectorsModel.ENABLED) == "no")
    pane.select_name("am-prod")
    pane.test_action.trigger()  # a disabled connector can still be tested
    dialog = _wait_dialog(drive, pane, PollPreviewDialog)
    assert dialog.model.rowCount() == 2
    dialog.reject()
    drive.until(lambda: pane.dialog is None)
    drive.run(core.connectors.remove("am-prod"))
    pane._run(pane._poll("am-prod"), "poll")  # a stale selection: the service says why
    drive.until(lambda: "am-prod" in pane.messages.text())


def test_screenshots(
    drive: Driver, core: Core, pane: ConnectorsPane, alertmanager: Any, tmp_path: Path
) -> None:
    _add(drive, core, pane, alertmanager.base, name="prod-alertmanager")
    pane.poll_action.trigger()
    drive.until(lambda: _cell(pane, "prod-alertmanager", ConnectorsModel.STATE) == "ok")
    _add(drive, core, pane, "http://127.0.0.1:9", name="lab-alertmanager")
    pane.select_name("prod-alertmanager")
    out = SCREENSHOTS if SCREENSHOTS.parent.exists() else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    pane.grab().save(str(out / "pane-connectors.png"))

    async def shoot(widget: QWidget, folder: Path, name: str) -> Path:
        widget.show()
        await asyncio.sleep(0.1)
        path = folder / f"{name}.png"
        assert widget.grab().save(str(path))
        widget.hide()
        return path

    paths = drive.run(render_connector_shots(pane, pane, out, shoot))
    assert [p.name for p in paths] == ["dialog-connector-add.png", "dialog-connector-test.png"]
    assert all(p.stat().st_size > 5000 for p in paths)
