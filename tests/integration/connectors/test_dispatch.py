"""The dispatcher schedules enabled http_poll connectors like any other work."""

from __future__ import annotations

from typing import Any

from .fakes import Fake, am_alert


async def test_connector_polls_are_planned_and_run_by_the_dispatcher(lite: Any, fake: Fake) -> None:
    fake.am_alerts = [am_alert("InstanceDown", "node1:9100", fp="e1")]
    svc = lite.connectors
    await svc.add(
        "alertmanager", name="am", settings={"url": fake.base, "token": fake.token, "interval": 45}
    )
    await svc.add("webhook", name="hook", settings={"token": "t0ken"}, enabled=True)
    polling = lite.polling
    plan = await polling.plan()
    assert plan[("connector", "am")] == 45.0
    assert not any(ref == "hook" for _, ref in plan)  # listeners are not polled

    await polling.dispatcher.sync(plan)
    ran = await polling.dispatcher.run_round(kinds=("connector",), every=True)
    assert ran == 1
    (alert,) = await lite.alerts.list(source="connector:am")
    assert alert.key == "InstanceDown/e1"
    assert (await svc.get("am")).counters["polls"] == 1

    # a connector change moves the plan (the change counter), health writes do not
    def plan_topics(counters: dict[str, int]) -> dict[str, int]:
        return polling._plan_part(counters)

    token = plan_topics(await polling._counters())
    await svc.poll("am")
    assert plan_topics(await polling._counters()) == token
    await svc.disable("am")
    assert plan_topics(await polling._counters()) != token
    assert ("connector", "am") not in await polling.plan()
