"""The alert manager: the only code that writes alerts, through ``domain.alerts``.

Every source submits batches of ``NormalizedAlert``; operators acknowledge, unacknowledge
and resolve; ``maintain`` (called by the dispatcher) expires acknowledgements and applies
or releases silences and parent-down suppression. Each call is one transaction with bulk
statements: one query loads the alerts of a whole batch, one statement inserts the new
ones, one updates the changed ones (checking ``version``), one writes the events.

Two consoles may open the same problem at once: the partial unique index on
``fingerprint`` (while not resolved) refuses the second insert, and the loser applies its
submission to the winner's row instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsconductor_desktop.domain import alerts as machine
from opsconductor_desktop.domain.alerts import (
    AlertState,
    AlertStatus,
    Context,
    NormalizedAlert,
    Severity,
    Transition,
)
from opsconductor_desktop.domain.errors import ConflictError, NotFoundError
from opsconductor_desktop.domain.silences import Matchers, Silence, Weekly, first_match
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import (
    AlertEventRow,
    AlertRow,
    GroupMemberRow,
    GroupRow,
    SilenceRow,
    TargetRow,
    table_of,
)

log = logging.getLogger(__name__)

#: a problem that comes back within this time continues the flap history of its last alert
FLAP_MEMORY = timedelta(hours=1)
#: a batch that meets a concurrent change (stale version) is applied again, this many times
SUBMIT_ATTEMPTS = 3
_OPEN = AlertRow.status != AlertStatus.RESOLVED.value
_ALERTS = table_of(AlertRow)
_UPDATED = (
    "severity",
    "status",
    "summary",
    "details",
    "last_seen",
    "count",
    "ack_by",
    "ack_comment",
    "ack_expires",
    "suppressed_by",
    "flapping",
    "history",
    "resolved_at",
)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What a batch did."""

    received: int
    opened: int
    updated: int
    resolved: int
    ids: tuple[uuid.UUID, ...]  # alerts inserted or changed


@dataclass
class _Tracked:
    """One alert row as the manager holds it during a transaction."""

    id: uuid.UUID
    state: AlertState
    version: int  # the version read (0 for a row to insert)
    target_id: uuid.UUID | None
    original: AlertState | None = None
    events: list[Transition] = field(default_factory=list)

    @property
    def new(self) -> bool:
        return self.version == 0


@dataclass(frozen=True, slots=True)
class _TargetFacts:
    id: uuid.UUID
    tags: tuple[str, ...]
    groups: tuple[str, ...]
    parent: str | None


def state_of(row: Row[Any]) -> AlertState:
    """The state machine's view of a stored alert (a row of ``alerts``)."""
    return AlertState(
        fingerprint=row.fingerprint,
        source=row.source,
        key=row.key,
        target=row.target_name,
        severity=Severity(row.severity),
        status=AlertStatus(row.status),
        summary=row.summary,
        details=dict(row.details or {}),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        count=row._mapping["count"],
        ack_by=row.ack_by,
        ack_comment=row.ack_comment,
        ack_expires=row.ack_expires,
        suppressed_by=row.suppressed_by,
        flapping=row.flapping,
        history=tuple(bool(h) for h in (row.history or [])),
        resolved_at=row.resolved_at,
        reachability=row.reachability,
    )


