"""Batches through the alert manager on SQLite and PostgreSQL: a batch does what the same
alerts submitted one by one do, a problem cleared and raised again within one batch, and
batches that meet another console's change (a stale version, an alert it opened first)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert, Severity
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.silences import Matchers
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services.alerts import AlertInfo
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.store.models import AlertEventRow


def problem(
    key: str,
    target: str | None = "r1",
    *,
    source: str = "rule",
    clear: bool = False,
    severity: Severity = Severity.MAJOR,
    reachability: bool = False,
) -> NormalizedAlert:
    return NormalizedAlert(
        source=source,
        key=key,
        severity=Severity.CLEAR if clear else severity,
        summary=f"{key} on {target} at {severity.label}",
        target=target,
        details={"key": key, "severity": int(severity)},
        clear=clear,
        reachability=reachability,
    )


async def event_count(core: Core) -> int:
    async with core.ctx.db.session() as session:
        return int((await session.execute(select(func.count(AlertEventRow.id)))).scalar_one())


async def outcome(core: Core, source: str) -> list[tuple[Any, ...]]:
    """What the operator sees of one source's alerts (ids left out), with their events."""
    seen = []
    for alert in await core.alerts.list(source=source):
        detail = await core.alerts.get(alert.id)
        events = Counter((e.from_status, e.to_status, e.comment) for e in detail.events)
        seen.append((_visible(alert), sorted(events.items(), key=repr)))
    return sorted(seen, key=repr)


def _visible(a: AlertInfo) -> tuple[Any, ...]:
    return (
        (a.key, a.target, a.status, a.severity, a.summary, dict(a.details), a.count),
        (a.first_seen, a.last_seen, a.resolved_at, a.ack_by, a.flapping),
        (a.suppressed_by, a.reachability),
    )


async def test_a_batch_does_what_one_by_one_does(core: Core) -> None:
    """New, repeated, changed, cleared, cleared-and-raised-again, silenced and parent-down
    alerts in one batch leave what the same alerts submitted one at a time leave."""
    await core.inventory.create_target(TargetSpec("core1", "10.0.0.1"))
    await core.inventory.create_target(TargetSpec("edge1", "10.0.0.2", parent="core1"))
    await core.alerts.submit([problem("down", "core1", source="ping", reachability=True)])
    await core.alerts.add_silence(
        Matchers(key_regex="^quiet$"),
        starts_at=None,
        ends_at=utcnow() + timedelta(hours=1),
        comment="known noise",
    )
    start = utcnow()
    for source in ("batch", "single"):
        before = [problem(k, source=source) for k in ("dup", "acked", "back", "sev")]
        await core.alerts.manager.submit(before, now=start)
        (acked,) = [a for a in await core.alerts.list(source=source) if a.key == "acked"]
        await core.alerts.acknowledge([acked.id], comment="looking")
    later = start + timedelta(minutes=5)

    def batch(source: str) -> list[NormalizedAlert]:
        return [
            problem("dup", source=source),
            problem("new", source=source),
            problem("dup", source=source),
            problem("acked", source=source, clear=True),
            problem("back", source=source, clear=True),
            problem("new", source=source),
            problem("back", source=source, severity=Severity.MINOR),
            problem("sev", source=source, severity=Severity.CRITICAL),
            problem("never-opened", source=source, clear=True),
            problem("quiet", source=source),
            problem("down", "edge1", source=source, reachability=True),
            problem("dup", source=source),
        ]

    manager = core.alerts.manager
    result = await manager.submit(batch("batch"), now=later)
    for alert in batch("single"):
        await manager.submit([alert], now=later)

    assert (result.received, result.opened, result.updated, result.resolved) == (12, 4, 4, 2)
    assert await outcome(core, "batch") == await outcome(core, "single")
    by_key = {(a.key, a.status): a for a in await core.alerts.list(source="batch")}
    assert by_key[("dup", AlertStatus.ACTIVE)].count == 4
    assert by_key[("new", AlertStatus.ACTIVE)].count == 2
    assert by_key[("sev", AlertStatus.ACTIVE)].severity is Severity.CRITICAL
    assert by_key[("quiet", AlertStatus.SUPPRESSED)].suppressed_by is not None
    assert by_key[("down", AlertStatus.SUPPRESSED)].suppressed_by == "parent:core1"
    assert ("never-opened", AlertStatus.RESOLVED) not in by_key


