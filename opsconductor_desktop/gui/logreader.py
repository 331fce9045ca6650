"""Reading the JSON-lines log newest first, a page at a time, without loading it whole.

``LogReader`` walks the live file and its rotated backups (``.1`` … ``.5``) backwards in
blocks and remembers where it stopped, so a 50 MB log opens by reading its last block.
Files are known by identity (device, inode), not by name: when the log rotates while
the pane is open, paging continues in the renamed file and ``read_new`` picks up what was
written since, in the old file's tail and the new file. Files are opened per call and
closed again (a held handle would block rotation on Windows).

Pure Python and blocking: the Logs pane calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

LEVELS: dict[str, int] = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
BACKUPS = 5
BLOCK = 256 * 1024
PAGE_BUDGET = 8 * 1024 * 1024  # bytes scanned per call before handing back control
TAIL_LIMIT = 16 * 1024 * 1024  # more new data than this since the last look: start over

FileId = tuple[int, int]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line: its fields when it is a JSON object, else the raw text (``malformed``)."""

    ts: str
    when: str
    level: str
    category: str
    message: str
    cid: str
    extra: dict[str, Any] | None
    exc: str | None
    raw: str
    malformed: bool
    file: str
    offset: int
    key: tuple[int, int, int] = (0, 0, 0)

    @property
    def levelno(self) -> int:
        return LEVELS.get(self.level.upper(), 0)

    def as_text(self) -> str:
        """The entry as one readable line (plus its traceback), for the clipboard."""
        if self.malformed:
            return self.raw
        line = f"{self.when} {self.level:<8} {self.category}: {self.message}"
        if self.cid and self.cid != "-":
            line += f" [cid {self.cid}]"
        if self.extra:
            line += " " + json.dumps(self.extra, ensure_ascii=False, default=str)
        if self.exc:
            line += "\n" + self.exc.rstrip("\n")
        return line


def _local_time(ts: str) -> str:
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if moment.tzinfo is None:
        return ts
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def parse_line(data: bytes, file: str = "", offset: int = 0, fid: FileId = (0, 0)) -> LogEntry:
    """An entry from one line; anything but a JSON object becomes a malformed (raw) entry."""
    raw = data.decode("utf-8", errors="replace").rstrip("\r\n")
    key = (fid[0], fid[1], offset)
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        return LogEntry("", "", "", "", raw, "", None, None, raw, True, file, offset, key)
    ts = str(obj.get("ts", ""))
    extra = obj.get("extra")
    exc = obj.get("exc")
    return LogEntry(
        ts=ts,
        when=_local_time(ts),
        level=str(obj.get("level", "")).upper(),
        category=str(obj.get("category", "")),
        message=str(obj.get("message", "")),
        cid=str(obj.get("cid", "") or ""),
        extra=extra if isinstance(extra, dict) else ({"value": extra} if extra else None),
        exc=str(exc) if exc else None,
        raw=raw,
        malformed=False,
        file=file,
        offset=offset,
        key=key,
    )


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which entries to show: a minimum level, a category and a text (both substrings,
    any case) and a correlation id (exact). Malformed lines pass the level filter."""

    min_level: int = 0
    category: str = ""
    text: str = ""
    cid: str = ""

    def accepts(self, entry: LogEntry) -> bool:
        if self.cid and entry.cid != self.cid:
            return False
        if self.category and self.category.lower() not in entry.category.lower():
            return False
        if not entry.malformed and entry.levelno < self.min_level:
            return False
        if self.text:
            needle = self.text.lower()
            hay = (entry.message, entry.category, entry.exc or "", entry.raw)
            return any(needle in part.lower() for part in hay)
        return True

    def may_accept(self, data: bytes) -> bool:
        """A cheap test on the raw bytes: False only when the line cannot match."""
        lowered: bytes | None = None
        for needle in (self.text, self.cid):
            if needle and needle.isascii() and '"' not in needle and "\\" not in needle:
                lowered = data.lower() if lowered is None else lowered
                if needle.lower().encode() not in lowered:
                    return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.min_level or self.category or self.text or self.cid)


@dataclass(slots=True)
class Page:
    """What one read returned, newest first."""

    entries: list[LogEntry]
    exhausted: bool
    scanned_lines: int = 0
    malformed: int = 0
    reset: bool = False  # read_new: the log changed too much; start over


def log_files(log_file: Path, backups: int = BACKUPS) -> list[Path]:
    """The live file and its rotated backups, newest first (only those that exist)."""
    candidates = [log_file] + [
        log_file.with_name(f"{log_file.name}.{i}") for i in range(1, backups + 1)
    ]
    return [p for p in candidates if p.is_file()]


def _identity(path: Path) -> FileId | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _complete_end(f: BinaryIO, size: int) -> int:
    """The offset just after the last newline (a line being written is left for later)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 4096)
        f.seek(start)
        chunk = f.read(pos - start)
        nl = chunk.rfind(b"\n")
        if nl != -1:
            return start + nl + 1
        pos = start
    return 0


