"""Each bundled http_poll manifest against a loopback server in its product's format."""

from __future__ import annotations

from typing import Any

import pytest

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.connectors import ConnectorState
from opsconductor_desktop.domain.targets import TargetSpec

from .fakes import Fake, am_alert, prtg_sensor, zabbix_problem


async def _targets(core: Any, *pairs: tuple[str, str]) -> None:
    for name, address in pairs:
        await core.inventory.create_target(TargetSpec(name=name, address=address))


async def _open(core: Any, source: str) -> dict[str, Any]:
    alerts = await core.alerts.list(status="open", source=source, limit=5000)
    return {a.key: a for a in alerts}


async def test_alertmanager_targets_severity_suppressed_and_absence(lite: Any, fake: Fake) -> None:
    await _targets(lite, ("node1", "10.0.0.1"), ("db1.example.net", "10.0.0.9"))
    fake.am_alerts = [
        am_alert("InstanceDown", "node1:9100", "critical", fp="aa01"),
        am_alert("DiskFull", "10.0.0.9:9100", "warning", fp="aa02"),  # matched by address
        am_alert("HighLoad", "DB1:9100", "page", fp="aa03"),  # short, case-insensitive name
        am_alert("Unknown", "ghost:9100", "bogus", fp="aa04"),  # unmatched: kept; default sev
        am_alert("Silenced", "node1:9100", "critical", "suppressed", fp="aa05"),
    ]
    svc = lite.connectors
    await svc.add("alertmanager", name="am", settings={"url": fake.base, "token": fake.token})
    report = await svc.poll("am")
    assert report.ok and report.state is ConnectorState.OK, report.error
    assert (report.items, report.held, report.opened) == (5, 1, 4)
    alerts = await _open(lite, "connector:am")
    assert {k: (a.target, a.severity) for k, a in alerts.items()} == {
        "InstanceDown/aa01": ("node1", Severity.CRITICAL),
        "DiskFull/aa02": ("db1.example.net", Severity.WARNING),
        "HighLoad/aa03": ("db1.example.net", Severity.CRITICAL),
        "Unknown/aa04": ("ghost", Severity.WARNING),
    }
    assert alerts["InstanceDown/aa01"].summary == "InstanceDown on node1:9100"
    assert alerts["InstanceDown/aa01"].details["labels"]["job"] == "node"
    assert fake.requests[-1]["query"] == {"active": "true", "silenced": "true", "inhibited": "true"}

    # DiskFull leaves the list (resolved by absence); InstanceDown becomes silenced at the
    # source: held, so it is neither updated nor resolved while the Alertmanager lists it
    fake.am_alerts = [
        am_alert("InstanceDown", "node1:9100", "critical", "suppressed", fp="aa01"),
        am_alert("HighLoad", "DB1:9100", "page", fp="aa03"),
        am_alert("Unknown", "ghost:9100", "bogus", fp="aa04"),
    ]
    report = await svc.poll("am")
    assert report.ok and [a.key for a in report.absent] == ["DiskFull/aa02"]
    assert report.resolved == 1
    alerts = await _open(lite, "connector:am")
    assert set(alerts) == {"InstanceDown/aa01", "HighLoad/aa03", "Unknown/aa04"}
    assert alerts["InstanceDown/aa01"].count == 1  # held: not touched

    # the silence ends, then everything clears at the source
    fake.am_alerts = []
    report = await svc.poll("am")
    assert report.ok and len(report.absent) == 3
    assert await _open(lite, "connector:am") == {}
    info = await svc.get("am")
    assert info.open_alerts == 0 and info.counters["polls"] == 3


async def test_alertmanager_wrong_token_is_a_clear_error(lite: Any, fake: Fake) -> None:
    svc = lite.connectors
    await svc.add("alertmanager", name="am", settings={"url": fake.base, "token": "wrong-one"})
    report = await svc.poll("am")
    assert not report.ok
    assert "HTTP 401 Unauthorized" in report.error and "check the token" in report.error
    assert "wrong-one" not in report.error
    assert lite.delays == []  # a 401 is not retried


