"""Aware-UTC time helpers: every timestamp in the core is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC; a naive value is refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must carry a timezone")
    return value.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """Convert an aware timestamp to the machine's local time, for display only."""
    return ensure_utc(value).astimezone()
