"""The console's one asyncio loop (qasync on Qt's event loop), and a guard it needs.

PySide6 6.12.0 on Python 3.11 drops a reference to ``True`` on every
``SignalInstance.emit()`` made from Python, and one to ``None`` on calls of void Qt
methods (measured: 100 emits of an argument-less signal lower ``sys.getrefcount(True)`` by
100; 6.11.3 does neither). qasync emits a signal for every ``call_soon_threadsafe``,
which the database driver's worker thread calls for every query, and calls void Qt
methods for every callback, so after some thousands of queries the count reaches zero
and the interpreter aborts — usually at exit ("Fatal Python error: bool_dealloc" /
"none_dealloc", the crash of FIELD-NOTES), but a long session can die mid-run.
``pyproject.toml`` keeps 6.12.0 out; this guard keeps a future bad build from crashing
operators' consoles.

``guard_singleton_refcounts`` detects the leak with a short self-test and, when present,
gives ``True``, ``False`` and ``None`` a huge reference count — what Python 3.12 does for
them anyway (they are immortal there), so nothing can drain them. It is a no-op on a
fixed PySide6 and on Python 3.12+.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import platform
import sys

import PySide6
import qasync
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

_PIN = 1 << 40  # references no run will ever drain
_guarded = False


class _Probe(QObject):
    ping = Signal()


def binding_leaks_singletons() -> bool:
    """Whether this binding loses references to ``True`` (emit) or ``None`` (void calls)."""
    probe = _Probe()
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(64):
        probe.ping.emit()
        probe.setObjectName("probe")
    leaked = sys.getrefcount(True) <= true_before - 32 or sys.getrefcount(None) <= none_before - 32
    probe.deleteLater()
    return leaked


def guard_singleton_refcounts() -> bool:
    """Apply the guard if this PySide6 needs it (once per process); True if applied."""
    global _guarded
    if _guarded:
        return True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not binding_leaks_singletons():
        return False
    for singleton in (True, False, None):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _PIN
    _guarded = True
    log.info(
        "PySide6 %s loses references to True/None; True, False and None pinned",
        PySide6.__version__,
    )
    return True


def new_event_loop(app: QApplication | None = None) -> qasync.QEventLoop:
    """The loop for ``app`` (or the QApplication), guarded and set as asyncio's loop."""
    guard_singleton_refcounts()
    loop = qasync.QEventLoop(app or QApplication.instance())
    asyncio.set_event_loop(loop)
    return loop
