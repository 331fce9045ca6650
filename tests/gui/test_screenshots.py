"""``opsconductor gui --screenshot DIR`` and the pane screenshots a person looks at.

The subprocess tests are also the clean-shutdown test: the console must exit with 0 and
without "Fatal Python error" (qasync runs crashed at interpreter exit; see gui/app.py and
gui/loop.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.gui.alerts.pane import AlertsPane
from opsconductor_desktop.gui.graphs.pane import GraphsPane
from opsconductor_desktop.gui.main_window import MainWindow
from opsconductor_desktop.gui.panes import PANE_CLASSES
from opsconductor_desktop.gui.targets.pane import TargetsPane
from opsconductor_desktop.secrets import MemoryKeyring, SecretStore
from opsconductor_desktop.services.app import Core, open_core

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
EXPECTED = [
    *(f"{n:02d}-pane-{pane.object_name}" for n, pane in enumerate(PANE_CLASSES, start=1)),
    "pane-graphs",
    "pane-alerts",
    "dialog-alert-ack",
    "dialog-alert-silence",
    "pane-monitoring-rules",
    "pane-monitoring-status",
    "dialog-monitor-editor",
    "dialog-monitor-editor-invalid",
    "dialog-rule-editor",
    "dialog-monitoring-import",
    "dialog-connector-add",
    "dialog-connector-test",
    "dialog-job-editor",
    "dialog-job-editor-invalid",
    "dialog-job-run",
    "dialog-target-add-invalid",
    "dialog-target-edit",
    "dialog-conflict",
    "dialog-bulk-edit",
    "dialog-import-preview",
    "dialog-settings",
    "dialog-database-cannot-open",
    "dialog-crash",
]


def _console(home: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("OPSCONDUCTOR_HOME", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "opsconductor_desktop",
            "--home",
            str(home),
            "gui",
            "--screenshot",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _check_run(result: subprocess.CompletedProcess[str], out: Path) -> None:
    assert "Fatal Python error" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    for name in EXPECTED:
        png = out / f"{name}.png"
        assert png.is_file(), f"{png} missing"
        assert png.stat().st_size > 5_000, f"{png} looks empty"


def test_screenshot_mode_with_demo_data_exits_cleanly(tmp_path: Path) -> None:
    from opsconductor_desktop.services import demo

    home = tmp_path / "home"

    async def fill() -> None:
        core = await open_core(home=home, secrets=SecretStore(MemoryKeyring()), actor="demo")
        try:
            await demo.populate(core)
        finally:
            await core.close()

    asyncio.run(fill())
    out = ARTIFACTS / "console"
    result = _console(home, out)
    _check_run(result, out)
    written = re.search(r"wrote (\d+) screenshots", result.stdout)
    assert written is not None and int(written.group(1)) >= len(EXPECTED)


def test_screenshot_mode_with_an_empty_database(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    _check_run(_console(tmp_path / "home", out), out)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_each_pane_with_demo_data(
    qtbot: Any,
    drive: Any,
    demo_core: Core,
    console_settings: QSettings,
    screenshot: Callable[[QWidget, str], Path],
    theme: str,
) -> None:
    window = MainWindow(demo_core, settings=console_settings)
    window.set_theme(theme)
    window.resize(1440, 880)
    window.show()
    window.status.start()
    try:
        for index, pane in enumerate(window.panes):
            window.show_pane(index)
            drive.run(pane.reload())
            if isinstance(pane, TargetsPane):
                assert pane.proxy.rowCount() >= 200
                shown = [t.id for t in pane.model.targets() if t.name == "fra2-core-rtr-01"]
                pane.select_ids(shown)  # one with metrics and a failing check
                drive.until(lambda p=pane: p.details.vars_table.rowCount() > 0)
                drive.until(lambda p=pane: p.details.health.sparkline_count() == 3)
            if isinstance(pane, AlertsPane):
                assert pane.model.rowCount() >= 10
                bgp = [a.id for a in pane.model.alerts() if a.key.startswith("bgp-peer")]
                pane.select_ids(bgp)  # the worst: its history below
                drive.until(lambda p=pane: len(p.details.history_rows()) > 0)
            if isinstance(pane, GraphsPane):
                pane.show_target("ams1-core-rtr-01", "ifHCIn.1")  # over 24 h
                drive.until(lambda p=pane: p.plot.point_count("ifHCIn.1") > 1000)
            drive.sleep(0.2)
            window.status.refresh_lag()
            path = screenshot(window, f"pane-{pane.object_name}-{theme}")
            assert path.stat().st_size > 20_000
    finally:
        window.set_theme("system")
        drive.run(window.shutdown())
        window.close()
        window.deleteLater()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_monitoring_tabs_with_demo_data(
    qtbot: Any,
    drive: Any,
    demo_core: Core,
    console_settings: QSettings,
    screenshot: Callable[[QWidget, str], Path],
    theme: str,
) -> None:
    from opsconductor_desktop.gui.monitoring.pane import MonitoringPane

    window = MainWindow(demo_core, settings=console_settings)
    window.set_theme(theme)
    window.resize(1440, 880)
    window.show()
    try:
        pane = next(p for p in window.panes if isinstance(p, MonitoringPane))
        window.show_pane(window.panes.index(pane))
        drive.run(pane.reload())
        assert pane.monitors_model.rowCount() >= 5 and pane.rules_model.rowCount() >= 4
        assert pane.status_view.failing() >= 1  # the demo's silent SNMP agent
        pane.monitors_view.selectRow(1)
        for tab, name in enumerate(("monitors", "rules", "status")):
            pane.tabs.setCurrentIndex(tab)
            drive.sleep(0.2)
            path = screenshot(window, f"pane-monitoring-{name}-{theme}")
            assert path.stat().st_size > 20_000
    finally:
        window.set_theme("system")
        drive.run(window.shutdown())
        window.close()
        window.deleteLater()
