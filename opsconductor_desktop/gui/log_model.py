"""The Logs pane's table model: entries newest first, older pages fetched lazily.

A ``LogReader`` runs in a worker thread for each page (``canFetchMore``/``fetchMore``);
new entries are prepended by ``follow`` — read on the loop when they are a few KB, in a
thread otherwise. Results of a superseded read (new filter, restart, shutdown) are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.gui.logreader import LogEntry, LogFilter, LogReader, Page
from opsconductor_desktop.gui.tasks import spawn

Index = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 500
SYNC_TAIL_BYTES = 64 * 1024  # new log data up to this is read on the loop (microseconds)
FOLLOW_INTERVAL_MS = 2000
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
APP_PREFIX = "opsconductor_desktop."  # shown categories leave out the obvious
LEVEL_COLORS = {"WARNING": "#b26a00", "ERROR": "#c62828", "CRITICAL": "#8e0000"}


class LogModel(QAbstractTableModel):
    """Log entries newest first; older ones are fetched lazily, new ones prepended."""

    TIME, LEVEL, CATEGORY, MESSAGE, CID = range(5)
    HEADERS = ("Time", "Level", "Category", "Message", "Correlation")

    state_changed = Signal()
    failed = Signal(str)

    def __init__(
        self, reader_factory: Callable[[], LogReader], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._reader_factory = reader_factory
        self._reader: LogReader = reader_factory()
        self._filter = LogFilter()
        self._rows: list[LogEntry] = []
        self._generation = 0
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.fetching = False
        self.error: str | None = None
        self.malformed = 0
        self.scanned = 0
        self.categories: set[str] = set()
        self.page_size = PAGE_SIZE

    # ---- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.MESSAGE:
            return entry.raw if entry.malformed else entry.message[:2000]
        if role == Qt.ItemDataRole.ToolTipRole and column == self.CATEGORY:
            return entry.category
        if role == Qt.ItemDataRole.ForegroundRole and column == self.LEVEL:
            color = LEVEL_COLORS.get(entry.level)
            return QBrush(QColor(color)) if color else None
        if role == ENTRY_ROLE:
            return entry
        return None

    def _text(self, entry: LogEntry, column: int) -> str | None:
        if entry.malformed:
            return {self.LEVEL: "RAW", self.MESSAGE: entry.raw[:500]}.get(column, "")
        if column == self.TIME:
            return entry.when
        if column == self.LEVEL:
            return entry.level + (" ⚠" if entry.exc else "")
        if column == self.CATEGORY:
            return entry.category.removeprefix(APP_PREFIX)
        if column == self.MESSAGE:
            first = entry.message.splitlines()[0] if entry.message else ""
            return first[:500]
        if column == self.CID:
            return "" if entry.cid == "-" else entry.cid
        return None

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self.fetching or self.error is not None:
            return False
        return not self._reader.exhausted

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self.fetching = True
            self._track(spawn(self._fetch(self._generation), name="read log page"))
            self.state_changed.emit()

    # ---- Python API -----------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        return self._reader.exhausted

    @property
    def reader(self) -> LogReader:
        return self._reader

    @property
    def log_filter(self) -> LogFilter:
        return self._filter

    def entry(self, row: int) -> LogEntry:
        return self._rows[row]

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def shutdown(self) -> None:
        """Stop reading: results still in flight are dropped."""
        self._generation += 1
        for task in list(self._tasks):
            task.cancel()

    def restart(self, flt: LogFilter | None = None) -> None:
        """Drop what is shown and read again from the newest entry (with a new filter)."""
        self._generation += 1
        if flt is not None:
            self._filter = flt
        self.beginResetModel()
        self._rows = []
        self._reader = self._reader_factory()
        self.fetching = False
        self.error = None
        self.malformed = 0
        self.scanned = 0
        self.endResetModel()
        self.fetchMore(QModelIndex())

    async def _fetch(self, generation: int) -> None:
        try:
            async with self._lock:
                if generation != self._generation:
                    return
                page = await asyncio.to_thread(self._reader.read_page, self.page_size, self._filter)
        except OSError as exc:
            if generation == self._generation:
                self._fail(exc)
            return
        finally:
            if generation == self._generation:
                self.fetching = False
        if generation != self._generation:
            return
        self._count(page)
        if page.entries:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.entries) - 1)
            self._rows.extend(page.entries)
            self.endInsertRows()
        # a selective filter may need more than one budget's worth of scanning for a page
        if len(page.entries) < self.page_size and not page.exhausted:
            self.fetchMore(QModelIndex())
        self.state_changed.emit()

    def follow_small(self) -> int | None:
        """Prepend what was written since the last look when it is a little (read here, on
        the loop: no thread hop every tick); None when a worker thread should read it."""
        if self.fetching or self._lock.locked():
            return 0
        pending = self._reader.pending_bytes()
        if pending == 0:
            return 0
        if pending < 0 or pending > SYNC_TAIL_BYTES:
            return None
        try:
            page = self._reader.read_new(self._filter)
        except OSError as exc:
            self._fail(exc)
            return 0
        return self._prepend(page)

    async def follow(self) -> int:
        """Prepend entries written since the last look; returns how many were added."""
        if self.fetching or self._lock.locked():
            return 0
        generation = self._generation
        try:
            async with self._lock:
                page = await asyncio.to_thread(self._reader.read_new, self._filter)
        except OSError as exc:
            self._fail(exc)
            return 0
        if generation != self._generation:
            return 0
        return self._prepend(page)

    def _prepend(self, page: Page) -> int:
        if page.reset:
            self.restart()
            return 0
        self._count(page)
        if page.entries:
            self.beginInsertRows(QModelIndex(), 0, len(page.entries) - 1)
            self._rows[:0] = page.entries
            self.endInsertRows()
            self.state_changed.emit()
        return len(page.entries)

    def _fail(self, exc: OSError) -> None:
        self.error = f"Cannot read the log: {exc.strerror or exc} ({exc.filename or ''})"
        self.failed.emit(self.error)
        self.state_changed.emit()

    def _count(self, page: Page) -> None:
        self.malformed += page.malformed
        self.scanned += page.scanned_lines
        self.categories.update(e.category for e in page.entries if e.category)
