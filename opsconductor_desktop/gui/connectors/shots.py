"""Screenshots of the Connectors pane's dialogs (``opsconductor gui --screenshot``).

Nothing is written to the database and no source is asked: the Add dialog is filled in
for the bundled Alertmanager manifest and closed unsaved; the Test result shows an
example report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtWidgets import QLineEdit, QWidget

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.gui.connectors.dialogs import ConnectorDialog, PollPreviewDialog
from opsconductor_desktop.gui.connectors.pane import ConnectorsPane
from opsconductor_desktop.gui.widgets import dispose
from opsconductor_desktop.services.connectors import PollReport

Shoot = Callable[[QWidget, Path, str], Awaitable[Path]]
SOURCE = "connector:prod-alertmanager"
EXAMPLE_REPORT = PollReport(
    "prod-alertmanager",
    ok=True,
    items=3,
    took_ms=48.0,
    alerts=(
        NormalizedAlert(SOURCE, "InstanceDown/a1b2c3d4e5f60718", Severity.CRITICAL,
                        "ams1-web-03:9100 is down", target="ams1-web-03"),
        NormalizedAlert(SOURCE, "DiskFull/0f1e2d3c4b5a6978", Severity.WARNING,
                        "/var 93% full on ams1-db-01", target="ams1-db-01"),
        NormalizedAlert(SOURCE, "HighLatency/9a8b7c6d5e4f3021", Severity.MAJOR,
                        "p99 latency 2.4 s on checkout-api"),
    ),
)  # fmt: skip


async def render_connector_shots(
    pane: ConnectorsPane, window: QWidget, out: Path, shoot: Shoot
) -> list[Path]:
    shots: list[Path] = []
    add = ConnectorDialog(pane.core, parent=window)
    ids = [m.id for m in add.manifests]
    if "alertmanager" in ids:
        add.manifest_combo.setCurrentIndex(ids.index("alertmanager"))
    add.name_edit.setText("prod-alertmanager")
    url = add.form.editors.get("url")
    if isinstance(url, QLineEdit):
        url.setText("http://alertmanager.example.net:9093")
    shots.append(await shoot(add, out, "dialog-connector-add"))
    dispose(add)
    preview = PollPreviewDialog(EXAMPLE_REPORT, parent=window)
    shots.append(await shoot(preview, out, "dialog-connector-test"))
    dispose(preview)
    return shots
