"""What every pane is: a widget over the services that refreshes when its data changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core


class Pane(QWidget):
    """Base of the main window's panes.

    Subclasses set ``title`` and ``concerns`` (the entities whose changes they show),
    implement ``async reload()`` and may add actions for the window's menu and toolbar.
    A burst of change events is coalesced into one reload (``RELOAD_DELAY_MS``), and
    reloads never overlap: one asked for while another runs starts when it ends.

    ``busy_changed(busy, text)`` and ``status_message(text, timeout_ms)`` reach the
    window's status bar.
    """

    title = "Pane"
    object_name = "pane"
    concerns: frozenset[Entity] = frozenset()
    RELOAD_DELAY_MS = 150

    busy_changed = Signal(bool, str)
    status_message = Signal(str, int)

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.setObjectName(self.object_name)
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(self.RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.schedule_reload_now)
        self._reloading = False
        self._reload_again = False
        self._reload_task: list[asyncio.Task[Any]] = []  # the reload in flight, if any
        self.closed = False
        self._unsubscribe = core.bus.subscribe(self._on_changed)
        # Deleted without shutdown() (its window went away): stop listening and loading.
        self.destroyed.connect(_stopper(self._unsubscribe, self._reload_task))

    def pane_actions(self) -> list[QAction]:
        """Actions the main window shows in its menu and toolbar while the pane is current."""
        return []

    async def reload(self) -> None:
        """Fetch fresh values from the services and show them."""

    def activated(self) -> None:
        """The pane became the current one (give focus, refresh what may be stale)."""

    def schedule_reload(self) -> None:
        self._reload_timer.start()

    def schedule_reload_now(self) -> None:
        if self._reloading:
            self._reload_again = True
            return
        self._reloading = True
        self._reload_task[:] = [spawn(self._reload_serially(), name=f"reload {self.title}")]

    async def _reload_serially(self) -> None:
        try:
            while True:
                self._reload_again = False
                await self.reload()
                if not self._reload_again:
                    break
        finally:
            self._reloading = False
            self._reload_task.clear()

    def is_reloading(self) -> bool:
        return self._reloading or self._reload_timer.isActive()

    def _on_changed(self, event: Changed) -> None:
        if event.entity in self.concerns:
            self.schedule_reload()

    def save_state(self, settings: QSettings) -> None:
        """Persist column widths, splitter positions and the like."""

    def restore_state(self, settings: QSettings) -> None:
        """Restore what ``save_state`` wrote."""

    def shutdown(self) -> None:
        """Stop listening for changes and cancel a reload in flight (idempotent)."""
        self.closed = True  # work that finishes after this must not touch the widgets
        self._unsubscribe()
        self._reload_timer.stop()
        for task in self._reload_task:
            task.cancel()

    async def stopped(self) -> None:
        """``shutdown()``, then wait until the cancelled reload has finished."""
        running = list(self._reload_task)
        self.shutdown()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


def _stopper(
    unsubscribe: Callable[[], None], running: list[asyncio.Task[Any]]
) -> Callable[..., None]:
    """A ``destroyed`` handler that holds no reference to the pane itself."""

    def stop(*_: object) -> None:
        unsubscribe()
        for task in running:
            task.cancel()

    return stop
