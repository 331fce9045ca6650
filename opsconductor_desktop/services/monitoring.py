"""Monitoring use cases: monitor and rule definitions, YAML import, and the stored metrics.

Definitions are stored as the validated documents (``domain.monitors.parse_monitor``,
``domain.thresholds.parse_rule``), each save audited. A YAML file may hold the sections
``monitors:``, ``rules:`` and ``silences:`` (or be a bare list for one of them); errors
name the file, the item's line and the field::

    monitors:
      - name: core-ping
        kind: reachability
        method: icmp
        interval: 30
        select: {groups: [core]}
    rules:
      - name: cpu-high
        metric: cpuLoad
        op: ">"
        threshold: 90
        clear: 80
        for: 5m
        severity: major
    silences:
      - matchers: {group: lab}
        duration: 30d
        weekly: "sat,sun 00:00 24h"
        comment: lab is rebuilt at weekends

Queries serve the Graphs pane and the target details: the series of a target, points over
a range (raw samples, or five-minute / hourly rollups), latest values, check states.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy import and_, delete, func, select

from opsconductor_desktop.domain.errors import NotFoundError, ValidationError
from opsconductor_desktop.domain.events import Action, Entity
from opsconductor_desktop.domain.metrics import ROLLUP_SECONDS, Bucket
from opsconductor_desktop.domain.monitors import Monitor, parse_monitor
from opsconductor_desktop.domain.silences import Matchers, Weekly, parse_duration
from opsconductor_desktop.domain.thresholds import AlertRule, parse_rule
from opsconductor_desktop.domain.timeutil import ensure_utc, utcnow
from opsconductor_desktop.runtime.alert_manager import AlertManager
from opsconductor_desktop.services.alert_queries import OPEN
from opsconductor_desktop.services.uow import ServiceContext, Transaction, unit_of_work
from opsconductor_desktop.store.models import (
    AlertRow,
    AlertRuleRow,
    CheckStateRow,
    MonitorRow,
    RollupRow,
    SampleRow,
    SeriesRow,
    TargetRow,
)

Resolution = Literal["auto", "raw", "5m", "1h"]
RAW_LIMIT_SPAN = timedelta(hours=36)  # "auto" reads raw samples up to this span
HOUR_SPAN = timedelta(days=8)  # ... five-minute rollups up to this, hourly beyond
MAX_FILE_BYTES = 4 << 20
SECTIONS = ("monitors", "rules", "silences")


@dataclass(frozen=True, slots=True)
class MonitorInfo:
    id: uuid.UUID
    monitor: Monitor
    updated_at: datetime
    version: int

    @property
    def name(self) -> str:
        return self.monitor.name


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: uuid.UUID
    rule: AlertRule
    updated_at: datetime
    version: int

    @property
    def name(self) -> str:
        return self.rule.name


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    target: str
    series: str
    monitor: str
    last_at: datetime
    last_value: float


@dataclass(frozen=True, slots=True)
class CheckStateInfo:
    monitor: str
    target: str
    ok: bool
    last_at: datetime
    last_ok_at: datetime | None
    failures: int
    duration_ms: float
    error: str


@dataclass(frozen=True, slots=True)
class Points:
    """A series over a range: times (epoch seconds, UTC) and values; for rollups also the
    min and max of each bucket (empty for raw samples)."""

    target: str
    series: str
    resolution: str
    ts: tuple[float, ...]
    values: tuple[float, ...]
    minimum: tuple[float, ...] = ()
    maximum: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class SilenceSpec:
    """A silence document from a YAML file, validated."""

    matchers: Matchers
    starts_at: datetime | None
    ends_at: datetime
    weekly: Weekly | None
    comment: str


@dataclass
class Documents:
    """The validated items of a monitoring YAML file."""

    monitors: list[Monitor] = field(default_factory=list)
    rules: list[AlertRule] = field(default_factory=list)
    silences: list[SilenceSpec] = field(default_factory=list)


# ---- YAML files ------------------------------------------------------------------------


def _lines(node: yaml.Node | None) -> dict[str, list[int]]:
    """Line numbers (1-based) of the items of each section, from the composed YAML."""
    out: dict[str, list[int]] = {}
    if isinstance(node, yaml.SequenceNode):
        out[""] = [item.start_mark.line + 1 for item in node.value]
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode):
                out[str(key.value)] = [item.start_mark.line + 1 for item in value.value]
    return out


def parse_silence(data: Any, now: datetime | None = None) -> SilenceSpec:
    if not isinstance(data, Mapping):
        raise ValidationError("a silence is a mapping with matchers, start/end and a comment")
    unknown = set(data) - {"matchers", "starts", "ends", "duration", "weekly", "comment"}
    if unknown:
        raise ValidationError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if not isinstance(data.get("matchers"), Mapping):
        raise ValidationError(
            "matchers: a mapping of target, group, tag, source, severity, key_regex, summary_regex"
        )
    matchers = Matchers.from_json(data["matchers"])
    now = now or utcnow()
    starts = _when(data.get("starts"), "starts") if data.get("starts") else None
    if data.get("ends"):
        ends = _when(data["ends"], "ends")
    elif data.get("duration"):
        ends = (starts or now) + parse_duration(str(data["duration"]))
    else:
        raise ValidationError("a silence needs ends or duration")
    weekly = Weekly.parse(str(data["weekly"])) if data.get("weekly") else None
    comment = str(data.get("comment") or "").strip()
    if not comment:
        raise ValidationError("comment: a silence needs a comment saying why")
    return SilenceSpec(matchers, starts, ends, weekly, comment)


def _when(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(f"{where}: not an ISO date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValidationError(f"{where}: give a time zone (e.g. 2026-12-01T22:00:00+00:00)")
    return ensure_utc(moment)


async def _hourly(session: Any, where: Sequence[Any], limit: int) -> list[Bucket]:
    """Hourly buckets folded from the five-minute rollups by the database (weighted
    averages), so a month of a series is 720 rows to decode, not 8,640 to fold on the loop.
    The hour is UTC on both dialects (PostgreSQL's ``date_trunc`` would use the session's
    time zone; SQLite stores UTC wall time as text)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    hour: Any = (
        func.substr(RollupRow.bucket, 1, 13)
        if sqlite
        else func.date_trunc("hour", func.timezone("UTC", RollupRow.bucket))
    )
    weight = func.sum(RollupRow.count)
    stmt = (
        select(
            hour,
            func.min(RollupRow.minimum),
            func.sum(RollupRow.average * RollupRow.count) / weight,
            func.max(RollupRow.maximum),
            weight,
        )
        .where(*where)
        .group_by(hour)
        .having(weight > 0)
        .order_by(hour)
        .limit(limit)
    )
    out = []
    for key, lo, avg, hi, n in await session.execute(stmt):
        start = (
            datetime.strptime(key, "%Y-%m-%d %H").replace(tzinfo=UTC)
            if sqlite
            else key.replace(tzinfo=UTC)
        )
        out.append(Bucket(start, 3600, float(lo), float(avg), float(hi), int(n)))
    return out


