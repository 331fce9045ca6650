"""Threshold rules and reachability applied to check results: the state between checks.

The pure evaluation lives in ``domain.thresholds``; this keeps its state per
(rule, target, series) and per (target, monitor), bounded, and re-seeds it from the open
alerts after a restart so that an alert opened before the restart still clears.

In team mode a check may run on another console next time, and alerts change there and
in operators' hands: ``seed`` is applied again whenever the alerts changed (at most every
few seconds, by the polling service). An open alert this console does not know as firing
is marked firing (so that this console clears it when the problem ends); one resolved
elsewhere (another console saw it clear, or an operator resolved it) is no longer firing
here (so that a problem that persists raises it again).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.monitors import Monitor, MonitorKind
from opsconductor_desktop.domain.thresholds import (
    AlertRule,
    ReachabilityState,
    RuleState,
    evaluate,
    evaluate_reachability,
)
from opsconductor_desktop.runtime.poller import CheckResult

log = logging.getLogger(__name__)

MAX_STATES = 500_000


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """What seeding needs of an open alert."""

    source: str
    key: str
    target: str | None


class Evaluator:
    """See the module docstring. ``scopes`` maps a rule name to the target names it covers
    (None: every target)."""

    def __init__(self, *, max_states: int = MAX_STATES) -> None:
        self.rules: tuple[AlertRule, ...] = ()
        self._scopes: dict[str, frozenset[str] | None] = {}
        self._states: OrderedDict[tuple[str, str, str], RuleState] = OrderedDict()
        self._reach: OrderedDict[tuple[str, str], ReachabilityState] = OrderedDict()
        self._max = max_states

    def set_rules(
        self, rules: Iterable[AlertRule], scopes: Mapping[str, frozenset[str] | None]
    ) -> None:
        self.rules = tuple(r for r in rules if r.enabled)
        self._scopes = dict(scopes)
        names = {r.name for r in self.rules}
        for key in [k for k in self._states if k[0] not in names]:
            del self._states[key]

    def in_scope(self, rule: AlertRule, target: str) -> bool:
        scope = self._scopes.get(rule.name)
        return scope is None or target in scope

    def seed(
        self,
        alerts: Iterable[OpenAlert],
        monitors: Mapping[str, Monitor],
        resolved: Iterable[OpenAlert] = (),
    ) -> int:
        """Mark the open rule and reachability alerts as firing/down, and those
        ``resolved`` since the last seed (and not open again) as no longer firing; how
        many states changed."""
        open_rules, open_reach = self._keys(alerts)
        gone_rules, gone_reach = self._keys(resolved)
        n = 0
        for key in open_rules:
            state = self._states.get(key)
            if state is None or not state.firing:
                self._put_rule(key, RuleState(firing=True))
                n += 1
        for where in open_reach:
            state_r = self._reach.get(where)
            if state_r is None or not state_r.down:
                monitor = monitors.get(where[1])
                failures = monitor.down_after if monitor is not None else 1
                self._put_reach(where, ReachabilityState(down=True, failures=failures))
                n += 1
        for key in gone_rules - open_rules:
            state = self._states.get(key)
            if state is not None and state.firing:
                self._put_rule(key, RuleState())
                n += 1
        for where in gone_reach - open_reach:
            state_r = self._reach.get(where)
            if state_r is not None and state_r.down:
                self._put_reach(where, ReachabilityState())
                n += 1
        if n:
            log.info("evaluator re-seeded: %d state(s) follow the stored alerts", n)
        return n

    @staticmethod
    def _keys(
        alerts: Iterable[OpenAlert],
    ) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
        """The rule-state and reachability-state keys of rule and reachability alerts."""
        rule_keys: set[tuple[str, str, str]] = set()
        reach_keys: set[tuple[str, str]] = set()
        for alert in alerts:
            if not alert.target:
                continue
            if alert.source == "rule":
                rule, sep, series = alert.key.partition(":")
                if sep:
                    rule_keys.add((rule, alert.target, series))
            elif alert.source == "reachability":
                reach_keys.add((alert.target, alert.key))
        return rule_keys, reach_keys

    def observe(self, result: CheckResult, monitor: Monitor) -> list[NormalizedAlert]:
        """The problem and clear alerts one check result raises."""
        out: list[NormalizedAlert] = []
        if monitor.kind is MonitorKind.REACHABILITY:
            key = (result.target, monitor.name)
            reach, alert = evaluate_reachability(
                self._reach.get(key, ReachabilityState()),
                result.ok,
                result.at,
                target=result.target,
                monitor=monitor.name,
                down_after=monitor.down_after,
                severity=Severity.CRITICAL,
                error=result.error,
            )
            self._put_reach(key, reach)
            if alert is not None:
                out.append(alert)
        for series, value in result.samples:
            for rule in self.rules:
                if not rule.applies_to(series) or not self.in_scope(rule, result.target):
                    continue
                skey = (rule.name, result.target, series)
                state, alert = evaluate(
                    rule,
                    self._states.get(skey, RuleState()),
                    value,
                    result.at,
                    target=result.target,
                    metric=series,
                )
                self._put_rule(skey, state)
                if alert is not None:
                    out.append(alert)
        return out

    def _put_rule(self, key: tuple[str, str, str], state: RuleState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self._max:
            self._states.popitem(last=False)

    def _put_reach(self, key: tuple[str, str], state: ReachabilityState) -> None:
        self._reach[key] = state
        self._reach.move_to_end(key)
        while len(self._reach) > self._max:
            self._reach.popitem(last=False)
