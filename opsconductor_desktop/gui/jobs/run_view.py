"""The live run view: one run's targets as they progress, its controls and the output.

Progress events of the shown run are queued by the subscriber (a list append: the
executor calls it for every event) and applied in one batch ``FLUSH_MS`` later, so bursts
cost one model update; a one-second ticker repaints the elapsed time of running targets.
When the run finishes, the stored results are read back once (``run_targets``) and merged
into the rows in place. Cancel, re-run and export act on the shown run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.jobs import RunStatus
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.jobs.common import STATUS_COLORS, local_time
from opsconductor_desktop.gui.jobs.export import export_run
from opsconductor_desktop.gui.jobs.live import (
    NAME_ROLE,
    LiveRow,
    LiveRunModel,
    LiveRunProxy,
    ProgressEvent,
    row_from_info,
)
from opsconductor_desktop.gui.jobs.output import OutputViewer
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import ask_file
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.jobs import (
    RERUN_STATUSES,
    RunHandle,
    RunInfo,
    RunTargetInfo,
)

FLUSH_MS = 100
TICK_MS = 1000
OUTPUT_DELAY_MS = 120
StepsOf = Callable[[str], Sequence[str]]


class RunView(QWidget):
    """See the module docstring."""

    run_shown = Signal(object)  # the run id now shown (None: nothing)
    rerun_started = Signal(object)  # the new run's id
    status_message = Signal(str, int)
    flushed = Signal(int)  # rows changed by one batch of progress

    def __init__(self, core: Core, steps_of: StepsOf, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runView")
        self.core = core
        self._steps_of = steps_of
        self.run: RunInfo | None = None
        self.job_name = ""
        self.status: RunStatus | None = None
        self.snapshot: dict[str, RunTargetInfo] = {}
        self._queue: list[ProgressEvent] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._generation = 0
        self.flushes = 0
        self.model = LiveRunModel(self)
        self.proxy = LiveRunProxy(self.model, self)
        self.output = OutputViewer()
        self.messages = MessageBar()
        self._flush_timer = _timer(self, FLUSH_MS, self.flush)
        self._tick_timer = _timer(self, TICK_MS, self.model.tick, single=False)
        self._output_timer = _timer(self, OUTPUT_DELAY_MS, self._show_output)
        self._build()
        self._unsubscribe = core.jobs.subscribe_progress(self.on_progress)
        self._update_controls()

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.heading = QLabel("<i>Run a job, or select a run in the history, to see it here.</i>")
        self.heading.setObjectName("runHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("runFilter")
        self.filter_edit.setPlaceholderText("Filter targets…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.failed_only = QCheckBox("&Failed only")
        self.failed_only.setToolTip("Show only failed, cancelled and interrupted targets")
        self.failed_only.toggled.connect(self.proxy.set_failed_only)
        self.cancel_run_button = _button(
            "Cancel run", "Stop every target of this run", self.cancel_run
        )
        self.cancel_target_button = _button(
            "Cancel target", "Stop the selected targets of this run", self.cancel_targets
        )
        self.rerun_button = _button(
            "Re-run failed",
            "Run the job again on the failed, cancelled and not-started targets",
            self.rerun_failed,
        )
        self.export_button = _button("Export…", "Save this run as JSON or CSV", self.export)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.failed_only)
        for button in (
            self.cancel_run_button,
            self.cancel_target_button,
            self.rerun_button,
            self.export_button,
        ):
            bar.addWidget(button)
        self.view = self._table()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.heading)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.view, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("runSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.output)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([380, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

    def _table(self) -> QTableView:
        view = QTableView()
        view.setObjectName("runTargets")
        view.setModel(self.proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setSortingEnabled(True)
        view.sortByColumn(LiveRunModel.TARGET, Qt.SortOrder.AscendingOrder)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
        header = view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for column, width in enumerate((110, 150, 170, 70)):
            view.setColumnWidth(column, width)
        view.selectionModel().selectionChanged.connect(self._selection_changed)
        return view

    # ---- which run ------------------------------------------------------------------------------

    @property
    def run_id(self) -> uuid.UUID | None:
        return self.model.run_id

    @property
    def active(self) -> bool:
        return self.status is not None and not self.status.finished

    def show_run(self, run: RunInfo | None) -> None:
        """Show a run of the history (refreshed in place if it is already shown)."""
        if run is None:
            self._switch(None, "", RunStatus.PENDING, [])
            self.run = None
            self.status = None
            self._show_heading()
            self._update_controls()
            return
        if run.id != self.model.run_id:
            self._switch(run.id, run.job_name, run.status, [])
        self.run = run
        if not (self.status is not None and self.status.finished and not run.status.finished):
            self.status = run.status  # a finished run never goes back to running
        self._show_heading()
        self._spawn(self.refresh(), "load run")

    def note_run(self, run: RunInfo) -> None:
        """Fresh history values of the shown run (its counts, or an end seen elsewhere)."""
        if run.id != self.model.run_id:
            return
        was_active = self.active
        self.run = run
        if self.status is None or not self.status.finished:
            self.status = run.status
        self._show_heading()
        self._update_controls()
        if was_active and run.status.finished:
            self._spawn(self.refresh(), "load run")

    def follow(self, handle: RunHandle, job_name: str) -> None:
        """Show a run this console just started: its targets pending, then its progress."""
        rows = [LiveRow(name) for name in handle.targets]
        self._switch(handle.run_id, job_name, RunStatus.PENDING, rows)
        self.run = None
        self._spawn(self._fetch_run(handle.run_id), "run info")

    def show_rows(
        self, job_name: str, steps: Sequence[str], rows: list[LiveRow], status: RunStatus
    ) -> None:
        """Show rows that are no stored run's (an example, for screenshots and help)."""
        self._switch(uuid.uuid4(), job_name, status, rows)
        self.model.set_steps(steps)
        self._show_heading()
        self._update_controls()
        self.cancel_run_button.setEnabled(False)

    def _switch(
        self, run_id: uuid.UUID | None, job_name: str, status: RunStatus, rows: list[LiveRow]
    ) -> None:
        self._generation += 1
        self._queue.clear()
        self.snapshot = {}
        self.job_name = job_name
        self.status = status
        self.messages.clear()
        self.model.show_run(run_id, self._steps_of(job_name) if job_name else (), rows)
        self.output.show_target(None)
        self._show_heading()
        self._update_controls()
        self.run_shown.emit(run_id)

    async def _fetch_run(self, run_id: uuid.UUID) -> None:
        run = await self.core.jobs.run(run_id)
        if run_id == self.model.run_id:
            self.run = run
            if self.status is None or not self.status.finished:
                self.status = run.status if run.status.finished else self.status
            self._show_heading()

    async def refresh(self) -> None:
        """Read the shown run's stored state and merge it into the rows in place."""
        run_id, generation = self.model.run_id, self._generation
        if run_id is None:
            return
        run = await self.core.jobs.run(run_id)
        targets = await self.core.jobs.run_targets(run_id)
        if generation != self._generation:
            return  # another run was chosen meanwhile
        self.run = run
        if self.status is None or not self.status.finished:
            self.status = run.status
        self.snapshot = {t.name: t for t in targets}
        steps = self._steps_of(run.job_name)
        if not steps and targets:
            longest = max(targets, key=lambda t: len(t.steps))
            steps = [s.name for s in longest.steps]
        if tuple(steps) != self.model.steps:
            self.model.set_steps(steps)
        self.model.update_rows(row_from_info(t) for t in targets)
        self._show_heading()
        self._update_controls()
        self._show_output()

    # ---- progress ---------------------------------------------------------------------------

    def on_progress(self, progress: ProgressEvent) -> None:
        """The progress subscriber: queue the shown run's events (nothing else, it is hot)."""
        if progress.run_id != self.model.run_id:
            return
        self._queue.append(progress)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply the queued progress events in one batch."""
        self._flush_timer.stop()
        events, self._queue = self._queue, []
        if not events:
            return
        changed = self.model.apply(events)
        finished = False
        for event in events:
            if event.target is not None:
                continue
            if event.kind == "run-started" and not (self.status and self.status.finished):
                self.status = RunStatus.RUNNING
            elif event.kind == "run-finished":
                self.status, finished = event.status, True
        self.flushes += 1
        self._show_heading()
        self._update_controls()
        if self.output.target is not None and self.output.target.name in {e.target for e in events}:
            self._output_timer.start()
        if finished:
            self._spawn(self.refresh(), "final run reload")
        self.flushed.emit(changed)

    # ---- heading and controls -------------------------------------------------------------------

    def _show_heading(self) -> None:
        if self.model.run_id is None:
            self.heading.setText(
                "<i>Run a job, or select a run in the history, to see it here.</i>"
            )
            return
        status = self.status or RunStatus.PENDING
        counts = self.model.counts()
        total = self.model.rowCount()
        done = sum(n for s, n in counts.items() if s.finished)
        parts = [
            f"<b>{_html(self.job_name)}</b>",
            f"<span style='color:{STATUS_COLORS[status]}'><b>{status.value}</b></span>",
        ]
        if self.run is not None:
            when = local_time(self.run.started_at or self.run.created_at)
            parts.append(f"started {when} by {_html(self.run.actor)}")
        summary = (
            f"{done}/{total} finished: {counts[RunStatus.SUCCEEDED]} ok, "
            f"{counts[RunStatus.FAILED]} failed, {counts[RunStatus.CANCELLED]} cancelled"
        )
        if counts[RunStatus.RUNNING]:
            summary += f", {counts[RunStatus.RUNNING]} running"
        if counts[RunStatus.INTERRUPTED]:
            summary += f", {counts[RunStatus.INTERRUPTED]} interrupted"
        self.heading.setText(" — ".join(parts) + f"<br>{summary}")

    def _update_controls(self) -> None:
        shown = self.model.run_id is not None
        active = shown and self.active
        self.cancel_run_button.setEnabled(active)
        self.cancel_target_button.setEnabled(active and bool(self._selected_unfinished()))
        counts = self.model.counts()
        retry = sum(n for s, n in counts.items() if s in RERUN_STATUSES)
        self.rerun_button.setEnabled(shown and not active and retry > 0)
        self.export_button.setEnabled(shown)
        if active and not self._tick_timer.isActive():
            self._tick_timer.start()
        elif not active and self._tick_timer.isActive():
            self._tick_timer.stop()
            self.model.tick()

    # ---- selection and output --------------------------------------------------------------------

    def selected_names(self) -> list[str]:
        rows = self.view.selectionModel().selectedRows()
        return [str(i.data(NAME_ROLE)) for i in rows]

    def select_target(self, name: str) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, LiveRunModel.TARGET)
            if index.data(NAME_ROLE) == name:
                self.view.selectRow(row)
                self.view.scrollTo(index)
                return True
        return False

    def _selected_unfinished(self) -> list[str]:
        out = []
        for name in self.selected_names():
            row = self.model.row(name)
            if row is not None and not row.status.finished:
                out.append(name)
        return out

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self._update_controls()
        self._output_timer.start()

    def _show_output(self) -> None:
        self._output_timer.stop()
        names = self.selected_names()
        if len(names) != 1:
            self.output.show_target(None)
            return
        name = names[0]
        stored = self.snapshot.get(name)
        row = self.model.row(name)
        if stored is not None and row is not None and _same(stored, row):
            if self.output.target != stored:
                self.output.show_target(stored)
            return
        self._spawn(self._fetch_output(name), "target output")

    async def _fetch_output(self, name: str) -> None:
        run_id, generation = self.model.run_id, self._generation
        if run_id is None:
            return
        targets = await self.core.jobs.run_targets(run_id)
        if generation != self._generation:
            return
        self.snapshot = {t.name: t for t in targets}
        if self.selected_names() == [name] and name in self.snapshot:
            self.output.show_target(self.snapshot[name])

    # ---- actions ---------------------------------------------------------------------------------

    def cancel_run(self) -> None:
        run_id = self.model.run_id
        if run_id is None:
            return
        if self.core.jobs.cancel(run_id):
            self.status_message.emit("Cancelling the run…", 5000)
        else:
            self.messages.show_message("The run is not running in this console.", "warning")

    def cancel_targets(self) -> None:
        run_id = self.model.run_id
        names = self._selected_unfinished()
        if run_id is None or not names:
            return
        stopped = [n for n in names if self.core.jobs.cancel(run_id, n)]
        if stopped:
            self.status_message.emit(f"Cancelling {len(stopped)} target(s)…", 5000)
        else:
            self.messages.show_message("Those targets are not running in this console.", "warning")

    def rerun_failed(self) -> None:
        run_id = self.model.run_id
        if run_id is not None:
            self._spawn(self._rerun(run_id), "re-run failed")

    async def _rerun(self, run_id: uuid.UUID) -> RunHandle:
        handle = await self.core.jobs.rerun_failed(run_id)
        self.follow(handle, self.job_name)
        self.status_message.emit(f"Re-running {len(handle.targets)} target(s)", 5000)
        self.rerun_started.emit(handle.run_id)
        return handle

    def export(self) -> None:
        self._spawn(self.export_to(None), "export run")

    async def export_to(self, path: str | None) -> int:
        """Export the shown run (asks where when ``path`` is None); targets written."""
        run_id = self.model.run_id
        if run_id is None:
            return 0
        if path is None:
            stamp = local_time(self.run.created_at if self.run else None).replace(":", "")
            path = await ask_file(
                self,
                "Export run",
                save=True,
                name_filters=("JSON, every step and its output (*.json)", "CSV (*.csv)"),
                directory=f"{self.job_name}-{stamp.replace(' ', '-')}.json",
                default_suffix="json",
            )
        if not path:
            return 0
        run = await self.core.jobs.run(run_id)
        targets = await self.core.jobs.run_targets(run_id)
        count = await export_run(path, run, targets)
        self.status_message.emit(f"Exported the run ({count} targets) to {path}", 8000)
        return count

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run ``coro`` for this view; errors show inline; ``shutdown`` cancels it."""
        task = spawn(coro, on_error=self.messages.show_error, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def shutdown(self) -> None:
        """Stop listening and cancel this view's work (its widgets are about to go)."""
        for task in list(self._tasks):
            task.cancel()
        self._unsubscribe()
        for timer in (self._flush_timer, self._tick_timer, self._output_timer):
            timer.stop()


def _same(stored: RunTargetInfo, row: LiveRow) -> bool:
    """Whether the stored state of a target is as new as what the live row shows."""
    last = stored.steps[-1].index if stored.steps else None
    return stored.status is row.status and last == row.step_index


def _timer(parent: QWidget, ms: int, slot: Callable[[], None], *, single: bool = True) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(single)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


def _button(text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
