"""Alert use cases: the Alerts pane's queries, operator actions, silences, upkeep.

Every state change goes through the one ``AlertManager`` inside this service's unit of
work, so the change, its audit entries and the change counters (topic ``alert``, which
the consoles' change watchers poll) commit together and the ``Changed`` events go out
after the commit. Clients get immutable values only.

The pane reads pages (``page``): filtered and sorted by the database, never the whole
table (see ``alert_queries``).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from opsconductor_desktop.domain.events import Action, Entity
from opsconductor_desktop.domain.silences import Matchers, Silence, Weekly
from opsconductor_desktop.domain.timeutil import ensure_utc, utcnow
from opsconductor_desktop.runtime.alert_context import silence_of
from opsconductor_desktop.runtime.alert_manager import (
    SUBMIT_ATTEMPTS,
    AlertManager,
    SubmitResult,
)
from opsconductor_desktop.services.alert_queries import (
    OPEN,
    SORT_KEYS,
    STATUS_FILTERS,
    AlertQuery,
    order,
    status_terms,
    text_term,
    total_from_counts,
    where,
)
from opsconductor_desktop.services.uow import ServiceContext, unit_of_work
from opsconductor_desktop.store.models import AlertEventRow, AlertRow, SilenceRow, table_of

__all__ = [
    "SORT_KEYS",
    "STATUS_FILTERS",
    "AlertEventInfo",
    "AlertInfo",
    "AlertPage",
    "AlertQuery",
    "AlertService",
    "SilenceInfo",
    "SubmitResult",
]

MAX_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class AlertEventInfo:
    """One transition of an alert."""

    at: datetime
    actor: str
    from_status: AlertStatus | None
    to_status: AlertStatus
    comment: str


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """An alert as the pane and the CLI show it."""

    id: uuid.UUID
    fingerprint: str
    source: str
    key: str
    target: str | None
    severity: Severity
    status: AlertStatus
    summary: str
    details: Mapping[str, Any]
    first_seen: datetime
    last_seen: datetime
    count: int
    ack_by: str | None
    ack_comment: str | None
    ack_expires: datetime | None
    suppressed_by: str | None
    flapping: bool
    resolved_at: datetime | None
    reachability: bool
    version: int
    events: tuple[AlertEventInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page of an ``AlertQuery``: the alerts from ``offset`` on, how many match in all
    (``total``) and the open alerts per severity (``counts``) — each None when not asked."""

    alerts: tuple[AlertInfo, ...]
    offset: int
    total: int | None
    counts: Mapping[Severity, int] | None = None


@dataclass(frozen=True, slots=True)
class SilenceInfo:
    """A stored silence and whether it is in force now."""

    id: uuid.UUID
    silence: Silence
    created_at: datetime
    active: bool

    @property
    def matchers(self) -> Matchers:
        return self.silence.matchers


def _info(row: AlertRow, events: tuple[AlertEventInfo, ...] = ()) -> AlertInfo:
    return AlertInfo(
        id=row.id,
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
        count=row.count,
        ack_by=row.ack_by,
        ack_comment=row.ack_comment,
        ack_expires=row.ack_expires,
        suppressed_by=row.suppressed_by,
        flapping=row.flapping,
        resolved_at=row.resolved_at,
        reachability=row.reachability,
        version=row.version,
        events=events,
    )


_ALERTS = table_of(AlertRow)
#: the columns ``_info_of`` unpacks, by position (a page is read with Core, not the ORM:
#: building ORM instances costs more than the query on a page of 200)
_INFO_COLUMNS = tuple(
    _ALERTS.c[name]
    for name in (
        "id",
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
        "resolved_at",
        "reachability",
        "version",
    )
)
_SEVERITIES = {int(s): s for s in Severity}
_STATUSES = {s.value: s for s in AlertStatus}


def _info_of(row: Sequence[Any]) -> AlertInfo:
    """An ``AlertInfo`` from a row of ``_INFO_COLUMNS``."""
    (
        alert_id,
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
        resolved_at,
        reachability,
        version,
    ) = row
    return AlertInfo(
        alert_id,
        fp,
        source,
        key,
        target,
        _SEVERITIES[severity],
        _STATUSES[status],
        summary,
        dict(details or {}),
        first_seen,
        last_seen,
        count,
        ack_by,
        ack_comment,
        ack_expires,
        suppressed_by,
        bool(flapping),
        resolved_at,
        bool(reachability),
        version,
    )


def _silence_info(row: SilenceRow, now: datetime) -> SilenceInfo:
    silence = silence_of(row)
    return SilenceInfo(row.id, silence, row.created_at, silence.active(now))


