"""Throttled fetching of the check states, as check results stream in.

The poller writes results every second or so on a busy console; fetching every check
state after each batch would keep the database and the GUI thread busy for nothing.
``StatesRefresher.changed()`` fetches at once when nothing was fetched for
``interval_ms``, else once when the interval ends (however many changes came meanwhile),
never two fetches at a time, and not at all while the pane is hidden: then it only
notes that the states are stale, and ``catch_up()`` fetches when the pane is shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.monitoring import CheckStateInfo

Fetch = Callable[[], Awaitable[list[CheckStateInfo]]]


class StatesRefresher(QObject):
    """See the module docstring; ``show`` gets the states, ``visible`` says if it is worth it."""

    def __init__(
        self,
        fetch: Fetch,
        show: Callable[[list[CheckStateInfo]], None],
        visible: Callable[[], bool],
        on_error: Callable[[OpsError], None],
        *,
        interval_ms: int,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch, self._show, self._visible, self._on_error = fetch, show, visible, on_error
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._due)
        self._running: list[asyncio.Task[Any]] = []  # the fetch in flight, if any
        self._pending = False
        self.stale = False
        self.stopped = False
        self.loads = 0  # fetches done (diagnostics and tests)
        self.destroyed.connect(_canceller(self._running))

    def changed(self) -> None:
        """New check results were written."""
        if self.stopped:
            return
        if not self._visible():
            self.stale = True
        elif self._timer.isActive() or self._running:
            self._pending = True
        else:
            self._start()

    def fresh(self) -> None:
        """The states were fetched another way (a full reload): no longer stale."""
        self.stale = False

    def catch_up(self) -> None:
        """The pane became visible: fetch if results came while it was hidden."""
        if self.stale:
            self.changed()

    def _start(self) -> None:
        self._pending = False
        self._timer.start()
        self._running[:] = [spawn(self._load(), on_error=self._on_error, name="check states")]

    async def _load(self) -> None:
        try:
            states = await self._fetch()
        finally:
            self._running.clear()
        if self.stopped:
            return
        self.loads += 1
        self.stale = False
        self._show(states)
        if self._pending and not self._timer.isActive():
            self._start()

    def _due(self) -> None:
        if self._pending and not self._running and not self.stopped:
            self._start()

    def stop(self) -> list[asyncio.Task[Any]]:
        """Stop fetching; the cancelled fetch, to await."""
        self.stopped = True
        self._timer.stop()
        running = list(self._running)
        for task in running:
            task.cancel()
        return running


def _canceller(running: list[asyncio.Task[Any]]) -> Callable[..., None]:
    """A ``destroyed`` handler (holding no reference to the refresher) for the fetch."""

    def cancel(*_: object) -> None:
        for task in running:
            task.cancel()

    return cancel
