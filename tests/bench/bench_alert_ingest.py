"""Benchmark: 50,000 normalized alerts, 80 % duplicates, through the alert manager.

Sources submit batches (default 500) of which four in five repeat a problem already
submitted, so the manager both opens alerts (one bulk INSERT per batch) and bumps open
ones (one bulk UPDATE). Runs on SQLite and PostgreSQL (pgserver or ``--dburl``) and
prints alerts/s and the database's final row counts. Goal (issue): ≥ 5,000 alerts/s on
SQLite. Never asserts on time.

Run: ``make bench`` or ``.venv/bin/pytest -q -s tests/bench/bench_alert_ingest.py
-p no:cacheprovider --override-ini addopts=``. Sizes: OPSC_BENCH_ALERTS (50000),
OPSC_BENCH_ALERT_BATCH (500).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from sqlalchemy import func, select

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import open_core
from opsconductor_desktop.store.models import AlertEventRow, AlertRow

N = int(os.environ.get("OPSC_BENCH_ALERTS", "50000"))
BATCH = int(os.environ.get("OPSC_BENCH_ALERT_BATCH", "500"))
GOAL_SQLITE = 5_000.0


def make_alerts(n: int = N, duplicate_share: float = 0.8) -> list[NormalizedAlert]:
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


async def test_alert_ingest(db_url: str, home: Path) -> None:
    alerts = make_alerts()
    core = await open_core(home=home, db_url=db_url, secrets=SecretStore(), actor="bench")
    try:
        manager = core.alerts.manager
        start = time.perf_counter()
        for i in range(0, len(alerts), BATCH):
            await manager.submit(alerts[i : i + BATCH])
        elapsed = time.perf_counter() - start
        async with core.ctx.db.session() as session:
            rows = (await session.execute(select(func.count()).select_from(AlertRow))).scalar()
            events = (
                await session.execute(select(func.count()).select_from(AlertEventRow))
            ).scalar()
            total = (await session.execute(select(func.sum(AlertRow.count)))).scalar()
    finally:
        await core.close()
    rate = len(alerts) / elapsed
    dialect = db_url.split(":", 1)[0]
    verdict = ""
    if dialect == "sqlite":
        verdict = " PASS" if rate >= GOAL_SQLITE else f" MISS (goal {GOAL_SQLITE:,.0f}/s)"
    print(
        f"\nalert ingest [{dialect}]: {len(alerts):,} alerts in batches of {BATCH} "
        f"in {elapsed:.2f} s = {rate:,.0f} alerts/s{verdict}; "
        f"{rows:,} alert rows, {events:,} events, counts sum {total:,}"
    )
