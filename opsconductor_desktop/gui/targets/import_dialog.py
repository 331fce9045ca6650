"""Import an inventory file: preview every row and every error before anything is written.

1. The file is read and parsed (CSV, JSON, Ansible INI/YAML; in a worker thread, so a big
   file does not freeze the console): bad rows are shown with their line and reason.
2. The batch is checked against the database with a dry run of the import service:
   unknown groups, parents and credentials, and targets that differ from the stored ones
   (conflicts, unless "update" is ticked) are added to the preview.
3. Import writes the batch in one transaction, all or nothing — or only the good rows
   when "skip invalid rows" is ticked.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import BusyBar, ask_file
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.importing import ImportReport
from opsconductor_desktop.services.inventory_formats import FORMATS, ImportBatch, parse_inventory

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex


class RowState(Enum):
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"
    PENDING = "checking…"


@dataclass(frozen=True, slots=True)
class PreviewRow:
    line: int
    name: str
    address: str
    kind: str
    site: str
    groups: str
    state: RowState
    message: str = ""


TITLES = ("Line", "Name", "Address", "Kind", "Site", "Groups", "Result")
_ERROR_BG = QColor(253, 236, 234)
_ERROR_FG = QColor(138, 28, 19)


def preview_rows(batch: ImportBatch, report: ImportReport | None) -> list[PreviewRow]:
    """One row per target read and per error line, in file order."""
    errors: dict[int, list[str]] = {}
    for error in batch.errors + (report.errors if report else ()):
        errors.setdefault(error.line, []).append(error.message)
    for key in errors:
        errors[key] = list(dict.fromkeys(errors[key]))
    created = set(report.created) if report else set()
    updated = set(report.updated) if report else set()
    rows: list[PreviewRow] = []
    seen_lines: set[int] = set()
    for row in batch.rows:
        spec = row.spec
        seen_lines.add(row.line)
        if row.line in errors:
            state, message = RowState.ERROR, "; ".join(errors[row.line])
        elif report is None:
            state, message = RowState.PENDING, ""
        elif spec.name in created:
            state, message = RowState.NEW, ""
        elif spec.name in updated:
            state, message = RowState.UPDATE, ""
        else:
            state, message = RowState.UNCHANGED, ""
        rows.append(
            PreviewRow(
                row.line,
                spec.name,
                spec.address,
                str(spec.kind),
                spec.site,
                ", ".join(row.groups),
                state,
                message,
            )
        )
    names = {e.line: e.name for e in batch.errors + (report.errors if report else ())}
    for line, messages in errors.items():
        if line not in seen_lines:
            rows.append(
                PreviewRow(
                    line, names.get(line) or "", "", "", "", "", RowState.ERROR, "; ".join(messages)
                )
            )
    rows.sort(key=lambda r: r.line)
    return rows


class ImportPreviewModel(QAbstractTableModel):
    """The preview table: read-only rows, errors tinted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PreviewRow] = []

    def set_rows(self, rows: list[PreviewRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TITLES)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                str(row.line),
                row.name,
                row.address,
                row.kind,
                row.site,
                row.groups,
                f"error: {row.message}" if row.message else row.state.value,
            )
            return values[column] if column < len(values) else None
        if role == Qt.ItemDataRole.ToolTipRole and row.message:
            return row.message
        if row.state is RowState.ERROR:
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(_ERROR_BG)
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(_ERROR_FG)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(TITLES)
        ):
            return TITLES[section]
        return None

    def count(self, state: RowState) -> int:
        return sum(1 for r in self.rows if r.state is state)


def _read_and_parse(path: str, fmt: str | None) -> ImportBatch:
    text = Path(path).read_text(encoding="utf-8-sig")
    return parse_inventory(text, source=path, format=fmt)


