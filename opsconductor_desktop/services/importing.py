"""Importing an inventory file: check every row against the database, then write or not.

Nothing is written if any row is bad, unless ``skip_invalid`` is set (then the good rows
are written and the bad ones reported). Re-importing the same file changes nothing; a row
that differs from the stored target is a conflict unless ``update`` is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, select, update

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.events import Action, Entity
from opsconductor_desktop.domain.targets import TargetSpec, spec_differences
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services import records
from opsconductor_desktop.services.inventory import Estate
from opsconductor_desktop.services.inventory_formats import ImportBatch, ImportRow, RowError
from opsconductor_desktop.services.uow import ServiceContext, Transaction, unit_of_work
from opsconductor_desktop.store.models import GroupMemberRow, GroupRow, TargetRow, table_of


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of an import: what was (or would be) written, and every bad row."""

    source: str
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    groups_created: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = ()
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Plan:
    create: list[ImportRow] = field(default_factory=list)
    update: list[tuple[ImportRow, uuid.UUID]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)


def _plan(batch: ImportBatch, estate: Estate, *, allow_update: bool) -> _Plan:
    plan = _Plan(errors=list(batch.errors))
    db_groups = {row.name for row in estate.group_rows.values()}
    file_groups = {g.name for g in batch.groups}
    plan.new_groups = sorted(file_groups - db_groups)
    creds = set(estate.credential_names.values())
    valid_rows = list(batch.rows)
    # A row whose in-file parent is itself invalid becomes invalid: iterate to a fixpoint.
    group_names = db_groups | file_groups
    while True:
        target_names = set(estate.by_name) | {r.spec.name for r in valid_rows}
        bad: list[tuple[ImportRow, str]] = []
        for row in valid_rows:
            problems = _reference_problems(row.spec, row.groups, group_names, creds, target_names)
            if problems:
                bad.append((row, "; ".join(problems)))
        if not bad:
            break
        plan.errors += [RowError(r.line, r.spec.name, msg) for r, msg in bad]
        dropped = {id(r) for r, _ in bad}
        valid_rows = [r for r in valid_rows if id(r) not in dropped]
    static_names = _static_group_names(estate)
    for row in valid_rows:
        tid = estate.by_name.get(row.spec.name)
        if tid is None:
            plan.create.append(row)
            continue
        diffs = spec_differences(estate.specs[tid], row.spec)
        if set(row.groups) != set(static_names.get(tid, ())):
            diffs.append("groups")
        if not diffs:
            plan.unchanged.append(row.spec.name)
        elif allow_update:
            plan.update.append((row, tid))
        else:
            plan.errors.append(
                RowError(
                    row.line,
                    row.spec.name,
                    f"conflict: differs from the stored target in {', '.join(diffs)} "
                    "(use --update to overwrite)",
                )
            )
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _reference_problems(
    spec: TargetSpec,
    groups: Sequence[str],
    group_names: set[str],
    creds: set[str],
    target_names: set[str],
) -> list[str]:
    problems = [f"unknown group {g!r}" for g in groups if g not in group_names]
    if spec.parent and spec.parent not in target_names:
        problems.append(f"unknown parent {spec.parent!r}")
    for cred in (spec.snmp.credential, spec.ssh.credential):
        if cred and cred not in creds:
            problems.append(f"unknown credential {cred!r}")
    return problems


def _static_group_names(estate: Estate) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    for gid, members in estate.static.items():
        for tid in members:
            out.setdefault(tid, []).append(estate.group_rows[gid].name)
    return out


