"""The panes of the main window, in switcher order (Ctrl+1, Ctrl+2, …).

A pane is listed here only when it works end to end: no empty placeholders.
"""

from __future__ import annotations

from opsconductor_desktop.gui.alerts.pane import AlertsPane
from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.connectors.pane import ConnectorsPane
from opsconductor_desktop.gui.graphs.pane import GraphsPane
from opsconductor_desktop.gui.groups.pane import GroupsPane
from opsconductor_desktop.gui.jobs.pane import JobsPane
from opsconductor_desktop.gui.logs_pane import LogsPane
from opsconductor_desktop.gui.monitoring.pane import MonitoringPane
from opsconductor_desktop.gui.targets.pane import TargetsPane

PANE_CLASSES: tuple[type[Pane], ...] = (
    TargetsPane,
    GroupsPane,
    JobsPane,
    AlertsPane,
    GraphsPane,
    MonitoringPane,
    ConnectorsPane,
    LogsPane,
)
