"""The credentials manager: list, create (a form per kind), rename and delete credentials.

Secrets go to the OS keyring through the credential service and are never shown again;
the form's secret fields are password fields and a private key is loaded from a file or
the clipboard without being displayed. Without a usable keyring the manager says so and
why, in words, instead of failing on the first save.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.credentials import (
    Credential,
    CredentialKind,
)
from opsconductor_desktop.domain.errors import SecretStoreError
from opsconductor_desktop.gui.credential_form import KIND_LABELS, CredentialForm, NewCredential
from opsconductor_desktop.gui.feedback import MessageBar, confirm
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, Column, FilterProxy, KeyedTableModel
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core


@dataclass(frozen=True, slots=True)
class CredentialRow:
    """A credential and how many targets use it."""

    credential: Credential
    usage: int

    @property
    def protocols(self) -> str:
        c = self.credential
        if c.kind is not CredentialKind.SNMPV3:
            return ""
        return f"auth {c.auth_protocol or 'none'}, priv {c.priv_protocol or 'none'}"


CREDENTIAL_COLUMNS: list[Column[CredentialRow]] = [
    Column("Name", lambda r: r.credential.name),
    Column("Kind", lambda r: KIND_LABELS.get(r.credential.kind, str(r.credential.kind))),
    Column("Username", lambda r: r.credential.username or ""),
    Column("Protocols", lambda r: r.protocols),
    Column(
        "Used by",
        lambda r: f"{r.usage} target(s)",
        sort=lambda r: r.usage,
        align_right=True,
    ),
]


class CredentialsModel(KeyedTableModel[CredentialRow]):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(CREDENTIAL_COLUMNS, lambda r: r.credential.id, parent)


def keyring_problem(core: Core) -> str | None:
    """Why secrets cannot be stored, or None when the keyring is usable."""
    try:
        _ = core.ctx.secrets.backend
    except SecretStoreError as exc:
        return str(exc)
    return None


class NameDialog(QDialog):
    """Asks for a new name and runs ``submit`` with it; errors stay in the dialog."""

    def __init__(
        self,
        title: str,
        name: str,
        submit: Callable[[str], Awaitable[object]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("nameDialog")
        self.setWindowTitle(title)
        self._submit = submit
        self.busy = False
        self.message = MessageBar()
        self.name_edit = QLineEdit(name)
        self.name_edit.selectAll()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(380, self.sizeHint().height())

    def accept(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.buttons.setEnabled(False)
        spawn(self._run(), on_error=self.message.show_error, name="rename")

    async def _run(self) -> None:
        try:
            await self._submit(self.name_edit.text())
        finally:
            self.busy = False
            self.buttons.setEnabled(True)
        super().accept()


# ---- the manager ----------------------------------------------------------------------------


class CredentialsManager(QWidget):
    """The list of credentials with New, Rename and Delete."""

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.dialog: QDialog | None = None
        self.loaded = False
        self.model = CredentialsModel(self)
        self.proxy = FilterProxy(self.model, self)
        self.message = MessageBar()
        self.keyring_bar = MessageBar()
        self.keyring_label = QLabel()
        self.keyring_label.setWordWrap(True)
        self.view = QTableView()
        self.view.setObjectName("credentialsTable")
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((160, 170, 100, 150)):
            self.view.setColumnWidth(column, width)
        self.new_button = QPushButton("&New…")
        self.rename_button = QPushButton("&Rename…")
        self.delete_button = QPushButton("&Delete…")
        self.new_button.clicked.connect(self.ask_create)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self.ask_delete)
        self.view.doubleClicked.connect(lambda _index: self.ask_rename())
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.rename_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.keyring_bar)
        layout.addWidget(self.keyring_label)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._show_keyring_state()
        self._update_buttons()

    def _show_keyring_state(self) -> None:
        problem = keyring_problem(self.core)
        if problem:
            self.keyring_bar.show_message(f"Credentials cannot be created: {problem}", "warning")
            self.keyring_label.hide()
        else:
            self.keyring_bar.clear()
            backend = self.core.ctx.secrets.describe()
            self.keyring_label.setText(
                f"Secrets are kept in the OS keyring ({backend}). Changes here are saved at once."
            )
            self.keyring_label.show()
        self.keyring_usable = problem is None

    def _update_buttons(self) -> None:
        selected = self.selected() is not None
        self.new_button.setEnabled(self.keyring_usable)
        self.rename_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)

    def selected(self) -> CredentialRow | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].data(ITEM_ROLE)
        return row if isinstance(row, CredentialRow) else None

    def select(self, name: str) -> bool:
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data() == name:
                self.view.selectRow(row)
                return True
        return False

    async def reload(self) -> None:
        credentials = await self.core.credentials.list()
        rows = [CredentialRow(c, await self.core.credentials.usage(c.id)) for c in credentials]
        self.model.replace(rows)
        self.loaded = True
        self._update_buttons()

    def start_reload(self) -> None:
        spawn(self.reload(), on_error=self.message.show_error, name="load credentials")

    # ---- operations -----------------------------------------------------------------------

    def ask_create(self) -> None:
        self.message.clear()
        self.dialog = CredentialForm(self.create_credential, self)
        self.dialog.open()

    def ask_rename(self) -> None:
        row = self.selected()
        if row is None:
            return
        cred = row.credential

        async def submit(name: str) -> None:
            await self.rename_credential(cred, name)

        self.dialog = NameDialog("Rename credential", cred.name, submit, self)
        self.dialog.open()

    def ask_delete(self) -> None:
        row = self.selected()
        if row is None:
            return
        used = f"\n\nIt is used by {row.usage} target(s)." if row.usage else ""
        confirm(
            self,
            "Delete credential",
            f"Delete credential {row.credential.name} and its secret in the keyring?{used}",
            lambda: spawn(
                self.delete_credential(row.credential.id),
                on_error=self.message.show_error,
                name="delete credential",
            ),
        )

    async def create_credential(self, new: NewCredential) -> Credential:
        try:
            created = await self.core.credentials.create(
                new.name,
                new.kind,
                new.secret,
                username=new.username,
                auth_protocol=new.auth_protocol,
                priv_protocol=new.priv_protocol,
            )
        except SecretStoreError:
            self._show_keyring_state()
            raise
        await self.reload()
        self.select(created.name)
        return created

    async def rename_credential(self, cred: Credential, name: str) -> Credential:
        renamed = await self.core.credentials.rename(cred.id, name, expected_version=cred.version)
        await self.reload()
        self.select(renamed.name)
        return renamed

    async def delete_credential(self, ident: uuid.UUID) -> None:
        self.message.clear()
        try:
            await self.core.credentials.delete(ident)
        finally:
            await self.reload()


class CredentialsDialog(QDialog):
    """The credentials manager on its own (the main window's Credentials… menu item)."""

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Credentials")
        self.manager = CredentialsManager(core, self)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.manager)
        layout.addWidget(close)
        self.resize(820, 420)
        self.manager.start_reload()
