"""The ``opsconductor`` command: the same services as the GUI, from a terminal.

Operator errors print one line on stderr and exit non-zero; tracebacks go to the log only.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from opsconductor_desktop import __version__, logs
from opsconductor_desktop.domain import rules as rule_lang
from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.credentials import SECRET_FIELDS, parse_credential_kind
from opsconductor_desktop.domain.display import number_text, seconds_text
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.silences import Matchers, Weekly, parse_duration
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SshProfile,
    TargetSpec,
    parse_kind,
    parse_snmp_version,
)
from opsconductor_desktop.domain.timeutil import to_local, utcnow
from opsconductor_desktop.paths import AppPaths
from opsconductor_desktop.services import inventory_formats as formats
from opsconductor_desktop.services.app import Core, open_core
from opsconductor_desktop.services.credentials import secret_from_fields
from opsconductor_desktop.services.records import spec_record

log = logging.getLogger("opsconductor.cli")

EXIT_OK, EXIT_FAILED, EXIT_UNEXPECTED = 0, 1, 70
Handler = Callable[[Core, argparse.Namespace], Coroutine[Any, Any, int]]


# ---- output ---------------------------------------------------------------------------------


def _out() -> TextIO:
    return sys.stdout


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip(), file=_out())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=_out())


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False), file=_out())


def _csv_list(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]


def _target_json(target: Any) -> dict[str, Any]:
    return {
        "id": str(target.id),
        **spec_record(target.spec),
        "groups": list(target.groups),
        "version": target.version,
        "created_at": target.created_at.isoformat(),
        "updated_at": target.updated_at.isoformat(),
    }


def _group_json(group: Any) -> dict[str, Any]:
    return {
        "id": str(group.id),
        "name": group.name,
        "description": group.description,
        "rule": str(group.rule) if group.rule else None,
        "vars": dict(group.vars),
        "static_members": group.static_count,
        "members": group.member_count,
        "version": group.version,
    }


# ---- db -------------------------------------------------------------------------------------


async def cmd_db_upgrade(core: Core, args: argparse.Namespace) -> int:
    result = await core.upgrade()
    if result.before == result.after:
        print(f"database is at {result.after} (up to date)", file=_out())
    else:
        print(f"upgraded {result.before or 'empty database'} -> {result.after}", file=_out())
        if result.backup:
            print(f"backup: {result.backup}", file=_out())
    return EXIT_OK


async def cmd_db_current(core: Core, args: argparse.Namespace) -> int:
    await core.ping()
    current, head = await core.db_revision(), await core.head_revision()
    state = "up to date" if current == head else f"head is {head}: run `opsconductor db upgrade`"
    if args.format == "json":
        print_json(
            {
                "database": str(core.db_info),
                "source": core.database.source,
                "revision": current,
                "head": head,
            }
        )
    else:
        print(f"{current or '(empty)'} ({state})", file=_out())
        print(f"database: {core.db_info} (from {core.database.source})", file=_out())
    return EXIT_OK


# ---- targets --------------------------------------------------------------------------------


async def cmd_targets_list(core: Core, args: argparse.Namespace) -> int:
    rule = rule_lang.parse(args.filter) if args.filter else None
    targets = await core.inventory.list_targets(rule=rule, limit=args.limit)
    if args.format == "json":
        print_json([_target_json(t) for t in targets])
        return EXIT_OK
    print_table(
        [
            (
                t.name,
                t.address,
                t.kind,
                t.vendor,
                t.site,
                ",".join(t.tags),
                "yes" if t.spec.enabled else "no",
                ",".join(t.groups),
            )
            for t in targets
        ],
        ["name", "address", "kind", "vendor", "site", "tags", "enabled", "groups"],
    )
    return EXIT_OK


async def cmd_targets_show(core: Core, args: argparse.Namespace) -> int:
    target = await core.inventory.get_target(args.name)
    effective = await core.inventory.effective_vars(target.id)
    if args.format == "json":
        data = _target_json(target)
        data["effective_vars"] = [
            {"key": v.key, "value": v.value, "source": v.source} for v in effective
        ]
        print_json(data)
        return EXIT_OK
    record = _target_json(target)
    record.pop("vars")
    for key, value in record.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{key:>16}: {'' if shown is None else shown}", file=_out())
    for var in effective:
        print(f"{'var ' + var.key:>16}: {var.value!r}  ({var.source})", file=_out())
    return EXIT_OK


def _spec_from_args(args: argparse.Namespace, base: TargetSpec | None = None) -> TargetSpec:
    """Build a spec from options; with ``base`` only the given options change."""
    b = base or TargetSpec(name=args.name, address=getattr(args, "address", "") or "")

    def pick(option: str, current: Any) -> Any:
        value = getattr(args, option, None)
        return current if value is None else value

    tags = list(b.tags) if args.tags is None else _csv_list(args.tags)
    tags = sorted(
        (set(tags) | set(_csv_list(getattr(args, "add_tags", None))))
        - set(_csv_list(getattr(args, "remove_tags", None)))
    )
    variables = dict(b.vars)
    for item in args.var or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--var needs KEY=VALUE, got {item!r}")
        variables[key.strip()] = value
    enabled = b.enabled if args.enabled is None else args.enabled
    snmp_version = (
        parse_snmp_version(args.snmp_version) if args.snmp_version is not None else b.snmp.version
    )
    return TargetSpec(
        name=pick("new_name", b.name),
        address=pick("address", b.address),
        kind=parse_kind(args.kind) if args.kind else b.kind,
        vendor=pick("vendor", b.vendor),
        model=pick("model", b.model),
        site=pick("site", b.site),
        description=pick("description", b.description),
        tags=tuple(tags),
        enabled=enabled,
        parent=(args.parent or None) if args.parent is not None else b.parent,
        snmp=SnmpProfile(
            snmp_version,
            pick("snmp_port", b.snmp.port),
            (args.snmp_credential or None)
            if args.snmp_credential is not None
            else b.snmp.credential,
        ),
        ssh=SshProfile(
            pick("ssh_port", b.ssh.port),
            (args.ssh_username or None) if args.ssh_username is not None else b.ssh.username,
            (args.ssh_credential or None) if args.ssh_credential is not None else b.ssh.credential,
        ),
        vars=variables,
    )


async def cmd_targets_add(core: Core, args: argparse.Namespace) -> int:
    target = await core.inventory.create_target(
        _spec_from_args(args), groups=_csv_list(args.groups)
    )
    print(f"created target {target.name} ({target.address})", file=_out())
    return EXIT_OK


async def cmd_targets_edit(core: Core, args: argparse.Namespace) -> int:
    target = await core.inventory.get_target(args.name)
    spec = _spec_from_args(args, target.spec)
    updated = await core.inventory.update_target(target.id, spec, expected_version=target.version)
    print(f"updated target {updated.name} (version {updated.version})", file=_out())
    return EXIT_OK


async def cmd_targets_rm(core: Core, args: argparse.Namespace) -> int:
    count = await core.inventory.delete_targets(args.names)
    print(f"deleted {count} target(s)", file=_out())
    return EXIT_OK


def _read_input(path: str) -> tuple[str, str]:
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8-sig"), file.name
    except FileNotFoundError:
        raise ValidationError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from None


async def cmd_targets_import(core: Core, args: argparse.Namespace) -> int:
    text, source = await asyncio.to_thread(_read_input, args.file)
    fmt = args.input_format or formats.detect_format(source, text)
    batch = formats.parse_inventory(text, source=source, format=fmt)
    report = await core.importer.run(
        batch, update=args.update, skip_invalid=args.skip_invalid, dry_run=args.dry_run
    )
    for error in report.errors:
        who = f" ({error.name})" if error.name else ""
        print(f"{source}:{error.line}{who}: {error.message}", file=sys.stderr)
    if args.format == "json":
        print_json(
            {
                "source": source,
                "written": report.written,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "groups_created": report.groups_created,
                "errors": [
                    {"line": e.line, "name": e.name, "message": e.message} for e in report.errors
                ],
            }
        )
    else:
        verb = "would write" if args.dry_run else ("wrote" if report.written else "wrote nothing:")
        tail = (
            ""
            if report.written or args.dry_run
            else (f" {len(report.errors)} bad row(s); fix them or use --skip-invalid")
        )
        print(f"{verb}{tail}", file=_out())
        print(
            f"  created {len(report.created)}, updated {len(report.updated)}, unchanged "
            f"{len(report.unchanged)}, groups created {len(report.groups_created)}, "
            f"rejected {len(report.errors)}",
            file=_out(),
        )
    return EXIT_OK if report.ok else EXIT_FAILED


async def cmd_targets_export(core: Core, args: argparse.Namespace) -> int:
    estate = await core.inventory.estate()
    targets = estate.targets()
    static = {
        tid: sorted(
            estate.group_rows[g].name for g, members in estate.static.items() if tid in members
        )
        for tid in estate.target_rows
    }
    rows = [(t.spec, static[t.id]) for t in targets]
    fmt = args.to or (Path(args.output).suffix.lstrip(".").lower() if args.output else "csv")
    if fmt == "csv":
        text = formats.export_csv(rows)
    elif fmt == "json":
        groups = [
            formats.ImportGroup(
                g.name, dict(g.vars), (), g.description, str(g.rule) if g.rule else None
            )
            for g in await core.inventory.list_groups()
        ]
        text = formats.export_json(rows, groups)
    else:
        raise ValidationError(f"cannot export to {fmt!r}: use csv or json")
    if args.output and args.output != "-":
        await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
        print(f"exported {len(rows)} target(s) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


# ---- groups ---------------------------------------------------------------------------------


async def cmd_groups_list(core: Core, args: argparse.Namespace) -> int:
    groups = await core.inventory.list_groups()
    if args.format == "json":
        print_json([_group_json(g) for g in groups])
        return EXIT_OK
    print_table(
        [
            (g.name, g.member_count, g.static_count, str(g.rule) if g.rule else "", g.description)
            for g in groups
        ],
        ["name", "members", "static", "rule", "description"],
    )
    return EXIT_OK


async def cmd_groups_show(core: Core, args: argparse.Namespace) -> int:
    group = await core.inventory.get_group(args.name)
    members = await core.inventory.effective_members(group.id)
    static = {t.id for t in await core.inventory.static_members(group.id)}
    if args.format == "json":
        data = _group_json(group)
        data["member_names"] = [t.name for t in members]
        print_json(data)
        return EXIT_OK
    print(
        f"group {group.name}: {group.member_count} member(s), {group.static_count} static",
        file=_out(),
    )
    if group.description:
        print(f"  {group.description}", file=_out())
    if group.rule:
        print(f"  rule: {group.rule}", file=_out())
    print_table(
        [(t.name, t.address, "static" if t.id in static else "rule") for t in members],
        ["member", "address", "via"],
    )
    return EXIT_OK


async def cmd_groups_add(core: Core, args: argparse.Namespace) -> int:
    rule = rule_lang.parse(args.rule) if args.rule else None
    group = await core.inventory.create_group(
        GroupSpec(args.name, args.description or "", rule), members=_csv_list(args.members)
    )
    print(f"created group {group.name} ({group.member_count} member(s))", file=_out())
    return EXIT_OK


async def cmd_groups_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.inventory.delete_group(name)
    print(f"deleted {len(args.names)} group(s)", file=_out())
    return EXIT_OK


async def cmd_groups_add_members(core: Core, args: argparse.Namespace) -> int:
    group = await core.inventory.add_members(args.group, args.targets)
    print(f"group {group.name}: {group.static_count} static member(s)", file=_out())
    return EXIT_OK


async def cmd_groups_rm_members(core: Core, args: argparse.Namespace) -> int:
    group = await core.inventory.remove_members(args.group, args.targets)
    print(f"group {group.name}: {group.static_count} static member(s)", file=_out())
    return EXIT_OK


async def cmd_groups_set_rule(core: Core, args: argparse.Namespace) -> int:
    rule = None if args.clear else rule_lang.parse(args.rule or "")
    group = await core.inventory.set_rule(args.group, rule)
    state = f"rule {group.rule}" if group.rule else "no rule (static group)"
    print(f"group {group.name}: {state}; {group.member_count} member(s)", file=_out())
    return EXIT_OK


# ---- credentials ----------------------------------------------------------------------------


def _read_secret(kind_fields: tuple[str, ...], kind: str) -> dict[str, str]:
    """Secrets come from a prompt or stdin, never from argv."""
    if sys.stdin.isatty():
        values = {}
        for name in kind_fields:
            if name == "private_key":
                print("Paste the private key, then Ctrl-D:", file=sys.stderr)
                values[name] = sys.stdin.read()
            else:
                optional = name in ("passphrase", "priv_key")
                label = name.replace("_", " ") + (" (empty for none)" if optional else "")
                values[name] = getpass.getpass(f"{label}: ")
        return values
    text = sys.stdin.read()
    if kind == "ssh-key":
        return {"private_key": text}
    lines = text.splitlines()
    return {name: (lines[i] if i < len(lines) else "") for i, name in enumerate(kind_fields)}


async def cmd_creds_list(core: Core, args: argparse.Namespace) -> int:
    creds = await core.credentials.list()
    if args.format == "json":
        print_json(
            [
                {
                    "id": str(c.id),
                    "name": c.name,
                    "kind": c.kind.value,
                    "username": c.username,
                    "auth_protocol": c.auth_protocol,
                    "priv_protocol": c.priv_protocol,
                }
                for c in creds
            ]
        )
        return EXIT_OK
    print_table(
        [
            (c.name, c.kind, c.username or "", c.auth_protocol or "", c.priv_protocol or "")
            for c in creds
        ],
        ["name", "kind", "username", "auth", "priv"],
    )
    return EXIT_OK


async def cmd_creds_add(core: Core, args: argparse.Namespace) -> int:
    kind = parse_credential_kind(args.kind)
    _ = core.ctx.secrets.backend  # say "no keyring" before prompting for a secret
    values = _read_secret(SECRET_FIELDS[kind], kind.value)
    secret = secret_from_fields(kind, values)
    cred = await core.credentials.create(
        args.name,
        kind,
        secret,
        username=args.username,
        auth_protocol=args.auth_protocol,
        priv_protocol=args.priv_protocol,
    )
    print(
        f"created credential {cred.name} ({cred.kind}); secret stored in the keyring", file=_out()
    )
    return EXIT_OK


async def cmd_creds_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.credentials.delete(name)
    print(f"deleted {len(args.names)} credential(s)", file=_out())
    return EXIT_OK


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

    print(yaml.safe_dump(dict(job.definition.source), sort_keys=False).rstrip(), file=_out())
    return EXIT_OK


async def cmd_jobs_import(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.services.jobs import load_job_document

    text, source = await asyncio.to_thread(_read_input, args.file)
    job = load_job_document(text, source)
    info, outcome = await core.jobs.save(job)
    print(f"{outcome} job {info.name} ({len(info.definition.steps)} step(s))", file=_out())
    return EXIT_OK


async def cmd_jobs_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.jobs.delete(name)
    print(f"deleted {len(args.names)} job(s)", file=_out())
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
        tuple(_csv_list(args.targets)),
        tuple(_csv_list(args.groups)),
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
            print(f"=== {t.name} ({t.address}): {t.status.value}", file=_out())
            for st in t.steps:
                out = st.stdout.decode("utf-8", "replace").rstrip()
                print(
                    f"--- {st.name} [{st.status.value}]{' ' + st.error if st.error else ''}",
                    file=_out(),
                )
                if out:
                    print(out + (" [output truncated]" if st.stdout_truncated else ""), file=_out())
        ok = sum(t.status is RunStatus.SUCCEEDED for t in targets)
        print(
            f"run {str(handle.run_id)[:8]}: {status.value}, {ok}/{len(targets)} succeeded",
            file=_out(),
        )
    return EXIT_OK if status is RunStatus.SUCCEEDED else EXIT_FAILED


async def cmd_run(core: Core, args: argparse.Namespace) -> int:
    await core.jobs.recover()
    handle = await core.jobs.start_named(args.job, selection=_selection_from_args(args))
    return await _follow(core, handle, args.format)


async def cmd_exec(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.services.jobs import adhoc_job

    job = adhoc_job(
        ssh=args.ssh, snmp_get=_csv_list(args.snmp_get), ping=args.ping, timeout=args.timeout
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
            print(text, file=_out())
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
    return EXIT_OK if status.value == "succeeded" else EXIT_FAILED


# ---- demo -----------------------------------------------------------------------------------


async def cmd_demo(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.services import demo

    summary = await demo.populate(core, targets=args.targets, seed=args.seed)
    for line in summary.lines():
        print(line, file=_out())
    return EXIT_OK


# ---- parser ---------------------------------------------------------------------------------


# ---- alerts ---------------------------------------------------------------------------------


def _local(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _alert_json(a: Any) -> dict[str, Any]:
    data = {
        "id": str(a.id),
        "severity": a.severity.label,
        "status": a.status.value,
        "source": a.source,
        "key": a.key,
        "target": a.target,
        "summary": a.summary,
        "details": dict(a.details),
        "count": a.count,
        "first_seen": a.first_seen.isoformat(),
        "last_seen": a.last_seen.isoformat(),
        "ack_by": a.ack_by,
        "ack_comment": a.ack_comment,
        "ack_expires": a.ack_expires.isoformat() if a.ack_expires else None,
        "suppressed_by": a.suppressed_by,
        "flapping": a.flapping,
        "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
        "version": a.version,
    }
    if a.events:
        data["events"] = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "from": e.from_status.value if e.from_status else None,
                "to": e.to_status.value,
                "comment": e.comment,
            }
            for e in a.events
        ]
    return data


async def cmd_alerts_list(core: Core, args: argparse.Namespace) -> int:
    alerts = await core.alerts.list(
        status=args.status,
        severity=args.severity,
        target=args.target,
        source=args.source,
        text=args.text,
        limit=args.limit,
    )
    if args.format == "json":
        print_json([_alert_json(a) for a in alerts])
        return EXIT_OK
    print_table(
        [
            (
                str(a.id)[:8],
                a.severity.label,
                a.status.value + (" (flapping)" if a.flapping else ""),
                a.target or "",
                a.source,
                a.summary,
                a.count,
                _local(a.last_seen),
            )
            for a in alerts
        ],
        ["id", "severity", "status", "target", "source", "summary", "count", "last seen"],
    )
    return EXIT_OK


async def cmd_alerts_show(core: Core, args: argparse.Namespace) -> int:
    a = await core.alerts.get(args.id)
    if args.format == "json":
        print_json(_alert_json(a))
        return EXIT_OK
    fields = [
        ("id", a.id),
        ("severity", a.severity.label),
        ("status", a.status.value),
        ("target", a.target or ""),
        ("source", a.source),
        ("key", a.key),
        ("summary", a.summary),
        ("count", a.count),
        ("first seen", _local(a.first_seen)),
        ("last seen", _local(a.last_seen)),
        ("flapping", "yes" if a.flapping else "no"),
    ]
    if a.ack_by:
        fields.append(("acknowledged by", f"{a.ack_by}: {a.ack_comment or ''}"))
        if a.ack_expires:
            fields.append(("ack expires", _local(a.ack_expires)))
    if a.suppressed_by:
        fields.append(("suppressed by", a.suppressed_by))
    if a.resolved_at:
        fields.append(("resolved", _local(a.resolved_at)))
    for name, value in fields:
        print(f"{name + ':':<17}{value}", file=_out())
    for key, value in a.details.items():
        print(f"  {key}: {value}", file=_out())
    print("", file=_out())
    print_table(
        [(_local(e.at), e.actor, e.from_status or "", e.to_status, e.comment) for e in a.events],
        ["at", "actor", "from", "to", "comment"],
    )
    return EXIT_OK


async def cmd_alerts_ack(core: Core, args: argparse.Namespace) -> int:
    expires = utcnow() + parse_duration(args.expires) if args.expires else None
    done = await core.alerts.acknowledge(args.ids, comment=args.comment or "", expires=expires)
    print(f"acknowledged {len(done)} alert(s)", file=_out())
    return EXIT_OK


async def cmd_alerts_unack(core: Core, args: argparse.Namespace) -> int:
    done = await core.alerts.unacknowledge(args.ids, comment=args.comment or "")
    print(f"unacknowledged {len(done)} alert(s)", file=_out())
    return EXIT_OK


async def cmd_alerts_resolve(core: Core, args: argparse.Namespace) -> int:
    done = await core.alerts.resolve(args.ids, comment=args.comment or "")
    print(f"resolved {len(done)} alert(s)", file=_out())
    return EXIT_OK


# ---- silences -------------------------------------------------------------------------------


def _parse_when(text: str) -> datetime:
    if text.strip().lower() == "now":
        return utcnow()
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"bad time {text!r}; write ISO 8601 or 'now'") from None
    if value.tzinfo is None:  # an operator types local time
        value = value.astimezone()
    return value


async def cmd_silences_list(core: Core, args: argparse.Namespace) -> int:
    silences = await core.alerts.silences(include_expired=args.all)
    if args.format == "json":
        print_json(
            [
                {
                    "id": str(s.id),
                    "matchers": s.matchers.to_json(),
                    "starts_at": s.silence.starts_at.isoformat(),
                    "ends_at": s.silence.ends_at.isoformat(),
                    "weekly": s.silence.weekly.to_json() if s.silence.weekly else None,
                    "author": s.silence.author,
                    "comment": s.silence.comment,
                    "active": s.active,
                }
                for s in silences
            ]
        )
        return EXIT_OK
    print_table(
        [
            (
                str(s.id)[:8],
                s.matchers.describe(),
                _local(s.silence.starts_at),
                _local(s.silence.ends_at),
                s.silence.weekly.describe() if s.silence.weekly else "",
                "yes" if s.active else "no",
                s.silence.author,
                s.silence.comment,
            )
            for s in silences
        ],
        ["id", "matchers", "starts", "ends", "weekly", "active", "author", "comment"],
    )
    return EXIT_OK


async def cmd_silences_add(core: Core, args: argparse.Namespace) -> int:
    matchers = Matchers(
        target=args.target,
        group=args.group,
        tag=args.tag,
        source=args.source,
        severity=Severity.parse(args.severity) if args.severity else None,
        key_regex=args.key_regex,
        summary_regex=args.summary_regex,
    )
    start = _parse_when(args.start)
    if args.end:
        end = _parse_when(args.end)
    elif args.duration:
        end = start + parse_duration(args.duration)
    else:
        raise ValidationError("give --end or --duration")
    weekly = Weekly.parse(args.weekly) if args.weekly else None
    info = await core.alerts.add_silence(
        matchers, starts_at=start, ends_at=end, weekly=weekly, comment=args.comment
    )
    print(f"silence {str(info.id)[:8]} added ({matchers.describe()})", file=_out())
    return EXIT_OK


async def cmd_silences_rm(core: Core, args: argparse.Namespace) -> int:
    for ref in args.ids:
        await core.alerts.remove_silence(ref)
    print(f"removed {len(args.ids)} silence(s)", file=_out())
    return EXIT_OK


# ---- monitoring -----------------------------------------------------------------------------


def _load_monitoring(path: str, bare: str) -> Any:
    from opsconductor_desktop.services.monitoring import load_documents

    text, source = _read_input(path)
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
            print(f"silence {str(info.id)[:8]} added ({spec.matchers.describe()})", file=_out())
        return EXIT_OK
    for kind, name, outcome in await core.monitoring.import_documents(docs, (section,)):
        print(f"{kind} {name}: {outcome}", file=_out())
    return EXIT_OK


async def cmd_monitors_import(core: Core, args: argparse.Namespace) -> int:
    return await _import_sections(core, args, "monitors")


async def cmd_monitors_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.monitoring.remove_monitor(name)
    print(f"removed {len(args.names)} monitor(s)", file=_out())
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
                _local(s.last_at),
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
    print(f"removed {len(args.names)} rule(s)", file=_out())
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
            file=_out(),
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
    for status in await core.connectors.start_receivers():
        detail = f": {status.message}" if status.message else ""
        print(
            f"connector {status.name} ({status.kind}): {status.outcome}{detail}",
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


# ---- connectors -----------------------------------------------------------------------------


def _assignments(pairs: Sequence[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` arguments; ``KEY=-`` reads the value from a prompt (or stdin), so a
    secret need not appear in the shell's history."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise ValidationError(f"expected KEY=VALUE, not {pair!r}")
        if value == "-":
            if sys.stdin.isatty():
                value = getpass.getpass(f"{key.strip()}: ")
            else:
                value = sys.stdin.readline().rstrip("\r\n")
        out[key.strip()] = value
    return out


def _connector_json(c: Any) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "name": c.name,
        "manifest": c.manifest_id,
        "manifest_version": c.manifest_version,
        "kind": c.kind.value,
        "enabled": c.enabled,
        "state": c.state.value,
        "last_poll_at": c.last_poll_at.isoformat() if c.last_poll_at else None,
        "last_success_at": c.last_success_at.isoformat() if c.last_success_at else None,
        "last_error": c.last_error,
        "failures": c.failures,
        "open_alerts": c.open_alerts,
        "interval": c.interval,
        "next_probe_at": c.next_probe_at.isoformat() if c.next_probe_at else None,
        "settings": dict(c.settings),
        "secrets_set": list(c.secrets_set),
        "missing": list(c.missing),
        "counters": dict(c.counters),
        "version": c.version,
    }


async def cmd_connectors_list(core: Core, args: argparse.Namespace) -> int:
    connectors = await core.connectors.list()
    if args.format == "json":
        print_json([_connector_json(c) for c in connectors])
        return EXIT_OK
    print_table(
        [
            (
                c.name,
                c.kind.value,
                f"{c.manifest_id} {c.manifest_version}",
                "yes" if c.enabled else "no",
                c.state.value,
                _local(c.last_poll_at),
                c.open_alerts,
                c.failures,
                (c.last_error[:70] + "…") if len(c.last_error) > 70 else c.last_error,
            )
            for c in connectors
        ],
        ["name", "kind", "manifest", "enabled", "state", "last poll", "open", "fails", "error"],
    )
    return EXIT_OK


async def cmd_connectors_manifests(core: Core, args: argparse.Namespace) -> int:
    manifests = core.connectors.manifests()
    if args.format == "json":
        print_json(
            [
                {
                    "id": m.id,
                    "name": m.name,
                    "version": m.version,
                    "kind": m.kind.value,
                    "description": m.description,
                    "settings": [
                        {"name": f.name, "type": f.type.value, "required": f.required,
                         "default": f.default, "help": f.help}
                        for f in m.settings
                    ],
                }
                for m in manifests
            ]
        )  # fmt: skip
        return EXIT_OK
    print_table(
        [
            (m.id, m.kind.value, m.version, ", ".join(f.name for f in m.settings), m.name)
            for m in manifests
        ],
        ["id", "kind", "version", "settings", "name"],
    )
    return EXIT_OK


async def cmd_connectors_show(core: Core, args: argparse.Namespace) -> int:
    c = await core.connectors.get(args.name)
    if args.format == "json":
        print_json(_connector_json(c))
        return EXIT_OK
    rows: list[tuple[str, Any]] = [
        ("name", c.name),
        ("manifest", f"{c.manifest_id} {c.manifest_version} ({c.manifest_name})"),
        ("kind", c.kind.value),
        ("enabled", "yes" if c.enabled else "no"),
        ("state", c.state.value),
        ("interval", seconds_text(c.interval) if c.interval else ""),
        ("last poll", _local(c.last_poll_at)),
        ("last success", _local(c.last_success_at)),
        ("failures", c.failures),
        ("next probe", _local(c.next_probe_at)),
        ("last error", c.last_error),
        ("open alerts", c.open_alerts),
    ]
    for f in c.fields:
        if f.type.value == "secret":
            value = "(set)" if f.name in c.secrets_set else "(not set)"
        else:
            value = c.settings.get(f.name, "")
        rows.append((f"  {f.name}", f"{value}" + ("  [required]" if f.required else "")))
    if c.missing:
        rows.append(("missing", ", ".join(c.missing)))
    for key, value in sorted(c.counters.items()):
        rows.append((f"  {key}", value))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}", file=_out())
    return EXIT_OK


async def cmd_connectors_add(core: Core, args: argparse.Namespace) -> int:
    c = await core.connectors.add(
        args.manifest, name=args.name, settings=_assignments(args.set), enabled=args.enabled
    )
    state = "enabled" if c.enabled else "disabled"
    print(f"connector {c.name} added ({c.manifest_id} {c.manifest_version}, {state})", file=_out())
    if c.missing:
        print(f"before enabling it, set: {', '.join(c.missing)}", file=_out())
    return EXIT_OK


async def cmd_connectors_set(core: Core, args: argparse.Namespace) -> int:
    c = await core.connectors.set(args.name, _assignments(args.pairs))
    print(f"connector {c.name} updated", file=_out())
    return EXIT_OK


async def cmd_connectors_enable(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        c = await core.connectors.set_enabled(name, args.sub == "enable")
        print(f"connector {c.name} {'enabled' if c.enabled else 'disabled'}", file=_out())
    return EXIT_OK


async def cmd_connectors_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        resolved = await core.connectors.remove(name)
        extra = f"; {resolved} open alert(s) resolved" if resolved else ""
        print(f"connector {name} removed{extra}", file=_out())
    return EXIT_OK


def _normalized_json(a: Any) -> dict[str, Any]:
    return {
        "source": a.source,
        "key": a.key,
        "target": a.target,
        "severity": a.severity.label,
        "clear": a.clear,
        "summary": a.summary,
        "details": dict(a.details),
        "fingerprint": a.fingerprint,
    }


def _print_report(report: Any, fmt: str) -> int:
    if fmt == "json":
        print_json(
            {
                "connector": report.connector,
                "ok": report.ok,
                "skipped": report.skipped,
                "error": report.error,
                "state": report.state.value,
                "items": report.items,
                "pages": report.pages,
                "complete": report.complete,
                "held": report.held,
                "item_errors": list(report.item_errors),
                "item_error_count": report.item_error_count,
                "note": report.note,
                "took_ms": round(report.took_ms, 1),
                "stored": report.stored,
                "opened": report.opened,
                "updated": report.updated,
                "resolved": report.resolved,
                "alerts": [_normalized_json(a) for a in report.alerts],
                "absent": [_normalized_json(a) for a in report.absent],
            }
        )
        return EXIT_OK if report.ok else EXIT_FAILED
    if not report.ok:
        print(f"{report.connector}: {report.error}", file=_out())
        return EXIT_FAILED
    rows = [
        ("clear" if a.clear else a.severity.label, a.target or "", a.key, a.summary)
        for a in report.alerts
    ]
    rows += [("resolve", a.target or "", a.key, "no longer listed: " + a.summary)
             for a in report.absent]  # fmt: skip
    print_table(rows, ["severity", "target", "key", "summary"])
    for error in report.item_errors:
        print(f"item error: {error}", file=_out())
    line = (
        f"{report.items} item(s) in {report.pages} page(s): {len(report.alerts)} alert(s), "
        f"{report.held} held at the source, {len(report.absent)} resolved by absence, "
        f"{report.item_error_count} item error(s); {report.took_ms:.0f} ms"
    )
    if report.stored:
        line += (
            f"; stored: {report.opened} opened, {report.updated} updated, "
            f"{report.resolved} resolved; state {report.state.value}"
        )
    else:
        line += "; nothing stored (test)"
    print(line + (f"; {report.note}" if report.note else ""), file=_out())
    return EXIT_OK


async def cmd_connectors_test(core: Core, args: argparse.Namespace) -> int:
    return _print_report(await core.connectors.test(args.name), args.format)


async def cmd_connectors_poll(core: Core, args: argparse.Namespace) -> int:
    return _print_report(await core.connectors.poll(args.name, force=args.force), args.format)


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )


def _target_options(p: argparse.ArgumentParser, *, editing: bool) -> None:
    p.add_argument("--kind", help="router, switch, firewall, server, ups, camera, ...")
    for opt in ("vendor", "model", "site", "description", "parent"):
        p.add_argument(f"--{opt}")
    p.add_argument("--tags", help="comma- or semicolon-separated tags (replaces the tags)")
    p.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    p.add_argument("--disable", dest="enabled", action="store_const", const=False)
    p.add_argument("--snmp-version", help="v1, v2c or v3 ('' removes the SNMP profile)")
    p.add_argument("--snmp-port", type=int)
    p.add_argument("--snmp-credential")
    p.add_argument("--ssh-port", type=int)
    p.add_argument("--ssh-username")
    p.add_argument("--ssh-credential")
    p.add_argument("--var", action="append", metavar="KEY=VALUE", help="set a target variable")
    if editing:
        p.add_argument("--name", dest="new_name", help="rename the target")
        p.add_argument("--address")
        p.add_argument("--add-tags")
        p.add_argument("--remove-tags")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsconductor", description="OpsConductor Desktop: operations console for NOC staff."
    )
    parser.add_argument("--version", action="version", version=f"opsconductor {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (sqlite:///FILE or "
        "postgresql://USER@HOST/DB); default from settings or the embedded SQLite",
    )
    parser.add_argument(
        "--home", metavar="DIR", help="keep config, data, logs and known-hosts under DIR"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO to the console")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the console (the default)")
    gui.add_argument("--screenshot", metavar="DIR", help="render every pane to DIR and exit")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="upgrade the schema to this version").set_defaults(
        handler=cmd_db_upgrade
    )
    cur = db.add_parser("current", help="print the schema revision and database")
    _add_format(cur)
    cur.set_defaults(handler=cmd_db_current)

    targets = sub.add_parser("targets", help="the inventory of targets").add_subparsers(
        dest="sub", required=True
    )
    p = targets.add_parser("list", help="list targets")
    p.add_argument("--filter", help="rule, e.g. 'tag:core and vendor:cisco'")
    p.add_argument("--limit", type=int)
    _add_format(p)
    p.set_defaults(handler=cmd_targets_list)
    p = targets.add_parser("show", help="one target with its effective variables")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_targets_show)
    p = targets.add_parser("add", help="add a target")
    p.add_argument("name")
    p.add_argument("address")
    p.add_argument("--groups", help="static groups to join (comma-separated)")
    _target_options(p, editing=False)
    p.set_defaults(handler=cmd_targets_add)
    p = targets.add_parser("edit", help="change a target's fields")
    p.add_argument("name")
    _target_options(p, editing=True)
    p.set_defaults(handler=cmd_targets_edit)
    p = targets.add_parser("rm", help="delete targets")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_targets_rm)
    p = targets.add_parser("import", help="import CSV, JSON or Ansible inventory (INI/YAML)")
    p.add_argument("file", help="file to read, or - for stdin")
    p.add_argument("--input-format", choices=("csv", "json", "ansible-ini", "ansible-yaml"))
    p.add_argument("--update", action="store_true", help="overwrite targets that differ")
    p.add_argument("--skip-invalid", action="store_true", help="write the good rows anyway")
    p.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    _add_format(p)
    p.set_defaults(handler=cmd_targets_import)
    p = targets.add_parser("export", help="export targets to CSV or JSON")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.add_argument("--to", choices=("csv", "json"), help="default: from the file name, else csv")
    p.set_defaults(handler=cmd_targets_export)

    groups = sub.add_parser("groups", help="groups of targets").add_subparsers(
        dest="sub", required=True
    )
    p = groups.add_parser("list", help="list groups with member counts")
    _add_format(p)
    p.set_defaults(handler=cmd_groups_list)
    p = groups.add_parser("show", help="a group and its effective members")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_groups_show)
    p = groups.add_parser("add", help="create a group")
    p.add_argument("name")
    p.add_argument("--description")
    p.add_argument("--rule", help="dynamic rule, e.g. 'site:ams* and kind:switch'")
    p.add_argument("--members", help="static members (comma-separated target names)")
    p.set_defaults(handler=cmd_groups_add)
    p = groups.add_parser("rm", help="delete groups (their targets stay)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_groups_rm)
    for verb, handler in (
        ("add-members", cmd_groups_add_members),
        ("rm-members", cmd_groups_rm_members),
    ):
        p = groups.add_parser(verb, help=f"{verb.split('-')[0]} static members")
        p.add_argument("group")
        p.add_argument("targets", nargs="+")
        p.set_defaults(handler=handler)
    p = groups.add_parser("set-rule", help="set or clear a group's dynamic rule")
    p.add_argument("group")
    p.add_argument("rule", nargs="?")
    p.add_argument("--clear", action="store_true", help="remove the rule")
    p.set_defaults(handler=cmd_groups_set_rule)

    creds = sub.add_parser("creds", help="credentials (secrets live in the OS keyring)")
    creds_sub = creds.add_subparsers(dest="sub", required=True)
    p = creds_sub.add_parser("list", help="list credentials (never their secrets)")
    _add_format(p)
    p.set_defaults(handler=cmd_creds_list)
    p = creds_sub.add_parser(
        "add",
        help="add a credential; the secret is prompted or read "
        "from stdin, never from the command line",
    )
    p.add_argument("name")
    p.add_argument(
        "--kind", required=True, help="ssh-password, ssh-key, snmp-community, snmpv3 or token"
    )
    p.add_argument("--username")
    p.add_argument("--auth-protocol", help="snmpv3: md5, sha, sha224, sha256, sha384, sha512")
    p.add_argument("--priv-protocol", help="snmpv3: des, 3des, aes, aes192, aes256")
    p.set_defaults(handler=cmd_creds_add)
    p = creds_sub.add_parser("rm", help="delete credentials and their keyring entries")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_creds_rm)
    jobs = sub.add_parser("jobs", help="job definitions and run history").add_subparsers(
        dest="sub", required=True
    )
    p = jobs.add_parser("list", help="list job definitions")
    _add_format(p)
    p.set_defaults(handler=cmd_jobs_list)
    p = jobs.add_parser("show", help="a job definition")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_jobs_show)
    p = jobs.add_parser("import", help="store a job definition (YAML or JSON file)")
    p.add_argument("file", help="file to read, or - for stdin")
    p.set_defaults(handler=cmd_jobs_import)
    p = jobs.add_parser("rm", help="delete job definitions (their run history stays)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_jobs_rm)
    p = jobs.add_parser("runs", help="run history, newest first")
    p.add_argument("--job", help="only runs of this job")
    p.add_argument("--limit", type=int, default=20)
    _add_format(p)
    p.set_defaults(handler=cmd_jobs_runs)

    alerts = sub.add_parser("alerts", help="alerts: list, show, acknowledge, resolve")
    alerts_sub = alerts.add_subparsers(dest="sub", required=True)
    p = alerts_sub.add_parser("list", help="alerts, most recent first")
    p.add_argument("--status", help="open, active, acknowledged, suppressed or resolved")
    p.add_argument("--severity", help="this severity or above (info ... critical)")
    p.add_argument("--target")
    p.add_argument("--source")
    p.add_argument("--text", help="text in the summary, key or target")
    p.add_argument("--limit", type=int, default=500)
    _add_format(p)
    p.set_defaults(handler=cmd_alerts_list)
    p = alerts_sub.add_parser("show", help="one alert and its history")
    p.add_argument("id", help="alert id (or its first 8 hex digits)")
    _add_format(p)
    p.set_defaults(handler=cmd_alerts_show)
    p = alerts_sub.add_parser("ack", help="acknowledge alerts")
    p.add_argument("ids", nargs="+")
    p.add_argument("--comment")
    p.add_argument("--expires", metavar="DURATION", help="e.g. 2h or 30m")
    p.set_defaults(handler=cmd_alerts_ack)
    p = alerts_sub.add_parser("unack", help="remove acknowledgements")
    p.add_argument("ids", nargs="+")
    p.add_argument("--comment")
    p.set_defaults(handler=cmd_alerts_unack)
    p = alerts_sub.add_parser("resolve", help="resolve alerts by hand")
    p.add_argument("ids", nargs="+")
    p.add_argument("--comment")
    p.set_defaults(handler=cmd_alerts_resolve)

    silences = sub.add_parser("silences", help="silences and maintenance windows")
    silences_sub = silences.add_subparsers(dest="sub", required=True)
    p = silences_sub.add_parser("list", help="current and future silences")
    p.add_argument("--all", action="store_true", help="include ended silences")
    _add_format(p)
    p.set_defaults(handler=cmd_silences_list)
    p = silences_sub.add_parser("add", help="silence matching alerts for a time")
    for opt in ("target", "group", "tag", "source"):
        p.add_argument(f"--{opt}")
    p.add_argument("--severity", help="this severity or above")
    p.add_argument("--key-regex")
    p.add_argument("--summary-regex")
    p.add_argument("--start", default="now", help="ISO 8601 time (local unless given) or now")
    p.add_argument("--end", help="ISO 8601 time")
    p.add_argument("--duration", help="e.g. 2h (instead of --end)")
    p.add_argument("--weekly", help="recurring window in UTC within the span, e.g. 'tue 22:00 3h'")
    p.add_argument("--comment", required=True)
    p.set_defaults(handler=cmd_silences_add)
    p = silences_sub.add_parser("import", help="add the silences of a YAML file")
    p.add_argument("file", help="YAML file (sections monitors/rules/silences), - for stdin")
    p.set_defaults(handler=cmd_silences_import)
    p = silences_sub.add_parser("rm", help="remove silences")
    p.add_argument("ids", nargs="+")
    p.set_defaults(handler=cmd_silences_rm)

    monitors = sub.add_parser("monitors", help="monitor definitions and their state")
    monitors_sub = monitors.add_subparsers(dest="sub", required=True)
    p = monitors_sub.add_parser("list", help="monitor definitions")
    _add_format(p)
    p.set_defaults(handler=cmd_monitors_list)
    p = monitors_sub.add_parser("import", help="store the monitors of a YAML file")
    p.add_argument("file", help="YAML file (sections monitors/rules/silences), - for stdin")
    p.set_defaults(handler=cmd_monitors_import)
    p = monitors_sub.add_parser("rm", help="delete monitors (their samples stay)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_monitors_rm)
    p = monitors_sub.add_parser("status", help="where each monitor stands on each target")
    p.add_argument("--target")
    p.add_argument("--monitor")
    p.add_argument("--failing", action="store_true", help="only failing checks")
    _add_format(p)
    p.set_defaults(handler=cmd_monitors_status)

    rules = sub.add_parser("rules", help="threshold alert rules")
    rules_sub = rules.add_subparsers(dest="sub", required=True)
    p = rules_sub.add_parser("list", help="alert rules")
    _add_format(p)
    p.set_defaults(handler=cmd_rules_list)
    p = rules_sub.add_parser("import", help="store the rules of a YAML file")
    p.add_argument("file", help="YAML file (sections monitors/rules/silences), - for stdin")
    p.set_defaults(handler=cmd_rules_import)
    p = rules_sub.add_parser("rm", help="delete rules")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_rules_rm)

    connectors = sub.add_parser(
        "connectors", help="alert sources: Alertmanager, PRTG, Zabbix, JSON, webhook, traps"
    )
    conn_sub = connectors.add_subparsers(dest="sub", required=True)
    p = conn_sub.add_parser("list", help="connectors with their state and open alerts")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_list)
    p = conn_sub.add_parser("manifests", help="the bundled manifests (ids for `add`)")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_manifests)
    p = conn_sub.add_parser("show", help="one connector: settings, health, counters")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_show)
    p = conn_sub.add_parser("add", help="add a connector from a manifest file or bundled id")
    p.add_argument("manifest", metavar="MANIFEST", help="a manifest file, or a bundled id")
    p.add_argument("--name", help="the connector's name (default: the manifest's id)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a setting (KEY=- prompts: secrets go to the keyring)",
    )
    p.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    p.add_argument("--disable", dest="enabled", action="store_const", const=False)
    p.set_defaults(handler=cmd_connectors_add)
    p = conn_sub.add_parser("set", help="change settings (KEY= unsets; KEY=- prompts)")
    p.add_argument("name")
    p.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    p.set_defaults(handler=cmd_connectors_set)
    for verb in ("enable", "disable"):
        p = conn_sub.add_parser(verb, help=f"{verb} connectors")
        p.add_argument("names", nargs="+")
        p.set_defaults(handler=cmd_connectors_enable)
    p = conn_sub.add_parser("rm", help="remove connectors (their open alerts are resolved)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_connectors_rm)
    p = conn_sub.add_parser("test", help="poll once and show the alerts; store nothing")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_test)
    p = conn_sub.add_parser("poll", help="poll once and store the alerts; exit 1 on failure")
    p.add_argument("name")
    p.add_argument(
        "--force", action="store_true", help="poll even if disabled or its breaker is open"
    )
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_poll)

    p = sub.add_parser("poll", help="one round of monitor checks, then exit")
    p.add_argument("--once", action="store_true", required=True, help="one round (the only mode)")
    p.add_argument("--all", action="store_true", help="every check, not only the due ones")
    _add_format(p)
    p.set_defaults(handler=cmd_poll)

    p = sub.add_parser("agent", help="run the dispatcher headless until SIGINT/SIGTERM")
    p.add_argument(
        "--drain",
        type=float,
        default=8.0,
        metavar="SECONDS",
        help="grace for in-flight checks at stop (default 8; exit within 10 s)",
    )
    p.add_argument(
        "--status-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="print a status line this often (0: never)",
    )
    p.set_defaults(handler=cmd_agent)

    p = sub.add_parser("run", help="run a stored job; exit 1 when any target failed")
    p.add_argument("job")
    p.add_argument("--targets", help="targets (comma-separated), instead of the job's selection")
    p.add_argument("--groups", help="groups (comma-separated)")
    p.add_argument("--rule", help="rule, e.g. 'site:ams1 and kind:switch'")
    _add_format(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("exec", help="ad-hoc command, SNMP get or ping across targets")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--ssh", metavar="CMD", help="run CMD over SSH")
    what.add_argument("--snmp-get", metavar="OID[,OID]", help="SNMP GET of numeric OIDs")
    what.add_argument("--ping", action="store_true", help="reachability (ICMP, else TCP)")
    p.add_argument("--targets", help="targets (comma-separated)")
    p.add_argument("--groups", help="groups (comma-separated)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per-target step timeout")
    _add_format(p)
    p.set_defaults(handler=cmd_exec)

    p = sub.add_parser(
        "demo", help="fill an empty database with a realistic demo estate (fake credentials)"
    )
    p.add_argument(
        "--targets",
        type=int,
        default=240,
        metavar="N",
        help="number of targets, 1-10000 (default: 240)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=7,
        metavar="S",
        help="the same N and S give the same estate (default: 7)",
    )
    p.set_defaults(handler=cmd_demo)

    snmp = sub.add_parser("snmp", help="one SNMP request to one target").add_subparsers(
        dest="sub", required=True
    )
    for verb, helptext in (
        ("get", "GET one or more OIDs"),
        ("walk", "walk a subtree"),
        ("set", "SET an OID: OID TYPE VALUE (types i u g c t a o s x)"),
    ):
        p = snmp.add_parser(verb, help=helptext)
        p.add_argument("target")
        p.add_argument("oid", nargs="+", metavar="OID" if verb != "set" else "OID TYPE VALUE")
        p.add_argument("--timeout", type=float, default=10.0)
        _add_format(p)
        p.set_defaults(handler=cmd_snmp)
    return parser


async def _run(args: argparse.Namespace) -> int:
    upgrade = args.command != "db"
    core = await open_core(home=args.home, db_url=args.db, upgrade=upgrade)
    try:
        handler: Handler = args.handler
        return await handler(core, args)
    finally:
        await core.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        from opsconductor_desktop.gui.app import main as gui_main

        return gui_main(args)
    try:
        paths = AppPaths.resolve(args.home).ensure()
        log_file = logs.setup_logging(
            paths.log_dir, console_level="INFO" if args.verbose else "WARNING"
        )
    except OSError as exc:
        print(f"error: cannot create OpsConductor's folders: {exc}", file=sys.stderr)
        return EXIT_FAILED
    with logs.operation(f"cli {args.command} {getattr(args, 'sub', '')}"):
        try:
            return asyncio.run(_run(args))
        except OpsError as exc:
            log.info("command failed: %s", exc, exc_info=True)
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except Exception:  # the last line of defence: log it, print one line, exit
            log.exception("unexpected failure in %s", args.command)
            print(f"error: unexpected failure; details in {log_file}", file=sys.stderr)
            return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
