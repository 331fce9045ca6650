"""The Alerts pane's table model: a window onto a query the database filters and sorts.

A NOC database keeps hundreds of thousands of alerts, so the model never holds them all:
it shows the first page of the pane's ``AlertQuery`` and asks for the next one when the
view scrolls to the end (``canFetchMore``/``fetchMore`` → ``more_wanted``; the pane
fetches and calls ``append``). ``total`` is how many match in all.

``sync`` shows a fresh first window in place — changed rows emit ``dataChanged``, gone
rows are removed, new rows inserted, and the order is restored with a layout change that
moves persistent indexes — so a live refresh keeps the selection and the current row.
Sorting is the database's job: ``sort`` only records the order and emits ``sort_changed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import IntEnum
from typing import Any
from uuid import UUID

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.alerts import style
from opsconductor_desktop.services.alerts import AlertInfo

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    SEVERITY = 0
    STATUS = 1
    TARGET = 2
    SOURCE = 3
    SUMMARY = 4
    COUNT = 5
    FIRST_SEEN = 6
    LAST_SEEN = 7
    ACK_BY = 8


TITLES = (
    "Severity",
    "Status",
    "Target",
    "Source",
    "Summary",
    "Count",
    "First seen",
    "Last seen",
    "Acknowledged by",
)
#: the service's sort key of each column (``AlertQuery.sort``)
SORT_KEYS = (
    "severity",
    "status",
    "target",
    "source",
    "summary",
    "count",
    "first_seen",
    "last_seen",
    "ack_by",
)
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
ALERT_ROLE = int(Qt.ItemDataRole.UserRole) + 2
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ATTENTION = (Severity.CRITICAL, Severity.MAJOR)


class AlertEntry:
    """One row: the alert, its cell texts and looks (made when first painted, then kept)."""

    __slots__ = ("_cells", "alert", "looks")

    def __init__(self, alert: AlertInfo) -> None:
        self.alert = alert
        self._cells: tuple[str, ...] | None = None
        #: role -> the value of each column, for the roles a repaint asks (model-made)
        self.looks: dict[int, tuple[Any, ...]] | None = None

    @property
    def cells(self) -> tuple[str, ...]:
        if self._cells is None:
            self._cells = self._make_cells()
        return self._cells

    def _make_cells(self) -> tuple[str, ...]:
        alert = self.alert
        return (
            alert.severity.label,
            style.status_text(alert.status, alert.flapping),
            alert.target or "",
            alert.source,
            alert.summary.splitlines()[0] if alert.summary else "",
            f"{alert.count:,}",
            style.local_time(alert.first_seen),
            style.local_time(alert.last_seen),
            alert.ack_by or "",
        )


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive (first, last) runs of consecutive numbers."""
    out: list[tuple[int, int]] = []
    for row in sorted(rows):
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


