"""Structured logging: JSON lines in a rotating file, readable lines on the console.

Every record carries a correlation id (one per operation: a CLI command, a GUI action, a
job run), so the Logs pane can show everything one operation did. Secrets registered
with ``redact`` are masked in every record, as a second line of defence.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import re
import sys
import traceback
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None  # every secret, compiled on first use after a change
WHOLE_TOKEN = 8  # shorter secrets are masked only as whole tokens (see ``_compile``)

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "correlation_id"}


def correlation_id() -> str:
    return _correlation.get()


@contextmanager
def operation(name: str, logger: logging.Logger | None = None) -> Iterator[str]:
    """Run a block under a fresh correlation id; log its start at DEBUG."""
    cid = uuid.uuid4().hex[:12]
    token = _correlation.set(cid)
    try:
        (logger or logging.getLogger("opsconductor")).debug("operation %s started", name)
        yield cid
    finally:
        _correlation.reset(token)


def redact(secret: str) -> None:
    """Register a secret value so that no log record ever shows it."""
    global _pattern
    if secret and len(secret) >= 3 and secret not in _secrets:
        _secrets.add(secret)
        _pattern = None


def _compile(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for every secret, longest first. A secret shorter than ``WHOLE_TOKEN``
    is masked only where it stands alone (not inside a longer word or number): a community
    ``lab`` must not turn "Unavailable" into "Unavai***le", while ``community=lab`` or
    ``lab@10.0.0.1`` still hide it. Longer secrets are masked wherever they appear."""
    parts = []
    for secret in sorted(secrets, key=len, reverse=True):
        escaped = re.escape(secret)
        if len(secret) < WHOLE_TOKEN:
            escaped = rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
        parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


def _scrub(text: str) -> str:
    global _pattern
    pattern = _pattern
    if pattern is None:
        if not _secrets:
            return text
        pattern = _pattern = _compile(tuple(_secrets))
    return pattern.sub("***", text) if pattern is not None else text


def scrub(text: str) -> str:
    """``text`` with every registered secret masked (crash reports, messages shown)."""
    return _scrub(text)


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with ``secrets`` (those of 3 characters or more; short ones as whole
    tokens, see ``_compile``) and every registered secret masked."""
    pattern = _compile([s for s in secrets if s and len(s) >= 3])
    return _scrub(pattern.sub("***", text) if pattern is not None else text)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _correlation.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC ISO), level, category, message, cid, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "category": record.name,
            "message": _scrub(record.getMessage()),
            "cid": getattr(record, "correlation_id", "-"),
        }
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extras:
            entry["extra"] = json.loads(_scrub(json.dumps(extras, default=str)))
        if record.exc_info:
            entry["exc"] = _scrub("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(entry, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """Short, readable lines for a terminal; tracebacks stay in the file."""

    def format(self, record: logging.LogRecord) -> str:
        return _scrub(f"{record.levelname.lower()}: {record.getMessage()}")


def setup_logging(log_dir: Path, *, level: str = "INFO", console_level: str = "WARNING") -> Path:
    """Configure the root logger once: rotating JSON file plus console. Returns the file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "opsconductor.jsonl"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_opsconductor", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(JsonFormatter())
    file_handler.setLevel(level.upper())
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(ConsoleFormatter())
    console.setLevel(console_level.upper())
    handlers: tuple[logging.Handler, ...] = (file_handler, console)
    for handler in handlers:
        handler._opsconductor = True  # type: ignore[attr-defined]
        handler.addFilter(_ContextFilter())
        root.addHandler(handler)
    root.setLevel(
        min(logging.getLevelName(level.upper()), logging.getLevelName(console_level.upper()))
    )
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("qasync").setLevel(logging.WARNING)  # three lines per callback at DEBUG
    return path
