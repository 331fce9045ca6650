"""A connector's settings form, generated from its manifest's fields.

Text, URL and credential fields are line edits, ``int`` a spin box, ``bool`` a check box,
``choice`` a combo box. A secret is typed in a password field and never shown back: when
one is stored the field only says so ("set"), and leaving it empty keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from opsconductor_desktop.domain.connectors import FieldType, SettingField
from opsconductor_desktop.gui.monitoring.common import INVALID_STYLE

INT_LIMIT = 2**31 - 1


def _editor(f: SettingField, secret_set: bool) -> QWidget:
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
    edit = QLineEdit()
    edit.setClearButtonEnabled(True)
    if f.type is FieldType.SECRET:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setPlaceholderText("set (type to replace)" if secret_set else "not set")
    elif f.type is FieldType.CREDENTIAL:
        edit.setPlaceholderText("name of a stored credential")
    elif f.default is not None:
        edit.setPlaceholderText(str(f.default))
    return edit


class SettingsForm(QWidget):
    """Editors for ``fields``, filled from ``values`` (a connector's public settings)."""

    def __init__(
        self,
        fields: Sequence[SettingField],
        values: Mapping[str, Any] | None = None,
        secrets_set: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsForm")
        self.fields = tuple(fields)
        self.initial = {f.name: (values or {}).get(f.name, f.default) for f in self.fields}
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for f in self.fields:
            editor = _editor(f, f.name in secrets_set)
            editor.setObjectName(f"setting_{f.name}")
            editor.setToolTip(f.help)
            self._load(editor, self.initial[f.name])
            self.editors[f.name] = editor
            layout.addRow(f.title + (" *" if f.required else ""), editor)

    @staticmethod
    def _load(editor: QWidget, value: Any) -> None:
        if value is None:
            return
        if isinstance(editor, QSpinBox) and isinstance(value, int):
            editor.setValue(value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
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
        assert isinstance(editor, QLineEdit)
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
            if value != ("" if before is None else before):
                out[f.name] = value
        return out

    def mark_invalid(self, name: str | None) -> None:
        """Frame the editor of the field an error names (and only that one)."""
        for field_name, editor in self.editors.items():
            editor.setStyleSheet(INVALID_STYLE if field_name == name else "")
            if field_name == name:
                editor.setFocus()


def field_of_error(message: str, field: str | None, names: Sequence[str]) -> str | None:
    """The setting an error is about: its ``field``, else the ``name:`` it starts with."""
    candidates = [field or "", message.split(":", 1)[0].strip()]
    for candidate in candidates:
        last = candidate.rsplit(".", 1)[-1]
        if last in names:
            return last
    return None
