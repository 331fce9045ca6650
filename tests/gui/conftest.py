"""GUI test fixtures: one qasync loop per test, a core on SQLite, demo data, Qt warnings fail.

GUI tests are plain (sync) functions — pytest-asyncio's loop is never used here. The
``qloop`` fixture makes the test's ``qasync`` loop; ``drive`` runs coroutines on it and
waits for conditions (the loop runs, so spawned tasks and Qt events progress)::

    def test_x(drive, demo_core): ...
        drive.run(pane.reload())
        drive.until(lambda: pane.proxy.rowCount() == 3)

Qt warnings (``qWarning`` and worse) fail the test that caused them, like pytest-qt's
``qt_log_level_fail = WARNING`` (messages the offscreen platform prints about features
it lacks are ignored). ``guard_singleton_refcounts`` protects the session from the
PySide6 6.12 reference leak on ``Signal.emit`` (see ``gui/loop.py``).
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt, QtMsgType
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from opsconductor_desktop.gui import tasks
from opsconductor_desktop.gui.gcpolicy import GarbageCollector
from opsconductor_desktop.gui.loop import guard_singleton_refcounts
from opsconductor_desktop.secrets import MemoryKeyring, SecretStore
from opsconductor_desktop.services.app import Core, open_core

guard_singleton_refcounts()

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DEMO_TARGETS = 240
IGNORED_QT_MESSAGES = (
    "This plugin does not support",  # offscreen platform: raise(), propagateSizeHints()…
)


@pytest.fixture(autouse=True)
def _qt_warnings_fail(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose code made Qt print a warning (qt_log_level_fail = WARNING)."""
    if "qtlog" not in request.fixturenames and "qapp" not in request.fixturenames:
        # Not a Qt test (e.g. pure model helpers): nothing to capture.
        yield
        return
    qtlog = request.getfixturevalue("qtlog")
    yield
    bad = [
        r
        for r in qtlog.records
        if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        and not any(p in r.message for p in IGNORED_QT_MESSAGES)
    ]
    if bad:
        lines = "\n".join(f"  {r.log_type_name}: {r.message}" for r in bad)
        pytest.fail(f"Qt printed warnings during the test:\n{lines}", pytrace=False)


@pytest.fixture(autouse=True)
def _no_stale_modifiers() -> Iterator[None]:
    """Offscreen, ``QGuiApplication.keyboardModifiers()`` keeps the modifiers of the last
    input event: after a test's Ctrl+F click, Ctrl stays "held" for the next test of the
    worker, and ``QTableView.selectRow`` then toggles rows. Release it after every test."""
    yield
    if QApplication.instance() is not None:
        releaser = QWidget()
        QTest.keyRelease(releaser, Qt.Key.Key_Control, Qt.KeyboardModifier.NoModifier)
        releaser.deleteLater()


def _mark_running(loop: asyncio.AbstractEventLoop | None) -> None:
    """Between ``run_until_complete`` calls Qt still processes events (qtbot clicks,
    pytest-qt's teardown), and qasync then steps tasks from its timers: as in the real
    console, where the loop always runs, they need asyncio's running loop set."""
    asyncio.events._set_running_loop(loop)


class Driver:
    """Runs the test's qasync loop: coroutines to completion, or until a condition holds."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the loop (the timeout only guards against hangs)."""
        try:
            return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))
        finally:
            _mark_running(self.loop)

    def until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> None:
        """Run the loop until ``predicate()`` is true."""

        async def poll() -> None:
            deadline = self.loop.time() + timeout
            while not predicate():
                if self.loop.time() > deadline:
                    raise AssertionError(f"condition not reached within {timeout} s: {predicate}")
                await asyncio.sleep(0.01)

        self.run(poll(), timeout + 5)

    def sleep(self, seconds: float) -> None:
        self.run(asyncio.sleep(seconds))

    def settle(self, timeout: float = 10.0) -> None:
        """Let spawned tasks finish (and queued Qt events run)."""
        self.until(lambda: tasks.pending() == 0, timeout)
        self.sleep(0.02)

    def find(self, parent: QWidget, kind: type[QWidget], name: str = "") -> Any:
        """Wait for a (visible) child widget of ``kind`` (and object name) and return it."""
        found: list[QWidget] = []

        def present() -> bool:
            for child in parent.findChildren(kind):
                if (not name or child.objectName() == name) and child.isVisible():
                    found.append(child)
                    return True
            return False

        self.until(present)
        return found[0]


class TestLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop, but asyncio's running loop stays set after ``run_forever``.

    qasync's ``run_until_complete`` processes Qt events once more after ``run_forever``
    has unset it, and tasks stepped then fail with "no running event loop".
    """

    def run_forever(self) -> Any:
        try:
            return super().run_forever()
        finally:
            _mark_running(self)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """The one asyncio loop of a GUI test, on Qt's event loop; closed cleanly after.

    Garbage is collected in the GUI thread only, as in the console (``gui/gcpolicy.py``).
    An unexpected exception in a spawned task (what the crash dialog would show) fails
    the test.
    """
    loop = TestLoop(qapp)
    asyncio.set_event_loop(loop)
    collector = GarbageCollector(freeze=False)
    collector.install()
    crashes: list[BaseException] = []
    tasks.set_crash_handler(crashes.append)
    _mark_running(loop)
    try:
        yield loop
    finally:
        loop.run_until_complete(tasks.cancel_all())
        loop.run_until_complete(loop.shutdown_asyncgens())
        _mark_running(None)
        loop.close()
        asyncio.set_event_loop(None)
        tasks.set_crash_handler(None)
        collector.uninstall()
        collector.deleteLater()
    if crashes:
        pytest.fail(f"unexpected errors in spawned tasks: {crashes!r}", pytrace=False)


@pytest.fixture
def drive(qloop: qasync.QEventLoop) -> Driver:
    return Driver(qloop)


def _open(home: Path, db_file: Path) -> Coroutine[Any, Any, Core]:
    return open_core(
        home=home, db_url=f"sqlite:///{db_file}", secrets=SecretStore(), actor="tester"
    )


@pytest.fixture
def gui_core(drive: Driver, tmp_path: Path) -> Iterator[Core]:
    """A core on a fresh, empty SQLite file (keyring: the in-memory one of tests/conftest)."""
    core = drive.run(_open(tmp_path / "home", tmp_path / "opsc.db"))
    try:
        yield core
    finally:
        drive.run(core.close())


@pytest.fixture(scope="session")
def demo_template() -> Iterator[Path]:
    """An SQLite file with the demo estate, made once per session (plain asyncio)."""
    from opsconductor_desktop.services import demo

    folder = Path(tempfile.mkdtemp(prefix="opsc-demo-"))

    async def build() -> None:
        core = await open_core(
            home=folder / "home",
            db_url=f"sqlite:///{folder / 'demo.db'}",
            secrets=SecretStore(MemoryKeyring()),
            actor="demo",
        )
        try:
            await demo.populate(core, targets=DEMO_TARGETS)
        finally:
            await core.close()

    # In a thread of its own: asyncio.run in this thread would unset the test's qasync loop.
    gc.collect()  # and no garbage Qt object may be collected over there
    worker = threading.Thread(target=asyncio.run, args=(build(),), name="demo template")
    worker.start()
    worker.join()
    if not (folder / "demo.db").is_file():
        pytest.fail("could not build the demo database (see the log)")
    try:
        yield folder / "demo.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def demo_core(drive: Driver, tmp_path: Path, demo_template: Path) -> Iterator[Core]:
    """A core on a copy of the demo estate (≥200 targets, sites, vendors, dynamic groups)."""
    db_file = tmp_path / "demo.db"
    shutil.copyfile(demo_template, db_file)
    core = drive.run(_open(tmp_path / "home", db_file))
    try:
        yield core
    finally:
        drive.run(core.close())


@pytest.fixture
def console_settings(tmp_path: Path) -> QSettings:
    """A QSettings INI file of the test's own (never the user's settings)."""
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


def _save_screenshot(widget: QWidget, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"cannot write {path}"
    return path


@pytest.fixture
def screenshot() -> Callable[[QWidget, str], Path]:
    """``screenshot(widget, name)`` writes artifacts/screenshots/NAME.png (git-ignored)."""
    return _save_screenshot
