"""Screenshots of the Monitoring pane's tabs and dialogs (``opsconductor gui --screenshot``).

Nothing is written to the database: editors show the first stored SNMP monitor and rule
(or unsaved examples on an empty database) and are closed without saving; the import
preview reads an example file from a temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QWidget

from opsconductor_desktop.domain.monitors import MonitorKind
from opsconductor_desktop.gui.monitoring import files
from opsconductor_desktop.gui.monitoring.import_dialog import ImportDialog
from opsconductor_desktop.gui.monitoring.metrics_model import new_metric
from opsconductor_desktop.gui.monitoring.monitor_editor import MonitorEditorDialog
from opsconductor_desktop.gui.monitoring.pane import RULES, STATUS, MonitoringPane
from opsconductor_desktop.gui.monitoring.rule_editor import RuleEditorDialog

Shoot = Callable[[QWidget, Path, str], Awaitable[Path]]
EXAMPLE_MONITOR: dict[str, Any] = {
    "name": "interface-traffic",
    "kind": "snmp",
    "description": "Uplink traffic of the core and distribution layer",
    "interval": "1m",
    "select": {"groups": ["core-network"], "rule": "kind:switch and site:ams1"},
    "metrics": [
        {"name": "ifHCIn", "oid": "1.3.6.1.2.1.31.1.1.1.6", "type": "counter", "walk": True,
         "bits": 64, "scale": 8},
        {"name": "ifHCOut", "oid": "1.3.6.1.2.1.31.1.1.1.10", "type": "counter", "walk": True,
         "bits": 64, "scale": 8},
        {"name": "cpuLoad", "oid": "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", "type": "gauge"},
    ],
}  # fmt: skip
EXAMPLE_RULE: dict[str, Any] = {
    "name": "cpu-high",
    "metric": "cpuLoad",
    "op": ">",
    "threshold": 90,
    "clear": 80,
    "for": "5m",
    "severity": "major",
    "scope": {"groups": ["core-network"]},
    "summary": "{target} CPU at {value:.0f}% (over {threshold:g}%)",
}
EXAMPLE_FILE = """\
monitors:
  - name: core-ping
    kind: reachability
    method: icmp
    interval: 30
    select: {rule: "kind:router or kind:switch or kind:firewall or kind:server"}
  - name: dc-https
    kind: reachability
    method: tcp
    port: 443
    interval: 1m
    select: {groups: [payments-pci]}
rules:
  - name: cpu-high
    metric: cpuLoad
    op: ">"
    threshold: 85
    clear: 75
    for: 5m
    severity: major
  - name: tls-slow
    metric: tcp_connect_ms
    op: ">"
    threshold: 250
    for_checks: 3
    severity: warning
silences:
  - matchers: {group: lab-sandbox}
    duration: 30d
    weekly: "sat,sun 00:00 24h"
    comment: the lab is rebuilt at weekends
"""


async def render_monitoring_shots(
    pane: MonitoringPane, window: QWidget, out: Path, shoot: Shoot
) -> list[Path]:
    """The Rules and Check status tabs, both editors (one invalid) and an import preview."""
    core = pane.core
    shots: list[Path] = []
    shown = pane.tabs.currentIndex()
    for tab, name in ((RULES, "pane-monitoring-rules"), (STATUS, "pane-monitoring-status")):
        pane.tabs.setCurrentIndex(tab)
        shots.append(await shoot(window, out, name))
    pane.tabs.setCurrentIndex(shown)
    targets = await core.inventory.list_targets()
    groups = await core.inventory.list_groups()

    snmp = [m for m in pane.monitors_model.items() if m.monitor.kind is MonitorKind.SNMP]
    monitor = snmp[0].info if snmp else None
    editor = MonitorEditorDialog(
        core,
        monitor,
        taken=pane.monitors_model.names(),
        targets=targets,
        groups=groups,
        doc=None if monitor else dict(EXAMPLE_MONITOR),
        parent=window,
    )
    shots.append(await shoot(editor, out, "dialog-monitor-editor"))
    editor.metrics_model.insert(editor.metrics_model.rowCount(), new_metric(MonitorKind.SNMP))
    row = editor.metrics_model.rowCount() - 1
    model = editor.metrics_model
    model.setData(model.index(row, model.column_of("name")), "sysUpTime")
    model.setData(model.index(row, model.column_of("oid")), "sysUpTime.0")
    editor.validate()
    editor.show_field(editor.error_field)
    shots.append(await shoot(editor, out, "dialog-monitor-editor-invalid"))
    _dispose(editor)

    rules = sorted(pane.rules_model.items(), key=lambda r: r.name)
    rule = rules[0] if rules else None
    rule_editor = RuleEditorDialog(
        core,
        rule,
        taken=pane.rules_model.names(),
        targets=targets,
        groups=groups,
        metrics=files.metric_names(m.info for m in pane.monitors_model.items()),
        doc=None if rule else dict(EXAMPLE_RULE),
        parent=window,
    )
    shots.append(await shoot(rule_editor, out, "dialog-rule-editor"))
    _dispose(rule_editor)

    with tempfile.TemporaryDirectory(prefix="opsc-shot-") as folder:
        path = Path(folder) / "monitoring.yaml"
        path.write_text(EXAMPLE_FILE, encoding="utf-8")
        importer = ImportDialog(core, parent=window)
        importer.file_edit.setText(str(path))
        await importer.load_file(str(path))
        shots.append(await shoot(importer, out, "dialog-monitoring-import"))
        _dispose(importer)
    return shots


def _dispose(dialog: QDialog) -> None:
    dialog.hide()
    dialog.deleteLater()