async def test_prtg_pages_states_and_both_auth_styles(lite: Any, fake: Fake) -> None:
    await _targets(lite, ("core-sw1", "10.1.0.1"))
    down = [prtg_sensor(3000 + i, f"srv{i}", f"10.2.{i // 250}.{i % 250}", "Ping", 5)
            for i in range(2600)]  # fmt: skip
    fake.prtg_sensors = [
        prtg_sensor(2001, "core-sw1", "10.1.0.1", "Port 1", 4),
        prtg_sensor(2002, "core-sw1", "10.1.0.1", "Traffic", 10),
        prtg_sensor(2003, "core-sw1", "10.1.0.1", "Uptime", 3),  # up: filtered out
        *down,
    ]
    svc = lite.connectors
    await svc.add("prtg", settings={"url": fake.base, "api_token": fake.token})
    report = await svc.poll("prtg")
    assert report.ok, report.error
    assert (report.items, report.pages, report.complete) == (2602, 2, True)
    starts = [dict(r["query"])["start"] for r in fake.requests]
    assert starts == ["0", "2500"]
    first = fake.requests[0]["query"]
    assert [v for k, v in first if k == "filter_status"] == ["5", "14", "13", "4", "10"]
    assert ("content", "sensors") in first and ("count", "2500") in first
    alerts = await _open(lite, "connector:prtg")
    assert alerts["sensor:2001"].severity is Severity.WARNING
    assert alerts["sensor:2001"].target == "core-sw1"
    assert alerts["sensor:2002"].severity is Severity.MINOR
    assert alerts["sensor:3000"].severity is Severity.CRITICAL
    assert alerts["sensor:3000"].summary == (
        "srv0 Ping: Down Request timed out (ICMP error # 11010)"
    )
    assert "sensor:2003" not in alerts

    # username + passhash instead of the token; the sensors come back up
    await svc.set("prtg", {"api_token": "", "username": "noc", "passhash": "1234567890"})
    fake.requests.clear()
    fake.prtg_sensors = fake.prtg_sensors[:2]
    report = await svc.poll("prtg")
    assert report.ok, report.error
    assert report.resolved == 2600
    query = dict(fake.requests[0]["query"])
    assert query["username"] == "noc" and "apitoken" not in query
    assert set(await _open(lite, "connector:prtg")) == {"sensor:2001", "sensor:2002"}


async def test_prtg_error_never_shows_the_passhash(lite: Any, fake: Fake) -> None:
    svc = lite.connectors
    await svc.add(
        "prtg", settings={"url": fake.base, "username": "noc", "passhash": "not-the-hash"}
    )
    report = await svc.poll("prtg")
    assert not report.ok and "HTTP 401" in report.error
    assert "not-the-hash" not in report.error and "passhash" not in report.error
    assert "not-the-hash" not in (await svc.get("prtg")).last_error


async def test_zabbix_problems_bearer_token_and_severities(lite: Any, fake: Fake) -> None:
    await _targets(lite, ("web1", "10.3.0.1"))
    fake.zabbix_problems = [
        zabbix_problem("101", "High CPU utilization on web1", "4", "web1"),
        zabbix_problem("102", "Disk space is low", "2", "web1"),
        zabbix_problem("103", "web2 is unavailable by ICMP", "5", "web2"),
        zabbix_problem("104", "Template info", "0", "web1"),
        zabbix_problem("105", "In maintenance", "3", "web1", suppressed="1"),
    ]
    svc = lite.connectors
    await svc.add("zabbix", settings={"url": fake.base, "api_token": fake.token})
    report = await svc.poll("zabbix")
    assert report.ok, report.error
    assert report.held == 1
    call = fake.requests[-1]["headers"]
    assert call["Authorization"] == f"Bearer {fake.token}"
    assert call["Content-Type"] == "application/json-rpc"
    alerts = await _open(lite, "connector:zabbix")
    assert {k: (a.severity, a.target) for k, a in alerts.items()} == {
        "problem:101": (Severity.MAJOR, "web1"),
        "problem:102": (Severity.WARNING, "web1"),
        "problem:103": (Severity.CRITICAL, "web2"),
        "problem:104": (Severity.INFO, "web1"),
    }
    fake.zabbix_problems = fake.zabbix_problems[:1]
    report = await svc.poll("zabbix")
    assert report.ok and {a.key for a in report.absent} == {
        "problem:102",
        "problem:103",
        "problem:104",
    }
    assert set(await _open(lite, "connector:zabbix")) == {"problem:101"}


