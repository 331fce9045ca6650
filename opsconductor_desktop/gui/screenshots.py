"""``opsconductor gui --screenshot DIR``: every pane and the main dialogs, as PNG files.

Works on an empty database too (the dialogs that need a target get an unsaved example)
and with ``QT_QPA_PLATFORM=offscreen``. Nothing is written to the database: dialogs are
shown, rendered and closed without being accepted.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import tempfile
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget

from opsconductor_desktop.domain.errors import DatabaseUnavailableError
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SnmpVersion,
    Target,
    TargetKind,
    TargetSpec,
)
from opsconductor_desktop.gui.crash import CrashDialog, build_report
from opsconductor_desktop.gui.main_window import MainWindow
from opsconductor_desktop.gui.startup import Choice, StartupProblemDialog
from opsconductor_desktop.gui.targets.bulk_edit import BulkEditDialog
from opsconductor_desktop.gui.targets.conflict import ConflictDialog
from opsconductor_desktop.gui.targets.import_dialog import ImportDialog
from opsconductor_desktop.gui.targets.pane import TargetsPane
from opsconductor_desktop.gui.targets.target_dialog import TargetDialog

log = logging.getLogger(__name__)

WINDOW_SIZE = (1440, 880)
SAMPLE_CSV = """name,address,kind,vendor,site,tags,groups
lab-new-sw-01,10.99.0.11,switch,arista,lab,lab;access,
lab-new-sw-02,10.99.0.12,switch,arista,lab,lab;access,
lab-new-fw-01,10.99.0.300,firewall,paloalto,lab,lab,
lab-new-rtr-01,10.99.0.1,router,cisco,lab,core,no-such-group
,10.99.0.20,server,dell,lab,,
lab-new-srv-01,10.99.0.21,toaster,dell,lab,,
lab-new-srv-02,10.99.0.22,server,dell,lab,bad tag!,
"""


async def _settle(rounds: int = 4) -> None:
    """Let Qt lay out and paint (never processEvents() inside a task: it re-enters the loop)."""
    for _ in range(rounds):
        await asyncio.sleep(0.03)


async def _shoot(widget: QWidget, out: Path, name: str) -> Path:
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.show()
    widget.raise_()
    await _settle()
    path = out / f"{name}.png"
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    log.info("screenshot %s", path)
    return path


def example_target(targets: TargetsPane) -> Target:
    """The first target shown, or an unsaved example when the database is empty."""
    if targets.proxy.rowCount():
        index = targets.proxy.mapToSource(targets.proxy.index(0, 0))
        return targets.model.target(index.row())
    now = datetime.now(UTC)
    spec = TargetSpec(
        name="ams1-core-rtr-01",
        address="10.20.0.1",
        kind=TargetKind.ROUTER,
        vendor="cisco",
        model="ASR1001-X",
        site="ams1",
        description="Core router, hall 2",
        tags=("core", "prod"),
        snmp=SnmpProfile(SnmpVersion.V2C, 161, None),
    )
    return Target(uuid.uuid4(), spec, 3, now, now, ("core-routers",))


async def render_all(window: MainWindow, out: Path) -> list[Path]:
    """Render the panes and dialogs into ``out``; the files written."""
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(*WINDOW_SIZE)
    window.show()
    window.status.start()
    written: list[Path] = []
    for number, pane in enumerate(window.panes, start=1):
        window.show_pane(number - 1)
        await pane.reload()
        if isinstance(pane, TargetsPane) and pane.proxy.rowCount():
            pane.view.selectRow(min(3, pane.proxy.rowCount() - 1))
            await asyncio.sleep(0.5)  # the details panel fetches effective variables
        window.status.refresh_lag()
        written.append(await _shoot(window, out, f"{number:02d}-pane-{pane.object_name}"))
    targets = window.targets_pane()
    if targets is not None:
        window.show_pane(window.panes.index(targets))
        written += await _target_dialogs(window, targets, out)
    written += await _other_dialogs(window, out)
    written += await _pane_dialogs(window, out)
    return written


# Panes that render their own dialogs: object name -> "module:function", called as
# ``function(pane, window, out, shoot)`` when the pane is in the window.
PANE_SHOTS = {
    "jobsPane": "opsconductor_desktop.gui.jobs.shots:render_job_shots",
    "graphsPane": "opsconductor_desktop.gui.graphs.shots:render_graph_shots",
    "alertsPane": "opsconductor_desktop.gui.alerts.shots:render_alert_shots",
    "monitoringPane": "opsconductor_desktop.gui.monitoring.shots:render_monitoring_shots",
    "connectorsPane": "opsconductor_desktop.gui.connectors.shots:render_connector_shots",
}


async def _pane_dialogs(window: MainWindow, out: Path) -> list[Path]:
    shots: list[Path] = []
    for index, pane in enumerate(window.panes):
        target = PANE_SHOTS.get(pane.object_name)
        if target is None:
            continue
        module, _, function = target.partition(":")
        render = getattr(importlib.import_module(module), function)
        window.show_pane(index)
        shots += await render(pane, window, out, _shoot)
    return shots


async def _target_dialogs(window: MainWindow, targets: TargetsPane, out: Path) -> list[Path]:
    core = window.core
    credentials = await core.credentials.list()
    names = targets.model.names()
    sample = example_target(targets)
    shots: list[Path] = []

    add = TargetDialog(core, names=names, credentials=credentials, parent=window)
    add.name_edit.setText(sample.name if sample.name in names else "new-switch-01")
    add.address_edit.setText("10.20.0.300")
    add.tags_edit.setText("access, prod")
    shots.append(await _shoot(add, out, "dialog-target-add-invalid"))
    _dispose(add)

    edit = TargetDialog(
        core,
        target=sample,
        names=names | {sample.name},
        credentials=credentials,
        sites={e.target.spec.site for e in targets.model.entries()},
        parent=window,
    )
    shots.append(await _shoot(edit, out, "dialog-target-edit"))
    _dispose(edit)

    stored_spec = replace(sample.spec, address="10.20.9.9", tags=(*sample.spec.tags, "moved"))
    stored = replace(sample, spec=stored_spec, version=sample.version + 1)
    yours = replace(sample.spec, description="Replaced PSU 2 (ticket 4711)", enabled=False)
    conflict = ConflictDialog(yours, stored, sample.version, window)
    shots.append(await _shoot(conflict, out, "dialog-conflict"))
    _dispose(conflict)

    chosen = [t.name for t in targets.model.targets()[:8]] or [sample.name]
    known = {tag for t in targets.model.targets() for tag in t.spec.tags}
    bulk = BulkEditDialog(chosen, known, window)
    bulk.add_tags.setText("maintenance")
    bulk.enabled.setCurrentIndex(2)
    shots.append(await _shoot(bulk, out, "dialog-bulk-edit"))
    _dispose(bulk)

    with tempfile.TemporaryDirectory(prefix="opsc-shot-") as folder:
        path = Path(folder) / "new-lab-devices.csv"
        path.write_text(SAMPLE_CSV, encoding="utf-8")
        importer = ImportDialog(core, window)
        importer.file_edit.setText(str(path))
        importer.show()
        await importer.load_file(str(path))
        shots.append(await _shoot(importer, out, "dialog-import-preview"))
        _dispose(importer)
    return shots


async def _other_dialogs(window: MainWindow, out: Path) -> list[Path]:
    from opsconductor_desktop.gui.settings_dialog import SettingsDialog

    shots: list[Path] = []
    settings = SettingsDialog(window.core, window)
    shots.append(await _shoot(settings, out, "dialog-settings"))
    _dispose(settings)

    problem = StartupProblemDialog(
        "OpsConductor cannot open its database",
        DatabaseUnavailableError(
            "cannot connect to PostgreSQL at db.noc.example.net:5432: connection refused"
        ),
        "Database: postgresql://opsc@db.noc.example.net:5432/opsconductor (from settings)",
        (Choice.RETRY, Choice.CHOOSE, Choice.DEFAULT, Choice.QUIT),
        window,
        advice="Check that the server is running and reachable and that you may log in, "
        "then Retry — or work on another database for now.",
    )
    shots.append(await _shoot(problem, out, "dialog-database-cannot-open"))
    _dispose(problem)

    try:
        raise RuntimeError("example: something unexpected happened while saving")
    except RuntimeError as exc:
        report = build_report(exc, log_file=window.core.paths.log_file, db=str(window.core.db_info))
    crash = CrashDialog(report, window.core.paths.log_file, window)
    shots.append(await _shoot(crash, out, "dialog-crash"))
    _dispose(crash)
    return shots


def _dispose(dialog: QDialog) -> None:
    dialog.hide()
    dialog.deleteLater()
