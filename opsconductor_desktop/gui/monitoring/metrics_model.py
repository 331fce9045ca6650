"""The metrics table of the monitor editor: one editable row per metric document.

The columns follow the monitor's kind: an SNMP metric has an OID (walked or not), an SSH
metric a command and the regex that finds its number. Rows keep every key they were
loaded with, so switching the kind back and forth loses nothing, and only the keys of
the shown kind (plus unknown ones, which validation then reports) go into the document.
Type and counter width are chosen from a list; walk is a tick box.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from opsconductor_desktop.domain.monitors import MonitorKind
from opsconductor_desktop.gui.monitoring.common import dark_palette, to_text, to_value

Index = QModelIndex | QPersistentModelIndex
TYPES = ("gauge", "counter")
BITS = ("auto", "32", "64")
SNMP_KEYS = {"name", "oid", "type", "walk", "bits", "scale"}
SSH_KEYS = {"name", "command", "regex", "group", "type", "scale"}


@dataclass(frozen=True, slots=True)
class MetricColumn:
    key: str
    title: str
    kind: str = "text"  # text, number, type, bits, walk, group
    tip: str = ""


SNMP_COLUMNS = (
    MetricColumn("name", "Name", tip="series name; a walked column adds .INDEX per row"),
    MetricColumn("oid", "OID", tip="numeric OID, e.g. 1.3.6.1.2.1.31.1.1.1.6"),
    MetricColumn("type", "Type", "type", "gauge: the value as read; counter: a rate per second"),
    MetricColumn("walk", "Walk", "walk", "walk the table column: one series per row index"),
    MetricColumn("bits", "Bits", "bits", "counter width (auto: from the SNMP type)"),
    MetricColumn("scale", "Scale", "number", "multiplies the value, e.g. 8: octets → bits"),
)
SSH_COLUMNS = (
    MetricColumn("name", "Name", tip="series name"),
    MetricColumn("command", "Command", tip="may use {{ target.FIELD }} and {{ vars.NAME }}"),
    MetricColumn("regex", "Regex", tip="finds the number in the output (one group)"),
    MetricColumn("group", "Group", "group", "the regex group holding the number (default 1)"),
    MetricColumn("type", "Type", "type", "gauge: the value as read; counter: a rate per second"),
    MetricColumn("scale", "Scale", "number", "multiplies the value"),
)


def new_metric(kind: MonitorKind) -> dict[str, Any]:
    if kind is MonitorKind.SSH:
        return {"name": "", "command": "", "regex": "", "type": "gauge"}
    return {"name": "", "oid": "", "type": "gauge"}


class MetricsTableModel(QAbstractTableModel):
    """Metric documents of an SNMP or SSH monitor; see the module docstring.

    ``edited`` fires when the operator changes the metrics (not when an error is marked).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = MonitorKind.SNMP
        self._rows: list[dict[str, Any]] = []
        self.error_row: int | None = None
        self.error_key: str | None = None
        self.error_text = ""

    @property
    def columns(self) -> tuple[MetricColumn, ...]:
        return SSH_COLUMNS if self.kind is MonitorKind.SSH else SNMP_COLUMNS

    # ---- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].tip
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        base |= Qt.ItemFlag.ItemNeverHasChildren
        if self.columns[index.column()].kind == "walk":
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self._valid(index):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        value = row.get(column.key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._shown(column, value, role == Qt.ItemDataRole.EditRole)
        if role == Qt.ItemDataRole.CheckStateRole and column.kind == "walk":
            return (Qt.CheckState.Checked if value is True else Qt.CheckState.Unchecked).value
        if role == Qt.ItemDataRole.ForegroundRole and value is None and column.kind != "walk":
            return QColor("#7d8693")  # a default shown, not a value given
        if self._is_error(index.row(), column.key):
            if role == Qt.ItemDataRole.BackgroundRole:
                return QColor("#5c2020" if dark_palette() else "#fdecea")
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.error_text
        elif role == Qt.ItemDataRole.ToolTipRole:
            return column.tip
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not self._valid(index):
            return False
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if column.kind == "walk":
            if role != Qt.ItemDataRole.CheckStateRole:
                return False
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value)
            if checked:
                row["walk"] = True
            elif "walk" in row:
                row["walk"] = False
        elif role == Qt.ItemDataRole.EditRole:
            self._store(row, column, str(value))
        else:
            return False
        self.dataChanged.emit(index, index)
        self.edited.emit()
        return True

    # ---- Python API -----------------------------------------------------------------------

    def set_kind(self, kind: MonitorKind) -> None:
        if kind is self.kind or kind is MonitorKind.REACHABILITY:
            return
        self.beginResetModel()
        self.kind = kind
        self.endResetModel()

    def set_metrics(self, metrics: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = [copy.deepcopy(m) for m in metrics]
        self.error_row, self.error_key = None, None
        self.endResetModel()

    def metrics(self) -> list[dict[str, Any]]:
        """The rows as metric documents of the current kind, keys in reading order."""
        own = SSH_KEYS if self.kind is MonitorKind.SSH else SNMP_KEYS
        other = (SNMP_KEYS | SSH_KEYS) - own
        order = [c.key for c in self.columns]
        out = []
        for row in self._rows:
            kept = {k: v for k, v in row.items() if k in own or k not in other}
            out.append({k: kept[k] for k in sorted(kept, key=_position(order))})
        return out

    def raw(self, row: int) -> dict[str, Any]:
        return copy.deepcopy(self._rows[row])

    def insert(self, at: int, metric: dict[str, Any]) -> int:
        at = max(0, min(at, len(self._rows)))
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, copy.deepcopy(metric))
        self.endInsertRows()
        self.edited.emit()
        return at

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
            self.edited.emit()

    def column_of(self, key: str) -> int:
        keys = [c.key for c in self.columns]
        return keys.index(key) if key in keys else 0

    def set_error(self, row: int | None, key: str | None, text: str) -> None:
        """Mark the cell a validation error points at (None: no error in the table)."""
        old = self.error_row
        self.error_row, self.error_key, self.error_text = row, key, text
        for changed in {old, row} - {None}:
            assert changed is not None
            if 0 <= changed < len(self._rows):
                right = self.columnCount() - 1
                self.dataChanged.emit(self.index(changed, 0), self.index(changed, right))

    # ---- helpers ----------------------------------------------------------------------

    def _valid(self, index: Index) -> bool:
        return (
            index.isValid()
            and 0 <= index.row() < len(self._rows)
            and 0 <= index.column() < len(self.columns)
        )

    def _is_error(self, row: int, key: str) -> bool:
        return row == self.error_row and (self.error_key in (None, key))

    @staticmethod
    def _shown(column: MetricColumn, value: Any, editing: bool) -> str:
        if column.kind == "walk":
            return ""
        if value is None:
            defaults = {"type": "gauge", "bits": "auto", "number": "1", "group": "1"}
            return (
                ""
                if editing and column.kind in ("number", "group")
                else defaults.get(column.kind, "")
            )
        return to_text(value) if column.kind in ("number", "group", "bits") else str(value)

    @staticmethod
    def _store(row: dict[str, Any], column: MetricColumn, text: str) -> None:
        if column.kind == "bits":
            value: Any = None if text in ("", "auto") else to_value(text)
        elif column.kind in ("number", "group"):
            value = to_value(text)
        else:
            row[column.key] = text.strip()
            return
        if value is None:
            row.pop(column.key, None)
        else:
            row[column.key] = value


def _position(order: list[str]) -> Any:
    def key(name: str) -> int:
        return order.index(name) if name in order else len(order)

    return key


class ChoiceDelegate(QStyledItemDelegate):
    """A drop-down list for the Type and Bits cells; plain text editing elsewhere."""

    def __init__(self, model: MetricsTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metrics = model

    def _choices(self, index: Index) -> tuple[str, ...] | None:
        kind = self.metrics.columns[index.column()].kind
        return TYPES if kind == "type" else BITS if kind == "bits" else None

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        choices = self._choices(index)
        if choices is None:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        combo.addItems(list(choices))
        combo.activated.connect(lambda _i, c=combo: self.commitData.emit(c))
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            text = str(index.data(Qt.ItemDataRole.EditRole) or "")
            found = editor.findText(text)
            if found < 0:
                editor.addItem(text)  # a value from the YAML the list does not know
                found = editor.count() - 1
            editor.setCurrentIndex(found)
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)
            return
        super().setModelData(editor, model, index)
