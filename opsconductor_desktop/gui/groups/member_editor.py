"""The static member editor: available targets on the left, the group's members on the right.

Each add or remove is one service call over every selected target — all or nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.groups.model import TargetFilterProxy, TargetsModel
from opsconductor_desktop.gui.keyed_model import KEY_ROLE, FilterProxy
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core


def _target_table(proxy: FilterProxy, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setColumnWidth(0, 160)
    view.setAlternatingRowColors(True)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    return view


def _count(proxy: TargetFilterProxy, model: TargetsModel) -> str:
    shown, total = proxy.rowCount(), model.rowCount()
    return str(total) if shown == total else f"{shown} of {total} shown"


class MemberEditor(QWidget):
    """Add and remove a group's static members."""

    members_changed = Signal()

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self._group: Group | None = None
        self._targets: list[Target] = []
        self._static: set[uuid.UUID] = set()
        self.busy = False

        self.available_model = TargetsModel(self, columns=2)
        self.available_proxy = TargetFilterProxy(self.available_model, self)
        self.members_model = TargetsModel(self, columns=2)
        self.members_proxy = TargetFilterProxy(self.members_model, self)

        self.message = MessageBar()
        self.available_filter = QLineEdit()
        self.available_filter.setPlaceholderText(
            "Filter: text, or a rule such as site:ams1 kind:switch"
        )
        self.available_filter.setClearButtonEnabled(True)
        self.available_filter.textChanged.connect(self.available_proxy.set_query)
        self.available_filter.textChanged.connect(self._update_state)
        self.members_filter = QLineEdit()
        self.members_filter.setPlaceholderText("Filter members…")
        self.members_filter.setClearButtonEnabled(True)
        self.members_filter.textChanged.connect(self.members_proxy.set_query)
        self.members_filter.textChanged.connect(self._update_state)
        self.available_view = _target_table(self.available_proxy, "availableTargets")
        self.members_view = _target_table(self.members_proxy, "staticMembers")
        self.available_label = QLabel()
        self.members_label = QLabel()
        self.add_button = QPushButton("Add ▶")
        self.add_button.setToolTip(
            "Make the selected targets static members (double-click works too)"
        )
        self.remove_button = QPushButton("◀ Remove")
        self.remove_button.setToolTip("Remove the selected static members")
        self._build_layout()
        self._connect()
        self._update_state()

    def _build_layout(self) -> None:
        middle = QVBoxLayout()
        middle.addStretch(1)
        middle.addWidget(self.add_button)
        middle.addWidget(self.remove_button)
        middle.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(self.available_label, 0, 0)
        grid.addWidget(self.members_label, 0, 2)
        grid.addWidget(self.available_filter, 1, 0)
        grid.addWidget(self.members_filter, 1, 2)
        grid.addWidget(self.available_view, 2, 0)
        grid.addLayout(middle, 2, 1)
        grid.addWidget(self.members_view, 2, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(grid)

    def _connect(self) -> None:
        self.add_button.clicked.connect(self.add_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.available_view.doubleClicked.connect(self._add_one)
        self.members_view.doubleClicked.connect(self._remove_one)
        for view in (self.available_view, self.members_view):
            view.selectionModel().selectionChanged.connect(self._update_state)
        remove = QAction("Remove from group", self.members_view)
        remove.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self.remove_selected)
        self.members_view.addAction(remove)
        add = QAction("Add to group", self.available_view)
        add.setShortcut(QKeySequence(Qt.Key.Key_Return))
        add.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        add.triggered.connect(self.add_selected)
        self.available_view.addAction(add)

    # ---- showing ---------------------------------------------------------------------------

    def set_group(
        self, group: Group | None, targets: Sequence[Target], static_ids: set[uuid.UUID]
    ) -> None:
        """Show ``group``'s static members and the other targets (models update in place)."""
        if group is None or self._group is None or group.id != self._group.id:
            self.message.clear()
        self._group = group
        self._targets = list(targets)
        self._static = set(static_ids) if group is not None else set()
        self._refresh_lists()

    def _refresh_lists(self) -> None:
        if self._group is None:
            self.available_model.clear()
            self.members_model.clear()
        else:
            self.available_model.replace(t for t in self._targets if t.id not in self._static)
            self.members_model.replace(t for t in self._targets if t.id in self._static)
        self._update_state()

    def _update_state(self) -> None:
        has_group = self._group is not None
        self.setEnabled(has_group)
        self.available_label.setText(
            f"<b>Available targets</b> ({_count(self.available_proxy, self.available_model)})"
        )
        self.members_label.setText(
            f"<b>Static members</b> ({_count(self.members_proxy, self.members_model)})"
        )
        idle = has_group and not self.busy
        self.add_button.setEnabled(idle and bool(self._selected(self.available_view)))
        self.remove_button.setEnabled(idle and bool(self._selected(self.members_view)))

    @staticmethod
    def _selected(view: QTableView) -> list[uuid.UUID]:
        rows = view.selectionModel().selectedRows()
        return [index.data(KEY_ROLE) for index in rows]

    # ---- writing ---------------------------------------------------------------------------

    def add_selected(self) -> None:
        self._start(self.add(self._selected(self.available_view)))

    def remove_selected(self) -> None:
        self._start(self.remove(self._selected(self.members_view)))

    def _add_one(self, index: QModelIndex) -> None:
        self._start(self.add([index.data(KEY_ROLE)]))

    def _remove_one(self, index: QModelIndex) -> None:
        self._start(self.remove([index.data(KEY_ROLE)]))

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        if self.busy:
            coro.close()  # one write at a time; the click is ignored while one runs
            return
        spawn(coro, on_error=self.message.show_error, name="edit group members")

    async def add(self, ids: Sequence[uuid.UUID]) -> None:
        """Make ``ids`` static members in one transaction."""
        group = self._group
        if group is None or not ids:
            return
        await self._write(lambda: self.core.inventory.add_members(group.id, list(ids)))
        self._static.update(ids)
        self._refresh_lists()

    async def remove(self, ids: Sequence[uuid.UUID]) -> None:
        """Remove ``ids`` from the static members in one transaction."""
        group = self._group
        if group is None or not ids:
            return
        await self._write(lambda: self.core.inventory.remove_members(group.id, list(ids)))
        self._static.difference_update(ids)
        self._refresh_lists()

    async def _write(self, call: Callable[[], Awaitable[Group]]) -> None:
        self.busy = True
        self.message.clear()
        self._update_state()
        try:
            await call()
        finally:
            self.busy = False
            self._update_state()
        self.members_changed.emit()
