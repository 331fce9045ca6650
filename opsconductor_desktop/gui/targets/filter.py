"""The Targets pane's proxy: the quick filter over the table model; sorting is forwarded.

``filterAcceptsRow`` is the hot path (Qt calls it once per row on every keystroke, and on
every layout change): it only reads a flag the model computed for the row with the
compiled query over its precomputed lower-case ``Haystack`` — in one Python loop per
query, and once per new or changed row. (Measured alternatives: letting Qt's own
``filterAcceptsRow`` read a data role costs ten times more per row.)

Sorting is the source model's job (one ``sorted`` over cached keys, natural order): a
sorting ``QSortFilterProxyModel`` would call back into Python for every comparison.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from opsconductor_desktop.gui.targets.model import TargetTableModel
from opsconductor_desktop.gui.targets.query import compile_query


class TargetFilterProxy(QSortFilterProxyModel):
    """Filters ``TargetTableModel`` rows with the quick-filter language (``query.py``)."""

    def __init__(self, source: TargetTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._text = ""
        self._filtering = False
        self.setSourceModel(source)
        self.setDynamicSortFilter(True)

    def filter_text(self) -> str:
        return self._text

    def set_filter_text(self, text: str) -> None:
        """Apply a new query; one that accepts everything, like the last, costs nothing."""
        predicate = compile_query(text)
        self._text = text
        if predicate is None and not self._filtering:
            return
        self.beginFilterChange()
        self._source.set_predicate(predicate)
        self._filtering = predicate is not None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        return self._source._rows[source_row].accepted  # the hot path: one attribute read

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Forwarded to the source model (fast, natural order); the proxy keeps its order."""
        self._source.sort(column, order)
