"""The webhook receiver: token required, Alertmanager payloads and generic lists, and the
receivers' lifecycle through the kind → factory hook."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.domain.connectors import ConnectorState
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.runtime.receivers.base import ReceiverCounters, RecentList

from .fakes import am_alert

TOKEN = "hook-token-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def am_payload(status: str, *alerts: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4)."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="InstanceDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "opsconductor",
        "groupLabels": {"alertname": "InstanceDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": a["labels"],
                "annotations": a["annotations"],
                "startsAt": a["startsAt"],
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else a["endsAt"],
                "generatorURL": a["generatorURL"],
                "fingerprint": a["fingerprint"],
            }
            for a in alerts
        ],
    }


async def _settle(core: Any, source: str, want: int) -> list[Any]:
    for _ in range(50):
        found = await core.alerts.list(source=source)
        if len(found) >= want:
            return found
        await asyncio.sleep(0.1)
    return await core.alerts.list(source=source)


async def test_webhook_needs_a_token_before_it_can_be_enabled(lite: Any) -> None:
    svc = lite.connectors
    info = await svc.add("webhook", name="hook")
    assert not info.enabled and info.missing == ("token",)  # off by default
    with pytest.raises(ValidationError, match="needs token"):
        await svc.enable("hook")
    await svc.set("hook", {"token": TOKEN})
    assert (await svc.enable("hook")).enabled


async def test_webhook_receives_alertmanager_and_generic_payloads(lite: Any) -> None:
    svc = lite.connectors
    port = free_port()
    await svc.add(
        "webhook", name="hook", settings={"token": TOKEN, "port": str(port)}, enabled=True
    )
    (status,) = await svc.start_receivers()
    assert (status.name, status.outcome) == ("hook", "started")
    url = f"http://127.0.0.1:{port}/"
    firing = am_alert("InstanceDown", "node1:9100", "critical", fp="c0ffee01")
    async with httpx.AsyncClient() as client:
        r = await client.post(url, json=am_payload("firing", firing))
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        r = await client.post(url, json=am_payload("firing", firing), headers=_bearer("nope"))
        assert r.status_code == 401
        r = await client.post(url, json=am_payload("firing", firing), headers=_bearer(TOKEN))
        assert r.status_code == 200
        assert r.json() == {"received": 1, "accepted": 1, "held": 0, "rejected": 0}
        (alert,) = await _settle(lite, "connector:hook", 1)
        assert (alert.key, alert.target, alert.severity) == ("c0ffee01", "node1", Severity.CRITICAL)
        assert alert.summary == "InstanceDown on node1:9100"

        resolved = am_payload("resolved", firing)
        r = await client.post(f"{url}alerts?token={TOKEN}", json=resolved)
        assert r.status_code == 200
        for _ in range(50):
            (alert,) = await lite.alerts.list(source="connector:hook")
            if alert.status is AlertStatus.RESOLVED:
                break
            await asyncio.sleep(0.1)
        assert alert.status is AlertStatus.RESOLVED

        generic = [
            {"id": "g1", "host": "sw1", "severity": "warn", "message": "fan"},
            {"host": "sw2"},  # no key: rejected, counted
        ]
        r = await client.post(url, json=generic, headers=_bearer(TOKEN))
        assert r.json() == {"received": 2, "accepted": 1, "held": 0, "rejected": 1}
        r = await client.post(url, content=b"{not json", headers=_bearer(TOKEN))
        assert r.status_code == 400 and "invalid JSON" in r.json()["error"]
        assert len(await _settle(lite, "connector:hook", 2)) == 2

    receiver = svc.host.receiver("hook")
    assert receiver is not None
    assert receiver.counters.received == 4 and receiver.counters.matched == 3
    assert receiver.counters.rejected == 4  # 2 unauthorized, 1 item, 1 body
    await svc.stop_receivers()
    info = await svc.get("hook")
    assert info.state is ConnectorState.OK
    assert info.counters["received"] == 4 and info.counters["rejected"] == 4
    assert TOKEN not in str(info.counters) and TOKEN not in info.last_error


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class _Dummy:
    """A receiver a test plugs in for a kind (what the lead's trap/syslog factories do)."""

    started: list[str] = []  # noqa: RUF012

    def __init__(self, setup: Any) -> None:
        self.setup = setup
        self.counters = ReceiverCounters(received=7)
        self.recent = RecentList()

    async def start(self) -> None:
        _Dummy.started.append(self.setup.name)

    async def stop(self) -> None:
        _Dummy.started.remove(self.setup.name)


async def test_receiver_factories_are_pluggable_and_missing_ones_skipped(lite: Any) -> None:
    svc = lite.connectors
    svc.receiver_factories.pop("syslog", None)
    svc.register_receiver("snmp_trap", _Dummy)
    await svc.add("snmp-trap", name="traps", settings={"port": "10162"})
    await svc.add("syslog", name="logs", settings={"port": "10514"})
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        await svc.add("webhook", name="hook", settings={"token": TOKEN, "port": str(port)})
        await svc.enable("hook")
        outcomes = {s.name: (s.outcome, s.message) for s in await svc.start_receivers()}
    finally:
        taken.close()
    assert outcomes["traps"] == ("started", "")
    assert outcomes["logs"][0] == "skipped" and "no syslog receiver" in outcomes["logs"][1]
    assert outcomes["hook"][0] == "failed" and "in use" in outcomes["hook"][1]
    assert _Dummy.started == ["traps"]
    hook = await svc.get("hook")
    assert hook.state is ConnectorState.FAILING and "port is in use" in hook.last_error
    assert (await svc.get("logs")).last_error.startswith("no syslog receiver")

    # disabling a running connector stops its receiver at the next sync
    await svc.disable("traps")
    await svc.start_receivers()
    assert _Dummy.started == []
    assert (await svc.get("traps")).counters["received"] == 7
    await svc.stop_receivers()
