"""The connectors table: one row per connector, its state coloured, times in local time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain.connectors import ConnectorState
from opsconductor_desktop.gui.jobs.common import local_time
from opsconductor_desktop.gui.keyed_model import Column, KeyedTableModel
from opsconductor_desktop.gui.monitoring.common import (
    DISABLED_COLOURS,
    FAIL_COLOURS,
    OK_COLOURS,
    PARTIAL_COLOURS,
    brush,
)
from opsconductor_desktop.services.connectors import ConnectorInfo

STATE_COLOURS = {
    ConnectorState.OK: OK_COLOURS,
    ConnectorState.DEGRADED: PARTIAL_COLOURS,
    ConnectorState.FAILING: FAIL_COLOURS,
    ConnectorState.UNKNOWN: DISABLED_COLOURS,
}


def manifest_text(info: ConnectorInfo) -> str:
    return f"{info.manifest_id} {info.manifest_version}"


def _time_sort(moment: Any) -> str:
    return moment.isoformat() if moment is not None else ""


_NAME: Column[ConnectorInfo] = Column("Name", lambda c: c.name)
_KIND: Column[ConnectorInfo] = Column("Kind", lambda c: c.kind.value)
_MANIFEST: Column[ConnectorInfo] = Column(
    "Manifest", manifest_text, tooltip=lambda c: c.manifest_name
)
_ENABLED: Column[ConnectorInfo] = Column("Enabled", lambda c: "yes" if c.enabled else "no")
_STATE: Column[ConnectorInfo] = Column("State", lambda c: c.state.value)
_LAST_POLL: Column[ConnectorInfo] = Column(
    "Last poll", lambda c: local_time(c.last_poll_at), sort=lambda c: _time_sort(c.last_poll_at)
)
_LAST_SUCCESS: Column[ConnectorInfo] = Column(
    "Last success",
    lambda c: local_time(c.last_success_at),
    sort=lambda c: _time_sort(c.last_success_at),
)
_FAILURES: Column[ConnectorInfo] = Column(
    "Failures", lambda c: str(c.failures), sort=lambda c: c.failures, align_right=True
)
_OPEN_ALERTS: Column[ConnectorInfo] = Column(
    "Open alerts", lambda c: str(c.open_alerts), sort=lambda c: c.open_alerts, align_right=True
)
_LAST_ERROR: Column[ConnectorInfo] = Column(
    "Last error",
    lambda c: c.last_error.splitlines()[0] if c.last_error else "",
    tooltip=lambda c: c.last_error,
)

#: what an operator scans first on the left (state, alerts), details to the right
COLUMNS: tuple[Column[ConnectorInfo], ...] = (
    _NAME,
    _KIND,
    _STATE,
    _ENABLED,
    _OPEN_ALERTS,
    _FAILURES,
    _LAST_POLL,
    _LAST_SUCCESS,
    _MANIFEST,
    _LAST_ERROR,
)


class ConnectorsModel(KeyedTableModel[ConnectorInfo]):
    """Connectors keyed by name; the State cell is green, amber, red or grey."""

    NAME, KIND, STATE, ENABLED, OPEN_ALERTS = range(5)
    FAILURES, LAST_POLL, LAST_SUCCESS, MANIFEST, LAST_ERROR = range(5, 10)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, lambda c: c.name, parent)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and index.column() == self.STATE
            and 0 <= index.row() < self.rowCount()
        ):
            return brush(STATE_COLOURS[self.item(index.row()).state])
        return super().data(index, role)

    def names(self) -> set[str]:
        return {c.name for c in self.items()}