@dataclass(slots=True)
class _Position:
    fid: FileId
    pos: int  # everything at and after ``pos`` in this file was already returned


@dataclass(slots=True)
class LogReader:
    """Pages backwards through the log and its backups; see the module docstring."""

    log_file: Path
    backups: int = BACKUPS
    block: int = BLOCK
    bytes_read: int = 0
    exhausted: bool = False
    _cursor: _Position | None = None
    _head: _Position | None = None  # where the newest entry shown ends
    _started: bool = False
    _done_ids: set[FileId] = field(default_factory=set)

    def _files(self) -> list[tuple[Path, FileId]]:
        out = []
        for path in log_files(self.log_file, self.backups):
            fid = _identity(path)
            if fid is not None:
                out.append((path, fid))
        return out

    def _start(self) -> None:
        self._started = True
        files = self._files()
        if not files:
            # no log yet: new entries will be picked up from the start of the live file
            self._head = None
            self.exhausted = True
            return
        path, fid = files[0]
        with path.open("rb") as f:
            end = _complete_end(f, path.stat().st_size)
        self._cursor = _Position(fid, end)
        self._head = _Position(fid, end)

    # ---- paging backwards ----------------------------------------------------------------

    def read_page(self, count: int, flt: LogFilter, budget: int = PAGE_BUDGET) -> Page:
        """Up to ``count`` older entries that pass ``flt``; fewer when ``budget`` bytes were
        scanned first (call again) or the oldest file is done (``exhausted``)."""
        if not self._started:
            self._start()
        page = Page([], self.exhausted)
        start_bytes = self.bytes_read
        while not self.exhausted and len(page.entries) < count:
            if self.bytes_read - start_bytes >= budget:
                break
            try:
                self._read_from_cursor(page, count, flt, start_bytes + budget)
            except FileNotFoundError:
                break  # rotated between looking and opening: the next call finds it again
        page.exhausted = self.exhausted
        return page

    def _locate(self, fid: FileId) -> tuple[Path | None, Path | None]:
        """The current path of file ``fid`` and of the next older file."""
        files = self._files()
        for i, (path, other) in enumerate(files):
            if other == fid:
                older = files[i + 1][0] if i + 1 < len(files) else None
                return path, older
        return None, None

    def _advance(self, older: Path | None) -> None:
        if older is None:
            self.exhausted = True
            self._cursor = None
            return
        fid = _identity(older)
        if fid is None or fid in self._done_ids:
            self.exhausted = True
            self._cursor = None
            return
        with older.open("rb") as f:
            self._cursor = _Position(fid, _complete_end(f, older.stat().st_size))

    def _read_from_cursor(self, page: Page, count: int, flt: LogFilter, limit: int) -> None:
        cursor = self._cursor
        if cursor is None:
            self.exhausted = True
            return
        path, older = self._locate(cursor.fid)
        if path is None:  # rotated out of reach meanwhile
            self.exhausted = True
            self._cursor = None
            return
        with path.open("rb") as f:
            for offset, data in self._backwards(f, cursor.pos):
                cursor.pos = offset
                page.scanned_lines += 1
                if data.strip() and flt.may_accept(data):
                    entry = parse_line(data, path.name, offset, cursor.fid)
                    page.malformed += entry.malformed
                    if flt.accepts(entry):
                        page.entries.append(entry)
                if len(page.entries) >= count or self.bytes_read >= limit:
                    break
        if cursor.pos == 0:
            self._done_ids.add(cursor.fid)
            self._advance(older)

    def _backwards(self, f: BinaryIO, end: int) -> Iterator[tuple[int, bytes]]:
        """Lines ending at or before ``end``, newest first, with their start offsets."""
        buf = b""
        start = end
        while start > 0:
            read_start = max(0, start - self.block)
            f.seek(read_start)
            chunk = f.read(start - read_start)
            self.bytes_read += len(chunk)
            buf = chunk + buf
            start = read_start
            if start > 0:
                nl = buf.find(b"\n")
                if nl == -1:
                    continue  # a line longer than a block: read further back
                head, buf = buf[: nl + 1], buf[nl + 1 :]
                base = start + nl + 1
            else:
                head, base = b"", 0
            yield from _split_reversed(buf, base)
            buf = head

    # ---- following new entries -----------------------------------------------------------

    def pending_bytes(self) -> int:
        """About how many bytes were written since the newest entry returned (a few stats).

        -1 when it cannot be told (the newest file rotated away): ``read_new`` will reset.
        """
        if not self._started:
            return 0
        files = self._files()
        ids = [fid for _, fid in files]
        if self._head is None:
            return sum(_size(path) for path, _ in files)
        if self._head.fid not in ids:
            return -1
        newer = files[: ids.index(self._head.fid) + 1]
        total = sum(_size(path) for path, _ in newer) - self._head.pos
        return total if total >= 0 else -1

    def read_new(self, flt: LogFilter, limit: int = TAIL_LIMIT) -> Page:
        """Entries written since the newest one returned so far, newest first.

        ``reset`` is set instead when that cannot be told reliably (the file shrank, the
        old live file rotated out of reach, or more than ``limit`` bytes arrived).
        """
        try:
            return self._read_new(flt, limit)
        except FileNotFoundError:
            return Page([], self.exhausted)  # rotated while we looked: try again next time

    def _read_new(self, flt: LogFilter, limit: int) -> Page:
        if not self._started:
            return Page([], self.exhausted)
        files = self._files()
        ids = [fid for _, fid in files]
        starts: dict[FileId, int] = {}
        if self._head is None:
            newer = files
        elif self._head.fid in ids:
            newer = files[: ids.index(self._head.fid) + 1]
            starts[self._head.fid] = self._head.pos
        else:
            return Page([], self.exhausted, reset=True)
        sizes = {fid: path.stat().st_size for path, fid in newer}
        if any(sizes[fid] < pos for fid, pos in starts.items()):
            return Page([], self.exhausted, reset=True)
        if sum(sizes[fid] - starts.get(fid, 0) for fid in sizes) > limit:
            return Page([], self.exhausted, reset=True)
        page = Page([], self.exhausted)
        new_head = self._head
        for i, (path, fid) in enumerate(newer):  # newest file first
            begin = starts.get(fid, 0)
            with path.open("rb") as f:
                end = _complete_end(f, sizes[fid])
                f.seek(begin)
                data = f.read(max(0, end - begin))
            self.bytes_read += len(data)
            if i == 0:
                new_head = _Position(fid, max(end, begin))
            for offset, line in _split_reversed(data, begin):
                page.scanned_lines += 1
                if not line.strip() or not flt.may_accept(line):
                    continue
                entry = parse_line(line, path.name, offset, fid)
                page.malformed += entry.malformed
                if flt.accepts(entry):
                    page.entries.append(entry)
        self._head = new_head  # only now: a failed read above loses nothing
        return page


def _split_reversed(buf: bytes, base: int) -> Iterator[tuple[int, bytes]]:
    """Complete lines of ``buf`` (which starts at file offset ``base``), newest first."""
    if not buf:
        return
    lines = buf.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    offsets = []
    pos = base
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    for offset, line in zip(reversed(offsets), reversed(lines), strict=True):
        yield offset, line


def describe_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def total_size(log_file: Path, backups: int = BACKUPS) -> int:
    return sum(os.path.getsize(p) for p in log_files(log_file, backups))
