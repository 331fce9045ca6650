"""The one alert state machine: every source, every transition, one set of rules.

Sources (threshold rules, reachability, traps, syslog, connectors) submit a
``NormalizedAlert``; ``ingest`` decides what happens to the open alert with the same
fingerprint. Operators acknowledge, unacknowledge, resolve; silences and maintenance
suppress and release; a parent target that is down suppresses its children's new
reachability alerts. Each function returns the new state and the ``Transition`` records
that go to ``alert_events`` — nothing here touches a database or a clock of its own.

Rules that the operators of Zabbix, Icinga and LibreNMS asked for:

* a clear always resolves, whatever the status (suppression never blocks resolution);
* an acknowledgement has an author, a comment and an optional expiry, after which the
  alert is active again;
* an alert that flaps (Nagios-style percent state change over the last checks) is marked
  flapping and kept open instead of being opened and closed again and again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from opsconductor_desktop.domain.errors import ValidationError


class Severity(IntEnum):
    """Alert severities, ordered; ``CLEAR`` is what a source sends to say "fixed"."""

    CLEAR = 0
    INFO = 1
    WARNING = 2
    MINOR = 3
    MAJOR = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, value: str | int) -> Severity:
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValidationError(f"unknown severity {value!r}; one of {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class AlertStatus(StrEnum):
    """Where an alert stands."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    SUPPRESSED = "suppressed"
    RESOLVED = "resolved"

    @property
    def open(self) -> bool:
        return self is not AlertStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class NormalizedAlert:
    """What every source submits."""

    source: str  # "rule", "reachability", "trap", "syslog", "connector:<name>"
    key: str  # identifies the problem within the source and target (e.g. "ifDown:3")
    severity: Severity
    summary: str
    target: str | None = None  # target name, when the source could match one
    details: Mapping[str, Any] = field(default_factory=dict)
    clear: bool = False
    reachability: bool = False  # a "target is down" alert (for dependency suppression)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.source, self.key, self.target)


def fingerprint(source: str, key: str, target: str | None) -> str:
    """Stable identity of a problem: the same source, key and target dedupe."""
    raw = "\x1f".join((source, key, target or ""))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class AlertState:
    """The mutable part of an alert, as the state machine sees it."""

    fingerprint: str
    source: str
    key: str
    target: str | None
    severity: Severity
    status: AlertStatus
    summary: str
    details: Mapping[str, Any]
    first_seen: datetime
    last_seen: datetime
    count: int = 1
    ack_by: str | None = None
    ack_comment: str | None = None
    ack_expires: datetime | None = None
    suppressed_by: str | None = None  # "silence:<id>" or "parent:<name>"
    flapping: bool = False
    history: tuple[bool, ...] = ()  # recent checks, True = problem (newest last)
    resolved_at: datetime | None = None
    reachability: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """One line of ``alert_events``: who moved the alert from what to what, and why."""

    at: datetime
    actor: str
    from_status: AlertStatus | None
    to_status: AlertStatus
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """What the alert manager knows when an alert arrives."""

    now: datetime
    silenced_by: str | None = None  # id of a silence matching the alert, if any
    parent_down: str | None = None  # name of a down parent target, if any
    actor: str = "system"


FLAP_WINDOW = 21
FLAP_HIGH = 0.50
FLAP_LOW = 0.25
FLAP_MIN_CHECKS = 10  # too few checks say nothing about flapping


def percent_state_change(history: Sequence[bool]) -> float:
    """Nagios' weighted percent state change: recent changes weigh more (0.8 → 1.2)."""
    if len(history) < 2 or (all(history) or not any(history)):
        return 0.0  # no change at all (a steady problem: the common case, made cheap)
    changes = 0.0
    weights = 0.0
    steps = len(history) - 1
    for i in range(1, len(history)):
        weight = 0.8 + 0.4 * (i - 1) / max(1, steps - 1)
        weights += weight
        if history[i] != history[i - 1]:
            changes += weight
    return changes / weights


def _flap_fields(state: AlertState, problem: bool) -> dict[str, Any]:
    """The ``history`` and ``flapping`` after one more check (``problem`` or a clear)."""
    history = (*state.history, problem)[-FLAP_WINDOW:]
    psc = percent_state_change(history) if len(history) >= FLAP_MIN_CHECKS else 0.0
    flapping = psc >= FLAP_HIGH if not state.flapping else psc > FLAP_LOW
    return {"history": history, "flapping": flapping}


def _flap(state: AlertState, problem: bool) -> AlertState:
    return replace(state, **_flap_fields(state, problem))


def _suppression(alert: NormalizedAlert, ctx: Context) -> str | None:
    if ctx.silenced_by:
        return f"silence:{ctx.silenced_by}"
    if alert.reachability and ctx.parent_down:
        return f"parent:{ctx.parent_down}"
    return None


