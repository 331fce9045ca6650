"""Add or edit one target: inline validation as the operator types, then a safe save.

Fields are checked with the domain's validators on every keystroke (bad address, empty or
duplicate name — against the names the pane has loaded, malformed tag, unknown parent),
and Save stays disabled while any field is wrong. Saving edits carries the version the
dialog was opened with; when the target changed elsewhere meanwhile, ``ConflictDialog``
shows both versions and the operator reloads, overwrites or keeps editing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.credentials import Credential, CredentialKind
from opsconductor_desktop.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    OpsError,
    ValidationError,
)
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SnmpVersion,
    SshProfile,
    Target,
    TargetKind,
    TargetSpec,
    normalize_tags,
    validate_address,
    validate_name,
)
from opsconductor_desktop.gui.targets.conflict import ConflictDialog, Resolution
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import FieldEdit, ask, dispose
from opsconductor_desktop.services.app import Core

log = logging.getLogger(__name__)

NO_CREDENTIAL = "(none)"
SNMP_KINDS = {
    SnmpVersion.V1: (CredentialKind.SNMP_COMMUNITY,),
    SnmpVersion.V2C: (CredentialKind.SNMP_COMMUNITY,),
    SnmpVersion.V3: (CredentialKind.SNMPV3,),
}
SSH_KINDS = (CredentialKind.SSH_PASSWORD, CredentialKind.SSH_KEY)


def split_words(text: str) -> list[str]:
    """Tags as typed: separated by commas, semicolons or spaces."""
    return [w for w in text.replace(";", ",").replace(" ", ",").split(",") if w.strip()]


def _tags_problem(text: str) -> str | None:
    normalize_tags(split_words(text))
    return None


def parse_vars(text: str) -> dict[str, Any]:
    """``key = value`` lines; a value that reads as JSON keeps its type, else it is text."""
    out: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ValidationError(f"variables, line {number}: write key = value", field="vars")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def format_vars(values: dict[str, Any]) -> str:
    lines = []
    for key in sorted(values):
        value = values[key]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{key} = {text}")
    return "\n".join(lines)


class CredentialPicker(QComboBox):
    """Credentials of the allowed kinds, plus "(none)"; keeps a chosen one that is stored."""

    def __init__(self, credentials: Sequence[Credential], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._credentials = list(credentials)
        self._kinds: tuple[CredentialKind, ...] = ()

    def set_kinds(self, kinds: Iterable[CredentialKind], keep: str | None = None) -> None:
        current = keep if keep is not None else self.credential()
        self._kinds = tuple(kinds)
        self.blockSignals(True)
        self.clear()
        self.addItem(NO_CREDENTIAL, None)
        for cred in self._credentials:
            if cred.kind in self._kinds:
                self.addItem(f"{cred.name}  ({cred.kind})", cred.name)
        if current and self.findData(current) < 0:
            self.addItem(f"{current}  (other kind)", current)
        self.setCurrentIndex(max(0, self.findData(current)) if current else 0)
        self.blockSignals(False)

    def credential(self) -> str | None:
        data = self.currentData()
        return str(data) if data else None


class TargetDialog(QDialog):
    """Add (``target=None``) or edit a target; see the module docstring."""

    saved = Signal(object)  # the stored Target

    def __init__(
        self,
        core: Core,
        *,
        target: Target | None = None,
        names: set[str] | None = None,
        credentials: Sequence[Credential] = (),
        sites: Iterable[str] = (),
        vendors: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("targetDialog")
        self.core = core
        self.target = target
        self.result_target: Target | None = None
        self._names = set(names or ())
        self._saving = False
        self.setWindowTitle(f"Edit target {target.name}" if target else "Add target")
        self.banner = QLabel()
        self.banner.setObjectName("dialogError")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "background:#fdecea; color:#8a1c13; border:1px solid #e6a19a; padding:6px;"
        )
        self.banner.hide()
        self._build_general(sorted(set(sites)), sorted(set(vendors)))
        self._build_access(credentials)
        self.vars_edit = QPlainTextEdit()
        self.vars_edit.setObjectName("varsEdit")
        self.vars_edit.setPlaceholderText("key = value (one per line; JSON values keep their type)")
        self.vars_edit.setMinimumHeight(60)
        self.vars_error = QLabel()
        self.vars_error.setStyleSheet("color: #c62828;")
        self.vars_error.hide()
        self.vars_box = QGroupBox("Variables")
        vars_layout = QVBoxLayout(self.vars_box)
        vars_layout.addWidget(self.vars_edit, 1)
        vars_layout.addWidget(self.vars_error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("saveTarget")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        grid = QGridLayout()
        grid.addWidget(self.general_box, 0, 0, 3, 1)
        grid.addWidget(self.snmp_box, 0, 1)
        grid.addWidget(self.ssh_box, 1, 1)
        grid.addWidget(self.vars_box, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(grid, 1)
        layout.addWidget(self.buttons)
        self._connect_validation()
        self.load(target.spec if target else None)
        self.resize(900, 500)

    # ---- building ---------------------------------------------------------------------------

    def _build_general(self, sites: list[str], vendors: list[str]) -> None:
        self.general_box = QGroupBox("Target")
        self.name_edit = FieldEdit(self._name_problem, placeholder="e.g. ams1-core-rtr-01")
        self.name_edit.setObjectName("nameField")
        self.address_edit = FieldEdit(
            lambda t: (validate_address(t), None)[1], placeholder="IPv4, IPv6 or DNS name"
        )
        self.address_edit.setObjectName("addressField")
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("kindCombo")
        for kind in TargetKind:
            self.kind_combo.addItem(kind.value)
        self.vendor_combo = _editable_combo(vendors, "vendorCombo")
        self.model_edit = QLineEdit()
        self.site_combo = _editable_combo(sites, "siteCombo")
        self.description_edit = QLineEdit()
        self.tags_edit = FieldEdit(_tags_problem, placeholder="core, prod (comma separated)")
        self.tags_edit.setObjectName("tagsField")
        self.enabled_check = QCheckBox("Enabled (polled, selected by jobs)")
        self.enabled_check.setObjectName("enabledCheck")
        self.parent_edit = FieldEdit(self._parent_problem, placeholder="upstream target (optional)")
        self.parent_edit.setObjectName("parentField")
        completer = QCompleter(sorted(self._names), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.parent_edit.edit.setCompleter(completer)
        form = QFormLayout(self.general_box)
        form.addRow("&Name", self.name_edit)
        form.addRow("&Address", self.address_edit)
        form.addRow("&Kind", self.kind_combo)
        form.addRow("&Vendor", self.vendor_combo)
        form.addRow("&Model", self.model_edit)
        form.addRow("&Site", self.site_combo)
        form.addRow("&Description", self.description_edit)
        form.addRow("&Tags", self.tags_edit)
        form.addRow("", self.enabled_check)
        form.addRow("&Parent", self.parent_edit)

    def _build_access(self, credentials: Sequence[Credential]) -> None:
        self.snmp_box = QGroupBox("SNMP")
        self.snmp_box.setObjectName("snmpBox")
        self.snmp_box.setCheckable(True)
        self.snmp_version = QComboBox()
        self.snmp_version.setObjectName("snmpVersion")
        for version in SnmpVersion:
            self.snmp_version.addItem(version.value)
        self.snmp_port = _port_box(161)
        self.snmp_credential = CredentialPicker(credentials)
        self.snmp_credential.setObjectName("snmpCredential")
        form = QFormLayout(self.snmp_box)
        form.addRow("Version", self.snmp_version)
        form.addRow("Port", self.snmp_port)
        form.addRow("Credential", self.snmp_credential)
        self.ssh_box = QGroupBox("SSH")
        self.ssh_box.setObjectName("sshBox")
        self.ssh_port = _port_box(22)
        self.ssh_username = QLineEdit()
        self.ssh_username.setPlaceholderText("from the credential if empty")
        self.ssh_credential = CredentialPicker(credentials)
        self.ssh_credential.setObjectName("sshCredential")
        self.ssh_credential.set_kinds(SSH_KINDS)
        form = QFormLayout(self.ssh_box)
        form.addRow("Port", self.ssh_port)
        form.addRow("Username", self.ssh_username)
        form.addRow("Credential", self.ssh_credential)
        self.snmp_version.currentIndexChanged.connect(self._snmp_version_changed)

    def _connect_validation(self) -> None:
        for field in self._fields():
            field.edit.textChanged.connect(self._update_save)
        self.vars_edit.textChanged.connect(self._check_vars)

    def _fields(self) -> list[FieldEdit]:
        return [self.name_edit, self.address_edit, self.tags_edit, self.parent_edit]

    # ---- values -----------------------------------------------------------------------------

    def load(self, spec: TargetSpec | None) -> None:
        """Show ``spec``'s values (or a new target's defaults)."""
        spec = spec or TargetSpec(name="", address="")
        self.name_edit.setText(spec.name)
        self.address_edit.setText(spec.address)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findText(str(spec.kind))))
        self.vendor_combo.setCurrentText(spec.vendor)
        self.model_edit.setText(spec.model)
        self.site_combo.setCurrentText(spec.site)
        self.description_edit.setText(spec.description)
        self.tags_edit.setText(", ".join(spec.tags))
        self.enabled_check.setChecked(spec.enabled)
        self.parent_edit.setText(spec.parent or "")
        self.snmp_box.setChecked(spec.snmp.version is not None)
        version = spec.snmp.version or SnmpVersion.V2C
        self.snmp_version.setCurrentIndex(self.snmp_version.findText(version.value))
        self.snmp_port.setValue(spec.snmp.port)
        self.snmp_credential.set_kinds(SNMP_KINDS[version], keep=spec.snmp.credential or "")
        self.ssh_port.setValue(spec.ssh.port)
        self.ssh_username.setText(spec.ssh.username or "")
        self.ssh_credential.set_kinds(SSH_KINDS, keep=spec.ssh.credential or "")
        self.vars_edit.setPlainText(format_vars(dict(spec.vars)))
        if not spec.name:
            # A new target: the empty name/address need no shouting until typed into.
            self.name_edit.set_error("")
            self.address_edit.set_error("")
        self._update_save()

    def spec(self) -> TargetSpec:
        """The spec the form describes (validated; raises ``ValidationError``)."""
        snmp_version = self._snmp_version() if self.snmp_box.isChecked() else None
        return TargetSpec(
            name=self.name_edit.text(),
            address=self.address_edit.text(),
            kind=TargetKind(self.kind_combo.currentText()),
            vendor=self.vendor_combo.currentText(),
            model=self.model_edit.text(),
            site=self.site_combo.currentText(),
            description=self.description_edit.text(),
            tags=tuple(split_words(self.tags_edit.text())),
            enabled=self.enabled_check.isChecked(),
            parent=self.parent_edit.text().strip() or None,
            snmp=SnmpProfile(
                snmp_version,
                self.snmp_port.value(),
                self.snmp_credential.credential() if snmp_version else None,
            ),
            ssh=SshProfile(
                self.ssh_port.value(),
                self.ssh_username.text().strip() or None,
                self.ssh_credential.credential(),
            ),
            vars=parse_vars(self.vars_edit.toPlainText()),
        ).validated()

    # ---- validation -------------------------------------------------------------------------

    def _name_problem(self, text: str) -> str | None:
        name = validate_name(text)
        if name in self._names and (self.target is None or name != self.target.name):
            return f"a target named {name!r} already exists"
        return None

    def _parent_problem(self, text: str) -> str | None:
        parent = text.strip()
        if not parent:
            return None
        if parent == self.name_edit.text().strip():
            return "a target cannot be its own parent"
        if self._names and parent not in self._names:
            return f"no target named {parent!r}"
        return None

    def _check_vars(self) -> None:
        try:
            parse_vars(self.vars_edit.toPlainText())
        except ValidationError as exc:
            self.vars_error.setText(str(exc))
            self.vars_error.show()
        else:
            self.vars_error.hide()
            self.vars_error.clear()
        self._update_save()

    def problems(self) -> list[str]:
        found = [f.error() for f in self._fields() if f.error()]
        if not self.name_edit.text().strip():
            found.append("name is empty")
        if not self.address_edit.text().strip():
            found.append("address is empty")
        if self.vars_error.text():
            found.append(self.vars_error.text())
        return found

    def _update_save(self) -> None:
        self.save_button.setEnabled(not self.problems() and not self._saving)

    def _snmp_version(self) -> SnmpVersion:
        return SnmpVersion(self.snmp_version.currentText())

    def _snmp_version_changed(self) -> None:
        self.snmp_credential.set_kinds(SNMP_KINDS[self._snmp_version()])

    # ---- saving -----------------------------------------------------------------------------

    def save(self) -> None:
        if self._saving:
            return
        self.name_edit.revalidate()
        self.address_edit.revalidate()
        if self.problems():
            self._update_save()
            return
        try:
            spec = self.spec()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._set_saving(True)
        spawn(self._save(spec), on_error=self.show_error, name="save target")

    async def _save(self, spec: TargetSpec) -> None:
        stored: Target | None
        try:
            if self.target is None:
                stored = await self.core.inventory.create_target(spec)
            else:
                stored = await self._update(spec, self.target.version)
        finally:
            self._set_saving(False)
        if stored is None:
            return
        self.result_target = stored
        self.saved.emit(stored)
        self.accept()

    async def _update(self, spec: TargetSpec, version: int) -> Target | None:
        assert self.target is not None
        try:
            return await self.core.inventory.update_target(
                self.target.id, spec, expected_version=version
            )
        except ConflictError:
            return await self._resolve_conflict(spec, version)

    async def _resolve_conflict(self, spec: TargetSpec, version: int) -> Target | None:
        assert self.target is not None
        try:
            stored = await self.core.inventory.get_target(self.target.id)
        except NotFoundError:
            self.show_error(
                f"{self.target.name} was deleted elsewhere while you edited it. "
                "Cancel, or add it again as a new target."
            )
            return None
        dialog = ConflictDialog(spec, stored, version, self)
        try:
            await ask(dialog)
            resolution = dialog.resolution
        finally:
            dispose(dialog)
        if resolution is Resolution.OVERWRITE:
            log.info("overwriting target %s (version %s)", stored.name, stored.version)
            self.target = stored
            return await self._update(spec, stored.version)
        if resolution is Resolution.RELOAD:
            self.target = stored
            self._names.add(stored.name)
            self.load(stored.spec)
            self.show_info(
                f"Reloaded version {stored.version} of {stored.name}; your edits were "
                "discarded. Change it again and Save."
            )
        else:
            self.show_error(
                "Not saved: the target changed elsewhere. Save again to compare the "
                "versions, or Cancel."
            )
        return None

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.save_button.setText("Saving…" if saving else "Save")
        self._update_save()

    def show_error(self, error: OpsError | str) -> None:
        """Show a refusal from the services where the operator will look for it."""
        field = getattr(error, "field", None)
        target = {
            "name": self.name_edit,
            "address": self.address_edit,
            "tags": self.tags_edit,
            "parent": self.parent_edit,
        }.get(field or "")
        if isinstance(error, DuplicateError):
            target = self.name_edit
        if target is not None:
            target.set_error(str(error))
        self._banner(str(error), error=True)
        self._update_save()

    def show_info(self, text: str) -> None:
        self._banner(text, error=False)

    def _banner(self, text: str, *, error: bool) -> None:
        style = (
            "background:#fdecea; color:#8a1c13; border:1px solid #e6a19a; padding:6px;"
            if error
            else "background:#e8f4fd; color:#0c3c60; border:1px solid #9cc9ee; padding:6px;"
        )
        self.banner.setStyleSheet(style)
        self.banner.setText(text)
        self.banner.show()


def _editable_combo(items: list[str], name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setEditable(True)
    combo.addItems([i for i in items if i])
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setCurrentText("")
    return combo


def _port_box(default: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(1, 65535)
    box.setValue(default)
    return box
