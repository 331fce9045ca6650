"""Connector values and helpers shared by the connector service and its receiver host.

``ConnectorInfo`` and ``PollReport`` are what clients get (immutable; never a secret);
``Loaded`` is a connector row read inside one session, with its manifest parsed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from opsconductor_desktop.domain.alerts import NormalizedAlert
from opsconductor_desktop.domain.connectors import (
    ConnectorKind,
    ConnectorState,
    FieldType,
    Manifest,
    SettingField,
    parse_manifest,
)
from opsconductor_desktop.domain.errors import NotFoundError, ValidationError
from opsconductor_desktop.runtime.connectors.breaker import CircuitBreaker
from opsconductor_desktop.runtime.connectors.http_poll import resolve_number
from opsconductor_desktop.runtime.connectors.mapping import SourceError
from opsconductor_desktop.store.models import ConnectorRow

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """A connector as the pane and the CLI show it (never a secret value)."""

    id: uuid.UUID
    name: str
    manifest_id: str
    manifest_name: str
    manifest_version: str
    kind: ConnectorKind
    enabled: bool
    state: ConnectorState
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    failures: int
    counters: Mapping[str, Any]
    settings: Mapping[str, Any]  # non-secret values, defaults included
    secrets_set: tuple[str, ...]  # names of secret settings that have a value
    fields: tuple[SettingField, ...]  # the settings form
    open_alerts: int
    interval: float | None  # http_poll only
    next_probe_at: datetime | None  # when the open breaker lets a probe through
    missing: tuple[str, ...]  # required settings without a value
    version: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll (or test) did; ``alerts`` are the items' alerts (clears included),
    ``absent`` the clears of open alerts no longer listed by the source."""

    connector: str
    ok: bool
    error: str = ""
    skipped: bool = False
    items: int = 0
    pages: int = 0
    complete: bool = True
    alerts: tuple[NormalizedAlert, ...] = ()
    absent: tuple[NormalizedAlert, ...] = ()
    held: int = 0
    item_errors: tuple[str, ...] = ()
    item_error_count: int = 0
    note: str = ""
    took_ms: float = 0.0
    stored: bool = False
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    state: ConnectorState = ConnectorState.UNKNOWN


@dataclass(frozen=True, slots=True)
class Loaded:
    """A connector row read in one session (no ORM instance escapes it)."""

    id: uuid.UUID
    name: str
    manifest: Manifest
    settings: dict[str, Any]
    enabled: bool
    state: ConnectorState
    failures: int
    last_poll_at: datetime | None
    counters: dict[str, Any]
    version: int

    @property
    def source(self) -> str:
        return f"connector:{self.name}"

    @property
    def secret_ref(self) -> str:
        return f"connector:{self.id}"


def loaded(row: ConnectorRow) -> Loaded:
    return Loaded(
        row.id,
        row.name,
        parse_manifest(row.manifest),
        dict(row.settings or {}),
        row.enabled,
        ConnectorState(row.state) if row.state in set(ConnectorState) else ConnectorState.UNKNOWN,
        row.failures,
        row.last_poll_at,
        dict(row.counters or {}),
        row.version,
    )


def breaker_of(m: Manifest) -> CircuitBreaker:
    return CircuitBreaker(m.resilience.breaker_failures, m.resilience.breaker_cooldown)


def secret_fields(m: Manifest) -> list[str]:
    return [f.name for f in m.settings if f.type is FieldType.SECRET]


def validate_connector_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not _NAME.match(cleaned):
        raise ValidationError(
            f"bad connector name {cleaned!r}: up to 100 letters, digits, '.', '_' and '-'",
            field="name",
        )
    return cleaned


def check_polled(conn: Loaded) -> None:
    if conn.manifest.kind is not ConnectorKind.HTTP_POLL:
        raise ValidationError(
            f"connector {conn.name} is a {conn.manifest.kind.value} listener: it receives "
            "alerts, it is not polled"
        )


def interval_of(m: Manifest, settings: Mapping[str, Any]) -> float:
    try:
        value = resolve_number(m.interval, {"settings": settings}, "interval")
    except SourceError as exc:
        raise ValidationError(str(exc)) from None
    if not 5 <= value <= 86400:
        raise ValidationError(f"interval: {value:g} s is out of range 5-86400")
    return value


async def connector_row(session: Any, name: str) -> ConnectorRow:
    row = await session.scalar(select(ConnectorRow).where(ConnectorRow.name == name))
    if row is None:
        raise NotFoundError(f"no connector named {name!r}")
    return row  # type: ignore[no-any-return]
