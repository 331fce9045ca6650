"""Table models of the Monitoring pane: monitors, threshold rules and check states.

Rows are immutable values from the monitoring service (plus, for a monitor, how many of
its checks are failing), updated in place by ``KeyedTableModel.replace``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.display import number_text, seconds_text
from opsconductor_desktop.domain.jobs import Selection
from opsconductor_desktop.domain.monitors import Monitor, MonitorKind, SnmpMetric
from opsconductor_desktop.domain.thresholds import AlertRule
from opsconductor_desktop.gui.jobs.common import duration_text, local_time
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, Column, FilterProxy, KeyedTableModel
from opsconductor_desktop.gui.monitoring.common import (
    DISABLED_COLOURS,
    FAIL_COLOURS,
    OK_COLOURS,
    PARTIAL_COLOURS,
    brush,
    selection_text,
    state_icon,
)
from opsconductor_desktop.services.monitoring import CheckStateInfo, MonitorInfo, RuleInfo

Index = QModelIndex | QPersistentModelIndex
SEVERITY_COLOURS: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("#c62828", "#ef5350"),
    Severity.MAJOR: ("#d84315", "#ff7043"),
    Severity.MINOR: ("#e07b00", "#ffa726"),
    Severity.WARNING: ("#a68a00", "#e6c84a"),
    Severity.INFO: ("#1565c0", "#64b5f6"),
}


# ---- monitors -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonitorRow:
    """A stored monitor and how its checks stand (from the check states)."""

    info: MonitorInfo
    checks: int = 0
    failing: int = 0

    @property
    def monitor(self) -> Monitor:
        return self.info.monitor


def monitor_rows(
    monitors: Iterable[MonitorInfo], states: Iterable[CheckStateInfo]
) -> list[MonitorRow]:
    """The monitors with the number of checks and failing checks of each."""
    checks: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    for state in states:
        checks[state.monitor] += 1
        failing[state.monitor] += not state.ok
    return [MonitorRow(m, checks[m.name], failing[m.name]) for m in monitors]


def _what(monitor: Monitor) -> str:
    if monitor.kind is MonitorKind.REACHABILITY:
        method = monitor.method.value if monitor.method else "icmp"
        port = f" port {monitor.port}" if monitor.port else ""
        return f"{method}{port}, down after {monitor.down_after}"
    names = [
        f"{m.name}.*" if isinstance(m, SnmpMetric) and m.walk else m.name for m in monitor.metrics
    ]
    return ", ".join(names)


def _checks(row: MonitorRow) -> str:
    if not row.checks:
        return "—"
    return f"{row.failing} failing of {row.checks}" if row.failing else f"{row.checks} ok"


def _timing(monitor: Monitor) -> str:
    return (
        f"every {seconds_text(monitor.interval)}; timeout {seconds_text(monitor.timeout)}, "
        f"{monitor.retries} retr{'y' if monitor.retries == 1 else 'ies'}"
    )


MONITOR_COLUMNS: list[Column[MonitorRow]] = [
    Column("Name", lambda r: r.info.name, tooltip=lambda r: r.monitor.description or r.info.name),
    Column("Kind", lambda r: r.monitor.kind.value),
    Column("Enabled", lambda r: "yes" if r.monitor.enabled else "no"),
    Column(
        "Interval",
        lambda r: seconds_text(r.monitor.interval),
        sort=lambda r: r.monitor.interval,
        tooltip=lambda r: _timing(r.monitor),
        align_right=True,
    ),
    Column(
        "Applies to",
        lambda r: selection_text(r.monitor.select) or "nothing yet",
        tooltip=lambda r: selection_text(r.monitor.select),
    ),
    Column(
        "Metrics",
        lambda r: str(len(r.monitor.metrics)) if r.monitor.metrics else "—",
        sort=lambda r: len(r.monitor.metrics),
        tooltip=lambda r: _what(r.monitor),
        align_right=True,
    ),
    Column("Checks", _checks, sort=lambda r: r.failing * 1_000_000 + r.checks),
    Column(
        "Last change",
        lambda r: local_time(r.info.updated_at, seconds=False),
        sort=lambda r: r.info.updated_at,
        tooltip=lambda r: f"version {r.info.version}, {local_time(r.info.updated_at)} local time",
    ),
]


class MonitorsModel(KeyedTableModel[MonitorRow]):
    """Monitors by id; disabled ones greyed, failing checks in red."""

    NAME, KIND, ENABLED, INTERVAL, APPLIES, METRICS, CHECKS, CHANGED = range(8)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(MONITOR_COLUMNS, lambda r: r.info.id, parent)

    def names(self) -> set[str]:
        return {r.info.name for r in self.items()}

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid():
            if 0 <= index.row() < self.rowCount():
                row = self.item(index.row())
                if index.column() == self.CHECKS and row.failing:
                    return brush(FAIL_COLOURS)
                if not row.monitor.enabled:
                    return brush(DISABLED_COLOURS)
            return None
        if role == ITEM_ROLE and index.isValid() and 0 <= index.row() < self.rowCount():
            return self.item(index.row()).info
        return super().data(index, role)


# ---- rules ----------------------------------------------------------------------------


def condition_text(rule: AlertRule) -> str:
    text = f"{rule.metric} {rule.op} {number_text(rule.threshold)}"
    if rule.clear_threshold is not None:
        text += f" (clear at {number_text(rule.clear_threshold)})"
    return text


def hold_text(rule: AlertRule) -> str:
    parts = []
    if rule.for_seconds:
        parts.append(f"for {seconds_text(rule.for_seconds)}")
    if rule.for_checks > 1:
        parts.append(f"{rule.for_checks} checks")
    held = " and ".join(parts) or "at once"
    return held + (f"; clears after {rule.clear_checks}" if rule.clear_checks > 1 else "")


def scope_text(rule: AlertRule) -> str:
    """The scope as written (tags as tags, not the rule they become), or every target."""
    scope = rule.source.get("scope")
    if not isinstance(scope, Mapping):
        return selection_text(rule.scope) or "every target"
    rule_text = scope.get("rule")
    written = Selection(
        _names(scope.get("targets")), _names(scope.get("groups")), str(rule_text or "") or None
    )
    return selection_text(written, _names(scope.get("tags"))) or "every target"


def _names(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(str(v).strip() for v in items if str(v).strip())


RULE_COLUMNS: list[Column[RuleInfo]] = [
    Column("Name", lambda r: r.name, tooltip=lambda r: r.rule.description or r.name),
    Column("Condition", lambda r: condition_text(r.rule), tooltip=lambda r: r.rule.summary),
    Column("Hold", lambda r: hold_text(r.rule), sort=lambda r: r.rule.for_seconds),
    Column("Severity", lambda r: r.rule.severity.label, sort=lambda r: -int(r.rule.severity)),
    Column("Scope", lambda r: scope_text(r.rule), tooltip=lambda r: scope_text(r.rule)),
    Column("Enabled", lambda r: "yes" if r.rule.enabled else "no"),
    Column(
        "Last change",
        lambda r: local_time(r.updated_at, seconds=False),
        sort=lambda r: r.updated_at,
        tooltip=lambda r: f"version {r.version}, {local_time(r.updated_at)} local time",
    ),
]


class RulesModel(KeyedTableModel[RuleInfo]):
    """Threshold rules by id; the severity in its colour, disabled ones greyed."""

    NAME, CONDITION, HOLD, SEVERITY, SCOPE, ENABLED, CHANGED = range(7)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(RULE_COLUMNS, lambda r: r.id, parent)

    def names(self) -> set[str]:
        return {r.name for r in self.items()}

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid():
            if 0 <= index.row() < self.rowCount():
                rule = self.item(index.row()).rule
                if not rule.enabled:
                    return brush(DISABLED_COLOURS)
                if index.column() == self.SEVERITY:
                    return brush(SEVERITY_COLOURS[rule.severity])
            return None
        return super().data(index, role)


# ---- check states ---------------------------------------------------------------------


def _state(s: CheckStateInfo) -> str:
    if not s.ok:
        return "FAILING"
    return "OK, partly" if s.error else "OK"


def _state_tip(s: CheckStateInfo) -> str:
    since = local_time(s.last_ok_at) if s.last_ok_at else "never"
    return f"last success {since} (local time)" + (f"\n{s.error}" if s.error else "")


def _duration(ms: float) -> str:
    return duration_text(ms / 1000) if ms >= 1000 else f"{ms:.0f} ms"


STATE_COLUMNS: list[Column[CheckStateInfo]] = [
    Column("Target", lambda s: s.target),
    Column("Monitor", lambda s: s.monitor),
    Column(
        "State", _state, sort=lambda s: 0 if not s.ok else 1 if s.error else 2, tooltip=_state_tip
    ),
    Column("Last check", lambda s: local_time(s.last_at), sort=lambda s: s.last_at),
    Column(
        "Last OK",
        lambda s: local_time(s.last_ok_at) if s.last_ok_at else "never",
        sort=lambda s: s.last_ok_at.timestamp() if s.last_ok_at else 0.0,
    ),
    Column("Failures", lambda s: str(s.failures), sort=lambda s: s.failures, align_right=True),
    Column(
        "Duration",
        lambda s: _duration(s.duration_ms),
        sort=lambda s: s.duration_ms,
        align_right=True,
    ),
    Column("Error", lambda s: s.error, tooltip=lambda s: s.error),
]


class CheckStatesModel(KeyedTableModel[CheckStateInfo]):
    """Where each monitor stands on each target, keyed by (monitor, target)."""

    TARGET, MONITOR, STATE, LAST, LAST_OK, FAILURES, DURATION, ERROR = range(8)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(STATE_COLUMNS, lambda s: (s.monitor, s.target), parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and 0 <= index.row() < self.rowCount():
            state = self.item(index.row())
            if role == Qt.ItemDataRole.DecorationRole and index.column() == self.STATE:
                return state_icon(state.ok, bool(state.error))
            if role == Qt.ItemDataRole.ForegroundRole:
                pair = FAIL_COLOURS if not state.ok else PARTIAL_COLOURS if state.error else None
                if index.column() == self.STATE:
                    return brush(pair or OK_COLOURS)
                if index.column() == self.ERROR and pair is not None:
                    return brush(pair)
                if index.column() == self.FAILURES and not state.ok:
                    return brush(FAIL_COLOURS)
                return None
        return super().data(index, role)


class StatesProxy(FilterProxy):
    """The quick filter over check states, plus "failing only"."""

    def __init__(self, source: CheckStatesModel, parent: QWidget | None = None) -> None:
        super().__init__(source, parent)
        self._source = source
        self.failing_only = False

    def set_failing_only(self, on: bool) -> None:
        self.beginFilterChange()
        self.failing_only = on
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self.failing_only and self._source.item(source_row).ok:
            return False
        return super().filterAcceptsRow(source_row, source_parent)