class ImportDialog(QDialog):
    """See the module docstring."""

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import targets")
        self.core = core
        self.batch: ImportBatch | None = None
        self.report: ImportReport | None = None
        self.final_report: ImportReport | None = None
        self._busy = False
        self._generation = 0
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("importFile")
        self.file_edit.setPlaceholderText("CSV, JSON or Ansible inventory (INI/YAML) file")
        self.file_edit.returnPressed.connect(self.load_from_edit)
        browse = QPushButton("Browse…")
        browse.setObjectName("importBrowse")
        browse.setAutoDefault(False)
        browse.clicked.connect(lambda: spawn(self._browse(), name="choose import file"))
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("importFormat")
        self.format_combo.addItem("Detect format", None)
        for fmt in FORMATS:
            self.format_combo.addItem(fmt, fmt)
        self.format_combo.currentIndexChanged.connect(self.load_from_edit)
        self.update_check = QCheckBox("&Update targets that differ from the file")
        self.update_check.setObjectName("updateCheck")
        self.skip_check = QCheckBox("&Skip invalid rows and import the good ones")
        self.skip_check.setObjectName("skipInvalidCheck")
        self.update_check.toggled.connect(self.recheck)
        self.skip_check.toggled.connect(self.recheck)
        self.busy = BusyBar()
        self.summary = QLabel("Choose a file to preview it. Nothing is written until you import.")
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.model = ImportPreviewModel(self)
        self.table = QTableView()
        self.table.setObjectName("importPreview")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((45, 150, 105, 80, 55, 110)):
            self.table.setColumnWidth(column, width)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("importWrite")
        self.import_button.setAutoDefault(False)  # Enter previews; writing takes a click
        self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.clicked.connect(self.write)
        self.buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        file_label = QLabel("&File:")
        file_label.setBuddy(self.file_edit)
        top.addWidget(file_label)
        top.addWidget(self.file_edit, 1)
        top.addWidget(browse)
        top.addWidget(self.format_combo)
        options = QHBoxLayout()
        options.addWidget(self.update_check)
        options.addWidget(self.skip_check)
        options.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(options)
        layout.addWidget(self.summary)
        layout.addWidget(self.busy)
        layout.addWidget(self.table, 1)
        self.detail = QLabel()
        self.detail.setObjectName("importRowDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)
        self.table.selectionModel().currentRowChanged.connect(self._show_row)
        self._update_buttons()
        self.resize(900, 560)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the file field previews the file (it never presses a button)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.file_edit.hasFocus():
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- loading ----------------------------------------------------------------------------

    async def _browse(self) -> None:
        chosen = await ask_file(
            self,
            "Import targets",
            name_filters=(
                "Inventories (*.csv *.json *.ini *.cfg *.yml *.yaml)",
                "All files (*)",
            ),
            directory=str(Path(self.file_edit.text()).parent) if self.file_edit.text() else "",
        )
        if chosen:
            self.file_edit.setText(chosen)
            self.load_from_edit()

    def load_from_edit(self) -> None:
        path = self.file_edit.text().strip()
        if path:
            spawn(self.load_file(path), on_error=self._failed, name="import preview")

    async def load_file(self, path: str) -> None:
        """Read, parse and check ``path`` (the preview); writes nothing."""
        self._generation += 1
        generation = self._generation
        self._set_busy(True, f"Reading {Path(path).name}…")
        try:
            fmt = self.format_combo.currentData()
            batch = await asyncio.to_thread(_read_and_parse, path, fmt)
        except (OSError, UnicodeDecodeError) as exc:
            self._set_busy(False)
            self._show_problem(f"Cannot read {path}: {exc}")
            return
        except ValidationError as exc:
            self._set_busy(False)
            self._show_problem(str(exc))
            return
        if generation == self._generation:
            await self.preview(batch)

    async def preview(self, batch: ImportBatch) -> None:
        """Show ``batch`` and check it against the database (a dry run)."""
        self.batch, self.report = batch, None
        self.model.set_rows(preview_rows(batch, None))
        await self._check()

    def recheck(self) -> None:
        if self.batch is not None:
            spawn(self._check(), on_error=self._failed, name="import check")

    async def _check(self) -> None:
        if self.batch is None:
            return
        batch = self.batch
        self._generation += 1
        generation = self._generation
        self._set_busy(True, f"Checking {len(batch.rows)} rows against the database…")
        try:
            report = await self.core.importer.run(
                batch,
                update=self.update_check.isChecked(),
                skip_invalid=self.skip_check.isChecked(),
                dry_run=True,
            )
        finally:
            self._set_busy(False)
        if generation != self._generation or batch is not self.batch:
            return
        self.report = report
        self.model.set_rows(preview_rows(batch, report))
        self._show_summary()

    # ---- writing ----------------------------------------------------------------------------

    def write(self) -> None:
        if self.batch is not None and self.report is not None and not self._busy:
            spawn(self._write(self.batch), on_error=self._failed, name="import write")

    async def _write(self, batch: ImportBatch) -> None:
        count = len(batch.rows)
        self._set_busy(True, f"Importing {count} rows… (one transaction)")
        try:
            report = await self.core.importer.run(
                batch,
                update=self.update_check.isChecked(),
                skip_invalid=self.skip_check.isChecked(),
            )
        finally:
            self._set_busy(False)
        self.report = report
        self.model.set_rows(preview_rows(batch, report))
        if report.written:
            self.final_report = report
            self.accept()
            return
        self._show_summary()
        self._show_problem(
            "Nothing was written: the database changed since the preview and some rows "
            "are now refused (see the Result column)."
        )

    # ---- state --------------------------------------------------------------------------------

    def _counts(self) -> tuple[int, int, int, int]:
        report = self.report
        if report is None:
            return 0, 0, 0, 0
        return (
            len(report.created),
            len(report.updated),
            len(report.unchanged),
            self.model.count(RowState.ERROR),
        )

    def _show_row(self, current: QModelIndex | None = None, *_: object) -> None:
        """The full message of the current row (else of the first error) under the table."""
        rows = self.model.rows
        row = current.row() if current is not None and current.isValid() else -1
        chosen = rows[row] if 0 <= row < len(rows) else None
        if chosen is None or not chosen.message:
            chosen = next((r for r in rows if r.message), None)
        if chosen is None:
            self.detail.clear()
            return
        name = f" ({chosen.name})" if chosen.name else ""
        self.detail.setText(f"<b>Line {chosen.line}{name}:</b> {escape(chosen.message)}")

    def _show_summary(self) -> None:
        new, update, same, bad = self._counts()
        text = (
            f"<b>{self.model.rowCount()}</b> rows: <b>{new}</b> new, <b>{update}</b> to "
            f"update, {same} unchanged, <b style='color:#c62828'>{bad}</b> with errors."
        )
        if self.report is not None and self.report.groups_created:
            text += f" Creates group(s): {', '.join(self.report.groups_created)}."
        if bad and not self.skip_check.isChecked():
            text += " Fix the errors, or tick “Skip invalid rows” to import the good rows."
        self.summary.setStyleSheet("")
        self.summary.setText(text)
        self._show_row()
        self._update_buttons()

    def _show_problem(self, text: str) -> None:
        self.summary.setStyleSheet("color: #c62828;")
        self.summary.setText(text)
        self._update_buttons()

    def _failed(self, error: OpsError) -> None:
        self._show_problem(str(error))

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        if busy:
            self.busy.start(text)
        else:
            self.busy.stop()
        self._update_buttons()

    def writable(self) -> int:
        """How many targets Import would write now (0: the button is off)."""
        if self.report is None or self._busy:
            return 0
        new, update, _, bad = self._counts()
        if bad and not self.skip_check.isChecked():
            return 0
        return new + update

    def _update_buttons(self) -> None:
        count = self.writable()
        bad = self._counts()[3]
        self.import_button.setEnabled(count > 0)
        if count and bad:
            self.import_button.setText(f"Import {count}, skip {bad} invalid")
        elif count:
            self.import_button.setText(f"Import {count} target(s)")
        else:
            self.import_button.setText("Import")
