"""Silence matchers, spans and weekly maintenance windows (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.silences import (
    Matchers,
    Silence,
    Weekly,
    first_match,
    matches,
    parse_duration,
)

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # a Tuesday
ALERT = NormalizedAlert("trap", "linkDown:3", Severity.MAJOR, "Gi0/3 down", target="r1")


def silence(m: Matchers, *, weekly: Weekly | None = None, hours: int = 24) -> Silence:
    return Silence("s1", m, T0 - timedelta(hours=1), T0 + timedelta(hours=hours), weekly)


@pytest.mark.parametrize(
    ("m", "hit"),
    [
        (Matchers(target="R1"), True),
        (Matchers(target="r2"), False),
        (Matchers(group="core"), True),
        (Matchers(group="edge"), False),
        (Matchers(tag="prod"), True),
        (Matchers(tag="lab"), False),
        (Matchers(source="trap"), True),
        (Matchers(source="rule"), False),
        (Matchers(severity=Severity.MINOR), True),
        (Matchers(severity=Severity.CRITICAL), False),
        (Matchers(key_regex=r"^linkDown"), True),
        (Matchers(summary_regex=r"Gi0/[0-9]+ up"), False),
        (Matchers(target="r1", source="rule"), False),
    ],
)
def test_matchers(m: Matchers, hit: bool) -> None:
    assert matches(silence(m), ALERT, ["prod"], ["Core"], T0) is hit


def test_span() -> None:
    s = silence(Matchers(target="r1"), hours=1)
    assert matches(s, ALERT, [], [], T0)
    assert not matches(s, ALERT, [], [], T0 + timedelta(hours=1))
    assert not matches(s, ALERT, [], [], T0 - timedelta(hours=2))


def test_weekly_window_crosses_midnight() -> None:
    w = Weekly.parse("tue 22:00 3h")
    assert w.days == (1,) and w.duration == timedelta(hours=3)
    assert not w.contains(T0)  # Tue 21:00
    assert w.contains(T0 + timedelta(hours=1))  # Tue 22:00
    assert w.contains(T0 + timedelta(hours=3, minutes=59))  # Wed 00:59
    assert not w.contains(T0 + timedelta(hours=4))  # Wed 01:00
    assert w.contains(T0 + timedelta(days=7, hours=2))  # next Tuesday
    s = silence(Matchers(target="r1"), weekly=w, hours=24 * 30)
    assert not matches(s, ALERT, [], [], T0)
    assert matches(s, ALERT, [], [], T0 + timedelta(hours=2))
    assert Weekly.from_json(w.to_json()) == w


def test_weekly_forms() -> None:
    assert Weekly.parse("daily 02:00 1h").days == tuple(range(7))
    assert Weekly.parse("mon,thu 01:30 45m").days == (0, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [("tue 22:00", "bad weekly"), ("xyz 22:00 1h", "bad days"), ("tue 25:00 1h", "bad start")],
)
def test_weekly_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Weekly.parse(text)


def test_durations() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    for bad in ("", "2x", "h", "0m", "1h 2"):
        with pytest.raises(ValidationError):
            parse_duration(bad)


def test_validation() -> None:
    with pytest.raises(ValidationError, match="bad key_regex"):
        Matchers(key_regex="(")
    with pytest.raises(ValidationError, match="at least one matcher"):
        Matchers()
    with pytest.raises(ValidationError, match="end after it starts"):
        Silence("s", Matchers(target="r1"), T0, T0)
    with pytest.raises(ValidationError, match="timezone"):
        Silence("s", Matchers(target="r1"), T0.replace(tzinfo=None), T0)


def test_json_round_trip_and_first_match() -> None:
    m = Matchers(tag="prod", severity=Severity.WARNING)
    assert m.to_json() == {"tag": "prod", "severity": "warning"}
    assert Matchers.from_json(m.to_json()) == m
    a, b = silence(Matchers(target="r2")), silence(m)
    assert first_match([a, b], ALERT, ["prod"], [], T0) is b
    assert first_match([a], ALERT, ["prod"], [], T0) is None
