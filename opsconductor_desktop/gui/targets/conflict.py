"""A save that met a newer version: both versions side by side, field by field.

The operator chooses to reload the stored version (their edits are discarded, knowingly),
to overwrite it with theirs, or to go back to editing. Nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.targets import Target, TargetSpec, spec_differences


class Resolution(Enum):
    RELOAD = "reload"
    OVERWRITE = "overwrite"
    KEEP_EDITING = "keep-editing"


def _snmp(spec: TargetSpec) -> str:
    if spec.snmp.version is None:
        return "none"
    cred = f", credential {spec.snmp.credential}" if spec.snmp.credential else ""
    return f"{spec.snmp.version} port {spec.snmp.port}{cred}"


def _ssh(spec: TargetSpec) -> str:
    user = f"{spec.ssh.username}@" if spec.ssh.username else ""
    cred = f", credential {spec.ssh.credential}" if spec.ssh.credential else ""
    return f"{user}port {spec.ssh.port}{cred}"


FIELD_TEXT: tuple[tuple[str, str, Callable[[TargetSpec], str]], ...] = (
    ("name", "Name", lambda s: s.name),
    ("address", "Address", lambda s: s.address),
    ("kind", "Kind", lambda s: str(s.kind)),
    ("vendor", "Vendor", lambda s: s.vendor),
    ("model", "Model", lambda s: s.model),
    ("site", "Site", lambda s: s.site),
    ("description", "Description", lambda s: s.description),
    ("tags", "Tags", lambda s: ", ".join(s.tags)),
    ("enabled", "Enabled", lambda s: "yes" if s.enabled else "no"),
    ("parent", "Parent", lambda s: s.parent or ""),
    ("snmp", "SNMP", _snmp),
    ("ssh", "SSH", _ssh),
    ("vars", "Variables", lambda s: ", ".join(f"{k}={v}" for k, v in sorted(s.vars.items()))),
)


class ConflictDialog(QDialog):
    """Yours versus stored; see the module docstring."""

    def __init__(
        self, yours: TargetSpec, stored: Target, edited_version: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conflictDialog")
        self.setWindowTitle("Target changed elsewhere")
        self.resolution = Resolution.KEEP_EDITING
        self.differences = spec_differences(stored.spec, yours)
        intro = QLabel(
            f"<b>{stored.name}</b> was changed elsewhere (by another console or the "
            f"command line) after you opened it: you edited version {edited_version}, "
            f"the database now holds version {stored.version}.<br>"
            f"{len(self.differences)} field(s) differ between your version and the stored "
            "one; they are highlighted."
        )
        intro.setWordWrap(True)
        self.table = self._table(yours, stored.spec)
        buttons = QHBoxLayout()
        self.reload_button = QPushButton("&Reload stored version")
        self.reload_button.setObjectName("conflictReload")
        self.reload_button.setToolTip("Discard your changes and edit the stored version")
        self.overwrite_button = QPushButton("&Overwrite with mine")
        self.overwrite_button.setObjectName("conflictOverwrite")
        self.overwrite_button.setToolTip("Save your version over the stored one")
        keep = QPushButton("&Keep editing")
        keep.setObjectName("conflictKeepEditing")
        keep.setDefault(True)
        buttons.addWidget(self.reload_button)
        buttons.addWidget(self.overwrite_button)
        buttons.addStretch(1)
        buttons.addWidget(keep)
        self.reload_button.clicked.connect(lambda: self._resolve(Resolution.RELOAD))
        self.overwrite_button.clicked.connect(lambda: self._resolve(Resolution.OVERWRITE))
        keep.clicked.connect(lambda: self._resolve(Resolution.KEEP_EDITING))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(780, 520)

    def _table(self, yours: TargetSpec, stored: TargetSpec) -> QTableWidget:
        table = QTableWidget(len(FIELD_TEXT), 3)
        table.setObjectName("conflictTable")
        table.setHorizontalHeaderLabels(["Field", "Your version", "Stored version"])
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        highlight = QBrush(QColor(255, 236, 179))
        dark = QBrush(QColor(40, 30, 0))
        for row, (key, title, text) in enumerate(FIELD_TEXT):
            cells = [
                QTableWidgetItem(title),
                QTableWidgetItem(text(yours)),
                QTableWidgetItem(text(stored)),
            ]
            differs = key in self.differences
            for column, item in enumerate(cells):
                item.setToolTip(item.text())
                if differs:
                    item.setBackground(highlight)
                    item.setForeground(dark)
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(row, column, item)
        table.setAlternatingRowColors(False)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        return table

    def _resolve(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.accept()

    def reject(self) -> None:
        self.resolution = Resolution.KEEP_EDITING
        super().reject()
