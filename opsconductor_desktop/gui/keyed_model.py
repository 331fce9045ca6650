"""A table model over immutable value objects, keyed by id, that updates in place.

``replace(items)`` compares the new items with the shown ones by key: vanished rows are
removed, changed rows emit ``dataChanged``, new rows are appended. Views and proxies keep
their selection and scroll position across a reload because rows are never reset.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QWidget

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
ITEM_ROLE = Qt.ItemDataRole.UserRole + 3


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column: its title, the shown text, and optionally a sort key and tooltip."""

    title: str
    text: Callable[[T], str]
    sort: Callable[[T], Any] | None = None
    tooltip: Callable[[T], str] | None = None
    align_right: bool = False


class KeyedTableModel(QAbstractTableModel, Generic[T]):
    """Rows of value objects identified by ``key``; see the module docstring."""

    def __init__(
        self,
        columns: Sequence[Column[T]],
        key: Callable[[T], Hashable],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._key = key
        self._rows: list[T] = []

    # ---- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        item = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(item)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(item)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == SORT_ROLE:
            return column.sort(item) if column.sort is not None else column.text(item).lower()
        if role == KEY_ROLE:
            return self._key(item)
        if role == ITEM_ROLE:
            return item
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None

    # ---- Python API -----------------------------------------------------------------------

    def items(self) -> list[T]:
        return list(self._rows)

    def item(self, row: int) -> T:
        return self._rows[row]

    def key_of(self, item: T) -> Hashable:
        return self._key(item)

    def row_of(self, key: Hashable) -> int | None:
        for row, item in enumerate(self._rows):
            if self._key(item) == key:
                return row
        return None

    def find(self, key: Hashable) -> T | None:
        row = self.row_of(key)
        return None if row is None else self._rows[row]

    def replace(self, items: Iterable[T]) -> None:
        """Show ``items``: remove vanished rows, update changed ones, append new ones."""
        wanted: dict[Hashable, T] = {}
        for item in items:
            wanted[self._key(item)] = item
        self._remove_missing(wanted)
        self._update_changed(wanted)
        present = {self._key(item) for item in self._rows}
        added = [item for key, item in wanted.items() if key not in present]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()

    def clear(self) -> None:
        self.replace(())

    def _remove_missing(self, wanted: dict[Hashable, T]) -> None:
        last = len(self._rows) - 1
        while last >= 0:
            if self._key(self._rows[last]) in wanted:
                last -= 1
                continue
            first = last
            while first > 0 and self._key(self._rows[first - 1]) not in wanted:
                first -= 1
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
            last = first - 1

    def _update_changed(self, wanted: dict[Hashable, T]) -> None:
        start: int | None = None
        for row, old in enumerate(self._rows):
            new = wanted[self._key(old)]
            if new != old:
                self._rows[row] = new
                start = row if start is None else start
            elif start is not None:
                self._emit_changed(start, row - 1)
                start = None
        if start is not None:
            self._emit_changed(start, len(self._rows) - 1)

    def _emit_changed(self, first: int, last: int) -> None:
        right = max(0, len(self._columns) - 1)
        self.dataChanged.emit(self.index(first, 0), self.index(last, right))


class FilterProxy(QSortFilterProxyModel):
    """Case-insensitive quick filter over every column, sorting by ``SORT_ROLE``."""

    def __init__(self, source: QAbstractTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)