async def resolve_ids(
    session: AsyncSession, model: Any, refs: Sequence[str | uuid.UUID]
) -> list[uuid.UUID]:
    """Full UUIDs or short ids (a unique prefix of at least 8 hex digits) → ids."""
    out: list[uuid.UUID] = []
    for ref in refs:
        if isinstance(ref, uuid.UUID):
            out.append(ref)
            continue
        text = ref.strip().lower()
        try:
            out.append(uuid.UUID(text))
            continue
        except ValueError:
            pass
        prefix = text.replace("-", "")
        if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
            raise ValidationError(f"bad id {ref!r}: give the full id or its first 8 hex digits")
        column = model.id
        found = (
            (
                await session.execute(
                    select(column).where(
                        func.replace(cast(column, String), "-", "").like(prefix + "%")
                    )
                )
            )
            .scalars()
            .all()
        )
        if not found:
            raise NotFoundError(f"no {model.__tablename__[:-1]} with id {ref}")
        if len(found) > 1:
            raise ValidationError(f"the id {ref} is ambiguous; give more digits")
        out.append(found[0])
    return out


class AlertService:
    """The alert use cases (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, manager: AlertManager | None = None) -> None:
        self.ctx = ctx
        self.manager = manager or AlertManager(ctx.db)

    # ---- queries ----------------------------------------------------------------------------

    async def list(
        self,
        *,
        status: AlertStatus | str | Sequence[AlertStatus | str] | None = None,
        severity: Severity | str | int | None = None,
        target: str | None = None,
        source: str | None = None,
        text: str | None = None,
        targets: Sequence[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[AlertInfo]:
        """Alerts newest first; ``status="open"`` means every status but resolved;
        ``severity`` is a minimum level; ``targets`` keeps the alerts of those targets."""
        stmt = select(*_INFO_COLUMNS).where(*status_terms(status))
        if severity is not None:
            stmt = stmt.where(AlertRow.severity >= int(Severity.parse(severity)))
        if target:
            stmt = stmt.where(AlertRow.target_name == target)
        if targets is not None:
            stmt = stmt.where(AlertRow.target_name.in_(list(targets)))
        if source:
            stmt = stmt.where(AlertRow.source == source)
        if text:
            stmt = stmt.where(text_term(text, self.ctx.db.dialect))
        limit = max(1, min(limit, MAX_LIMIT))
        stmt = stmt.order_by(AlertRow.last_seen.desc(), AlertRow.id).limit(limit).offset(offset)
        async with self.ctx.db.session() as session:
            return [_info_of(r) for r in (await session.execute(stmt)).all()]

    async def page(
        self,
        query: AlertQuery,
        *,
        offset: int = 0,
        limit: int = 200,
        total: bool = True,
        counts: bool = False,
    ) -> AlertPage:
        """The alerts of ``query`` from ``offset`` (at most ``limit``, up to ``MAX_LIMIT``),
        filtered and sorted by the database; with the number matching when ``total``, and
        the open alerts per severity when ``counts`` (all read in one transaction)."""
        limit = max(1, min(limit, MAX_LIMIT))
        offset = max(0, offset)
        dialect = self.ctx.db.dialect
        terms = where(query, dialect)
        ordered = order(query, dialect)
        async with self.ctx.db.session() as session:
            per_severity = await _open_counts(session) if counts else None
            if query.text.strip() and total and offset == 0:
                rows, hits = await _scanned_page(session, terms, ordered, limit)
                return AlertPage(rows, 0, hits, per_severity)
            stmt = select(*_INFO_COLUMNS).where(*terms).order_by(*ordered)
            stmt = stmt.limit(limit).offset(offset)
            rows = tuple(_info_of(r) for r in (await session.execute(stmt)).all())
            matching: int | None = None
            if total:
                if offset == 0 and len(rows) < limit:
                    matching = len(rows)  # everything fits in this page: no count needed
                elif per_severity is not None:
                    matching = total_from_counts(query, per_severity)
                if matching is None:
                    count = select(func.count()).select_from(AlertRow).where(*terms)
                    matching = int((await session.execute(count)).scalar_one())
        return AlertPage(rows, offset, matching, per_severity)

    async def count(self, query: AlertQuery) -> int:
        """How many alerts ``query`` matches."""
        terms = where(query, self.ctx.db.dialect)
        stmt = select(func.count()).select_from(AlertRow).where(*terms)
        async with self.ctx.db.session() as session:
            return int((await session.execute(stmt)).scalar_one())

    async def sources(self) -> builtins.list[str]:
        """The sources that have raised alerts (for the pane's source filter)."""
        stmt = select(AlertRow.source).distinct().order_by(AlertRow.source)
        async with self.ctx.db.session() as session:
            return [s for s in (await session.execute(stmt)).scalars() if s]

    async def counts(self) -> dict[Severity, int]:
        """Open alerts per severity (every severity present, zero when none)."""
        async with self.ctx.db.session() as session:
            return await _open_counts(session)

    async def get(self, ref: str | uuid.UUID) -> AlertInfo:
        """One alert with its events, oldest first."""
        async with self.ctx.db.session() as session:
            (alert_id,) = await resolve_ids(session, AlertRow, [ref])
            row = await session.get(AlertRow, alert_id)
            if row is None:
                raise NotFoundError(f"no alert with id {ref}")
            events = (
                await session.execute(
                    select(AlertEventRow)
                    .where(AlertEventRow.alert_id == alert_id)
                    .order_by(AlertEventRow.at, AlertEventRow.id)
                )
            ).scalars()
            return _info(
                row,
                tuple(
                    AlertEventInfo(
                        e.at,
                        e.actor,
                        AlertStatus(e.from_status) if e.from_status else None,
                        AlertStatus(e.to_status),
                        e.comment,
                    )
                    for e in events
                ),
            )

    # ---- changes ----------------------------------------------------------------------------

    async def submit(
        self, batch: Sequence[NormalizedAlert], *, now: datetime | None = None
    ) -> SubmitResult:
        """Submit alerts from a source (no audit entry per alert: events carry the trail).

        ``now`` is when the source saw them (default: now). A batch that meets a
        concurrent change to one of its alerts is applied again. The ``alert`` change
        counter moves, so every console's Alerts pane refreshes.
        """
        at = ensure_utc(now) if now is not None else None
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                async with unit_of_work(self.ctx) as tx:
                    result = await self.manager.submit_in(tx.session, batch, now=at)
                    if result.ids:
                        tx.changed(Entity.ALERT, Action.UPDATED, result.ids)
                return result
            except ConflictError:
                if attempt == SUBMIT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def acknowledge(
        self,
        refs: Sequence[str | uuid.UUID],
        *,
        comment: str = "",
        expires: datetime | None = None,
    ) -> builtins.list[uuid.UUID]:
        if expires is not None:
            expires = ensure_utc(expires)
        async with unit_of_work(self.ctx) as tx:
            ids = await resolve_ids(tx.session, AlertRow, refs)
            done = await self.manager.acknowledge(
                ids, self.ctx.actor, comment, expires, session=tx.session
            )
            self._audit(tx, "acknowledge", done, comment)
        return done

    async def unacknowledge(
        self, refs: Sequence[str | uuid.UUID], *, comment: str = ""
    ) -> builtins.list[uuid.UUID]:
        async with unit_of_work(self.ctx) as tx:
            ids = await resolve_ids(tx.session, AlertRow, refs)
            done = await self.manager.unacknowledge(
                ids, self.ctx.actor, comment, session=tx.session
            )
            self._audit(tx, "unacknowledge", done, comment)
        return done

    async def resolve(
        self, refs: Sequence[str | uuid.UUID], *, comment: str = ""
    ) -> builtins.list[uuid.UUID]:
        async with unit_of_work(self.ctx) as tx:
            ids = await resolve_ids(tx.session, AlertRow, refs)
            done = await self.manager.resolve(ids, self.ctx.actor, comment, session=tx.session)
            self._audit(tx, "resolve", done, comment)
        return done

    async def maintain(self, now: datetime | None = None) -> builtins.list[uuid.UUID]:
        """Expire acknowledgements, apply and release silences (the dispatcher calls this)."""
        async with unit_of_work(self.ctx) as tx:
            changed = await self.manager.maintain(now, session=tx.session)
            if changed:
                tx.changed(Entity.ALERT, Action.UPDATED, changed)
        return changed

    @staticmethod
    def _audit(tx: Any, action: str, ids: Sequence[uuid.UUID], comment: str) -> None:
        for alert_id in ids:
            tx.audit(action, Entity.ALERT, alert_id, comment or action)
        tx.changed(Entity.ALERT, Action.UPDATED, ids)

    # ---- silences ---------------------------------------------------------------------------

    async def silences(self, *, include_expired: bool = False) -> builtins.list[SilenceInfo]:
        now = utcnow()
        stmt = select(SilenceRow).order_by(SilenceRow.starts_at, SilenceRow.id)
        if not include_expired:
            stmt = stmt.where(SilenceRow.ends_at > now)
        async with self.ctx.db.session() as session:
            return [_silence_info(r, now) for r in (await session.execute(stmt)).scalars()]

    async def add_silence(
        self,
        matchers: Matchers,
        *,
        starts_at: datetime | None,
        ends_at: datetime,
        weekly: Weekly | None = None,
        comment: str,
    ) -> SilenceInfo:
        """Create a silence; it applies to open alerts at once (and to new ones as they come)."""
        (info,) = await self.add_silences(
            [matchers], starts_at=starts_at, ends_at=ends_at, weekly=weekly, comment=comment
        )
        return info

    async def add_silences(
        self,
        matchers: Sequence[Matchers],
        *,
        starts_at: datetime | None,
        ends_at: datetime,
        weekly: Weekly | None = None,
        comment: str,
    ) -> builtins.list[SilenceInfo]:
        """Create several silences with the same span and comment, all or none (the pane
        silences alerts of several targets with one silence per target)."""
        if not comment.strip():
            raise ValidationError("a silence needs a comment saying why")
        if not matchers:
            raise ValidationError("no silence to add: give at least one set of matchers")
        now = utcnow()
        start = ensure_utc(starts_at) if starts_at else now
        made: builtins.list[tuple[SilenceInfo, dict[str, Any]]] = []
        for m in matchers:
            silence_id = uuid.uuid4()
            silence = Silence(
                str(silence_id), m, start, ensure_utc(ends_at), weekly, self.ctx.actor, comment
            )
            if silence.ends_at <= now:
                raise ValidationError("the silence would end in the past")
            values = {
                "id": silence_id,
                "matchers": m.to_json(),
                "starts_at": silence.starts_at,
                "ends_at": silence.ends_at,
                "weekly": weekly.to_json() if weekly else None,
                "author": self.ctx.actor,
                "comment": comment,
                "created_at": now,
                "version": 1,
            }
            made.append((SilenceInfo(silence_id, silence, now, silence.active(now)), values))
        async with unit_of_work(self.ctx) as tx:
            await tx.session.execute(table_of(SilenceRow).insert(), [v for _, v in made])
            for info, values in made:
                tx.audit(
                    "create",
                    Entity.SILENCE,
                    info.id,
                    info.matchers.describe(),
                    after=_jsonable(values),
                )
            tx.changed(Entity.SILENCE, Action.CREATED, [info.id for info, _ in made])
            changed = await self.manager.maintain(now, session=tx.session)
            if changed:
                tx.changed(Entity.ALERT, Action.UPDATED, changed)
        return [info for info, _ in made]

    async def remove_silence(self, ref: str | uuid.UUID) -> None:
        """Delete a silence; the alerts it suppressed are released at once."""
        async with unit_of_work(self.ctx) as tx:
            (silence_id,) = await resolve_ids(tx.session, SilenceRow, [ref])
            result = await tx.session.execute(delete(SilenceRow).where(SilenceRow.id == silence_id))
            if not getattr(result, "rowcount", 1):
                raise NotFoundError(f"no silence with id {ref}")
            tx.audit("delete", Entity.SILENCE, silence_id, "silence removed")
            tx.changed(Entity.SILENCE, Action.DELETED, [silence_id])
            changed = await self.manager.maintain(session=tx.session)
            if changed:
                tx.changed(Entity.ALERT, Action.UPDATED, changed)


async def _scanned_page(
    session: AsyncSession, terms: Sequence[Any], ordered: Sequence[Any], limit: int
) -> tuple[tuple[AlertInfo, ...], int]:
    """A first page and the number matching, from one scan of the table.

    A text filter can use no index: counting the matches and fetching the page would be
    two scans. Here one statement returns the page's ids with ``count(*) OVER ()`` (the
    window is computed over every match before the limit applies), and a second reads
    those rows by primary key.
    """
    hits = select(AlertRow.id, func.count().over()).where(*terms).order_by(*ordered)
    found = (await session.execute(hits.limit(limit))).all()
    if not found:
        return (), 0
    ids = [alert_id for alert_id, _ in found]
    stmt = select(*_INFO_COLUMNS).where(AlertRow.id.in_(ids))
    by_id = {info.id: info for info in map(_info_of, (await session.execute(stmt)).all())}
    return tuple(by_id[i] for i in ids if i in by_id), int(found[0][1])


async def _open_counts(session: AsyncSession) -> dict[Severity, int]:
    stmt = select(AlertRow.severity, func.count()).where(OPEN).group_by(AlertRow.severity)
    out: dict[Severity, int] = {s: 0 for s in Severity if s is not Severity.CLEAR}
    for severity, n in (await session.execute(stmt)).all():
        out[_SEVERITIES[severity]] = int(n)
    return out


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v)
        for k, v in values.items()
    }
