"""The form that creates a credential: name, kind and the fields that kind needs.

Secret fields are password fields; a private key is loaded from a file or the clipboard
and never displayed. The form stays open with the service's reason when it refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.credentials import (
    SECRET_FIELDS,
    SNMPV3_AUTH,
    SNMPV3_PRIV,
    CredentialKind,
    Secret,
)
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.credentials import secret_from_fields

KIND_LABELS = {
    CredentialKind.SSH_PASSWORD: "SSH password",
    CredentialKind.SSH_KEY: "SSH private key",
    CredentialKind.SNMP_COMMUNITY: "SNMP community (v1/v2c)",
    CredentialKind.SNMPV3: "SNMPv3 user",
    CredentialKind.TOKEN: "API token",
}
FIELD_LABELS = {
    "password": "Password",
    "private_key": "Private key",
    "passphrase": "Key passphrase",
    "community": "Community",
    "auth_key": "Auth key",
    "priv_key": "Privacy key",
    "token": "Token",
}
USERNAME_LABELS = {
    CredentialKind.SSH_PASSWORD: "Username",
    CredentialKind.SSH_KEY: "Username",
    CredentialKind.SNMPV3: "Security name",
}
MAX_KEY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class NewCredential:
    """What the create form collected (the secret never leaves a ``Secret``)."""

    name: str
    kind: CredentialKind
    secret: Secret
    username: str | None
    auth_protocol: str | None
    priv_protocol: str | None


class CredentialForm(QDialog):
    """Create a credential: name, kind and the fields that kind needs."""

    def __init__(
        self, submit: Callable[[NewCredential], Awaitable[object]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("credentialForm")
        self.setWindowTitle("New credential")
        self._submit = submit
        self.busy = False
        self.private_key = ""
        self.message = MessageBar()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. noc-snmpv3")
        self.kind_combo = QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind_combo.addItem(label, kind)
        self.username_edit = QLineEdit()
        self.auth_combo = QComboBox()
        self.auth_combo.addItems(list(SNMPV3_AUTH))
        self.auth_combo.setCurrentText("sha256")
        self.priv_combo = QComboBox()
        self.priv_combo.addItems(list(SNMPV3_PRIV))
        self.priv_combo.setCurrentText("aes")
        self.secret_edits: dict[str, QLineEdit] = {}
        for field in {f for fields in SECRET_FIELDS.values() for f in fields}:
            if field != "private_key":
                edit = QLineEdit()
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setObjectName(f"secret_{field}")
                self.secret_edits[field] = edit
        self.key_label = QLabel("No key loaded")
        self.key_file_button = QPushButton("Load from file…")
        self.key_file_button.clicked.connect(self._choose_key_file)
        self.key_paste_button = QPushButton("Paste")
        self.key_paste_button.setToolTip("Take the key from the clipboard (it is not shown)")
        self.key_paste_button.clicked.connect(self._paste_key)
        self.key_row = QWidget()
        key_layout = QHBoxLayout(self.key_row)
        key_layout.setContentsMargins(0, 0, 0, 0)
        key_layout.addWidget(self.key_label, 1)
        key_layout.addWidget(self.key_file_button)
        key_layout.addWidget(self.key_paste_button)
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        note = QLabel("The secret is stored in the OS keyring, never in the database.")
        note.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(self.form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self._build_rows()
        self.kind_combo.currentIndexChanged.connect(self._rebuild)
        self.auth_combo.currentTextChanged.connect(self._update_enabled)
        self.priv_combo.currentTextChanged.connect(self._update_enabled)
        self._rebuild()
        self.resize(460, self.sizeHint().height())

    @property
    def kind(self) -> CredentialKind:
        return CredentialKind(self.kind_combo.currentData())

    def _build_rows(self) -> None:
        """Every row of every kind, once; ``_rebuild`` shows the chosen kind's rows."""
        self.form.addRow("&Name:", self.name_edit)
        self.form.addRow("&Kind:", self.kind_combo)
        self.username_label = QLabel("Username:")
        self.form.addRow(self.username_label, self.username_edit)
        self.form.addRow("Auth protocol:", self.auth_combo)
        self.form.addRow("Privacy protocol:", self.priv_combo)
        self.form.addRow("Private key:", self.key_row)
        for field in ("password", "community", "auth_key", "priv_key", "passphrase", "token"):
            self.form.addRow(f"{FIELD_LABELS[field]}:", self.secret_edits[field])

    def _rebuild(self) -> None:
        """Show the rows of the chosen kind; the others are hidden, their input kept."""
        kind = self.kind
        wanted = set(SECRET_FIELDS[kind])
        self.form.setRowVisible(self.username_edit, kind in USERNAME_LABELS)
        self.username_label.setText(f"{USERNAME_LABELS.get(kind, 'Username')}:")
        self.form.setRowVisible(self.auth_combo, kind is CredentialKind.SNMPV3)
        self.form.setRowVisible(self.priv_combo, kind is CredentialKind.SNMPV3)
        self.form.setRowVisible(self.key_row, "private_key" in wanted)
        for field, edit in self.secret_edits.items():
            self.form.setRowVisible(edit, field in wanted)
        self._update_enabled()

    def _update_enabled(self) -> None:
        snmpv3 = self.kind is CredentialKind.SNMPV3
        self.secret_edits["auth_key"].setEnabled(snmpv3 and self.auth_combo.currentText() != "none")
        self.secret_edits["priv_key"].setEnabled(snmpv3 and self.priv_combo.currentText() != "none")

    def set_private_key(self, text: str, source: str) -> None:
        """Keep a private key for the credential without showing it."""
        text = text.strip()
        if not text:
            self.message.show_error("That holds no private key")
            return
        if "PRIVATE KEY" not in text:
            self.message.show_error(f"{source} does not look like a private key (no PRIVATE KEY)")
            return
        self.private_key = text + "\n"
        first = text.splitlines()[0].strip("- ")
        self.key_label.setText(f"Loaded from {source}: {first}, {len(self.private_key)} bytes")
        self.message.clear()

    def _choose_key_file(self) -> None:
        start = str(Path.home() / ".ssh")
        name, _ = QFileDialog.getOpenFileName(self, "Private key file", start)
        if not name:
            return
        path = Path(name)
        try:
            if path.stat().st_size > MAX_KEY_BYTES:
                self.message.show_error(f"{path} is too large to be a private key")
                return
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.message.show_error(f"Cannot read {path}: {exc}")
            return
        self.set_private_key(text, path.name)

    def _paste_key(self) -> None:
        self.set_private_key(QGuiApplication.clipboard().text(), "the clipboard")

    def values(self) -> NewCredential:
        """What ``CredentialService.create`` takes, read from the form."""
        kind = self.kind
        fields: dict[str, str] = {}
        for field in SECRET_FIELDS[kind]:
            if field == "private_key":
                fields[field] = self.private_key
            elif self.secret_edits[field].isEnabled():
                fields[field] = self.secret_edits[field].text()
        auth = priv = None
        if kind is CredentialKind.SNMPV3:
            auth, priv = self.auth_combo.currentText(), self.priv_combo.currentText()
            if priv != "none" and auth == "none":
                raise ValidationError(
                    "SNMPv3 privacy needs authentication: choose an auth protocol"
                )
            for field, proto in (("auth_key", auth), ("priv_key", priv)):
                if proto != "none" and len(fields.get(field, "")) < 8:
                    raise ValidationError(
                        f"the {FIELD_LABELS[field].lower()} needs 8 characters or more"
                    )
        username = self.username_edit.text().strip() if kind in USERNAME_LABELS else ""
        if kind is CredentialKind.SNMPV3 and not username:
            raise ValidationError("an SNMPv3 credential needs its security name")
        return NewCredential(
            name=self.name_edit.text(),
            kind=kind,
            secret=secret_from_fields(kind, fields),
            username=username or None,
            auth_protocol=auth,
            priv_protocol=priv,
        )

    def accept(self) -> None:
        if self.busy:
            return
        try:
            values = self.values()
        except ValidationError as exc:
            self.message.show_error(exc)
            return
        self.busy = True
        self.buttons.setEnabled(False)
        spawn(self._run(values), on_error=self.message.show_error, name="create credential")

    async def _run(self, values: NewCredential) -> None:
        try:
            await self._submit(values)
        finally:
            self.busy = False
            self.buttons.setEnabled(True)
        super().accept()
