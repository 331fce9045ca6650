"""What the alert manager needs to know of the world around an alert: its target's tags,
groups (static members and the groups whose rule matches) and parent, which parents are
down, and the silences in force — each read in one query per batch."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.alerts import AlertState, AlertStatus, Context, NormalizedAlert
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.silences import Matchers, Silence, Weekly, first_match
from opsconductor_desktop.store.models import (
    AlertRow,
    GroupMemberRow,
    GroupRow,
    SilenceRow,
    TargetRow,
    table_of,
)

log = logging.getLogger(__name__)

_OPEN = AlertRow.status != AlertStatus.RESOLVED.value


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What the alert manager needs of a target: tags, groups and parent."""

    id: uuid.UUID
    tags: tuple[str, ...]
    groups: tuple[str, ...]
    parent: str | None


def silence_of(row: SilenceRow | Row[*tuple[Any, ...]]) -> Silence:
    """A stored silence (an ORM row, or a Core row with the same column names)."""
    return Silence(
        id=str(row.id),
        matchers=Matchers.from_json(row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        weekly=Weekly.from_json(row.weekly) if row.weekly else None,
        author=row.author,
        comment=row.comment,
    )


def context(
    alert: NormalizedAlert,
    fact: TargetFacts | None,
    silences: Sequence[Silence],
    down: Collection[str],
    now: datetime,
) -> Context:
    tags, groups = (fact.tags, fact.groups) if fact else ((), ())
    silence = first_match(silences, alert, tags, groups, now) if silences else None
    parent = fact.parent if fact and fact.parent in down else None
    return Context(now=now, silenced_by=silence.id if silence else None, parent_down=parent)


def suppressor(
    state: AlertState,
    fact: TargetFacts | None,
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


async def target_facts(session: AsyncSession, names: Collection[str]) -> dict[str, TargetFacts]:
    """Tags, groups (static members, and the groups whose rule matches) and parent name of
    the named targets: one query for the targets and their static groups (a row per target
    and group), one for the groups that have a rule."""
    if not names:
        return {}
    targets = table_of(TargetRow)
    parents = targets.alias("parent")
    members, groups = table_of(GroupMemberRow), table_of(GroupRow)
    t = targets.c
    stmt = (
        select(
            t.id, t.name, t.tags, parents.c.name, groups.c.name, t.address, t.kind, t.vendor, t.site
        )
        .select_from(
            targets.outerjoin(parents, parents.c.id == t.parent_id)
            .outerjoin(members, members.c.target_id == t.id)
            .outerjoin(groups, groups.c.id == members.c.group_id)
        )
        .where(t.name.in_(list(names)))
    )
    found: dict[str, tuple[uuid.UUID, tuple[str, ...], str | None, list[str]]] = {}
    specs: dict[str, _Matchable] = {}
    for target_id, name, tags, parent, group, address, kind, vendor, site in await session.execute(
        stmt
    ):
        _, tag_tuple, _, in_groups = found.setdefault(
            name, (target_id, tuple(tags or ()), parent, [])
        )
        if group is not None:
            in_groups.append(group)
        specs.setdefault(name, _Matchable(name, address, kind, vendor or "", site or "", tag_tuple))
    ruled = await session.execute(select(groups.c.name, groups.c.rule))
    for group, rule_json in ruled:
        rule = _group_rule(rule_json)
        if rule is None:
            continue
        for name, spec in specs.items():
            in_groups = found[name][3]
            if group not in in_groups and rule.matches(spec):
                in_groups.append(group)
    return {
        name: TargetFacts(target_id, tags, tuple(in_groups), parent)
        for name, (target_id, tags, parent, in_groups) in found.items()
    }


class _Matchable(NamedTuple):
    """What a group rule looks at of a target (``rules.Matchable``)."""

    name: str
    address: str
    kind: str
    vendor: str
    site: str
    tags: tuple[str, ...]


def _group_rule(rule_json: Any) -> rules.Rule | None:
    """A group's parsed rule (None: a static group), parsed once per distinct rule."""
    if not rule_json:
        return None
    try:
        return _parsed_rule(json.dumps(rule_json, sort_keys=True))
    except ValidationError as exc:  # written by a newer version, or by hand: match nothing
        log.warning("a group rule cannot be read (%s); its silences match static members", exc)
        return None


@functools.lru_cache(maxsize=512)
def _parsed_rule(text: str) -> rules.Rule:
    return rules.from_json(json.loads(text))


async def down_targets(session: AsyncSession, names: Collection[str]) -> set[str]:
    """Those of ``names`` with an open reachability alert."""
    if not names:
        return set()
    stmt = select(AlertRow.target_name).where(
        and_(_OPEN, AlertRow.reachability.is_(True), AlertRow.target_name.in_(list(names)))
    )
    return {n for n in (await session.execute(stmt)).scalars() if n}


async def active_silences(session: AsyncSession, now: datetime) -> list[Silence]:
    c = table_of(SilenceRow).c
    stmt = (
        select(c.id, c.matchers, c.starts_at, c.ends_at, c.weekly, c.author, c.comment)
        .where(c.starts_at <= now, c.ends_at > now)
        .order_by(c.created_at, c.id)
    )
    silences = [silence_of(r) for r in await session.execute(stmt)]
    return [s for s in silences if s.active(now)]
