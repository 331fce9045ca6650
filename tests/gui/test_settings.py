"""The Settings dialog: theme switching, credentials, database choice and test connection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import qasync
from g2_fixtures import gcore, run, screenshot, wait_until
from PySide6.QtWidgets import QApplication, QMessageBox

from opsconductor_desktop.config import load_settings
from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.targets import SnmpProfile, SnmpVersion, TargetSpec
from opsconductor_desktop.gui import theme
from opsconductor_desktop.gui.credential_form import CredentialForm
from opsconductor_desktop.gui.credentials_dialog import CredentialsManager
from opsconductor_desktop.gui.settings_dialog import (
    SettingsDialog,
    join_password,
    split_password,
    sqlite_path,
)
from opsconductor_desktop.services.app import Core

__all__ = ["gcore"]  # fixtures used by name


@pytest.fixture
def dialog(qtbot: object, qloop: qasync.QEventLoop, gcore: Core) -> Iterator[SettingsDialog]:
    widget = SettingsDialog(gcore)
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.show()
    wait_until(qloop, lambda: widget.credentials.loaded)
    yield widget
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(app, "system")


def _confirm(qloop: qasync.QEventLoop, parent: object) -> None:
    wait_until(qloop, lambda: parent.findChild(QMessageBox, "confirmBox") is not None)  # type: ignore[attr-defined]
    box = parent.findChild(QMessageBox, "confirmBox")  # type: ignore[attr-defined]
    yes = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    yes.click()


# ---- appearance -------------------------------------------------------------------------


def test_theme_switches_live_is_saved_on_ok(dialog: SettingsDialog, gcore: Core) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    dialog.tabs.setCurrentWidget(dialog.appearance)
    combo = dialog.appearance.theme_combo
    combo.setCurrentIndex(combo.findData("dark"))
    assert theme.current_theme() == "dark"
    assert "QTableView" in app.styleSheet()
    assert app.palette().window().color().lightness() < 80
    screenshot(dialog, "settings-appearance-dark")
    combo.setCurrentIndex(combo.findData("light"))
    assert app.palette().window().color().lightness() > 200
    combo.setCurrentIndex(combo.findData("system"))
    assert app.styleSheet() == ""
    combo.setCurrentIndex(combo.findData("dark"))
    dialog.accept()
    assert load_settings(gcore.paths).theme == "dark"


def test_cancel_restores_the_theme(dialog: SettingsDialog, gcore: Core) -> None:
    combo = dialog.appearance.theme_combo
    combo.setCurrentIndex(combo.findData("light"))
    assert theme.current_theme() == "light"
    dialog.reject()
    assert theme.current_theme() == "system"
    assert load_settings(gcore.paths).theme == "system"


def test_theme_files_exist_for_every_theme() -> None:
    for name in ("light", "dark"):
        assert "QHeaderView::section" in theme.stylesheet(name)
    assert theme.stylesheet("system") == ""


# ---- credentials ------------------------------------------------------------------------


def _new_credential(
    qloop: qasync.QEventLoop, manager: CredentialsManager, **fields: str
) -> CredentialForm:
    manager.new_button.click()
    form = manager.dialog
    assert isinstance(form, CredentialForm)
    form.kind_combo.setCurrentIndex(form.kind_combo.findData(CredentialKind(fields.pop("kind"))))
    form.name_edit.setText(fields.pop("name"))
    if "username" in fields:
        form.username_edit.setText(fields.pop("username"))
    for combo_name in ("auth", "priv"):
        if combo_name in fields:
            getattr(form, f"{combo_name}_combo").setCurrentText(fields.pop(combo_name))
    if "private_key" in fields:
        form.set_private_key(fields.pop("private_key"), "id_test")
    for field, value in fields.items():
        form.secret_edits[field].setText(value)
    form.accept()
    return form


def test_credential_create_rename_delete(
    dialog: SettingsDialog, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    dialog.tabs.setCurrentWidget(dialog.credentials)
    manager = dialog.credentials
    assert "keyring" in manager.keyring_label.text()
    form = _new_credential(
        qloop,
        manager,
        kind="snmpv3",
        name="noc-snmpv3",
        username="nocmon",
        auth="sha256",
        priv="aes",
        auth_key="auth-secret-1",
        priv_key="priv-secret-1",
    )
    wait_until(qloop, lambda: not form.isVisible())
    assert manager.model.rowCount() == 1
    row = manager.model.item(0)
    assert row.credential.kind is CredentialKind.SNMPV3
    assert row.protocols == "auth sha256, priv aes"
    secret = run(qloop, gcore.credentials.secret("noc-snmpv3"))
    assert secret.reveal() == {"auth_key": "auth-secret-1", "priv_key": "priv-secret-1"}

    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    form = _new_credential(
        qloop, manager, kind="ssh-key", name="ansible-key", username="ansible", private_key=key
    )
    wait_until(qloop, lambda: not form.isVisible())
    assert "PRIVATE KEY" not in form.key_label.text() or "Loaded from" in form.key_label.text()

    # a missing secret keeps the form open with the reason
    form = _new_credential(qloop, manager, kind="ssh-password", name="no-secret", username="x")
    wait_until(qloop, lambda: form.message.kind == "error")
    assert "password" in form.message.label.text()
    assert form.isVisible()
    form.reject()

    # the community credential is used by a target: deleting it is refused, clearly
    form = _new_credential(
        qloop, manager, kind="snmp-community", name="public-ro", community="s3cr3t"
    )
    wait_until(qloop, lambda: not form.isVisible())
    run(
        qloop,
        gcore.inventory.create_target(
            TargetSpec(
                "ams1-rtr-01",
                "10.20.0.1",
                snmp=SnmpProfile(SnmpVersion.V2C, credential="public-ro"),
            )
        ),
    )
    run(qloop, manager.reload())
    assert manager.select("public-ro")
    assert manager.selected().usage == 1
    screenshot(dialog, "settings-credentials")
    manager.delete_button.click()
    _confirm(qloop, manager)
    wait_until(qloop, lambda: manager.message.kind == "error")
    assert "used by 1 target" in manager.message.label.text()

    assert manager.select("noc-snmpv3")
    manager.rename_button.click()
    rename = manager.dialog
    assert rename is not None
    rename.name_edit.setText("noc-v3")  # type: ignore[attr-defined]
    rename.accept()
    wait_until(qloop, lambda: not rename.isVisible())
    names = sorted(c.name for c in run(qloop, gcore.credentials.list()))
    assert names == ["ansible-key", "noc-v3", "public-ro"]
    assert manager.selected() is not None
    assert manager.selected().credential.name == "noc-v3"

    manager.delete_button.click()
    _confirm(qloop, manager)
    wait_until(qloop, lambda: manager.model.rowCount() == 2)
    names = sorted(c.name for c in run(qloop, gcore.credentials.list()))
    assert names == ["ansible-key", "public-ro"]


def test_credentials_model_passes_modeltester(
    dialog: SettingsDialog, qloop: qasync.QEventLoop, gcore: Core, qtmodeltester: object
) -> None:
    run(
        qloop,
        gcore.credentials.create("tok", CredentialKind.TOKEN, Secret({"token": "abcdef"})),
    )
    run(qloop, dialog.credentials.reload())
    qtmodeltester.check(dialog.credentials.model)  # type: ignore[attr-defined]


def test_no_keyring_is_explained_not_a_traceback(
    qtbot: object, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    manager = CredentialsManager(gcore)
    qtbot.addWidget(manager)  # type: ignore[attr-defined]
    assert manager.keyring_bar.kind == "warning"
    assert "no usable OS keyring" in manager.keyring_bar.label.text()
    assert not manager.new_button.isEnabled()
    # and a create that reaches the service anyway is reported in the form
    form = CredentialForm(manager.create_credential, manager)
    qtbot.addWidget(form)  # type: ignore[attr-defined]
    form.kind_combo.setCurrentIndex(form.kind_combo.findData(CredentialKind.TOKEN))
    form.name_edit.setText("api")
    form.secret_edits["token"].setText("abcdef")
    form.show()
    form.accept()
    wait_until(qloop, lambda: form.message.kind == "error")
    assert "no usable OS keyring" in form.message.label.text()


# ---- database ---------------------------------------------------------------------------


def test_test_connection_against_sqlite_and_a_bad_url(
    dialog: SettingsDialog, qloop: qasync.QEventLoop, gcore: Core, tmp_path: Path
) -> None:
    page = dialog.database
    dialog.tabs.setCurrentWidget(page)
    assert page.sqlite_radio.isChecked()
    page.path_edit.setText(str(tmp_path / "x.db"))  # the test core's own database
    page.start_test()
    wait_until(qloop, lambda: page.result_ok is not None)
    assert page.result_ok is True
    assert "schema up to date" in page.result.text()
    screenshot(dialog, "settings-database")

    page.postgres_radio.setChecked(True)
    page.url_edit.setText("postgresql://opsc@127.0.0.1:1/opsconductor")
    page.password_edit.setText("hunter2-secret")
    page.start_test()
    wait_until(qloop, lambda: page.result_ok is not None)
    assert page.result_ok is False
    assert "cannot reach PostgreSQL" in page.result.text()
    assert "hunter2" not in page.result.text()
    assert "hunter2" not in page.describe()

    page.url_edit.setText("mysql://somewhere/db")
    page.start_test()
    wait_until(qloop, lambda: page.result_ok is not None)
    assert page.result_ok is False
    assert "unsupported database" in page.result.text()


def test_database_choice_is_saved_for_the_next_start(dialog: SettingsDialog, gcore: Core) -> None:
    page = dialog.database
    page.postgres_radio.setChecked(True)
    page.url_edit.setText("postgresql://opsc@db.example.net/opsconductor")
    page.password_edit.setText("p@ss:word")
    dialog.accept()
    saved = load_settings(gcore.paths).db_url
    assert saved == "postgresql://opsc:p%40ss%3Aword@db.example.net/opsconductor"
    again = SettingsDialog(gcore)
    assert again.database.postgres_radio.isChecked()
    assert again.database.url_edit.text() == "postgresql://opsc@db.example.net/opsconductor"
    assert again.database.password_edit.text() == "p@ss:word"
    again.database.sqlite_radio.setChecked(True)
    again.database.path_edit.setText(str(gcore.paths.default_database))
    again.accept()
    assert load_settings(gcore.paths).db_url is None
    again.deleteLater()


def test_url_helpers() -> None:
    assert split_password("postgresql://u:p%40x@h:5432/d") == ("postgresql://u@h:5432/d", "p@x")
    assert split_password("postgresql://u@h/d") == ("postgresql://u@h/d", "")
    assert join_password("postgresql://u@h/d", "a b") == "postgresql://u:a%20b@h/d"
    assert join_password("postgresql://h/d", "x") == "postgresql://h/d"
    assert sqlite_path("sqlite:////tmp/a.db") == Path("/tmp/a.db")
    assert sqlite_path("postgresql://h/d") is None


def test_credential_form_shows_the_fields_of_each_kind(
    qtbot: object, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    form = CredentialForm(lambda _new: asyncio.sleep(0))
    qtbot.addWidget(form)  # type: ignore[attr-defined]
    form.show()
    shown = {}
    for index in range(form.kind_combo.count()):
        form.kind_combo.setCurrentIndex(index)
        shown[form.kind] = sorted(f for f, e in form.secret_edits.items() if e.isVisible())
    assert shown[CredentialKind.SSH_PASSWORD] == ["password"]
    assert shown[CredentialKind.SSH_KEY] == ["passphrase"]  # the key itself: file or paste
    assert shown[CredentialKind.SNMP_COMMUNITY] == ["community"]
    assert shown[CredentialKind.TOKEN] == ["token"]
    form.kind_combo.setCurrentIndex(form.kind_combo.findData(CredentialKind.SNMPV3))
    assert form.auth_combo.isVisible()
    assert form.priv_combo.isVisible()
    assert all(e.echoMode() == e.EchoMode.Password for e in form.secret_edits.values())
    form.priv_combo.setCurrentText("none")
    assert not form.secret_edits["priv_key"].isEnabled()
    form.priv_combo.setCurrentText("aes256")
    form.name_edit.setText("noc-snmpv3")
    form.username_edit.setText("nocmon")
    form.secret_edits["auth_key"].setText("short")
    form.accept()
    assert "8 characters" in form.message.label.text()
    form.secret_edits["auth_key"].setText("auth-secret-1")
    form.secret_edits["priv_key"].setText("priv-secret-1")
    form.message.clear()
    screenshot(form, "credential-form-snmpv3")
    form.kind_combo.setCurrentIndex(form.kind_combo.findData(CredentialKind.SSH_KEY))
    form.set_private_key("not a key", "clipboard")
    assert form.private_key == ""
    assert "does not look like a private key" in form.message.label.text()