async def test_zabbix_json_rpc_error_is_reported(lite: Any, fake: Fake) -> None:
    svc = lite.connectors
    await svc.add("zabbix", settings={"url": fake.base, "api_token": "expired-token"})
    report = await svc.poll("zabbix")
    assert not report.ok
    assert "reported an error: Invalid params.: Not authorized." in report.error
    assert "expired-token" not in report.error


async def test_generic_json_list_with_clears(lite: Any, fake: Fake) -> None:
    fake.generic = [
        {"id": "a", "host": "h1", "severity": "error", "message": "broken"},
        {"id": "b", "host": "h2", "severity": "warn", "summary": "odd"},
    ]
    svc = lite.connectors
    await svc.add("generic-json", name="gen", settings={"url": f"{fake.base}/alerts"})
    report = await svc.poll("gen")
    assert report.ok and report.opened == 2, report.error
    fake.generic = [
        {"id": "a", "host": "h1", "status": "resolved", "message": "fixed"},
        fake.generic[1],
    ]
    report = await svc.poll("gen")
    assert report.ok and report.resolved == 1
    assert set(await _open(lite, "connector:gen")) == {"b"}


CRED_MANIFEST = """\
id: am-cred
name: Alertmanager with a stored credential
version: "1"
kind: http_poll
settings:
  - {name: url, type: url, required: true}
  - {name: api, type: credential, credential_kind: token, required: true}
request:
  url: "{settings.url}/api/v2/alerts"
  headers:
    Authorization: "Bearer {settings.api.token}"
extract: {jmespath: "@"}
mapping:
  key: "{fingerprint}"
  summary: "{annotations.summary}"
"""


async def test_a_credential_setting_is_read_at_poll_time(
    lite: Any, fake: Fake, tmp_path: Any
) -> None:
    from opsconductor_desktop.domain.credentials import CredentialKind, Secret
    from opsconductor_desktop.domain.errors import NotFoundError, ValidationError

    creds = lite.credentials
    await creds.create("am-api", CredentialKind.TOKEN, Secret({"token": fake.token}))
    await creds.create("ssh", CredentialKind.SSH_PASSWORD, Secret({"password": "pw-123"}))
    path = tmp_path / "am-cred.yaml"
    path.write_text(CRED_MANIFEST, encoding="utf-8")
    svc = lite.connectors
    with pytest.raises(NotFoundError, match="no credential named 'nope'"):
        await svc.add(path, settings={"url": fake.base, "api": "nope"})
    with pytest.raises(ValidationError, match="a token one is needed"):
        await svc.add(path, settings={"url": fake.base, "api": "ssh"})
    await svc.add(path, settings={"url": fake.base, "api": "am-api"})
    fake.am_alerts = [am_alert("InstanceDown", "node1:9100", fp="f1")]
    report = await svc.poll("am-cred")
    assert report.ok and report.opened == 1, report.error
    # the secret changes in the keyring: the next poll uses the new one
    await creds.set_secret("am-api", Secret({"token": "rotated-token"}))
    report = await svc.poll("am-cred")
    assert not report.ok and "HTTP 401" in report.error and "rotated" not in report.error
