"""Benchmark: 50,000 normalized alerts, 80 % duplicates, through the alert manager.

Sources submit batches (default 500) of which four in five repeat a problem already
submitted, so the manager both opens alerts (one bulk INSERT per batch) and bumps open
ones (one bulk UPDATE). Runs on SQLite and PostgreSQL (pgserver or ``--dburl``) and
prints alerts/s against the issue's goal (≥ 5,000 alerts/s on SQLite), the mean time of a
batch, PostgreSQL's rate as a share of SQLite's, and the database's final row counts,
which it checks (one alert and one "opened" event per problem, every repeat counted).
Never asserts on time: the machine may be shared, which is why the process's CPU time
(this process and its SQLite thread, not the PostgreSQL server) is printed too.

Run: ``make bench`` or ``.venv/bin/pytest -q -s tests/bench/bench_alert_ingest.py
-p no:cacheprovider --override-ini addopts=``. Sizes: OPSC_BENCH_ALERTS (50000),
OPSC_BENCH_ALERT_BATCH (500; a comma-separated list runs each, e.g. ``100,500,2000``).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import open_core
from opsconductor_desktop.store.models import AlertEventRow, AlertRow

N = int(os.environ.get("OPSC_BENCH_ALERTS", "50000"))
BATCHES = [int(b) for b in os.environ.get("OPSC_BENCH_ALERT_BATCH", "500").split(",")]
DUPLICATE_SHARE = 0.8
GOAL_SQLITE = 5_000.0

#: alerts/s per (dialect, batch size) measured in this session, for the ratios
_rates: dict[tuple[str, int], float] = {}


def make_alerts(n: int = N, duplicate_share: float = DUPLICATE_SHARE) -> list[NormalizedAlert]:
    """``n`` alerts over ``n * (1 - duplicate_share)`` distinct problems, shuffled."""
    rng = random.Random(42)
    distinct = max(1, round(n * (1 - duplicate_share)))
    sevs = [s for s in Severity if s is not Severity.CLEAR]

    def one(i: int) -> NormalizedAlert:
        return NormalizedAlert(
            source="rule",
            key=f"ifDown:{i % 48}",
            severity=sevs[i % len(sevs)],
            summary=f"interface {i % 48} down on dev-{i // 48:05d}",
            target=f"dev-{i // 48:05d}",
            details={"ifIndex": i % 48},
        )

    problems = [one(i) for i in range(distinct)]
    alerts = problems + [problems[rng.randrange(distinct)] for _ in range(n - distinct)]
    # first occurrences early but mixed in with repeats, as a busy estate sends them
    head, tail = alerts[: distinct * 2], alerts[distinct * 2 :]
    rng.shuffle(head)
    rng.shuffle(tail)
    return head + tail


@pytest.mark.parametrize("batch", BATCHES)
async def test_alert_ingest(db_url: str, home: Path, batch: int) -> None:
    alerts = make_alerts()
    core = await open_core(home=home, db_url=db_url, secrets=SecretStore(), actor="bench")
    try:
        manager = core.alerts.manager
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(alerts), batch):
            await manager.submit(alerts[i : i + batch])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        async with core.ctx.db.session() as session:
            rows = (await session.execute(select(func.count()).select_from(AlertRow))).scalar()
            events = (
                await session.execute(select(func.count()).select_from(AlertEventRow))
            ).scalar()
            total = (await session.execute(select(func.sum(AlertRow.count)))).scalar()
    finally:
        await core.close()
    dialect = db_url.split(":", 1)[0].split("+", 1)[0]
    rate = len(alerts) / elapsed
    _rates[(dialect, batch)] = rate
    batches = -(-len(alerts) // batch)
    print(
        f"\nalert ingest [{dialect}]: {len(alerts):,} alerts in {batches} batches of {batch} "
        f"in {elapsed:.2f} s (CPU {cpu:.2f} s) = {rate:,.0f} alerts/s "
        f"({1000 * elapsed / batches:.1f} ms a batch)"
        f"{_verdict(dialect, batch, rate)}; "
        f"{rows:,} alert rows, {events:,} events, counts sum {total:,}"
    )
    distinct = len({a.fingerprint for a in alerts})
    assert (rows, events, total) == (distinct, distinct, len(alerts))


def _verdict(dialect: str, batch: int, rate: float) -> str:
    if dialect == "sqlite":
        verdict = "PASS" if rate >= GOAL_SQLITE else "MISS"
        return f" — {verdict}: {rate / GOAL_SQLITE:.2f}× the goal of {GOAL_SQLITE:,.0f}/s"
    sqlite = _rates.get(("sqlite", batch))
    if sqlite is None:
        return ""
    return f" — {rate / sqlite:.2f}× SQLite's rate, {rate / GOAL_SQLITE:.2f}× the SQLite goal"
