"""Inventory services on SQLite and PostgreSQL: CRUD, conflicts, audit, events, groups, rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.targets import SnmpProfile, SnmpVersion, TargetKind, TargetSpec
from opsconductor_desktop.store.models import AuditRow, TargetRow


def spec(name: str, address: str, **kw: Any) -> TargetSpec:
    return TargetSpec(name=name, address=address, **kw)


async def audit_count(core: Any, entity: str | None = None) -> int:
    async with core.ctx.db.session() as s:
        stmt = select(func.count()).select_from(AuditRow)
        if entity:
            stmt = stmt.where(AuditRow.entity == entity)
        return int(await s.scalar(stmt))


async def test_create_list_show_target(core: Any) -> None:
    events: list[Changed] = []
    core.bus.subscribe(events.append)
    created = await core.inventory.create_target(
        spec(
            "core-ams-01",
            "10.0.0.1",
            kind=TargetKind.ROUTER,
            vendor="Cisco",
            site="AMS",
            tags=("core", "dc:ams"),
            snmp=SnmpProfile(SnmpVersion.V2C),
            vars={"role": "edge"},
        )
    )
    assert created.version == 1
    assert created.created_at.tzinfo is not None
    listed = await core.inventory.list_targets()
    assert [t.name for t in listed] == ["core-ams-01"]
    shown = await core.inventory.get_target("core-ams-01")
    assert shown.spec.tags == ("core", "dc:ams")
    assert shown.spec.vars == {"role": "edge"}
    assert shown.spec.snmp.version is SnmpVersion.V2C
    assert events == [Changed(Entity.TARGET, Action.CREATED, (created.id,))]
    assert await audit_count(core, "target") == 1


async def test_invalid_and_duplicate_targets_write_nothing(core: Any) -> None:
    await core.inventory.create_target(spec("a", "10.0.0.1"))
    with pytest.raises(DuplicateError, match="already exists"):
        await core.inventory.create_target(spec("a", "10.0.0.2"))
    with pytest.raises(ValidationError, match="not a valid IPv4"):
        await core.inventory.create_target(spec("b", "10.0.0.300"))
    with pytest.raises(NotFoundError, match="parent"):
        await core.inventory.create_target(spec("c", "10.0.0.3", parent="nope"))
    assert [t.name for t in await core.inventory.list_targets()] == ["a"]
    assert await audit_count(core) == 1


async def test_stale_version_conflicts_and_changes_nothing(core: Any) -> None:
    t = await core.inventory.create_target(spec("sw1", "10.1.0.1", vendor="Arista"))
    mine = t.spec
    # someone else edits first
    await core.inventory.update_target(
        t.id, spec("sw1", "10.1.0.1", vendor="Juniper"), expected_version=t.version
    )
    with pytest.raises(ConflictError, match="changed elsewhere") as info:
        await core.inventory.update_target(
            t.id, spec("sw1", "10.1.0.9", vendor=mine.vendor), expected_version=t.version
        )
    assert info.value.actual == 2 and info.value.expected == 1
    now = await core.inventory.get_target("sw1")
    assert now.spec.vendor == "Juniper" and now.spec.address == "10.1.0.1"
    assert now.version == 2


async def test_concurrent_writers_one_wins(core: Any) -> None:
    t = await core.inventory.create_target(spec("race", "10.2.0.1"))

    async def edit(vendor: str) -> str:
        try:
            await core.inventory.update_target(
                t.id, spec("race", "10.2.0.1", vendor=vendor), expected_version=t.version
            )
            return "ok"
        except ConflictError:
            return "conflict"

    results = await asyncio.gather(edit("X"), edit("Y"))
    assert sorted(results) == ["conflict", "ok"]
    assert (await core.inventory.get_target("race")).version == 2


async def test_delete_is_all_or_nothing(core: Any) -> None:
    await core.inventory.create_target(spec("x1", "10.3.0.1"))
    await core.inventory.create_target(spec("x2", "10.3.0.2"))
    with pytest.raises(NotFoundError):
        await core.inventory.delete_targets(["x1", "missing"])
    assert len(await core.inventory.list_targets()) == 2
    assert await core.inventory.delete_targets(["x1", "x2"]) == 2
    assert await core.inventory.list_targets() == []


async def test_parent_removed_sets_child_parent_null(core: Any) -> None:
    await core.inventory.create_target(spec("dist", "10.4.0.1"))
    await core.inventory.create_target(spec("access", "10.4.0.2", parent="dist"))
    assert (await core.inventory.get_target("access")).spec.parent == "dist"
    await core.inventory.delete_targets(["dist"])
    assert (await core.inventory.get_target("access")).spec.parent is None


async def test_groups_static_and_dynamic(core: Any) -> None:
    for i, (vendor, site, kind, tags) in enumerate(
        [
            ("Cisco", "AMS", TargetKind.ROUTER, ("core",)),
            ("Juniper", "AMS", TargetKind.ROUTER, ("core", "lab")),
            ("Arista", "FRA", TargetKind.SWITCH, ("tor",)),
            ("Cisco", "FRA", TargetKind.SWITCH, ()),
        ]
    ):
        await core.inventory.create_target(
            spec(f"dev{i}", f"10.5.{i}.1", vendor=vendor, site=site, kind=kind, tags=tags)
        )
    await core.inventory.create_target(spec("dns-host", "host.example.net"))
    rule = rules.parse("tag:core and not tag:lab or (vendor:arista and cidr:10.5.0.0/16)")
    g = await core.inventory.create_group(
        GroupSpec("core-gear", "core", rule), members=["dns-host"]
    )
    assert g.dynamic and g.static_count == 1 and g.member_count == 3
    names = [t.name for t in await core.inventory.effective_members("core-gear")]
    assert names == ["dev0", "dev2", "dns-host"]
    # membership shows on targets
    assert (await core.inventory.get_target("dev2")).groups == ("core-gear",)
    # group rule change takes effect at once
    await core.inventory.set_rule("core-gear", rules.parse("site:fra"))
    names = [t.name for t in await core.inventory.effective_members("core-gear")]
    assert names == ["dev2", "dev3", "dns-host"]
    await core.inventory.remove_members("core-gear", ["dns-host"])
    await core.inventory.add_members("core-gear", ["dev0", "dev0", "dev1"])
    g = await core.inventory.get_group("core-gear")
    assert g.static_count == 2
    with pytest.raises(NotFoundError):
        await core.inventory.add_members("core-gear", ["dev0", "ghost"])
    assert (await core.inventory.get_group("core-gear")).static_count == 2
    await core.inventory.delete_group("core-gear")
    assert await core.inventory.list_groups() == []
    assert len(await core.inventory.list_targets()) == 5


async def test_deleting_target_removes_membership(core: Any) -> None:
    await core.inventory.create_target(spec("m1", "10.6.0.1"))
    await core.inventory.create_group(GroupSpec("g"), members=["m1"])
    await core.inventory.delete_targets(["m1"])
    assert (await core.inventory.get_group("g")).static_count == 0


async def test_bulk_edit_tags_and_enabled(core: Any) -> None:
    for i in range(3):
        await core.inventory.create_target(spec(f"b{i}", f"10.7.0.{i + 1}", tags=("old",)))
    await core.inventory.bulk_edit(
        ["b0", "b1"], add_tags=["new"], remove_tags=["old"], enabled=False
    )
    got = {t.name: t for t in await core.inventory.list_targets()}
    assert got["b0"].spec.tags == ("new",) and not got["b0"].spec.enabled
    assert got["b2"].spec.tags == ("old",) and got["b2"].spec.enabled
    with pytest.raises(ValidationError, match="malformed tag"):
        await core.inventory.bulk_edit(["b2"], add_tags=["bad tag"])


async def test_effective_vars_show_their_source(core: Any) -> None:
    await core.inventory.create_target(spec("v1", "10.8.0.1", vars={"ntp": "10.0.0.5"}))
    await core.inventory.create_group(
        GroupSpec("site-ams", vars={"ntp": "10.9.9.9", "dns": "1"}), members=["v1"]
    )
    eff = {v.key: v for v in await core.inventory.effective_vars("v1")}
    assert eff["ntp"].value == "10.0.0.5" and eff["ntp"].source == "target"
    assert eff["ntp"].overridden == ("group:site-ams",)
    assert eff["dns"].source == "group:site-ams"


async def test_timestamps_are_aware_utc(core: Any) -> None:
    t = await core.inventory.create_target(spec("tz", "10.9.0.1"))
    async with core.ctx.db.session() as s:
        row = await s.get(TargetRow, t.id)
        assert row is not None
        assert row.created_at.utcoffset().total_seconds() == 0


async def test_external_changes_are_noticed(core: Any, db_url: str, home: Any) -> None:
    from opsconductor_desktop.secrets import SecretStore
    from opsconductor_desktop.services.app import open_core

    events: list[Changed] = []
    core.bus.subscribe(events.append)
    assert await core.watcher.poll() == []  # baseline
    await core.inventory.create_target(spec("own", "10.10.0.1"))
    events.clear()
    assert await core.watcher.poll() == []  # our own change is not "external"
    other = await open_core(home=home, db_url=db_url, secrets=SecretStore(), actor="cli")
    try:
        await other.inventory.create_target(spec("theirs", "10.10.0.2"))
    finally:
        await other.close()
    noticed = await core.watcher.poll()
    assert [(e.entity, e.external) for e in noticed] == [(Entity.TARGET, True)]
    assert events == noticed
