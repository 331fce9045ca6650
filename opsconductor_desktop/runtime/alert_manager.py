"""The alert manager: the only code that writes alerts, through ``domain.alerts``.

Every source submits batches of ``NormalizedAlert``; operators acknowledge, unacknowledge
and resolve; ``maintain`` (called by the dispatcher) expires acknowledgements and applies
or releases silences and parent-down suppression. Each call is one transaction with bulk
statements: one query loads the alerts of a whole batch and one the facts of its targets;
one statement updates the changed alerts (checking ``version``), then one inserts the new
ones (after the updates, so that a problem cleared and raised again within a batch has its
old alert resolved first), one writes the events. Those writes are DBAPI ``executemany``
calls of statements compiled once (``_Bulk``), which keeps the cost per alert low.

Two consoles may open the same problem at once: the partial unique index on
``fingerprint`` (while not resolved) refuses the second insert, and the loser applies its
submission to the winner's row instead.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, bindparam, case, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from opsconductor_desktop.domain import alerts as machine
from opsconductor_desktop.domain.alerts import (
    AlertState,
    AlertStatus,
    NormalizedAlert,
    Severity,
    Transition,
)
from opsconductor_desktop.domain.errors import ConflictError, NotFoundError
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.alert_context import (
    active_silences,
    context,
    down_targets,
    suppressor,
    target_facts,
)
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import (
    AlertEventRow,
    AlertRow,
    table_of,
)

log = logging.getLogger(__name__)

#: a problem that comes back within this time continues the flap history of its last alert
FLAP_MEMORY = timedelta(hours=1)
#: fingerprints applied between two yields to the event loop: the state machine costs
#: 50-150 µs per alert, so a 500-alert batch would otherwise hold the loop for tens of ms
YIELD_EVERY = 64
#: a batch that meets a concurrent change (stale version) is applied again, this many times
SUBMIT_ATTEMPTS = 3
_ALERTS = table_of(AlertRow)
_OPEN = _ALERTS.c.status != AlertStatus.RESOLVED.value
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


#: the columns the manager reads, in the order ``state_of`` unpacks them (by position: a
#: named lookup on a ``Row`` costs more than the rest of the conversion)
_STATE_COLUMNS = (
    "id",
    "version",
    "target_id",
    "fingerprint",
    "source",
    "key",
    "target_name",
    "severity",
    "status",
    "summary",
    "details",
    "first_seen",
    "last_seen",
    "count",
    "ack_by",
    "ack_comment",
    "ack_expires",
    "suppressed_by",
    "flapping",
    "history",
    "resolved_at",
    "reachability",
)
_SELECT_STATE = select(*(_ALERTS.c[name] for name in _STATE_COLUMNS))
_SEVERITIES = {int(s): s for s in Severity}
_STATUSES = {s.value: s for s in AlertStatus}


def state_of(row: Sequence[Any]) -> AlertState:
    """The state machine's view of a stored alert (a row of ``_SELECT_STATE``)."""
    (
        _id,
        _version,
        _target_id,
        fp,
        source,
        key,
        target,
        severity,
        status,
        summary,
        details,
        first_seen,
        last_seen,
        count,
        ack_by,
        ack_comment,
        ack_expires,
        suppressed_by,
        flapping,
        history,
        resolved_at,
        reachability,
    ) = row
    return AlertState(
        fingerprint=fp,
        source=source,
        key=key,
        target=target,
        severity=_SEVERITIES[severity],
        status=_STATUSES[status],
        summary=summary,
        details=dict(details or {}),
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        ack_by=ack_by,
        ack_comment=ack_comment,
        ack_expires=ack_expires,
        suppressed_by=suppressed_by,
        flapping=flapping,
        history=tuple(map(bool, history or ())),
        resolved_at=resolved_at,
        reachability=reachability,
    )


def _values(state: AlertState) -> tuple[Any, ...]:
    """``state`` as the values of ``_UPDATED``, in that order."""
    return (
        int(state.severity),
        state.status.value,
        state.summary,
        dict(state.details),
        state.last_seen,
        state.count,
        state.ack_by,
        state.ack_comment,
        state.ack_expires,
        state.suppressed_by,
        state.flapping,
        state.history,
        state.resolved_at,
    )


