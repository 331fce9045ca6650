"""The demo estate: realistic, deterministic, refused on a non-empty database; both dialects."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pytest
from keyring.backends import fail

from opsconductor_desktop.domain.targets import SnmpVersion, TargetKind
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services import demo
from opsconductor_desktop.services.app import Core, open_core

ALL_KINDS = {k.value for k in TargetKind} - {"other"}
VENDORS = {"Cisco", "Juniper", "Arista", "Fortinet", "Palo Alto", "Dell", "HPE", "APC", "Eaton",
           "Axis", "Hikvision", "Aruba", "F5", "NetApp"}  # fmt: skip


async def test_populate_builds_a_realistic_estate(core: Any) -> None:
    c = cast(Core, core)
    summary = await demo.populate(c)
    assert summary.targets == 240
    assert summary.credentials == 6
    assert summary.credentials_skipped is None
    assert summary.groups >= 15
    assert summary.dynamic_groups >= 10
    assert summary.static_groups >= 3
    targets = {t.name: t for t in await c.inventory.list_targets()}
    assert len(targets) == 240
    assert {t.site for t in targets.values()} == {
        "AMS1", "FRA2", "LON1", "NYC3", "SIN1", "MAD-BR1", "OSL-BR1"
    }  # fmt: skip
    assert {str(t.kind) for t in targets.values()} == ALL_KINDS
    assert {t.vendor for t in targets.values()} == VENDORS
    assert sum(not t.spec.enabled for t in targets.values()) == summary.disabled > 0
    # names, addresses and the parent tree
    core_rtr = targets["ams1-core-rtr-01"]
    assert core_rtr.address == "10.10.0.10"
    assert core_rtr.spec.parent is None
    assert core_rtr.spec.snmp.version is SnmpVersion.V3
    assert core_rtr.spec.snmp.credential == "demo-snmpv3-noc"
    assert core_rtr.spec.ssh.username == "netops"
    assert core_rtr.spec.vars["os_version"]
    assert core_rtr.spec.vars["rack"]
    access = [t for t in targets.values() if "-acc-sw-" in t.name and t.site == "AMS1"]
    assert access
    assert all("-dist-sw-" in (t.spec.parent or "") for t in access)
    cameras = [t for t in targets.values() if t.kind == "camera"]
    assert all("-acc-sw-" in (t.spec.parent or "") for t in cameras)
    assert targets["ams1-ups-01"].spec.snmp.version is SnmpVersion.V1
    versions = Counter(t.spec.snmp.version for t in targets.values())
    assert versions[SnmpVersion.V2C] > versions[SnmpVersion.V3] > 0
    addresses = [t.address for t in targets.values()]
    assert len(set(addresses)) == len(addresses)
    assert any(":" in a for a in addresses)  # IPv6
    assert any(a.endswith(".example.net") for a in addresses)  # DNS names
    assert all(t.spec.description for t in targets.values())
    tags = {tag for t in targets.values() for tag in t.tags}
    assert {"core", "access", "edge", "dc:ams1", "pci", "lab", "legacy", "monitoring"} <= tags


async def test_groups_rules_members_and_vars(core: Any) -> None:
    c = cast(Core, core)
    await demo.populate(c)
    groups = {g.name: g for g in await c.inventory.list_groups()}
    assert len(groups) >= 15
    ams1_switches = await c.inventory.effective_members("ams1-switches")
    assert ams1_switches
    assert all(t.kind == "switch" and t.site == "AMS1" for t in ams1_switches)
    assert groups["all-managed"].member_count == 240
    assert groups["ipv6-managed"].member_count > 0
    assert groups["fra2-mgmt-net"].member_count == groups["site-fra2"].member_count
    watch = groups["change-window-sat"]
    assert watch.rule is None
    assert watch.static_count == watch.member_count == 20
    assert groups["payments-pci"].static_count > 0
    assert all(g.description for g in groups.values())
    assert groups["noc-watchlist"].vars["alert_priority"] == "p1"
    # site vars override the estate-wide defaults (groups layer in name order)
    effective = {v.key: v for v in await c.inventory.effective_vars("fra2-core-rtr-01")}
    assert effective["ntp_server"].value == "10.20.0.5"
    assert effective["ntp_server"].source == "group:site-fra2"
    assert "group:all-managed" in effective["ntp_server"].overridden
    assert effective["syslog_host"].value == "10.20.100.10"
    assert effective["dns_domain"].value == "example.net"
    assert effective["maintenance_window"].source == "group:change-window-sat"


async def test_second_run_is_refused_and_changes_nothing(core: Any) -> None:
    c = cast(Core, core)
    await demo.populate(c, targets=50)
    with pytest.raises(demo.DatabaseNotEmptyError, match="already has 50 targets"):
        await demo.populate(c, targets=50)
    assert len(await c.inventory.list_targets()) == 50
    assert len(await c.credentials.list()) == 6


async def test_without_keyring_targets_carry_no_credentials(sqlite_url: str, home: Path) -> None:
    c = await open_core(home=home, db_url=sqlite_url, secrets=SecretStore(fail.Keyring()))
    try:
        summary = await demo.populate(c, targets=60)
        assert summary.credentials == 0
        assert summary.credentials_skipped
        assert "keyring" in summary.credentials_skipped
        assert any("credentials: none" in line for line in summary.lines())
        targets = await c.inventory.list_targets()
        assert len(targets) == 60
        assert await c.credentials.list() == []
        assert all(t.spec.snmp.credential is None and t.spec.ssh.credential is None
                   for t in targets)  # fmt: skip
        assert any(t.spec.ssh.username == "netops" for t in targets)
    finally:
        await c.close()


def test_same_seed_same_estate_and_every_prefix_is_whole() -> None:
    first, again = demo.generate(240, 7), demo.generate(240, 7)
    assert first == again
    assert demo.generate(240, 8) != first
    for size in (1, 17, 53):
        names = {s.name for s in demo.generate(size)}
        assert all(s.parent in names for s in demo.generate(size) if s.parent)


def test_ten_thousand_names_and_addresses_stay_unique() -> None:
    specs = demo.generate(10_000)
    assert len({s.name for s in specs}) == len({s.address for s in specs}) == 10_000


def test_target_count_is_checked() -> None:
    with pytest.raises(demo.ValidationError, match="1-50000"):
        demo.generate(0)


def test_broken_catalogue_is_an_operator_error(tmp_path: Path) -> None:
    (tmp_path / "estate.toml").write_text("[[sites]]\ncode = 'X'\n")
    with pytest.raises(demo.DemoCatalogueError, match="unusable"):
        demo.load_catalogue(tmp_path / "estate.toml")


@pytest.mark.slow
async def test_ten_thousand_targets_are_fast(sqlite_url: str, home: Path) -> None:
    c = await open_core(home=home, db_url=sqlite_url, secrets=SecretStore())
    try:
        started = time.monotonic()
        summary = await demo.populate(c, targets=10_000)
        assert summary.targets == 10_000
        assert time.monotonic() - started < 60
    finally:
        await c.close()
