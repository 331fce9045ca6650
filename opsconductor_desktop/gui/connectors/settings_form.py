"""A connector's settings form, generated from its manifest's fields.

Text and URL fields are line edits, ``int`` a spin box, ``bool`` a check box, ``choice``
a combo box. A secret is typed in a password field and never shown back: when one is
stored the field only says so ("set"), and leaving it empty keeps it.

A credential field names stored credentials, so the form offers the ones of the field's
kind instead of making the operator remember names: an editable combo box for one
credential, and for a ``multiple`` field a line edit of comma-separated names with a
"Choose…" menu to tick them. Names typed by hand stay allowed (the service checks them),
and so does a stored value whose credential is gone (it is shown, not dropped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QSpinBox,
    QToolButton,
    QWidget,
)

from opsconductor_desktop.domain.connectors import FieldType, SettingField
from opsconductor_desktop.domain.credentials import Credential
from opsconductor_desktop.gui.monitoring.common import INVALID_STYLE

INT_LIMIT = 2**31 - 1
SEPARATOR = ", "
NO_MENU_ARROW = "QToolButton::menu-indicator { image: none; width: 0px; }"
# where an operator adds credentials: File → Settings… (main_window.py), Credentials tab
CREDENTIALS_PLACE = "File → Settings… → Credentials"


def matching(f: SettingField, credentials: Sequence[Credential]) -> list[Credential]:
    """The stored credentials a credential field can name: those of its kind (any kind
    when the field names none)."""
    kind = f.credential_kind
    return [c for c in credentials if kind is None or c.kind.value == kind]


def none_stored_text(f: SettingField) -> str:
    """The placeholder of a credential field with nothing to offer: says where to add one
    (short enough to show whole in the connector dialog)."""
    kind = f"{f.credential_kind} " if f.credential_kind else ""
    return f"no {kind}credentials: add one in {CREDENTIALS_PLACE}"


def credential_label(c: Credential) -> str:
    """A credential in a menu: its name and, to tell similar ones apart, its user name."""
    return f"{c.name}  ({c.username})" if c.username else c.name


class _StayOpenMenu(QMenu):
    """A menu whose checkable items toggle without closing it, so that several
    credentials are ticked in one go (Return and Escape still close it)."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.actionAt(event.position().toPoint())
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)


class CredentialsEdit(QWidget):
    """Several stored credentials by name: typed comma-separated, or ticked in a menu.

    The text is the value (as the CLI takes it); the menu's checks are read from the text
    each time it opens and ticking an item adds or removes that name, keeping the order
    of the others.
    """

    def __init__(
        self, f: SettingField, credentials: Sequence[Credential], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"setting_{f.name}")
        self.line = QLineEdit()
        self.line.setObjectName(f"setting_{f.name}_names")
        self.line.setClearButtonEnabled(True)
        self.line.setToolTip(f.help)
        self.menu = _StayOpenMenu(self)
        self.menu.setObjectName(f"setting_{f.name}_menu")
        self.menu.aboutToShow.connect(self.sync_checks)
        self.button = QToolButton()
        self.button.setObjectName(f"setting_{f.name}_choose")
        self.button.setText("Choose…")
        self.button.setMenu(self.menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # the corner arrow would be drawn over the text ("…" already says a menu follows)
        self.button.setStyleSheet(NO_MENU_ARROW)
        self._fill(f, matching(f, credentials))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.button)
        self.setFocusProxy(self.line)

    def _fill(self, f: SettingField, offered: Sequence[Credential]) -> None:
        for cred in offered:
            action = QAction(credential_label(cred), self.menu)
            action.setCheckable(True)
            action.setData(cred.name)
            action.triggered.connect(lambda checked, name=cred.name: self.pick(name, checked))
            self.menu.addAction(action)
        if offered:
            self.line.setPlaceholderText("comma-separated names, or Choose…")
            self.button.setToolTip(f"Tick the stored credentials to name ({f.title})")
        else:
            self.line.setPlaceholderText(none_stored_text(f))
            self.button.setToolTip(none_stored_text(f))
            self.button.setEnabled(False)

    def names(self) -> list[str]:
        return SettingField.names(self.line.text())

    def text(self) -> str:
        return self.line.text()

    def set_names(self, value: Any) -> None:
        """Show a stored value (text or a list) as ``a, b``."""
        self.line.setText(SEPARATOR.join(SettingField.names(value)))

    def actions_by_name(self) -> dict[str, QAction]:
        return {str(a.data()): a for a in self.menu.actions()}

    def sync_checks(self) -> None:
        """Tick the menu's items the text names (it may have been typed since)."""
        named = set(self.names())
        for name, action in self.actions_by_name().items():
            action.setChecked(name in named)

    def pick(self, name: str, checked: bool) -> None:
        """Add (at the end) or remove one name; the others keep their order."""
        names = [n for n in self.names() if n != name]
        if checked:
            names.append(name)
        self.line.setText(SEPARATOR.join(names))


