"""The demo's alerts, made through the alert service: every severity and status, a
flapping port, parent-down and silence suppression, acknowledgements and resolutions by
named operators with their history; a small estate gets only its targets' alerts."""

from __future__ import annotations

from typing import Any, cast

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.services import demo
from opsconductor_desktop.services.app import Core


async def test_demo_alerts_look_like_a_noc_shift(core: Any) -> None:
    c = cast(Core, core)
    summary = await demo.populate(c)
    assert summary.alerts is not None
    assert any(line.startswith("alerts: 13 open (2 critical") for line in summary.lines())
    open_alerts = await c.alerts.list(status="open")
    assert {a.severity for a in open_alerts} == {
        Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING, Severity.INFO
    }  # fmt: skip
    assert {a.status for a in open_alerts} == {
        AlertStatus.ACTIVE, AlertStatus.ACKNOWLEDGED, AlertStatus.SUPPRESSED
    }  # fmt: skip
    by_target = {(a.target, a.key): a for a in open_alerts}
    uplink = by_target["ams1-dist-sw-02", "linkDown:Ethernet1/49"]
    assert uplink.ack_by == "maria.k" and "INC-20417" in (uplink.ack_comment or "")
    assert uplink.ack_expires is not None
    assert by_target["ams1-acc-sw-01", "linkDown:Gi1/0/24"].flapping
    assert by_target["mad-br1-fw-01", "core-ping"].suppressed_by == "parent:mad-br1-edge-rtr-01"
    silenced = by_target["lon1-edge-fw-02", "ha-peer-lost"]
    assert (silenced.suppressed_by or "").startswith("silence:")
    bgp = by_target["ams1-core-rtr-01", "bgp-peer:10.10.255.2"]
    assert bgp.count == 12 and bgp.first_seen < bgp.last_seen
    assert bgp.details["last_error"] == "Hold Timer Expired"
    # known targets only, and the SNMP alert agrees with the demo metrics' silent agent
    names = {t.name for t in await c.inventory.list_targets()}
    assert {a.target for a in await c.alerts.list(limit=500)} <= names
    assert ("fra2-core-rtr-01", "snmp-basics:snmp") in by_target

    resolved = {a.target: a for a in await c.alerts.list(status="resolved")}
    by_hand = await c.alerts.get(resolved["ams1-srv-02"].id)
    last = by_hand.events[-1]
    assert (last.actor, last.to_status) == ("maria.k", AlertStatus.RESOLVED)
    assert "Rotated" in last.comment
    cleared = await c.alerts.get(resolved["fra2-ups-01"].id)
    assert cleared.events[-1].comment == "cleared by its source"
    assert len(await c.alerts.silences()) == 1


async def test_a_small_estate_gets_only_its_targets_alerts(core: Any) -> None:
    c = cast(Core, core)
    summary = await demo.populate(c, targets=50)
    names = {t.name for t in await c.inventory.list_targets()}
    alerts = await c.alerts.list(limit=500)
    assert alerts and {a.target for a in alerts} <= names
    assert summary.alerts is not None
    assert "osl-br1-ups-01" not in names  # the first 50 end in Madrid
    assert not any(a.flapping for a in alerts)  # no access switch among them
