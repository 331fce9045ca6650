"""The steps table of the job editor: step documents in order, with add/remove/move."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QStyle, QWidget

from opsconductor_desktop.gui.jobs.common import mapping

Index = QModelIndex | QPersistentModelIndex


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] + (" …" if len(lines) > 1 else "") if lines else ""


def step_summary(step: dict[str, Any]) -> str:
    """What a step does, in one line (for the table)."""
    kind = step.get("type")
    if kind == "ssh.command":
        text = _first_line(str(step.get("command") or ""))
    elif kind == "snmp.get":
        oids = step.get("oids") or []
        text = ", ".join(map(str, [oids] if isinstance(oids, str) else oids))
    elif kind == "snmp.walk":
        text = f"walk {step.get('oid') or '?'}"
    elif kind == "snmp.set":
        text = f"{step.get('oid') or '?'} = {step.get('value_type')}: {step.get('value')}"
    elif kind == "ping":
        text = f"{step.get('count', 1)} echo request(s)"
    elif kind == "tcp.check":
        text = f"port {step.get('port', '?')}"
    else:
        text = ""
    expect = mapping(step.get("expect"))
    extras = []
    if expect.get("regex"):
        extras.append(f"expect /{expect['regex']}/")
    if expect.get("not_regex"):
        extras.append(f"not /{expect['not_regex']}/")
    compare = mapping(expect.get("compare"))
    if compare:
        extras.append(f"{compare.get('op')} {compare.get('value')}")
    if step.get("capture"):
        extras.append("capture")
    return " · ".join([text, *extras]) if extras else text


class StepsTableModel(QAbstractTableModel):
    """Step documents; ``error_row`` marks the step a validation error points at."""

    NUMBER, TYPE, NAME, TIMEOUT, SUMMARY = range(5)
    TITLES = ("#", "Type", "Name", "Timeout", "Summary")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._steps: list[dict[str, Any]] = []
        self.error_row: int | None = None
        self.error_text = ""

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._steps)

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
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        if not 0 <= index.column() < len(self.TITLES):
            return None
        step, column = self._steps[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(index.row(), step, column)
        erroneous = index.row() == self.error_row
        if role == Qt.ItemDataRole.DecorationRole and column == self.NUMBER and erroneous:
            style = QApplication.style()
            return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.error_text if erroneous else self._text(index.row(), step, self.SUMMARY)
        return None

    def _text(self, row: int, step: dict[str, Any], column: int) -> str:
        if column == self.NUMBER:
            return str(row + 1)
        if column == self.TYPE:
            return str(step.get("type", ""))
        if column == self.NAME:
            return str(step.get("name") or step.get("type", ""))
        if column == self.TIMEOUT:
            value = step.get("timeout")
            return f"{value:g} s" if isinstance(value, int | float) else "default"
        return step_summary(step)

    # ---- Python API -----------------------------------------------------------------------

    def steps(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._steps)

    def step(self, row: int) -> dict[str, Any]:
        return copy.deepcopy(self._steps[row])

    def set_steps(self, steps: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._steps = copy.deepcopy(steps)
        self.error_row = None
        self.endResetModel()

    def update(self, row: int, step: dict[str, Any]) -> None:
        if 0 <= row < len(self._steps) and self._steps[row] != step:
            self._steps[row] = copy.deepcopy(step)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.TITLES) - 1))

    def insert(self, row: int, step: dict[str, Any]) -> int:
        row = max(0, min(row, len(self._steps)))
        self.beginInsertRows(QModelIndex(), row, row)
        self._steps.insert(row, copy.deepcopy(step))
        self.endInsertRows()
        self._renumber(row)
        return row

    def remove(self, row: int) -> None:
        if not 0 <= row < len(self._steps):
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._steps[row]
        self.endRemoveRows()
        self._renumber(row)

    def move(self, row: int, delta: int) -> int:
        """Move a step up (-1) or down (+1); returns its new row."""
        target = row + delta
        if not (0 <= row < len(self._steps) and 0 <= target < len(self._steps)) or delta == 0:
            return row
        # beginMoveRows wants the destination *before* which the row lands
        destination = target + 1 if delta > 0 else target
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        self._steps.insert(target, self._steps.pop(row))
        self.endMoveRows()
        self._renumber(min(row, target))
        return target

    def set_error(self, row: int | None, text: str = "") -> None:
        old, self.error_row, self.error_text = self.error_row, row, text
        last = len(self.TITLES) - 1
        for changed in {r for r in (old, row) if r is not None and 0 <= r < len(self._steps)}:
            self.dataChanged.emit(self.index(changed, 0), self.index(changed, last))

    def _renumber(self, first: int) -> None:
        if first < len(self._steps):
            self.dataChanged.emit(
                self.index(first, self.NUMBER), self.index(len(self._steps) - 1, self.NUMBER)
            )
