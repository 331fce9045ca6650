"""The Logs pane and its reader: paging a large log, filters, rotation, tail, copy, details."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from g2_fixtures import gcore, run, screenshot, wait_until
from PySide6.QtCore import QModelIndex, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

from opsconductor_desktop import logs
from opsconductor_desktop.gui.log_model import PAGE_SIZE
from opsconductor_desktop.gui.logreader import LogFilter, LogReader, parse_line
from opsconductor_desktop.gui.logs_pane import LogsPane, entry_html
from opsconductor_desktop.services.app import Core

__all__ = ["gcore"]  # fixtures used by name

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
CATEGORIES = (
    "opsconductor_desktop.services.inventory",
    "opsconductor_desktop.gui.targets",
    "opsconductor_desktop.runtime.poller",
)


def _record(i: int) -> str:
    entry = {
        "ts": f"2026-03-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000+00:00",
        "level": LEVELS[i % 4],
        "category": CATEGORIES[i % 3],
        "message": f"event number {i}",
        "cid": f"cid{i % 1000:04d}",
    }
    if i % 4 == 3:
        entry["exc"] = (
            f'Traceback (most recent call last):\n  File "x.py", line {i}\nValueError: {i}\n'
        )
        entry["extra"] = {"target": f"ams1-rtr-{i % 10:02d}"}
    return json.dumps(entry)


def write_log(path: Path, first: int, count: int, *, bad_every: int = 0) -> None:
    """``count`` records numbered from ``first`` (oldest first), with some garbage lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for i in range(first, first + count):
            if bad_every and i % bad_every == 0:
                f.write(f"!! not json {i}\n")
            else:
                f.write(_record(i) + "\n")


def number(message: str) -> int:
    return int(message.rsplit(" ", 1)[-1])


@pytest.fixture
def log_file(gcore: Core) -> Path:
    return gcore.paths.log_dir / "opsconductor.jsonl"


@pytest.fixture
def pane(qtbot: object, qloop: qasync.QEventLoop, gcore: Core) -> Iterator[LogsPane]:
    widget = LogsPane(gcore)
    widget.follow_box.setChecked(False)  # tests drive following explicitly
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.resize(1200, 700)
    yield widget
    widget.shutdown()


def _load(qloop: qasync.QEventLoop, pane: LogsPane) -> None:
    run(qloop, pane.reload())
    wait_until(qloop, lambda: not pane.model.fetching)


def _messages(pane: LogsPane) -> list[str]:
    return [pane.model.entry(r).message for r in range(pane.model.rowCount())]


# ---- the reader, without Qt ------------------------------------------------------------


def test_reader_pages_backwards_through_rotated_files(tmp_path: Path) -> None:
    log = tmp_path / "opsconductor.jsonl"
    write_log(log.with_name("opsconductor.jsonl.2"), 0, 300)
    write_log(log.with_name("opsconductor.jsonl.1"), 300, 300, bad_every=100)
    write_log(log, 600, 300)
    reader = LogReader(log, block=4096)
    seen: list[str] = []
    while not reader.exhausted:
        seen += [
            e.raw if e.malformed else e.message for e in reader.read_page(70, LogFilter()).entries
        ]
    assert len(seen) == 900
    numbers = [number(m) for m in seen]
    assert numbers == list(range(899, -1, -1))  # newest first, across files, nothing twice
    assert sum(1 for m in seen if m.startswith("!!")) == 3


def test_reader_follows_new_entries_across_rotation(tmp_path: Path) -> None:
    log = tmp_path / "opsconductor.jsonl"
    write_log(log, 0, 50)
    reader = LogReader(log)
    assert number(reader.read_page(10, LogFilter()).entries[0].message) == 49
    with log.open("a") as f:
        f.write(_record(50) + "\n" + _record(51)[:20])  # a line still being written
    assert [number(e.message) for e in reader.read_new(LogFilter()).entries] == [50]
    # rotation: the live file becomes .1 (and gets its last line finished), a new file starts
    with log.open("a") as f:
        f.write(_record(51)[20:] + "\n")
    os.rename(log, log.with_name("opsconductor.jsonl.1"))
    write_log(log, 52, 2)
    assert [number(e.message) for e in reader.read_new(LogFilter()).entries] == [53, 52, 51]
    # paging backwards continues in the renamed file
    assert number(reader.read_page(1, LogFilter()).entries[0].message) == 39


def test_parse_line_tolerates_garbage() -> None:
    assert parse_line(b"\xff\xfe not json").malformed
    assert parse_line(b"[1, 2]").malformed
    entry = parse_line(_record(3).encode())
    assert not entry.malformed
    assert entry.level == "ERROR"
    assert entry.exc
    assert "event number 3" in entry.as_text()
    assert "ValueError: 3" in entry.as_text()


