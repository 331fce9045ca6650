"""The Jobs pane: job definitions, run history and the live run view.

Left: the jobs (filter, new, edit, delete, import, run) above the run history (newest
first, ``RUN_PAGE`` at a time, "Load more"). Right: the run view of the run selected in
the history or just started. Reloads (after job and run events, and inventory changes
that alter what a selection reaches) update the models in place, keeping selections.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from PySide6.QtCore import QByteArray, QItemSelection, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.events import Entity
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.jobs.editor import JobEditorDialog
from opsconductor_desktop.gui.jobs.models import JobsModel, RunsModel
from opsconductor_desktop.gui.jobs.run_dialog import RunDialog
from opsconductor_desktop.gui.jobs.run_view import RunView
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, FilterProxy
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import ask, ask_file, confirm
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.jobs import JobInfo, RunHandle, RunInfo, load_job_document

RUN_PAGE = 50
JOB_FILES = ("Job files (*.yaml *.yml *.json)", "All files (*)")


def _table(name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setHighlightSections(False)
    return view


class JobsPane(Pane):
    """See the module docstring."""

    title = "Jobs"
    object_name = "jobsPane"
    concerns = frozenset({Entity.JOB, Entity.JOB_RUN, Entity.TARGET, Entity.GROUP})

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.loaded = False
        self.run_limit = RUN_PAGE
        self.more_runs = False
        self.dialog: QDialog | None = None
        self._select_run: uuid.UUID | None = None
        self.jobs_model = JobsModel(self)
        self.jobs_proxy = FilterProxy(self.jobs_model, self)
        self.runs_model = RunsModel(self)
        self.runs_proxy = FilterProxy(self.runs_model, self)
        self.messages = MessageBar()
        self.run_view = RunView(core, self.steps_of)
        self._build_actions()
        self._build()
        self._connect()
        self._update_actions()

    # ---- building ---------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        slot: object,
        keys: tuple[QKeySequence | QKeySequence.StandardKey | str, ...] = (),
        icon: QStyle.StandardPixmap | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setToolTip(tip or text)
        action.setStatusTip(tip or text)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.new_action = self._action(
            "&New job…", self.new_job, ("Ctrl+N",), sp.SP_FileDialogNewFolder, "New job (Ctrl+N)"
        )
        self.edit_action = self._action(
            "&Edit job…",
            self.edit_job,
            ("Return", "Enter"),
            sp.SP_FileDialogDetailedView,
            "Edit the selected job (Enter)",
        )
        self.delete_action = self._action(
            "&Delete job…",
            self.delete_job,
            (QKeySequence.StandardKey.Delete,),
            sp.SP_TrashIcon,
            "Delete the selected job (Delete)",
        )
        self.import_action = self._action(
            "&Import job file…",
            self.import_job,
            (),
            sp.SP_DialogOpenButton,
            "Import a job from a YAML or JSON file",
        )
        self.run_action = self._action(
            "&Run…", self.run_job, ("Ctrl+R",), sp.SP_MediaPlay, "Run the selected job (Ctrl+R)"
        )
        self.refresh_action = self._action(
            "Re&fresh",
            self.schedule_reload_now,
            (QKeySequence.StandardKey.Refresh,),
            sp.SP_BrowserReload,
            "Reload jobs and runs (F5)",
        )
        for action in (self.new_action, self.import_action, self.run_action, self.refresh_action):
            self.addAction(action)

    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("jobsFilter")
        self.filter_edit.setPlaceholderText("Filter jobs…")
        self.filter_edit.setClearButtonEnabled(True)
        self.jobs_view = _table("jobsTable")
        self.jobs_view.setModel(self.jobs_proxy)
        self.jobs_view.sortByColumn(JobsModel.NAME, Qt.SortOrder.AscendingOrder)
        self.jobs_view.setColumnWidth(JobsModel.NAME, 170)
        self.jobs_view.setColumnWidth(JobsModel.STEPS, 50)
        # Enter and Delete act on the job list only (Delete in a filter box edits text)
        self.jobs_view.addAction(self.edit_action)
        self.jobs_view.addAction(self.delete_action)
        self.empty_label = QLabel(self.jobs_view.viewport())
        self.empty_label.setObjectName("emptyHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); font-size: 11pt;")
        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        for action, label in (
            (self.new_action, "New"),
            (self.edit_action, "Edit"),
            (self.delete_action, "Delete"),
            (self.import_action, "Import…"),
            (self.run_action, "Run…"),
        ):
            action.setIconText(label)  # the short text the buttons and the toolbar show
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            tools.addWidget(button)
        jobs_box = QWidget()
        jobs_layout = QVBoxLayout(jobs_box)
        jobs_layout.setContentsMargins(0, 0, 0, 0)
        jobs_layout.addWidget(QLabel("<b>Jobs</b>"))
        jobs_layout.addLayout(tools)
        jobs_layout.addWidget(self.jobs_view, 1)
        self.runs_view = _table("runsTable")
        self.runs_view.setModel(self.runs_proxy)
        self.runs_view.sortByColumn(RunsModel.STARTED, Qt.SortOrder.DescendingOrder)
        for column, width in enumerate((105, 82, 142, 62, 48)):
            self.runs_view.setColumnWidth(column, width)
        self.only_job = QCheckBox("Selected job only")
        self.only_job.setObjectName("onlySelectedJob")
        self.more_button = QPushButton("Load more")
        self.more_button.setObjectName("loadMoreRuns")
        self.more_button.setToolTip(f"Show {RUN_PAGE} older runs")
        self.runs_label = QLabel("<b>Run history</b>")
        history_head = QHBoxLayout()
        history_head.addWidget(self.runs_label)
        history_head.addStretch(1)
        history_head.addWidget(self.only_job)
        history_box = QWidget()
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addLayout(history_head)
        history_layout.addWidget(self.runs_view, 1)
        history_layout.addWidget(self.more_button)
        self.left_splitter = QSplitter(Qt.Orientation.Vertical)
        self.left_splitter.addWidget(jobs_box)
        self.left_splitter.addWidget(history_box)
        self.left_splitter.setChildrenCollapsible(False)
        self.left_splitter.setSizes([330, 420])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("jobsSplitter")
        self.splitter.addWidget(self.left_splitter)
        self.splitter.addWidget(self.run_view)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([540, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self.jobs_proxy.setFilterFixedString)
        self.filter_edit.textChanged.connect(self._update_empty)
        self.jobs_view.doubleClicked.connect(lambda _i: self.edit_job())
        self.jobs_view.selectionModel().selectionChanged.connect(self._job_selected)
        self.runs_view.selectionModel().selectionChanged.connect(self._run_selected)
        self.only_job.toggled.connect(lambda _on: self.schedule_reload_now())
        self.more_button.clicked.connect(self.load_more)
        self.run_view.status_message.connect(self.status_message)
        self.run_view.rerun_started.connect(self._started)

    def pane_actions(self) -> list[QAction]:
        # The pane has its own buttons for these; the toolbar keeps only Refresh.
        for action in (
            self.new_action,
            self.edit_action,
            self.delete_action,
            self.import_action,
            self.run_action,
        ):
            action.setProperty("toolbar", False)
        return [
            self.new_action,
            self.edit_action,
            self.delete_action,
            self.import_action,
            self.run_action,
            self.refresh_action,
        ]

    # ---- loading ----------------------------------------------------------------------------

    async def reload(self) -> None:
        self.busy_changed.emit(True, "Loading jobs…")
        try:
            jobs = await self.core.jobs.definitions()
            job = self.selected_job() if self.only_job.isChecked() else None
            runs = await self.core.jobs.runs(limit=self.run_limit, job=job.name if job else None)
        finally:
            self.busy_changed.emit(False, "")
        self.jobs_model.replace(jobs)
        self.runs_model.replace(runs)
        self.more_runs = len(runs) >= self.run_limit
        self.more_button.setVisible(self.more_runs)
        scope = f" of {job.name}" if job else ""
        self.runs_label.setText(f"<b>Run history</b>{scope} — {len(runs)} shown")
        if not self.loaded and self.jobs_proxy.rowCount():
            self.jobs_view.selectRow(0)
        self.loaded = True
        shown = self.run_view.run_id
        for run in runs:
            if run.id == shown:
                self.run_view.note_run(run)
        if self._select_run is not None and self.select_run(self._select_run):
            self._select_run = None
        self._update_empty()
        self._update_actions()

    def activated(self) -> None:
        if not self.loaded and not self.is_reloading():
            self.schedule_reload_now()
        self.jobs_view.setFocus()

    def load_more(self) -> None:
        self.run_limit += RUN_PAGE
        self.schedule_reload_now()

    def steps_of(self, job_name: str) -> list[str]:
        """The step names of a job (for the live view's "step" column)."""
        for job in self.jobs_model.items():
            if job.name == job_name:
                return [s.name for s in job.definition.steps]
        return []

    def _update_empty(self) -> None:
        if self.jobs_proxy.rowCount():
            self.empty_label.hide()
            return
        if self.jobs_model.rowCount():
            text = f"No job matches “{self.filter_edit.text().strip()}”."
        elif self.loaded:
            text = "No jobs yet.\nCreate one (Ctrl+N) or import a YAML/JSON file."
        else:
            text = "Loading jobs…"
        self.empty_label.setText(text)
        self.empty_label.resize(self.jobs_view.viewport().size())
        self.empty_label.show()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.empty_label.resize(self.jobs_view.viewport().size())

    # ---- selection --------------------------------------------------------------------------

    def selected_job(self) -> JobInfo | None:
        rows = self.jobs_view.selectionModel().selectedRows()
        job = rows[0].data(ITEM_ROLE) if rows else None
        return job if isinstance(job, JobInfo) else None

    def select_job(self, name: str) -> bool:
        for row in range(self.jobs_proxy.rowCount()):
            index = self.jobs_proxy.index(row, JobsModel.NAME)
            if index.data() == name:
                self.jobs_view.selectRow(row)
                self.jobs_view.scrollTo(index)
                return True
        return False

    def selected_run(self) -> RunInfo | None:
        rows = self.runs_view.selectionModel().selectedRows()
        run = rows[0].data(ITEM_ROLE) if rows else None
        return run if isinstance(run, RunInfo) else None

    def select_run(self, run_id: uuid.UUID) -> bool:
        row = self.runs_model.row_of(run_id)
        if row is None:
            return False
        index = self.runs_proxy.mapFromSource(self.runs_model.index(row, 0))
        if not index.isValid():
            return False
        self.runs_view.selectRow(index.row())
        self.runs_view.scrollTo(index)
        return True

    def _job_selected(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self._update_actions()
        if self.only_job.isChecked():
            self.schedule_reload()

    def _run_selected(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        run = self.selected_run()
        if run is None:
            return
        if run.id == self.run_view.run_id:
            self.run_view.note_run(run)
        else:
            self.run_view.show_run(run)

    def _update_actions(self) -> None:
        has = self.selected_job() is not None
        for action in (self.edit_action, self.delete_action, self.run_action):
            action.setEnabled(has)

    # ---- jobs -------------------------------------------------------------------------------

    def show_error(self, error: OpsError | str) -> None:
        self.messages.show_error(error)

    def new_job(self) -> None:
        spawn(self._edit(None), on_error=self.show_error, name="new job")

    def edit_job(self) -> None:
        job = self.selected_job()
        if job is not None:
            spawn(self._edit(job), on_error=self.show_error, name="edit job")

    async def _edit(self, job: JobInfo | None) -> JobInfo | None:
        targets = await self.core.inventory.list_targets()
        groups = await self.core.inventory.list_groups()
        dialog = JobEditorDialog(
            self.core,
            job,
            names=self.jobs_model.names(),
            targets=targets,
            groups=groups,
            parent=self,
        )
        self.dialog = dialog
        try:
            code = await ask(dialog)
            saved, outcome = dialog.result_info, dialog.outcome
        finally:
            self.dialog = None
            dialog.deleteLater()
        if code != QDialog.DialogCode.Accepted or saved is None:
            return None
        await self.reload()
        self.select_job(saved.name)
        self.status_message.emit(f"Job {saved.name} {outcome}", 5000)
        return saved

    def delete_job(self) -> None:
        job = self.selected_job()
        if job is not None:
            spawn(self._delete(job), on_error=self.show_error, name="delete job")

    async def _delete(self, job: JobInfo) -> bool:
        question = f"Delete job {job.name}?"
        detail = "Its past runs stay in the history."
        if not await confirm(self, "Delete job", question, action="Delete", detail=detail):
            return False
        await self.core.jobs.delete(job.name)
        await self.reload()
        self.status_message.emit(f"Deleted job {job.name}", 5000)
        return True

    def import_job(self) -> None:
        spawn(self.import_file(None), on_error=self.show_error, name="import job")

    async def import_file(self, path: str | None) -> JobInfo | None:
        """Import a YAML/JSON job file (asks which when ``path`` is None)."""
        if path is None:
            path = await ask_file(self, "Import a job", name_filters=JOB_FILES)
        if not path:
            return None
        try:
            text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{path}: cannot read the file ({exc})") from None
        definition = load_job_document(text, source=path)
        if definition.name in self.jobs_model.names():
            replace = await confirm(
                self,
                "Import job",
                f"Replace job {definition.name}?",
                action="Replace",
                detail=f"A job named {definition.name} exists; the file's definition replaces it.",
            )
            if not replace:
                return None
        info, outcome = await self.core.jobs.save(definition)
        self.messages.clear()
        await self.reload()
        self.select_job(info.name)
        self.status_message.emit(f"Imported job {info.name} from {path} ({outcome})", 8000)
        return info

    # ---- runs -------------------------------------------------------------------------------

    def run_job(self) -> None:
        job = self.selected_job()
        if job is not None:
            spawn(self._run(job), on_error=self.show_error, name="run job")

    async def _run(self, job: JobInfo) -> RunHandle | None:
        targets = await self.core.inventory.list_targets()
        groups = await self.core.inventory.list_groups()
        dialog = RunDialog(self.core, job.definition, targets, groups, self)
        self.dialog = dialog
        try:
            code = await ask(dialog)
            selection = dialog.selection
        finally:
            self.dialog = None
            dialog.deleteLater()
        if code != QDialog.DialogCode.Accepted:
            return None
        handle = await self.core.jobs.start(job.definition, selection=selection, job_id=job.id)
        self.run_view.follow(handle, job.name)
        self._started(handle.run_id)
        self.status_message.emit(f"Started {job.name} on {len(handle.targets)} target(s)", 5000)
        return handle

    def _started(self, run_id: uuid.UUID) -> None:
        """A run began here: select it in the history once the history has it."""
        self._select_run = run_id
        self.schedule_reload()

    # ---- state ------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("splitter", self.splitter.saveState())
        settings.setValue("left_splitter", self.left_splitter.saveState())
        settings.setValue("run_splitter", self.run_view.splitter.saveState())
        settings.setValue("jobs_header", self.jobs_view.horizontalHeader().saveState())
        settings.setValue("runs_header", self.runs_view.horizontalHeader().saveState())
        settings.setValue("targets_header", self.run_view.view.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, restore in (
            ("splitter", self.splitter.restoreState),
            ("left_splitter", self.left_splitter.restoreState),
            ("run_splitter", self.run_view.splitter.restoreState),
            ("jobs_header", self.jobs_view.horizontalHeader().restoreState),
            ("runs_header", self.runs_view.horizontalHeader().restoreState),
            ("targets_header", self.run_view.view.horizontalHeader().restoreState),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                restore(value)

    def shutdown(self) -> None:
        self.run_view.shutdown()
        super().shutdown()
