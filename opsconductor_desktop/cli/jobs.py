"""``opsconductor jobs``, ``run``, ``exec`` and ``snmp``: jobs and one-off requests."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from opsconductor_desktop.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    csv_list,
    out,
    print_json,
    print_table,
    read_input,
)
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.services.app import Core

# ---- jobs -----------------------------------------------------------------------------------


async def cmd_jobs_list(core: Core, args: argparse.Namespace) -> int:
    jobs = await core.jobs.definitions()
    if args.format == "json":
        print_json(
            [
                {
                    "name": j.name,
                    "description": j.description,
                    "steps": len(j.definition.steps),
                    "version": j.version,
                }
                for j in jobs
            ]
        )
        return EXIT_OK
    print_table(
        [
            (
                j.name,
                len(j.definition.steps),
                ", ".join(s.type for s in j.definition.steps),
                j.description,
            )
            for j in jobs
        ],
        ["name", "steps", "types", "description"],
    )
    return EXIT_OK


async def cmd_jobs_show(core: Core, args: argparse.Namespace) -> int:
    job = await core.jobs.get(args.name)
    if args.format == "json":
        print_json({"name": job.name, "version": job.version, **dict(job.definition.source)})
        return EXIT_OK
    import yaml

    print(yaml.safe_dump(dict(job.definition.source), sort_keys=False).rstrip(), file=out())
    return EXIT_OK


async def cmd_jobs_import(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.services.jobs import load_job_document

    text, source = await asyncio.to_thread(read_input, args.file)
    job = load_job_document(text, source)
    info, outcome = await core.jobs.save(job)
    print(f"{outcome} job {info.name} ({len(info.definition.steps)} step(s))", file=out())
    return EXIT_OK


async def cmd_jobs_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.jobs.delete(name)
    print(f"deleted {len(args.names)} job(s)", file=out())
    return EXIT_OK


async def cmd_jobs_runs(core: Core, args: argparse.Namespace) -> int:
    runs = await core.jobs.runs(limit=args.limit, job=args.job)
    if args.format == "json":
        print_json(
            [
                {
                    "id": str(r.id),
                    "job": r.job_name,
                    "status": r.status.value,
                    "actor": r.actor,
                    "created_at": r.created_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "total": r.total,
                    "succeeded": r.succeeded,
                    "failed": r.failed,
                    "cancelled": r.cancelled,
                }
                for r in runs
            ]
        )
        return EXIT_OK
    print_table(
        [
            (
                str(r.id)[:8],
                r.job_name,
                r.status.value,
                r.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                f"{r.succeeded}/{r.total}",
                r.failed,
                r.actor,
            )
            for r in runs
        ],
        ["run", "job", "status", "started", "ok", "failed", "by"],
    )
    return EXIT_OK


def _selection_from_args(args: argparse.Namespace) -> Any:
    from opsconductor_desktop.domain.jobs import Selection

    return Selection(
        tuple(csv_list(args.targets)),
        tuple(csv_list(args.groups)),
        getattr(args, "rule", None) or None,
    )


async def _follow(core: Core, handle: Any, fmt: str) -> int:
    """Print progress lines while a run goes on; its results at the end."""
    from opsconductor_desktop.domain.jobs import RunStatus

    def show(progress: Any) -> None:
        mine = progress.run_id == handle.run_id and progress.target
        if fmt == "table" and mine and progress.kind == "target-finished":
            print(
                f"{progress.target}: {progress.status.value}"
                f"{' - ' + progress.line if progress.line else ''}",
                file=sys.stderr,
            )

    unsubscribe = core.jobs.subscribe_progress(show)
    try:
        status = await handle.wait()
    except asyncio.CancelledError:
        core.jobs.cancel(handle.run_id)
        raise
    finally:
        unsubscribe()
    targets = await core.jobs.run_targets(handle.run_id)
    if fmt == "json":
        print_json(
            {
                "run": str(handle.run_id),
                "status": status.value,
                "targets": [
                    {
                        "name": t.name,
                        "address": t.address,
                        "status": t.status.value,
                        "error": t.error,
                        "steps": [
                            {
                                "name": st.name,
                                "type": st.type,
                                "status": st.status.value,
                                "exit_status": st.exit_status,
                                "stdout": st.stdout.decode("utf-8", "replace"),
                                "stderr": st.stderr.decode("utf-8", "replace"),
                                "stdout_truncated": st.stdout_truncated,
                                "data": st.data,
                                "error": st.error,
                                "duration_ms": st.duration_ms,
                            }
                            for st in t.steps
                        ],
                    }
                    for t in targets
                ],
            }
        )
    else:
        for t in targets:
            print(f"=== {t.name} ({t.address}): {t.status.value}", file=out())
            for st in t.steps:
                text = st.stdout.decode("utf-8", "replace").rstrip()
                print(
                    f"--- {st.name} [{st.status.value}]{' ' + st.error if st.error else ''}",
                    file=out(),
                )
                if text:
                    print(text + (" [output truncated]" if st.stdout_truncated else ""), file=out())
        ok = sum(t.status is RunStatus.SUCCEEDED for t in targets)
        print(
            f"run {str(handle.run_id)[:8]}: {status.value}, {ok}/{len(targets)} succeeded",
            file=out(),
        )
    return EXIT_OK if status is RunStatus.SUCCEEDED else EXIT_FAILED


async def cmd_run(core: Core, args: argparse.Namespace) -> int:
    await core.jobs.recover()
    handle = await core.jobs.start_named(args.job, selection=_selection_from_args(args))
    return await _follow(core, handle, args.format)


async def cmd_exec(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.services.jobs import adhoc_job

    job = adhoc_job(
        ssh=args.ssh, snmp_get=csv_list(args.snmp_get), ping=args.ping, timeout=args.timeout
    )
    selection = _selection_from_args(args)
    if selection.empty:
        raise ValidationError("give --targets and/or --groups")
    handle = await core.jobs.start(job, selection=selection)
    return await _follow(core, handle, args.format)


async def cmd_snmp(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.domain.jobs import Selection, parse_job

    step: dict[str, Any] = {"type": f"snmp.{args.sub}", "timeout": args.timeout}
    if args.sub == "get":
        step["oids"] = args.oid
    elif args.sub == "walk":
        step["oid"] = args.oid[0]
    else:
        if len(args.oid) != 3:
            raise ValidationError("snmp set needs OID TYPE VALUE")
        step.update(oid=args.oid[0], value_type=args.oid[1], value=args.oid[2])
    job = parse_job({"name": f"snmp {args.sub}", "steps": [step]})
    handle = await core.jobs.start(job, selection=Selection(targets=(args.target,)))
    status = await handle.wait()
    (target,) = await core.jobs.run_targets(handle.run_id)
    (result,) = target.steps or (None,)
    if result is None:
        raise ValidationError(target.error or "no result")
    if args.format == "json":
        print_json(
            {
                "target": target.name,
                "status": result.status.value,
                "varbinds": result.data.get("varbinds", []),
                "error": result.error,
            }
        )
    else:
        text = result.stdout.decode("utf-8", "replace").rstrip()
        if text:
            print(text, file=out())
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    return EXIT_OK if status.value == "succeeded" else EXIT_FAILED