_SEEN = ("last_seen", "count", "history", "flapping")


def _seen_values(state: AlertState) -> tuple[Any, ...]:
    """``state`` as the values of ``_SEEN``, in that order."""
    return (state.last_seen, state.count, state.history, state.flapping)


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


_INSERTED = (
    "id",
    "fingerprint",
    "source",
    "key",
    "target_id",
    "target_name",
    "first_seen",
    "reachability",
    "version",
    *_UPDATED,
)


def _insert_values(t: _Tracked) -> tuple[Any, ...]:
    """A new alert as the values of ``_INSERTED``, in that order."""
    s = t.state
    head = (t.id, s.fingerprint, s.source, s.key, t.target_id, s.target, s.first_seen)
    return (*head, s.reachability, 1, *_values(s))


_EVENT_COLUMNS = ("id", "alert_id", "at", "actor", "from_status", "to_status", "comment")
#: columns whose values repeat across the rows of a bulk statement: ``now`` of the batch,
#: and the few histories (tuples of bools) an alert can have
_REPEATING = frozenset({"first_seen", "last_seen", "history", "at"})


def _event_values(alert_id: uuid.UUID, e: Transition) -> tuple[Any, ...]:
    """A transition as the values of ``_EVENT_COLUMNS``, in that order."""
    from_status = e.from_status.value if e.from_status else None
    return (uuid.uuid4(), alert_id, e.at, e.actor, from_status, e.to_status.value, e.comment)


