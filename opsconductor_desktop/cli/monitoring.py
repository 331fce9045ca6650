"""``opsconductor monitors``, ``rules``, ``silences import``, ``poll`` and ``agent``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from opsconductor_desktop.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    local,
    out,
    print_json,
    print_table,
    read_input,
)
from opsconductor_desktop.domain.display import number_text, seconds_text
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.services.app import Core

# ---- monitoring -----------------------------------------------------------------------------


def _load_monitoring(path: str, bare: str) -> Any:
    from opsconductor_desktop.services.monitoring import load_documents

    text, source = read_input(path)
    return load_documents(text, source, bare=bare)


async def cmd_monitors_list(core: Core, args: argparse.Namespace) -> int:
    monitors = await core.monitoring.monitors()
    if args.format == "json":
        print_json([dict(m.monitor.source) | {"name": m.name} for m in monitors])
        return EXIT_OK
    print_table(
        [
            (
                m.name,
                m.monitor.kind.value,
                "yes" if m.monitor.enabled else "no",
                seconds_text(m.monitor.interval),
                seconds_text(m.monitor.timeout),
                m.monitor.retries,
                _selection_text(m.monitor.select),
                ", ".join(x.name for x in m.monitor.metrics)
                or (m.monitor.method.value if m.monitor.method else ""),
            )
            for m in monitors
        ],
        ["name", "kind", "enabled", "interval", "timeout", "retries", "applies to", "metrics"],
    )
    return EXIT_OK


def _selection_text(selection: Any) -> str:
    parts = [f"targets {','.join(selection.targets)}"] if selection.targets else []
    parts += [f"groups {','.join(selection.groups)}"] if selection.groups else []
    parts += [f"rule {selection.rule}"] if selection.rule else []
    return "; ".join(parts) or "every target"


async def _import_sections(core: Core, args: argparse.Namespace, section: str) -> int:
    docs = _load_monitoring(args.file, section)
    wanted = getattr(docs, section)
    if not wanted:
        raise ValidationError(f"{args.file}: no {section} in the file")
    if section == "silences":
        for spec in docs.silences:
            info = await core.alerts.add_silence(
                spec.matchers,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
                weekly=spec.weekly,
                comment=spec.comment,
            )
            print(f"silence {str(info.id)[:8]} added ({spec.matchers.describe()})", file=out())
        return EXIT_OK
    for kind, name, outcome in await core.monitoring.import_documents(docs, (section,)):
        print(f"{kind} {name}: {outcome}", file=out())
    return EXIT_OK


async def cmd_monitors_import(core: Core, args: argparse.Namespace) -> int:
    return await _import_sections(core, args, "monitors")


async def cmd_monitors_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.monitoring.remove_monitor(name)
    print(f"removed {len(args.names)} monitor(s)", file=out())
    return EXIT_OK


async def cmd_monitors_status(core: Core, args: argparse.Namespace) -> int:
    states = await core.monitoring.check_states(
        target=args.target, monitor=args.monitor, failing=args.failing
    )
    if args.format == "json":
        print_json(
            [
                {
                    "monitor": s.monitor,
                    "target": s.target,
                    "ok": s.ok,
                    "last_at": s.last_at.isoformat(),
                    "last_ok_at": s.last_ok_at.isoformat() if s.last_ok_at else None,
                    "failures": s.failures,
                    "duration_ms": round(s.duration_ms, 1),
                    "error": s.error,
                }
                for s in states
            ]
        )
        return EXIT_OK
    print_table(
        [
            (
                s.target,
                s.monitor,
                "ok" if s.ok else "FAILING",
                local(s.last_at),
                s.failures,
                f"{s.duration_ms:.0f} ms",
                s.error,
            )
            for s in states
        ],
        ["target", "monitor", "state", "last check", "failures", "took", "error"],
    )
    return EXIT_OK


async def cmd_rules_list(core: Core, args: argparse.Namespace) -> int:
    rules = await core.monitoring.rules()
    if args.format == "json":
        print_json([dict(r.rule.source) | {"name": r.name} for r in rules])
        return EXIT_OK
    rows = []
    for info in rules:
        r = info.rule
        hold = f"{r.for_checks} checks" if r.for_checks > 1 else ""
        if r.for_seconds:
            hold = (hold + " and " if hold else "") + seconds_text(r.for_seconds)
        clear = "" if r.clear_threshold is None else number_text(r.clear_threshold)
        rows.append(
            (
                r.name,
                "yes" if r.enabled else "no",
                f"{r.metric} {r.op} {number_text(r.threshold)}",
                clear,
                hold,
                r.severity.label,
                _selection_text(r.scope),
            )
        )
    print_table(rows, ["name", "enabled", "condition", "clear", "held for", "severity", "scope"])
    return EXIT_OK


async def cmd_rules_import(core: Core, args: argparse.Namespace) -> int:
    return await _import_sections(core, args, "rules")


async def cmd_rules_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.monitoring.remove_rule(name)
    print(f"removed {len(args.names)} rule(s)", file=out())
    return EXIT_OK


async def cmd_silences_import(core: Core, args: argparse.Namespace) -> int:
    return await _import_sections(core, args, "silences")


async def cmd_poll(core: Core, args: argparse.Namespace) -> int:
    polling = core.polling
    polling.keep_results = True
    report = await polling.round(every=args.all)
    if args.format == "json":
        print_json(
            {
                "checks": report.checks,
                "ok": report.ok,
                "failed": report.failed,
                "samples": report.samples,
                "alerts_opened": report.alerts_opened,
                "alerts_resolved": report.alerts_resolved,
                "results": [
                    {
                        "monitor": r.monitor,
                        "target": r.target,
                        "at": r.at.isoformat(),
                        "ok": r.ok,
                        "duration_ms": round(r.duration_ms, 1),
                        "samples": dict(r.samples),
                        "error": r.error,
                    }
                    for r in report.results
                ],
            }
        )
    else:
        print_table(
            [
                (
                    r.target,
                    r.monitor,
                    "ok" if r.ok else "FAILED",
                    f"{r.duration_ms:.0f} ms",
                    ", ".join(f"{k}={number_text(v)}" for k, v in r.samples[:6])
                    + (" ..." if len(r.samples) > 6 else ""),
                    r.error,
                )
                for r in sorted(report.results, key=lambda r: (r.target, r.monitor))
            ],
            ["target", "monitor", "result", "took", "samples", "error"],
        )
        print(
            f"{report.checks} check(s): {report.ok} ok, {report.failed} failed; "
            f"{report.samples} sample(s); alerts {report.alerts_opened} opened, "
            f"{report.alerts_resolved} resolved",
            file=out(),
        )
    return EXIT_OK if report.failed == 0 else EXIT_FAILED


async def cmd_agent(core: Core, args: argparse.Namespace) -> int:
    import gc
    import signal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    polling = core.polling
    # what exists at start-up lives as long as the agent: keep it out of full collections
    # (a full pass over it stalled the loop 120-250 ms every few minutes)
    gc.collect()
    gc.freeze()
    print(
        f"agent {polling.dispatcher.owner} running on {core.db_info}; SIGINT or SIGTERM stops it",
        file=sys.stderr,
        flush=True,
    )
    for started in await core.connectors.start_receivers():
        detail = f": {started.message}" if started.message else ""
        print(
            f"connector {started.name} ({started.kind}): {started.outcome}{detail}",
            file=sys.stderr,
            flush=True,
        )
    watcher = asyncio.create_task(_agent_status(polling, stop, args.status_every))
    try:
        await polling.run(stop, drain=args.drain)
    finally:
        await core.connectors.stop_receivers()
        stop.set()
        await watcher
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    status = polling.status()
    print(
        f"agent stopped: {status['completed']} unit(s) done, {status['failed']} failed, "
        f"{status['samples']} sample(s) written",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_OK


async def _agent_status(polling: Any, stop: asyncio.Event, every: float) -> None:
    if every <= 0:
        await stop.wait()
        return
    while not stop.is_set():
        try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
            async with asyncio.timeout(every):
                await stop.wait()
        except TimeoutError:
            s = polling.status()
            print(
                f"agent: {s['in_flight']} in flight, {s['completed']} done, "
                f"{s['failed']} failed, {s['samples']} sample(s)",
                file=sys.stderr,
                flush=True,
            )
