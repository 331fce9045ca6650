"""Table models of the Jobs pane: job definitions, run history and name checklists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain.jobs import JobDefinition
from opsconductor_desktop.gui.jobs.common import local_time, status_brush, status_icon
from opsconductor_desktop.gui.keyed_model import Column, KeyedTableModel
from opsconductor_desktop.services.jobs import JobInfo, RunInfo

Index = QModelIndex | QPersistentModelIndex


def step_types(job: JobDefinition) -> str:
    kinds: list[str] = []
    for step in job.steps:
        if step.type.value not in kinds:
            kinds.append(step.type.value)
    return ", ".join(kinds)


def _job_tooltip(job: JobInfo) -> str:
    lines = [f"{job.name}: {job.description}" if job.description else job.name]
    lines += [f"{i + 1}. {s.name} ({s.type.value})" for i, s in enumerate(job.definition.steps)]
    return "\n".join(lines)


JOB_COLUMNS: list[Column[JobInfo]] = [
    Column("Name", lambda j: j.name, tooltip=_job_tooltip),
    Column(
        "Steps",
        lambda j: str(len(j.definition.steps)),
        sort=lambda j: len(j.definition.steps),
        tooltip=lambda j: step_types(j.definition),
        align_right=True,
    ),
    Column("Description", lambda j: j.description, tooltip=lambda j: j.description),
]


class JobsModel(KeyedTableModel[JobInfo]):
    """Job definitions by id: name, steps, description."""

    NAME, STEPS, DESCRIPTION = range(3)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(JOB_COLUMNS, lambda j: j.id, parent)

    def names(self) -> set[str]:
        return {j.name for j in self.items()}


def _started(run: RunInfo) -> str:
    return local_time(run.started_at or run.created_at)


RUN_COLUMNS: list[Column[RunInfo]] = [
    Column("Job", lambda r: r.job_name),
    Column("Status", lambda r: r.status.value),
    Column(
        "Started",
        _started,
        sort=lambda r: r.started_at or r.created_at,
        tooltip=lambda r: (
            f"created {local_time(r.created_at)}, finished "
            f"{local_time(r.finished_at) or '—'} (local time)"
        ),
    ),
    Column(
        "OK/Total",
        lambda r: f"{r.succeeded}/{r.total}",
        sort=lambda r: (r.succeeded, r.total),
        align_right=True,
    ),
    Column("Failed", lambda r: str(r.failed), sort=lambda r: r.failed, align_right=True),
    Column("By", lambda r: r.actor),
]


class RunsModel(KeyedTableModel[RunInfo]):
    """Runs by id, with a coloured status icon."""

    JOB, STATUS, STARTED, OK, FAILED, BY = range(6)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(RUN_COLUMNS, lambda r: r.id, parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == self.STATUS and 0 <= index.row() < self.rowCount():
            run = self.item(index.row())
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(run.status)
            if role == Qt.ItemDataRole.ForegroundRole:
                return status_brush(run.status)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and index.column() == self.FAILED
            and 0 <= index.row() < self.rowCount()
            and self.item(index.row()).failed
        ):
            return status_brush(self.item(index.row()).status)
        return super().data(index, role)


class ChecklistModel(QAbstractListModel):
    """Names the operator can tick (targets or groups of a selection), with a detail line."""

    checked_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._details: dict[str, str] = {}
        self._checked: set[str] = set()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._names)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._names):
            return None
        name = self._names[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            detail = self._details.get(name)
            return f"{name}  —  {detail}" if detail else name
        if role == Qt.ItemDataRole.CheckStateRole:
            return (
                Qt.CheckState.Checked if name in self._checked else Qt.CheckState.Unchecked
            ).value
        if role == Qt.ItemDataRole.UserRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._details.get(name) or None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        if not 0 <= index.row() < len(self._names):
            return False
        name = self._names[index.row()]
        checked = _is_checked(value)
        if checked == (name in self._checked):
            return True
        if checked:
            self._checked.add(name)
        else:
            self._checked.discard(name)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit()
        return True

    # ---- Python API -----------------------------------------------------------------------

    def set_names(self, names: Iterable[str], details: dict[str, str] | None = None) -> None:
        """Show these names (sorted); ticks of names that remain are kept."""
        self.beginResetModel()
        self._names = sorted(set(names), key=str.lower)
        self._details = dict(details or {})
        self._checked &= set(self._names)
        self.endResetModel()

    def add_names(self, names: Iterable[str], detail: str) -> None:
        """Add names not shown yet (e.g. ones a stored selection has, the inventory not)."""
        new = [n for n in dict.fromkeys(names) if n not in set(self._names)]
        if not new:
            return
        self.beginResetModel()
        self._names = sorted([*self._names, *new], key=str.lower)
        self._details.update(dict.fromkeys(new, detail))
        self.endResetModel()

    def names(self) -> list[str]:
        return list(self._names)

    def checked(self) -> list[str]:
        return [n for n in self._names if n in self._checked]

    def missing(self, wanted: Iterable[str]) -> list[str]:
        known = set(self._names)
        return [n for n in wanted if n not in known]

    def set_checked(self, names: Iterable[str], checked: bool = True) -> None:
        chosen = set(names) & set(self._names)
        before = set(self._checked)
        if checked:
            self._checked |= chosen
        else:
            self._checked -= chosen
        if self._checked != before and self._names:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._names) - 1), [Qt.ItemDataRole.CheckStateRole]
            )
            self.checked_changed.emit()

    def clear_checked(self) -> None:
        self.set_checked(self._names, False)

    def toggle(self, row: int) -> None:
        index = self.index(row)
        state = (
            Qt.CheckState.Unchecked if self._names[row] in self._checked else Qt.CheckState.Checked
        )
        self.setData(index, state, Qt.ItemDataRole.CheckStateRole)


def _is_checked(value: Any) -> bool:
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    return bool(value == Qt.CheckState.Checked.value)


class ChecklistProxy(QSortFilterProxyModel):
    """Case-insensitive substring filter over a checklist."""

    def __init__(self, source: ChecklistModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def visible_names(self) -> Sequence[str]:
        return [self.index(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.rowCount())]
