"""The Alerts pane's actions: acknowledge (A), unacknowledge (U), resolve (R), silence (S).

Each works on the selected alerts (else the current one) that it applies to — acknowledging
skips the acknowledged and resolved ones — asks in a dialog that runs the service call
itself (and stays open on an error), then reports in the status bar and refreshes. The
shortcuts are scoped to the pane; a line edit keeps its letters (it overrides shortcuts).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QStyle

from opsconductor_desktop.domain.alerts import AlertStatus
from opsconductor_desktop.domain.silences import Matchers
from opsconductor_desktop.gui.alerts.dialogs import AckDialog, ResolveDialog, SilenceDialog
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import ask, dispose
from opsconductor_desktop.services.alerts import AlertInfo, SilenceInfo

if TYPE_CHECKING:
    from opsconductor_desktop.gui.alerts.pane import AlertsPane

_ACKABLE = (AlertStatus.ACTIVE, AlertStatus.SUPPRESSED)
Operation = Callable[[list[AlertInfo]], Coroutine[Any, Any, None]]


class AlertCommands:
    """The pane's actions and what they run (see the module docstring)."""

    def __init__(self, pane: AlertsPane) -> None:
        self.pane = pane
        sp = QStyle.StandardPixmap
        self.ack_action = self._action(
            "&Acknowledge…",
            self.acknowledge_selected,
            ["A"],
            sp.SP_DialogApplyButton,
            "Acknowledge the selected alerts, with a comment and an optional expiry (A)",
        )
        self.unack_action = self._action(
            "&Unacknowledge",
            self.unacknowledge_selected,
            ["U"],
            sp.SP_DialogResetButton,
            "Take back the acknowledgement of the selected alerts (U)",
        )
        self.resolve_action = self._action(
            "&Resolve…",
            self.resolve_selected,
            ["R"],
            sp.SP_DialogYesButton,
            "Resolve the selected alerts by hand, with a comment (R)",
        )
        self.silence_action = self._action(
            "&Silence…",
            self.silence_selected,
            ["S"],
            sp.SP_MediaVolumeMuted,
            "Silence alerts like the selected ones for a while (S)",
        )
        self.silences_action = self._action(
            "Si&lences…",
            self.show_silences,
            ["Ctrl+Shift+S"],
            sp.SP_FileDialogDetailedView,
            "The silences and maintenance windows in force and to come; end one early",
        )
        self.find_action = self._action(
            "&Find…", pane.focus_filter, [QKeySequence.StandardKey.Find], None,
            "Go to the text filter (Ctrl+F)",
        )  # fmt: skip
        self.find_action.setProperty("toolbar", False)  # the filter box is right there
        self.refresh_action = self._action(
            "Re&fresh", pane.refresh, [QKeySequence.StandardKey.Refresh], sp.SP_BrowserReload,
            "Reload the alerts (F5)",
        )  # fmt: skip

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcuts: Sequence[QKeySequence | QKeySequence.StandardKey | str],
        icon: QStyle.StandardPixmap | None,
        tip: str,
    ) -> QAction:
        pane = self.pane
        action = QAction(text, pane)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if icon is not None:
            action.setIcon(pane.style().standardIcon(icon))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        pane.addAction(action)
        return action

    def actions(self) -> list[QAction]:
        return [
            self.ack_action,
            self.unack_action,
            self.resolve_action,
            self.silence_action,
            self.silences_action,
            self.find_action,
            self.refresh_action,
        ]

    def update(self, chosen: Sequence[AlertInfo]) -> None:
        """Enable what applies to the chosen alerts."""
        self.ack_action.setEnabled(any(a.status in _ACKABLE for a in chosen))
        self.unack_action.setEnabled(any(a.status is AlertStatus.ACKNOWLEDGED for a in chosen))
        self.resolve_action.setEnabled(any(a.status.open for a in chosen))
        self.silence_action.setEnabled(bool(chosen))

    def context_menu(self, point: QPoint) -> None:
        pane = self.pane
        index = pane.view.indexAt(point)
        if not index.isValid():
            return
        alert = pane.model.alert(index.row())
        menu = QMenu(pane)
        menu.setObjectName("alertsMenu")
        for action in (self.ack_action, self.unack_action, self.resolve_action):
            menu.addAction(action)
        menu.addAction(self.silence_action)
        menu.addSeparator()
        if alert.target:
            only = menu.addAction(f"Show only {alert.target}")
            only.triggered.connect(lambda _=False, t=alert.target: pane.filters.set_scope(t))
        source = menu.addAction(f"Show only source {alert.source}")
        source.triggered.connect(lambda _=False, s=alert.source: pane.filters.set_source(s))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(pane.view.viewport().mapToGlobal(point))

    # ---- operations -----------------------------------------------------------------------------

    def _done(self, text: str) -> None:
        self.pane.messages.clear()
        self.pane.status_message.emit(text, 6000)
        self.pane.refresh()

    async def _run_dialog(self, dialog: QDialog) -> bool:
        self.pane.dialog = dialog
        try:
            return await ask(dialog) == QDialog.DialogCode.Accepted
        finally:
            self.pane.dialog = None
            dispose(dialog)

    def _start(self, work: Operation, alerts: list[AlertInfo]) -> None:
        """Run a dialog operation on ``alerts`` (none: nothing; one dialog at a time)."""
        if alerts and self.pane.dialog is None:
            spawn(work(alerts), on_error=self.pane.show_error, name=work.__name__)

    def show_silences(self) -> None:
        if self.pane.dialog is None:
            spawn(self._silences(), on_error=self.pane.show_error, name="silences")

    async def _silences(self) -> None:
        from opsconductor_desktop.gui.alerts.silences import SilencesDialog

        await self._run_dialog(SilencesDialog(self.pane.core.alerts, self.pane))
        self.pane.refresh()

    def acknowledge_selected(self) -> None:
        chosen = self.pane.chosen_alerts()
        self._start(self._acknowledge, [a for a in chosen if a.status in _ACKABLE])

    async def _acknowledge(self, alerts: list[AlertInfo]) -> None:
        done: list[UUID] = []

        async def submit(comment: str, expires: datetime | None) -> None:
            ids = [a.id for a in alerts]
            done[:] = await self.pane.core.alerts.acknowledge(ids, comment=comment, expires=expires)

        if await self._run_dialog(AckDialog(alerts, submit, parent=self.pane)):
            self._done(f"Acknowledged {_count(len(done))}")

    def unacknowledge_selected(self) -> None:
        chosen = self.pane.chosen_alerts()
        acked = [a for a in chosen if a.status is AlertStatus.ACKNOWLEDGED]
        if acked:
            spawn(self._unacknowledge(acked), on_error=self.pane.show_error, name="unacknowledge")

    async def _unacknowledge(self, alerts: list[AlertInfo]) -> None:
        done = await self.pane.core.alerts.unacknowledge([a.id for a in alerts])
        self._done(f"Unacknowledged {_count(len(done))}: they notify again")

    def resolve_selected(self) -> None:
        chosen = self.pane.chosen_alerts()
        self._start(self._resolve, [a for a in chosen if a.status.open])

    async def _resolve(self, alerts: list[AlertInfo]) -> None:
        done: list[UUID] = []

        async def submit(comment: str) -> None:
            ids = [a.id for a in alerts]
            done[:] = await self.pane.core.alerts.resolve(ids, comment=comment)

        if await self._run_dialog(ResolveDialog(alerts, submit, parent=self.pane)):
            self._done(f"Resolved {_count(len(done))}")

    def silence_selected(self) -> None:
        self._start(self._silence, self.pane.chosen_alerts())

    async def _silence(self, alerts: list[AlertInfo]) -> None:
        made: list[SilenceInfo] = []

        async def submit(
            matchers: list[Matchers], start: datetime | None, end: datetime, why: str
        ) -> None:
            made[:] = await self.pane.core.alerts.add_silences(
                matchers, starts_at=start, ends_at=end, comment=why
            )

        if await self._run_dialog(SilenceDialog(alerts, submit, parent=self.pane)):
            self._done(f"Added {len(made)} silence{'s' if len(made) != 1 else ''}")


def _count(n: int) -> str:
    return f"{n} alert{'s' if n != 1 else ''}"
