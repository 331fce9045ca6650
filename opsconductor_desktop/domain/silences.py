"""Silences and maintenance windows: which alerts they match, and when they are in force.

A silence has matchers (all must hold), a start and an end, and optionally a weekly
recurrence ("every Tuesday 22:00 for 3 h", in UTC) inside that span. Everything here is
pure: the alert manager passes the alert, the target's tags and groups, and the time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"(\d+)\s*([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class AlertLike(Protocol):
    """What a silence looks at: a ``NormalizedAlert`` or an ``AlertState`` both fit."""

    @property
    def source(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def target(self) -> str | None: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def summary(self) -> str: ...


def parse_duration(text: str) -> timedelta:
    """``"2h"``, ``"30m"``, ``"1h30m"``, ``"1d"`` → a positive ``timedelta``."""
    raw = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(raw)
    if not raw or "".join(n + u for n, u in parts) != raw:
        raise ValidationError(f"bad duration {text!r}; write e.g. 2h, 30m, 1h30m, 1d")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValidationError(f"the duration {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Matchers:
    """What a silence matches; every given matcher must hold, ``None`` means any."""

    target: str | None = None
    group: str | None = None
    tag: str | None = None
    source: str | None = None
    severity: Severity | None = None  # this level or above
    key_regex: str | None = None
    summary_regex: str | None = None

    def __post_init__(self) -> None:
        for name in ("key_regex", "summary_regex"):
            pattern = getattr(self, name)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValidationError(f"bad {name} {pattern!r}: {exc}", field=name) from None
        if all(getattr(self, n) is None for n in self.__slots__):
            raise ValidationError("a silence needs at least one matcher")

    def to_json(self) -> dict[str, Any]:
        data = {n: getattr(self, n) for n in self.__slots__ if getattr(self, n) is not None}
        if self.severity is not None:
            data["severity"] = self.severity.label
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Matchers:
        values = dict(data)
        if values.get("severity") is not None:
            values["severity"] = Severity.parse(values["severity"])
        return cls(**values)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.to_json().items())


@dataclass(frozen=True, slots=True)
class Weekly:
    """A weekly window in UTC: on these days (0 = Monday), from ``start``, for ``duration``."""

    days: tuple[int, ...]
    start: time
    duration: timedelta

    def __post_init__(self) -> None:
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValidationError("a weekly window needs days of the week (mon..sun)")
        if not timedelta(0) < self.duration <= timedelta(days=7):
            raise ValidationError("a weekly window lasts more than zero and at most 7 days")

    @classmethod
    def parse(cls, text: str) -> Weekly:
        """``"tue 22:00 3h"``, ``"mon,thu 01:30 45m"`` or ``"daily 02:00 1h"``."""
        parts = text.strip().lower().split()
        if len(parts) != 3:
            raise ValidationError(f"bad weekly window {text!r}; write e.g. 'tue 22:00 3h'")
        days_text, start_text, duration_text = parts
        if days_text in ("daily", "*"):
            days: tuple[int, ...] = tuple(range(7))
        else:
            try:
                days = tuple(sorted({DAYS.index(d[:3]) for d in days_text.split(",")}))
            except ValueError:
                raise ValidationError(f"bad days {days_text!r}; use mon,tue,...,sun") from None
        try:
            start = time.fromisoformat(start_text)
        except ValueError:
            raise ValidationError(f"bad start time {start_text!r}; write HH:MM (UTC)") from None
        return cls(days, start, parse_duration(duration_text))

    def to_json(self) -> dict[str, Any]:
        return {
            "days": list(self.days),
            "start": self.start.isoformat(timespec="minutes"),
            "duration_s": int(self.duration.total_seconds()),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Weekly:
        return cls(
            tuple(int(d) for d in data["days"]),
            time.fromisoformat(str(data["start"])),
            timedelta(seconds=int(data["duration_s"])),
        )

    def describe(self) -> str:
        days = ",".join(DAYS[d] for d in self.days)
        return f"{days} {self.start.isoformat(timespec='minutes')} UTC for {self.duration}"

    def contains(self, now: datetime) -> bool:
        """True when ``now`` (aware) falls in a window (one may have begun on an earlier day)."""
        for back in range(8):
            day = (now - timedelta(days=back)).date()
            if day.weekday() not in self.days:
                continue
            begin = datetime.combine(day, self.start, tzinfo=now.tzinfo)
            if begin <= now < begin + self.duration:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Silence:
    """A silence: matchers, the span it is in force, an optional weekly window."""

    id: str
    matchers: Matchers
    starts_at: datetime
    ends_at: datetime
    weekly: Weekly | None = None
    author: str = ""
    comment: str = ""

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValidationError("silence start and end must carry a timezone")
        if self.ends_at <= self.starts_at:
            raise ValidationError("a silence must end after it starts")

    def active(self, now: datetime) -> bool:
        if not self.starts_at <= now < self.ends_at:
            return False
        return self.weekly is None or self.weekly.contains(now)


def matches(
    silence: Silence,
    alert: AlertLike,
    target_tags: Collection[str],
    target_groups: Collection[str],
    now: datetime,
) -> bool:
    """Whether ``silence`` is in force at ``now`` and matches ``alert``."""
    return silence.active(now) and matches_alert(
        silence.matchers, alert, target_tags, target_groups
    )


def matches_alert(
    m: Matchers, alert: AlertLike, target_tags: Collection[str], target_groups: Collection[str]
) -> bool:
    """Whether the matchers hold for the alert (ignoring time)."""
    checks = (
        m.target is None or (alert.target or "").lower() == m.target.lower(),
        m.group is None or m.group.lower() in {g.lower() for g in target_groups},
        m.tag is None or m.tag.lower() in {t.lower() for t in target_tags},
        m.source is None or alert.source == m.source,
        m.severity is None or alert.severity >= m.severity,
        m.key_regex is None or re.search(m.key_regex, alert.key) is not None,
        m.summary_regex is None or re.search(m.summary_regex, alert.summary) is not None,
    )
    return all(checks)


def first_match(
    silences: Collection[Silence],
    alert: AlertLike,
    target_tags: Collection[str],
    target_groups: Collection[str],
    now: datetime,
) -> Silence | None:
    """The first silence in force that matches, if any (silences sorted by the caller)."""
    for silence in silences:
        if matches(silence, alert, target_tags, target_groups, now):
            return silence
    return None
