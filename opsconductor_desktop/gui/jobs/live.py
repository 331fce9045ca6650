"""The live run model: one row per target of a run, updated in place from ``Progress``.

Progress arrives one event per target start, step and finish — thousands per second in a
big run. ``LiveRunModel.apply`` takes a batch (the run view collects events and applies
them on a short timer), updates rows found through a name → row index, and emits one
``dataChanged`` per run of consecutive changed rows, so a 1,000-target run costs a handful
of signals per batch instead of one repaint per event. Rows never move backwards: once a
target has finished, a late "started" or "step" event for it is ignored (a snapshot read
from the database may be newer than events still queued).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain.jobs import RunStatus
from opsconductor_desktop.gui.jobs.common import (
    duration_text,
    elapsed_seconds,
    last_line,
    local_time,
    status_brush,
    status_icon,
)
from opsconductor_desktop.services.jobs import RunTargetInfo

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
NAME_ROLE = Qt.ItemDataRole.UserRole + 4
PROBLEM_STATUSES = frozenset({RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED})
_ORDER = {
    status: n
    for n, status in enumerate(
        (
            RunStatus.RUNNING,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
            RunStatus.INTERRUPTED,
            RunStatus.PENDING,
            RunStatus.SKIPPED,
            RunStatus.SUCCEEDED,
        )
    )
}


class ProgressEvent(Protocol):
    """What the view reads of the services' ``Progress`` (one event of a run)."""

    @property
    def run_id(self) -> uuid.UUID: ...
    @property
    def target(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> RunStatus: ...
    @property
    def step_index(self) -> int | None: ...
    @property
    def line(self) -> str: ...


@dataclass(frozen=True, slots=True)
class LiveRow:
    """One target of the shown run, as the live view knows it."""

    name: str
    address: str = ""
    status: RunStatus = RunStatus.PENDING
    step_index: int | None = None  # the last step that finished
    started: datetime | None = None
    finished: datetime | None = None
    last_line: str = ""
    error: str | None = None


def row_from_info(info: RunTargetInfo) -> LiveRow:
    """A row from the stored state of one target (a snapshot of the database)."""
    line = ""
    for step in reversed(info.steps):
        line = last_line(step.stdout) or last_line(step.stderr) or (step.error or "")
        if line:
            break
    step_index = info.steps[-1].index if info.steps else None
    return LiveRow(
        info.name,
        info.address,
        info.status,
        step_index,
        info.started_at,
        info.finished_at,
        line,
        info.error,
    )


class LiveRunModel(QAbstractTableModel):
    """See the module docstring."""

    STATUS, TARGET, STEP, ELAPSED, OUTPUT = range(5)
    TITLES = ("Status", "Target", "Step", "Elapsed", "Last output")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_id: uuid.UUID | None = None
        self.steps: tuple[str, ...] = ()
        self._rows: list[LiveRow] = []
        self._index: dict[str, int] = {}

    # ---- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.TITLES)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.TITLES)
        ):
            return self.TITLES[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = index.column()
        if not 0 <= column < len(self.TITLES):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == NAME_ROLE:
            return row.name
        if role == Qt.ItemDataRole.DecorationRole and column == self.STATUS:
            return status_icon(row.status)
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATUS:
            return status_brush(row.status)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == self.OUTPUT
            and self._shows_error(row)
        ):
            return status_brush(row.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.ELAPSED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _shows_error(row: LiveRow) -> bool:
        return row.status in PROBLEM_STATUSES and bool(row.error)

    def shown_step(self, row: LiveRow) -> int | None:
        """The step a row is at: the one running, or the last one run when finished."""
        if row.status is RunStatus.RUNNING:
            following = 0 if row.step_index is None else row.step_index + 1
            return min(following, max(0, len(self.steps) - 1))
        return row.step_index

    def _step_text(self, row: LiveRow) -> str:
        index = self.shown_step(row)
        if index is None:
            return ""
        total = len(self.steps)
        name = self.steps[index] if index < total else ""
        count = f"{index + 1}/{total}" if total else str(index + 1)
        return f"{count}  {name}".rstrip()

    def _text(self, row: LiveRow, column: int) -> str:
        if column == self.STATUS:
            return row.status.value
        if column == self.TARGET:
            return row.name
        if column == self.STEP:
            return self._step_text(row)
        if column == self.ELAPSED:
            return duration_text(elapsed_seconds(row.started, row.finished))
        return row.error if self._shows_error(row) and row.error else row.last_line

    def _sort_key(self, row: LiveRow, column: int) -> Any:
        if column == self.STATUS:
            return (_ORDER[row.status], row.name.lower())
        if column == self.STEP:
            step = self.shown_step(row)
            return (-1 if step is None else step, row.name.lower())
        if column == self.ELAPSED:
            return (elapsed_seconds(row.started, row.finished) or 0.0, row.name.lower())
        return self._text(row, column).lower()

    def _tooltip(self, row: LiveRow, column: int) -> str | None:
        if column == self.TARGET:
            return f"{row.name} ({row.address})" if row.address else row.name
        if column == self.ELAPSED and row.started is not None:
            return f"started {local_time(row.started)}" + (
                f", finished {local_time(row.finished)}" if row.finished else ""
            )
        if column == self.OUTPUT:
            parts = [p for p in (row.last_line, row.error) if p]
            return "\n".join(dict.fromkeys(parts)) or None
        return None

    # ---- reading ------------------------------------------------------------------------------

    def rows(self) -> Sequence[LiveRow]:
        return self._rows

    def row(self, name: str) -> LiveRow | None:
        at = self._index.get(name)
        return None if at is None else self._rows[at]

    def counts(self) -> Counter[RunStatus]:
        return Counter(r.status for r in self._rows)

    def running_rows(self) -> list[int]:
        return [i for i, r in enumerate(self._rows) if r.status is RunStatus.RUNNING]

    # ---- updating -------------------------------------------------------------------------------

    def show_run(
        self, run_id: uuid.UUID | None, steps: Sequence[str], rows: Iterable[LiveRow]
    ) -> None:
        """Switch to another run (a reset: it is a different set of rows)."""
        self.beginResetModel()
        self.run_id = run_id
        self.steps = tuple(steps)
        self._rows = sorted(rows, key=lambda r: r.name.lower())
        self._index = {r.name: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def set_steps(self, steps: Sequence[str]) -> None:
        self.steps = tuple(steps)
        self._emit_rows(range(len(self._rows)), self.STEP, self.STEP)

    def update_rows(self, rows: Iterable[LiveRow]) -> None:
        """The same run's stored state: changed rows in place, new targets appended."""
        changed: list[int] = []
        new: list[LiveRow] = []
        for row in rows:
            at = self._index.get(row.name)
            if at is None:
                new.append(row)
            elif self._rows[at] != row:
                self._rows[at] = _merged(self._rows[at], row)
                changed.append(at)
        self._emit_rows(changed, 0, len(self.TITLES) - 1)
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for offset, row in enumerate(new):
                self._rows.append(row)
                self._index[row.name] = first + offset
            self.endInsertRows()

    def apply(self, events: Iterable[ProgressEvent], now: datetime | None = None) -> int:
        """Apply a batch of progress events of the shown run; returns rows changed."""
        moment = now or datetime.now(UTC)
        changed: set[int] = set()
        for event in events:
            if event.run_id != self.run_id or event.target is None:
                continue
            at = self._index.get(event.target)
            if at is None:
                continue
            updated = self._applied(self._rows[at], event, moment)
            if updated is not self._rows[at]:
                self._rows[at] = updated
                changed.add(at)
        self._emit_rows(changed, 0, len(self.TITLES) - 1)
        return len(changed)

    def _applied(self, row: LiveRow, event: ProgressEvent, now: datetime) -> LiveRow:
        finished = row.status.finished
        if event.kind == "target-started":
            if finished:
                return row
            return replace(row, status=RunStatus.RUNNING, started=row.started or now)
        if event.kind == "step-finished":
            if finished:
                return row
            return replace(
                row,
                status=RunStatus.RUNNING,
                started=row.started or now,
                step_index=event.step_index,
                last_line=event.line or row.last_line,
            )
        if event.kind == "target-finished":
            if finished and row.finished is not None:
                return row
            step = row.step_index
            if event.status is RunStatus.CANCELLED and row.status is RunStatus.RUNNING:
                step = self.shown_step(row)  # stopped in the step it was running
            return replace(
                row,
                status=event.status,
                step_index=step,
                started=row.started or now,
                finished=now,
                error=event.line or None,
            )
        return row

    def tick(self) -> None:
        """Repaint the elapsed time of running targets (called once a second)."""
        self._emit_rows(self.running_rows(), self.ELAPSED, self.ELAPSED)

    def _emit_rows(self, rows: Iterable[int], first_col: int, last_col: int) -> None:
        for first, last in _spans(rows):
            self.dataChanged.emit(self.index(first, first_col), self.index(last, last_col))


def _spans(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Rows as sorted, inclusive (first, last) runs of consecutive numbers."""
    out: list[tuple[int, int]] = []
    for row in sorted(rows):
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


def _merged(shown: LiveRow, stored: LiveRow) -> LiveRow:
    """A stored row, keeping what the live view saw but the database cannot tell."""
    if stored.status is RunStatus.PENDING and shown.status is not RunStatus.PENDING:
        return shown  # an older snapshot than the events already applied
    return replace(stored, last_line=stored.last_line or shown.last_line)


class LiveRunProxy(QSortFilterProxyModel):
    """Filters the live rows by target name and, optionally, to the failed ones."""

    def __init__(self, source: LiveRunModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self.failed_only = False
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(LiveRunModel.TARGET)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def set_failed_only(self, on: bool) -> None:
        changing = hasattr(self, "beginFilterChange")  # Qt 6.10+; invalidateFilter before
        if changing:
            self.beginFilterChange()
        self.failed_only = on
        if changing:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self.failed_only and self._source.rows()[source_row].status not in PROBLEM_STATUSES:
            return False
        return super().filterAcceptsRow(source_row, source_parent)