class AlertTableModel(QAbstractTableModel):
    """See the module docstring."""

    more_wanted = Signal(int)  # the offset of the next page
    sort_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AlertEntry] = []
        self._index: dict[UUID, int] = {}
        self._total = 0
        self._fetching = False
        self._sort_column = int(Column.LAST_SEEN)
        self._sort_order = Qt.SortOrder.DescendingOrder
        self._dark = False
        self._muted = QBrush()
        self._flap = QBrush()
        self._colours: dict[Severity, QBrush] = {}
        self._tints: dict[Severity, QBrush] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self.refresh_palette()

    # ---- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TITLES)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The hot path: a repaint asks ~8 roles of every visible cell. The painted roles
        # are made once per row (``_looks``) and read here with two lookups.
        if not index.isValid():
            return None
        row = index.row()
        if row >= len(self._rows):
            return None
        entry = self._rows[row]
        looks = entry.looks if entry.looks is not None else self._looks(entry)
        values = looks.get(role)
        if values is not None:
            column = index.column()
            return values[column] if column < len(values) else None
        if role == ID_ROLE:
            return entry.alert.id
        if role == ALERT_ROLE:
            return entry.alert
        if role == _TOOLTIP:
            return self._tooltip(entry.alert, index.column())
        return None

    def _looks(self, entry: AlertEntry) -> dict[int, tuple[Any, ...]]:
        alert = entry.alert
        columns = range(len(TITLES))
        active = alert.status is AlertStatus.ACTIVE
        bold = self._bold if active and alert.severity in _ATTENTION else None
        entry.looks = {
            _DISPLAY: entry.cells,
            _DECORATION: tuple(self._decoration(alert, c) for c in columns),
            _FOREGROUND: tuple(self._foreground(alert, c) for c in columns),
            _BACKGROUND: (self._tints[alert.severity] if active else None,)
            + (None,) * (len(TITLES) - 1),
            _FONT: tuple(bold if c in (Column.SEVERITY, Column.SUMMARY) else None for c in columns),
            _ALIGNMENT: tuple(_RIGHT if c == Column.COUNT else None for c in columns),
        }
        return entry.looks

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(TITLES):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return TITLES[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Record the order the database should return; the pane reloads on ``sort_changed``."""
        if not 0 <= column < len(TITLES):
            return
        if (column, order) == (self._sort_column, self._sort_order):
            return
        self._sort_column, self._sort_order = column, order
        self.sort_changed.emit()

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and not self._fetching and len(self._rows) < self._total

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        self.more_wanted.emit(len(self._rows))

    # ---- cells ------------------------------------------------------------------------------

    def _decoration(self, alert: AlertInfo, column: int) -> Any:
        if column == Column.SEVERITY:
            return style.severity_icon(alert.severity, self._dark, not alert.status.open)
        if column == Column.STATUS:
            return style.status_icon(alert.status, alert.flapping, self._dark)
        return None

    def _foreground(self, alert: AlertInfo, column: int) -> Any:
        if not alert.status.open:
            return self._muted
        if column == Column.SEVERITY:
            return self._colours[alert.severity]
        if column == Column.STATUS and alert.flapping:
            return self._flap
        return None

    @staticmethod
    def _tooltip(alert: AlertInfo, column: int) -> str | None:
        now = utcnow()
        if column == Column.SUMMARY:
            return f"{alert.summary}\n\nkey: {alert.key}"
        if column == Column.STATUS:
            return _status_tip(alert)
        if column in (Column.FIRST_SEEN, Column.LAST_SEEN):
            moment = alert.first_seen if column == Column.FIRST_SEEN else alert.last_seen
            return f"{style.age(moment, now)} ago ({_utc(moment)})"
        if column == Column.ACK_BY and alert.ack_by:
            until = f"\nuntil {style.local_time(alert.ack_expires)}" if alert.ack_expires else ""
            return f"{alert.ack_by}: {alert.ack_comment or '(no comment)'}{until}"
        if column == Column.COUNT:
            return f"seen {alert.count:,} time(s)"
        return None

    # ---- reading ----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many alerts match the query in all (the model holds the first rows)."""
        return self._total

    def alert(self, row: int) -> AlertInfo:
        return self._rows[row].alert

    def alerts(self) -> list[AlertInfo]:
        return [e.alert for e in self._rows]

    def row_of(self, alert_id: UUID) -> int | None:
        return self._index.get(alert_id)

    def sort_spec(self) -> tuple[str, bool]:
        """The service's sort key and whether descending."""
        return SORT_KEYS[self._sort_column], self._sort_order == Qt.SortOrder.DescendingOrder

    def sort_state(self) -> tuple[int, Qt.SortOrder]:
        return self._sort_column, self._sort_order

    def is_fetching(self) -> bool:
        return self._fetching

    # ---- updating ---------------------------------------------------------------------------

    def sync(self, alerts: Sequence[AlertInfo], total: int) -> None:
        """Show exactly ``alerts`` (the query's first rows, in order) in place."""
        self._fetching = False
        entries = {a.id: a for a in alerts}
        self._update_changed(entries)
        self._remove([e.alert.id for e in self._rows if e.alert.id not in entries])
        new = [AlertEntry(a) for a in alerts if a.id not in self._index]
        self._insert(new)
        self._reorder([a.id for a in alerts])
        self._total = max(total, len(self._rows))

    def append(self, alerts: Sequence[AlertInfo], *, at_end: bool = False) -> int:
        """Add a following page (rows already shown are skipped); how many were added.

        ``at_end``: the page was the last one (the query matches no more than this now).
        """
        self._fetching = False
        new = [AlertEntry(a) for a in alerts if a.id not in self._index]
        self._insert(new)
        if at_end:
            self._total = len(self._rows)
        else:
            self._total = max(self._total, len(self._rows))
        return len(new)

    def fetch_failed(self) -> None:
        self._fetching = False

    def clear(self) -> None:
        self.sync((), 0)

    def _update_changed(self, wanted: dict[UUID, AlertInfo]) -> None:
        changed: list[int] = []
        for row, entry in enumerate(self._rows):
            new = wanted.get(entry.alert.id)
            if new is not None and new != entry.alert:
                self._rows[row] = AlertEntry(new)
                changed.append(row)
        last = len(TITLES) - 1
        for first, end in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def _remove(self, ids: Sequence[UUID]) -> None:
        rows = [self._index[i] for i in ids if i in self._index]
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        if rows:
            self._reindex()

    def _insert(self, entries: Sequence[AlertEntry]) -> None:
        if not entries:
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(entries) - 1)
        self._rows.extend(entries)
        for offset, entry in enumerate(entries):
            self._index[entry.alert.id] = start + offset
        self.endInsertRows()

    def _reorder(self, order: Sequence[UUID]) -> None:
        position = {alert_id: n for n, alert_id in enumerate(order)}
        old_rows = self._rows
        perm = sorted(range(len(old_rows)), key=lambda r: position[old_rows[r].alert.id])
        if all(old == new for new, old in enumerate(perm)):
            return
        self.layoutAboutToBeChanged.emit()
        new_row = [0] * len(perm)
        for new, old in enumerate(perm):
            new_row[old] = new
        self._rows = [old_rows[old] for old in perm]
        self._reindex()
        persistent = self.persistentIndexList()
        moved = [self.index(new_row[p.row()], p.column()) for p in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _reindex(self) -> None:
        self._index = {e.alert.id: n for n, e in enumerate(self._rows)}

    def refresh_palette(self) -> None:
        """Take colours from the current palette (call after a theme change)."""
        palette = QApplication.palette()
        self._dark = style.is_dark(palette)
        self._muted = QBrush(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        self._flap = QBrush(QColor(style.FLAP_COLOURS["dark" if self._dark else "light"]))
        self._colours = {s: QBrush(style.severity_colour(s, self._dark)) for s in Severity}
        self._tints = {s: style.tint(s, self._dark) for s in Severity}
        for entry in self._rows:
            entry.looks = None
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(TITLES) - 1)
            )


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _status_tip(alert: AlertInfo) -> str:
    lines = [alert.status.value]
    if alert.flapping and alert.status.open:
        lines.append("Flapping: the problem keeps coming and going; it stays open meanwhile")
    if alert.status is AlertStatus.ACKNOWLEDGED and alert.ack_by:
        lines.append(f"acknowledged by {alert.ack_by}: {alert.ack_comment or '(no comment)'}")
        if alert.ack_expires:
            lines.append(f"until {style.local_time(alert.ack_expires)}")
    if alert.suppressed_by:
        lines.append(f"suppressed by {alert.suppressed_by}")
    if alert.resolved_at:
        lines.append(f"resolved {style.local_time(alert.resolved_at)}")
    return "\n".join(lines)
