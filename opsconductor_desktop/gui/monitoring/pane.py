"""The Monitoring pane: monitors and threshold rules defined here, and how checks stand.

Three tabs. **Monitors** and **Rules** list the definitions (filter, sort, several
selectable) with the same commands: new (Insert), edit (Enter), duplicate, enable or
disable, delete (Delete, after confirming), import a YAML file with a preview, export the
selected ones to YAML; a monitor can also be tested on one target. **Check status** shows
each (monitor, target) check: OK or FAILING, times in local time, failures and the error.

The pane reloads after monitor, rule and target changes (from this console, or noticed
in the database from another one). Check results arrive often, so on a metric change only
the check states are fetched, at most every ``STATES_INTERVAL_MS`` and only while the pane
is visible (a hidden pane catches up when shown).
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyle,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, FilterProxy
from opsconductor_desktop.gui.monitoring.commands import (
    MONITORS,
    RULES,
    STATUS,
    Commands,
    enabled_of,
)
from opsconductor_desktop.gui.monitoring.common import make_table
from opsconductor_desktop.gui.monitoring.models import MonitorsModel, RulesModel, monitor_rows
from opsconductor_desktop.gui.monitoring.refresher import StatesRefresher
from opsconductor_desktop.gui.monitoring.status_view import CheckStatusView
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import CheckStateInfo, MonitorInfo, RuleInfo

__all__ = ["MONITORS", "RULES", "STATUS", "MonitoringPane"]
STATES_INTERVAL_MS = 2000


class MonitoringPane(Pane):
    """See the module docstring."""

    title = "Monitoring"
    object_name = "monitoringPane"
    concerns = frozenset({Entity.MONITOR, Entity.ALERT_RULE, Entity.METRIC, Entity.TARGET})

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.loaded = False
        self.dialog: QDialog | None = None
        self._monitors: list[MonitorInfo] = []
        self.monitors_model = MonitorsModel(self)
        self.monitors_proxy = FilterProxy(self.monitors_model, self)
        self.rules_model = RulesModel(self)
        self.rules_proxy = FilterProxy(self.rules_model, self)
        self.status_view = CheckStatusView()
        self.messages = MessageBar()
        self.states = StatesRefresher(
            lambda: self.core.monitoring.check_states(),
            self._show_states,
            self.isVisible,
            self.show_error,
            interval_ms=STATES_INTERVAL_MS,
            parent=self,
        )
        self.commands = Commands(self)
        self._build_actions()
        self._build()
        self._connect()
        self._update_actions()

    # ---- building ---------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        slot: object,
        keys: tuple[str | QKeySequence.StandardKey, ...] = (),
        icon: QStyle.StandardPixmap | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setToolTip(tip or text)
        action.setStatusTip(tip or text)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.new_action = self._action(
            "&New…", self.commands.new_item, ("Insert", "Ctrl+N"), sp.SP_FileDialogNewFolder
        )
        self.edit_action = self._action(
            "&Edit…", self.commands.edit_item, ("Return", "Enter"), sp.SP_FileDialogDetailedView
        )
        self.duplicate_action = self._action(
            "D&uplicate…", self.commands.duplicate_item, ("Ctrl+D",), sp.SP_FileDialogListView
        )
        self.toggle_action = self._action(
            "Disa&ble", self.commands.toggle_enabled, ("Ctrl+E",), sp.SP_MediaPause
        )
        self.test_action = self._action(
            "&Test on target…", self.commands.test_item, ("Ctrl+T",), sp.SP_MediaPlay
        )
        self.delete_action = self._action(
            "&Delete…",
            self.commands.delete_items,
            (QKeySequence.StandardKey.Delete,),
            sp.SP_TrashIcon,
        )
        self.import_action = self._action(
            "&Import YAML…",
            self.commands.import_file,
            (),
            sp.SP_DialogOpenButton,
            "Import monitors, rules and silences from a YAML file (with a preview)",
        )
        self.export_action = self._action(
            "E&xport YAML…", self.commands.export_selected, (), sp.SP_DialogSaveButton
        )
        self.refresh_action = self._action(
            "Re&fresh",
            self.schedule_reload_now,
            (QKeySequence.StandardKey.Refresh,),
            sp.SP_BrowserReload,
            "Reload monitors, rules and check states (F5)",
        )
        for action in (
            self.new_action,
            self.duplicate_action,
            self.toggle_action,
            self.test_action,
            self.import_action,
            self.export_action,
            self.refresh_action,
        ):
            self.addAction(action)
        for action, short in (
            (self.new_action, "New"),
            (self.edit_action, "Edit"),
            (self.duplicate_action, "Duplicate"),
            (self.toggle_action, "Disable"),
            (self.test_action, "Test…"),
            (self.delete_action, "Delete"),
            (self.import_action, "Import…"),
            (self.export_action, "Export…"),
        ):
            action.setIconText(short)

    def _tools(self, filter_edit: QLineEdit, actions: list[QAction]) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(filter_edit, 1)
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            row.addWidget(button)
        return row

    def _list_page(
        self, view: QTableView, filter_edit: QLineEdit, actions: list[QAction]
    ) -> QWidget:
        # Enter and Delete act on the list only (Delete in a filter box edits text)
        view.addAction(self.edit_action)
        view.addAction(self.delete_action)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(self._tools(filter_edit, actions))
        layout.addWidget(view, 1)
        return page

    def _filter(self, name: str, text: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(text)
        edit.setClearButtonEnabled(True)
        return edit

    def _build(self) -> None:
        common = [self.new_action, self.edit_action, self.duplicate_action, self.toggle_action]
        files_actions = [self.delete_action, self.import_action, self.export_action]
        self.monitors_filter = self._filter("monitorsFilter", "Filter monitors…")
        self.monitors_view = make_table("monitorsTable", multi=True)
        self.monitors_view.setModel(self.monitors_proxy)
        self.monitors_view.sortByColumn(MonitorsModel.NAME, Qt.SortOrder.AscendingOrder)
        for column, width in enumerate((190, 100, 70, 70, 330, 70, 130)):
            self.monitors_view.setColumnWidth(column, width)
        self.rules_filter = self._filter("rulesFilter", "Filter rules…")
        self.rules_view = make_table("rulesTable", multi=True)
        self.rules_view.setModel(self.rules_proxy)
        self.rules_view.sortByColumn(RulesModel.NAME, Qt.SortOrder.AscendingOrder)
        for column, width in enumerate((170, 300, 210, 80, 230, 70)):
            self.rules_view.setColumnWidth(column, width)
        self.status_view.view.addAction(self.edit_action)
        for action, short in ((self.edit_action, "Edit monitor"), (self.test_action, "Test…")):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setText(short)
            self.status_view.tools.addWidget(button)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("monitoringTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(
            self._list_page(
                self.monitors_view,
                self.monitors_filter,
                [*common, self.test_action, *files_actions],
            ),
            "Monitors",
        )
        self.tabs.addTab(
            self._list_page(self.rules_view, self.rules_filter, [*common, *files_actions]),
            "Rules",
        )
        self.tabs.addTab(self.status_view, "Check status")
        self.empty_label = QLabel(self.monitors_view.viewport())
        self.empty_label.setObjectName("emptyHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); font-size: 11pt;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.messages)
        layout.addWidget(self.tabs, 1)

    def _connect(self) -> None:
        self.monitors_filter.textChanged.connect(self.monitors_proxy.setFilterFixedString)
        self.rules_filter.textChanged.connect(self.rules_proxy.setFilterFixedString)
        self.monitors_filter.textChanged.connect(self._update_empty)
        for view in (self.monitors_view, self.rules_view, self.status_view.view):
            view.doubleClicked.connect(lambda _i: self.commands.edit_item())
            view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.tabs.currentChanged.connect(lambda _i: self._update_actions())

    def pane_actions(self) -> list[QAction]:
        actions = [
            self.new_action,
            self.edit_action,
            self.duplicate_action,
            self.toggle_action,
            self.test_action,
            self.delete_action,
            self.import_action,
            self.export_action,
        ]
        for action in actions:
            action.setProperty("toolbar", False)  # the pane has buttons for these
        return [*actions, self.refresh_action]

    # ---- loading ----------------------------------------------------------------------------

    async def reload(self) -> None:
        if self.closed or not alive(self):
            return  # shut down (or deleted) while the reload was queued
        self.busy_changed.emit(True, "Loading monitors…")
        try:
            monitors = await self.core.monitoring.monitors()
            rules = await self.core.monitoring.rules()
            states = await self.core.monitoring.check_states()
        finally:
            if alive(self):  # deleted with its window while loading: nobody to tell
                self.busy_changed.emit(False, "")
        if self.closed or not alive(self):
            return
        self._monitors = monitors
        self.rules_model.replace(rules)
        self._show_states(states)
        if not self.loaded:
            for view, proxy in (
                (self.monitors_view, self.monitors_proxy),
                (self.rules_view, self.rules_proxy),
            ):
                if proxy.rowCount():
                    view.selectRow(0)
        self.loaded = True
        self._update_empty()
        self._update_actions()

    async def reloaded(self) -> None:
        """Reload after a change made here, in turn with reloads already under way (one
        that read the database before the change must not finish last)."""
        if self.closed:
            return
        self.schedule_reload_now()
        while self._reload_task:
            await asyncio.wait(list(self._reload_task))

    def _show_states(self, states: list[CheckStateInfo]) -> None:
        self.states.fresh()
        self.monitors_model.replace(monitor_rows(self._monitors, states))
        self.status_view.show_states(states)
        failing = self.status_view.failing()
        self.tabs.setTabText(MONITORS, f"Monitors ({self.monitors_model.rowCount()})")
        self.tabs.setTabText(RULES, f"Rules ({self.rules_model.rowCount()})")
        self.tabs.setTabText(
            STATUS, f"Check status ({failing} failing)" if failing else "Check status"
        )

    def _on_changed(self, event: Changed) -> None:
        if event.entity is Entity.METRIC:
            self.states.changed()  # check results: the states alone, throttled
        else:
            super()._on_changed(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.loaded:
            self.states.catch_up()

    def activated(self) -> None:
        if not self.loaded and not self.is_reloading():
            self.schedule_reload_now()
        self.current_view().setFocus()

    def _update_empty(self) -> None:
        if self.monitors_proxy.rowCount():
            self.empty_label.hide()
            return
        if self.monitors_model.rowCount():
            text = f"No monitor matches “{self.monitors_filter.text().strip()}”."
        elif self.loaded:
            text = (
                "No monitors yet.\nCreate one (Insert), or import a YAML file of monitors, "
                "rules and silences."
            )
        else:
            text = "Loading monitors…"
        self.empty_label.setText(text)
        self.empty_label.resize(self.monitors_view.viewport().size())
        self.empty_label.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty_label.resize(self.monitors_view.viewport().size())

    # ---- selection --------------------------------------------------------------------------

    def current_tab(self) -> int:
        return self.tabs.currentIndex()

    def current_view(self) -> QTableView:
        views = (self.monitors_view, self.rules_view, self.status_view.view)
        return views[self.current_tab()]

    def selected_items(self, view: QTableView) -> list[Any]:
        rows = sorted(view.selectionModel().selectedRows(), key=lambda i: i.row())
        current = view.currentIndex()
        items = [i.data(ITEM_ROLE) for i in rows]
        if current.isValid() and rows:
            first = current.siblingAtColumn(0).data(ITEM_ROLE)
            if first in items:  # the current row first: Edit and Test act on it
                items.remove(first)
                items.insert(0, first)
        return [i for i in items if i is not None]

    def selected_monitors(self) -> list[MonitorInfo]:
        if self.current_tab() == STATUS:
            state = self.status_view.selected_state()
            found = self.monitor_named(state.monitor) if state else None
            return [found] if found else []
        return [m for m in self.selected_items(self.monitors_view) if isinstance(m, MonitorInfo)]

    def selected_rules(self) -> list[RuleInfo]:
        return [r for r in self.selected_items(self.rules_view) if isinstance(r, RuleInfo)]

    def monitor_infos(self) -> list[MonitorInfo]:
        """The monitors as last loaded."""
        return list(self._monitors)

    def monitor_named(self, name: str) -> MonitorInfo | None:
        return next((m for m in self._monitors if m.name == name), None)

    def select_name(self, tab: int, name: str) -> bool:
        view, proxy = (
            (self.monitors_view, self.monitors_proxy)
            if tab == MONITORS
            else (self.rules_view, self.rules_proxy)
        )
        for row in range(proxy.rowCount()):
            index = proxy.index(row, 0)
            if index.data() == name:
                view.selectRow(row)
                view.scrollTo(index)
                return True
        return False

    def _update_actions(self) -> None:
        tab = self.current_tab()
        chosen: list[Any] = self.selected_rules() if tab == RULES else self.selected_monitors()
        noun = "rule" if tab == RULES else "monitor"
        lists = tab in (MONITORS, RULES)
        self.new_action.setEnabled(lists)
        self.new_action.setText(f"&New {noun}…")
        self.new_action.setToolTip(f"New {noun} (Insert)")
        self.edit_action.setEnabled(bool(chosen))
        self.edit_action.setText(f"&Edit {noun}…")
        self.edit_action.setToolTip(f"Edit the {noun} (Enter)")
        for action in (self.duplicate_action, self.toggle_action, self.delete_action):
            action.setEnabled(lists and bool(chosen))
        self.duplicate_action.setToolTip(f"A copy of the {noun} to edit (Ctrl+D)")
        self.delete_action.setToolTip(f"Delete the selected {noun}s (Delete)")
        enabled = enabled_of(chosen[0]) if chosen else True
        self.toggle_action.setText("Disa&ble" if enabled else "Ena&ble")
        self.toggle_action.setIconText("Disable" if enabled else "Enable")
        self.toggle_action.setToolTip(
            f"{'Disable' if enabled else 'Enable'} the selected {noun}s (Ctrl+E)"
        )
        self.toggle_action.setIcon(
            self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPause
                if enabled
                else QStyle.StandardPixmap.SP_DialogApplyButton
            )
        )
        self.test_action.setEnabled(tab != RULES and bool(chosen))
        self.test_action.setToolTip("Run the monitor once on one target, storing nothing (Ctrl+T)")
        self.import_action.setEnabled(lists)
        self.export_action.setEnabled(lists and bool(self.commands.export_items()))
        self.export_action.setToolTip(f"Export the selected {noun}s (or all shown) to YAML")

    # ---- commands -----------------------------------------------------------------------

    def show_error(self, error: OpsError | str) -> None:
        self.messages.show_error(error)

    # ---- state ------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("tab", self.current_tab())
        settings.setValue("monitors_header", self.monitors_view.horizontalHeader().saveState())
        settings.setValue("rules_header", self.rules_view.horizontalHeader().saveState())
        settings.setValue("states_header", self.status_view.view.horizontalHeader().saveState())
        settings.setValue("failing_only", self.status_view.failing_check.isChecked())

    def restore_state(self, settings: QSettings) -> None:
        for key, view in (
            ("monitors_header", self.monitors_view),
            ("rules_header", self.rules_view),
            ("states_header", self.status_view.view),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                view.horizontalHeader().restoreState(value)
        tab = settings.value("tab", MONITORS)
        if isinstance(tab, int | str) and str(tab).isdigit() and 0 <= int(tab) < 3:
            self.tabs.setCurrentIndex(int(tab))
        self.status_view.failing_check.setChecked(settings.value("failing_only") in (True, "true"))

    def shutdown(self) -> None:
        self.states.stop()
        super().shutdown()

    async def stopped(self) -> None:
        running = self.states.stop()
        await super().stopped()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
