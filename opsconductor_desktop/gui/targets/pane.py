"""The Targets pane: the inventory table with its quick filter, dialogs and details.

Loading streams targets from the services in chunks (``iter_targets``) and feeds them to
the model as they come, so ten thousand targets appear without stalling the event loop;
reloads (after local changes, or changes another process made, noticed by the change
watcher) update rows in place and keep the selection and the scroll position.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import aclosing
from uuid import UUID

from PySide6.QtCore import (
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.events import Entity
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.targets.bulk_edit import BulkEditDialog
from opsconductor_desktop.gui.targets.details import DetailsPanel
from opsconductor_desktop.gui.targets.export import export_to_file
from opsconductor_desktop.gui.targets.filter import TargetFilterProxy
from opsconductor_desktop.gui.targets.import_dialog import ImportDialog
from opsconductor_desktop.gui.targets.model import Column, TargetTableModel
from opsconductor_desktop.gui.targets.target_dialog import TargetDialog
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import BusyBar, alive, ask, ask_file, confirm, dispose
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.importing import ImportReport

FILTER_HELP = (
    "Quick filter — every word must match:\n"
    "  free text        matches any field (name, address, vendor, tags, groups…)\n"
    "  tag:core  kind:switch  vendor:cisco  site:ams1  group:edge  name:  address:\n"
    "  site:ams*        * and ? match the whole value\n"
    "  -tag:lab  not tag:lab   leave those out\n"
    "  enabled:no       disabled targets\n"
    "  a or b           either"
)
COLUMN_WIDTHS = (165, 115, 95, 90, 65, 165, 62, 200)


class TargetsPane(Pane):
    """See the module docstring."""

    title = "Targets"
    object_name = "targetsPane"
    concerns = frozenset({Entity.TARGET, Entity.GROUP, Entity.CREDENTIAL})
    CHUNK = 25  # targets made per step of the loop: a few milliseconds of Python
    INSERT_SLICE = 2000  # rows inserted per loop step at the end of a first load
    COMMIT_EVERY = 0.4  # seconds between insertions/progress while loading (each: a repaint)

    reloaded = Signal()
    graphs_requested = Signal(str, str)  # target name, series ("": the Graphs pane chooses)

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.model = TargetTableModel(self)
        self.proxy = TargetFilterProxy(self.model, self)
        self.loaded = False
        self.first_rows_seconds = 0.0
        self.load_seconds = 0.0
        self.dialog: QDialog | None = None  # the dialog the pane has open, if any
        self._build_widgets()
        self._build_actions()
        self._connect()
        self._update_actions()
        self._update_count()

    # ---- building ---------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("quickFilter")
        self.filter_edit.setPlaceholderText(
            "Filter (Ctrl+F): text, tag:core, vendor:cisco, site:ams*, group:…, -tag:lab"
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(FILTER_HELP)
        self.count_label = QLabel()
        self.count_label.setObjectName("targetCount")
        self.busy = BusyBar()
        self.messages = MessageBar()
        self.view = QTableView()
        self.view.setObjectName("targetsTable")
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setSortIndicator(Column.NAME, Qt.SortOrder.AscendingOrder)
        header.setHighlightSections(False)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.view.setColumnWidth(column, width)
        self.empty_label = QLabel(self.view.viewport())
        self.empty_label.setObjectName("emptyHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); font-size: 11pt;")
        self.details = DetailsPanel(self.core)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("targetsSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([940, 330])
        self.splitter.setChildrenCollapsible(False)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.messages)
        layout.addWidget(self.busy)
        layout.addWidget(self.splitter, 1)

    def _action(
        self,
        text: str,
        slot: object,
        shortcuts: Sequence[QKeySequence | QKeySequence.StandardKey | str] = (),
        icon: QStyle.StandardPixmap | None = None,
        *,
        tip: str = "",
        view_only: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        if view_only:
            # Only while the table has focus: Delete in the filter box deletes a character.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        else:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.add_action = self._action(
            "&Add target…",
            self.add_target,
            ["Insert"],
            sp.SP_FileDialogNewFolder,
            tip="Add a target (Insert)",
        )
        self.edit_action = self._action(
            "&Edit target…",
            self.edit_current,
            ["Return", "Enter"],
            sp.SP_FileDialogDetailedView,
            tip="Edit the current target (Enter)",
            view_only=True,
        )
        self.delete_action = self._action(
            "&Delete…",
            self.delete_selected,
            [QKeySequence.StandardKey.Delete],
            sp.SP_TrashIcon,
            tip="Delete the selected targets (Delete)",
            view_only=True,
        )
        self.bulk_action = self._action(
            "&Bulk edit…",
            self.bulk_edit_selected,
            ["Ctrl+B"],
            sp.SP_FileDialogListView,
            tip="Add/remove tags and enable/disable the selected targets (Ctrl+B)",
        )
        self.find_action = self._action(
            "&Find…",
            self.focus_filter,
            [QKeySequence.StandardKey.Find],
            tip="Go to the quick filter (Ctrl+F)",
        )
        self.find_action.setProperty("toolbar", False)  # the filter box is right there
        self.graphs_action = self._action(
            "Show &graphs",
            self.show_graphs,
            ["Ctrl+G"],
            tip="Open the current target's metrics in the Graphs pane (Ctrl+G)",
            view_only=True,
        )
        self.graphs_action.setProperty("toolbar", False)
        self.refresh_action = self._action(
            "&Refresh",
            self.schedule_reload_now,
            [QKeySequence.StandardKey.Refresh],
            sp.SP_BrowserReload,
            tip="Reload the targets (F5)",
        )
        self.import_action = QAction(
            self.style().standardIcon(sp.SP_DialogOpenButton), "&Import targets…", self
        )
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setToolTip("Import a CSV, JSON or Ansible inventory (Ctrl+I)")
        self.import_action.triggered.connect(self.import_targets)
        self.export_action = QAction(
            self.style().standardIcon(sp.SP_DialogSaveButton), "&Export targets…", self
        )
        self.export_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_action.setToolTip("Export the shown targets to CSV or JSON (Ctrl+Shift+E)")
        self.export_action.triggered.connect(self.export_targets)

    def pane_actions(self) -> list[QAction]:
        return [
            self.add_action,
            self.edit_action,
            self.delete_action,
            self.bulk_action,
            self.graphs_action,
            self.find_action,
            self.refresh_action,
        ]

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self.apply_filter)
        self.filter_edit.returnPressed.connect(self._filter_to_table)
        self.view.doubleClicked.connect(lambda _: self.edit_current())
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.details.graphs_requested.connect(self.graphs_requested)
        selection = self.view.selectionModel()
        selection.selectionChanged.connect(self._selection_changed)
        selection.currentRowChanged.connect(self._selection_changed)
        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._update_count)

    # ---- loading ----------------------------------------------------------------------------

    async def reload(self) -> None:
        """Stream every target into the model (in place), then drop vanished ones."""
        started = time.perf_counter()
        first_time = not self.loaded
        self.busy.start("Loading targets…")
        self.busy_changed.emit(True, "Loading targets…")
        seen: set[UUID] = set()
        first_rows = 0.0
        committed = started
        # Into a table already shown, new rows appear as they come (a few, usually); the
        # first load of a big inventory shows its progress and then every row at once,
        # sorted (see TargetTableModel.finish_sync).
        progressive = self.model.rowCount() > 0
        try:
            async with aclosing(self.core.inventory.iter_targets(chunk_size=self.CHUNK)) as it:
                async for chunk in it:
                    self.model.stage(chunk)
                    seen.update(t.id for t in chunk)
                    now = time.perf_counter()
                    if now - committed >= self.COMMIT_EVERY:
                        committed = now
                        if progressive:
                            self.model.commit()
                        if first_time:
                            self.busy.update_text(f"Loading targets… {len(seen):,}")
            if not progressive:
                await self._insert_sorted()
            self.model.finish_sync(seen)
            first_rows = time.perf_counter() - started
        finally:
            if alive(self):
                self.busy.stop()
                self.busy_changed.emit(False, "")
        self.loaded = True
        self.first_rows_seconds = first_rows
        self.load_seconds = time.perf_counter() - started
        self._update_count()
        self._selection_changed()
        self.reloaded.emit()

    async def _insert_sorted(self) -> None:
        """The first load: every row at once for the eye — one repaint — but inserted in
        sorted slices, one loop step each, so that no step stalls the console."""
        self.model.sort_staged()
        await asyncio.sleep(0)
        self.view.setUpdatesEnabled(False)
        try:
            while self.model.staged():
                self.model.commit(limit=self.INSERT_SLICE)
                await asyncio.sleep(0)
        finally:
            if alive(self.view):
                self.view.setUpdatesEnabled(True)

    def activated(self) -> None:
        if not self.loaded and not self.is_reloading():
            self.schedule_reload_now()

    # ---- filter -------------------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        self.proxy.set_filter_text(text)
        self._update_count()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def _filter_to_table(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.view.currentIndex().isValid() and self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if self.filter_edit.text().strip():
            self.count_label.setText(f"{shown:,} of {total:,} targets")
        else:
            self.count_label.setText(f"{total:,} targets")
        if shown:
            self.empty_label.hide()
            return
        if total:
            text = f"No target matches “{self.filter_edit.text().strip()}”."
        elif self.loaded:
            text = "No targets yet.\nAdd one (Insert) or import an inventory (Ctrl+I)."
        else:
            text = "Loading targets…"
        self.empty_label.setText(text)
        self.empty_label.resize(self.view.viewport().size())
        self.empty_label.show()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.empty_label.resize(self.view.viewport().size())

    # ---- selection ----------------------------------------------------------------------------

    def selected_targets(self) -> list[Target]:
        rows = self.view.selectionModel().selectedRows()
        return [self.model.target(self.proxy.mapToSource(i).row()) for i in rows]

    def current_target(self) -> Target | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return self.model.target(self.proxy.mapToSource(index).row())

    def select_ids(self, ids: Sequence[UUID]) -> None:
        """Select these targets (those the filter shows) and scroll to the first."""
        selection = QItemSelection()
        first: QModelIndex | None = None
        for target_id in ids:
            row = self.model.row_of(target_id)
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                selection.select(index, index)
                first = first or index
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        model = self.view.selectionModel()
        model.select(selection, flags)
        if first is not None:
            model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(first)

    def _selection_changed(self, *_: object) -> None:
        selected = self.selected_targets()
        current = self.current_target()
        if len(selected) == 1:
            self.details.show_target(selected[0])
        elif not selected and current is not None:
            self.details.show_target(current)
        else:
            self.details.show_target(None, len(selected))
        self._update_actions()

    def _update_actions(self) -> None:
        count = len(self.view.selectionModel().selectedRows())
        has_current = self.view.currentIndex().isValid()
        self.edit_action.setEnabled(count == 1 or (count == 0 and has_current))
        self.graphs_action.setEnabled(count == 1 or (count == 0 and has_current))
        self.delete_action.setEnabled(count > 0)
        self.bulk_action.setEnabled(count > 0)

    # ---- operations -----------------------------------------------------------------------------

    def show_error(self, error: OpsError | str) -> None:
        self.messages.show_error(error)

    def add_target(self) -> None:
        spawn(self._edit(None), on_error=self.show_error, name="add target")

    def edit_current(self) -> None:
        selected = self.selected_targets()
        target = selected[0] if len(selected) == 1 else self.current_target()
        if target is not None:
            spawn(self._edit(target), on_error=self.show_error, name="edit target")

    async def _edit(self, target: Target | None) -> None:
        credentials = await self.core.credentials.list()
        entries = self.model.entries()
        dialog = TargetDialog(
            self.core,
            target=target,
            names=self.model.names(),
            credentials=credentials,
            sites={e.target.spec.site for e in entries},
            vendors={e.target.spec.vendor for e in entries},
            parent=self,
        )
        self.dialog = dialog
        try:
            code = await ask(dialog)
            stored = dialog.result_target
        finally:
            self.dialog = None
            dispose(dialog)
        if code == QDialog.DialogCode.Accepted and stored is not None:
            self.model.upsert([stored])
            self.model.restore_order()
            self.select_ids([stored.id])
            verb = "Added" if target is None else "Saved"
            self.status_message.emit(f"{verb} target {stored.name}", 5000)

    def show_graphs(self) -> None:
        selected = self.selected_targets()
        target = selected[0] if len(selected) == 1 else self.current_target()
        if target is not None:
            self.graphs_requested.emit(target.name, "")

    def delete_selected(self) -> None:
        targets = self.selected_targets()
        if targets:
            spawn(self._delete(targets), on_error=self.show_error, name="delete targets")

    async def _delete(self, targets: list[Target]) -> None:
        names = sorted(t.name for t in targets)
        shown = "\n".join(names[:12]) + (
            f"\n… and {len(names) - 12} more" if len(names) > 12 else ""
        )
        title = f"Delete {len(names)} target(s)?"
        if not await confirm(self, "Delete targets", title, action="Delete", detail=shown):
            return
        count = await self.core.inventory.delete_targets([t.id for t in targets])
        self.model.remove_ids(t.id for t in targets)
        self.status_message.emit(f"Deleted {count} target(s)", 5000)

    def bulk_edit_selected(self) -> None:
        targets = self.selected_targets()
        if targets:
            spawn(self._bulk_edit(targets), on_error=self.show_error, name="bulk edit")

    async def _bulk_edit(self, targets: list[Target]) -> None:
        known = {tag for e in self.model.entries() for tag in e.target.spec.tags}
        dialog = BulkEditDialog(sorted(t.name for t in targets), known, self)
        self.dialog = dialog
        try:
            code = await ask(dialog)
            add, remove, enabled = dialog.changes()
        finally:
            self.dialog = None
            dispose(dialog)
        if code != QDialog.DialogCode.Accepted:
            return
        count = await self.core.inventory.bulk_edit(
            [t.id for t in targets], add_tags=add, remove_tags=remove, enabled=enabled
        )
        self.status_message.emit(f"Changed {count} target(s)", 5000)
        self.schedule_reload_now()

    def import_targets(self) -> None:
        spawn(self._import(), on_error=self.show_error, name="import targets")

    async def _import(self) -> ImportReport | None:
        dialog = ImportDialog(self.core, self)
        self.dialog = dialog
        try:
            await ask(dialog)
            report = dialog.final_report
        finally:
            self.dialog = None
            dispose(dialog)
        if report is None:
            return None
        self.status_message.emit(
            f"Imported from {report.source}: {len(report.created)} created, "
            f"{len(report.updated)} updated, {len(report.errors)} skipped",
            8000,
        )
        self.schedule_reload_now()
        return report

    def export_targets(self) -> None:
        spawn(self._export(), on_error=self.show_error, name="export targets")

    async def _export(self, path: str | None = None) -> int:
        filtered = bool(self.filter_edit.text().strip())
        if path is None:
            path = await ask_file(
                self,
                "Export the shown targets" if filtered else "Export targets",
                save=True,
                name_filters=("CSV (*.csv)", "JSON, with variables (*.json)"),
                default_suffix="csv",
            )
        if not path:
            return 0
        only = None
        if filtered:
            only = {
                self.model.target(self.proxy.mapToSource(self.proxy.index(r, 0)).row()).id
                for r in range(self.proxy.rowCount())
            }
        count = await export_to_file(self.core, path, only)
        scope = " (the filtered view)" if filtered else ""
        self.status_message.emit(f"Exported {count} target(s){scope} to {path}", 8000)
        return count

    # ---- state ------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("header", self.view.horizontalHeader().saveState())
        settings.setValue("splitter", self.splitter.saveState())
        settings.setValue("filter", self.filter_edit.text())

    def restore_state(self, settings: QSettings) -> None:
        header = self.view.horizontalHeader()
        state = settings.value("header")
        if isinstance(state, QByteArray) and not state.isEmpty():
            header.restoreState(state)
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        splitter = settings.value("splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        text = settings.value("filter", "")
        if isinstance(text, str) and text:
            self.filter_edit.setText(text)

    def shutdown(self) -> None:
        self.details.shutdown()
        super().shutdown()
