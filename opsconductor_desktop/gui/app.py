"""Starting and stopping the console: QApplication, the one qasync loop, clean shutdown.

``main(args)`` is what ``opsconductor`` (no command) and ``opsconductor gui`` run, and the
``opsconductor-gui`` script (which parses its own arguments). Shutdown happens in a fixed
order — background tasks cancelled, the core closed, windows deleted, async generators
finalised, the loop closed, then the QApplication shut down — because qasync runs that
left Qt objects and the loop to the interpreter's exit crashed ("Fatal Python error:
none_dealloc").
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes.util
import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import qasync
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from opsconductor_desktop import __version__, logs
from opsconductor_desktop import paths as app_paths
from opsconductor_desktop.gui import tasks
from opsconductor_desktop.gui.crash import CrashHandler
from opsconductor_desktop.gui.gcpolicy import GarbageCollector
from opsconductor_desktop.gui.loop import new_event_loop
from opsconductor_desktop.gui.main_window import MainWindow
from opsconductor_desktop.gui.startup import open_core_interactively
from opsconductor_desktop.paths import AppPaths

log = logging.getLogger("opsconductor.gui")

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def build_parser() -> argparse.ArgumentParser:
    """Options of the ``opsconductor-gui`` script (``opsconductor gui`` has the same)."""
    parser = argparse.ArgumentParser(prog="opsconductor-gui", description="OpsConductor console")
    parser.add_argument("--version", action="version", version=f"opsconductor {__version__}")
    parser.add_argument(
        "--db", metavar="URL", help="database URL (sqlite:///FILE or postgresql://…)"
    )
    parser.add_argument("--home", metavar="DIR", help="keep config, data and logs under DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO to the console")
    parser.add_argument("--screenshot", metavar="DIR", help="render every pane to DIR and exit")
    return parser


class Console:
    """One run of the console: open the core, show the window, wait until it closes."""

    def __init__(
        self,
        *,
        home: str | None,
        db_url: str | None,
        screenshot_dir: Path | None,
        crash: CrashHandler,
    ) -> None:
        self.home = home
        self.db_url = db_url
        self.screenshot_dir = screenshot_dir
        self.crash = crash
        self.window: MainWindow | None = None

    async def run(self) -> int:
        core = await open_core_interactively(self.home, self.db_url)
        if core is None:
            log.info("the operator quit at start-up")
            return EXIT_FAILED
        try:
            window = self.window = MainWindow(core, dispatcher=core.settings.poll_in_console)
            self.crash.db_text = str(core.db_info)
            if self.screenshot_dir is not None:
                from opsconductor_desktop.gui.screenshots import render_all

                written = await render_all(window, self.screenshot_dir)
                print(f"wrote {len(written)} screenshots to {self.screenshot_dir}")
                return EXIT_OK
            closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            window.closed.connect(lambda: _resolve(closed))
            window.show()
            window.start()
            await closed
            return EXIT_OK
        finally:
            if self.window is not None:
                await self.window.shutdown()
            await tasks.cancel_all()
            await core.close()

    def close_window(self) -> None:
        if self.window is not None:
            self.window.close()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    """Run the console until its window closes; the process exit code."""
    if not isinstance(args, argparse.Namespace):
        args = build_parser().parse_args(None if args is None else list(args))
    verbose = bool(getattr(args, "verbose", False))
    try:
        paths = AppPaths.resolve(getattr(args, "home", None)).ensure()
        log_file = logs.setup_logging(paths.log_dir, console_level="INFO" if verbose else "WARNING")
    except OSError as exc:
        print(f"error: cannot create OpsConductor's folders: {exc}", file=sys.stderr)
        return EXIT_FAILED
    screenshot = getattr(args, "screenshot", None)
    missing = _no_display()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return EXIT_FAILED
    with logs.operation("gui"):
        return _run(
            home=getattr(args, "home", None),
            db_url=getattr(args, "db", None),
            screenshot_dir=Path(screenshot) if screenshot else None,
            log_file=log_file,
        )


def _no_display() -> str | None:
    """Why the console cannot open a window here (Linux without a display), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    if os.environ.get("DISPLAY"):
        if ctypes.util.find_library("xcb-cursor") is None:  # Qt >= 6.5's xcb plugin needs it
            return (
                "Qt's X11 plugin needs libxcb-cursor0, which is not installed: "
                "sudo apt-get install libxcb-cursor0 (Debian/Ubuntu)"
            )
        return None
    return (
        "no display to open the console on (DISPLAY and WAYLAND_DISPLAY are not set): run it "
        "in a desktop session, or render screenshots headless with "
        "QT_QPA_PLATFORM=offscreen opsconductor gui --screenshot DIR"
    )


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
_QT_NOISE = ("This plugin does not support",)  # the offscreen platform, on every dialog
_qt_log = logging.getLogger("opsconductor.qt")


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's own warnings go to the log (file and console) like everything else."""
    level = _QT_LEVELS.get(kind, logging.WARNING)
    if any(noise in message for noise in _QT_NOISE):
        level = logging.DEBUG
    _qt_log.log(level, "%s", message)


def _application() -> tuple[QApplication, bool]:
    """The QApplication (made here unless one exists, as under pytest-qt) and ownership."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing, False
    app = QApplication(sys.argv[:1])
    app.setApplicationName("OpsConductor")
    app.setOrganizationName("OpsConductor")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("opsconductor")
    icon = app_paths.resources_dir() / "opsconductor.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app, True


def _run(
    *, home: str | None, db_url: str | None, screenshot_dir: Path | None, log_file: Path
) -> int:
    previous_handler = qInstallMessageHandler(_qt_message)
    app, owned = _application()
    app.setQuitOnLastWindowClosed(False)  # the loop ends when our future does, not before
    loop = new_event_loop(app)
    collector = GarbageCollector()
    crash = CrashHandler(log_file, parent_widget=lambda: app.activeWindow())
    crash.install(loop)
    console = Console(home=home, db_url=db_url, screenshot_dir=screenshot_dir, crash=crash)
    previous_sigint = signal.getsignal(signal.SIGINT)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        QTimer.singleShot(0, console.close_window)

    signal.signal(signal.SIGINT, interrupted)
    code = EXIT_FAILED
    try:
        collector.install()
        log.info("console starting (OpsConductor %s)", __version__)
        code = loop.run_until_complete(console.run())
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous_sigint)
        _shutdown(loop, app, owned, console, crash, collector)
        qInstallMessageHandler(previous_handler)
    log.info("console stopped (exit code %s)", code)
    return code


def _shutdown(
    loop: qasync.QEventLoop,
    app: QApplication,
    owned: bool,
    console: Console,
    crash: CrashHandler,
    collector: GarbageCollector,
) -> None:
    """Release everything in order; see the module docstring for why it matters."""
    if not loop.is_closed():
        loop.run_until_complete(tasks.cancel_all())
        loop.run_until_complete(loop.shutdown_asyncgens())
    if console.window is not None:
        console.window.hide()
        console.window.deleteLater()
        console.window = None
    crash.uninstall(loop)
    collector.uninstall()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    loop.close()
    asyncio.set_event_loop(None)
    crash.deleteLater()
    collector.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    if owned:
        app.shutdown()
