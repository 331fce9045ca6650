"""The run dialog: pick the targets of a run and see which ones it will really reach.

The picker starts from the job's default selection. ``PREVIEW_DELAY_MS`` after the last
change the services resolve the selection (named targets, group members, rule matches,
disabled ones left out) and the dialog lists the effective targets; a late answer to an
older selection is dropped. Run is enabled only for a selection that resolves to targets.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.jobs import JobDefinition, Selection
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.jobs.models import step_types
from opsconductor_desktop.gui.jobs.selection import SelectionPicker
from opsconductor_desktop.gui.keyed_model import Column, FilterProxy, KeyedTableModel
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core

PREVIEW_DELAY_MS = 250

PREVIEW_COLUMNS: list[Column[Target]] = [
    Column("Target", lambda t: t.name),
    Column("Address", lambda t: t.address),
    Column("Kind", lambda t: str(t.kind)),
    Column("Site", lambda t: t.site),
    Column("Enabled", lambda t: "yes" if t.spec.enabled else "no"),
]


class PreviewModel(KeyedTableModel[Target]):
    """The effective targets of the selection being edited."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(PREVIEW_COLUMNS, lambda t: t.id, parent)


class RunDialog(QDialog):
    """See the module docstring; after Accepted, ``selection`` is what to run on."""

    preview_updated = Signal(int)

    def __init__(
        self,
        core: Core,
        job: JobDefinition,
        targets: Sequence[Target],
        groups: Sequence[Group],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("runDialog")
        self.setWindowTitle(f"Run job {job.name}")
        self.core = core
        self.job = job
        self.selection = job.select
        self.preview_error: str | None = None
        self.resolved = 0
        self._generation = 0
        self._previewed: Selection | None = None
        self.picker = SelectionPicker()
        self.picker.set_choices(targets, groups)
        self.preview_model = PreviewModel(self)
        self.preview_proxy = FilterProxy(self.preview_model, self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.update_preview)
        self._build()
        self.picker.changed.connect(self._selection_changed)
        self.picker.set_selection(job.select)
        self.resize(1080, 680)

    def _build(self) -> None:
        steps = ", ".join(f"{s.name}" for s in self.job.steps)
        about = QLabel(
            f"<b>{_html(self.job.name)}</b> — {len(self.job.steps)} step(s) "
            f"({_html(step_types(self.job))}): {_html(steps)}"
            + (f"<br>{_html(self.job.description)}" if self.job.description else "")
            + f"<br>Concurrency {self.job.concurrency}, on failure: "
            f"{self.job.failure_policy.value}. Targets, groups and rule add up (union)."
        )
        about.setWordWrap(True)
        self.preview_label = QLabel()
        self.preview_label.setObjectName("previewLabel")
        self.preview_label.setWordWrap(True)
        self.preview_view = QTableView()
        self.preview_view.setObjectName("runPreview")
        self.preview_view.setModel(self.preview_proxy)
        self.preview_view.setSortingEnabled(True)
        self.preview_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.preview_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_view.setAlternatingRowColors(True)
        self.preview_view.verticalHeader().hide()
        self.preview_view.verticalHeader().setDefaultSectionSize(
            self.preview_view.fontMetrics().height() + 6
        )
        header = self.preview_view.horizontalHeader()
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name takes the rest
        for column, width in enumerate((0, 95, 70, 55, 60)):
            if width:
                self.preview_view.setColumnWidth(column, width)
        preview = QWidget()
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(self.preview_label)
        preview_layout.addWidget(self.preview_view, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.picker)
        splitter.addWidget(preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([620, 420])
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = self.buttons.addButton("&Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setObjectName("runButton")
        self.run_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)

    # ---- preview ------------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        self.run_button.setEnabled(False)
        self.preview_label.setText("<b>Effective targets</b>: …")
        self._timer.start()

    def update_preview(self) -> None:
        """Resolve the current selection now (the debounce timer calls this)."""
        self._timer.stop()
        selection = self.picker.selection()
        self._generation += 1
        problem = self.picker.error()
        if problem or selection.empty:
            self._show_problem(problem or "Tick targets or groups, or write a rule.")
            return
        generation = self._generation

        def failed(error: OpsError) -> None:
            if generation == self._generation:  # errors of older selections are moot
                self._show_problem(str(error))

        spawn(self._resolve(selection, generation), on_error=failed, name="preview run targets")

    async def preview_now(self) -> int:
        """Resolve the current selection and show it (awaited); the effective target count."""
        self._timer.stop()
        self._generation += 1
        selection = self.picker.selection()
        if self.picker.error() or selection.empty:
            self.update_preview()
            return 0
        await self._resolve(selection, self._generation)
        return self.resolved

    async def _resolve(self, selection: Selection, generation: int) -> None:
        targets = await self.core.jobs.resolve(selection)
        if generation != self._generation:
            return  # the operator changed the selection meanwhile
        self.preview_model.replace(targets)
        self.preview_error = None
        self.resolved = len(targets)
        self._previewed = selection
        if targets:
            self.preview_label.setText(
                f"<b>Effective targets</b>: {len(targets)} — the run reaches these"
            )
        else:
            self.preview_label.setText(
                "<b>Effective targets</b>: <span style='color:#c62828'>none</span> — "
                "the selection matches no enabled target"
            )
        self.run_button.setEnabled(bool(targets))
        self.preview_updated.emit(len(targets))

    def _show_problem(self, text: str) -> None:
        self.preview_error = text
        self.resolved = 0
        self._previewed = None
        self.preview_model.clear()
        self.preview_label.setText(
            f"<b>Effective targets</b>: <span style='color:#c62828'>{_html(text)}</span>"
        )
        self.run_button.setEnabled(False)
        self.preview_updated.emit(-1)

    def accept(self) -> None:
        selection = self.picker.selection()
        if not self.run_button.isEnabled() or selection != self._previewed:
            return
        self.selection = selection
        super().accept()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