def _raised_by(entity: Entity, name: str) -> Any:
    """The alerts a monitor (its reachability alerts) or a rule (``rule:series``) raises."""
    if entity is Entity.MONITOR:
        return and_(AlertRow.source == "reachability", AlertRow.key == name)
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return and_(AlertRow.source == "rule", AlertRow.key.like(f"{escaped}:%", escape="\\"))


def load_documents(text: str, source: str = "<stdin>", *, bare: str = "monitors") -> Documents:
    """Validate a monitoring YAML document; a bare list is read as the ``bare`` section.

    Every problem raises ``ValidationError`` naming ``source``, the line and the field.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(f"{where}: YAML error: {problem}") from None
    lines = _lines(node)
    if data is None:
        data = {}
    if isinstance(data, list):
        data, lines = {bare: data}, {bare: lines.get("", [])}
    if not isinstance(data, Mapping):
        raise ValidationError(f"{source}: expected the sections {', '.join(SECTIONS)}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ValidationError(
            f"{source}: unknown section(s) {', '.join(sorted(map(str, unknown)))}; "
            f"expected {', '.join(SECTIONS)}"
        )
    docs = Documents()
    parsers: dict[str, Any] = {
        "monitors": (parse_monitor, docs.monitors),
        "rules": (parse_rule, docs.rules),
        "silences": (parse_silence, docs.silences),
    }
    for section, (parse, out) in parsers.items():
        items = data.get(section) or []
        if not isinstance(items, list):
            raise ValidationError(f"{source}: {section} must be a list")
        seen: set[str] = set()
        for i, item in enumerate(items):
            line = lines.get(section, [])[i] if i < len(lines.get(section, [])) else None
            where = f"{source}:{line}" if line else source
            try:
                parsed = parse(item)
            except ValidationError as exc:
                raise ValidationError(f"{where}: {section}[{i}]: {exc}") from None
            name = getattr(parsed, "name", None)
            if name is not None:
                if name in seen:
                    raise ValidationError(f"{where}: {section}[{i}]: duplicate name {name!r}")
                seen.add(name)
            out.append(parsed)
    return docs


def load_file(path: Path, *, bare: str = "monitors") -> Documents:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValidationError(f"{path}: {size} bytes is too large for a monitoring file")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: not UTF-8 text") from None
    return load_documents(text, str(path), bare=bare)


# ---- service ---------------------------------------------------------------------------


def _monitor_info(row: MonitorRow) -> MonitorInfo:
    return MonitorInfo(row.id, parse_monitor(row.document), row.updated_at, row.version)


def _rule_info(row: AlertRuleRow) -> RuleInfo:
    return RuleInfo(row.id, parse_rule(row.document), row.updated_at, row.version)


def _document(parsed: Monitor | AlertRule) -> dict[str, Any]:
    doc = dict(parsed.source)
    doc.setdefault("name", parsed.name)
    return doc


class MonitoringService:
    """See the module docstring."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- monitors -------------------------------------------------------------------

    async def monitors(self) -> builtins.list[MonitorInfo]:
        async with self.ctx.db.session() as s:
            rows = (await s.scalars(select(MonitorRow).order_by(MonitorRow.name))).all()
            return [_monitor_info(r) for r in rows]

    async def get_monitor(self, name: str) -> MonitorInfo:
        async with self.ctx.db.session() as s:
            row = await s.scalar(select(MonitorRow).where(MonitorRow.name == name))
            if row is None:
                raise NotFoundError(f"no monitor named {name!r}")
            return _monitor_info(row)

    async def save_monitor(self, monitor: Monitor | Mapping[str, Any]) -> tuple[MonitorInfo, str]:
        """Create or replace a monitor by name; returns it and created/updated/unchanged."""
        parsed = monitor if isinstance(monitor, Monitor) else parse_monitor(monitor)
        outcome = await self._save(
            MonitorRow, Entity.MONITOR, "monitor", parsed, {"kind": parsed.kind.value}
        )
        return await self.get_monitor(parsed.name), outcome

    async def remove_monitor(self, name: str) -> None:
        await self._remove(MonitorRow, Entity.MONITOR, "monitor", name)

    # ---- rules ----------------------------------------------------------------------

    async def rules(self) -> builtins.list[RuleInfo]:
        async with self.ctx.db.session() as s:
            rows = (await s.scalars(select(AlertRuleRow).order_by(AlertRuleRow.name))).all()
            return [_rule_info(r) for r in rows]

    async def get_rule(self, name: str) -> RuleInfo:
        async with self.ctx.db.session() as s:
            row = await s.scalar(select(AlertRuleRow).where(AlertRuleRow.name == name))
            if row is None:
                raise NotFoundError(f"no rule named {name!r}")
            return _rule_info(row)

    async def save_rule(self, rule: AlertRule | Mapping[str, Any]) -> tuple[RuleInfo, str]:
        parsed = rule if isinstance(rule, AlertRule) else parse_rule(rule)
        outcome = await self._save(AlertRuleRow, Entity.ALERT_RULE, "rule", parsed, {})
        return await self.get_rule(parsed.name), outcome

    async def remove_rule(self, name: str) -> None:
        await self._remove(AlertRuleRow, Entity.ALERT_RULE, "rule", name)

    async def import_documents(
        self, docs: Documents, sections: Sequence[str] = SECTIONS
    ) -> builtins.list[tuple[str, str, str]]:
        """Save the chosen sections' items; ``(section, name, outcome)`` for each.

        All monitors and rules in one transaction: a file imports whole or not at all (a
        save is idempotent: importing a file again reports "unchanged"); silences are added
        through the alert service.
        """
        out: list[tuple[str, str, str]] = []
        async with unit_of_work(self.ctx) as tx:
            if "monitors" in sections:
                for m in docs.monitors:
                    extra = {"kind": m.kind.value}
                    outcome = await self._save_in(
                        tx, MonitorRow, Entity.MONITOR, "monitor", m, extra
                    )
                    out.append(("monitor", m.name, outcome))
            if "rules" in sections:
                for r in docs.rules:
                    outcome = await self._save_in(
                        tx, AlertRuleRow, Entity.ALERT_RULE, "rule", r, {}
                    )
                    out.append(("rule", r.name, outcome))
        return out

    async def _save(
        self,
        model: type[MonitorRow] | type[AlertRuleRow],
        entity: Entity,
        what: str,
        parsed: Monitor | AlertRule,
        extra: dict[str, Any],
    ) -> str:
        async with unit_of_work(self.ctx) as tx:
            return await self._save_in(tx, model, entity, what, parsed, extra)

    async def _save_in(
        self,
        tx: Transaction,
        model: type[MonitorRow] | type[AlertRuleRow],
        entity: Entity,
        what: str,
        parsed: Monitor | AlertRule,
        extra: dict[str, Any],
    ) -> str:
        """Create or replace one monitor or rule by name inside ``tx``."""
        document = _document(parsed)
        row: Any = await tx.session.scalar(select(model).where(model.name == parsed.name))
        if row is None:
            row = model(
                id=uuid.uuid4(),
                version=1,
                name=parsed.name,
                enabled=parsed.enabled,
                document=document,
                **extra,
            )
            tx.session.add(row)
            await tx.session.flush()
            tx.audit("create", entity, row.id, f"created {what} {parsed.name}", after=document)
            outcome = "created"
        elif row.document == document:
            return "unchanged"
        else:
            tx.audit(
                "update",
                entity,
                row.id,
                f"updated {what} {parsed.name}",
                before=row.document,
                after=document,
            )
            row.document, row.enabled = document, parsed.enabled
            for key, value in extra.items():
                setattr(row, key, value)
            outcome = "updated"
        tx.changed(entity, Action.UPDATED, [row.id])
        return outcome

    async def _remove(
        self,
        model: type[MonitorRow] | type[AlertRuleRow],
        entity: Entity,
        what: str,
        name: str,
    ) -> None:
        async with unit_of_work(self.ctx) as tx:
            row: Any = await tx.session.scalar(select(model).where(model.name == name))
            if row is None:
                raise NotFoundError(f"no {what} named {name!r}")
            tx.audit("delete", entity, row.id, f"deleted {what} {name}", before=row.document)
            await tx.session.execute(delete(model).where(model.id == row.id))
            tx.changed(entity, Action.DELETED, [row.id])
            # nothing would ever clear the open alerts it raised: resolve them with it (a
            # rename saves the new name first; a problem that persists is raised under it)
            raised = _raised_by(entity, name)
            ids = list((await tx.session.scalars(select(AlertRow.id).where(OPEN, raised))).all())
            if ids:
                manager = AlertManager(self.ctx.db)
                await manager.resolve(
                    ids, self.ctx.actor, f"{what} {name} deleted", session=tx.session
                )
                tx.changed(Entity.ALERT, Action.UPDATED, ids)

    # ---- metrics --------------------------------------------------------------------

    async def _target_id(self, session: Any, name: str) -> uuid.UUID:
        tid = await session.scalar(select(TargetRow.id).where(TargetRow.name == name))
        if tid is None:
            raise NotFoundError(f"no target named {name!r}")
        return uuid.UUID(str(tid))

    async def series(self, target: str) -> builtins.list[SeriesInfo]:
        """The series stored for a target, by name, with their latest values."""
        async with self.ctx.db.session() as s:
            tid = await self._target_id(s, target)
            rows = (
                await s.execute(
                    select(SeriesRow).where(SeriesRow.target_id == tid).order_by(SeriesRow.series)
                )
            ).scalars()
            return [SeriesInfo(target, r.series, r.monitor, r.last_at, r.last_value) for r in rows]

    async def points(
        self,
        target: str,
        series: str,
        *,
        start: datetime,
        end: datetime | None = None,
        resolution: Resolution = "auto",
        limit: int = 200_000,
    ) -> Points:
        """A series between ``start`` and ``end`` (now), at the asked or a fitting resolution."""
        start, end = ensure_utc(start), ensure_utc(end or utcnow())
        if end <= start:
            raise ValidationError("the range ends before it starts")
        if resolution == "auto":
            span = end - start
            resolution = "raw" if span <= RAW_LIMIT_SPAN else "5m" if span <= HOUR_SPAN else "1h"
        async with self.ctx.db.session() as s:
            tid = await self._target_id(s, target)
            if resolution == "raw":
                rows = (
                    await s.execute(
                        select(SampleRow.ts, SampleRow.value)
                        .where(
                            SampleRow.target_id == tid,
                            SampleRow.series == series,
                            SampleRow.ts >= start,
                            SampleRow.ts <= end,
                        )
                        .order_by(SampleRow.ts)
                        .limit(limit)
                    )
                ).all()
                return Points(
                    target,
                    series,
                    "raw",
                    tuple(r[0].timestamp() for r in rows),
                    tuple(float(r[1]) for r in rows),
                )
            where = (
                RollupRow.target_id == tid,
                RollupRow.series == series,
                RollupRow.bucket >= start - timedelta(seconds=ROLLUP_SECONDS),
                RollupRow.bucket <= end,
            )
            if resolution == "1h":
                buckets = await _hourly(s, where, limit)
            else:
                rolled = (
                    await s.execute(
                        select(
                            RollupRow.bucket,
                            RollupRow.minimum,
                            RollupRow.average,
                            RollupRow.maximum,
                            RollupRow.count,
                        )
                        .where(*where)
                        .order_by(RollupRow.bucket)
                        .limit(limit)
                    )
                ).all()
                buckets = [
                    Bucket(b, ROLLUP_SECONDS, lo, avg, hi, n) for b, lo, avg, hi, n in rolled
                ]
        return Points(
            target,
            series,
            resolution,
            tuple(b.start.timestamp() for b in buckets),
            tuple(b.average for b in buckets),
            tuple(b.minimum for b in buckets),
            tuple(b.maximum for b in buckets),
        )

    async def sparklines(
        self, target: str, *, hours: float = 6.0, limit: int = 8
    ) -> builtins.list[Points]:
        """Recent raw points of a target's first ``limit`` series (the details panel)."""
        chosen = (await self.series(target))[:limit]
        since = utcnow() - timedelta(hours=hours)
        return [await self.points(target, s.series, start=since, resolution="raw") for s in chosen]

    async def check_states(
        self, *, target: str | None = None, monitor: str | None = None, failing: bool = False
    ) -> builtins.list[CheckStateInfo]:
        """Where each monitor stands on each target (the per-target error state)."""
        stmt = (
            select(CheckStateRow, MonitorRow.name, TargetRow.name)
            .join(MonitorRow, MonitorRow.id == CheckStateRow.monitor_id)
            .join(TargetRow, TargetRow.id == CheckStateRow.target_id)
            .order_by(TargetRow.name, MonitorRow.name)
        )
        if target:
            stmt = stmt.where(TargetRow.name == target)
        if monitor:
            stmt = stmt.where(MonitorRow.name == monitor)
        if failing:
            stmt = stmt.where(CheckStateRow.ok.is_(False))
        async with self.ctx.db.session() as s:
            return [
                CheckStateInfo(
                    m,
                    t,
                    row.ok,
                    row.last_at,
                    row.last_ok_at,
                    row.failures,
                    row.duration_ms,
                    row.error,
                )
                for row, m, t in (await s.execute(stmt)).all()
            ]