class ImportService:
    """Applies parsed inventory files."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def run(
        self,
        batch: ImportBatch,
        *,
        update: bool = False,
        skip_invalid: bool = False,
        dry_run: bool = False,
    ) -> ImportReport:
        """Check and (unless refused or ``dry_run``) write a batch in one transaction."""
        async with unit_of_work(self.ctx) as tx:
            estate = await Estate.load(tx.session)
            plan = _plan(batch, estate, allow_update=update)
            write = not dry_run and (skip_invalid or not plan.errors)
            if write:
                await _write(tx, batch, plan, estate)
        return ImportReport(
            source=batch.source,
            created=tuple(r.spec.name for r in plan.create),
            updated=tuple(r.spec.name for r, _ in plan.update),
            unchanged=tuple(plan.unchanged),
            groups_created=tuple(plan.new_groups),
            errors=tuple(plan.errors),
            written=write,
        )


async def _write(tx: Transaction, batch: ImportBatch, plan: _Plan, estate: Estate) -> None:
    s, now = tx.session, utcnow()
    group_ids = {row.name: gid for gid, row in estate.group_rows.items()}
    file_groups = {g.name: g for g in batch.groups}
    new_group_rows = []
    for name in plan.new_groups:
        gid = uuid.uuid4()
        group_ids[name] = gid
        new_group_rows.append(
            {
                "id": gid,
                "name": name,
                "description": file_groups[name].description,
                "rule": rules.parse(rule).to_json() if (rule := file_groups[name].rule) else None,
                "vars": dict(file_groups[name].vars),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        tx.audit(
            "create",
            Entity.GROUP,
            gid,
            f"created group {name} (import)",
            after={"name": name, "vars": dict(file_groups[name].vars)},
        )
    if new_group_rows:
        await s.execute(table_of(GroupRow).insert(), new_group_rows)
        tx.changed(Entity.GROUP, Action.CREATED, [group_ids[n] for n in plan.new_groups])

    target_ids = dict(estate.by_name)
    cred_ids = {name: cid for cid, name in estate.credential_names.items()}
    new_rows = []
    for row in plan.create:
        tid = uuid.uuid4()
        target_ids[row.spec.name] = tid
        new_rows.append(_insert_values(row.spec, tid, cred_ids, now))
        tx.audit(
            "create",
            Entity.TARGET,
            tid,
            f"created target {row.spec.name} (import)",
            after=records.spec_record(row.spec),
        )
    if new_rows:
        await s.execute(table_of(TargetRow).insert(), new_rows)
        tx.changed(Entity.TARGET, Action.CREATED, [target_ids[r.spec.name] for r in plan.create])
    parents = [
        {"tid": target_ids[r.spec.name], "pid": target_ids[r.spec.parent]}
        for r in plan.create
        if r.spec.parent
    ]
    if parents:  # second pass: a parent may come later in the file than its child
        table = table_of(TargetRow)
        stmt = update(table).where(table.c.id == bindparam("tid"))
        await s.execute(stmt.values(parent_id=bindparam("pid")), parents)
    for row, tid in plan.update:
        await _update_one(tx, row, tid, estate, target_ids, cred_ids)
    await _add_memberships(tx, plan, target_ids, group_ids, now)


def _insert_values(
    spec: TargetSpec, tid: uuid.UUID, cred_ids: dict[str, uuid.UUID], now: object
) -> dict[str, object]:
    return records.row_values(spec) | {
        "id": tid,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "parent_id": None,
        "snmp_credential_id": cred_ids.get(spec.snmp.credential or ""),
        "ssh_credential_id": cred_ids.get(spec.ssh.credential or ""),
    }


async def _update_one(
    tx: Transaction,
    row: ImportRow,
    tid: uuid.UUID,
    estate: Estate,
    target_ids: dict[str, uuid.UUID],
    cred_ids: dict[str, uuid.UUID],
) -> None:
    target = await tx.session.get_one(TargetRow, tid)
    records.apply_spec(
        target,
        row.spec,
        parent_id=target_ids[row.spec.parent] if row.spec.parent else None,
        snmp_credential_id=cred_ids.get(row.spec.snmp.credential or ""),
        ssh_credential_id=cred_ids.get(row.spec.ssh.credential or ""),
    )
    keep = [
        gid
        for gid, members in estate.static.items()
        if tid in members and estate.group_rows[gid].name in row.groups
    ]
    await tx.session.execute(
        delete(GroupMemberRow).where(
            GroupMemberRow.target_id == tid, GroupMemberRow.group_id.not_in(keep)
        )
    )
    tx.audit(
        "update",
        Entity.TARGET,
        tid,
        f"updated target {row.spec.name} (import)",
        before=records.spec_record(estate.specs[tid]),
        after=records.spec_record(row.spec),
    )
    tx.changed(Entity.TARGET, Action.UPDATED, [tid])


async def _add_memberships(
    tx: Transaction,
    plan: _Plan,
    target_ids: dict[str, uuid.UUID],
    group_ids: dict[str, uuid.UUID],
    now: object,
) -> None:
    wanted = {
        (group_ids[g], target_ids[r.spec.name])
        for r in [*plan.create, *(r for r, _ in plan.update)]
        for g in r.groups
    }
    if not wanted:
        return
    result = await tx.session.execute(select(GroupMemberRow.group_id, GroupMemberRow.target_id))
    existing = {(g, t) for g, t in result}
    rows = [{"group_id": g, "target_id": t, "added_at": now} for g, t in wanted - existing]
    if rows:
        await tx.session.execute(table_of(GroupMemberRow).insert(), rows)
        tx.changed(Entity.GROUP, Action.UPDATED, sorted({g for g, _ in wanted - existing}))