def _credential_combo(f: SettingField, credentials: Sequence[Credential]) -> QComboBox:
    """One stored credential: the matching names to choose from, or one typed."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    offered = matching(f, credentials)
    combo.addItem("")
    for cred in offered:
        combo.addItem(cred.name)
    line = combo.lineEdit()
    assert line is not None  # an editable combo box has one
    line.setClearButtonEnabled(True)
    line.setPlaceholderText("a stored credential's name" if offered else none_stored_text(f))
    return combo


def _editor(f: SettingField, secret_set: bool, credentials: Sequence[Credential]) -> QWidget:
    if f.type is FieldType.INT:
        spin = QSpinBox()
        spin.setRange(
            f.minimum if f.minimum is not None else -INT_LIMIT,
            f.maximum if f.maximum is not None else INT_LIMIT,
        )
        return spin
    if f.type is FieldType.BOOL:
        return QCheckBox()
    if f.type is FieldType.CHOICE:
        combo = QComboBox()
        combo.addItems(list(f.choices))
        return combo
    if f.type is FieldType.CREDENTIAL:
        if f.multiple:
            return CredentialsEdit(f, credentials)
        return _credential_combo(f, credentials)
    edit = QLineEdit()
    edit.setClearButtonEnabled(True)
    if f.type is FieldType.SECRET:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setPlaceholderText("set (type to replace)" if secret_set else "not set")
    elif f.default is not None:
        edit.setPlaceholderText(str(f.default))
    return edit


class SettingsForm(QWidget):
    """Editors for ``fields``, filled from ``values`` (a connector's public settings).

    ``credentials`` are the stored ones (metadata only) that credential fields offer.
    """

    def __init__(
        self,
        fields: Sequence[SettingField],
        values: Mapping[str, Any] | None = None,
        secrets_set: Sequence[str] = (),
        parent: QWidget | None = None,
        *,
        credentials: Sequence[Credential] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsForm")
        self.fields = tuple(fields)
        self.initial = {f.name: (values or {}).get(f.name, f.default) for f in self.fields}
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for f in self.fields:
            editor = _editor(f, f.name in secrets_set, credentials)
            editor.setObjectName(f"setting_{f.name}")
            editor.setToolTip(f.help)
            self._load(editor, self.initial[f.name])
            self.editors[f.name] = editor
            layout.addRow(f.title + (" *" if f.required else ""), editor)

    @staticmethod
    def _load(editor: QWidget, value: Any) -> None:
        if value is None:
            return
        if isinstance(editor, CredentialsEdit):
            editor.set_names(value)
        elif isinstance(editor, QSpinBox) and isinstance(value, int):
            editor.setValue(value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            index = editor.findText(str(value))
            if index >= 0:
                editor.setCurrentIndex(index)
            else:  # an editable combo shows a name it does not list (a deleted credential)
                editor.setCurrentText(str(value))
        elif isinstance(editor, QLineEdit) and editor.echoMode() != QLineEdit.EchoMode.Password:
            editor.setText(str(value))

    def value_of(self, name: str) -> Any:
        editor = self.editors[name]
        if isinstance(editor, QSpinBox):
            return editor.value()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        assert isinstance(editor, QLineEdit | CredentialsEdit)
        return editor.text()

    def values(self) -> dict[str, Any]:
        """Every field with a value (for a new connector); an empty secret is left out."""
        out = {f.name: self.value_of(f.name) for f in self.fields}
        return {k: v for k, v in out.items() if v != ""}

    def changes(self) -> dict[str, Any]:
        """What the operator changed (for ``set``): a cleared text field is ``""`` (its
        default applies again); an empty secret field keeps the stored secret."""
        out: dict[str, Any] = {}
        for f in self.fields:
            value = self.value_of(f.name)
            if f.secret:
                if value:
                    out[f.name] = value
                continue
            before = self.initial[f.name]
            if f.multiple and SettingField.names(value) == SettingField.names(before or ""):
                continue  # "a,b" for "a, b" is no change
            if value != ("" if before is None else before):
                out[f.name] = value
        return out

    def mark_invalid(self, name: str | None) -> None:
        """Frame the editor of the field an error names (and only that one)."""
        for field_name, editor in self.editors.items():
            framed = editor.line if isinstance(editor, CredentialsEdit) else editor
            framed.setStyleSheet(INVALID_STYLE if field_name == name else "")
            if field_name == name:
                editor.setFocus()  # a CredentialsEdit passes it to its line edit


def field_of_error(message: str, field: str | None, names: Sequence[str]) -> str | None:
    """The setting an error is about: its ``field``, else the ``name:`` it starts with."""
    candidates = [field or "", message.split(":", 1)[0].strip()]
    for candidate in candidates:
        last = candidate.rsplit(".", 1)[-1]
        if last in names:
            return last
    return None
