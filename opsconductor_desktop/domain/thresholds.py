"""Threshold rules over samples, and reachability up/down, as pure state machines.

A rule is plain data (YAML or JSON) validated into an ``AlertRule``::

    name: cpu-high
    metric: "cpu.*"            # glob over series names
    op: ">"                    # > >= < <= == !=
    threshold: 90
    clear: 80                  # optional: clear only below 80 (hysteresis)
    for: 300                   # held 300 s ... or:  for_checks: 3
    clear_checks: 1            # consecutive clearing checks before the clear
    severity: major
    scope: {groups: [core], tags: [prod], targets: [r1], rule: "site:ams1"}
    summary: "{target} {metric} is {value:.1f} (> {threshold})"

``evaluate`` takes the rule's state for one (target, series), a sample, and returns the
new state and at most one ``NormalizedAlert``: a problem once the condition has held long
enough, a clear once the clear condition has, and nothing in between. One noisy sample
neither raises (``for``/``for_checks``) nor clears (the clear threshold, ``clear_checks``)
an alert. The state lives with the caller: after a restart, seed ``RuleState(firing=True)``
for series whose alert is still open, so that a recovery still sends its clear.

``evaluate_reachability`` does the same for up/down: down after N consecutive failed
checks, up again on the first success.
"""

from __future__ import annotations

import fnmatch
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.jobs import COMPARATORS, Selection
from opsconductor_desktop.domain.monitors import (
    check_keys,
    fail,
    number,
    parse_selection,
    seconds,
    text,
)
from opsconductor_desktop.domain.targets import validate_name

SUMMARY_FIELDS = ("target", "metric", "value", "threshold", "clear", "op", "rule", "severity")
DEFAULT_SUMMARY = "{target} {metric} is {value:g} ({op} {threshold:g})"
CLEAR_SUMMARY = "{target} {metric} is {value:g}: {rule} cleared"
_METRIC_GLOB = re.compile(r"^[A-Za-z0-9_:\-.*?\[\]!]+$")
_KEYS = {
    "name",
    "description",
    "enabled",
    "metric",
    "op",
    "threshold",
    "clear",
    "for",
    "for_checks",
    "clear_checks",
    "severity",
    "scope",
    "summary",
}


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A validated threshold rule."""

    name: str
    metric: str  # glob over series names, e.g. "ifHCInOctets.*"
    op: str
    threshold: float
    severity: Severity
    clear_threshold: float | None = None  # None: clears as soon as the condition is false
    for_seconds: float = 0.0
    for_checks: int = 1
    clear_checks: int = 1
    scope: Selection = field(default_factory=Selection)  # empty: every target
    summary: str = DEFAULT_SUMMARY
    description: str = ""
    enabled: bool = True
    source: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, series: str) -> bool:
        """Whether a series name matches the rule's metric glob."""
        return fnmatch.fnmatchcase(series, self.metric)

    def breached(self, value: float) -> bool:
        """The problem condition holds for this value."""
        return COMPARATORS[self.op](value, self.threshold)

    def cleared(self, value: float) -> bool:
        """The clear condition holds: past the clear threshold, away from the problem side."""
        if self.clear_threshold is None:
            return not self.breached(value)
        if self.op in (">", ">="):
            return value < self.clear_threshold
        return value > self.clear_threshold

    def render(self, template: str, *, target: str, metric: str, value: float) -> str:
        clear = self.threshold if self.clear_threshold is None else self.clear_threshold
        return template.format(
            target=target,
            metric=metric,
            value=value,
            threshold=self.threshold,
            clear=clear,
            op=self.op,
            rule=self.name,
            severity=self.severity.label,
        )


# --- validation ------------------------------------------------------------------------


def check_summary(value: Any, where: str = "summary") -> str:
    """A summary template using only the known fields, with format specs that work."""
    template = text(value, where)
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise fail(where, f"bad template: {exc}") from None
    for _, name, _, _ in parsed:
        if name is not None and name not in SUMMARY_FIELDS:
            known = ", ".join("{" + f + "}" for f in SUMMARY_FIELDS)
            raise fail(where, f"unknown field {{{name}}}; use {known}")
    try:
        template.format(
            target="t", metric="m", value=1.5, threshold=1.5, clear=1.5, op=">", rule="r",
            severity="major",
        )  # fmt: skip
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise fail(where, f"bad template: {exc}") from None
    return template


def _clear_threshold(data: Mapping[str, Any], op: str, threshold: float) -> float | None:
    if data.get("clear") is None:
        return None
    value = number(data["clear"], "clear", low=-1e18, high=1e18)
    if op in ("==", "!="):
        raise fail("clear", f"a separate clear threshold needs > >= < or <=, not {op}")
    if op in (">", ">=") and value > threshold:
        raise fail("clear", f"must not be above the threshold {threshold:g} for {op}")
    if op in ("<", "<=") and value < threshold:
        raise fail("clear", f"must not be below the threshold {threshold:g} for {op}")
    return value


def _hold(data: Mapping[str, Any]) -> tuple[float, int]:
    if data.get("for") is not None and data.get("for_checks") is not None:
        raise fail("for", "give either for (a duration) or for_checks, not both")
    raw_seconds, raw_checks = data.get("for"), data.get("for_checks")
    held = seconds(0 if raw_seconds is None else raw_seconds, "for", low=0, high=7 * 86400)
    checks = number(
        1 if raw_checks is None else raw_checks, "for_checks", low=1, high=1000, integer=True
    )
    return held, int(checks)


