"""Unexpected exceptions: logged with their traceback, shown in a crash dialog, survived.

Every path an exception can take out of our code ends here: slots and virtual methods
(``sys.excepthook``, which PySide calls), spawned tasks (``tasks.set_crash_handler``),
loop callbacks (the loop's exception handler) and threads (``threading.excepthook``).
The dialog is not modal: the console keeps running. Its report (traceback, version,
platform, the end of the log) can be copied, and never shows a secret: registered secrets
are masked (``logs.scrub``), as are passwords in URLs and ``password=`` style pairs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import re
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import PySide6
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop import __version__, logs
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.gui import tasks

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 40
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)
_SECRET_PAIR = re.compile(
    r"\b(password|passwd|pwd|secret|token|community|passphrase|auth_key|priv_key)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Mask registered secrets, URL passwords and ``password=…`` pairs."""
    text = logs.scrub(text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _SECRET_PAIR.sub(r"\1\2***", text)


def _log_tail(log_file: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    if log_file is None or not log_file.exists():
        return "(no log file)"
    try:
        with log_file.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            tail = handle.read().decode("utf-8", errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"(cannot read the log: {exc})"
    return "\n".join(_log_line(line) for line in tail)


def _log_line(line: str) -> str:
    """A JSON log record as one readable line (anything else as it is)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict):
        return line
    text = (
        f"{entry.get('ts', '')} {entry.get('level', '')} {entry.get('category', '')} "
        f"[{entry.get('cid', '-')}]: {entry.get('message', '')}"
    )
    exc = entry.get("exc")
    if exc:
        text += "\n    " + str(exc).rstrip().replace("\n", "\n    ")
    return text


def build_report(exc: BaseException, *, log_file: Path | None = None, db: str = "") -> str:
    """The text an operator copies into a ticket: what broke, where, and on what."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    lines = [
        f"OpsConductor Desktop {__version__} — unexpected error",
        f"time (UTC): {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"python: {platform.python_version()} ({platform.python_implementation()})",
        f"platform: {platform.platform()}",
        f"qt: PySide6 {PySide6.__version__}",
    ]
    if db:
        lines.append(f"database: {db}")
    lines += ["", trace.rstrip(), ""]
    if log_file is not None:
        lines += [f"log: {log_file}", f"--- last {LOG_TAIL_LINES} log lines ---"]
        lines.append(_log_tail(log_file))
    return redact("\n".join(lines))


class CrashDialog(QDialog):
    """Says that something went wrong, shows the report, lets it be copied."""

    def __init__(self, report: str, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("OpsConductor — unexpected error")
        self.setModal(False)
        self.log_file = log_file
        self.count = 1
        self.summary = QLabel(
            "<b>Something went wrong inside OpsConductor.</b><br>"
            "The console keeps running, but the last action may not have finished. "
            "Copy this report into a ticket for your administrator; it contains no "
            "passwords or secrets."
        )
        self.summary.setWordWrap(True)
        self.text = QPlainTextEdit(report)
        self.text.setObjectName("crashReport")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy report")
        self.copy_button.setObjectName("copyReport")
        self.copy_button.clicked.connect(self.copy_report)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        if log_file is not None:
            open_log = QPushButton("Open log folder")
            open_log.clicked.connect(self._open_log_folder)
            buttons.addButton(open_log, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(760, 480)

    def report(self) -> str:
        return self.text.toPlainText()

    def add_report(self, report: str) -> None:
        """Another error while the dialog is open: append instead of stacking dialogs."""
        self.count += 1
        self.setWindowTitle(f"OpsConductor — {self.count} unexpected errors")
        self.text.appendPlainText(f"\n{'=' * 30} error {self.count} {'=' * 30}\n{report}")

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report())
        self.copy_button.setText("Copied")

    def _open_log_folder(self) -> None:
        if self.log_file is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_file.parent)))


class CrashHandler(QObject):
    """Installs the hooks and owns the one crash dialog."""

    _crashed = Signal(object)  # crosses threads safely: queued to the GUI thread

    def __init__(
        self,
        log_file: Path | None = None,
        parent_widget: Callable[[], QWidget | None] = lambda: None,
    ) -> None:
        super().__init__()
        self.log_file = log_file
        self._parent_widget = parent_widget
        self.db_text = ""  # what the report says about the database (never a password)
        self.dialog: CrashDialog | None = None
        self.reports: list[str] = []
        self._previous_hooks: tuple[Any, Any] | None = None
        self._crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook
        tasks.set_crash_handler(self._crashed.emit)  # report_unexpected has logged it
        if loop is not None:
            loop.set_exception_handler(self.loop_exception)

    def uninstall(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None
        tasks.set_crash_handler(None)
        if loop is not None and not loop.is_closed():
            loop.set_exception_handler(None)
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def excepthook(
        self,
        etype: type[BaseException],
        value: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        if value.__traceback__ is None:
            value = value.with_traceback(tb)
        self.handle(value)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.handle(args.exc_value)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is None:
            log.error("event loop: %s", context.get("message", context))
        elif isinstance(exc, OpsError):
            log.warning("event loop: %s", exc)
        else:
            self.handle(exc)

    def handle(self, exc: BaseException) -> None:
        """Log ``exc`` and show it (from any thread; the dialog opens in the GUI thread)."""
        log.error("unexpected error: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self._crashed.emit(exc)

    def _show(self, exc: BaseException) -> None:
        report = build_report(exc, log_file=self.log_file, db=self.db_text)
        self.reports.append(report)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add_report(report)
            return
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = CrashDialog(report, self.log_file, self._parent_widget())
        self.dialog.show()
        QTimer.singleShot(0, self.dialog.raise_)
