"""The dispatcher on both dialects: planning, spreading, leases, exactly-once, failures."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.runtime.dispatcher import Dispatcher, Due, next_slot, spread_offset
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import ScheduleRow

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_next_slot_keeps_the_phase() -> None:
    slot = T0 + timedelta(seconds=7)
    assert next_slot(slot, 60, slot + timedelta(seconds=1)) == slot + timedelta(seconds=60)
    # three intervals late: the next slot is the first one still ahead, same phase
    assert next_slot(slot, 60, slot + timedelta(seconds=185)) == slot + timedelta(seconds=240)


def test_spread_offsets_cover_the_interval() -> None:
    offsets = [spread_offset("check", f"m/{i}", 60) for i in range(1000)]
    assert all(0 <= o < 60 for o in offsets)
    per_second = Counter(int(o) for o in offsets)
    assert len(per_second) == 60 and max(per_second.values()) < 35  # ~17 per second
    assert spread_offset("check", "m/1", 60) == spread_offset("check", "m/1", 60)


async def test_sync_claim_complete_and_replan(core: Core) -> None:
    db: Database = core.ctx.db
    ran: list[str] = []

    async def handler(due: Due) -> None:
        ran.append(due.ref)
        if due.ref == "bad":
            raise OpsError("device said no")

    clock = [T0]
    d = Dispatcher(db, "me", {"check": handler}, clock=lambda: clock[0])
    plan = {("check", f"t{i}"): 60.0 for i in range(100)} | {("check", "bad"): 60.0}
    assert (await d.sync(plan)).added == 101
    assert (await d.sync(plan)).added == 0  # idempotent
    assert await d.run_round() == 0  # everything is spread into the next minute
    clock[0] = T0 + timedelta(seconds=30)
    first = await d.run_round()
    assert 25 < first < 75  # about half the slots have passed
    clock[0] = T0 + timedelta(seconds=61)
    assert first + await d.run_round() == 101 and sorted(ran) == sorted(r for _, r in plan)
    async with db.session() as s:
        rows = {r.ref: r for r in (await s.scalars(select(ScheduleRow))).all()}
    assert rows["bad"].last_status == "failed" and "device said no" in rows["bad"].last_error
    assert all(r.lease_owner is None for r in rows.values())
    assert all(
        T0 + timedelta(seconds=60) <= r.next_run_at < T0 + timedelta(seconds=121)
        for r in rows.values()
    )
    # a failing unit does not stop: it is due again next interval like the others
    clock[0] = T0 + timedelta(seconds=125)
    ran.clear()
    assert await d.run_round() == 101 and "bad" in ran
    removed = await d.sync({("check", "t1"): 30.0})
    assert (removed.removed, removed.changed) == (100, 1)


async def test_two_consoles_run_each_check_exactly_once(core: Core) -> None:
    db = core.ctx.db
    other_db = Database(str(db.url), pool_size=5)
    counts: Counter[str] = Counter()
    running: set[str] = set()
    overlaps: list[str] = []

    async def handler(due: Due) -> None:
        if due.ref in running:
            overlaps.append(due.ref)
        running.add(due.ref)
        await asyncio.sleep(0.002)
        counts[due.ref] += 1
        running.discard(due.ref)

    a = Dispatcher(db, "console-a", {"check": handler}, max_in_flight=20)
    b = Dispatcher(other_db, "console-b", {"check": handler}, max_in_flight=20)
    try:
        await a.sync({("check", f"t{i}"): 60.0 for i in range(300)})
        done = await asyncio.gather(
            a.run_round(every=True, batch=25), b.run_round(every=True, batch=25)
        )
    finally:
        await other_db.dispose()
    assert sum(done) == 300 and set(counts.values()) == {1} and len(counts) == 300
    assert not overlaps
    if db.dialect != "sqlite":
        assert min(done) > 0  # SKIP LOCKED lets both consoles take a share


async def test_a_dead_consoles_lease_expires_and_the_work_is_taken_over(core: Core) -> None:
    db = core.ctx.db
    ran: list[str] = []

    async def handler(due: Due) -> None:
        ran.append(due.ref)

    clock = [T0]
    dead = Dispatcher(db, "dead", {"check": handler}, lease=60, clock=lambda: clock[0])
    alive = Dispatcher(db, "alive", {"check": handler}, lease=60, clock=lambda: clock[0])
    await dead.sync({("check", "x"): 30.0})
    clock[0] = T0 + timedelta(seconds=31)
    assert len(await dead.claim(10)) == 1  # claimed, then the console dies
    assert await alive.run_round() == 0  # the lease still holds
    clock[0] = T0 + timedelta(seconds=92)
    assert await alive.run_round() == 1 and ran == ["x"]


async def test_stop_drains_in_flight_work_and_releases_the_rest(core: Core) -> None:
    db = core.ctx.db
    finished: list[str] = []

    async def handler(due: Due) -> None:
        await asyncio.sleep(0.05 if due.ref == "quick" else 30)
        finished.append(due.ref)

    d = Dispatcher(db, "me", {"check": handler}, tick=0.05)
    await d.sync({("check", "quick"): 60.0, ("check", "stuck"): 60.0})
    async with db.session() as s:
        for row in (await s.scalars(select(ScheduleRow))).all():
            row.next_run_at = T0  # both due now
    stop = asyncio.Event()
    runner = asyncio.create_task(d.run(stop, drain=0.5))
    await asyncio.sleep(0.3)
    started = asyncio.get_running_loop().time()
    stop.set()
    await runner
    assert asyncio.get_running_loop().time() - started < 3
    assert finished == ["quick"]
    async with db.session() as s:
        rows = {r.ref: r for r in (await s.scalars(select(ScheduleRow))).all()}
    assert rows["stuck"].lease_owner is None  # released: another console may take it now
    assert rows["stuck"].next_run_at == T0 and rows["quick"].next_run_at > T0


@pytest.mark.parametrize("bad", [{("job", "x"): 60.0}])
async def test_unknown_kinds_are_refused(core: Core, bad: dict[tuple[str, str], float]) -> None:
    d = Dispatcher(core.ctx.db, "me", {"check": lambda due: asyncio.sleep(0)})
    with pytest.raises(ValueError, match="no handler"):
        await d.sync(bad)


def test_an_early_run_keeps_the_phase() -> None:
    now = T0
    assert next_slot(now + timedelta(seconds=50), 60, now) == now + timedelta(seconds=50)
    assert next_slot(now + timedelta(seconds=20), 60, now) == now + timedelta(seconds=80)
    assert next_slot(now - timedelta(seconds=10), 60, now) == now + timedelta(seconds=50)