def parse_rule(data: Any) -> AlertRule:
    """Validate a threshold rule document, or raise ``ValidationError`` naming the field."""
    if not isinstance(data, Mapping):
        raise ValidationError("an alert rule must be a mapping with name, metric, op, threshold")
    name = validate_name(str(data.get("name", "")), what="name")
    check_keys(data, _KEYS, "rule")
    metric = text(data.get("metric"), "metric")
    if not _METRIC_GLOB.match(metric):
        raise fail("metric", f"invalid metric name or glob {metric!r}")
    op = data.get("op")
    if op not in COMPARATORS:
        raise fail("op", f"{op!r} is not one of {' '.join(COMPARATORS)}")
    threshold = number(data.get("threshold"), "threshold", low=-1e18, high=1e18)
    try:
        severity = Severity.parse(data.get("severity", "warning"))
    except (ValidationError, ValueError) as exc:
        raise fail("severity", str(exc)) from None
    if severity is Severity.CLEAR:
        raise fail("severity", "a rule cannot raise at severity clear")
    seconds, checks = _hold(data)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", "must be true or false")
    clear_checks = number(
        data.get("clear_checks", 1), "clear_checks", low=1, high=1000, integer=True
    )
    return AlertRule(
        name=name,
        metric=metric,
        op=str(op),
        threshold=threshold,
        severity=severity,
        clear_threshold=_clear_threshold(data, str(op), threshold),
        for_seconds=seconds,
        for_checks=checks,
        clear_checks=int(clear_checks),
        scope=parse_selection(data.get("scope"), "scope", tags=True),
        summary=check_summary(data.get("summary", DEFAULT_SUMMARY)),
        description=str(data.get("description") or "").strip(),
        enabled=enabled,
        source=dict(data),
    )


# --- evaluation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleState:
    """Where one rule stands for one (target, series).

    While not firing, ``since``/``checks`` count the current run of breaching samples;
    while firing, they count the current run of clearing samples.
    """

    firing: bool = False
    since: datetime | None = None
    checks: int = 0
    last_at: datetime | None = None
    last_value: float | None = None


def rule_key(rule: AlertRule, metric: str) -> str:
    """The alert key of a rule on one series (source ``rule``): one alert per series."""
    return f"{rule.name}:{metric}"


def _alert(
    rule: AlertRule, *, target: str, metric: str, value: float, clear: bool
) -> NormalizedAlert:
    template = CLEAR_SUMMARY if clear else rule.summary
    return NormalizedAlert(
        source="rule",
        key=rule_key(rule, metric),
        severity=Severity.CLEAR if clear else rule.severity,
        summary=rule.render(template, target=target, metric=metric, value=value),
        target=target,
        details={
            "rule": rule.name,
            "metric": metric,
            "value": value,
            "op": rule.op,
            "threshold": rule.threshold,
            "clear_threshold": rule.clear_threshold,
        },
        clear=clear,
    )


def _held(rule: AlertRule, since: datetime, checks: int, at: datetime) -> bool:
    return checks >= rule.for_checks and (at - since).total_seconds() >= rule.for_seconds


def evaluate(
    rule: AlertRule, state: RuleState, value: float, at: datetime, *, target: str, metric: str
) -> tuple[RuleState, NormalizedAlert | None]:
    """Apply one sample; returns the new state and a problem or clear alert, or None.

    A repeated sample (same time) or a value that is not a finite number changes nothing.
    A sample older than the last one means the console's clock was stepped back: it still
    counts, but a ``for`` duration starts again from it (never an early alert).
    """
    if not math.isfinite(value) or at == state.last_at:
        return state, None
    if state.last_at is not None and at < state.last_at:
        state = replace(state, since=None)
    seen = replace(state, last_at=at, last_value=value)
    if not state.firing:
        if not rule.breached(value):
            return replace(seen, since=None, checks=0), None
        since, checks = state.since or at, state.checks + 1
        if _held(rule, since, checks, at):
            problem = _alert(rule, target=target, metric=metric, value=value, clear=False)
            return replace(seen, firing=True, since=None, checks=0), problem
        return replace(seen, since=since, checks=checks), None
    if not rule.cleared(value):
        return replace(seen, since=None, checks=0), None
    checks = state.checks + 1
    if checks >= rule.clear_checks:
        clear = _alert(rule, target=target, metric=metric, value=value, clear=True)
        return replace(seen, firing=False, since=None, checks=0), clear
    return replace(seen, since=state.since or at, checks=checks), None


# --- reachability ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReachabilityState:
    """Up/down of one target for one reachability monitor."""

    down: bool = False
    failures: int = 0  # consecutive failed checks
    since: datetime | None = None  # first failure of the current run
    last_at: datetime | None = None


def evaluate_reachability(
    state: ReachabilityState,
    ok: bool,
    at: datetime,
    *,
    target: str,
    monitor: str,
    down_after: int,
    severity: Severity = Severity.CRITICAL,
    error: str = "",
) -> tuple[ReachabilityState, NormalizedAlert | None]:
    """Apply one check: down after ``down_after`` consecutive failures, up on a success.

    A repeated check (same time as the last) changes nothing.
    """
    if at == state.last_at:
        return state, None
    if ok:
        up = ReachabilityState(last_at=at)
        if not state.down:
            return up, None
        return up, NormalizedAlert(
            source="reachability",
            key=monitor,
            severity=Severity.CLEAR,
            summary=f"{target} is reachable again ({monitor})",
            target=target,
            clear=True,
            reachability=True,
        )
    failures, since = state.failures + 1, state.since or at
    new = ReachabilityState(state.down, failures, since, at)
    if state.down or failures < down_after:
        return new, None
    reason = f": {error}" if error else ""
    return replace(new, down=True), NormalizedAlert(
        source="reachability",
        key=monitor,
        severity=severity,
        summary=f"{target} is down ({failures} failed checks by {monitor}){reason}",
        target=target,
        details={"monitor": monitor, "failures": failures, "since": since.isoformat()},
        reachability=True,
    )
