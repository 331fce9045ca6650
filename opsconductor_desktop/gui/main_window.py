"""The main window: pane switcher, menus, toolbar, status bar, and what persists.

Window geometry, the current pane and each pane's layout (columns, splitters) are kept in
an INI file under the configuration folder (``console.ini``), never in the platform's
registry, so ``--home`` isolates them like everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
from collections.abc import Callable

import PySide6
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QStyle,
    QToolBar,
    QWidget,
)

from opsconductor_desktop import __version__, paths
from opsconductor_desktop.config import THEMES, save_settings, with_updates
from opsconductor_desktop.domain.errors import DatabaseUnavailableError, OpsError
from opsconductor_desktop.gui import tasks
from opsconductor_desktop.gui.alerts.pane import AlertsPane
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.graphs.pane import GraphsPane
from opsconductor_desktop.gui.notifications import AlertNotifier
from opsconductor_desktop.gui.panes import PANE_CLASSES
from opsconductor_desktop.gui.status import StatusBar
from opsconductor_desktop.gui.targets.pane import TargetsPane
from opsconductor_desktop.gui.theme import apply_theme
from opsconductor_desktop.gui.widgets import ask, dispose
from opsconductor_desktop.services.app import Core

log = logging.getLogger(__name__)

SETTINGS_FILE = "console.ini"
WATCH_INTERVAL = 1.0  # seconds between polls for changes made by other processes
DISPATCHER_DELAY = 2.0  # seconds after start before the dispatcher loads the drivers
_PANE_ICONS = {
    "targetsPane": QStyle.StandardPixmap.SP_ComputerIcon,
    "groupsPane": QStyle.StandardPixmap.SP_DirIcon,
    "jobsPane": QStyle.StandardPixmap.SP_MediaPlay,
    "graphsPane": QStyle.StandardPixmap.SP_DesktopIcon,
    "alertsPane": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "monitoringPane": QStyle.StandardPixmap.SP_DriveNetIcon,
    "connectorsPane": QStyle.StandardPixmap.SP_CommandLink,
    "logsPane": QStyle.StandardPixmap.SP_FileDialogContentsView,
}


def console_settings(core: Core) -> QSettings:
    """The console's own QSettings: an INI file in the configuration folder."""
    path = core.paths.config_dir / SETTINGS_FILE
    return QSettings(str(path), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """See the module docstring. ``start()`` begins the background work, ``shutdown()`` ends it."""

    closed = Signal()

    def __init__(
        self,
        core: Core,
        *,
        settings: QSettings | None = None,
        pane_classes: tuple[type[Pane], ...] = PANE_CLASSES,
        dispatcher: bool = False,
    ) -> None:
        super().__init__()
        self._run_dispatcher = dispatcher
        self._polling: asyncio.Task[None] | None = None
        self._stop_polling = asyncio.Event()
        self.setObjectName("mainWindow")
        self.core = core
        self.settings = settings or console_settings(core)
        self.setWindowTitle(f"OpsConductor — {core.db_info}")
        icon_file = paths.resources_dir() / "opsconductor.svg"
        if icon_file.exists():
            self.setWindowIcon(QIcon(str(icon_file)))
        self._watcher: asyncio.Task[None] | None = None
        self._started = False
        self._shut_down = False
        self.panes: list[Pane] = [cls(core, self) for cls in pane_classes]
        self.status = StatusBar(core, self)
        self.setStatusBar(self.status)
        self.notifier = AlertNotifier(
            core, show_status=self.status.showMessage, icon=self.windowIcon(), parent=self
        )
        self._build_central()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        for pane in self.panes:
            pane.busy_changed.connect(self.status.set_busy)
            pane.status_message.connect(self.status.showMessage)
        self._wire_alerts()
        self._wire_graphs()
        self._remove_observer = tasks.add_error_observer(self._observe_error)
        tasks.set_error_handler(self.show_error)
        self.destroyed.connect(_forget_hooks(self._remove_observer))
        apply_theme(_app(), core.settings.theme)
        self.resize(1280, 800)
        self.restore_state()

    # ---- building ---------------------------------------------------------------------------

    def _build_central(self) -> None:
        self.switcher = QListWidget()
        self.switcher.setObjectName("paneSwitcher")
        self.switcher.setIconSize(QSize(20, 20))
        self.switcher.setFixedWidth(150)
        self.switcher.setSpacing(2)
        self.stack = QStackedWidget()
        for number, pane in enumerate(self.panes, start=1):
            icon = self.style().standardIcon(
                _PANE_ICONS.get(pane.object_name, QStyle.StandardPixmap.SP_FileIcon)
            )
            item = QListWidgetItem(icon, pane.title)
            item.setToolTip(f"{pane.title} (Ctrl+{number})")
            item.setSizeHint(QSize(140, 34))
            self.switcher.addItem(item)
            self.stack.addWidget(pane)
        self.switcher.currentRowChanged.connect(self.show_pane)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.switcher)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        targets = self.targets_pane()
        self.import_action = QAction(
            self.style().standardIcon(sp.SP_DialogOpenButton), "&Import targets…", self
        )
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setToolTip("Import targets from a CSV, JSON or Ansible file (Ctrl+I)")
        self.export_action = QAction(
            self.style().standardIcon(sp.SP_DialogSaveButton), "&Export targets…", self
        )
        self.export_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_action.setToolTip("Export targets to CSV or JSON (Ctrl+Shift+E)")
        if targets is not None:
            self.import_action.triggered.connect(lambda: self._on_targets(targets.import_targets))
            self.export_action.triggered.connect(lambda: self._on_targets(targets.export_targets))
        else:
            self.import_action.setEnabled(False)
            self.export_action.setEnabled(False)
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        self.pane_group = QActionGroup(self)
        self.pane_actions: list[QAction] = []
        for number, pane in enumerate(self.panes, start=1):
            action = QAction(pane.title, self, checkable=True)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, n=number - 1: self.show_pane(n))
            self.pane_group.addAction(action)
            self.pane_actions.append(action)
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for theme in THEMES:
            action = QAction(theme.capitalize(), self, checkable=True)
            action.setChecked(theme == self.core.settings.theme)
            action.triggered.connect(lambda _=False, t=theme: self.set_theme(t))
            self.theme_group.addAction(action)
            self.theme_actions[theme] = action
        self.about_action = QAction("&About OpsConductor", self)
        self.about_action.triggered.connect(self.show_about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.edit_menu = bar.addMenu("&Edit")
        view_menu = bar.addMenu("&View")
        for action in self.pane_actions:
            view_menu.addAction(action)
        view_menu.addSeparator()
        theme_menu = QMenu("&Theme", self)
        for action in self.theme_actions.values():
            theme_menu.addAction(action)
        view_menu.addMenu(theme_menu)
        view_menu.addAction(self.notifier.mute_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        self.toolbar = QToolBar("Main toolbar")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(QSize(18, 18))
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

    def _fill_pane_actions(self, pane: Pane) -> None:
        """The Edit menu and the toolbar show the current pane's actions."""
        self.edit_menu.clear()
        self.toolbar.clear()
        actions = pane.pane_actions()
        for action in actions:
            self.edit_menu.addAction(action)
        if not actions:
            none = self.edit_menu.addAction("(nothing to edit here)")
            none.setEnabled(False)
        for action in actions:
            if action.property("toolbar") is not False:
                self.toolbar.addAction(action)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.import_action)
        self.toolbar.addAction(self.export_action)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.notifier.mute_action)

    # ---- panes ------------------------------------------------------------------------------

    def targets_pane(self) -> TargetsPane | None:
        return next((p for p in self.panes if isinstance(p, TargetsPane)), None)

    def alerts_pane(self) -> AlertsPane | None:
        return next((p for p in self.panes if isinstance(p, AlertsPane)), None)

    def _wire_alerts(self) -> None:
        """Open-alert counts in the status bar; they and the notifications lead to the pane."""
        alerts = self.alerts_pane()
        if alerts is None:
            return
        alerts.counts_changed.connect(self.status.alert_counts.set_counts)
        self.status.alert_counts.clicked.connect(self.show_alerts)
        self.notifier.activated.connect(self.show_alerts)

    def show_alerts(self) -> None:
        alerts = self.alerts_pane()
        if alerts is not None:
            self.show_pane(self.panes.index(alerts))
            if self.isMinimized():
                self.showNormal()
            self.activateWindow()

    def _wire_graphs(self) -> None:
        """The Targets pane's "Show graphs" (and its sparklines) open the Graphs pane."""
        targets = self.targets_pane()
        if targets is not None and any(isinstance(p, GraphsPane) for p in self.panes):
            targets.graphs_requested.connect(self.show_graphs)

    def show_graphs(self, target: str, series: str = "") -> None:
        graphs = next((p for p in self.panes if isinstance(p, GraphsPane)), None)
        if graphs is not None:
            self.show_pane(self.panes.index(graphs))
            graphs.show_target(target, series)

    def current_pane(self) -> Pane:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Pane)
        return widget

    def show_pane(self, index: int) -> None:
        if not 0 <= index < len(self.panes):
            return
        pane = self.panes[index]
        if self.switcher.currentRow() != index:
            self.switcher.setCurrentRow(index)  # re-enters via currentRowChanged
            return
        self.stack.setCurrentIndex(index)
        self.pane_actions[index].setChecked(True)
        self._fill_pane_actions(pane)
        if self._started:
            pane.activated()

    def _on_targets(self, run: object) -> None:
        targets = self.targets_pane()
        if targets is not None:
            self.show_pane(self.panes.index(targets))
        if callable(run):
            run()

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin the background work: status ticker and pings, change watcher, first load."""
        if self._started:
            return
        self._started = True
        self.status.start()
        self._watcher = tasks.spawn(self.core.watcher.run(WATCH_INTERVAL), name="change watcher")
        for pane in self.panes:
            pane.schedule_reload_now()
        self.notifier.start()
        if self._run_dispatcher:
            self._polling = tasks.spawn(self._poll(), name="dispatcher")

    async def _poll(self) -> None:
        """The one dispatcher of this console (monitor checks, rollups, alert upkeep).

        It starts a moment after the window so that loading the drivers never delays the
        first paint; it stops (draining in-flight checks) at shutdown.
        """
        with contextlib.suppress(TimeoutError):  # not wait_for: see runtime/waiting.py
            async with asyncio.timeout(DISPATCHER_DELAY):
                await self._stop_polling.wait()
        if self._stop_polling.is_set():
            return
        await self.core.connectors.start_receivers()  # failures are shown per connector
        try:
            await self.core.polling.run(self._stop_polling, drain=3.0)
        finally:
            await self.core.connectors.stop_receivers()

    async def shutdown(self) -> None:
        """Stop background work, keep the layout; safe to call more than once."""
        if self._shut_down:
            return
        self._shut_down = True
        self.save_state()
        self.status.stop()
        await self.notifier.stop()
        self._stop_polling.set()
        if self._polling is not None:
            await asyncio.gather(self._polling, return_exceptions=True)
            self._polling = None
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        await asyncio.gather(*(pane.stopped() for pane in self.panes))
        self._remove_observer()
        tasks.set_error_handler(None)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        event.accept()
        self.closed.emit()

    # ---- state --------------------------------------------------------------------------------

    def save_state(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/pane", self.current_pane().object_name)
        for pane in self.panes:
            s.beginGroup(f"panes/{pane.object_name}")
            pane.save_state(s)
            s.endGroup()
        s.sync()

    def restore_state(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        for pane in self.panes:
            s.beginGroup(f"panes/{pane.object_name}")
            pane.restore_state(s)
            s.endGroup()
        wanted = s.value("window/pane", "")
        names = [p.object_name for p in self.panes]
        self.show_pane(names.index(wanted) if wanted in names else 0)

    # ---- commands -----------------------------------------------------------------------------

    def set_theme(self, theme: str) -> None:
        apply_theme(_app(), theme)
        self.theme_actions[theme].setChecked(True)
        targets = self.targets_pane()
        if targets is not None:
            targets.model.refresh_palette()
        try:
            self.core.settings = with_updates(self.core.settings, theme=theme)
            save_settings(self.core.paths, self.core.settings)
        except (OSError, OpsError) as exc:
            self.show_error(f"The theme is applied but could not be saved: {exc}")

    def open_settings(self) -> None:
        tasks.spawn(self._settings(), name="settings dialog")

    async def _settings(self) -> None:
        from opsconductor_desktop.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.core, self)
        self.dialog = dialog
        try:
            await ask(dialog)
        finally:
            self.dialog = None
            dispose(dialog)
        theme = self.core.settings.theme
        if theme in self.theme_actions:
            self.theme_actions[theme].setChecked(True)

    def show_about(self) -> None:
        p = self.core.paths
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "About OpsConductor",
            f"<b>OpsConductor Desktop {__version__}</b><br>"
            "An operations console for NOC staff.<br><br>"
            f"Database: {self.core.db_info}<br>"
            f"Configuration: {p.config_dir}<br>Data: {p.data_dir}<br>Logs: {p.log_dir}<br><br>"
            f"Python {platform.python_version()} · PySide6 {PySide6.__version__} · "
            f"{platform.system()} {platform.release()}",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("aboutBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_error(self, error: OpsError | str) -> None:
        """Operator errors of background work nobody else reported: the status bar."""
        self.status.showMessage(f"⚠ {error}", 15_000)

    def _observe_error(self, error: BaseException) -> None:
        if isinstance(error, DatabaseUnavailableError):
            self.status.monitor.check_now()

    dialog: QWidget | None = None  # the dialog the window has open, if any


def _forget_hooks(remove_observer: Callable[[], None]) -> Callable[..., None]:
    """A ``destroyed`` handler (holding no reference to the window) for the task hooks."""

    def forget(*_: object) -> None:
        remove_observer()
        tasks.set_error_handler(None)

    return forget


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
