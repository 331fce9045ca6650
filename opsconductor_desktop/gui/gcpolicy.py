"""Garbage collection on the GUI thread only, in small steps, never a long stall.

Two problems with CPython's automatic collector in a Qt console:

* It runs in whichever thread happens to allocate: the database driver's worker thread,
  ``asyncio.to_thread`` workers. Collecting a cycle that holds Qt objects there destroys
  them in the wrong thread ("QObject::~QObject: Timers cannot be stopped from another
  thread", or worse) — Anki disables automatic collection for the same reason.
* Full (generation 2) collections scan every tracked object: 80-200 ms with the console's
  libraries and 10,000 targets loaded, and loading a big inventory triggers one every few
  hundred milliseconds (measured: every loop-lag spike above 20 ms while streaming 10,000
  targets was a generation-2 collection).

So the console freezes what start-up created (modules, classes: never garbage) out of the
collector's sight, turns automatic collection off, and a GUI-thread timer does what the
automatic collector would for the young generations (looking at ``gc.get_count()`` every
100 ms), plus a full collection every two minutes.
"""

from __future__ import annotations

import gc
import logging
import time

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

YOUNG_MS = 50
FULL_MS = 120_000
OLDER_EVERY = 4  # young collections per generation-1 collection (CPython's default: 10)


class GarbageCollector(QObject):
    """Installs the policy (``install``) and undoes it (``uninstall``)."""

    def __init__(self, parent: QObject | None = None, *, freeze: bool = True) -> None:
        super().__init__(parent)
        self._freeze = freeze
        self._installed = False
        self._was_enabled = True
        self._young = QTimer(self)
        self._young.setInterval(YOUNG_MS)
        self._young.timeout.connect(self.step)
        self._full = QTimer(self)
        self._full.setInterval(FULL_MS)
        self._full.timeout.connect(self.collect)
        self.last_full_ms = 0.0

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        self._was_enabled = gc.isenabled()
        if self._freeze:
            gc.collect()
            gc.freeze()
        gc.disable()
        self._young.start()
        self._full.start()

    def step(self) -> None:
        """Collect the young generations about when the automatic collector would have
        (generation 1 more often, so that each collection stays short)."""
        threshold0 = gc.get_threshold()[0]
        count0, count1, _ = gc.get_count()
        if count1 >= OLDER_EVERY:
            gc.collect(1)
        elif count0 >= threshold0:
            gc.collect(0)

    def collect(self) -> int:
        """A full collection now; the number of unreachable objects found."""
        started = time.perf_counter()
        found = gc.collect()
        self.last_full_ms = (time.perf_counter() - started) * 1000
        log.debug("full garbage collection: %d objects, %.1f ms", found, self.last_full_ms)
        return found

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        self._young.stop()
        self._full.stop()
        if self._freeze:
            gc.unfreeze()
        gc.collect()  # here, in the GUI thread, before automatic collection may resume
        if self._was_enabled:
            gc.enable()
