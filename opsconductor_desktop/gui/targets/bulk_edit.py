"""Bulk edit: add and remove tags and set enabled on many targets in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.targets import normalize_tags
from opsconductor_desktop.gui.targets.target_dialog import split_words
from opsconductor_desktop.gui.widgets import FieldEdit

LEAVE, ENABLE, DISABLE = "leave", "enable", "disable"


def _tags_problem(text: str) -> str | None:
    normalize_tags(split_words(text))
    return None


class BulkEditDialog(QDialog):
    """What to change on the selected targets; ``changes()`` reads it back."""

    def __init__(
        self,
        names: list[str],
        known_tags: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bulkEditDialog")
        self.setWindowTitle(f"Edit {len(names)} targets")
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        intro = QLabel(f"Change <b>{len(names)}</b> targets: {shown}")
        intro.setWordWrap(True)
        tags = sorted(set(known_tags))
        self.add_tags = FieldEdit(_tags_problem, placeholder="tags to add, comma separated")
        self.add_tags.setObjectName("addTags")
        self.remove_tags = FieldEdit(_tags_problem, placeholder="tags to remove")
        self.remove_tags.setObjectName("removeTags")
        for field in (self.add_tags, self.remove_tags):
            completer = QCompleter(tags, self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            field.edit.setCompleter(completer)
        self.enabled = QComboBox()
        self.enabled.setObjectName("enabledChoice")
        self.enabled.addItem("Leave as they are", LEAVE)
        self.enabled.addItem("Enable all", ENABLE)
        self.enabled.addItem("Disable all", DISABLE)
        form = QFormLayout()
        form.addRow("&Add tags", self.add_tags)
        form.addRow("&Remove tags", self.remove_tags)
        form.addRow("&Enabled", self.enabled)
        self.note = QLabel("All or nothing: if one target cannot be changed, none is.")
        self.note.setStyleSheet("color: palette(mid);")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
        )
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setObjectName("applyBulk")
        self.apply_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        for signal in (
            self.add_tags.edit.textChanged,
            self.remove_tags.edit.textChanged,
            self.enabled.currentIndexChanged,
        ):
            signal.connect(self._update)
        self._update()
        self.setMinimumWidth(520)

    def changes(self) -> tuple[tuple[str, ...], tuple[str, ...], bool | None]:
        """(tags to add, tags to remove, enabled or None to leave it)."""
        add = normalize_tags(split_words(self.add_tags.text()))
        remove = normalize_tags(split_words(self.remove_tags.text()))
        choice = self.enabled.currentData()
        enabled = None if choice == LEAVE else choice == ENABLE
        return add, remove, enabled

    def _update(self) -> None:
        errors = self.add_tags.error() or self.remove_tags.error()
        ok = not errors
        if ok:
            add, remove, enabled = self.changes()
            ok = bool(add or remove or enabled is not None)
        self.apply_button.setEnabled(ok)
