"""The Groups pane: groups table with a quick filter, effective members, member and rule editors.

Reloading replaces model rows in place (by id), so the selection, sort order and scroll
position survive the refresh that follows every change.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QByteArray, QItemSelection, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.events import Entity
from opsconductor_desktop.domain.groups import Group, GroupSpec
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar, confirm
from opsconductor_desktop.gui.groups.dialogs import GroupDialog
from opsconductor_desktop.gui.groups.member_editor import MemberEditor
from opsconductor_desktop.gui.groups.model import GroupsModel, MembersModel, effective_members
from opsconductor_desktop.gui.groups.rule_editor import RuleEditor
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, FilterProxy
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core


def _table(name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class GroupsPane(Pane):
    """Groups of targets: static members and dynamic rules."""

    title = "Groups"
    object_name = "groupsPane"
    concerns = frozenset({Entity.TARGET, Entity.GROUP})

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self._targets: list[Target] = []
        self._static: set[uuid.UUID] = set()
        self._detail_generation = 0
        self.dialog: GroupDialog | None = None
        self.loaded = False

        self.model = GroupsModel(self)
        self.proxy = FilterProxy(self.model, self)
        self.members_model = MembersModel(self)
        self.members_proxy = FilterProxy(self.members_model, self)
        self.message = MessageBar()
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("groupsFilter")
        self.filter_edit.setPlaceholderText("Filter groups…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = _table("groupsTable")
        self.view.setModel(self.proxy)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.sortByColumn(GroupsModel.NAME, Qt.SortOrder.AscendingOrder)
        self.members_view = _table("groupMembers")
        self.members_view.setModel(self.members_proxy)
        self.members_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.header = QLabel()
        self.header.setObjectName("groupHeader")
        self.header.setWordWrap(True)
        self.member_editor = MemberEditor(core)
        self.rule_editor = RuleEditor(core)
        self.tabs = QTabWidget()
        self._make_actions()
        self._build_layout()
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.doubleClicked.connect(lambda _index: self.rename_action.trigger())
        self._show_details(None)

    # ---- construction ----------------------------------------------------------------------

    def _make_actions(self) -> None:
        self.add_action = QAction("New group…", self)
        self.add_action.setIconText("New")
        self.add_action.setShortcut(QKeySequence(Qt.Key.Key_Insert))
        self.add_action.setToolTip("Create a group (Insert)")
        self.add_action.triggered.connect(self.ask_create)
        self.rename_action = QAction("Rename group…", self)
        self.rename_action.setIconText("Rename")
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.setToolTip("Rename the group or change its description (F2)")
        self.rename_action.triggered.connect(self.ask_rename)
        self.delete_action = QAction("Delete group…", self)
        self.delete_action.setIconText("Delete")
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setToolTip("Delete the group; its targets stay (Delete)")
        self.delete_action.triggered.connect(self.ask_delete)
        for action in (self.add_action, self.rename_action, self.delete_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # Insert works anywhere in the pane; F2 and Delete only on the groups table, so
        # Delete in a filter box or the member lists never deletes a group.
        self.addAction(self.add_action)
        self.view.addAction(self.rename_action)
        self.view.addAction(self.delete_action)

    def _build_layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        for action in (self.add_action, self.rename_action, self.delete_action):
            button = QToolButton()
            button.setDefaultAction(action)
            bar.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(bar)
        left_layout.addWidget(self.view)
        self.tabs.addTab(self.members_view, "Members")
        self.tabs.addTab(self.member_editor, "Static members")
        self.tabs.addTab(self.rule_editor, "Rule")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([600, 680])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)
        self.view.setColumnWidth(GroupsModel.NAME, 170)
        self.view.setColumnWidth(GroupsModel.MEMBERS, 80)
        self.view.setColumnWidth(GroupsModel.STATIC, 60)
        self.view.setColumnWidth(GroupsModel.RULE, 200)
        self.members_view.setColumnWidth(0, 160)

    def pane_actions(self) -> list[QAction]:
        for action in (self.add_action, self.rename_action, self.delete_action):
            action.setProperty("toolbar", False)  # the pane shows its own buttons for them
        return [self.add_action, self.rename_action, self.delete_action]

    def activated(self) -> None:
        self.view.setFocus()

    # ---- loading ---------------------------------------------------------------------------

    async def reload(self) -> None:
        groups = await self.core.inventory.list_groups()
        targets = await self.core.inventory.list_targets()
        self._targets = targets
        self.model.replace(groups)
        if not self.loaded and self.proxy.rowCount():
            self.view.selectRow(0)  # the first look shows a group, not an empty half
        self.loaded = True
        await self._load_details()

    def selected_group(self) -> Group | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        group = rows[0].data(ITEM_ROLE)
        return group if isinstance(group, Group) else None

    def select_group(self, name: str) -> bool:
        """Select the group called ``name``; False when it is not shown."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, GroupsModel.NAME)
            if index.data() == name:
                self.view.selectRow(row)
                self.view.scrollTo(index)
                return True
        return False

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        has = self.selected_group() is not None  # actions follow the selection at once
        self.rename_action.setEnabled(has)
        self.delete_action.setEnabled(has)
        spawn(self._load_details(), on_error=self.message.show_error, name="group details")

    async def _load_details(self) -> None:
        self._detail_generation += 1
        generation = self._detail_generation
        group = self.selected_group()
        static: set[uuid.UUID] = set()
        if group is not None:
            static = {t.id for t in await self.core.inventory.static_members(group.id)}
        if generation != self._detail_generation or self.closed:
            return  # the selection moved on (or the pane closed) while we waited
        self._static = static
        self._show_details(group)

    def _show_details(self, group: Group | None) -> None:
        has = group is not None
        self.rename_action.setEnabled(has)
        self.delete_action.setEnabled(has)
        self.tabs.setEnabled(has)
        if group is None:
            self.header.setText("<i>Select a group to see and edit its members.</i>")
            self.members_model.clear()
        else:
            members = effective_members(group, self._targets, self._static)
            self.members_model.replace(members)
            ruled = sum(1 for m in members if m.by_rule)
            kind = "dynamic" if group.dynamic else "static"
            text = (
                f"<b>{_html(group.name)}</b> — {kind} group, {len(members)} member(s): "
                f"{len(self._static)} static, {ruled} by rule"
            )
            if group.description:
                text += f"<br><span>{_html(group.description)}</span>"
            self.header.setText(text)
        self.member_editor.set_group(group, self._targets, self._static)
        self.rule_editor.set_group(group, self._targets)

    # ---- create, rename, delete ------------------------------------------------------------

    def ask_create(self) -> None:
        self.dialog = GroupDialog("New group", self.create_group, parent=self)
        self.dialog.open()

    def ask_rename(self) -> None:
        group = self.selected_group()
        if group is None:
            return

        async def submit(name: str, description: str) -> None:
            await self.rename_group(group, name, description)

        self.dialog = GroupDialog(
            "Rename group", submit, name=group.name, description=group.description, parent=self
        )
        self.dialog.open()

    def ask_delete(self) -> None:
        group = self.selected_group()
        if group is None:
            return
        confirm(
            self,
            "Delete group",
            f"Delete group {group.name}?\n\nIts {group.member_count} member target(s) are not "
            "deleted; only the group and its rule go.",
            lambda: spawn(
                self.delete_group(group), on_error=self.message.show_error, name="delete group"
            ),
        )

    async def create_group(self, name: str, description: str = "") -> Group:
        group = await self.core.inventory.create_group(GroupSpec(name, description))
        await self.reload()
        self.select_group(group.name)
        return group

    async def rename_group(self, group: Group, name: str, description: str) -> Group:
        spec = GroupSpec(name, description, group.rule, group.vars)
        updated = await self.core.inventory.update_group(
            group.id, spec, expected_version=group.version
        )
        await self.reload()
        return updated

    async def delete_group(self, group: Group) -> None:
        await self.core.inventory.delete_group(group.id)
        await self.reload()

    # ---- state -----------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("groups/splitter", self.splitter.saveState())
        settings.setValue("groups/header", self.view.horizontalHeader().saveState())
        settings.setValue("groups/members_header", self.members_view.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, restore in (
            ("groups/splitter", self.splitter.restoreState),
            ("groups/header", self.view.horizontalHeader().restoreState),
            ("groups/members_header", self.members_view.horizontalHeader().restoreState),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray):
                restore(value)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
