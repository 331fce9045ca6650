"""Polling: the dispatcher's monitor checks, wired to the inventory, samples and alerts.

``PollingService`` plans the dispatcher's rows — one ``check`` per (monitor, target) the
monitor's selection resolves to, one ``connector`` poll per enabled ``http_poll``
connector, plus ``rollup``, ``retention`` and alert ``maintain`` — and plans again
whenever targets, groups, credentials, monitors, rules or connectors change (their
change counters), so membership changes take effect without a restart. Check results are
buffered and written in batches (samples, series, check states), then evaluated against
the rules; the alerts they raise go to the one alert manager through ``AlertService``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from opsconductor_desktop.config import Settings
from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.domain.jobs import Selection
from opsconductor_desktop.domain.monitors import Monitor
from opsconductor_desktop.domain.thresholds import AlertRule
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.dispatcher import Dispatcher, Due, Plan
from opsconductor_desktop.runtime.evaluator import Evaluator, OpenAlert
from opsconductor_desktop.runtime.metric_store import MetricStore
from opsconductor_desktop.runtime.poller import CheckResult, Poller
from opsconductor_desktop.runtime.steps import TargetWork
from opsconductor_desktop.runtime.waiting import wait_event
from opsconductor_desktop.services.uow import ServiceContext, bump_counter
from opsconductor_desktop.store.models import AlertRow, ChangeCounterRow

if TYPE_CHECKING:
    from opsconductor_desktop.services.alerts import AlertService
    from opsconductor_desktop.services.connectors import ConnectorService
    from opsconductor_desktop.services.jobs import JobService
    from opsconductor_desktop.services.monitoring import MonitoringService

log = logging.getLogger(__name__)

PLAN_TOPICS = tuple(
    e.value
    for e in (
        Entity.TARGET,
        Entity.GROUP,
        Entity.CREDENTIAL,
        Entity.MONITOR,
        Entity.ALERT_RULE,
        Entity.CONNECTOR,
    )
)
HOUSEKEEPING: dict[tuple[str, str], float] = {
    ("rollup", "samples"): 300.0,
    ("retention", "samples"): 3600.0,
    ("maintain", "alerts"): 30.0,
}
FLUSH_RESULTS = 2000  # results buffered before a write is forced
FLUSH_INTERVAL = 1.0  # seconds between batched writes
REPLAN_INTERVAL = 2.0  # seconds between looks at the change counters
RESEED_INTERVAL = 10.0  # at most this often, the evaluator follows alerts changed elsewhere
RESEED_OVERLAP = timedelta(seconds=30)  # resolutions re-read across seeds (clock skew)
ALERT_TOPIC = Entity.ALERT.value
EVALUATE_BURST = 200  # results evaluated between yields to the loop


@dataclass
class RoundReport:
    """What one round (``poll --once``) or the running dispatcher did."""

    checks: int = 0
    ok: int = 0
    failed: int = 0
    samples: int = 0
    alerts_opened: int = 0
    alerts_resolved: int = 0
    results: list[CheckResult] = field(default_factory=list)


@dataclass
class _Plan:
    monitors: dict[uuid.UUID, Monitor]
    monitor_ids: dict[str, uuid.UUID]
    works: dict[uuid.UUID, TargetWork]
    pairs: set[tuple[uuid.UUID, uuid.UUID]]
    rules: list[AlertRule]
    scopes: dict[str, frozenset[str] | None]


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class PollingService:
    """See the module docstring. One per process; ``run`` until stopped, or ``round``."""

    def __init__(
        self,
        ctx: ServiceContext,
        settings: Settings,
        monitoring: MonitoringService,
        jobs: JobService,
        alerts: AlertService,
        *,
        keep_results: bool = False,
        connectors: ConnectorService | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.monitoring = monitoring
        self.jobs = jobs
        self.alerts = alerts
        self.connectors = connectors
        self.poller = Poller(jobs.executor.snmp, jobs.executor.ssh)
        self.store = MetricStore(ctx.db)
        self.evaluator = Evaluator()
        self.dispatcher = Dispatcher(
            ctx.db,
            owner_id(),
            {
                "check": self._check,
                "rollup": self._rollup,
                "retention": self._retention,
                "maintain": self._maintain,
                "connector": self._connector,
            },
            max_in_flight=settings.poll_concurrency,
        )
        self.report = RoundReport()
        self.keep_results = keep_results
        self._plan: _Plan | None = None
        self._plan_token: dict[str, int] | None = None
        self._last_look = 0.0
        self._buffer: list[CheckResult] = []
        self._flush_lock = asyncio.Lock()
        self._seeded = False
        self._alert_token: int | None = None  # the alert counter at the last seed
        self._seeded_at: datetime | None = None  # when the last seed read the alerts
        self._last_seed = 0.0  # monotonic

    # ---- planning -----------------------------------------------------------------------

    async def _counters(self) -> dict[str, int]:
        """The plan topics' change counters (and the alerts', under ``ALERT_TOPIC``)."""
        async with self.ctx.db.session() as s:
            rows = await s.execute(
                select(ChangeCounterRow.topic, ChangeCounterRow.counter).where(
                    ChangeCounterRow.topic.in_((*PLAN_TOPICS, ALERT_TOPIC))
                )
            )
            return {t: int(c) for t, c in rows.all()}

    @staticmethod
    def _plan_part(counters: dict[str, int]) -> dict[str, int]:
        return {t: c for t, c in counters.items() if t != ALERT_TOPIC}

    async def plan(self) -> Plan:
        """Resolve every enabled monitor to its targets; the dispatcher's rows."""
        token = self._plan_part(await self._counters())
        monitors = [m for m in await self.monitoring.monitors() if m.monitor.enabled]
        rules = [r.rule for r in await self.monitoring.rules() if r.rule.enabled]
        pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
        chosen: dict[uuid.UUID, Any] = {}
        estate = await self.jobs.estate()  # one load for every monitor and rule
        for info in monitors:
            try:
                targets = await self.jobs.resolve(info.monitor.select, estate)
            except OpsError as exc:  # e.g. a group named by the monitor was deleted
                log.warning("monitor %s selects nothing: %s", info.name, exc)
                continue
            for t in targets:
                chosen[t.id] = t
                pairs.add((info.id, t.id))
        chosen_targets = list(chosen.values())
        works = {w.target_id: w for w in await self.jobs.target_works(chosen_targets, estate)}
        scopes: dict[str, frozenset[str] | None] = {}
        for rule in rules:
            if rule.scope.empty:
                scopes[rule.name] = None
                continue
            try:
                scoped = await self.jobs.resolve(rule.scope, estate)
                scopes[rule.name] = frozenset(t.name for t in scoped)
            except OpsError as exc:
                log.warning("rule %s has an empty scope: %s", rule.name, exc)
                scopes[rule.name] = frozenset()
        old = self._plan
        self._plan = _Plan(
            {m.id: m.monitor for m in monitors},
            {m.name: m.id for m in monitors},
            works,
            pairs,
            rules,
            scopes,
        )
        if old is not None:
            for monitor_id, target_id in old.pairs - pairs:
                name = old.monitors[monitor_id].name
                self.poller.forget(target_id, name)
        self.evaluator.set_rules(rules, scopes)
        self._plan_token = token
        plan: dict[tuple[str, str], float] = dict(HOUSEKEEPING)
        by_id = self._plan.monitors
        for monitor_id, target_id in pairs:
            plan[("check", f"{monitor_id}/{target_id}")] = by_id[monitor_id].interval
        if self.connectors is not None:  # enabled http_poll connectors, by name
            for name, interval in (await self.connectors.plan()).items():
                plan[("connector", name)] = interval
        return plan

    async def _replan(self) -> Plan | None:
        """A new plan when something it depends on changed (looked at every few seconds)."""
        now = time.monotonic()
        if self._plan is not None and now - self._last_look < REPLAN_INTERVAL:
            return None
        self._last_look = now
        counters = await self._counters()
        alerts = counters.get(ALERT_TOPIC, 0)
        if (
            self._seeded
            and alerts != self._alert_token
            and now - self._last_seed >= RESEED_INTERVAL
        ):
            await self.seed()  # alerts changed (here, elsewhere, by an operator): follow them
        if self._plan is not None and self._plan_part(counters) == self._plan_token:
            return None
        return await self.plan()

    async def seed(self) -> int:
        """Re-seed rule and reachability state from the stored alerts (see
        ``Evaluator.seed``): at start-up every open one; later, whenever the alerts changed,
        those opened or resolved since the last seed (with ``RESEED_OVERLAP`` for clocks
        that differ between consoles)."""
        counters = await self._counters()  # before the read: a change meanwhile reseeds
        since = self._seeded_at
        read_at = utcnow()
        columns = (AlertRow.source, AlertRow.key, AlertRow.target_name, AlertRow.status)
        is_open = AlertRow.status != AlertStatus.RESOLVED.value
        wanted: Any = is_open  # the first seed: every open alert
        if since is not None:  # later ones: what opened or resolved since (a short read)
            recent = since - RESEED_OVERLAP
            wanted = or_(
                and_(is_open, AlertRow.first_seen >= recent), AlertRow.resolved_at >= recent
            )
        async with self.ctx.db.session() as s:
            rows = (
                await s.execute(
                    select(*columns).where(AlertRow.source.in_(("rule", "reachability")), wanted)
                )
            ).all()
        opened = [OpenAlert(*r[:3]) for r in rows if r[3] != AlertStatus.RESOLVED.value]
        resolved = [OpenAlert(*r[:3]) for r in rows if r[3] == AlertStatus.RESOLVED.value]
        monitors = {m.name: m for m in (self._plan.monitors.values() if self._plan else ())}
        self._seeded = True
        self._seeded_at = read_at
        self._alert_token = counters.get(ALERT_TOPIC, 0)
        self._last_seed = time.monotonic()
        return self.evaluator.seed(opened, monitors, resolved)

    async def prepare(self) -> None:
        """Plan, sync the dispatcher's rows and re-seed (when the alerts changed since the
        last seed): what ``run`` and ``round`` do first."""
        await self.dispatcher.sync(await self.plan())
        if not self._seeded or (await self._counters()).get(ALERT_TOPIC, 0) != self._alert_token:
            await self.seed()

    async def test_check(self, monitor: Monitor, target: str) -> CheckResult:
        """Run ``monitor`` once on one target and store nothing (the GUI's "Test").

        Counters get their own baselines here, so a test never disturbs the rates the
        dispatcher computes; a counter's first reading gives no rate, as on first contact.
        """
        estate = await self.jobs.estate()
        (found,) = await self.jobs.resolve(Selection(targets=(target,)), estate)
        (work,) = await self.jobs.target_works([found], estate)
        return await Poller(self.poller.snmp, self.poller.ssh).check(monitor, work)

    # ---- handlers -----------------------------------------------------------------------

    async def _check(self, due: Due) -> None:
        plan = self._plan
        monitor_ref, _, target_ref = due.ref.partition("/")
        try:
            monitor_id, target_id = uuid.UUID(monitor_ref), uuid.UUID(target_ref)
        except ValueError:
            raise OpsError(f"malformed check reference {due.ref!r}") from None
        if plan is None or (monitor_id, target_id) not in plan.pairs:
            return  # planned by an older plan (or another console); the next sync drops it
        monitor, work = plan.monitors[monitor_id], plan.works[target_id]
        result = await self.poller.check(monitor, work)
        self._buffer.append(result)
        if len(self._buffer) >= FLUSH_RESULTS:
            await self.flush()

    async def _rollup(self, due: Due) -> None:
        await self.store.rollup()

    async def _retention(self, due: Due) -> None:
        await self.store.retention(
            raw_days=self.settings.samples_keep_days,
            rollup_days=self.settings.rollups_keep_days,
        )

    async def _maintain(self, due: Due) -> None:
        await self.alerts.maintain()

    async def _connector(self, due: Due) -> None:
        if self.connectors is None:
            return  # planned by a console with connectors; the next sync drops the row
        report = await self.connectors.poll(due.ref)
        if not report.ok and not report.skipped:
            log.info("connector %s: %s", due.ref, report.error)

    # ---- batched writes -----------------------------------------------------------------

    async def flush(self) -> int:
        """Write buffered results, evaluate them, submit the alerts; the results written."""
        async with self._flush_lock:
            if not self._buffer or self._plan is None:
                return 0
            batch, self._buffer = self._buffer, []
            plan = self._plan
            written = await self.store.write(batch, plan.monitor_ids)
            alerts: list[NormalizedAlert] = []
            for n, result in enumerate(batch, 1):
                monitor = plan.monitors.get(plan.monitor_ids.get(result.monitor, uuid.UUID(int=0)))
                if monitor is not None:
                    alerts += self.evaluator.observe(result, monitor)
                if n % EVALUATE_BURST == 0:
                    await asyncio.sleep(0)  # ~25-30 µs a result: let the loop breathe
            if alerts:
                submitted = await self.alerts.submit(alerts)
                self.report.alerts_opened += submitted.opened
                self.report.alerts_resolved += submitted.resolved
            if written:
                async with self.ctx.db.session() as s:
                    counter = await bump_counter(s, Entity.METRIC.value)
                self.ctx.local_counters[Entity.METRIC.value] = counter
                self.ctx.bus.publish(Changed(Entity.METRIC, Action.CREATED))
            self.report.checks += len(batch)
            self.report.ok += sum(1 for r in batch if r.ok)
            self.report.failed += sum(1 for r in batch if not r.ok)
            self.report.samples += written
            if self.keep_results:
                self.report.results += batch
            return len(batch)

    async def _flusher(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_event(stop, FLUSH_INTERVAL)
            try:
                await self.flush()
            except OpsError as exc:
                log.warning("could not write check results (kept for the next try): %s", exc)

    # ---- running ------------------------------------------------------------------------

    async def round(self, *, every: bool = False) -> RoundReport:
        """One round of every due check (``every``: every check), then the writes."""
        await self.prepare()
        self.report = RoundReport()
        await self.dispatcher.run_round(kinds=("check",), every=every)
        await self.flush()
        return self.report

    async def run(self, stop: asyncio.Event, *, drain: float = 8.0) -> None:
        """The dispatcher until ``stop``; then in-flight work drains and results are written."""
        await self.prepare()
        flusher = asyncio.create_task(self._flusher(stop), name="polling flusher")
        try:
            await self.dispatcher.run(stop, replan=self._replan, drain=drain)
        finally:
            stop.set()
            await flusher
            try:
                await self.flush()
            except OpsError as exc:
                log.warning("check results lost at shutdown: %s", exc)

    def status(self) -> Mapping[str, Any]:
        s = self.dispatcher.stats
        return {
            "owner": self.dispatcher.owner,
            "in_flight": self.dispatcher.in_flight,
            "claimed": s.claimed,
            "completed": s.completed,
            "failed": s.failed,
            "checks": self.report.checks,
            "samples": self.report.samples,
            "last_error": s.last_error,
        }