async def test_silences_see_every_group_and_the_tags_of_a_target(core: Core) -> None:
    """The target facts the silences match on: tags, and every static group of a target
    (one row per group from the database)."""
    await core.inventory.create_target(TargetSpec("core1", "10.0.0.1"))
    await core.inventory.create_target(TargetSpec("r1", "10.0.0.2", tags=("edge",), parent="core1"))
    await core.inventory.create_target(TargetSpec("r2", "10.0.0.3"))
    await core.inventory.create_group(GroupSpec("lab"), members=["r1"])
    await core.inventory.create_group(GroupSpec("dc1"), members=["r1", "r2"])
    silences = [
        Matchers(group="lab", key_regex="^quiet$"),
        Matchers(tag="edge", key_regex="^cpu$"),
        Matchers(group="dc1", key_regex="^disk$"),
    ]
    for matchers in silences:
        await core.alerts.add_silence(
            matchers, starts_at=None, ends_at=utcnow() + timedelta(hours=1), comment="test"
        )
    keys = ("quiet", "cpu", "disk")
    await core.alerts.submit([problem(k, t) for k in keys for t in ("r1", "r2")])
    suppressed = {(a.key, a.target) for a in await core.alerts.list(status="suppressed")}
    assert suppressed == {("quiet", "r1"), ("cpu", "r1"), ("disk", "r1"), ("disk", "r2")}
    assert len(await core.alerts.list(status="active")) == 2


async def test_clear_and_raise_again_in_one_batch(core: Core) -> None:
    """The old alert is resolved before the new one is opened: the open-fingerprint index
    holds, and both transitions are recorded."""
    await core.alerts.submit([problem("flap")])
    result = await core.alerts.submit([problem("flap", clear=True), problem("flap")])
    assert (result.opened, result.updated, result.resolved) == (1, 1, 1)
    (old,) = await core.alerts.list(status="resolved")
    (new,) = await core.alerts.list(status="open")
    assert old.id != new.id and new.count == 1
    old_events = [e.to_status for e in (await core.alerts.get(old.id)).events]
    new_events = [e.to_status for e in (await core.alerts.get(new.id)).events]
    assert old_events == [AlertStatus.ACTIVE, AlertStatus.RESOLVED]
    assert new_events == [AlertStatus.ACTIVE]


async def test_stale_version_in_a_batch_is_applied_again(core: Core) -> None:
    """Another console bumps one alert of a batch between our read and our update: the
    bulk update sees fewer rows matched, and the whole batch is applied again."""
    keys = [f"k{i}" for i in range(5)]
    await core.alerts.submit([problem(k) for k in keys])
    manager = core.alerts.manager
    original = manager._load_by_fingerprint
    calls = 0

    async def stale(session: Any, fps: Any, now: Any) -> Any:
        nonlocal calls
        calls += 1
        rows = await original(session, fps, now)
        if calls == 1:
            async with core.ctx.db.session() as other:
                await manager.submit_in(other, [problem("k2")])
        return rows

    manager._load_by_fingerprint = stale  # type: ignore[method-assign]
    try:
        await manager.submit([*(problem(k) for k in keys), problem("new")])
    finally:
        manager._load_by_fingerprint = original  # type: ignore[method-assign]
    counts = {a.key: a.count for a in await core.alerts.list()}
    assert counts == {"k0": 2, "k1": 2, "k2": 3, "k3": 2, "k4": 2, "new": 1}
    assert calls == 3  # ours, the other console's, ours again
    assert await event_count(core) == 6  # one "opened" each: the first attempt left nothing


async def test_alert_opened_by_another_console_in_a_mixed_batch(core: Core) -> None:
    """Of a batch's new alerts, the one another console opened first goes to its row; the
    others are inserted, the repeats counted, and each alert is opened once."""
    await core.alerts.submit([problem("old")])
    manager = core.alerts.manager
    original = manager._load_by_fingerprint
    calls = 0

    async def stale(session: Any, fps: Any, now: Any) -> Any:
        nonlocal calls
        calls += 1
        rows = await original(session, fps, now)
        if calls == 1:
            async with core.ctx.db.session() as other:
                await manager.submit_in(other, [problem("b")])
        return rows

    manager._load_by_fingerprint = stale  # type: ignore[method-assign]
    try:
        batch = [problem("old"), problem("a"), problem("b"), problem("b"), problem("c")]
        result = await manager.submit(batch)
    finally:
        manager._load_by_fingerprint = original  # type: ignore[method-assign]
    assert (result.opened, result.updated) == (2, 2)
    alerts = await core.alerts.list()
    assert sorted((a.key, a.count) for a in alerts) == [("a", 1), ("b", 3), ("c", 1), ("old", 2)]
    assert {a.status for a in alerts} == {AlertStatus.ACTIVE}
    assert await event_count(core) == 4


async def test_lost_insert_after_own_update_starts_again(core: Core) -> None:
    """When an insert is refused for a problem whose old alert this batch already changed,
    the batch is rolled back and applied again from a fresh read, not half kept."""
    await core.alerts.submit([problem("x")])
    manager = core.alerts.manager
    original = manager._insert
    calls = 0

    async def refused_once(session: Any, rows: Any) -> Any:
        nonlocal calls
        calls += 1
        lost = await original(session, rows)
        return {t.state.fingerprint for t in rows} if calls == 1 else lost

    manager._insert = refused_once  # type: ignore[method-assign]
    try:
        await manager.submit([problem("x", clear=True), problem("x")])
    finally:
        manager._insert = original  # type: ignore[method-assign]
    assert calls == 2
    (old,) = await core.alerts.list(status="resolved")
    (new,) = await core.alerts.list(status="open")
    assert (old.count, new.count) == (1, 1)
    assert await event_count(core) == 3  # opened, resolved; opened again
