"""The alert state machine: dedupe, clear, acknowledge with expiry, suppression, flapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opsconductor_desktop.domain import alerts as am
from opsconductor_desktop.domain.alerts import AlertStatus, Context, NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ValidationError

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DOWN = NormalizedAlert(
    "reachability", "down", Severity.CRITICAL, "r1 is down", target="r1", reachability=True
)
UP = NormalizedAlert(
    "reachability", "down", Severity.CLEAR, "r1 is up", target="r1", clear=True, reachability=True
)


def at(minutes: float) -> Context:
    return Context(now=T0 + timedelta(minutes=minutes))


def test_dedupe_counts_and_clear_resolves() -> None:
    state, events = am.ingest(None, DOWN, at(0))
    assert state is not None and state.status is AlertStatus.ACTIVE
    assert [e.to_status for e in events] == [AlertStatus.ACTIVE]
    state, events = am.ingest(state, DOWN, at(1))
    assert state is not None and state.count == 2 and events == []
    assert state.last_seen == T0 + timedelta(minutes=1)
    state, events = am.ingest(state, UP, at(2))
    assert state is not None and state.status is AlertStatus.RESOLVED
    assert events[0].from_status is AlertStatus.ACTIVE
    assert am.ingest(None, UP, at(3)) == (None, [])  # a clear with nothing open


def test_fingerprint_separates_targets_and_keys() -> None:
    other = NormalizedAlert("reachability", "down", Severity.CRITICAL, "r2", target="r2")
    assert other.fingerprint != DOWN.fingerprint
    assert DOWN.fingerprint == am.fingerprint("reachability", "down", "r1")


def test_acknowledge_with_expiry_then_active_again() -> None:
    state, _ = am.ingest(None, DOWN, at(0))
    assert state is not None
    acked, events = am.acknowledge(
        state, actor="ana", comment="on it", expires=T0 + timedelta(minutes=30), now=T0
    )
    assert acked.status is AlertStatus.ACKNOWLEDGED and acked.ack_by == "ana"
    assert events[0].actor == "ana" and "on it" in events[0].comment
    same, events = am.expire_acknowledgement(acked, T0 + timedelta(minutes=10))
    assert same.status is AlertStatus.ACKNOWLEDGED and events == []
    back, events = am.expire_acknowledgement(acked, T0 + timedelta(minutes=31))
    assert back.status is AlertStatus.ACTIVE
    assert "expired" in events[0].comment
    with pytest.raises(ValidationError, match="past"):
        am.acknowledge(state, actor="a", comment="", expires=T0 - timedelta(1), now=T0)


def test_silence_suppresses_and_releases_and_never_blocks_resolution() -> None:
    state, events = am.ingest(None, DOWN, Context(now=T0, silenced_by="s1"))
    assert state is not None and state.status is AlertStatus.SUPPRESSED
    assert state.suppressed_by == "silence:s1"
    released, events = am.apply_suppression(state, None, T0 + timedelta(minutes=5))
    assert released.status is AlertStatus.ACTIVE and "released" in events[0].comment
    again, _ = am.apply_suppression(released, "silence:s2", T0 + timedelta(minutes=6))
    assert again.status is AlertStatus.SUPPRESSED
    resolved, _ = am.ingest(again, UP, at(7))
    assert resolved is not None and resolved.status is AlertStatus.RESOLVED


def test_parent_down_suppresses_only_reachability_alerts() -> None:
    ctx = Context(now=T0, parent_down="core-1")
    child, _ = am.ingest(None, DOWN, ctx)
    assert child is not None and child.suppressed_by == "parent:core-1"
    cpu = NormalizedAlert("rule", "cpu>90", Severity.MAJOR, "cpu high", target="r1")
    other, _ = am.ingest(None, cpu, ctx)
    assert other is not None and other.status is AlertStatus.ACTIVE


def test_flapping_keeps_the_alert_open() -> None:
    state = None
    opened = 0
    for minute in range(24):
        submission = DOWN if minute % 2 == 0 else UP
        state, events = am.ingest(state, submission, at(minute))
        opened += sum(1 for e in events if e.from_status is None)
    assert state is not None and state.flapping
    assert state.status.open  # kept open while flapping, not closed for the 12th time
    assert opened < 12
    # steady clears stop the flapping and then resolve
    for minute in range(24, 60):
        state, _ = am.ingest(state, UP, at(minute)) if state and state.status.open else (state, [])
    assert state is not None and state.status is AlertStatus.RESOLVED


def test_percent_state_change_weights() -> None:
    assert am.percent_state_change([True] * 21) == 0.0
    assert am.percent_state_change([True, False] * 10) == pytest.approx(1.0)
    assert Severity.parse("Major") is Severity.MAJOR
    with pytest.raises(ValidationError, match="unknown severity"):
        Severity.parse("urgent")
