"""Importing a monitoring YAML file: preview what changes, then apply.

The file is validated as the CLI's ``monitors import`` does (``services.monitoring.
load_documents``): the first problem is shown with the file, line and field, and nothing
can be applied until the file is fixed. A valid file is previewed item by item — monitor
or rule *created*, *updated* or *unchanged*, silence *added* — with a tick box per
section. Applying saves monitors and rules one by one (each its own transaction, as the
CLI does) and adds the silences through the alert service.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.jobs.common import local_time
from opsconductor_desktop.gui.monitoring.common import ERROR_STYLE, OK_STYLE, plain
from opsconductor_desktop.gui.monitoring.models import condition_text
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import alive, ask_file
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import (
    MAX_FILE_BYTES,
    Documents,
    load_documents,
)

FILES = ("Monitoring files (*.yaml *.yml)", "All files (*)")
OUTCOME_COLOURS = {
    "create": "#2e7d32",
    "update": "#1565c0",
    "unchanged": "#8a93a0",
    "add": "#2e7d32",
}


def outcome(existing: Any, source: Any, name: str) -> str:
    """What saving a parsed definition would do to the stored one (None if none)."""
    if existing is None:
        return "create"
    doc = plain(source)
    doc.setdefault("name", name)
    return "unchanged" if plain(existing) == doc else "update"


def _read(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationError(f"{path}: {size:,} bytes is too large for a monitoring file")
    return path.read_text(encoding="utf-8")


class ImportDialog(QDialog):
    """See the module docstring. After Accepted: ``report`` of (what, name, outcome)."""

    def __init__(self, core: Core, *, bare: str = "monitors", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("monitoringImport")
        self.setWindowTitle("Import monitors, rules and silences")
        self.core = core
        self.bare = bare
        self.docs: Documents | None = None
        self.rows: list[tuple[str, str, str, str]] = []
        self.report: list[tuple[str, str, str]] = []
        self.busy = False
        self._build()
        self.resize(860, 560)

    def _build(self) -> None:
        self.messages = MessageBar()
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("importFile")
        self.file_edit.setPlaceholderText("a YAML file with monitors:, rules: and/or silences:")
        self.file_edit.returnPressed.connect(lambda: self.open_file(self.file_edit.text()))
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(QLabel("File:"))
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        self.problem = QLabel()
        self.problem.setObjectName("importProblem")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("importPreview")
        self.table.setHorizontalHeaderLabels(["Section", "Name", "Will be", "Details"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((90, 190, 100)):
            self.table.setColumnWidth(column, width)
        self.sections: dict[str, QCheckBox] = {}
        ticks = QHBoxLayout()
        ticks.addWidget(QLabel("Import:"))
        for section in ("monitors", "rules", "silences"):
            box = QCheckBox(section)
            box.setObjectName(f"import_{section}")
            box.setChecked(True)
            box.setEnabled(False)
            box.toggled.connect(self._update_button)
            self.sections[section] = box
            ticks.addWidget(box)
        ticks.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.addButton(
            "&Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setObjectName("applyImport")
        self.apply_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.table, 1)
        layout.addLayout(ticks)
        layout.addWidget(self.buttons)

    # ---- loading ------------------------------------------------------------------------

    def browse(self) -> None:
        spawn(self._browse(), on_error=self._failed, name="choose monitoring file")

    async def _browse(self) -> None:
        path = await ask_file(self, "Import a monitoring file", name_filters=FILES)
        if path and alive(self):
            self.file_edit.setText(path)
            await self.load_file(path)

    def open_file(self, path: str) -> None:
        if path.strip():
            spawn(self.load_file(path.strip()), on_error=self._failed, name="read monitoring file")

    async def load_file(self, path: str) -> bool:
        """Validate the file and show the preview; False (and the problem) if it is invalid."""
        self.docs, self.rows = None, []
        try:
            text = await asyncio.to_thread(_read, Path(path))
            docs = load_documents(text, path, bare=self.bare)
        except (OSError, UnicodeDecodeError) as exc:
            self._show_problem(f"{path}: cannot read the file ({exc})")
            return False
        except ValidationError as exc:
            self._show_problem(str(exc))
            return False
        monitors = {m.name: m.monitor.source for m in await self.core.monitoring.monitors()}
        rules = {r.name: r.rule.source for r in await self.core.monitoring.rules()}
        if not alive(self):
            return False
        rows = [
            ("monitors", m.name, outcome(monitors.get(m.name), m.source, m.name), m.kind.value)
            for m in docs.monitors
        ]
        rows += [
            ("rules", r.name, outcome(rules.get(r.name), r.source, r.name), _rule_detail(r))
            for r in docs.rules
        ]
        rows += [
            ("silences", s.matchers.describe(), "add", _silence_detail(s)) for s in docs.silences
        ]
        self.docs, self.rows = docs, rows
        self._show_rows()
        return True

    def _show_problem(self, text: str) -> None:
        self.problem.setText(f"✖ {text}")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.table.setRowCount(0)
        for box in self.sections.values():
            box.setEnabled(False)
        self._update_button()

    def _show_rows(self) -> None:
        self.table.setRowCount(len(self.rows))
        for row, values in enumerate(self.rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if column == 2:
                    item.setForeground(QBrush(QColor(OUTCOME_COLOURS[value])))
                self.table.setItem(row, column, item)
        counts = {s: sum(1 for r in self.rows if r[0] == s) for s in self.sections}
        for section, box in self.sections.items():
            box.setText(f"{section} ({counts[section]})")
            box.setEnabled(counts[section] > 0)
        changes = sum(1 for r in self.rows if r[2] != "unchanged")
        self.problem.setText(
            f"✔ {len(self.rows)} item(s), {changes} to change; untick a section to leave it out."
        )
        self.problem.setStyleSheet(OK_STYLE)
        self._update_button()

    def chosen(self) -> list[str]:
        return [s for s, box in self.sections.items() if box.isChecked() and box.isEnabled()]

    def _update_button(self) -> None:
        self.apply_button.setEnabled(
            self.docs is not None and bool(self.chosen()) and not self.busy
        )

    # ---- applying -----------------------------------------------------------------------

    def accept(self) -> None:
        if self.docs is None or self.busy or not self.chosen():
            return
        self.busy = True
        self._update_button()
        spawn(
            self._apply(self.docs, self.chosen()), on_error=self._failed, name="import monitoring"
        )

    async def _apply(self, docs: Documents, sections: list[str]) -> None:
        try:
            report = await self.core.monitoring.import_documents(
                docs, [s for s in sections if s != "silences"]
            )
            if "silences" in sections:
                for spec in docs.silences:
                    await self.core.alerts.add_silence(
                        spec.matchers,
                        starts_at=spec.starts_at,
                        ends_at=spec.ends_at,
                        weekly=spec.weekly,
                        comment=spec.comment,
                    )
                    report.append(("silence", spec.matchers.describe(), "added"))
        finally:
            self.busy = False
            if alive(self):
                self._update_button()
        self.report = report
        super().accept()

    def _failed(self, error: OpsError) -> None:
        if alive(self):
            self.messages.show_error(error)


def _rule_detail(rule: Any) -> str:
    return f"{condition_text(rule)} → {rule.severity.label}"


def _silence_detail(spec: Any) -> str:
    start = local_time(spec.starts_at, seconds=False) if spec.starts_at else "now"
    return f"{start} – {local_time(spec.ends_at, seconds=False)}: {spec.comment}"
