"""The Alerts pane: what is wrong now, and what the operators do about it.

The table is a window onto the database (``AlertTableModel``): the filter bar and the
header's sort order make an ``AlertQuery`` that the database filters and sorts, one page
at a time, so a hundred thousand stored alerts load as fast as a hundred. A live refresh
(an alert changed here, or in another console or the poller, noticed by the change
watcher) re-reads the rows the operator has in view and updates them in place, keeping
the selection, the current row and the scroll position.

Operators acknowledge (A), unacknowledge (U), resolve (R) and silence (S) the selected
alerts — several at once — and see the chosen alert's history and details below.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from uuid import UUID

from PySide6.QtCore import QByteArray, QEvent, QItemSelectionModel, QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import NotFoundError, OpsError
from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.gui.alerts.actions import AlertCommands
from opsconductor_desktop.gui.alerts.details import AlertDetails
from opsconductor_desktop.gui.alerts.filters import GROUP_PREFIX, FilterBar
from opsconductor_desktop.gui.alerts.model import AlertTableModel, Column
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.tasks import report_ops_error, spawn
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.alerts import MAX_LIMIT, AlertInfo, AlertQuery
from opsconductor_desktop.services.app import Core

PAGE = 200  # alerts per page fetched
COLUMN_WIDTHS = (90, 142, 142, 92, 300, 54, 136, 136, 130)  # the summary takes the rest
#: columns whose first click sorts descending (newest, worst, most frequent first)
DESCENDING_FIRST = frozenset({Column.SEVERITY, Column.COUNT, Column.FIRST_SEEN, Column.LAST_SEEN})


class AlertsPane(Pane):
    """See the module docstring."""

    title = "Alerts"
    object_name = "alertsPane"
    concerns = frozenset({Entity.ALERT, Entity.SILENCE})
    RELOAD_DELAY_MS = 250  # an alert storm is many events: one reload for a burst

    counts_changed = Signal(object)  # dict[Severity, int]: open alerts per severity
    reloaded = Signal()

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.model = AlertTableModel(self)
        self.loaded = False
        self.load_seconds = 0.0
        self.query: AlertQuery | None = None  # what the table shows
        self.dialog: QDialog | None = None  # the dialog the pane has open, if any
        self._generation = 0  # bumped by each reload: a page fetched before is dropped
        self._scopes: dict[str, tuple[str, ...] | None] = {}  # target/group → names
        self._sources_known: set[str] = set()
        self._names_loaded = False
        self._counts_stale = True
        self.counts: dict[Severity, int] = {}  # open alerts per severity, as last read
        self._sort_section = int(Column.LAST_SEEN)
        self._restoring = False
        self._build_widgets()
        self.commands = AlertCommands(self)
        self.ack_action = self.commands.ack_action
        self.unack_action = self.commands.unack_action
        self.resolve_action = self.commands.resolve_action
        self.silence_action = self.commands.silence_action
        self._connect()
        self.commands.update([])
        self._update_empty()

    # ---- building ---------------------------------------------------------------------------

    def pane_actions(self) -> list[QAction]:
        return self.commands.actions()

    def _build_widgets(self) -> None:
        self.filters = FilterBar()
        self.messages = MessageBar()
        self.view = QTableView()
        self.view.setObjectName("alertsTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setSectionsMovable(True)
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setMinimumSectionSize(40)
        header.setSortIndicator(Column.LAST_SEEN, Qt.SortOrder.DescendingOrder)
        self.view.setSortingEnabled(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.view.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.SUMMARY, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel(self.view.viewport())
        self.empty_label.setObjectName("emptyHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); font-size: 11pt;")
        self.details = AlertDetails(self.core)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("alertsSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 260])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filters)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.filters.changed.connect(self.schedule_reload_now)
        self.filters.scope_edit.installEventFilter(self)
        self.model.sort_changed.connect(self.schedule_reload_now)
        self.model.more_wanted.connect(self._fetch_more)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._sort_clicked)
        self.view.customContextMenuRequested.connect(self.commands.context_menu)
        self.view.doubleClicked.connect(lambda _index: self.details.tabs.setCurrentIndex(0))
        selection = self.view.selectionModel()
        selection.selectionChanged.connect(self._selection_changed)
        selection.currentRowChanged.connect(self._selection_changed)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._update_empty)

    # ---- loading ----------------------------------------------------------------------------

    async def reload(self) -> None:
        """Show the first window of the current query (in place), and the open counts."""
        started = time.perf_counter()
        self._generation += 1
        try:
            query = await self._current_query()
            fresh = query != self.query
            limit = PAGE if fresh else self._window()
            # The open counts change with the alerts, not with the filters: a filter or
            # sort change is one statement less (each is a round trip to the database).
            counts = self._counts_stale or not self.loaded
            self._counts_stale = False
            page = await self.core.alerts.page(query, limit=limit, counts=counts)
        except OpsError as exc:
            self._counts_stale = True
            report_ops_error(exc, self.show_error)
            return
        if self.closed or not alive(self):
            return
        anchor = None if fresh else self._scroll_anchor()
        self.model.sync(page.alerts, page.total or 0)
        self.query = query
        if fresh:
            self.view.scrollToTop()
        elif anchor is not None:
            self._restore_anchor(anchor)
        self.loaded = True
        self.load_seconds = time.perf_counter() - started
        self._update_count()
        self._update_empty()
        self._selection_changed()
        if page.counts is not None:
            self.counts = dict(page.counts)
            self.counts_changed.emit(self.counts)
        if {a.source for a in page.alerts} - self._sources_known or not self._sources_known:
            spawn(self._load_sources(), on_error=self.show_error, name="alert sources")
        self.reloaded.emit()

    async def _current_query(self) -> AlertQuery:
        sort, descending = self.model.sort_spec()
        return AlertQuery(
            status=self.filters.status(),
            min_severity=self.filters.min_severity(),
            source=self.filters.source(),
            targets=await self._targets_of(self.filters.scope()),
            text=self.filters.text(),
            sort=sort,
            descending=descending,
        )

    async def _targets_of(self, scope: str) -> tuple[str, ...] | None:
        """The target names a target/group filter stands for (None: any target).

        ``group:NAME`` is a group's effective members; a plain name is a target — or, when
        no target has that name, a group. An alert may name a target the inventory does
        not (or no longer) know, so an unknown plain name still filters by that name.
        """
        if not scope:
            return None
        if scope in self._scopes:
            return self._scopes[scope]
        inventory = self.core.inventory
        names: tuple[str, ...]
        if scope.lower().startswith(GROUP_PREFIX):
            group = scope[len(GROUP_PREFIX) :].strip()
            try:
                names = tuple(t.name for t in await inventory.effective_members(group))
            except NotFoundError:
                self.show_error(f"There is no group named “{group}”.")
                names = ()
        else:
            try:
                names = ((await inventory.get_target(scope)).name,)
            except NotFoundError:
                try:
                    names = tuple(t.name for t in await inventory.effective_members(scope))
                except NotFoundError:
                    names = (scope,)
        self._scopes[scope] = names
        return names

    def _window(self) -> int:
        """How many rows a live refresh re-reads: those in view and a page more."""
        last = self.view.rowAt(max(0, self.view.viewport().height() - 1))
        if last < 0:
            last = self.model.rowCount()
        wanted = max(PAGE, min(self.model.rowCount(), last + 1 + PAGE))
        return min(wanted, MAX_LIMIT)

    def _scroll_anchor(self) -> UUID | None:
        """The alert at the top of the view (None at the very top: new alerts show there)."""
        if self.view.verticalScrollBar().value() == 0:
            return None
        row = self.view.rowAt(0)
        return self.model.alert(row).id if 0 <= row < self.model.rowCount() else None

    def _restore_anchor(self, anchor: UUID) -> None:
        row = self.model.row_of(anchor)
        if row is not None:
            self.view.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)

    def _fetch_more(self, offset: int) -> None:
        if self.query is None:
            self.model.fetch_failed()
            return
        spawn(
            self._more(self.query, offset, self._generation),
            on_error=self._more_failed,
            name="more alerts",
        )

    async def _more(self, query: AlertQuery, offset: int, generation: int) -> None:
        page = await self.core.alerts.page(query, offset=offset, limit=PAGE, total=False)
        if generation != self._generation or self.closed or not alive(self):
            return  # a reload came in between: it set the rows afresh
        self.model.append(page.alerts, at_end=len(page.alerts) < PAGE)
        self._update_count()

    def _more_failed(self, error: OpsError) -> None:
        if alive(self):
            self.model.fetch_failed()
            self.show_error(error)

    async def _load_sources(self) -> None:
        sources = await self.core.alerts.sources()
        if alive(self):
            self._sources_known = set(sources)
            self.filters.set_sources(sources)

    async def _load_names(self) -> None:
        targets = await self.core.inventory.list_targets()
        groups = await self.core.inventory.list_groups()
        if alive(self):
            self.filters.set_completions((t.name for t in targets), (g.name for g in groups))

    def _on_changed(self, event: Changed) -> None:
        if event.entity in (Entity.TARGET, Entity.GROUP):
            self._scopes.clear()  # group members and target names may have changed
            self._names_loaded = False
            if self.filters.scope():
                self.schedule_reload()
            return
        if event.entity in self.concerns:
            self._counts_stale = True
        super()._on_changed(event)

    def activated(self) -> None:
        if not self.loaded and not self.is_reloading():
            self.schedule_reload_now()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: object, event: QEvent) -> bool:
        focused = watched is self.filters.scope_edit and event.type() == QEvent.Type.FocusIn
        if focused and not self._names_loaded:
            self._names_loaded = True
            spawn(self._load_names(), on_error=self.show_error, name="target names")
        return False

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.model.refresh_palette()
        super().changeEvent(event)

    # ---- filter and sort ----------------------------------------------------------------------

    def focus_filter(self) -> None:
        self.filters.text_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.text_edit.selectAll()

    def _sort_clicked(self, section: int, order: Qt.SortOrder) -> None:
        """A new time, severity or count column sorts worst/newest/most first."""
        previous, self._sort_section = self._sort_section, section
        if self._restoring or section == previous or section not in DESCENDING_FIRST:
            return
        if order == Qt.SortOrder.AscendingOrder:
            self.view.horizontalHeader().setSortIndicator(section, Qt.SortOrder.DescendingOrder)

    def _update_count(self) -> None:
        self.filters.show_count(self.model.rowCount(), self.model.total)

    def _update_empty(self, *_: object) -> None:
        if self.model.rowCount():
            self.empty_label.hide()
            return
        if not self.loaded:
            text = "Loading alerts…"
        elif self.filters.is_active():
            text = "No alert matches the filters."
        else:
            text = "No open alerts. All quiet."
        self.empty_label.setText(text)
        self.empty_label.resize(self.view.viewport().size())
        self.empty_label.show()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.empty_label.resize(self.view.viewport().size())

    # ---- selection ----------------------------------------------------------------------------

    def selected_alerts(self) -> list[AlertInfo]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.alert(r) for r in rows if r < self.model.rowCount()]

    def current_alert(self) -> AlertInfo | None:
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.alert(index.row())

    def chosen_alerts(self) -> list[AlertInfo]:
        """The selected alerts, else the current one."""
        selected = self.selected_alerts()
        if selected:
            return selected
        current = self.current_alert()
        return [current] if current is not None else []

    def select_ids(self, ids: Sequence[UUID]) -> None:
        """Select these alerts (those shown) and make the first one current."""
        rows = sorted(r for r in (self.model.row_of(i) for i in ids) if r is not None)
        selection = self.view.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            selection.select(self.model.index(row, 0), flags)
        if rows:
            first = self.model.index(rows[0], 0)
            selection.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(first)

    def _selection_changed(self, *_: object) -> None:
        chosen = self.chosen_alerts()
        self.details.show_alerts(chosen)
        self.commands.update(chosen)

    # ---- feedback -------------------------------------------------------------------------------

    def show_error(self, error: OpsError | str) -> None:
        if alive(self):
            self.messages.show_error(error)

    def refresh(self) -> None:
        """Reload everything now, the status bar's counts too (F5)."""
        self._counts_stale = True
        self.schedule_reload_now()

    # ---- state --------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("header", self.view.horizontalHeader().saveState())
        settings.setValue("splitter", self.splitter.saveState())
        settings.beginGroup("filters")
        self.filters.save_state(settings)
        settings.endGroup()

    def restore_state(self, settings: QSettings) -> None:
        header = self.view.horizontalHeader()
        state = settings.value("header")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._restoring = True
            self.model.blockSignals(True)  # no reload before the window starts
            try:
                header.restoreState(state)
                self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
                self._sort_section = header.sortIndicatorSection()
            finally:
                self.model.blockSignals(False)
                self._restoring = False
        splitter = settings.value("splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        settings.beginGroup("filters")
        self.filters.restore_state(settings)
        settings.endGroup()

    def shutdown(self) -> None:
        self.details.shutdown()
        super().shutdown()