def open_alert(
    alert: NormalizedAlert, ctx: Context, history: tuple[bool, ...] = ()
) -> tuple[AlertState, list[Transition]]:
    """A new alert for a problem with no open alert.

    ``history`` continues the check history of the last resolved alert of the same
    fingerprint, so that an alert opening and closing again and again is seen to flap.
    """
    suppressed_by = _suppression(alert, ctx)
    status = AlertStatus.SUPPRESSED if suppressed_by else AlertStatus.ACTIVE
    state = AlertState(
        fingerprint=alert.fingerprint,
        source=alert.source,
        key=alert.key,
        target=alert.target,
        severity=alert.severity,
        status=status,
        summary=alert.summary,
        details=dict(alert.details),
        first_seen=ctx.now,
        last_seen=ctx.now,
        suppressed_by=suppressed_by,
        history=history,
        reachability=alert.reachability,
    )
    state = _flap(state, problem=True)
    why = f"suppressed by {suppressed_by}" if suppressed_by else "opened"
    if state.flapping:
        why += "; flapping"
    return state, [Transition(ctx.now, ctx.actor, None, status, why)]


def ingest(
    state: AlertState | None, alert: NormalizedAlert, ctx: Context
) -> tuple[AlertState | None, list[Transition]]:
    """Apply one submission to the open alert of its fingerprint (or to none).

    ``state`` is the open alert of the fingerprint, or the last resolved one (its history
    carries over), or None. Returns the new state (None when a clear arrives with nothing
    open) and the transitions.
    """
    if state is None or not state.status.open:
        if alert.clear:
            return None, []
        return open_alert(alert, ctx, state.history if state is not None else ())
    if alert.clear:
        flapped = _flap(state, problem=False)
        if flapped.flapping:  # keep it open while it flaps; note the clear
            return replace(flapped, last_seen=ctx.now), []
        resolved = replace(
            flapped, status=AlertStatus.RESOLVED, resolved_at=ctx.now, last_seen=ctx.now
        )
        return resolved, [
            Transition(
                ctx.now, ctx.actor, state.status, AlertStatus.RESOLVED, "cleared by its source"
            )
        ]
    updated = replace(  # one copy for the repeat: most of a busy source's traffic
        state,
        **_flap_fields(state, problem=True),
        severity=alert.severity,
        summary=alert.summary,
        details=dict(alert.details),
        last_seen=ctx.now,
        count=state.count + 1,
    )
    return updated, []


def acknowledge(
    state: AlertState, *, actor: str, comment: str, expires: datetime | None, now: datetime
) -> tuple[AlertState, list[Transition]]:
    """Acknowledge an open alert (active or suppressed)."""
    if not state.status.open:
        raise ValidationError("a resolved alert cannot be acknowledged")
    if expires is not None and expires <= now:
        raise ValidationError("the acknowledgement expiry is in the past")
    new = replace(
        state,
        status=AlertStatus.ACKNOWLEDGED,
        ack_by=actor,
        ack_comment=comment,
        ack_expires=expires,
    )
    note = comment + (f" (until {expires.isoformat()})" if expires else "")
    return new, [Transition(now, actor, state.status, AlertStatus.ACKNOWLEDGED, note)]


def unacknowledge(
    state: AlertState, *, actor: str, now: datetime, comment: str = ""
) -> tuple[AlertState, list[Transition]]:
    if state.status is not AlertStatus.ACKNOWLEDGED:
        raise ValidationError("the alert is not acknowledged")
    back = AlertStatus.SUPPRESSED if state.suppressed_by else AlertStatus.ACTIVE
    new = replace(state, status=back, ack_by=None, ack_comment=None, ack_expires=None)
    return new, [Transition(now, actor, state.status, back, comment or "unacknowledged")]


def resolve(
    state: AlertState, *, actor: str, now: datetime, comment: str = ""
) -> tuple[AlertState, list[Transition]]:
    """An operator resolves the alert by hand."""
    if not state.status.open:
        raise ValidationError("the alert is already resolved")
    new = replace(state, status=AlertStatus.RESOLVED, resolved_at=now, flapping=False)
    return new, [
        Transition(now, actor, state.status, AlertStatus.RESOLVED, comment or "resolved by hand")
    ]


def expire_acknowledgement(state: AlertState, now: datetime) -> tuple[AlertState, list[Transition]]:
    """An acknowledgement past its expiry makes the alert active (or suppressed) again."""
    if (
        state.status is not AlertStatus.ACKNOWLEDGED
        or state.ack_expires is None
        or state.ack_expires > now
    ):
        return state, []
    back = AlertStatus.SUPPRESSED if state.suppressed_by else AlertStatus.ACTIVE
    new = replace(state, status=back, ack_expires=None)
    return new, [
        Transition(now, "system", state.status, back, f"acknowledgement by {state.ack_by} expired")
    ]


def apply_suppression(
    state: AlertState, suppressed_by: str | None, now: datetime
) -> tuple[AlertState, list[Transition]]:
    """A silence (or a down parent) starts or ends for this alert."""
    if not state.status.open or state.suppressed_by == suppressed_by:
        return state, []
    if suppressed_by is not None:
        new = replace(state, suppressed_by=suppressed_by)
        if state.status is AlertStatus.ACTIVE:
            new = replace(new, status=AlertStatus.SUPPRESSED)
            return new, [
                Transition(
                    now,
                    "system",
                    state.status,
                    AlertStatus.SUPPRESSED,
                    f"suppressed by {suppressed_by}",
                )
            ]
        return new, []
    new = replace(state, suppressed_by=None)
    if state.status is AlertStatus.SUPPRESSED:
        new = replace(new, status=AlertStatus.ACTIVE)
        return new, [
            Transition(
                now,
                "system",
                state.status,
                AlertStatus.ACTIVE,
                f"released ({state.suppressed_by} ended)",
            )
        ]
    return new, []
