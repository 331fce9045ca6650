"""The table model of the Targets pane: ``Target`` value objects keyed by their id.

Reloads never reset the model. ``upsert`` replaces changed rows in place (``dataChanged``)
and appends new ones (one ``rowsInserted`` per chunk); ``finish_sync`` removes the rows a
reload did not see and restores the sort order with a layout change that moves persistent
indexes — so the view's selection, current row and scroll position survive a refresh.

Sorting happens here, not in the proxy: a ``QSortFilterProxyModel`` sorting 10,000 rows
calls back into Python for every comparison (seconds), whereas here it is one ``sorted``
over keys computed once per row and column (natural order for names, numeric order for
IP addresses). The proxy forwards ``sort`` to this model and only filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import IntEnum
from typing import Any
from uuid import UUID

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.targets.query import Haystack, Predicate, address_key, natural_key

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    ADDRESS = 1
    KIND = 2
    VENDOR = 3
    SITE = 4
    TAGS = 5
    ENABLED = 6
    GROUPS = 7


TITLES = ("Name", "Address", "Kind", "Vendor", "Site", "Tags", "Enabled", "Groups")
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
TARGET_ROLE = int(Qt.ItemDataRole.UserRole) + 2
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ROLES = frozenset({_DISPLAY, _FOREGROUND, _TOOLTIP, _ALIGNMENT, ID_ROLE, TARGET_ROLE})
_CENTER = int(Qt.AlignmentFlag.AlignCenter)


class TargetEntry:
    """One row: the target, its cell texts, its filter haystack and lazily made sort keys."""

    __slots__ = ("_keys", "accepted", "cells", "hay", "target")

    def __init__(self, target: Target) -> None:
        spec = target.spec
        tags = ", ".join(spec.tags)
        groups = ", ".join(target.groups)
        kind = str(spec.kind)
        self.target = target
        self.cells = (
            spec.name,
            spec.address,
            kind,
            spec.vendor,
            spec.site,
            tags,
            "yes" if spec.enabled else "no",
            groups,
        )
        text = "\n".join(
            (
                spec.name,
                spec.address,
                kind,
                spec.vendor,
                spec.model,
                spec.site,
                spec.description,
                tags,
                groups,
            )
        ).lower()
        self.hay = Haystack(
            name=spec.name.lower(),
            address=spec.address.lower(),
            kind=kind,
            vendor=spec.vendor.lower(),
            site=spec.site.lower(),
            model=spec.model.lower(),
            tags=tuple(t.lower() for t in spec.tags),
            groups=tuple(g.lower() for g in target.groups),
            enabled=spec.enabled,
            text=text,
        )
        self._keys: list[Any] = [None] * len(TITLES)
        self.accepted = True  # by the quick filter (``TargetTableModel.set_predicate``)

    def key(self, column: int) -> Any:
        """The sort key of a column (ties broken by the natural name order)."""
        found = self._keys[column]
        if found is None:
            found = self._keys[column] = _KEYS[column](self)
        return found


def _name_key(e: TargetEntry) -> Any:
    return natural_key(e.cells[Column.NAME])


def _then_name(make: Callable[[TargetEntry], Any]) -> Callable[[TargetEntry], Any]:
    return lambda e: (make(e), e.key(Column.NAME))


_KEYS: tuple[Callable[[TargetEntry], Any], ...] = (
    _name_key,
    _then_name(lambda e: address_key(e.cells[Column.ADDRESS])),
    _then_name(lambda e: e.cells[Column.KIND]),
    _then_name(lambda e: natural_key(e.cells[Column.VENDOR])),
    _then_name(lambda e: natural_key(e.cells[Column.SITE])),
    _then_name(lambda e: natural_key(e.cells[Column.TAGS])),
    _then_name(lambda e: not e.target.spec.enabled),
    _then_name(lambda e: natural_key(e.cells[Column.GROUPS])),
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


class TargetTableModel(QAbstractTableModel):
    """Targets as rows; see the module docstring for how updates keep the view's state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TargetEntry] = []
        self._index: dict[UUID, int] = {}
        self._index_stale = False
        self._sort_column = int(Column.NAME)
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._order_stale = False
        self._staged: list[TargetEntry] = []
        self._staged_ids: set[UUID] = set()
        self._staged_sorted = False
        self._predicate: Predicate | None = None
        self._muted = QBrush()
        self.refresh_palette()

    # ---- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TITLES)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Hot path: Qt asks ~8 roles for every visible cell on every repaint.
        if role not in _ROLES or not index.isValid():
            return None
        row, column = index.row(), index.column()
        if row >= len(self._rows) or column >= len(TITLES):
            return None
        entry = self._rows[row]
        if role == _DISPLAY:
            return entry.cells[column]
        if role == _FOREGROUND:
            return None if entry.target.spec.enabled else self._muted
        if role == ID_ROLE:
            return entry.target.id
        if role == TARGET_ROLE:
            return entry.target
        if role == _TOOLTIP:
            return self._tooltip(entry, column)
        if role == _ALIGNMENT and column == Column.ENABLED:
            return _CENTER
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(TITLES):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return TITLES[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(TITLES):
            return
        self._sort_column, self._sort_order = column, order
        self._apply_order()

    @staticmethod
    def _tooltip(entry: TargetEntry, column: int) -> str | None:
        spec = entry.target.spec
        if column == Column.NAME:
            return spec.description or None
        if column in (Column.TAGS, Column.GROUPS):
            return entry.cells[column] or None
        if column == Column.ENABLED and not spec.enabled:
            return "Disabled: not polled and not selected by jobs"
        return None

    # ---- reading ----------------------------------------------------------------------------

    def entry(self, row: int) -> TargetEntry:
        return self._rows[row]

    def entries(self) -> Sequence[TargetEntry]:
        return self._rows

    def target(self, row: int) -> Target:
        return self._rows[row].target

    def targets(self) -> list[Target]:
        return [e.target for e in self._rows]

    def row_of(self, target_id: UUID) -> int | None:
        if self._index_stale:
            self._index = {e.target.id: i for i, e in enumerate(self._rows)}
            self._index_stale = False
        return self._index.get(target_id)

    def names(self) -> set[str]:
        return {e.target.spec.name for e in self._rows}

    def sort_state(self) -> tuple[int, Qt.SortOrder]:
        return self._sort_column, self._sort_order

    # ---- updating in place ------------------------------------------------------------------

    def upsert(self, targets: Iterable[Target]) -> None:
        """Replace the rows of known targets that changed, append the new ones."""
        self.stage(targets)
        self.commit()

    def stage(self, targets: Iterable[Target]) -> None:
        """Update known rows now (``dataChanged``); prepare new rows for ``commit``.

        Preparing (cell texts, filter haystack, sort key) costs Python time per row, so a
        reload stages chunk by chunk; inserting costs the view a layout of every row, so
        it commits rarely (one ``rowsInserted`` for many chunks).
        """
        changed: list[int] = []
        for target in targets:
            row = self.row_of(target.id)
            if row is None:
                if target.id not in self._staged_ids:
                    self._staged.append(self._prepare(target))
                    self._staged_ids.add(target.id)
                    self._staged_sorted = False
            elif self._rows[row].target != target:
                self._rows[row] = self._prepare(target)
                changed.append(row)
        last_column = len(TITLES) - 1
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        if changed:
            self._order_stale = True

    def staged(self) -> int:
        return len(self._staged)

    def commit(self, limit: int | None = None) -> None:
        """Insert the staged rows (all, or the first ``limit``), appended at the end.

        ``restore_order`` sorts them in, unless they were staged in order (``sort_staged``)
        into a model that was empty or already ends before them.
        """
        if not self._staged:
            return
        count = len(self._staged) if limit is None else min(limit, len(self._staged))
        new, self._staged = self._staged[:count], self._staged[count:]
        for entry in new:
            self._staged_ids.discard(entry.target.id)
        start = len(self._rows)
        in_order = self._staged_sorted and (not self._rows or self._before(self._rows[-1], new[0]))
        self.beginInsertRows(QModelIndex(), start, start + count - 1)
        self._rows.extend(new)
        for offset, entry in enumerate(new):
            self._index[entry.target.id] = start + offset
        self.endInsertRows()
        if not in_order:
            self._order_stale = True

    def _before(self, a: TargetEntry, b: TargetEntry) -> bool:
        column = self._sort_column
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return bool(a.key(column) >= b.key(column))
        return bool(a.key(column) <= b.key(column))

    def remove_ids(self, ids: Iterable[UUID]) -> int:
        """Remove the rows of these targets (unknown ids are ignored); how many went."""
        rows = [r for r in (self.row_of(i) for i in set(ids)) if r is not None]
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self._index_stale = True
            self.endRemoveRows()
        return len(rows)

    def finish_sync(self, seen: set[UUID]) -> None:
        """End of a reload: insert what is staged, drop rows not seen, restore the order.

        Into an empty model (the first load) the rows go sorted, with one reset: that costs
        the proxy and the view one pass over the rows instead of one for the insertion and
        another for the sort.
        """
        if not self._rows and self._staged:
            self._reset_to_staged()
            return
        self.commit()
        gone = [e.target.id for e in self._rows if e.target.id not in seen]
        if gone:
            self.remove_ids(gone)
        if self._order_stale:
            self._apply_order()

    def set_predicate(self, predicate: Predicate | None) -> None:
        """The quick filter's test: every row's ``accepted`` flag, in one Python loop (the
        proxy's per-row callback then only reads it). New and changed rows get it too."""
        self._predicate = predicate
        for entry in self._rows:
            entry.accepted = predicate is None or predicate(entry.hay)

    def _prepare(self, target: Target) -> TargetEntry:
        entry = TargetEntry(target)
        entry.key(self._sort_column)
        if self._predicate is not None:
            entry.accepted = self._predicate(entry.hay)
        return entry

    def restore_order(self) -> None:
        """Put rows changed or added since the last sort in their place."""
        if self._order_stale:
            self._apply_order()

    def set_targets(self, targets: Sequence[Target]) -> None:
        """Show exactly these targets (an in-place diff against what is shown)."""
        self.upsert(targets)
        self.finish_sync({t.id for t in targets})

    def sort_staged(self) -> None:
        """Sort the staged rows now (a step of its own before ``finish_sync``/``commit``)."""
        column = self._sort_column
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        self._staged.sort(key=lambda e: e.key(column), reverse=descending)
        self._staged_sorted = True

    def _reset_to_staged(self) -> None:
        self.sort_staged()  # a no-op pass when already sorted
        entries, self._staged, self._staged_ids = self._staged, [], set()
        self.beginResetModel()
        self._rows = entries
        self._index = {e.target.id: i for i, e in enumerate(entries)}
        self._index_stale = self._order_stale = False
        self.endResetModel()

    def refresh_palette(self) -> None:
        """Take the muted colour for disabled targets from the current palette (theme)."""
        palette = QApplication.palette()
        color = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        self._muted = QBrush(color)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(len(self._rows) - 1, len(TITLES) - 1),
                [Qt.ItemDataRole.ForegroundRole],
            )

    def _apply_order(self) -> None:
        self._order_stale = False
        column, rows = self._sort_column, self._rows
        keys = [e.key(column) for e in rows]
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        perm = sorted(range(len(rows)), key=keys.__getitem__, reverse=descending)
        if all(old == new for new, old in enumerate(perm)):
            return
        self.layoutAboutToBeChanged.emit()
        new_row = [0] * len(perm)
        for new, old in enumerate(perm):
            new_row[old] = new
        self._rows = [rows[old] for old in perm]
        self._index_stale = True
        persistent = self.persistentIndexList()
        moved = [self.index(new_row[p.row()], p.column()) for p in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