class _Bulk:
    """A Core statement compiled once per dialect and run as one DBAPI ``executemany``.

    SQLAlchemy's executemany builds a parameter dictionary per row and runs every bind
    processor on it, and its INSERT with RETURNING renders one statement text per batch
    size; for the hundreds of rows of a busy source's batch that was most of the cost of a
    submission. Here the statement text never changes (the drivers prepare it once), each
    column's bind processor is the dialect's own (so the stored form is the same), and for
    the ``_REPEATING`` columns it runs once per distinct value of a call. Every column
    must be given: no Python-side defaults are applied.
    """

    def __init__(self, stmt: UpdateBase, names: tuple[str, ...], dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(names))
        if set(compiled.binds) != set(names):
            raise AssertionError(f"bulk statement binds {sorted(compiled.binds)}, not {names}")
        self.sql = str(compiled)
        types = [compiled.binds[n].type for n in names]
        self.processors = [t.dialect_impl(dialect).bind_processor(dialect) for t in types]
        self.memoize = [n in _REPEATING for n in names]
        self.shape: Callable[[list[Any]], Any]
        if not compiled.positional:  # psycopg's "%(name)s" takes mappings
            self.shape = lambda row: dict(zip(names, row, strict=True))
        else:  # SQLite's "?" takes tuples in statement order (a name may come twice)
            order = [names.index(n) for n in compiled.positiontup or ()]
            pick = itemgetter(*order)
            self.shape = tuple if order == list(range(len(names))) else pick

    async def execute(self, session: AsyncSession, rows: Iterable[Sequence[Any]]) -> int:
        """Run once per row (values in the order of ``names``); the rows it changed, or -1."""
        convert = [
            _memoized(process) if process is not None and memoize else process
            for process, memoize in zip(self.processors, self.memoize, strict=True)
        ]
        params = [
            self.shape([v if c is None else c(v) for v, c in zip(row, convert, strict=True)])
            for row in rows
        ]
        if not params:
            return 0
        connection = await session.connection()
        result = await connection.exec_driver_sql(self.sql, params)
        return int(getattr(result, "rowcount", -1))


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` run once per distinct (hashable) value."""
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return memo[value]
        except KeyError:
            done = memo[value] = process(value)
            return done

    return convert


def _update_alerts(columns: tuple[str, ...]) -> UpdateBase:
    """``UPDATE alerts SET <columns>, version = version + 1 WHERE id = ? AND version = ?``"""
    return (
        _ALERTS.update()
        .where(_ALERTS.c.id == bindparam("b_id"), _ALERTS.c.version == bindparam("b_version"))
        .values(
            version=_ALERTS.c.version + literal_column("1"),
            **{n: bindparam(n) for n in columns},
        )
    )


def _insert_alerts(dialect: Dialect) -> UpdateBase:
    """``INSERT ... ON CONFLICT DO NOTHING``: the partial unique index on the open
    fingerprint skips the rows another console opened first, without aborting the
    transaction (no savepoint: pysqlite would commit at its release)."""
    insert = sqlite_insert if dialect.name == "sqlite" else pg_insert
    return insert(_ALERTS).on_conflict_do_nothing()


class AlertManager:
    """Owns every alert state change; see the module docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._bulks: dict[tuple[Dialect, str, tuple[str, ...]], _Bulk] = {}

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
        # updates first: a problem cleared and raised again in one batch resolves its old
        # alert before the new one is opened, which the open-fingerprint index requires
        await self._update(session, [t for t in tracked if not t.new])
        lost = await self._insert(session, [t for t in tracked if t.new])
        if lost:  # another console opened these first: apply ours to their rows
            if any(not t.new and t.state.fingerprint in lost for t in tracked):
                raise ConflictError(  # ours are partly written already: start again
                    "alerts were changed concurrently; submit again", expected=0, actual=None
                )
            tracked = [t for t in tracked if t.state.fingerprint not in lost]
            retried = await self._apply(session, {fp: by_fp[fp] for fp in lost}, now)
            await self._update(session, [t for t in retried if not t.new])
            if await self._insert(session, [t for t in retried if t.new]):
                raise ConflictError(
                    "alerts were opened concurrently twice; submit again", expected=0, actual=None
                )
            tracked += retried
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
        facts = await target_facts(session, names)
        parents = {f.parent for f in facts.values() if f.parent}
        down = await down_targets(session, parents)
        # a parent reported down in this same batch (one poll round) counts as down already
        down |= {
            a.target
            for alerts in by_fp.values()
            for a in alerts
            if a.reachability and not a.clear and a.target in parents
        }
        silences = await active_silences(session, now)
        out: list[_Tracked] = []
        listed: set[uuid.UUID] = set()
        for n, (fp, alerts) in enumerate(by_fp.items(), 1):
            if n % YIELD_EVERY == 0:  # let the loop breathe (see YIELD_EVERY)
                await asyncio.sleep(0)
            row = current.get(fp)
            t = self._track(row) if row is not None else None
            for alert in alerts:
                fact = facts.get(alert.target or "")
                ctx = context(alert, fact, silences, down, now)
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
    def _track(row: Sequence[Any]) -> _Tracked:
        state = state_of(row)
        return _Tracked(row[0], state, row[1], row[2], original=state)

    async def _load_by_fingerprint(
        self, session: AsyncSession, fps: Collection[str], now: datetime
    ) -> dict[str, Row[Any]]:
        """The open alert per fingerprint, else the most recently resolved one (if recent).

        The database picks the one row per fingerprint (a window function), so only those
        rows are decoded: a flapping source has dozens of recently resolved alerts per
        fingerprint, and decoding them all was most of a flap storm's time on the loop.
        """
        ranked = select(
            *(_ALERTS.c[name] for name in _STATE_COLUMNS),
            func.row_number()
            .over(
                partition_by=_ALERTS.c.fingerprint,
                order_by=(
                    case((_OPEN, 1), else_=0).desc(),
                    func.coalesce(_ALERTS.c.resolved_at, _ALERTS.c.last_seen).desc(),
                ),
            )
            .label("pick"),
        ).where(
            _ALERTS.c.fingerprint.in_(list(fps)),
            or_(_OPEN, _ALERTS.c.resolved_at >= now - FLAP_MEMORY),
        )
        sub = ranked.subquery()
        stmt = select(*(sub.c[name] for name in _STATE_COLUMNS)).where(sub.c.pick == 1)
        return {row[3]: row for row in await session.execute(stmt)}

    async def _insert(self, session: AsyncSession, rows: list[_Tracked]) -> set[str]:
        """Insert new alerts; the fingerprints another console opened first are returned.

        The partial unique index refuses a second open alert per fingerprint and ``ON
        CONFLICT DO NOTHING`` skips it; when fewer rows went in than were given, one query
        says which.
        """
        if not rows:
            return set()
        dialect = session.get_bind().dialect
        bulk = self._bulk(dialect, "insert", _INSERTED, lambda: _insert_alerts(dialect))
        count = await bulk.execute(session, [_insert_values(t) for t in rows])
        if count == len(rows):
            return set()
        found = await session.execute(
            select(_ALERTS.c.id).where(_ALERTS.c.id.in_([t.id for t in rows]))
        )
        inserted = set(found.scalars())
        lost = {t.state.fingerprint for t in rows if t.id not in inserted}
        if lost:
            log.info("%d alert(s) were opened by another console first", len(lost))
        return lost

    def _bulk(
        self, dialect: Dialect, kind: str, names: tuple[str, ...], build: Callable[[], UpdateBase]
    ) -> _Bulk:
        """The compiled ``_Bulk`` for a statement, made on first use per dialect."""
        key = (dialect, kind, names)
        bulk = self._bulks.get(key)
        if bulk is None:
            bulk = self._bulks[key] = _Bulk(build(), names, dialect)
        return bulk

    async def _update(self, session: AsyncSession, rows: list[_Tracked]) -> None:
        """Write changed alerts, each only if its version is still the one read.

        A repeat of an open problem changes only the "seen" columns: those rows go in a
        narrower statement (most of a busy source's traffic), the rest in the full one.
        """
        bumped: list[_Tracked] = []
        full: list[_Tracked] = []
        for t in rows:
            if t.state != t.original:
                (bumped if _only_seen(t) else full).append(t)
        await self._execute_update(session, bumped, _SEEN, _seen_values)
        await self._execute_update(session, full, _UPDATED, _values)

    async def _execute_update(
        self,
        session: AsyncSession,
        rows: list[_Tracked],
        columns: tuple[str, ...],
        values: Callable[[AlertState], tuple[Any, ...]],
    ) -> None:
        if not rows:
            return
        dialect = session.get_bind().dialect
        names = ("b_id", "b_version", *columns)
        bulk = self._bulk(dialect, "update", names, lambda: _update_alerts(columns))
        params = [(t.id, t.version, *values(t.state)) for t in rows]
        count = await bulk.execute(session, params)
        if dialect.supports_sane_multi_rowcount and count not in (-1, len(params)):
            raise ConflictError(
                "alerts changed in another console meanwhile; try again",
                expected=len(params),
                actual=count,
            )

    async def _write_events(self, session: AsyncSession, rows: Iterable[_Tracked]) -> None:
        events = [_event_values(t.id, e) for t in rows for e in t.events]
        if events:
            dialect = session.get_bind().dialect
            bulk = self._bulk(dialect, "events", _EVENT_COLUMNS, table_of(AlertEventRow).insert)
            await bulk.execute(session, events)

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
        rows = {r[0]: r for r in await session.execute(_SELECT_STATE.where(_ALERTS.c.id.in_(ids)))}
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
        rows = (await session.execute(_SELECT_STATE.where(_OPEN))).all()
        if not rows:
            return []
        facts = await target_facts(session, {r.target_name for r in rows if r.target_name})
        down = await down_targets(session, {f.parent for f in facts.values() if f.parent})
        silences = await active_silences(session, now)
        tracked = []
        for row in rows:
            t = self._track(row)
            t.state, t.events = machine.expire_acknowledgement(t.state, now)
            fact = facts.get(t.state.target or "")
            wanted = suppressor(t.state, fact, silences, down, now)
            t.state, more = machine.apply_suppression(t.state, wanted, now)
            t.events += more
            if t.state != t.original:
                tracked.append(t)
        await self._update(session, tracked)
        await self._write_events(session, tracked)
        return [t.id for t in tracked]
