"""The Connectors pane: alert sources, how they are doing, and what they would raise.

A table of connectors (filter, sort) with each one's state — ok green, degraded amber,
failing red, never polled grey —, last poll and success in local time, failures, open
alerts and the last error; beside it the selected connector's details: the listeners'
counters, the last error and its settings (secrets only as "set"). Commands: add (a
bundled manifest or a file, with a settings form), edit settings, enable or disable,
poll now, test (the alerts one poll would produce, stored nowhere) and remove (after
confirming). The pane reloads on connector and alert changes.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QSplitter,
    QStyle,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.connectors import ConnectorKind, FieldType, SettingField
from opsconductor_desktop.domain.credentials import Credential
from opsconductor_desktop.domain.display import seconds_text
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.events import Entity
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.connectors.dialogs import ConnectorDialog, PollPreviewDialog
from opsconductor_desktop.gui.connectors.models import ConnectorsModel, manifest_text
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.jobs.common import local_time
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, FilterProxy
from opsconductor_desktop.gui.monitoring.common import make_table
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import alive, ask, confirm, dispose
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.connectors import ConnectorInfo

log = logging.getLogger(__name__)
COUNTERS = ("received", "matched", "unknown", "rejected", "dropped")
LIVE_REFRESH_MS = 3000  # how often running listeners' counters are shown afresh


def details_html(info: ConnectorInfo) -> str:
    """The details panel's text for one connector (secret values never appear)."""
    e = html.escape
    rows = [
        ("Manifest", f"{info.manifest_name} ({manifest_text(info)})"),
        ("Kind", info.kind.value),
        ("State", info.state.value + ("" if info.enabled else " (disabled)")),
        ("Interval", seconds_text(info.interval) if info.interval else ""),
        ("Last poll", local_time(info.last_poll_at)),
        ("Last success", local_time(info.last_success_at)),
        ("Next probe", local_time(info.next_probe_at)),
        ("Missing settings", ", ".join(_titles(info).get(n, n) for n in info.missing)),
    ]
    out = [f"<h3>{e(info.name)}</h3>", "<table cellpadding='2'>"]
    out += [f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows if v]
    out.append("</table><h4>Counters</h4><table cellpadding='2'>")
    listener = info.kind is not ConnectorKind.HTTP_POLL  # received, matched, … are theirs
    first = [k for k in COUNTERS if listener or k in info.counters]
    shown_elsewhere = {*COUNTERS, "last_error"}  # the last error has its own heading
    names = [*first, *sorted(k for k in info.counters if k not in shown_elsewhere)]
    out += [
        f"<tr><td>{e(k)}</td><td align='right'>{e(str(info.counters.get(k, 0)))}</td></tr>"
        for k in names
    ]
    if not names:
        out.append("<tr><td><i>none yet</i></td></tr>")
    out.append("</table><h4>Last error</h4>")
    out.append(f"<p>{e(info.last_error) or '<i>none</i>'}</p><h4>Settings</h4>")
    out.append("<table cellpadding='2'>")
    for f in info.fields:
        if f.secret:
            value = "•••• (set)" if f.name in info.secrets_set else "not set"
        else:
            value = _setting_text(f, info.settings.get(f.name))
        out.append(f"<tr><td>{e(f.title)}</td><td>{e(value)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _titles(info: ConnectorInfo) -> dict[str, str]:
    return {f.name: f.title for f in info.fields}


def _setting_text(f: SettingField, value: Any) -> str:
    """A setting as an operator reads it: yes/no, seconds with their unit, else as set."""
    if value is None or value == "":
        return ""
    if f.type is FieldType.BOOL:
        return "yes" if value else "no"
    if f.type is FieldType.INT and f.name in ("interval", "timeout"):
        return seconds_text(int(value))
    return str(value)


class ConnectorsPane(Pane):
    """See the module docstring."""

    title = "Connectors"
    object_name = "connectorsPane"
    concerns = frozenset({Entity.CONNECTOR, Entity.ALERT})

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.loaded = False
        self.dialog: QDialog | None = None
        self.model = ConnectorsModel(self)
        self.proxy = FilterProxy(self.model, self)
        self.messages = MessageBar()
        self._build_actions()
        self._build()
        self.update_actions()
        # a listener's counters move with every message, matched or not; while this pane
        # is on screen and a listener runs here, it shows them as they are
        self._live = QTimer(self)
        self._live.setInterval(LIVE_REFRESH_MS)
        self._live.timeout.connect(self._refresh_live)
        self._live.start()

    def _refresh_live(self) -> None:
        if self.isVisible() and not self.closed and self.core.connectors.listening_here():
            self.schedule_reload()

    # ---- building ---------------------------------------------------------------------------

    def _action(
        self, text: str, slot: Any, keys: tuple[Any, ...], icon: QStyle.StandardPixmap, tip: str
    ) -> QAction:
        action = QAction(self.style().standardIcon(icon), text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.add_action = self._action(
            "&Add…", self.add_connector, ("Insert",), sp.SP_FileDialogNewFolder,
            "Add a connector from a bundled manifest or a manifest file (Insert)",
        )  # fmt: skip
        self.edit_action = self._action(
            "&Edit settings…", self.edit_connector, ("Return", "Enter"),
            sp.SP_FileDialogDetailedView, "Edit the connector's settings (Enter)",
        )  # fmt: skip
        self.toggle_action = self._action(
            "Disa&ble", self.toggle_enabled, ("Ctrl+E",), sp.SP_MediaPause,
            "Enable or disable the connector (Ctrl+E)",
        )  # fmt: skip
        self.poll_action = self._action(
            "&Poll now", self.poll_now, ("Ctrl+P",), sp.SP_BrowserReload,
            "Poll the source once and store its alerts (Ctrl+P)",
        )  # fmt: skip
        self.test_action = self._action(
            "&Test", self.test_connector, ("Ctrl+T",), sp.SP_MediaPlay,
            "Poll once and show the alerts it would produce, storing nothing (Ctrl+T)",
        )  # fmt: skip
        self.remove_action = self._action(
            "&Remove…", self.remove_connector, (QKeySequence.StandardKey.Delete,),
            sp.SP_TrashIcon, "Remove the connector (its open alerts are resolved)",
        )  # fmt: skip
        self.refresh_action = self._action(
            "Re&fresh", self.schedule_reload_now, (QKeySequence.StandardKey.Refresh,),
            sp.SP_BrowserReload, "Reload the connectors (F5)",
        )  # fmt: skip

    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("connectorsFilter")
        self.filter_edit.setPlaceholderText("Filter connectors…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        for action in self.command_actions():
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            tools.addWidget(button)
        self.view = make_table("connectorsTable")
        self.view.setModel(self.proxy)
        self.view.sortByColumn(ConnectorsModel.NAME, Qt.SortOrder.AscendingOrder)
        header = self.view.horizontalHeader()
        metrics = header.fontMetrics()
        for column, width in enumerate((150, 80, 130, 60, 80, 140, 140, 60, 75, 300)):
            label = str(self.proxy.headerData(column, Qt.Orientation.Horizontal) or "")
            # never narrower than the (bold, themed) header label and the sort arrow
            self.view.setColumnWidth(column, max(width, metrics.horizontalAdvance(label) + 36))
        self.view.addAction(self.edit_action)
        self.view.addAction(self.remove_action)
        self.view.doubleClicked.connect(lambda _i: self.edit_connector())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.update_actions())
        self.details = QTextBrowser()
        self.details.setObjectName("connectorDetails")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.messages)
        layout.addLayout(tools)
        layout.addWidget(self.splitter, 1)

    def command_actions(self) -> list[QAction]:
        return [
            self.add_action,
            self.edit_action,
            self.toggle_action,
            self.poll_action,
            self.test_action,
            self.remove_action,
        ]

    def pane_actions(self) -> list[QAction]:
        for action in self.command_actions():
            action.setProperty("toolbar", False)  # the pane has buttons for these
        return [*self.command_actions(), self.refresh_action]

    # ---- loading ----------------------------------------------------------------------------

    async def reload(self) -> None:
        if self.closed or not alive(self):
            return
        self.busy_changed.emit(True, "Loading connectors…")
        try:
            connectors = await self.core.connectors.list()
        finally:
            if alive(self):
                self.busy_changed.emit(False, "")
        if self.closed or not alive(self):
            return
        self.model.replace(connectors)
        if not self.loaded and self.proxy.rowCount():
            self.view.selectRow(0)
        self.loaded = True
        self.update_actions()

    async def reloaded(self) -> None:
        """Reload after a change made here, after any reload already under way."""
        if self.closed:
            return
        self.schedule_reload_now()
        while self._reload_task:
            await asyncio.wait(list(self._reload_task))

    def activated(self) -> None:
        if not self.loaded and not self.is_reloading():
            self.schedule_reload_now()
        self.view.setFocus()

    # ---- selection --------------------------------------------------------------------------

    def selected(self) -> ConnectorInfo | None:
        index = self.view.currentIndex()
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        chosen = index.siblingAtColumn(0) if index.isValid() else rows[0]
        item = chosen.data(ITEM_ROLE)
        return item if isinstance(item, ConnectorInfo) else None

    def select_name(self, name: str) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data() == name:
                self.view.selectRow(row)
                self.view.scrollTo(index)
                return True
        return False

    def update_actions(self) -> None:
        info = self.selected()
        polled = info is not None and info.kind is ConnectorKind.HTTP_POLL
        for action in (self.edit_action, self.toggle_action, self.remove_action):
            action.setEnabled(info is not None)
        self.poll_action.setEnabled(polled and info is not None and info.enabled)
        self.test_action.setEnabled(polled)
        enabled = info.enabled if info else True
        self.toggle_action.setText("Disa&ble" if enabled else "Ena&ble")
        self.toggle_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if enabled
            else QStyle.StandardPixmap.SP_DialogApplyButton
        ))  # fmt: skip
        self.details.setHtml(details_html(info) if info else "<i>No connector selected.</i>")

    # ---- commands ---------------------------------------------------------------------------

    def show_error(self, error: OpsError | str) -> None:
        self.messages.show_error(error)

    def _tell(self, text: str, timeout_ms: int = 5000) -> None:
        if not self.closed and alive(self):
            self.status_message.emit(text, timeout_ms)

    def _run(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self.messages.clear()
        spawn(coro, on_error=self.show_error, name=name)

    async def _dialog(self, dialog: QDialog) -> int:
        self.dialog = dialog
        try:
            return await ask(dialog)
        finally:
            self.dialog = None
            dispose(dialog)

    def add_connector(self) -> None:
        self._run(self._edit(None), "add connector")

    def edit_connector(self) -> None:
        info = self.selected()
        if info is not None:
            self._run(self._edit(info), "edit connector")

    async def _credentials(self) -> list[Credential]:
        """The stored credentials the settings form offers by name. Without them (they
        cannot be listed, e.g. no keyring) the dialog still opens: names can be typed."""
        try:
            return await self.core.credentials.list()
        except OpsError as exc:
            log.info("connector dialog without credentials to choose from: %s", exc)
            return []

    async def _edit(self, info: ConnectorInfo | None) -> None:
        credentials = await self._credentials()
        if self.closed or not alive(self):
            return
        dialog = ConnectorDialog(self.core, info, parent=self, credentials=credentials)
        if await self._dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        saved, outcome = dialog.result_info, dialog.outcome
        if saved is None:
            return
        await self.reloaded()
        if alive(self):
            self.select_name(saved.name)
            self._tell(f"Connector {saved.name} {outcome}")

    def toggle_enabled(self) -> None:
        info = self.selected()
        if info is not None:
            self._run(self._toggle(info), "enable connector")

    async def _toggle(self, info: ConnectorInfo) -> None:
        await self.core.connectors.set_enabled(info.name, not info.enabled)
        await self.reloaded()
        self._tell(f"Connector {info.name} {'disabled' if info.enabled else 'enabled'}")

    def poll_now(self) -> None:
        info = self.selected()
        if info is not None:
            self._run(self._poll(info.name), "poll connector")

    async def _poll(self, name: str) -> None:
        self.busy_changed.emit(True, f"Polling {name}…")
        try:
            report = await self.core.connectors.poll(name)
        finally:
            if alive(self):
                self.busy_changed.emit(False, "")
        await self.reloaded()
        if report.ok:
            self._tell(
                f"Polled {name}: {report.opened} opened, {report.updated} updated, "
                f"{report.resolved} resolved"
            )
        elif alive(self):
            self.show_error(f"Poll of {name} failed: {report.error}")

    def test_connector(self) -> None:
        info = self.selected()
        if info is not None:
            self._run(self._test(info.name), "test connector")

    async def _test(self, name: str) -> None:
        self.busy_changed.emit(True, f"Testing {name}…")
        try:
            report = await self.core.connectors.test(name)
        finally:
            if alive(self):
                self.busy_changed.emit(False, "")
        if not self.closed and alive(self):
            await self._dialog(PollPreviewDialog(report, parent=self))

    def remove_connector(self) -> None:
        info = self.selected()
        if info is not None:
            self._run(self._remove(info), "remove connector")

    async def _remove(self, info: ConnectorInfo) -> None:
        detail = (
            f"Its {info.open_alerts} open alert(s) will be resolved." if info.open_alerts else ""
        )
        question = f"Remove connector {info.name}?"
        if not await confirm(self, "Remove connector", question, action="Remove", detail=detail):
            return
        resolved = await self.core.connectors.remove(info.name)
        await self.reloaded()
        self._tell(f"Removed connector {info.name} ({resolved} alert(s) resolved)")

    # ---- state ------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("header", self.view.horizontalHeader().saveState())
        settings.setValue("splitter", self.splitter.saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, target in (
            ("header", self.view.horizontalHeader()),
            ("splitter", self.splitter),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                target.restoreState(value)
