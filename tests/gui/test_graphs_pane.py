"""The Graphs pane and the details panel's sparklines, on SQLite with real rows in
``samples``, ``sample_rollups`` and ``metric_series``: picking a target lists its series,
range and resolution ask the service for the right rollups, several series overlay,
new samples append live (the operator's zoom stays unless following now), empty states,
check states and sparklines in the target details, "Show graphs" from the Targets pane.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QPalette, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import insert

from opsconductor_desktop.domain.errors import DatabaseUnavailableError
from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.gui.graphs.pane import GraphsPane
from opsconductor_desktop.gui.graphs.plot import with_gaps
from opsconductor_desktop.gui.graphs.sparkline import thin
from opsconductor_desktop.gui.graphs.values import TimeRange, format_value, tick_labels
from opsconductor_desktop.gui.main_window import MainWindow
from opsconductor_desktop.gui.targets.health import state_html
from opsconductor_desktop.gui.targets.pane import TargetsPane
from opsconductor_desktop.runtime.metric_store import MetricStore
from opsconductor_desktop.runtime.poller import CheckResult
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import CheckStateInfo
from opsconductor_desktop.store.models import RollupRow, SampleRow, SeriesRow, table_of

Shot = Callable[[QWidget, str], Path]
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
DAY_SAMPLES = 24 * 60  # raw samples in the last day, one a minute


def _curve(series: str, t: float) -> float:
    """A recognisable value per series: a daily wave, offset per series."""
    base = {"cpuLoad": 40.0, "ifHCIn.1": 2e9, "rtt_ms": 1.5}.get(series, 10.0)
    return base * (1 + 0.5 * math.sin(2 * math.pi * t / 86400))


async def write_metrics(core: Core, target: str, series: list[str], *, days: int = 30) -> None:
    """A day of raw samples a minute and ``days`` of five-minute rollups, per series."""
    tid = (await core.inventory.get_target(target)).id
    end = int(NOW.timestamp())
    samples, rollups, catalogue = [], [], []
    for name in series:
        for i in range(DAY_SAMPLES):
            t = end - (DAY_SAMPLES - 1 - i) * 60
            samples.append(
                {"target_id": tid, "series": name, "ts": _at(t), "value": _curve(name, t)}
            )
        first = end - days * 86400
        for b in range(first - first % 300, end - end % 300, 300):
            v = _curve(name, b)
            rollups.append(
                {"target_id": tid, "series": name, "bucket": _at(b), "count": 5,
                 "minimum": v * 0.9, "average": v, "maximum": v * 1.1}
            )  # fmt: skip
        catalogue.append(
            {"target_id": tid, "series": name, "monitor": "snmp-basics",
             "last_at": _at(end), "last_value": _curve(name, end)}
        )  # fmt: skip
    async with core.ctx.db.session() as s:
        await s.execute(insert(table_of(SampleRow)), samples)
        await s.execute(insert(table_of(RollupRow)), rollups)
        await s.execute(insert(table_of(SeriesRow)), catalogue)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def estate(core: Core) -> None:
    for name, address in (("r1", "10.0.0.1"), ("r2", "10.0.0.2"), ("sw1", "10.0.0.3")):
        await core.inventory.create_target(TargetSpec(name=name, address=address))
    await write_metrics(core, "r1", ["cpuLoad", "ifHCIn.1", "rtt_ms"])
    await write_metrics(core, "sw1", ["cpuLoad"], days=2)


@pytest.fixture
def pane(qtbot: Any, drive: Any, gui_core: Core) -> Iterator[GraphsPane]:
    drive.run(estate(gui_core))
    widget = GraphsPane(gui_core)
    widget.resize(1200, 700)
    widget.show()
    drive.run(widget.reload())
    yield widget
    drive.run(widget.stopped())
    drive.settle()
    widget.close()
    widget.deleteLater()


def pick(pane: GraphsPane, drive: Any, name: str) -> None:
    """Click a target in the list, as the operator would, and wait for its plot."""
    pane.filter_edit.setText(name)
    row = next(r for r in range(pane.proxy.rowCount()) if pane.proxy.index(r, 0).data() == name)
    pane.targets_view.setCurrentIndex(pane.proxy.index(row, 0))
    settled(pane, drive)


def settled(pane: GraphsPane, drive: Any) -> None:
    drive.until(lambda: not pane.is_reloading())
    drive.settle()


def listed(pane: GraphsPane) -> list[str]:
    return [pane.series_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(pane.series_list.count())]  # fmt: skip


def tick(pane: GraphsPane, drive: Any, *names: str) -> None:
    """Tick/untick in the list like a click on the check boxes."""
    for i in range(pane.series_list.count()):
        item = pane.series_list.item(i)
        on = item.data(Qt.ItemDataRole.UserRole) in names
        wanted = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if item.checkState() != wanted:
            item.setCheckState(wanted)
    settled(pane, drive)


def click_range(pane: GraphsPane, drive: Any, label: str) -> None:
    pane.range_bar.buttons[label].click()
    settled(pane, drive)


def choose_resolution(pane: GraphsPane, drive: Any, label: str) -> None:
    combo = pane.range_bar.resolution
    combo.setCurrentIndex(combo.findText(label))
    settled(pane, drive)


def wheel(pane: GraphsPane, steps: int = 2) -> None:
    """Turn the mouse wheel over the middle of the plot (zoom in on time)."""
    viewport = pane.plot.view.viewport()
    at = QPointF(viewport.width() / 2, viewport.height() / 2)
    for _ in range(abs(steps)):
        event = QWheelEvent(
            at,
            QPointF(viewport.mapToGlobal(at.toPoint())),
            QPoint(0, 0),
            QPoint(0, 120 if steps > 0 else -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)


# ---- picking a target, its series, the empty states -----------------------------------------


def test_picking_a_target_lists_its_series_and_draws_the_first(
    pane: GraphsPane, drive: Any
) -> None:
    assert pane.names.stringList() == ["r1", "r2", "sw1"]
    assert pane.plot.showing_message()
    assert "Pick a target" in pane.plot.message.text()
    pick(pane, drive, "r1")
    assert listed(pane) == ["cpuLoad", "ifHCIn.1", "rtt_ms"]
    assert pane.ticked() == ["cpuLoad"]
    assert not pane.plot.showing_message()
    assert list(pane.plot.series) == ["cpuLoad"]
    # 24 h by default: the raw samples of the last day, as stored
    assert pane.effective == "raw"
    count = pane.plot.point_count("cpuLoad")
    assert DAY_SAMPLES - 3 <= count <= DAY_SAMPLES  # the window ends now, a bit after NOW
    latest = format_value(_curve("ifHCIn.1", NOW.timestamp()))
    assert pane.series_list.item(1).text() == f"ifHCIn.1   {latest}"  # SI-prefixed
    assert f"24 h · raw samples · 1 series · {count:,} points" in pane.info.text()
    # the time axis is the whole range, ending now
    start, end = pane.plot.x_range()
    assert abs(end - time.time()) < 3600
    assert abs((end - start) - 86400) < 3600


def test_empty_states(pane: GraphsPane, drive: Any) -> None:
    pick(pane, drive, "r2")
    assert listed(pane) == []
    assert pane.plot.showing_message()
    assert "No metrics yet for r2 — add a monitor" in pane.plot.message.text()
    assert pane.plot.series == {}
    pick(pane, drive, "r1")
    tick(pane, drive)  # nothing ticked
    assert pane.plot.showing_message()
    assert "Tick one or more series" in pane.plot.message.text()
    tick(pane, drive, "rtt_ms")
    assert not pane.plot.showing_message()


def test_errors_show_in_the_pane_and_clear_when_it_works_again(
    pane: GraphsPane, drive: Any, gui_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    pick(pane, drive, "r1")

    async def down(*_: Any, **__: Any) -> Any:
        raise DatabaseUnavailableError("cannot reach the database: connection refused")

    monkeypatch.setattr(gui_core.monitoring, "series", down)
    pane.refresh()
    settled(pane, drive)
    assert "connection refused" in pane.messages.text()
    monkeypatch.undo()
    pane.refresh()
    settled(pane, drive)
    assert pane.messages.text() == ""
    assert pane.plot.point_count("cpuLoad") > 1000


def test_target_list_filters_as_you_type(pane: GraphsPane, drive: Any, qtmodeltester: Any) -> None:
    pane.filter_edit.setText("R")
    assert pane.proxy.rowCount() == 2  # r1, r2 (case-insensitive)
    qtmodeltester.check(pane.proxy)
    pane.filter_edit.setText("sw")
    pane.filter_edit.returnPressed.emit()
    settled(pane, drive)
    assert pane.target == "sw1"
    assert listed(pane) == ["cpuLoad"]


# ---- range and resolution ---------------------------------------------------------------------


def test_range_and_resolution_ask_for_the_right_rollups(
    pane: GraphsPane, drive: Any, gui_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str, float]] = []
    real = gui_core.monitoring.points

    async def spy(target: str, series: str, **kw: Any) -> Any:
        asked.append((series, kw["resolution"], kw["start"].timestamp()))
        return await real(target, series, **kw)

    monkeypatch.setattr(gui_core.monitoring, "points", spy)
    pick(pane, drive, "r1")
    click_range(pane, drive, "7 d")
    assert asked[-1][1] == "auto"
    assert abs(asked[-1][2] - (time.time() - 7 * 86400)) < 60
    assert pane.effective == "5m"  # auto: five-minute rollups up to 8 days
    assert 7 * 288 - 2 <= pane.plot.point_count("cpuLoad") <= 7 * 288 + 2
    assert pane.plot.series["cpuLoad"].banded  # min–max band for rollups
    click_range(pane, drive, "30 d")
    assert pane.effective == "1h"
    assert 30 * 24 - 2 <= pane.plot.point_count("cpuLoad") <= 30 * 24 + 2
    assert "30 d · hourly averages" in pane.info.text()
    choose_resolution(pane, drive, "5 min")
    assert asked[-1][1] == "5m"
    assert pane.effective == "5m"
    assert pane.plot.point_count("cpuLoad") >= 30 * 288 - 2  # a month of 5-min rollups
    click_range(pane, drive, "1 h")
    choose_resolution(pane, drive, "Raw")
    assert pane.effective == "raw"
    assert 59 <= pane.plot.point_count("cpuLoad") <= 61
    assert not pane.plot.series["cpuLoad"].banded
    start, end = pane.plot.x_range()
    assert 3500 < end - start < 3800


def test_custom_range_is_fixed_and_does_not_follow(pane: GraphsPane, drive: Any) -> None:
    pick(pane, drive, "r1")
    start, end = NOW - timedelta(hours=10), NOW - timedelta(hours=4)
    pane.set_range(TimeRange.custom(start, end))
    settled(pane, drive)
    assert not pane.follow_action.isChecked()
    assert not pane.follow_action.isEnabled()
    assert pane.range_bar.buttons["Custom…"].isChecked()
    assert 359 <= pane.plot.point_count("cpuLoad") <= 361
    low, high = pane.plot.x_range()
    assert (low, high) == pytest.approx((start.timestamp(), end.timestamp()), abs=1)


def test_custom_range_dialog_refuses_a_backwards_range(pane: GraphsPane, drive: Any) -> None:
    from opsconductor_desktop.gui.graphs.controls import CustomRangeDialog

    dialog = CustomRangeDialog(NOW - timedelta(hours=2), NOW)
    assert dialog.validate() == ""
    dialog.end_edit.setDateTime(dialog.start_edit.dateTime().addSecs(-60))
    assert "end after it starts" in dialog.validate()
    dialog.deleteLater()


# ---- several series, colours, readout ---------------------------------------------------------


def test_several_series_overlay_with_distinct_colours_and_a_readout(
    pane: GraphsPane, drive: Any
) -> None:
    pick(pane, drive, "r1")
    tick(pane, drive, "cpuLoad", "rtt_ms")
    assert list(pane.plot.series) == ["cpuLoad", "rtt_ms"]
    pens = {name: s.curve.opts["pen"].color().name() for name, s in pane.plot.series.items()}
    assert len(set(pens.values())) == 2
    assert [label.text for _, label in pane.plot.legend.items] == ["cpuLoad", "rtt_ms"]
    # the mouse over the plot: a cursor line and the values under it
    viewport = pane.plot.view.viewport()
    QTest.mouseMove(viewport, QPoint(viewport.width() // 2, viewport.height() // 2))
    drive.until(lambda: "cpuLoad <b>" in pane.plot.readout.text())
    assert "rtt_ms <b>" in pane.plot.readout.text()
    assert pane.plot.time_cursor.isVisible()
    t = NOW.timestamp() - 3 * 3600
    text = pane.plot.readout_at(t)
    assert format_value(_curve("cpuLoad", t)) in text
    assert format_value(_curve("rtt_ms", t)) in text
    assert pane.plot.time_cursor.isVisible()
    # unticking keeps the other series (and the view) as they were
    wheel(pane)
    zoomed = pane.plot.x_range()
    tick(pane, drive, "rtt_ms")
    assert list(pane.plot.series) == ["rtt_ms"]
    assert pane.plot.x_range() == pytest.approx(zoomed)
    # the colour of a series is its own, whatever else is shown
    assert pane.plot.series["rtt_ms"].curve.opts["pen"].color().name() == pens["rtt_ms"]


# ---- live updates -----------------------------------------------------------------------------


async def poll_once(core: Core, target: str, at: datetime, values: dict[str, float]) -> None:
    """What the poller does with a check result: store it, then announce new samples."""
    tid = (await core.inventory.get_target(target)).id
    result = CheckResult("snmp-basics", target, tid, at, True, 12.0, tuple(values.items()))
    await MetricStore(core.ctx.db).write([result], {})
    core.bus.publish(Changed(Entity.METRIC, Action.CREATED))


def test_new_samples_append_and_keep_the_operators_zoom(
    pane: GraphsPane, drive: Any, gui_core: Core
) -> None:
    pick(pane, drive, "r1")
    assert pane.follow_action.isChecked()
    wheel(pane)  # the operator zooms in: following stops
    assert not pane.follow_action.isChecked()
    view = pane.plot.x_range()
    before = pane.plot.point_count("cpuLoad")
    drive.run(poll_once(gui_core, "r1", datetime.now(UTC), {"cpuLoad": 77.0}))
    drive.until(lambda: pane.plot.point_count("cpuLoad") == before + 1)
    assert pane.plot.series["cpuLoad"].values[-1] == 77.0
    assert pane.plot.x_range() == pytest.approx(view)
    assert "77" in pane.series_list.item(0).text()  # the latest value in the list, too
    # Reset zoom: the whole range, following again; the next sample moves the view
    pane.reset_action.trigger()
    assert pane.follow_action.isChecked()
    wheel(pane, -3)  # zoomed out, then following again: the view moves with the samples
    pane.follow_action.trigger()
    assert pane.follow_action.isChecked()
    drive.sleep(1.1)
    newest = datetime.now(UTC)
    drive.run(poll_once(gui_core, "r1", newest, {"cpuLoad": 12.0}))
    drive.until(lambda: pane.plot.point_count("cpuLoad") == before + 2)
    settled(pane, drive)
    low, high = pane.plot.x_range()
    assert low < newest.timestamp() < high
    assert high - low == pytest.approx(86400 * 1.015, rel=0.01)


def test_rollups_append_by_replacing_the_grown_bucket(pane: GraphsPane) -> None:
    from opsconductor_desktop.services.monitoring import Points

    plot = pane.plot
    plot.set_series(
        "x", Points("r", "x", "5m", (0.0, 300.0), (1.0, 2.0), (0.5, 1.5), (1.5, 2.5)), 0
    )
    added = plot.append(
        "x", Points("r", "x", "5m", (300.0, 600.0), (3.0, 4.0), (2.0, 3.5), (4.0, 4.5))
    )
    assert added == 1
    assert list(plot.series["x"].ts) == [0.0, 300.0, 600.0]
    assert list(plot.series["x"].values) == [1.0, 3.0, 4.0]
    assert list(plot.series["x"].high) == [1.5, 4.0, 4.5]


def test_a_hidden_pane_catches_up_when_shown(pane: GraphsPane, drive: Any, gui_core: Core) -> None:
    pick(pane, drive, "r1")
    before = pane.plot.point_count("cpuLoad")
    pane.hide()
    drive.run(poll_once(gui_core, "r1", datetime.now(UTC), {"cpuLoad": 5.0}))
    drive.sleep(0.4)
    settled(pane, drive)
    assert pane.plot.point_count("cpuLoad") == before  # no work while hidden
    pane.show()
    pane.activated()
    drive.until(lambda: pane.plot.point_count("cpuLoad") == before + 1)


def test_deleted_target_is_forgotten(pane: GraphsPane, drive: Any, gui_core: Core) -> None:
    pick(pane, drive, "sw1")
    drive.run(gui_core.inventory.delete_targets(["sw1"]))
    drive.until(lambda: "sw1" not in pane.names.stringList())
    settled(pane, drive)
    assert pane.target is None
    assert pane.plot.showing_message()
    assert "sw1 no longer exists" in pane.plot.message.text()


# ---- big ranges ---------------------------------------------------------------------------------


def test_big_ranges_keep_the_loop_responsive(pane: GraphsPane, drive: Any) -> None:
    lags: list[float] = []

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.005)
            lags.append(loop.time() - before - 0.005)

    pick(pane, drive, "r1")
    tick(pane, drive, "cpuLoad", "ifHCIn.1", "rtt_ms")
    choose_resolution(pane, drive, "5 min")
    task = asyncio.ensure_future(ticker())
    try:
        click_range(pane, drive, "30 d")  # 3 × 8,640 rollups with their bands
        pane.plot.view.grab()  # and paint them
    finally:
        task.cancel()
    assert pane.plot.point_count("ifHCIn.1") >= 30 * 288 - 2
    assert max(lags) < 0.5, f"the loop stalled {max(lags):.3f} s"


def test_many_points_are_downsampled_and_clipped_to_the_view(pane: GraphsPane) -> None:
    from opsconductor_desktop.services.monitoring import Points

    count = 200_000  # 30 days of a sample every 13 s
    ts = tuple(1.7e9 + i * 13.0 for i in range(count))
    values = tuple(math.sin(i / 500) for i in range(count))
    started = time.perf_counter()
    pane.plot.set_series("dense", Points("r", "dense", "raw", ts, values), 0)
    pane.plot.set_x_range(ts[0], ts[-1])
    pane.plot.view.grab()
    drawn_in = time.perf_counter() - started
    shown, _ = pane.plot.series["dense"].curve.getData()
    assert len(shown) < count / 10  # peak-downsampled to a few points per pixel
    pane.plot.set_x_range(ts[1000], ts[3000])
    pane.plot.view.grab()
    shown, _ = pane.plot.series["dense"].curve.getData()
    assert len(shown) < 2100  # only what is in view
    assert drawn_in < 2.0, f"{drawn_in:.2f} s to draw {count:,} points"


def test_the_console_starts_without_loading_the_plot_library() -> None:
    """pyqtgraph and numpy cost most of a second to import: only a shown Graphs pane does."""
    code = (
        "import sys\n"
        "import opsconductor_desktop.gui.main_window\n"
        "print(sorted(m for m in ('pyqtgraph', 'numpy') if m in sys.modules))"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


# ---- pure helpers --------------------------------------------------------------------------------


def test_values_read_like_an_operator_expects() -> None:
    assert format_value(6.2134e9) == "6.21 G"
    assert format_value(742_000_000) == "742 M"
    assert format_value(999_700) == "1 M"
    assert format_value(42.13) == "42.1"
    assert format_value(0.853) == "0.853"
    assert format_value(0) == "0"
    assert format_value(float("nan")) == "—"
    assert tick_labels([0, 2e9, 4e9], 2e9) == ["0", "2 G", "4 G"]
    assert tick_labels([1.25e9, 1.5e9], 0.25e9) == ["1.25 G", "1.50 G"]
    assert tick_labels([10, 20], 10) == ["10", "20"]


def test_gaps_break_lines() -> None:
    ts = np.array([0.0, 60, 120, 180, 3600, 3660])
    gapped_ts, gapped = with_gaps(ts, ts * 2)
    assert np.isnan(gapped).sum() == 1
    assert gapped_ts.size == ts.size + 1
    stretches = thin(list(ts), [1.0] * 6, 0, 3660, 100)
    assert len(stretches) == 2
    # many points, few columns: at most two points (min and max) per column
    many = [float(i) for i in range(10_000)]
    shape = [math.sin(i / 50) for i in range(10_000)]
    (line,) = thin(many, shape, 0, 10_000, 100)
    assert len(line) <= 200
    assert max(v for _, v in line) == pytest.approx(max(shape))


def test_check_state_lines() -> None:
    now = datetime.now(UTC)
    failing = CheckStateInfo(
        "snmp-basics", "r1", False, now, now - timedelta(minutes=40), 40, 30000.0,
        "no SNMP response <timeout>",
    )  # fmt: skip
    line = state_html(failing, now, dark=False)
    assert "#c62828" in line  # red
    assert "no SNMP response &lt;timeout&gt;" in line
    assert "failing for 40 min (40 checks)" in line
    partial = CheckStateInfo("snmp-basics", "r1", True, now, now, 0, 30.0, "ifHCOut: OID missing")
    assert "#a86200" in state_html(partial, now, dark=False)  # amber
    assert "#ffb74d" in state_html(partial, now, dark=True)
    fine = CheckStateInfo("core-ping", "r1", True, now, now, 0, 1.2, "")
    assert "ok · 1 ms" in state_html(fine, now, dark=False)


# ---- the target details: check states and sparklines (demo estate) ------------------------------


@pytest.fixture
def targets(qtbot: Any, drive: Any, demo_core: Core) -> Iterator[TargetsPane]:
    widget = TargetsPane(demo_core)
    widget.resize(1400, 900)
    widget.show()
    drive.run(widget.reload())
    yield widget
    drive.run(widget.stopped())
    drive.settle()
    widget.close()
    widget.deleteLater()


def select(targets: TargetsPane, drive: Any, name: str) -> None:
    targets.select_ids([t.id for t in targets.model.targets() if t.name == name])
    health = targets.details.health
    drive.until(lambda: health.target == name and "Loading" not in health.states_label.text())


def test_details_show_check_states_and_sparklines(
    targets: TargetsPane, drive: Any, demo_core: Core
) -> None:
    health = targets.details.health
    select(targets, drive, "fra2-core-rtr-01")
    states = health.states_label.text()
    assert "snmp-basics" in states
    assert "no SNMP response" in states
    assert "#c62828" in states or "#ff7b7b" in states  # red, in either theme
    assert "core-ping" in states
    series = drive.run(demo_core.monitoring.series("fra2-core-rtr-01"))
    assert health.sparkline_count() == len(series) == 3
    names = [health.rows[i][0].text() for i in range(3)]
    assert names == [s.series for s in series]
    # each sparkline holds the series' last 6 h of raw samples
    spark = health.rows[names.index("rtt_ms")][1]
    assert 355 <= spark.point_count() <= 361
    assert spark.polylines()
    # the silent SNMP agent: its series' latest value says how old it is
    cpu_value = health.rows[names.index("cpuLoad")][2].text()
    assert "min ago" in cpu_value
    select(targets, drive, "ams1-edge-fw-01")
    assert "OID missing" in health.states_label.text()
    select(targets, drive, "ams1-acc-sw-01")
    assert "No monitor checks this target." in health.states_label.text()
    assert "No metrics yet" in health.metrics_state.text()
    assert health.sparkline_count() == 0


def test_details_sparklines_follow_new_samples(
    targets: TargetsPane, drive: Any, demo_core: Core
) -> None:
    targets.details._health_timer.setInterval(50)  # instead of every few seconds
    select(targets, drive, "ams1-core-rtr-01")
    health = targets.details.health
    names = [health.rows[i][0].text() for i in range(health.sparkline_count())]
    value = health.rows[names.index("cpuLoad")][2]
    drive.run(poll_once(demo_core, "ams1-core-rtr-01", datetime.now(UTC), {"cpuLoad": 99.5}))
    drive.until(lambda: value.text() == "99.5")


def test_show_graphs_from_the_targets_pane_and_a_sparkline(
    qtbot: Any, drive: Any, demo_core: Core, console_settings: QSettings
) -> None:
    window = MainWindow(demo_core, settings=console_settings)
    qtbot.addWidget(window)
    window.resize(1400, 860)
    window.show()
    targets = window.targets_pane()
    assert targets is not None
    drive.run(targets.reload())
    graphs = next(p for p in window.panes if isinstance(p, GraphsPane))
    targets.select_ids([t.id for t in targets.model.targets() if t.name == "ams1-core-rtr-01"])
    assert targets.graphs_action in targets.view.actions()  # in the table's context menu
    targets.graphs_action.trigger()
    assert window.current_pane() is graphs
    drive.until(lambda: graphs.plot.point_count("cpuLoad") > 1000)
    assert graphs.target == "ams1-core-rtr-01"
    assert graphs.targets_view.currentIndex().data() == "ams1-core-rtr-01"
    # back to the details: a click on the rtt_ms sparkline shows just that series
    window.show_pane(window.panes.index(targets))
    health = targets.details.health
    drive.until(lambda: health.sparkline_count() == 4)
    row = [health.rows[i][0].text() for i in range(4)].index("rtt_ms")
    spark = health.rows[row][1]
    qtbot.mouseClick(spark, Qt.MouseButton.LeftButton)
    assert window.current_pane() is graphs
    drive.until(lambda: list(graphs.plot.series) == ["rtt_ms"])
    assert graphs.ticked() == ["rtt_ms"]
    drive.run(window.shutdown())
    window.close()


def test_pane_state_persists(pane: GraphsPane, drive: Any, tmp_path: Path, gui_core: Core) -> None:
    pick(pane, drive, "r1")
    tick(pane, drive, "rtt_ms", "cpuLoad")
    click_range(pane, drive, "7 d")
    choose_resolution(pane, drive, "1 h")
    settings = QSettings(str(tmp_path / "graphs.ini"), QSettings.Format.IniFormat)
    pane.save_state(settings)
    again = GraphsPane(gui_core)
    again.restore_state(settings)
    again.resize(1000, 600)
    again.show()
    try:
        drive.run(again.reload())
        settled(again, drive)
        assert again.target == "r1"
        assert again.time_range.label == "7 d"
        assert again.range_bar.buttons["7 d"].isChecked()
        assert again.resolution == "1h"
        assert again.ticked() == ["cpuLoad", "rtt_ms"]
        assert again.effective == "1h"
        assert again.targets_view.currentIndex().data() == "r1"
    finally:
        drive.run(again.stopped())
        again.close()
        again.deleteLater()


# ---- screenshots ------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_of_graphs_and_details(
    qtbot: Any,
    drive: Any,
    demo_core: Core,
    console_settings: QSettings,
    screenshot: Shot,
    theme: str,
) -> None:
    window = MainWindow(demo_core, settings=console_settings)
    qtbot.addWidget(window)
    window.set_theme(theme)
    window.resize(1440, 880)
    window.show()
    try:
        targets = window.targets_pane()
        assert targets is not None
        drive.run(targets.reload())
        targets.select_ids([t.id for t in targets.model.targets() if t.name == "fra2-core-rtr-01"])
        health = targets.details.health
        drive.until(lambda: health.sparkline_count() == 3)
        drive.sleep(0.2)
        assert screenshot(window, f"details-health-{theme}").stat().st_size > 20_000
        window.show_graphs("ams1-core-rtr-01", "ifHCIn.1")
        graphs = window.current_pane()
        assert isinstance(graphs, GraphsPane)
        drive.until(lambda: graphs.plot.point_count("ifHCIn.1") > 1000)
        graphs.tick(["ifHCIn.1", "ifHCOut.1"])
        drive.until(lambda: graphs.plot.point_count("ifHCOut.1") > 1000)
        settled(graphs, drive)
        graphs.plot.readout_at(time.time() - 5 * 3600)
        base = QApplication.palette().color(QPalette.ColorRole.Base)
        assert graphs.plot.view.backgroundBrush().color() == base  # the theme, applied live
        assert graphs.plot.dark is (theme == "dark")
        assert screenshot(window, f"graphs-24h-{theme}").stat().st_size > 20_000
        graphs.range_bar.buttons["30 d"].click()
        settled(graphs, drive)
        assert graphs.effective == "1h"
        graphs.plot.readout_at(time.time() - 9 * 86400)
        assert screenshot(window, f"graphs-30d-{theme}").stat().st_size > 20_000
    finally:
        window.set_theme("system")
        drive.run(window.shutdown())
        window.close()
