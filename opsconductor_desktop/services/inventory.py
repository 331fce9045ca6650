"""Inventory use cases: targets, groups, static members and dynamic rules.

Each public coroutine is one transaction with an audit entry per change and a ``Changed``
event published after commit. Updates carry the version the operator last saw; a stale
version fails with ``ConflictError`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from opsconductor_desktop.domain import rules as rule_lang
from opsconductor_desktop.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from opsconductor_desktop.domain.events import Action, Entity
from opsconductor_desktop.domain.groups import Group, GroupSpec
from opsconductor_desktop.domain.rules import Rule
from opsconductor_desktop.domain.targets import Target, TargetSpec, normalize_tags, validate_name
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services import records
from opsconductor_desktop.services.uow import ServiceContext, unit_of_work
from opsconductor_desktop.store.models import CredentialRow, GroupMemberRow, GroupRow, TargetRow


@dataclass(frozen=True, slots=True)
class EffectiveValue:
    """One effective variable of a target and where it came from (Nornir-style)."""

    key: str
    value: Any
    source: str  # "target", "group:NAME"
    overridden: tuple[str, ...] = ()  # sources whose value this one hides


class Estate:
    """A consistent snapshot of the inventory, loaded in one transaction.

    Loading is done with Core selects (no ORM identity map) so that listing ten thousand
    targets stays cheap; dynamic memberships are evaluated here, in Python.
    """

    def __init__(
        self,
        target_rows: Sequence[Any],
        group_rows: Sequence[Any],
        static: dict[uuid.UUID, set[uuid.UUID]],
        credential_names: dict[uuid.UUID, str],
    ) -> None:
        self.target_rows = {row.id: row for row in target_rows}
        self.names = {row.id: row.name for row in target_rows}
        self.by_name: dict[str, uuid.UUID] = {row.name: row.id for row in target_rows}
        self.group_rows = {row.id: row for row in group_rows}
        self.static = static
        self.credential_names = credential_names
        self.specs = {
            row.id: records.spec_from_row(row, credential_names, self.names) for row in target_rows
        }
        self._members: dict[uuid.UUID, set[uuid.UUID]] = {}

    @classmethod
    async def load(cls, session: AsyncSession) -> Estate:
        targets = (await session.execute(select(TargetRow.__table__))).all()
        groups = (await session.execute(select(GroupRow.__table__))).all()
        static: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for group_id, target_id in await session.execute(
            select(GroupMemberRow.group_id, GroupMemberRow.target_id)
        ):
            static[group_id].add(target_id)
        creds = dict((await session.execute(select(CredentialRow.id, CredentialRow.name))).all())
        return cls(targets, groups, static, creds)

    def members(self, group_id: uuid.UUID) -> set[uuid.UUID]:
        """Effective members: static members plus the targets the group's rule matches."""
        cached = self._members.get(group_id)
        if cached is not None:
            return cached
        members = set(self.static.get(group_id, ()))
        rule_json = self.group_rows[group_id].rule
        if rule_json:
            rule = rule_lang.from_json(rule_json)
            members.update(tid for tid, spec in self.specs.items() if rule.matches(spec))
        self._members[group_id] = members
        return members

    def memberships(self) -> dict[uuid.UUID, tuple[str, ...]]:
        """Group names per target, sorted."""
        out: dict[uuid.UUID, list[str]] = defaultdict(list)
        for gid in sorted(self.group_rows, key=lambda g: self.group_rows[g].name.lower()):
            name = self.group_rows[gid].name
            for tid in self.members(gid):
                out[tid].append(name)
        return {tid: tuple(names) for tid, names in out.items()}

    def target(self, tid: uuid.UUID, groups: tuple[str, ...]) -> Target:
        row = self.target_rows[tid]
        return Target(tid, self.specs[tid], row.version, row.created_at, row.updated_at, groups)

    def targets(self, ids: Iterable[uuid.UUID] | None = None) -> list[Target]:
        groups = self.memberships()
        chosen = self.target_rows if ids is None else ids
        found = [self.target(tid, groups.get(tid, ())) for tid in chosen]
        return sorted(found, key=lambda t: t.name.lower())

    def group(self, gid: uuid.UUID) -> Group:
        row = self.group_rows[gid]
        return records.group_from_row(row, len(self.static.get(gid, ())), len(self.members(gid)))


