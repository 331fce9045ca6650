"""The Alerts pane's queries on SQLite and PostgreSQL: pages filtered and sorted by the
database, totals (counted, derived from the open counts, or from one scan for text),
sources, and several silences in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.domain.silences import Matchers
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services.alerts import AlertQuery
from opsconductor_desktop.services.app import Core

T0 = utcnow() - timedelta(hours=2)


def alert(n: int, severity: Severity, *, source: str = "rule", target: str = "") -> NormalizedAlert:
    return NormalizedAlert(
        source=source,
        key=f"check:{n}",
        severity=severity,
        summary=f"Problem {n} on {target or f'r{n % 5}'}: 100% of 5_000 used",
        target=target or f"r{n % 5}",
    )


async def estate(core: Core) -> None:
    """25 alerts seen a minute apart (n=24 newest): severities cycle, 3 sources, 5 targets;
    then n % 4 == 0 resolved, n % 7 == 0 acknowledged."""
    levels = (Severity.INFO, Severity.WARNING, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL)
    for n in range(25):
        source = ("rule", "trap", "syslog")[n % 3]
        await core.alerts.submit(
            [alert(n, levels[n % 5], source=source)], now=T0 + timedelta(minutes=n)
        )
    every = await core.alerts.list(limit=100)
    by_n = {int(a.key.split(":")[1]): a for a in every}
    await core.alerts.resolve([a.id for n, a in by_n.items() if n % 4 == 0])
    await core.alerts.acknowledge([a.id for n, a in by_n.items() if n % 7 == 0 and n % 4])


def numbers(alerts: Any) -> list[int]:
    return [int(a.key.split(":")[1]) for a in alerts]


async def test_pages_filters_and_totals(core: Core) -> None:
    await estate(core)
    page = await core.alerts.page(AlertQuery(), limit=5, counts=True)
    open_ns = [n for n in range(24, -1, -1) if n % 4]
    assert numbers(page.alerts) == open_ns[:5]  # newest first
    assert page.total == len(open_ns) == 18
    assert page.counts is not None and sum(page.counts.values()) == 18
    more = await core.alerts.page(AlertQuery(), offset=5, limit=5, total=False)
    assert numbers(more.alerts) == open_ns[5:10] and more.total is None

    resolved = await core.alerts.page(AlertQuery(status="resolved"), limit=3)
    assert numbers(resolved.alerts) == [24, 20, 16] and resolved.total == 7
    acked = await core.alerts.page(AlertQuery(status="acknowledged"))
    assert numbers(acked.alerts) == [21, 14, 7] and acked.total == 3
    every = await core.alerts.page(AlertQuery(status="all"), limit=10)
    assert every.total == 25

    major = await core.alerts.page(AlertQuery(min_severity=Severity.MAJOR), limit=2, counts=True)
    assert major.total == sum(1 for n in open_ns if n % 5 >= 3)  # derived from the counts
    traps = await core.alerts.page(AlertQuery(source="trap"), limit=2)
    assert traps.total == sum(1 for n in open_ns if n % 3 == 1)
    assert {a.source for a in traps.alerts} == {"trap"}
    two = await core.alerts.page(AlertQuery(targets=("r1", "r2")), limit=100)
    assert {a.target for a in two.alerts} == {"r1", "r2"}
    assert two.total == sum(1 for n in open_ns if n % 5 in (1, 2))
    nobody = await core.alerts.page(AlertQuery(targets=()))
    assert nobody.alerts == () and nobody.total == 0


async def test_text_is_one_scan_case_insensitive_and_literal(core: Core) -> None:
    await estate(core)
    found = await core.alerts.page(AlertQuery(status="all", text="PROBLEM 1"), limit=3)
    # "Problem 1 on", "Problem 10..19 on": 11 matches, newest first
    assert found.total == 11
    assert numbers(found.alerts) == [19, 18, 17]
    assert (await core.alerts.page(AlertQuery(status="all", text="100%"))).total == 25
    assert (await core.alerts.page(AlertQuery(status="all", text="5_000"))).total == 25
    # LIKE's wildcards are taken literally: unescaped, both would match "100"
    assert (await core.alerts.page(AlertQuery(status="all", text="1_0"))).total == 0
    assert (await core.alerts.page(AlertQuery(status="all", text="1%0"))).total == 0
    sorted_ = await core.alerts.page(
        AlertQuery(status="all", text="problem 1", sort="severity"), limit=20
    )
    levels = [a.severity for a in sorted_.alerts]
    assert levels == sorted(levels, reverse=True) and sorted_.total == 11
    # the following pages of a text query
    rest = await core.alerts.page(
        AlertQuery(status="all", text="problem 1"), offset=3, limit=20, total=False
    )
    assert numbers(rest.alerts) == [16, 15, 14, 13, 12, 11, 10, 1]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("severity", lambda a: int(a.severity)),
        ("target", lambda a: a.target),
        ("source", lambda a: a.source),
        ("count", lambda a: a.count),
        ("first_seen", lambda a: a.first_seen),
    ],
)
async def test_every_sort_key_both_ways(core: Core, sort: str, key: Any) -> None:
    await estate(core)
    for descending in (False, True):
        page = await core.alerts.page(AlertQuery(status="all", sort=sort, descending=descending))
        values = [key(a) for a in page.alerts]
        assert values == sorted(values, reverse=descending), (sort, descending)


async def test_status_sort_puts_active_first(core: Core) -> None:
    await estate(core)
    page = await core.alerts.page(AlertQuery(status="all", sort="status", descending=False))
    order = [a.status for a in page.alerts]
    rank = [AlertStatus.ACTIVE, AlertStatus.ACKNOWLEDGED, AlertStatus.SUPPRESSED,
            AlertStatus.RESOLVED]  # fmt: skip
    assert order == sorted(order, key=rank.index)


async def test_bad_queries_are_refused(core: Core) -> None:
    with pytest.raises(ValidationError, match="status filter"):
        AlertQuery(status="closed")
    with pytest.raises(ValidationError, match="sort"):
        AlertQuery(sort="fingerprint")
    with pytest.raises(ValidationError, match="too many"):
        AlertQuery(targets=tuple(f"t{n}" for n in range(20_001)))


async def test_sources_and_list_by_targets(core: Core) -> None:
    await estate(core)
    assert await core.alerts.sources() == ["rule", "syslog", "trap"]
    listed = await core.alerts.list(status="open", targets=["r0"])
    assert {a.target for a in listed} == {"r0"}
    assert await core.alerts.count(AlertQuery(status="all", targets=("r0",))) == 5


async def test_several_silences_in_one_transaction(core: Core) -> None:
    await estate(core)
    events: list[Changed] = []
    core.bus.subscribe(events.append)
    made = await core.alerts.add_silences(
        [Matchers(target="r1"), Matchers(target="r3", severity=Severity.MAJOR)],
        starts_at=None,
        ends_at=utcnow() + timedelta(hours=1),
        comment="CHG-7 power work",
    )
    assert [s.matchers.target for s in made] == ["r1", "r3"]
    assert all(s.active for s in made)
    suppressed = await core.alerts.list(status="suppressed")
    assert {a.target for a in suppressed} == {"r1", "r3"}
    assert all(a.target == "r1" or a.severity >= Severity.MAJOR for a in suppressed)
    assert {e.entity for e in events} == {Entity.SILENCE, Entity.ALERT}
    with pytest.raises(ValidationError, match="must end after it starts|past"):
        await core.alerts.add_silences(
            [Matchers(target="r3"), Matchers(target="r4")],
            starts_at=None,
            ends_at=utcnow() - timedelta(minutes=1),
            comment="too late",
        )
    assert len(await core.alerts.silences()) == 2  # all or nothing