def test_reader_with_the_real_log_format(tmp_path: Path) -> None:
    path = logs.setup_logging(tmp_path / "logs", level="DEBUG", console_level="CRITICAL")
    log = logging.getLogger("opsconductor_desktop.test")
    try:
        with logs.operation("unit test") as cid:
            log.info("hello %s", "world", extra={"target": "ams1-rtr-01"})
            try:
                raise KeyError("boom")
            except KeyError:
                log.exception("it failed")
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_opsconductor", False):
                logging.getLogger().removeHandler(handler)
                handler.close()
    entries = LogReader(path).read_page(10, LogFilter(cid=cid)).entries
    assert [e.message for e in entries] == [
        "it failed",
        "hello world",
        "operation unit test started",
    ]
    assert entries[0].exc is not None
    assert "KeyError: 'boom'" in entries[0].exc
    assert entries[1].extra == {"target": "ams1-rtr-01"}


# ---- the pane ---------------------------------------------------------------------------


def test_log_model_passes_modeltester_while_paging(
    pane: LogsPane, qloop: qasync.QEventLoop, log_file: Path, qtmodeltester: object
) -> None:
    write_log(log_file.with_name("opsconductor.jsonl.1"), 0, 700, bad_every=300)
    write_log(log_file, 700, 600)
    _load(qloop, pane)
    # the tester re-runs its checks on every insertion and fetches more each time
    qtmodeltester.check(pane.model)  # type: ignore[attr-defined]
    wait_until(qloop, lambda: pane.model.exhausted and not pane.model.fetching)
    assert pane.model.rowCount() == 1300
    assert pane.model.entry(1299).raw == "!! not json 0"


def test_large_log_loads_one_page_and_pages_on_demand(
    pane: LogsPane, qloop: qasync.QEventLoop, log_file: Path
) -> None:
    write_log(log_file, 0, 200_000, bad_every=50_000)
    size = log_file.stat().st_size
    assert size > 30_000_000
    _load(qloop, pane)
    assert pane.model.rowCount() == PAGE_SIZE
    assert pane.model.reader.bytes_read < 1_000_000  # only the last blocks were read
    assert number(pane.model.entry(0).message) == 199_999  # newest first
    assert pane.older_button.isEnabled()
    pane.older_button.click()
    wait_until(qloop, lambda: not pane.model.fetching and pane.model.rowCount() == 2 * PAGE_SIZE)
    assert number(pane.model.entry(2 * PAGE_SIZE - 1).message) == 199_000
    assert pane.model.reader.bytes_read < 2_000_000


def test_filters_level_category_text_and_cid(
    pane: LogsPane, qloop: qasync.QEventLoop, log_file: Path
) -> None:
    write_log(log_file, 0, 20_000, bad_every=5_000)
    _load(qloop, pane)
    pane.level_combo.setCurrentIndex(pane.level_combo.findData(40))  # error and above
    wait_until(qloop, lambda: not pane.model.fetching and pane.model.log_filter.min_level == 40)
    levels = {pane.model.entry(r).level for r in range(pane.model.rowCount())}
    assert levels <= {"ERROR", ""}  # malformed lines pass the level filter
    assert pane.model.rowCount() == PAGE_SIZE

    pane.category_combo.setEditText("runtime.poller")
    pane.apply_filters()
    wait_until(qloop, lambda: not pane.model.fetching)
    entries = [pane.model.entry(r) for r in range(pane.model.rowCount())]
    assert entries
    assert all(e.category.endswith("runtime.poller") and e.level == "ERROR" for e in entries)

    pane.category_combo.setEditText("")
    pane.level_combo.setCurrentIndex(0)
    pane.text_edit.setText("EVENT NUMBER 1234")
    pane.apply_filters()
    wait_until(qloop, lambda: not pane.model.fetching and pane.model.exhausted)
    assert _messages(pane) == [
        "event number 12349",
        "event number 12348",
        "event number 12347",
        "event number 12346",
        "event number 12345",
        "event number 12344",
        "event number 12343",
        "event number 12342",
        "event number 12341",
        "event number 12340",
        "event number 1234",
    ]

    pane.text_edit.clear()
    pane.filter_by_cid("cid0042")
    wait_until(qloop, lambda: not pane.model.fetching and pane.model.exhausted)
    assert [number(m) for m in _messages(pane)] == [
        19042,
        18042,
        17042,
        16042,
        15042,
        14042,
        13042,
        12042,
        11042,
        10042,
        9042,
        8042,
        7042,
        6042,
        5042,
        4042,
        3042,
        2042,
        1042,
        42,
    ]


