"""The one dispatcher: it owns time.

Every unit of timed work — a monitor check of one target, the sample rollup, retention,
alert maintenance (and later connector polls and job schedules) — is a row of the
``schedules`` table: ``(kind, ref)`` unique, an interval, the next slot, and a lease.

- **Planning.** The owner of the work (the polling service) says what should exist as a
  map ``(kind, ref) -> interval``; ``sync`` inserts the missing rows, updates intervals and
  deletes rows that are no longer wanted, for the kinds this dispatcher handles. A new row's
  first slot is ``now + offset``, the offset a hash of its ref spread over the interval,
  so a thousand checks added at once do not fire in the same millisecond; later slots keep
  that phase (``slot + k * interval``), so the spread survives restarts and slow rounds.
- **Claiming.** Due rows (slot passed, no live lease) are claimed with one
  ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL,
  so several consoles on one database each take different rows and a check runs exactly
  once; SQLite serializes writers, so the same statement without the lock clause is
  atomic there. A lease expires: the work of a console that died is claimed again later.
- **Running.** Each claimed unit runs as a task under a bound; the same row never runs
  twice at once in a process (a row whose lease ran out while its task still runs is
  skipped). A handler's failure is logged and recorded on the row; the next slot comes
  regardless, so slow and failing targets never stop the others.
- **Stopping.** ``run`` returns after ``stop`` is set: no new claims, in-flight work gets a
  grace period, the rest is cancelled and its leases released for another console.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.waiting import wait_event
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import ScheduleRow, table_of

log = logging.getLogger(__name__)

_SCHEDULES = table_of(ScheduleRow)
ERROR_LIMIT = 2000  # characters of a handler's error kept on the row
START_BURST = 32  # units started per loop iteration: a big claim must not stall the loop
WRITE_CHUNK = 500  # outcome rows per executemany


@dataclass(frozen=True, slots=True)
class Due:
    """One claimed unit of work."""

    id: uuid.UUID
    kind: str
    ref: str
    interval: float
    slot: datetime  # when it was due


Handler = Callable[[Due], Awaitable[None]]
Plan = Mapping[tuple[str, str], float]


@dataclass(frozen=True, slots=True)
class SyncResult:
    added: int = 0
    removed: int = 0
    changed: int = 0


@dataclass
class DispatcherStats:
    """What the status bar and ``agent`` report."""

    claimed: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0  # claimed while the same row was still running here
    late_ms_max: float = 0.0  # worst start delay after the slot, this round
    last_error: str = ""
    by_kind: dict[str, int] = field(default_factory=dict)


def spread_offset(kind: str, ref: str, interval: float) -> float:
    """A stable offset in ``[0, interval)`` for a unit: the phase of its slots."""
    digest = hashlib.blake2b(f"{kind}\x1f{ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * interval


def next_slot(slot: datetime, interval: float, now: datetime) -> datetime:
    """The first ``slot + k * interval`` after ``now`` (k ≥ 1): the phase is kept.

    A unit run before its slot (``run_round(every=True)``) keeps its phase without a whole
    extra step, which left up to two intervals without a check: the next slot is at least
    half an interval away, at most one and a half.
    """
    step = timedelta(seconds=interval)
    if slot > now:
        return slot if slot - now >= step / 2 else slot + step
    if slot + step > now:
        return slot + step
    missed = math.floor((now - slot) / step) + 1
    return slot + missed * step


class Dispatcher:
    """See the module docstring."""

    def __init__(
        self,
        db: Database,
        owner: str,
        handlers: Mapping[str, Handler],
        *,
        max_in_flight: int = 256,
        lease: float = 120.0,
        tick: float = 0.25,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be positive")
        self.db = db
        self.owner = owner
        self.handlers = dict(handlers)
        self.max_in_flight = max_in_flight
        self.lease = timedelta(seconds=lease)
        self.tick = tick
        self.clock = clock
        self.stats = DispatcherStats()
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._done: list[dict[str, Any]] = []

    @property
    def in_flight(self) -> int:
        return len(self._running)

    # ---- planning ---------------------------------------------------------------------

    async def sync(self, plan: Plan, *, now: datetime | None = None) -> SyncResult:
        """Make the rows of the handled kinds match ``plan`` (``(kind, ref) -> interval``)."""
        now = now or self.clock()
        kinds = set(self.handlers)
        unknown = {kind for kind, _ in plan} - kinds
        if unknown:
            raise ValueError(f"no handler for {', '.join(sorted(unknown))}")
        c = _SCHEDULES.c
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(c.id, c.kind, c.ref, c.interval_s).where(c.kind.in_(kinds))
                )
            ).all()
            have = {(r.kind, r.ref): r for r in rows}
            gone = [r.id for key, r in have.items() if key not in plan]
            changed = [
                {"b_id": r.id, "b_interval": max(1, round(plan[key]))}
                for key, r in have.items()
                if key in plan and r.interval_s != max(1, round(plan[key]))
            ]
            new = [
                {
                    "id": uuid.uuid4(),
                    "kind": kind,
                    "ref": ref,
                    "interval_s": max(1, round(interval)),
                    "enabled": True,
                    "next_run_at": now + timedelta(seconds=spread_offset(kind, ref, interval)),
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "last_error": "",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for (kind, ref), interval in plan.items()
                if (kind, ref) not in have
            ]
            for start in range(0, len(gone), 500):
                await session.execute(delete(_SCHEDULES).where(c.id.in_(gone[start : start + 500])))
            if changed:
                await session.execute(
                    update(_SCHEDULES)
                    .where(c.id == bindparam("b_id"))
                    .values(interval_s=bindparam("b_interval"), updated_at=now),
                    changed,
                    execution_options={"synchronize_session": False},
                )
            if new:
                insert = sqlite_insert if self.db.dialect == "sqlite" else pg_insert
                # another console may plan the same rows at the same moment: theirs stand
                await session.execute(insert(_SCHEDULES).on_conflict_do_nothing(), new)
        result = SyncResult(len(new), len(gone), len(changed))
        if new or gone or changed:
            log.info(
                "schedules synced: %d added, %d removed, %d changed",
                result.added,
                result.removed,
                result.changed,
            )
        return result

    # ---- claiming ---------------------------------------------------------------------

    async def claim(
        self,
        limit: int,
        *,
        now: datetime | None = None,
        kinds: Collection[str] | None = None,
        every: bool = False,
        not_run_since: datetime | None = None,
    ) -> list[Due]:
        """Lease up to ``limit`` due rows (``every``: due or not) to this owner.

        ``not_run_since`` leaves out rows that ran at or after that time (a round's own).
        """
        if limit <= 0:
            return []
        now = now or self.clock()
        c = _SCHEDULES.c
        wanted = select(c.id).where(
            c.kind.in_(sorted(kinds if kinds is not None else self.handlers)),
            c.enabled.is_(True),
            or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
        )
        if not every:
            wanted = wanted.where(c.next_run_at <= now)
        if not_run_since is not None:
            wanted = wanted.where(or_(c.last_run_at.is_(None), c.last_run_at < not_run_since))
        wanted = wanted.order_by(c.next_run_at).limit(limit)
        if self.db.dialect != "sqlite":
            wanted = wanted.with_for_update(skip_locked=True)
        stmt = (
            update(_SCHEDULES)
            .where(c.id.in_(wanted.scalar_subquery()))
            .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
            .returning(c.id, c.kind, c.ref, c.interval_s, c.next_run_at)
            .execution_options(synchronize_session=False)
        )
        async with self.db.session() as session:
            rows = (await session.execute(stmt)).all()
        claimed = [Due(r.id, r.kind, r.ref, float(r.interval_s), r.next_run_at) for r in rows]
        claimed.sort(key=lambda d: d.slot)
        self.stats.claimed += len(claimed)
        return claimed

    # ---- running ----------------------------------------------------------------------

    def start(self, due: Due) -> asyncio.Task[None] | None:
        """Run one claimed unit as a task (None when the same row already runs here)."""
        if due.id in self._running:
            self.stats.skipped += 1
            return None
        task = asyncio.create_task(self._execute(due), name=f"dispatch {due.kind} {due.ref}")
        self._running[due.id] = task
        task.add_done_callback(functools.partial(self._forget, due.id))
        return task

    def _forget(self, key: uuid.UUID, task: asyncio.Task[None]) -> None:
        if self._running.get(key) is task:
            del self._running[key]

    async def start_all(self, claimed: Sequence[Due]) -> list[asyncio.Task[None]]:
        """Start claimed units, ``START_BURST`` per loop iteration; their tasks."""
        tasks = []
        for n, due in enumerate(claimed, 1):
            if (task := self.start(due)) is not None:
                tasks.append(task)
            if n % START_BURST == 0:
                await asyncio.sleep(0)  # the started ones send; the GUI may repaint
        return tasks

    async def _execute(self, due: Due) -> None:
        started = self.clock()
        late = max(0.0, (started - due.slot).total_seconds() * 1000)
        self.stats.late_ms_max = max(self.stats.late_ms_max, late)
        status, error = "ok", ""
        try:
            await self.handlers[due.kind](due)
        except asyncio.CancelledError:
            self._release(due)
            raise
        except OpsError as exc:
            status, error = "failed", str(exc)
            log.warning("%s %s failed: %s", due.kind, due.ref, exc)
        except Exception as exc:
            status, error = "failed", f"internal error ({type(exc).__name__}); see the log"
            log.exception("%s %s failed unexpectedly", due.kind, due.ref)
        if status == "ok":
            self.stats.completed += 1
        else:
            self.stats.failed += 1
            self.stats.last_error = error
        self.stats.by_kind[due.kind] = self.stats.by_kind.get(due.kind, 0) + 1
        now = self.clock()
        self._done.append(
            {
                "b_id": due.id,
                "b_next": next_slot(due.slot, due.interval, now),
                "b_at": now,
                "b_status": status,
                "b_error": error[:ERROR_LIMIT],
                "b_owner": self.owner,
            }
        )

    def _release(self, due: Due) -> None:
        """A cancelled unit: keep its slot, drop the lease so it is claimed again soon."""
        self._done.append(
            {
                "b_id": due.id,
                "b_next": due.slot,
                "b_at": None,
                "b_status": None,
                "b_error": "",
                "b_owner": self.owner,
            }
        )

    async def flush(self) -> int:
        """Write the outcome and next slot of finished units; release their leases."""
        if not self._done:
            return 0
        done, self._done = self._done, []
        c = _SCHEDULES.c
        finished = [d for d in done if d["b_at"] is not None]
        released = [d for d in done if d["b_at"] is None]
        owned = (c.id == bindparam("b_id")) & (c.lease_owner == bindparam("b_owner"))
        async with self.db.session() as session:
            for start in range(0, len(finished), WRITE_CHUNK):
                await session.execute(
                    update(_SCHEDULES)
                    .where(owned)
                    .values(
                        next_run_at=bindparam("b_next"),
                        lease_owner=None,
                        lease_expires_at=None,
                        last_run_at=bindparam("b_at"),
                        last_status=bindparam("b_status"),
                        last_error=bindparam("b_error"),
                    ),
                    finished[start : start + WRITE_CHUNK],
                    execution_options={"synchronize_session": False},
                )
            if released:
                await session.execute(
                    update(_SCHEDULES).where(owned).values(lease_owner=None, lease_expires_at=None),
                    [{k: d[k] for k in ("b_id", "b_owner")} for d in released],
                    execution_options={"synchronize_session": False},
                )
        return len(done)

    async def run_round(
        self, *, kinds: Collection[str] | None = None, every: bool = False, batch: int = 500
    ) -> int:
        """Claim everything due now (``every``: everything), run it all, wait; the count.

        Outcomes are written once the round is over, so the leases keep what already ran
        out of the later claims of the same round; what another console ran since the round
        began is left out too.
        """
        total = 0
        since = self.clock()
        limit = min(batch, self.max_in_flight)  # the bound, without a task per waiting unit
        try:
            while claimed := await self.claim(limit, kinds=kinds, every=every, not_run_since=since):
                await asyncio.gather(*await self.start_all(claimed))
                total += len(claimed)
        finally:
            await self.flush()
        return total

    async def run(
        self,
        stop: asyncio.Event,
        *,
        replan: Callable[[], Awaitable[Plan | None]] | None = None,
        drain: float = 8.0,
    ) -> None:
        """Claim and run due work until ``stop`` is set, then drain (see the module doc).

        ``replan`` is awaited every tick; when it returns a plan, the rows are synced to it.
        """
        log.info("dispatcher %s started (%s)", self.owner, ", ".join(sorted(self.handlers)))
        try:
            while not stop.is_set():
                try:
                    if replan is not None and (plan := await replan()) is not None:
                        await self.sync(plan)
                    free = self.max_in_flight - len(self._running)
                    await self.start_all(await self.claim(free))
                    await self.flush()
                except OpsError as exc:  # e.g. the database went away: keep trying
                    log.warning("dispatcher tick failed: %s", exc)
                    self.stats.last_error = str(exc)
                await wait_event(stop, self.tick)
        finally:
            await self._drain(drain)
            log.info("dispatcher %s stopped", self.owner)

    async def _drain(self, grace: float) -> None:
        tasks = list(self._running.values())
        if tasks:
            log.info("dispatcher draining %d unit(s) in flight", len(tasks))
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2.0)
        try:
            await self.flush()
        except OpsError as exc:
            log.warning("could not record the last outcomes (leases will expire): %s", exc)
