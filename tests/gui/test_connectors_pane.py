"""The Connectors pane end to end: add through the form, test, poll, failure, disable, remove.

A real SQLite database and the real connector service, polling a real HTTP server on
loopback (aiohttp, in its own thread) that answers like Prometheus Alertmanager API v2
``GET /api/v2/alerts``. Dialogs are driven as an operator would.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox, QToolButton, QWidget

from opsconductor_desktop.domain.connectors import FieldType, SettingField
from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.targets import TargetKind, TargetSpec
from opsconductor_desktop.gui.connectors import dialogs as dialogs_module
from opsconductor_desktop.gui.connectors.dialogs import ConnectorDialog, PollPreviewDialog
from opsconductor_desktop.gui.connectors.models import ConnectorsModel
from opsconductor_desktop.gui.connectors.pane import ConnectorsPane
from opsconductor_desktop.gui.connectors.settings_form import CredentialsEdit, SettingsForm
from opsconductor_desktop.gui.connectors.shots import render_connector_shots
from opsconductor_desktop.gui.monitoring.common import INVALID_STYLE
from opsconductor_desktop.services.app import Core

Driver = Any  # tests/gui/conftest.py: Driver (run, until, settle, find)
TOKEN = "am-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
BUNDLED = ROOT / "resources" / "connectors"
WHERE_TO_ADD = "add one in File → Settings… → Credentials"


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
    drive.until(lambda: "Interval\n2m\n" in pane.details.toPlainText())  # seconds, as read
    assert "Verify TLS\nyes\n" in pane.details.toPlainText()  # a bool as yes/no


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


# ---- credential fields and manifest files -------------------------------------------------


def _store_credentials(drive: Driver, core: Core) -> None:
    """Two SNMPv3 credentials, one SSH password and one API token, stored for real."""
    keys = Secret({"auth_key": "trap-auth-key-2026", "priv_key": "trap-priv-key-2026"})
    for name, user in (("noc-traps", "noctrap"), ("core-traps", "coretrap")):
        drive.run(
            core.credentials.create(
                name, CredentialKind.SNMPV3, keys, username=user,
                auth_protocol="sha", priv_protocol="aes",
            )
        )  # fmt: skip
    drive.run(
        core.credentials.create(
            "ssh-admin", CredentialKind.SSH_PASSWORD, Secret({"password": "x" * 12}), username="a"
        )
    )
    drive.run(core.credentials.create("api-token", CredentialKind.TOKEN, Secret({"token": TOKEN})))


def _choose_manifest(dialog: ConnectorDialog, manifest_id: str) -> None:
    dialog.manifest_combo.setCurrentIndex([m.id for m in dialog.manifests].index(manifest_id))


def _open_menu(drive: Driver, edit: CredentialsEdit) -> None:
    """Pop the Choose… menu up as the button does, but without its blocking exec()."""
    edit.menu.popup(edit.button.mapToGlobal(QPoint(0, edit.button.height())))
    drive.until(edit.menu.isVisible)


def _checks(edit: CredentialsEdit) -> dict[str, bool]:
    return {name: a.isChecked() for name, a in edit.actions_by_name().items()}


def _click(edit: CredentialsEdit, name: str) -> None:
    """Click a credential in the open menu with the mouse, as an operator ticks it."""
    action = edit.actions_by_name()[name]
    where = edit.menu.actionGeometry(action).center()
    QTest.mouseClick(edit.menu, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)


def test_trap_v3_users_are_ticked_from_stored_snmpv3_credentials(
    drive: Driver,
    core: Core,
    pane: ConnectorsPane,
    screenshot: Callable[[QWidget, str], Path],
) -> None:
    _store_credentials(drive, core)
    pane.add_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    _choose_manifest(dialog, "snmp-trap")
    users = dialog.form.editors["v3_users"]
    assert isinstance(users, CredentialsEdit)
    assert dialog.findChild(CredentialsEdit, "setting_v3_users") is users
    assert dialog.findChild(QLineEdit, "setting_v3_users_names") is users.line
    button = dialog.findChild(QToolButton, "setting_v3_users_choose")
    assert button is users.button and button.text() == "Choose…" and button.isEnabled()
    assert "SNMPv3 credentials" in users.toolTip()
    assert list(users.actions_by_name()) == ["core-traps", "noc-traps"], "snmpv3 ones only"
    assert [a.text() for a in users.menu.actions()] == [
        "core-traps  (coretrap)",
        "noc-traps  (noctrap)",
    ]

    _open_menu(drive, users)
    assert _checks(users) == {"core-traps": False, "noc-traps": False}
    _click(users, "noc-traps")
    assert users.menu.isVisible(), "ticking keeps the menu open for the next one"
    _click(users, "core-traps")
    assert users.text() == "noc-traps, core-traps", "in the order ticked"
    _click(users, "noc-traps")  # unticked: removed, the other stays
    assert users.text() == "core-traps"
    _click(users, "noc-traps")
    assert users.text() == "core-traps, noc-traps"
    assert _checks(users) == {"core-traps": True, "noc-traps": True}
    screenshot(users.menu, "connectors-trap-v3-users-menu")
    users.menu.hide()

    dialog.name_edit.setText("traps")
    screenshot(dialog, "connectors-trap-v3-users")
    dialog.save_button.click()
    drive.until(lambda: "traps" in _names(pane) and pane.dialog is None)
    info = drive.run(core.connectors.get("traps"))
    assert info.settings["v3_users"] == "core-traps, noc-traps"

    pane.select_name("traps")
    pane.edit_action.trigger()
    dialog = _wait_dialog(drive, pane, ConnectorDialog)
    users = dialog.form.editors["v3_users"]
    assert isinstance(users, CredentialsEdit) and users.text() == "core-traps, noc-traps"
    _open_menu(drive, users)
    assert _checks(users) == {"core-traps": True, "noc-traps": True}
    users.menu.hide()
    users.line.setText("noc-traps")  # typed by hand: the checks follow the text
    _open_menu(drive, users)
    assert _checks(users) == {"core-traps": False, "noc-traps": True}
    users.menu.hide()
    assert dialog.form.changes() == {"v3_users": "noc-traps"}
    dialog.save_button.click()
    drive.until(lambda: pane.dialog is None)
    assert drive.run(core.connectors.get("traps")).settings["v3_users"] == "noc-traps"


def test_a_typed_credential_of_the_wrong_kind_is_refused_naming_the_field(
    drive: Driver, core: Core, pane: ConnectorsPane
) -> None:
    _store_credentials(drive, core)
    pane.add_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    _choose_manifest(dialog, "snmp-trap")
    users = dialog.form.editors["v3_users"]
    assert isinstance(users, CredentialsEdit)
    users.line.setText("noc-traps, ssh-admin")
    dialog.save_button.click()
    drive.until(dialog.error_label.isVisible)
    text = dialog.error_label.text()
    assert text.startswith("v3_users") and "ssh-password credential" in text, text
    assert users.line.styleSheet() == INVALID_STYLE, "the line edit is framed"
    assert not users.styleSheet(), "not the button as well"
    dialog.reject()
    drive.until(lambda: pane.dialog is None)
    assert _names(pane) == []


def test_with_no_snmpv3_credential_the_picker_says_where_to_add_one(
    drive: Driver,
    core: Core,
    pane: ConnectorsPane,
    screenshot: Callable[[QWidget, str], Path],
) -> None:
    drive.run(core.credentials.create("api-token", CredentialKind.TOKEN, Secret({"token": TOKEN})))
    pane.add_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    _choose_manifest(dialog, "snmp-trap")
    users = dialog.form.editors["v3_users"]
    assert isinstance(users, CredentialsEdit) and users.actions_by_name() == {}
    assert not users.button.isEnabled()
    placeholder = users.line.placeholderText()
    assert placeholder == f"no snmpv3 credentials: {WHERE_TO_ADD}"
    room = users.line.contentsRect().width() - 2 * users.line.height()  # less the clear button
    assert users.line.fontMetrics().horizontalAdvance(placeholder) < room, "shown whole"
    screenshot(dialog, "connectors-trap-v3-users-none")
    dialog.reject()
    drive.until(lambda: pane.dialog is None)


def test_credential_fields_offer_the_stored_credentials_of_their_kind(
    qtbot: Any, drive: Driver, gui_core: Core
) -> None:
    _store_credentials(drive, gui_core)
    credentials = drive.run(gui_core.credentials.list())
    fields = [
        SettingField("login", FieldType.CREDENTIAL, credential_kind="token", help="API login"),
        SettingField("any", FieldType.CREDENTIAL),
        SettingField("community", FieldType.CREDENTIAL, credential_kind="snmp-community"),
        SettingField("v3", FieldType.CREDENTIAL, credential_kind="snmpv3", multiple=True),
        SettingField("v2", FieldType.CREDENTIAL, credential_kind="snmp-community", multiple=True),
    ]
    form = SettingsForm(
        fields, {"login": "old-token", "v3": ["noc-traps"]}, credentials=credentials
    )
    qtbot.addWidget(form)
    login, any_kind, community = (form.editors[n] for n in ("login", "any", "community"))
    assert isinstance(login, QComboBox) and login.isEditable()
    assert login.objectName() == "setting_login" and login.toolTip() == "API login"
    assert [login.itemText(i) for i in range(login.count())] == ["", "api-token"]
    assert login.currentText() == "old-token", "a stored name not listed is still shown"
    login.setCurrentIndex(1)
    assert isinstance(any_kind, QComboBox)
    everything = [any_kind.itemText(i) for i in range(any_kind.count())]
    assert everything == ["", "api-token", "core-traps", "noc-traps", "ssh-admin"]
    assert isinstance(community, QComboBox) and community.count() == 1
    line = community.lineEdit()
    assert line is not None
    assert line.placeholderText() == f"no snmp-community credentials: {WHERE_TO_ADD}"
    v2 = form.editors["v2"]
    assert isinstance(v2, CredentialsEdit) and not v2.button.isEnabled()
    assert WHERE_TO_ADD in v2.line.placeholderText()
    assert "snmp-community" in v2.line.placeholderText()

    assert form.values() == {"login": "api-token", "v3": "noc-traps"}
    assert form.changes() == {"login": "api-token"}, "the list value is the same names"
    v3 = form.editors["v3"]
    assert isinstance(v3, CredentialsEdit)
    v3.line.setText("noc-traps,core-traps")
    assert form.changes() == {"login": "api-token", "v3": "noc-traps,core-traps"}
    form.mark_invalid("v3")
    assert v3.line.styleSheet() and not login.styleSheet()
    form.mark_invalid("login")
    assert login.styleSheet() and not v3.line.styleSheet()


def _manifest_copy(tmp_path: Path, name: str, manifest_id: str, extra: str = "") -> Path:
    """The bundled generic-json manifest under another id and name (plus ``extra`` lines
    after its version)."""
    text = (BUNDLED / "generic-json.yaml").read_text(encoding="utf-8")
    text = text.replace("id: generic-json", f"id: {manifest_id}")
    text = text.replace("name: Generic JSON alert list", f"name: {manifest_id} alerts")
    text = text.replace('version: "1.0"\n', f'version: "1.0"\n{extra}')
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _combo_texts(dialog: ConnectorDialog) -> list[str]:
    combo = dialog.manifest_combo
    return [combo.itemText(i) for i in range(combo.count())]


def test_add_manifest_file_selects_it_and_a_bad_one_says_where(
    drive: Driver, core: Core, pane: ConnectorsPane, tmp_path: Path
) -> None:
    pane.add_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    bundled = _combo_texts(dialog)
    good = _manifest_copy(tmp_path, "acme.yaml", "acme-json")
    dialog.add_manifest_file(good)
    assert _combo_texts(dialog) == [*bundled, "acme-json alerts (acme-json 1.0) — acme.yaml"]
    assert dialog.manifest_combo.currentIndex() == len(bundled)
    m = dialog.manifest()
    assert m is not None and m.id == "acme-json"
    assert set(dialog.form.editors) == {"url", "token", "interval", "timeout", "verify_tls"}
    assert dialog.name_edit.text() == "acme-json"

    broken = tmp_path / "broken.yaml"
    broken.write_text('id: broken\nname: "unclosed\nversion: "1.0"\n', encoding="utf-8")
    dialog.add_manifest_file(broken)
    assert dialog.error_label.isVisible()
    text = dialog.error_label.text()
    assert text.startswith(f"{broken}:") and "YAML error" in text, text
    assert text.split(":")[1].isdigit(), f"a line number: {text}"

    unknown = _manifest_copy(tmp_path, "unknown.yaml", "acme-two", extra="colour: blue\n")
    line = unknown.read_text(encoding="utf-8").splitlines().index("colour: blue") + 1
    dialog.add_manifest_file(unknown)
    text = dialog.error_label.text()
    assert text.startswith(f"{unknown}:{line}: colour: unknown field(s) colour"), text
    assert _combo_texts(dialog) == [*bundled, "acme-json alerts (acme-json 1.0) — acme.yaml"]
    m = dialog.manifest()
    assert m is not None and m.id == "acme-json", "the chosen manifest stays"

    dialog.form.editors["url"].setText("http://127.0.0.1:9/alerts")  # type: ignore[attr-defined]
    dialog.save_button.click()
    drive.until(lambda: "acme-json" in _names(pane) and pane.dialog is None)
    info = drive.run(core.connectors.get("acme-json"))
    assert info.manifest_id == "acme-json" and info.settings["url"] == "http://127.0.0.1:9/alerts"


def test_from_file_button_imports_the_chosen_file(
    drive: Driver,
    core: Core,
    pane: ConnectorsPane,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[Path | None] = [
        tmp_path / "missing.yaml",
        None,
        _manifest_copy(tmp_path, "lab.yaml", "lab-json"),
    ]
    asked: list[str] = []

    async def pick_file(_parent: QWidget, title: str, **_options: Any) -> str | None:
        """The file picker (a QFileDialog) answering as an operator would."""
        asked.append(title)
        chosen = answers.pop(0)
        return str(chosen) if chosen else None

    monkeypatch.setattr(dialogs_module, "ask_file", pick_file)
    pane.add_action.trigger()
    dialog: ConnectorDialog = _wait_dialog(drive, pane, ConnectorDialog)
    count = dialog.manifest_combo.count()
    dialog.file_button.click()
    drive.until(dialog.error_label.isVisible)
    assert dialog.error_label.text().startswith(f"{tmp_path / 'missing.yaml'}:")
    dialog.file_button.click()  # cancelled: nothing changes
    drive.until(lambda: len(asked) == 2)
    drive.sleep(0.05)  # (settle would wait for the open dialog too)
    assert dialog.manifest_combo.count() == count and dialog.error_label.isVisible()
    dialog.file_button.click()
    drive.until(lambda: dialog.manifest_combo.count() == count + 1)
    m = dialog.manifest()
    assert m is not None and m.id == "lab-json"
    assert not dialog.error_label.isVisible(), "a good file clears the last error"
    assert asked == ["Import connector manifest"] * 3
    dialog.reject()
    drive.until(lambda: pane.dialog is None)


@pytest.mark.skipif(shutil.which("logger") is None, reason="util-linux logger not installed")
def test_a_running_syslog_listener_shows_live_counters_and_open_alerts(
    drive: Driver, core: Core, pane: ConnectorsPane
) -> None:
    """Real ``logger`` lines into the bundled syslog connector: the pane shows the
    listener's counters as they move (matched, unknown) and its open alerts, without
    waiting for them to be written on the connector's row."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    drive.run(core.inventory.create_target(TargetSpec("lab-sw-01", "127.0.0.1")))
    drive.run(
        core.connectors.add(
            "syslog",
            name="lab-syslog",
            settings={"address": "127.0.0.1", "port": str(port), "protocol": "udp"},
        )
    )
    drive.run(core.connectors.enable("lab-syslog"))
    (status,) = drive.run(core.connectors.start_receivers())
    assert status.outcome == "started", status
    try:
        for line in (
            "%LINK-3-UPDOWN: Interface GigabitEthernet0/7, changed state to down",
            "CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)",  # no rule: counted only
        ):
            subprocess.run(
                ["logger", "-n", "127.0.0.1", "-P", str(port), "-d", "--rfc3164", line],
                check=True,
            )
        drive.until(lambda: "lab-syslog" in _names(pane))
        drive.until(lambda: _cell(pane, "lab-syslog", ConnectorsModel.OPEN_ALERTS) == "1")
        assert pane.select_name("lab-syslog")
        drive.until(lambda: "received\n2\n" in pane.details.toPlainText(), timeout=10)
        text = pane.details.toPlainText()
        assert "matched\n1\n" in text and "unknown\n1\n" in text and "dropped\n0\n" in text
        assert "last_error" not in text  # under its own heading, not among the counters
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        pane.grab().save(str(SCREENSHOTS / "connectors-syslog-live.png"))
    finally:
        drive.run(core.connectors.stop_receivers())
