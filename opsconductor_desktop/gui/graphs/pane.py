"""The Graphs pane: a target's metrics over time, several series overlaid.

Left: the targets (filtered as you type) and the chosen target's series, ticked to be
drawn, each with its colour and latest value. Right: the range (1 h … 30 d, or a custom
window) and resolution, "Follow now" and "Reset zoom", the plot and its readout line.

Reloads come through ``Pane``: a change of target, series, range or resolution, and new
samples (``Entity.METRIC``, published by the poller, or noticed in the database by the
change watcher). What a reload does depends on what changed since the plot was drawn:

* another target, range or resolution: every ticked series is fetched again for the
  range and the view shows the whole range;
* series ticked or unticked: only those are fetched or dropped; the view stays;
* nothing but time (new samples): each series fetches what came after its newest point
  and appends it; the view moves only while "Follow now" is on. Panning or zooming with
  the mouse turns it off; "Reset zoom" turns it back on.

Hidden, the pane does nothing but remember that it is stale; it catches up when shown.
The target list streams the inventory's names the first time the pane is shown and again
after target changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    QSortFilterProxyModel,
    QStringListModel,
    Qt,
)
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import NotFoundError, OpsError
from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.graphs.controls import RangeBar
from opsconductor_desktop.gui.graphs.series_list import SeriesList
from opsconductor_desktop.gui.graphs.values import (
    RESOLUTION_TEXT,
    RESOLUTIONS,
    TimeRange,
)
from opsconductor_desktop.gui.targets.query import natural_key
from opsconductor_desktop.gui.tasks import report_ops_error
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import Points, Resolution, SeriesInfo

if TYPE_CHECKING:
    from opsconductor_desktop.gui.graphs.plot import MetricPlot

POINT_LIMIT = 200_000  # the service's default limit per series: a full answer may be cut
FOLLOW_MARGIN = 0.015  # of the span, right of the newest point while following
PICK_TARGET = (
    "Pick a target on the left to see its metrics\n"
    "(or Show graphs, Ctrl+G, on a target in the Targets pane)."
)
RESOLUTION_VALUES = {value for _, value in RESOLUTIONS}


class GraphsPane(Pane):
    """See the module docstring."""

    title = "Graphs"
    object_name = "graphsPane"
    concerns = frozenset({Entity.TARGET, Entity.METRIC, Entity.MONITOR})

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.target: str | None = None
        self.infos: list[SeriesInfo] = []
        self.wanted: list[str] = []  # the ticked series (kept across targets by name)
        self.time_range = TimeRange.preset("24 h")
        self.resolution = "auto"
        self.effective = ""  # the resolution the service answered with
        self.loaded = False  # the target list has been loaded once
        self._targets_stale = True
        self._stale = False  # a reload was skipped while hidden
        self._drawn: tuple[str, str, str] | None = None  # (target, range, resolution)
        self._filling = False  # lists being filled by code, not by the operator
        self._build_actions()
        self._build()
        self._connect()
        self._update_actions()

    # ---- building ---------------------------------------------------------------------------

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.refresh_action = QAction(
            self.style().standardIcon(sp.SP_BrowserReload), "&Refresh", self
        )
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.setToolTip("Fetch the shown series again (F5)")
        self.refresh_action.triggered.connect(self.refresh)
        self.follow_action = QAction("&Follow now", self, checkable=True)
        self.follow_action.setChecked(True)
        self.follow_action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.follow_action.setToolTip(
            "Keep the newest samples in view as they arrive (Ctrl+Shift+F); "
            "panning or zooming turns it off"
        )
        self.follow_action.toggled.connect(self._follow_toggled)
        self.follow_action.setProperty("toolbar", False)  # its button is in the pane
        self.reset_action = QAction("Reset &zoom", self)
        self.reset_action.setShortcut(QKeySequence("Ctrl+0"))
        self.reset_action.setToolTip("Show the whole range again (Ctrl+0)")
        self.reset_action.triggered.connect(self.reset_zoom)
        self.reset_action.setProperty("toolbar", False)
        for action in (self.refresh_action, self.follow_action, self.reset_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)

    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("graphsTargetFilter")
        self.filter_edit.setPlaceholderText("Find a target…")
        self.filter_edit.setClearButtonEnabled(True)
        self.names = QStringListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.names)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.targets_view = QListView()
        self.targets_view.setObjectName("graphsTargets")
        self.targets_view.setModel(self.proxy)
        self.targets_view.setUniformItemSizes(True)
        self.targets_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.series_title = QLabel("<b>Series</b>")
        self.series_list = SeriesList()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Target</b>"))
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.targets_view, 3)
        left_layout.addWidget(self.series_title)
        left_layout.addWidget(self.series_list, 2)
        self.range_bar = RangeBar()
        self.messages = MessageBar()
        self._plot: MetricPlot | None = None  # made when first needed (see ``plot``)
        self.plot_area = QWidget()
        self.plot_area.setObjectName("graphsPlotArea")
        QVBoxLayout(self.plot_area).setContentsMargins(0, 0, 0, 0)
        self.info = QLabel()
        self.info.setObjectName("graphsInfo")
        tools = QHBoxLayout()
        tools.addWidget(self.range_bar)
        tools.addStretch(1)
        for action in (self.follow_action, self.reset_action):
            button = QToolButton()
            button.setDefaultAction(action)
            tools.addWidget(button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(tools)
        right_layout.addWidget(self.messages)
        right_layout.addWidget(self.plot_area, 1)
        right_layout.addWidget(self.info)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("graphsSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 1000])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        # the chosen range and "Follow now" must read as chosen in every theme
        self.setStyleSheet(
            "QToolButton:checked { background: palette(highlight);"
            " color: palette(highlighted-text); border-color: palette(highlight); }"
        )

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter_edit.returnPressed.connect(self._pick_first_match)
        self.targets_view.selectionModel().currentChanged.connect(self._target_clicked)
        self.series_list.ticks_changed.connect(self._series_ticked)
        self.range_bar.range_chosen.connect(self.set_range)
        self.range_bar.resolution_chosen.connect(self.set_resolution)

    @property
    def plot(self) -> MetricPlot:
        """The plot, made the first time it is needed: pyqtgraph and numpy take most of a
        second to import, which the console's start-up should not pay for a hidden pane."""
        if self._plot is None:
            from opsconductor_desktop.gui.graphs.plot import MetricPlot

            self._plot = MetricPlot()
            self._plot.show_message(PICK_TARGET)
            self._plot.view_changed_by_user.connect(self._user_moved_view)
            layout = self.plot_area.layout()
            assert layout is not None
            layout.addWidget(self._plot)
        return self._plot

    def showEvent(self, event: QShowEvent) -> None:
        _ = self.plot  # the first time the pane is shown
        super().showEvent(event)

    def pane_actions(self) -> list[QAction]:
        return [self.refresh_action, self.follow_action, self.reset_action]

    # ---- what the operator chooses ----------------------------------------------------------

    def show_target(self, name: str, series: str = "") -> None:
        """Show ``name``'s metrics (only ``series`` ticked, when given)."""
        if series:
            self.wanted = [series]
            self.series_list.forget()  # ticked afresh from ``wanted``
        if self.target != name:
            self.target = name
            self.plot.clear()
            self._drawn = None
        if self.proxy.mapFromSource(self._row_of(name)).row() < 0:
            self.filter_edit.clear()  # the filter hides it: show it
        self._select_in_list(name)
        self.schedule_reload_now()

    def set_range(self, time_range: TimeRange) -> None:
        self.time_range = time_range
        if self.range_bar.current != time_range:
            self.range_bar.choose(time_range)  # re-enters with the same range
            return
        self.follow_action.setChecked(time_range.live)
        self._update_actions()
        self.schedule_reload_now()

    def set_resolution(self, resolution: str) -> None:
        self.resolution = resolution
        if self.range_bar.resolution_value() != resolution:
            self.range_bar.set_resolution(resolution)  # re-enters with the same value
            return
        self.schedule_reload_now()

    def refresh(self) -> None:
        self._drawn = None  # fetch everything again
        self.schedule_reload_now()

    def reset_zoom(self) -> None:
        """The whole range in view; following again when the range ends now."""
        start, end = self.time_range.window(utcnow())
        self.plot.set_x_range(start.timestamp(), end.timestamp())
        if self.time_range.live:
            self.follow_action.setChecked(True)

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self._follow()

    def _user_moved_view(self) -> None:
        if self.follow_action.isChecked():
            self.follow_action.setChecked(False)

    def _target_clicked(self, current: QModelIndex, _: QModelIndex) -> None:
        if self._filling or not current.isValid():
            return
        name = str(current.data())
        if name != self.target:
            self.show_target(name)

    def _pick_first_match(self) -> None:
        if self.proxy.rowCount():
            self.targets_view.setCurrentIndex(self.proxy.index(0, 0))
            self.targets_view.setFocus()

    def _series_ticked(self) -> None:
        self.wanted = self.ticked()
        self.schedule_reload_now()

    def ticked(self) -> list[str]:
        """The ticked series, in list order."""
        return self.series_list.ticked()

    def tick(self, names: Sequence[str]) -> None:
        """Tick exactly ``names`` (as the operator would, one reload follows)."""
        self.wanted = list(names)
        self.series_list.set_ticked(names)
        self.schedule_reload_now()

    # ---- loading ------------------------------------------------------------------------------

    async def settled(self) -> None:
        """Wait for the reload in flight, if any, with the reloads it was asked for."""
        running = list(self._reload_task)
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    def activated(self) -> None:
        if self._stale or not self.loaded:
            self.schedule_reload_now()

    def _on_changed(self, event: Changed) -> None:
        if event.entity is Entity.TARGET:
            self._targets_stale = True
        super()._on_changed(event)

    async def reload(self) -> None:
        if not self.isVisible():
            self._stale = True  # catch up when shown (``activated``)
            return
        self._stale = False
        if self._targets_stale or not self.loaded:
            await self._load_targets()
        try:
            await self._refresh()
        except OpsError as exc:
            report_ops_error(exc, self.show_error)
        else:
            if self.messages.kind == "error":
                self.messages.clear()

    async def _load_targets(self) -> None:
        self._targets_stale = False
        names: list[str] = []
        async with aclosing(self.core.inventory.iter_targets(chunk_size=500)) as chunks:
            async for chunk in chunks:
                names.extend(t.name for t in chunk)
        if not alive(self):
            return
        names.sort(key=natural_key)
        self._filling = True
        try:
            self.names.setStringList(names)
        finally:
            self._filling = False
        self.loaded = True
        if self.target is not None:
            self._select_in_list(self.target)

    async def _refresh(self) -> None:
        target = self.target
        if target is None:
            self._show_series([])
            self.plot.clear()
            self.plot.show_message(PICK_TARGET)
            self.info.setText("")
            return
        try:
            infos = await self.core.monitoring.series(target)
        except NotFoundError:
            if self.target == target:
                self._forget_target(target)
            return
        if self.target != target or not alive(self):
            return  # another target was chosen meanwhile: the next reload shows it
        self._show_series(infos)
        ticked = self.ticked()
        if not infos or not ticked:
            self.plot.clear()
            self._drawn = None
            self.info.setText("")
            self.plot.show_message(
                f"No metrics yet for {target} — add a monitor that selects it\n"
                "(in the Monitoring pane, or: opsconductor monitors import FILE)."
                if not infos
                else "Tick one or more series on the left to draw them."
            )
            return
        key = (target, self.time_range.key(), self.resolution)
        if key != self._drawn:
            await self._load_all(key, ticked)
        else:
            await self._sync(ticked)
            if self.time_range.live:
                await self._append()
        self._show_info()

    def _forget_target(self, target: str) -> None:
        self.plot.clear()
        self._drawn = None
        self.target = None
        self._show_series([])
        self.plot.show_message(f"{target} no longer exists.\n{PICK_TARGET}")

    async def _fetch(self, series: str, since: datetime | None = None) -> Points:
        assert self.target is not None
        start, end = self.time_range.window(utcnow())
        resolution = self.effective if since is not None else self.resolution
        return await self.core.monitoring.points(
            self.target,
            series,
            start=since or start,
            end=None if self.time_range.live else end,
            resolution=cast(Resolution, resolution),
        )

    async def _load_all(self, key: tuple[str, str, str], ticked: list[str]) -> None:
        self._drawn = None
        self.plot.clear()
        self.plot.show_message(f"Loading {', '.join(ticked)}…")
        self.busy_changed.emit(True, "Loading metrics…")
        try:
            for name in ticked:
                points = await self._fetch(name)
                if self._key() != key or not alive(self):
                    return  # the choice changed meanwhile: the next reload draws it
                self.plot.set_series(name, points, self._index(name))
                self.effective = points.resolution
        finally:
            if alive(self):
                self.busy_changed.emit(False, "")
        self._drawn = key
        self._show_view()

    async def _sync(self, ticked: list[str]) -> None:
        """Drop unticked series, fetch newly ticked ones; the view stays."""
        for name in list(self.plot.series):
            if name not in ticked:
                self.plot.remove(name)
        key = self._key()
        for name in ticked:
            if name not in self.plot.series:
                points = await self._fetch(name)
                if self._key() != key or name not in self.ticked():
                    return
                self.plot.set_series(name, points, self._index(name))

    async def _append(self) -> int:
        """Fetch what came after each series' newest point; the number of points added."""
        added = 0
        key = self._key()
        for name, series in list(self.plot.series.items()):
            since = float(series.ts[-1]) if series.ts.size else None
            if since is not None and since >= time.time() - 1:
                continue
            moment = datetime.fromtimestamp(since, UTC) if since is not None else None
            points = await self._fetch(name, moment)
            if self._key() != key or name not in self.plot.series:
                return added
            added += self.plot.append(name, points)
        if self.follow_action.isChecked():
            self._follow()
        return added

    def _key(self) -> tuple[str, str, str] | None:
        if self.target is None:
            return None
        return (self.target, self.time_range.key(), self.resolution)

    def _index(self, series: str) -> int:
        """A series' colour index: its place among the target's series."""
        names = [i.series for i in self.infos]
        return names.index(series) if series in names else len(names)

    # ---- the view -----------------------------------------------------------------------------

    def _show_view(self) -> None:
        if self.follow_action.isChecked() and self.time_range.live:
            self._follow()
        else:
            start, end = self.time_range.window(utcnow())
            self.plot.set_x_range(start.timestamp(), end.timestamp())

    def _follow(self) -> None:
        if self.time_range.span is None:
            return
        span = self.time_range.span.total_seconds()
        end = max(time.time(), self.plot.last_time() or 0.0)
        self.plot.set_x_range(end - span, end + span * FOLLOW_MARGIN)

    def _show_series(self, infos: list[SeriesInfo]) -> None:
        self.infos = infos
        self.series_list.show_infos(infos, self.wanted)
        count = f" ({len(infos)})" if infos else ""
        self.series_title.setText(f"<b>Series{count}</b>")

    def _show_info(self) -> None:
        counts = {name: s.ts.size for name, s in self.plot.series.items()}
        total = sum(counts.values())
        text = (
            f"{self.target} · {self.time_range.label} · "
            f"{RESOLUTION_TEXT.get(self.effective, self.effective)} · "
            f"{len(counts)} series · {total:,} points"
        )
        if any(n >= POINT_LIMIT for n in counts.values()):
            text += " — cut at the first 200,000 points: choose 5 min or 1 h"
        self.info.setText(text)

    def _row_of(self, name: str) -> QModelIndex:
        names = self.names.stringList()
        try:
            return self.names.index(names.index(name), 0)
        except ValueError:
            return QModelIndex()

    def _select_in_list(self, name: str) -> None:
        index = self.proxy.mapFromSource(self._row_of(name))
        if not index.isValid():
            return
        self._filling = True
        try:
            self.targets_view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.targets_view.scrollTo(index)
        finally:
            self._filling = False

    def _update_actions(self) -> None:
        self.follow_action.setEnabled(self.time_range.live)

    def show_error(self, error: OpsError | str) -> None:
        self.messages.show_error(error)

    # ---- state --------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("splitter", self.splitter.saveState())
        settings.setValue("target", self.target or "")
        settings.setValue("series", ",".join(self.wanted))
        settings.setValue("range", self.time_range.label if self.time_range.live else "")
        settings.setValue("resolution", self.resolution)

    def restore_state(self, settings: QSettings) -> None:
        splitter = settings.value("splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        target = settings.value("target", "")
        if isinstance(target, str) and target:
            self.target = target
        series = settings.value("series", "")
        if isinstance(series, str) and series:
            self.wanted = [s for s in series.split(",") if s]
        label = settings.value("range", "")
        if isinstance(label, str) and label:
            self.time_range = TimeRange.preset(label)
        resolution = settings.value("resolution", "")
        if isinstance(resolution, str) and resolution in RESOLUTION_VALUES:
            self.resolution = resolution
        self.range_bar.show_choice(self.time_range, self.resolution)
        self._update_actions()
