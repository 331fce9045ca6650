"""Running coroutines from Qt slots without blocking, losing or leaking tasks.

``spawn`` keeps a reference to every task (so none is garbage-collected mid-flight),
reports operator errors (``OpsError``) to a callback (else to the default error handler
the main window installs) and unexpected ones to the crash handler, and ``cancel_all``
stops everything at shutdown. Observers see every operator error (the status bar uses
that to re-check the database when an operation found it unavailable).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from opsconductor_desktop.domain.errors import OpsError

log = logging.getLogger(__name__)

_tasks: set[asyncio.Task[Any]] = set()
ErrorHandler = Callable[[BaseException], None]
_crash_handler: ErrorHandler | None = None
_error_handler: Callable[[OpsError], None] | None = None
_observers: list[ErrorHandler] = []


def set_crash_handler(handler: ErrorHandler | None) -> None:
    """Where unexpected exceptions of spawned tasks go (the crash dialog)."""
    global _crash_handler
    _crash_handler = handler


def set_error_handler(handler: Callable[[OpsError], None] | None) -> None:
    """Where operator errors of tasks spawned without ``on_error`` go (a message to read)."""
    global _error_handler
    _error_handler = handler


def add_error_observer(observer: ErrorHandler) -> Callable[[], None]:
    """Call ``observer`` with every operator error of a spawned task; returns a remover."""
    _observers.append(observer)

    def remove() -> None:
        if observer in _observers:
            _observers.remove(observer)

    return remove


def report_ops_error(exc: OpsError, on_error: Callable[[OpsError], None] | None = None) -> None:
    """Route an operator error: observers first, then ``on_error`` or the default handler."""
    for observer in list(_observers):
        observer(exc)
    handler = on_error or _error_handler
    if handler is not None:
        handler(exc)
    else:
        log.warning("%s", exc)


def report_unexpected(exc: BaseException) -> None:
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    if _crash_handler is not None:
        _crash_handler(exc)


def spawn(
    coro: Coroutine[Any, Any, Any],
    *,
    on_error: Callable[[OpsError], None] | None = None,
    name: str | None = None,
) -> asyncio.Task[Any]:
    """Schedule ``coro`` on the running loop; errors never vanish silently."""
    task = asyncio.ensure_future(coro)
    if name:
        task.set_name(name)
    _tasks.add(task)

    def done(t: asyncio.Task[Any]) -> None:
        _tasks.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is None:
            return
        if isinstance(exc, OpsError):
            report_ops_error(exc, on_error)
            return
        report_unexpected(exc)

    task.add_done_callback(done)
    return task


def pending() -> int:
    return len(_tasks)


async def cancel_all() -> None:
    """Cancel every spawned task and wait for them to finish."""
    tasks = list(_tasks)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
