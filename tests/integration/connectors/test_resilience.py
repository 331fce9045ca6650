"""A source that misbehaves: clear errors on its row, retries, the breaker, the others fine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.connectors import ConnectorState
from opsconductor_desktop.domain.timeutil import utcnow

from .fakes import Fake, am_alert, serve

FLAKY = """\
id: flaky
name: Flaky source
version: "1"
kind: http_poll
interval: 30
settings:
  - {name: url, type: url, required: true}
request:
  url: "{settings.url}/alerts"
  timeout: 0.5
  %(pagination)s
extract: {jmespath: "%(extract)s"}
mapping:
  key: "{id}"
  summary: "{summary}"
  severity: "{severity|warning}"
resilience: {retries: 2, backoff: 0.5, breaker: {failures: 3, cooldown: 60}}
"""


def flaky(tmp_path: Path, *, pagination: str = "", extract: str = "@") -> Path:
    path = tmp_path / "flaky.yaml"
    path.write_text(FLAKY % {"pagination": pagination, "extract": extract}, encoding="utf-8")
    return path


async def test_html_invalid_json_and_timeout_are_clear_errors(
    lite: Any, fake: Fake, tmp_path: Path
) -> None:
    svc = lite.connectors
    await svc.add(flaky(tmp_path), settings={"url": fake.base})
    fake.mode = "html"
    report = await svc.poll("flaky")
    assert not report.ok
    assert report.error == (
        f"{fake.base}/alerts answered HTML, not JSON (page title 'Sign in'): "
        "a login page, a proxy or a wrong URL?"
    )
    info = await svc.get("flaky")
    assert (info.state, info.failures, info.last_error) == (
        ConnectorState.DEGRADED,
        1,
        report.error,
    )
    assert info.last_success_at is None and info.last_poll_at is not None

    fake.mode = "invalid"
    report = await svc.poll("flaky")
    assert "answered invalid JSON" in report.error and "line 1" in report.error

    fake.mode = "slow"
    lite.delays.clear()
    report = await svc.poll("flaky")
    assert report.error == f"no answer from {fake.base}/alerts within 0.5 s"
    assert lite.delays == [0.5, 1.0]  # retried twice, the backoff doubling
    info = await svc.get("flaky")
    assert info.state is ConnectorState.FAILING and info.failures == 3


async def test_breaker_opens_shows_failing_and_recovers(
    lite: Any, fake: Fake, tmp_path: Path
) -> None:
    svc = lite.connectors
    await svc.add(flaky(tmp_path), settings={"url": fake.base})
    with serve(Fake()) as other:
        other.am_alerts = [am_alert("InstanceDown", "node1:9100", fp="b1")]
        await svc.add("alertmanager", name="am", settings={"url": other.base, "token": other.token})
        fake.generic = [{"id": "x1", "summary": "one"}]
        assert (await svc.poll("flaky")).ok
        fake.mode = "down"
        states = []
        for _ in range(3):
            report = await svc.poll("flaky")
            assert "HTTP 503 Service Unavailable" in report.error
            states.append(report.state)
            assert (await svc.poll("am")).ok  # the other source is unaffected
        assert states == [ConnectorState.DEGRADED, ConnectorState.DEGRADED, ConnectorState.FAILING]
        health = [a for a in await lite.alerts.list(status="open", source="connector:flaky")]
        assert {a.key: a.severity for a in health} == {
            "x1": Severity.WARNING,  # a failed poll resolves nothing
            "connector-health": Severity.MAJOR,
        }
        assert (await svc.get("am")).state is ConnectorState.OK

        # open: no request goes out until the cool-down has passed
        asked = len(fake.requests)
        report = await svc.poll("flaky")
        assert report.skipped and not report.ok and "circuit open" in report.error
        assert len(fake.requests) == asked
        info = await svc.get("flaky")
        assert info.next_probe_at is not None and info.next_probe_at > utcnow()

        # after the cool-down one probe goes out; the source is back: closed again
        await svc.save_health(info.id, {"last_poll_at": utcnow() - timedelta(seconds=61)})
        fake.mode = "ok"
        report = await svc.poll("flaky")
        assert report.ok and report.state is ConnectorState.OK
        info = await svc.get("flaky")
        assert (info.state, info.failures, info.last_error) == (ConnectorState.OK, 0, "")
        open_keys = {a.key for a in await lite.alerts.list(status="open", source="connector:flaky")}
        assert open_keys == {"x1"}  # the health alert is cleared


async def test_item_errors_are_counted_and_the_rest_goes_on(
    lite: Any, fake: Fake, tmp_path: Path
) -> None:
    svc = lite.connectors
    await svc.add(flaky(tmp_path), settings={"url": fake.base})
    fake.generic = [
        {"id": "a", "summary": "fine"},
        {"id": "b"},  # no summary: a template error for this item only
        "not an object",
        {"id": "c", "summary": "fine too", "severity": "critical"},
    ]
    report = await svc.poll("flaky")
    assert report.ok and report.item_error_count == 2
    assert "no field summary (item b)" in report.item_errors[0]
    assert {a.key for a in report.alerts} == {"a", "c"}
    assert report.absent == () and "nothing resolved by absence" in report.note
    info = await svc.get("flaky")
    assert info.state is ConnectorState.DEGRADED and "could not be mapped" in info.last_error
    # an item without a key leaves the open alerts alone; a keyed one with a bad summary
    # keeps its alert open too
    fake.generic = [{"id": "b"}]
    report = await svc.poll("flaky")
    assert {a.key for a in report.absent} == {"a", "c"}


async def test_pagination_by_page_and_the_page_limit(lite: Any, fake: Fake, tmp_path: Path) -> None:
    svc = lite.connectors
    paged = "pagination: {type: page, param: page, start: 1, max_pages: 10}"
    await svc.add(flaky(tmp_path, pagination=paged, extract="items"), settings={"url": fake.base})
    fake.generic = [{"id": f"i{n}", "summary": f"item {n}"} for n in range(5)]
    report = await svc.poll("flaky")
    assert report.ok and (report.items, report.pages) == (5, 4)  # the 4th page is empty
    assert [r["query"]["page"] for r in fake.requests] == ["1", "2", "3", "4"]

    limited = "pagination: {type: page, param: page, start: 1, max_pages: 2}"
    await svc.remove("flaky")
    await svc.add(flaky(tmp_path, pagination=limited, extract="items"), settings={"url": fake.base})
    await svc.poll("flaky")
    fake.generic = fake.generic[:1]
    fake.generic = [{"id": f"j{n}", "summary": "new"} for n in range(5)]
    report = await svc.poll("flaky")
    assert report.ok and not report.complete and report.note == "stopped after 2 pages"
    assert report.absent == ()  # an incomplete list resolves nothing
    assert (await svc.get("flaky")).state is ConnectorState.DEGRADED


async def test_an_object_where_the_list_should_be(lite: Any, fake: Fake, tmp_path: Path) -> None:
    svc = lite.connectors
    await svc.add(flaky(tmp_path, extract="data"), settings={"url": fake.base})
    fake.generic = [{"id": "a"}]
    report = await svc.poll("flaky")
    assert not report.ok and "found nothing in the answer, not a list" in report.error


async def test_unreachable_source(lite: Any, tmp_path: Path) -> None:
    svc = lite.connectors
    await svc.add(flaky(tmp_path), settings={"url": "http://127.0.0.1:9"})
    report = await svc.poll("flaky")
    assert not report.ok and report.error.startswith("cannot reach http://127.0.0.1:9/alerts")
    assert lite.delays == [0.5, 1.0]