def test_details_copy_malformed_and_folder(
    pane: LogsPane,
    qloop: qasync.QEventLoop,
    log_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_log(log_file.with_name("opsconductor.jsonl.1"), 0, 100, bad_every=40)
    write_log(log_file, 100, 100, bad_every=40)
    _load(qloop, pane)
    wait_until(qloop, lambda: pane.model.exhausted)
    assert pane.model.rowCount() == 200
    assert pane.model.malformed == 5  # 0, 40, 80, 120, 160
    assert "5 malformed" in pane.status.text()
    raw = [pane.model.entry(r) for r in range(200) if pane.model.entry(r).malformed]
    assert [e.raw for e in raw] == [
        "!! not json 160",
        "!! not json 120",
        "!! not json 80",
        "!! not json 40",
        "!! not json 0",
    ]

    # details of an entry with a traceback; its correlation id links to a filter
    row = next(r for r in range(200) if pane.model.entry(r).exc)
    pane.view.selectRow(row)
    details = pane.details.toHtml()
    assert "Traceback" in details
    assert "ValueError" in details
    assert "ams1-rtr-" in details
    entry = pane.model.entry(row)
    assert f"cid:{entry.cid}" in entry_html(entry)
    screenshot(pane, "logs-pane")

    # through the selection model: ``view.selectRow`` follows the application's keyboard
    # modifiers, and a Ctrl another test left pressed would make it toggle row 0 off
    flags = pane.view.selectionModel().SelectionFlag
    pane.view.selectionModel().select(pane.model.index(0, 0), flags.ClearAndSelect | flags.Rows)
    pane.view.selectionModel().select(pane.model.index(1, 0), flags.Select | flags.Rows)
    text = pane.copy_selection()
    assert QGuiApplication.clipboard().text() == text
    lines = text.splitlines()
    assert "event number 199" in lines[0]
    assert "event number 198" in "\n".join(lines[1:])

    pane._on_link(QUrl(f"cid:{entry.cid}"))
    wait_until(qloop, lambda: not pane.model.fetching and pane.model.exhausted)
    assert {pane.model.entry(r).cid for r in range(pane.model.rowCount())} == {entry.cid}

    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert pane.open_log_folder()
    assert opened
    assert opened[0].toLocalFile() == str(log_file.parent)


def test_missing_log_then_follow_new_entries(
    pane: LogsPane, qloop: qasync.QEventLoop, log_file: Path
) -> None:
    assert not log_file.exists()
    _load(qloop, pane)
    assert pane.model.rowCount() == 0
    assert "No log file yet" in pane.status.text()
    write_log(log_file, 0, 3)
    assert run(qloop, pane.model.follow()) == 3
    assert [number(m) for m in _messages(pane)] == [2, 1, 0]
    assert pane.model.follow_small() == 0  # nothing new: not even a thread hop
    with log_file.open("a") as f:
        f.write(_record(3) + "\n")
    assert pane.model.reader.pending_bytes() > 0
    assert pane.model.follow_small() == 1  # a little: read right here
    assert number(_messages(pane)[0]) == 3
    write_log(log_file.with_name("big.tmp"), 4, 2000)
    with log_file.open("a") as f:
        f.write(log_file.with_name("big.tmp").read_text())
    assert pane.model.follow_small() is None  # a lot: the worker thread reads it
    assert run(qloop, pane.model.follow()) == 2000
    assert number(_messages(pane)[0]) == 2003
    assert not pane.model.canFetchMore(QModelIndex())


def test_follow_timer_runs_only_while_visible(pane: LogsPane, qloop: qasync.QEventLoop) -> None:
    pane.follow_box.setChecked(True)
    assert not pane._follow_timer.isActive()
    pane.show()
    wait_until(qloop, lambda: not pane.model.fetching)
    assert pane._follow_timer.isActive()
    pane.hide()
    assert not pane._follow_timer.isActive()


def test_dark_screenshot_with_a_real_log(
    pane: LogsPane, qloop: qasync.QEventLoop, log_file: Path
) -> None:
    from PySide6.QtWidgets import QApplication

    from opsconductor_desktop.gui.theme import apply_theme

    path = logs.setup_logging(log_file.parent, level="DEBUG", console_level="CRITICAL")
    log = logging.getLogger("opsconductor_desktop.services.inventory")
    try:
        for i in range(40):
            with logs.operation("poll"):
                log.info("polled ams1-rtr-%02d in %d ms", i % 8, 40 + i, extra={"target": i})
                if i % 9 == 0:
                    try:
                        raise TimeoutError(f"no answer from 10.10.0.{i}")
                    except TimeoutError:
                        log.exception("SNMP GET to ams1-rtr-%02d failed", i % 8)
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_opsconductor", False):
                logging.getLogger().removeHandler(handler)
                handler.close()
    with path.open("a") as f:
        f.write("Segmentation fault (core dumped)\n")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    try:
        pane.show()
        _load(qloop, pane)
        pane.view.selectRow(next(r for r in range(10) if pane.model.entry(r).exc))
        screenshot(pane, "logs-pane-dark")
    finally:
        apply_theme(app, "system")
    assert pane.model.malformed == 1
