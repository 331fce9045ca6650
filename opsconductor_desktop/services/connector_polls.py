"""One poll of an ``http_poll`` connector, from fetching its page to its health.

Used by ``ConnectorService`` (``services.connectors``), which passes in what it owns (how
settings are resolved, the HTTP transport, the retry sleep, the target index, the alert
manager) at call time: ``run_poll`` fetches and maps into a ``PollReport`` (with the
alerts resolved by absence); ``state_after``, ``health_alerts`` and ``health_values`` say
what the poll means for the connector's health (state, ``connector-health`` alert, row).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity, fingerprint
from opsconductor_desktop.domain.connectors import ConnectorState
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.runtime.connectors.http_poll import HttpPoller
from opsconductor_desktop.runtime.connectors.mapping import ItemError, ItemMapper
from opsconductor_desktop.runtime.connectors.targets import TargetIndex
from opsconductor_desktop.services.alerts import AlertService
from opsconductor_desktop.services.connector_receivers import scrub
from opsconductor_desktop.services.connector_records import Loaded, PollReport, breaker_of

__all__ = [
    "ERRORS_KEPT",
    "HEALTH_KEY",
    "absent_alerts",
    "health_alerts",
    "health_values",
    "run_poll",
    "state_after",
]

HEALTH_KEY = "connector-health"
ERRORS_KEPT = 20  # item errors listed in a report

Resolver = Callable[[Loaded], Awaitable[tuple[dict[str, Any], list[str]]]]


async def run_poll(
    conn: Loaded,
    *,
    resolved: Resolver,
    transport: httpx.AsyncBaseTransport | None,
    sleep: Callable[[float], Awaitable[None]],
    refresh_targets: Callable[[], Awaitable[TargetIndex]],
    alerts: AlertService,
) -> PollReport:
    """Fetch ``conn``'s items and map them (stored nowhere)."""
    started = time.perf_counter()
    secrets: list[str] = []
    try:
        settings, secrets = await resolved(conn)
        poller = HttpPoller(conn.manifest, settings, transport=transport, sleep=sleep)
        fetched = await poller.fetch()
    except OpsError as exc:  # SourceError, a missing credential, the keyring
        took = (time.perf_counter() - started) * 1000
        return PollReport(conn.name, ok=False, error=scrub(str(exc), secrets), took_ms=took)
    mapper = ItemMapper(conn.manifest, conn.name, settings)
    rule = mapper.mapping.target
    targets = await refresh_targets()
    found: list[NormalizedAlert] = []
    seen = {fingerprint(conn.source, HEALTH_KEY, None)}
    errors: list[str] = []
    anonymous = held = 0
    for item in fetched.items:
        try:
            mapped = mapper.map(item)
        except ItemError as exc:
            errors.append(scrub(str(exc), secrets))
            if exc.identity is None:
                anonymous += 1
            else:
                key, value = exc.identity
                seen.add(fingerprint(conn.source, key, targets.resolve(rule, value)))
            continue
        alert = mapper.finish(mapped, targets.resolve(rule, mapped.target_value))
        seen.add(alert.fingerprint)
        if mapped.held:
            held += 1
        else:
            found.append(alert)
    absent: list[NormalizedAlert] = []
    note = fetched.note
    if anonymous:
        note = f"{anonymous} item(s) without a key: nothing resolved by absence this time"
    if mapper.mapping.resolve_on_absence and fetched.complete and not anonymous:
        absent = await absent_alerts(alerts, conn, seen)
    return PollReport(
        conn.name,
        ok=True,
        items=len(fetched.items),
        pages=fetched.pages,
        complete=fetched.complete,
        alerts=tuple(found),
        absent=tuple(absent),
        held=held,
        item_errors=tuple(errors[:ERRORS_KEPT]),
        item_error_count=len(errors),
        note=note,
        took_ms=(time.perf_counter() - started) * 1000,
    )


async def absent_alerts(
    alerts: AlertService, conn: Loaded, seen: set[str]
) -> list[NormalizedAlert]:
    """Clears for the connector's open alerts that this poll did not see."""
    out: list[NormalizedAlert] = []
    offset = 0
    while True:
        page = await alerts.list(status="open", source=conn.source, limit=5000, offset=offset)
        for a in page:
            if a.fingerprint not in seen:
                out.append(
                    NormalizedAlert(
                        conn.source,
                        a.key,
                        a.severity,
                        a.summary,
                        target=a.target,
                        details=a.details,
                        clear=True,
                    )
                )
        if len(page) < 5000:
            return out
        offset += len(page)


def state_after(conn: Loaded, report: PollReport) -> ConnectorState:
    breaker = breaker_of(conn.manifest)
    if not report.ok:
        return breaker.health(conn.failures + 1)
    return breaker.health(0, item_errors=bool(report.item_error_count) or not report.complete)


def health_alerts(conn: Loaded, report: PollReport, state: ConnectorState) -> list[NormalizedAlert]:
    """The ``connector-health`` alert: raised when the breaker opens, cleared after."""
    failing = state is ConnectorState.FAILING
    if not failing and conn.state is not ConnectorState.FAILING:
        return []
    summary = (
        f"connector {conn.name} is failing: {report.error}"
        if failing
        else f"connector {conn.name} answers again"
    )
    return [
        NormalizedAlert(
            conn.source,
            HEALTH_KEY,
            Severity.MAJOR,
            summary[:1000],
            details={"failures": conn.failures + (0 if report.ok else 1)},
            clear=not failing,
        )
    ]


def health_values(
    conn: Loaded, report: PollReport, state: ConnectorState, now: datetime
) -> dict[str, Any]:
    """The health columns to write on the connector's row after a poll."""
    counters = dict(conn.counters)
    counters["polls"] = int(counters.get("polls", 0)) + 1
    counters["failed_polls"] = int(counters.get("failed_polls", 0)) + (not report.ok)
    counters.update(
        items=report.items,
        pages=report.pages,
        alerts=len(report.alerts),
        held=report.held,
        resolved_by_absence=len(report.absent),
        item_errors=report.item_error_count,
        took_ms=round(report.took_ms, 1),
    )
    values: dict[str, Any] = {
        "state": state.value,
        "last_poll_at": now,
        "counters": counters,
        "failures": 0 if report.ok else conn.failures + 1,
    }
    if report.ok:
        values["last_success_at"] = now
        errors = report.item_error_count
        values["last_error"] = (
            f"{errors} item(s) could not be mapped, e.g. {report.item_errors[0]}"
            if errors
            else report.note
        )[:2000]
    else:
        values["last_error"] = report.error[:2000]
    return values