def silence_of(row: SilenceRow) -> Silence:
    return Silence(
        id=str(row.id),
        matchers=Matchers.from_json(row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        weekly=Weekly.from_json(row.weekly) if row.weekly else None,
        author=row.author,
        comment=row.comment,
    )


def _values(state: AlertState) -> dict[str, Any]:
    return {
        "severity": int(state.severity),
        "status": state.status.value,
        "summary": state.summary,
        "details": dict(state.details),
        "last_seen": state.last_seen,
        "count": state.count,
        "ack_by": state.ack_by,
        "ack_comment": state.ack_comment,
        "ack_expires": state.ack_expires,
        "suppressed_by": state.suppressed_by,
        "flapping": state.flapping,
        "history": list(state.history),
        "resolved_at": state.resolved_at,
    }


_SEEN = ("last_seen", "count", "history", "flapping")


def _seen_values(state: AlertState) -> dict[str, Any]:
    return {
        "last_seen": state.last_seen,
        "count": state.count,
        "history": list(state.history),
        "flapping": state.flapping,
    }


def _only_seen(t: _Tracked) -> bool:
    """Whether only the "seen" columns (``_SEEN``) of a stored alert changed."""
    o, s = t.original, t.state
    return o is not None and (
        o.severity == s.severity
        and o.status == s.status
        and o.summary == s.summary
        and o.details == s.details
        and o.suppressed_by == s.suppressed_by
        and o.ack_by == s.ack_by
        and o.ack_comment == s.ack_comment
        and o.ack_expires == s.ack_expires
        and o.resolved_at == s.resolved_at
    )


def _insert_values(t: _Tracked) -> dict[str, Any]:
    s = t.state
    return {
        "id": t.id,
        "fingerprint": s.fingerprint,
        "source": s.source,
        "key": s.key,
        "target_id": t.target_id,
        "target_name": s.target,
        "first_seen": s.first_seen,
        "reachability": s.reachability,
        "version": 1,
        **_values(s),
    }


class AlertManager:
    """Owns every alert state change; see the module docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- ingestion --------------------------------------------------------------------------

    async def submit(
        self, batch: Sequence[NormalizedAlert], *, now: datetime | None = None
    ) -> SubmitResult:
        """Apply a batch of submissions in one transaction (again if another console
        changed one of its alerts meanwhile)."""
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                async with self.db.session() as session:
                    return await self.submit_in(session, batch, now=now)
            except ConflictError:
                if attempt == SUBMIT_ATTEMPTS:
                    raise
                log.info("alert batch met a concurrent change; attempt %d again", attempt + 1)
        raise AssertionError("unreachable")

    async def submit_in(
        self,
        session: AsyncSession,
        batch: Sequence[NormalizedAlert],
        *,
        now: datetime | None = None,
    ) -> SubmitResult:
        """``submit`` inside the caller's transaction (the service adds its audit to it)."""
        now = now or utcnow()
        by_fp: dict[str, list[NormalizedAlert]] = {}
        for alert in batch:
            by_fp.setdefault(alert.fingerprint, []).append(alert)
        tracked = await self._apply(session, by_fp, now)
        lost = await self._insert(session, [t for t in tracked if t.new])
        if lost:  # another console opened these first: apply ours to their rows
            tracked = [t for t in tracked if t.state.fingerprint not in lost]
            retried = await self._apply(session, {fp: by_fp[fp] for fp in lost}, now)
            if await self._insert(session, [t for t in retried if t.new]):
                raise ConflictError(
                    "alerts were opened concurrently twice; submit again", expected=0, actual=None
                )
            tracked += retried
        await self._update(session, [t for t in tracked if not t.new])
        await self._write_events(session, tracked)
        return SubmitResult(
            received=len(batch),
            opened=sum(1 for t in tracked if t.new),
            updated=sum(1 for t in tracked if not t.new),
            resolved=sum(1 for t in tracked if t.state.status is AlertStatus.RESOLVED),
            ids=tuple(t.id for t in tracked),
        )

    async def _apply(
        self, session: AsyncSession, by_fp: dict[str, list[NormalizedAlert]], now: datetime
    ) -> list[_Tracked]:
        if not by_fp:
            return []
        current = await self._load_by_fingerprint(session, by_fp, now)
        names = {a.target for alerts in by_fp.values() for a in alerts if a.target}
        facts = await _target_facts(session, names)
        down = await _down_targets(session, {f.parent for f in facts.values() if f.parent})
        silences = await _active_silences(session, now)
        out: list[_Tracked] = []
        listed: set[uuid.UUID] = set()
        for fp, alerts in by_fp.items():
            row = current.get(fp)
            t = self._track(row) if row is not None else None
            for alert in alerts:
                fact = facts.get(alert.target or "")
                ctx = _context(alert, fact, silences, down, now)
                base = t.state if t is not None else None
                new_state, events = machine.ingest(base, alert, ctx)
                if new_state is None:
                    continue
                if t is None or (not t.state.status.open and new_state.status.open):
                    t = _Tracked(uuid.uuid4(), new_state, 0, fact.id if fact else None)
                if t.id not in listed:
                    listed.add(t.id)
                    out.append(t)
                t.state = new_state
                t.events += events
        return out

    @staticmethod
    def _track(row: Row[Any]) -> _Tracked:
        state = state_of(row)
        return _Tracked(row.id, state, row.version, row.target_id, original=state)

    async def _load_by_fingerprint(
        self, session: AsyncSession, fps: Collection[str], now: datetime
    ) -> dict[str, Row[Any]]:
        """The open alert per fingerprint, else the most recently resolved one (if recent)."""
        stmt = _ALERTS.select().where(
            AlertRow.fingerprint.in_(list(fps)),
            or_(_OPEN, AlertRow.resolved_at >= now - FLAP_MEMORY),
        )
        found: dict[str, Row[Any]] = {}
        for row in await session.execute(stmt):
            have = found.get(row.fingerprint)
            if have is None or _rank(row) > _rank(have):
                found[row.fingerprint] = row
        return found

    async def _insert(self, session: AsyncSession, rows: list[_Tracked]) -> set[str]:
        """Insert new alerts; the fingerprints another console opened first are returned.

        ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (SQLite and PostgreSQL alike)
        skips the rows the partial unique index refuses without aborting the transaction
        (no savepoint: pysqlite would commit at its release).
        """
        if not rows:
            return set()
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        stmt = insert(_ALERTS).on_conflict_do_nothing().returning(_ALERTS.c.id)
        result = await session.execute(stmt, [_insert_values(t) for t in rows])
        inserted = set(result.scalars().all())
        lost = {t.state.fingerprint for t in rows if t.id not in inserted}
        if lost:
            log.info("%d alert(s) were opened by another console first", len(lost))
        return lost

    async def _update(self, session: AsyncSession, rows: list[_Tracked]) -> None:
        """Write changed alerts, each only if its version is still the one read.

        A repeat of an open problem changes only the "seen" columns: those rows go in a
        narrower statement (most of a busy source's traffic), the rest in the full one.
        """
        changed = [t for t in rows if t.state != t.original]
        bumped = [t for t in changed if _only_seen(t)]
        full = [t for t in changed if not _only_seen(t)]
        await self._execute_update(session, bumped, _SEEN, _seen_values)
        await self._execute_update(session, full, _UPDATED, _values)

    @staticmethod
    async def _execute_update(
        session: AsyncSession,
        rows: list[_Tracked],
        columns: tuple[str, ...],
        values: Any,
    ) -> None:
        if not rows:
            return
        stmt = (
            _ALERTS.update()
            .where(_ALERTS.c.id == bindparam("b_id"), _ALERTS.c.version == bindparam("b_version"))
            .values(
                version=bindparam("b_version") + 1,
                **{name: bindparam(name) for name in columns},
            )
        )
        params = [{"b_id": t.id, "b_version": t.version, **values(t.state)} for t in rows]
        result = await session.execute(stmt, params)
        count = getattr(result, "rowcount", -1)
        sane = session.get_bind().dialect.supports_sane_multi_rowcount
        if sane and count not in (-1, len(params)):
            raise ConflictError(
                "alerts changed in another console meanwhile; try again",
                expected=len(params),
                actual=count,
            )

    async def _write_events(self, session: AsyncSession, rows: Iterable[_Tracked]) -> None:
        events = [
            {
                "id": uuid.uuid4(),
                "alert_id": t.id,
                "at": e.at,
                "actor": e.actor,
                "from_status": e.from_status.value if e.from_status else None,
                "to_status": e.to_status.value,
                "comment": e.comment,
            }
            for t in rows
            for e in t.events
        ]
        if events:
            await session.execute(table_of(AlertEventRow).insert(), events)

    # ---- operators --------------------------------------------------------------------------

    async def acknowledge(
        self,
        ids: Sequence[uuid.UUID],
        actor: str,
        comment: str = "",
        expires: datetime | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> list[uuid.UUID]:
        def step(s: AlertState, now: datetime) -> tuple[AlertState, list[Transition]]:
            return machine.acknowledge(s, actor=actor, comment=comment, expires=expires, now=now)

        return await self._operate(ids, step, session)

    async def unacknowledge(
        self,
        ids: Sequence[uuid.UUID],
        actor: str,
        comment: str = "",
        *,
        session: AsyncSession | None = None,
    ) -> list[uuid.UUID]:
        def step(s: AlertState, now: datetime) -> tuple[AlertState, list[Transition]]:
            return machine.unacknowledge(s, actor=actor, now=now, comment=comment)

        return await self._operate(ids, step, session)

    async def resolve(
        self,
        ids: Sequence[uuid.UUID],
        actor: str,
        comment: str = "",
        *,
        session: AsyncSession | None = None,
    ) -> list[uuid.UUID]:
        def step(s: AlertState, now: datetime) -> tuple[AlertState, list[Transition]]:
            return machine.resolve(s, actor=actor, now=now, comment=comment)

        return await self._operate(ids, step, session)

    async def _operate(
        self, ids: Sequence[uuid.UUID], step: Any, session: AsyncSession | None
    ) -> list[uuid.UUID]:
        if session is None:
            async with self.db.session() as own:
                return await self._operate(ids, step, own)
        now = utcnow()
        rows = {
            r.id: r for r in await session.execute(_ALERTS.select().where(AlertRow.id.in_(ids)))
        }
        missing = [str(i) for i in ids if i not in rows]
        if missing:
            raise NotFoundError(f"no alert {', '.join(missing)}")
        tracked = []
        for alert_id in dict.fromkeys(ids):
            t = self._track(rows[alert_id])
            t.state, t.events = step(t.state, now)
            tracked.append(t)
        await self._update(session, tracked)
        await self._write_events(session, tracked)
        return [t.id for t in tracked]

    # ---- upkeep -----------------------------------------------------------------------------

    async def maintain(
        self, now: datetime | None = None, *, session: AsyncSession | None = None
    ) -> list[uuid.UUID]:
        """Expire acknowledgements; apply and release silences and parent-down suppression.

        Returns the ids of the alerts that changed.
        """
        if session is None:
            async with self.db.session() as own:
                return await self.maintain(now, session=own)
        now = now or utcnow()
        rows = (await session.execute(_ALERTS.select().where(_OPEN))).all()
        if not rows:
            return []
        facts = await _target_facts(session, {r.target_name for r in rows if r.target_name})
        down = await _down_targets(session, {f.parent for f in facts.values() if f.parent})
        silences = await _active_silences(session, now)
        tracked = []
        for row in rows:
            t = self._track(row)
            t.state, t.events = machine.expire_acknowledgement(t.state, now)
            fact = facts.get(t.state.target or "")
            wanted = _suppressor(t.state, fact, silences, down, now)
            t.state, more = machine.apply_suppression(t.state, wanted, now)
            t.events += more
            if t.state != t.original:
                tracked.append(t)
        await self._update(session, tracked)
        await self._write_events(session, tracked)
        return [t.id for t in tracked]


def _rank(row: Row[Any]) -> tuple[bool, datetime]:
    return (row.status != AlertStatus.RESOLVED.value, row.resolved_at or row.last_seen)


def _context(
    alert: NormalizedAlert,
    fact: _TargetFacts | None,
    silences: Sequence[Silence],
    down: Collection[str],
    now: datetime,
) -> Context:
    tags, groups = (fact.tags, fact.groups) if fact else ((), ())
    silence = first_match(silences, alert, tags, groups, now)
    parent = fact.parent if fact and fact.parent in down else None
    return Context(now=now, silenced_by=silence.id if silence else None, parent_down=parent)


def _suppressor(
    state: AlertState,
    fact: _TargetFacts | None,
    silences: Sequence[Silence],
    down: Collection[str],
    now: datetime,
) -> str | None:
    tags, groups = (fact.tags, fact.groups) if fact else ((), ())
    silence = first_match(silences, state, tags, groups, now)
    if silence is not None:
        return f"silence:{silence.id}"
    if state.reachability and fact and fact.parent in down:
        return f"parent:{fact.parent}"
    return None


async def _target_facts(session: AsyncSession, names: Collection[str]) -> dict[str, _TargetFacts]:
    """Tags, static groups and parent name of the named targets (one query each)."""
    if not names:
        return {}
    rows = (
        await session.execute(
            select(TargetRow.id, TargetRow.name, TargetRow.tags, TargetRow.parent_id).where(
                TargetRow.name.in_(list(names))
            )
        )
    ).all()
    if not rows:
        return {}
    ids = [r.id for r in rows]
    parents = {r.parent_id for r in rows if r.parent_id}
    parent_names: dict[uuid.UUID, str] = {}
    if parents:
        found = await session.execute(
            select(TargetRow.id, TargetRow.name).where(TargetRow.id.in_(parents))
        )
        parent_names = {r.id: r.name for r in found}
    groups: dict[uuid.UUID, list[str]] = {}
    members = await session.execute(
        select(GroupMemberRow.target_id, GroupRow.name)
        .join(GroupRow, GroupRow.id == GroupMemberRow.group_id)
        .where(GroupMemberRow.target_id.in_(ids))
    )
    for tid, gname in members:
        groups.setdefault(tid, []).append(gname)
    return {
        r.name: _TargetFacts(
            r.id,
            tuple(r.tags or ()),
            tuple(groups.get(r.id, ())),
            parent_names.get(r.parent_id) if r.parent_id else None,
        )
        for r in rows
    }


async def _down_targets(session: AsyncSession, names: Collection[str]) -> set[str]:
    """Those of ``names`` with an open reachability alert."""
    if not names:
        return set()
    stmt = select(AlertRow.target_name).where(
        and_(_OPEN, AlertRow.reachability.is_(True), AlertRow.target_name.in_(list(names)))
    )
    return {n for n in (await session.execute(stmt)).scalars() if n}


async def _active_silences(session: AsyncSession, now: datetime) -> list[Silence]:
    stmt = (
        select(SilenceRow)
        .where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now)
        .order_by(SilenceRow.created_at, SilenceRow.id)
    )
    silences = [silence_of(r) for r in (await session.execute(stmt)).scalars()]
    return [s for s in silences if s.active(now)]