def _parse_uuid(ref: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(ref, uuid.UUID):
        return ref
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


class InventoryService:
    """Targets and groups."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reading -------------------------------------------------------------------------

    async def estate(self) -> Estate:
        async with self.ctx.db.session() as session:
            return await Estate.load(session)

    async def list_targets(
        self, *, rule: Rule | None = None, limit: int | None = None, offset: int = 0
    ) -> list[Target]:
        """All targets (optionally those a rule matches), sorted by name, with their groups."""
        found = (await self.estate()).targets()
        if rule is not None:
            found = [t for t in found if rule.matches(t)]
        return found[offset : offset + limit if limit is not None else None]

    async def iter_targets(self, *, chunk_size: int = 200) -> AsyncGenerator[list[Target], None]:
        """All targets with their groups, in chunks, yielding to the event loop between them.

        Same values as ``list_targets()`` (in name order, one read transaction, so the chunks
        form one consistent snapshot), for a client that shows thousands of targets and must
        not stall its event loop: rows are read in one query and turned into ``Target``
        values ``chunk_size`` at a time. Close the iterator early with
        ``contextlib.aclosing`` to release the session.
        """
        if chunk_size < 1:
            raise ValidationError("chunk_size must be at least 1", field="chunk_size")
        async with self.ctx.db.session() as session:
            groups = sorted(
                (await session.execute(select(GroupRow.__table__))).all(),
                key=lambda g: g.name.lower(),
            )
            static: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
            for group_id, target_id in await session.execute(
                select(GroupMemberRow.group_id, GroupMemberRow.target_id)
            ):
                static[target_id].add(group_id)
            creds = dict(
                (await session.execute(select(CredentialRow.id, CredentialRow.name))).all()
            )
            parent_ids = select(TargetRow.parent_id).where(TargetRow.parent_id.is_not(None))
            parents = dict(
                (
                    await session.execute(
                        select(TargetRow.id, TargetRow.name).where(TargetRow.id.in_(parent_ids))
                    )
                ).all()
            )
            ruled = [
                (g.id, g.name, rule_lang.from_json(g.rule) if g.rule else None) for g in groups
            ]
            # One round trip to the driver's thread fetches every raw row; turning them into
            # values (the costly part, in this thread) then goes chunk by chunk. Core, not
            # Session.execute: the ORM path would process every row before returning.
            connection = await session.connection()
            result = await connection.execute(
                select(TargetRow.__table__).order_by(func.lower(TargetRow.name), TargetRow.name)
            )
            for partition in result.partitions(chunk_size):
                chunk: list[Target] = []
                for row in partition:
                    spec = records.spec_from_row(row, creds, parents)
                    member_of = static.get(row.id, set())
                    names = tuple(
                        name
                        for gid, name, rule in ruled
                        if gid in member_of or (rule is not None and rule.matches(spec))
                    )
                    chunk.append(
                        Target(row.id, spec, row.version, row.created_at, row.updated_at, names)
                    )
                yield chunk
                await asyncio.sleep(0)

    async def get_target(self, ref: str | uuid.UUID) -> Target:
        """One target with its groups; reads only that target (and the groups' rules)."""
        async with self.ctx.db.session() as s:
            row = await _target_row(s, ref)
            spec = await _spec_of(s, row)
            groups = tuple(g.name for g in await _groups_of(s, row.id, spec))
            return Target(row.id, spec, row.version, row.created_at, row.updated_at, groups)

    async def list_groups(self) -> list[Group]:
        estate = await self.estate()
        return sorted((estate.group(g) for g in estate.group_rows), key=lambda g: g.name.lower())

    async def get_group(self, ref: str | uuid.UUID) -> Group:
        estate = await self.estate()
        return estate.group(_resolve_group(estate, ref))

    async def effective_members(self, ref: str | uuid.UUID) -> list[Target]:
        estate = await self.estate()
        return estate.targets(estate.members(_resolve_group(estate, ref)))

    async def static_members(self, ref: str | uuid.UUID) -> list[Target]:
        estate = await self.estate()
        return estate.targets(estate.static.get(_resolve_group(estate, ref), set()))

    async def preview_rule(self, rule: Rule) -> list[Target]:
        """The targets a rule would match now (for the rule editor's live preview)."""
        return await self.list_targets(rule=rule)

    async def effective_vars(self, ref: str | uuid.UUID) -> list[EffectiveValue]:
        """Target vars over group vars (groups in name order, later names win among groups).

        Reads only the target and the groups, so the details panel stays quick at 10k.
        """
        async with self.ctx.db.session() as s:
            row = await _target_row(s, ref)
            spec = await _spec_of(s, row)
            layers = [
                (f"group:{g.name}", dict(g.vars or {})) for g in await _groups_of(s, row.id, spec)
            ]
        layers.append(("target", dict(spec.vars)))
        result: dict[str, EffectiveValue] = {}
        for source, values in layers:
            for key, value in values.items():
                prev = result.get(key)
                hidden = (*prev.overridden, prev.source) if prev else ()
                result[key] = EffectiveValue(key, value, source, hidden)
        return [result[k] for k in sorted(result)]

    # ---- targets ----------------------------------------------------------------------------

    async def create_target(self, spec: TargetSpec, *, groups: Sequence[str] = ()) -> Target:
        spec = spec.validated()
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            await _ensure_name_free(s, TargetRow, spec.name, "target")
            row = TargetRow(id=uuid.uuid4(), version=1)
            records.apply_spec(row, spec, **await _resolve_refs(s, spec))
            s.add(row)
            await _flush(s, "target", spec.name)
            for gid in await _group_ids(s, groups):
                s.add(GroupMemberRow(group_id=gid, target_id=row.id, added_at=utcnow()))
            tx.audit(
                "create",
                Entity.TARGET,
                row.id,
                f"created target {spec.name}",
                after=records.spec_record(spec),
            )
            tx.changed(Entity.TARGET, Action.CREATED, [row.id])
            if groups:
                tx.changed(Entity.GROUP, Action.UPDATED, [])
        return await self.get_target(row.id)

    async def update_target(
        self, ref: str | uuid.UUID, spec: TargetSpec, *, expected_version: int
    ) -> Target:
        """Replace a target's fields; fails with ``ConflictError`` if its version moved on."""
        spec = spec.validated()
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            row = await _target_row(s, ref)
            _check_version(row.version, expected_version, f"target {row.name}")
            if spec.name != row.name:
                await _ensure_name_free(s, TargetRow, spec.name, "target")
            before = await _spec_of(s, row)
            refs = await _resolve_refs(s, spec)
            if refs["parent_id"] == row.id:
                raise ValidationError("a target cannot be its own parent", field="parent")
            records.apply_spec(row, spec, **refs)
            await _flush(s, "target", spec.name)
            tx.audit(
                "update",
                Entity.TARGET,
                row.id,
                f"updated target {spec.name}",
                before=records.spec_record(before),
                after=records.spec_record(spec),
            )
            tx.changed(Entity.TARGET, Action.UPDATED, [row.id])
        return await self.get_target(row.id)

    async def delete_targets(self, refs: Sequence[str | uuid.UUID]) -> int:
        """Delete targets (all or nothing); returns how many were deleted."""
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            rows = [await _target_row(s, ref) for ref in refs]
            for row in rows:
                tx.audit(
                    "delete",
                    Entity.TARGET,
                    row.id,
                    f"deleted target {row.name}",
                    before=records.spec_record(await _spec_of(s, row)),
                )
            ids = [row.id for row in rows]
            if ids:
                await s.execute(delete(TargetRow).where(TargetRow.id.in_(ids)))
            tx.changed(Entity.TARGET, Action.DELETED, ids)
        return len(rows)

    async def bulk_edit(
        self,
        refs: Sequence[str | uuid.UUID],
        *,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        enabled: bool | None = None,
    ) -> int:
        """Add/remove tags and set enabled on many targets, all or nothing."""
        add, remove = set(normalize_tags(add_tags)), set(normalize_tags(remove_tags))
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            rows = [await _target_row(s, ref) for ref in refs]
            for row in rows:
                tags = sorted((set(row.tags or ()) | add) - remove)
                new_enabled = row.enabled if enabled is None else enabled
                if tags == list(row.tags or ()) and new_enabled == row.enabled:
                    continue
                before = {"tags": list(row.tags or ()), "enabled": row.enabled}
                row.tags, row.enabled = tags, new_enabled
                tx.audit(
                    "update",
                    Entity.TARGET,
                    row.id,
                    f"bulk-edited target {row.name}",
                    before=before,
                    after={"tags": tags, "enabled": new_enabled},
                )
                tx.changed(Entity.TARGET, Action.UPDATED, [row.id])
            await _flush(s, "target", "bulk edit")
        return len(rows)

    # ---- groups -----------------------------------------------------------------------------

    async def create_group(self, spec: GroupSpec, *, members: Sequence[str] = ()) -> Group:
        name = validate_name(spec.name, what="group name")
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            await _ensure_name_free(s, GroupRow, name, "group")
            row = GroupRow(
                id=uuid.uuid4(),
                version=1,
                name=name,
                description=spec.description.strip(),
                rule=spec.rule.to_json() if spec.rule else None,
                vars=dict(spec.vars),
            )
            s.add(row)
            await _flush(s, "group", name)
            for target in [await _target_row(s, m) for m in members]:
                s.add(GroupMemberRow(group_id=row.id, target_id=target.id, added_at=utcnow()))
            tx.audit(
                "create",
                Entity.GROUP,
                row.id,
                f"created group {name}",
                after=records.group_record(row) | {"members": list(members)},
            )
            tx.changed(Entity.GROUP, Action.CREATED, [row.id])
        return await self.get_group(row.id)

    async def update_group(
        self, ref: str | uuid.UUID, spec: GroupSpec, *, expected_version: int
    ) -> Group:
        name = validate_name(spec.name, what="group name")
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            row = await _group_row(s, ref)
            _check_version(row.version, expected_version, f"group {row.name}")
            if name != row.name:
                await _ensure_name_free(s, GroupRow, name, "group")
            before = records.group_record(row)
            row.name, row.description = name, spec.description.strip()
            row.rule = spec.rule.to_json() if spec.rule else None
            row.vars = dict(spec.vars)
            await _flush(s, "group", name)
            tx.audit(
                "update",
                Entity.GROUP,
                row.id,
                f"updated group {name}",
                before=before,
                after=records.group_record(row),
            )
            tx.changed(Entity.GROUP, Action.UPDATED, [row.id])
        return await self.get_group(row.id)

    async def set_rule(self, ref: str | uuid.UUID, rule: Rule | None) -> Group:
        """Make a group dynamic (or static again with ``None``)."""
        group = await self.get_group(ref)
        spec = GroupSpec(group.name, group.description, rule, group.vars)
        return await self.update_group(group.id, spec, expected_version=group.version)

    async def delete_group(self, ref: str | uuid.UUID) -> None:
        async with unit_of_work(self.ctx) as tx:
            row = await _group_row(tx.session, ref)
            tx.audit(
                "delete",
                Entity.GROUP,
                row.id,
                f"deleted group {row.name}",
                before=records.group_record(row),
            )
            await tx.session.execute(delete(GroupRow).where(GroupRow.id == row.id))
            tx.changed(Entity.GROUP, Action.DELETED, [row.id])

    async def add_members(self, ref: str | uuid.UUID, targets: Sequence[str | uuid.UUID]) -> Group:
        """Add static members (already-present ones are left alone); all or nothing."""
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            group = await _group_row(s, ref)
            rows = [await _target_row(s, t) for t in targets]
            present = set(
                (
                    await s.execute(
                        select(GroupMemberRow.target_id).where(GroupMemberRow.group_id == group.id)
                    )
                ).scalars()
            )
            new = sorted(
                {r.id: r for r in rows if r.id not in present}.values(), key=lambda r: r.name
            )
            if new:
                now = utcnow()
                await s.execute(
                    insert(GroupMemberRow),
                    [{"group_id": group.id, "target_id": r.id, "added_at": now} for r in new],
                )
                tx.audit(
                    "add-members",
                    Entity.GROUP,
                    group.id,
                    f"added {len(new)} member(s) to group {group.name}",
                    after={"added": [r.name for r in new]},
                )
                tx.changed(Entity.GROUP, Action.UPDATED, [group.id])
                tx.changed(Entity.TARGET, Action.UPDATED, [r.id for r in new])
        return await self.get_group(group.id)

    async def remove_members(
        self, ref: str | uuid.UUID, targets: Sequence[str | uuid.UUID]
    ) -> Group:
        async with unit_of_work(self.ctx) as tx:
            s = tx.session
            group = await _group_row(s, ref)
            rows = [await _target_row(s, t) for t in targets]
            ids = [r.id for r in rows]
            result = await s.execute(
                delete(GroupMemberRow).where(
                    GroupMemberRow.group_id == group.id, GroupMemberRow.target_id.in_(ids)
                )
            )
            if getattr(result, "rowcount", 0):
                tx.audit(
                    "remove-members",
                    Entity.GROUP,
                    group.id,
                    f"removed member(s) from group {group.name}",
                    before={"removed": [r.name for r in rows]},
                )
                tx.changed(Entity.GROUP, Action.UPDATED, [group.id])
                tx.changed(Entity.TARGET, Action.UPDATED, ids)
        return await self.get_group(group.id)


# ---- helpers (all run inside the caller's transaction) ------------------------------------


def _check_version(actual: int, expected: int, what: str) -> None:
    if actual != expected:
        raise ConflictError(
            f"{what} was changed elsewhere (now version {actual}, you edited version "
            f"{expected}); reload it or overwrite",
            expected=expected,
            actual=actual,
        )


async def _flush(session: AsyncSession, what: str, name: str) -> None:
    try:
        await session.flush()
    except StaleDataError:
        raise ConflictError(
            f"{what} {name} was changed elsewhere while saving; reload it",
            expected=-1,
            actual=None,
        ) from None
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        if "unique" in text or "duplicate" in text:
            raise DuplicateError(f"a {what} named {name!r} already exists") from None
        raise


async def _ensure_name_free(
    session: AsyncSession,
    model: type[TargetRow] | type[GroupRow] | type[CredentialRow],
    name: str,
    what: str,
) -> None:
    found = await session.scalar(select(func.count()).where(model.name == name))
    if found:
        raise DuplicateError(f"a {what} named {name!r} already exists")


async def _target_row(session: AsyncSession, ref: str | uuid.UUID) -> TargetRow:
    ident = _parse_uuid(ref)
    stmt = select(TargetRow).where(
        TargetRow.id == ident if ident is not None else TargetRow.name == str(ref).strip()
    )
    row = await session.scalar(stmt)
    if row is None:
        raise NotFoundError(f"no target named {str(ref)!r}")
    return row


async def _group_row(session: AsyncSession, ref: str | uuid.UUID) -> GroupRow:
    ident = _parse_uuid(ref)
    stmt = select(GroupRow).where(
        GroupRow.id == ident if ident is not None else GroupRow.name == str(ref).strip()
    )
    row = await session.scalar(stmt)
    if row is None:
        raise NotFoundError(f"no group named {str(ref)!r}")
    return row


async def _groups_of(session: AsyncSession, tid: uuid.UUID, spec: TargetSpec) -> list[GroupRow]:
    """The groups a target belongs to (static or by rule), in name order."""
    static = set(
        (
            await session.scalars(
                select(GroupMemberRow.group_id).where(GroupMemberRow.target_id == tid)
            )
        ).all()
    )
    groups = (await session.scalars(select(GroupRow))).all()
    found = [
        g
        for g in groups
        if g.id in static or (g.rule and rule_lang.from_json(g.rule).matches(spec))
    ]
    return sorted(found, key=lambda g: g.name.lower())


def _resolve_group(estate: Estate, ref: str | uuid.UUID) -> uuid.UUID:
    ident = _parse_uuid(ref)
    if ident is not None and ident in estate.group_rows:
        return ident
    for gid, row in estate.group_rows.items():
        if row.name == str(ref).strip():
            return uuid.UUID(str(gid))
    raise NotFoundError(f"no group named {str(ref)!r}")


async def _group_ids(session: AsyncSession, names: Sequence[str]) -> list[uuid.UUID]:
    return [(await _group_row(session, n)).id for n in names]


async def _credential_id(session: AsyncSession, name: str | None) -> uuid.UUID | None:
    if not name:
        return None
    found = await session.scalar(select(CredentialRow.id).where(CredentialRow.name == name))
    if found is None:
        raise NotFoundError(f"no credential named {name!r}")
    return found


async def _resolve_refs(session: AsyncSession, spec: TargetSpec) -> dict[str, uuid.UUID | None]:
    parent_id = None
    if spec.parent:
        parent_id = await session.scalar(select(TargetRow.id).where(TargetRow.name == spec.parent))
        if parent_id is None:
            raise NotFoundError(f"no target named {spec.parent!r} (parent)")
    return {
        "parent_id": parent_id,
        "snmp_credential_id": await _credential_id(session, spec.snmp.credential),
        "ssh_credential_id": await _credential_id(session, spec.ssh.credential),
    }


async def _spec_of(session: AsyncSession, row: TargetRow) -> TargetSpec:
    """The spec of a row as stored (names of its references looked up)."""
    cred_ids = [i for i in (row.snmp_credential_id, row.ssh_credential_id) if i]
    creds = (
        dict(
            (
                await session.execute(
                    select(CredentialRow.id, CredentialRow.name).where(
                        CredentialRow.id.in_(cred_ids)
                    )
                )
            ).all()
        )
        if cred_ids
        else {}
    )
    names: dict[uuid.UUID, str] = {}
    if row.parent_id:
        parent = await session.scalar(select(TargetRow.name).where(TargetRow.id == row.parent_id))
        if parent is not None:
            names[row.parent_id] = parent
    return records.spec_from_row(row, creds, names)


def with_spec_changes(target: Target, **changes: Any) -> TargetSpec:
    """A copy of a target's spec with some fields changed (for dialogs and the CLI)."""
    return replace(target.spec, **changes)
