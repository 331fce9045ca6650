"""``opsconductor targets``, ``groups`` and ``creds``: the inventory."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
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
from opsconductor_desktop.domain import rules as rule_lang
from opsconductor_desktop.domain.credentials import SECRET_FIELDS, parse_credential_kind
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SshProfile,
    TargetSpec,
    parse_kind,
    parse_snmp_version,
)
from opsconductor_desktop.services import inventory_formats as formats
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.credentials import secret_from_fields
from opsconductor_desktop.services.records import spec_record

# ---- targets --------------------------------------------------------------------------------


def _target_json(target: Any) -> dict[str, Any]:
    return {
        "id": str(target.id),
        **spec_record(target.spec),
        "groups": list(target.groups),
        "version": target.version,
        "created_at": target.created_at.isoformat(),
        "updated_at": target.updated_at.isoformat(),
    }


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
        print(f"{key:>16}: {'' if shown is None else shown}", file=out())
    for var in effective:
        print(f"{'var ' + var.key:>16}: {var.value!r}  ({var.source})", file=out())
    return EXIT_OK


def _spec_from_args(args: argparse.Namespace, base: TargetSpec | None = None) -> TargetSpec:
    """Build a spec from options; with ``base`` only the given options change."""
    b = base or TargetSpec(name=args.name, address=getattr(args, "address", "") or "")

    def pick(option: str, current: Any) -> Any:
        value = getattr(args, option, None)
        return current if value is None else value

    tags = list(b.tags) if args.tags is None else csv_list(args.tags)
    tags = sorted(
        (set(tags) | set(csv_list(getattr(args, "add_tags", None))))
        - set(csv_list(getattr(args, "remove_tags", None)))
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
    target = await core.inventory.create_target(_spec_from_args(args), groups=csv_list(args.groups))
    print(f"created target {target.name} ({target.address})", file=out())
    return EXIT_OK


async def cmd_targets_edit(core: Core, args: argparse.Namespace) -> int:
    target = await core.inventory.get_target(args.name)
    spec = _spec_from_args(args, target.spec)
    updated = await core.inventory.update_target(target.id, spec, expected_version=target.version)
    print(f"updated target {updated.name} (version {updated.version})", file=out())
    return EXIT_OK


async def cmd_targets_rm(core: Core, args: argparse.Namespace) -> int:
    count = await core.inventory.delete_targets(args.names)
    print(f"deleted {count} target(s)", file=out())
    return EXIT_OK


async def cmd_targets_import(core: Core, args: argparse.Namespace) -> int:
    text, source = await asyncio.to_thread(read_input, args.file)
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
        print(f"{verb}{tail}", file=out())
        print(
            f"  created {len(report.created)}, updated {len(report.updated)}, unchanged "
            f"{len(report.unchanged)}, groups created {len(report.groups_created)}, "
            f"rejected {len(report.errors)}",
            file=out(),
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
        file=out(),
    )
    if group.description:
        print(f"  {group.description}", file=out())
    if group.rule:
        print(f"  rule: {group.rule}", file=out())
    print_table(
        [(t.name, t.address, "static" if t.id in static else "rule") for t in members],
        ["member", "address", "via"],
    )
    return EXIT_OK


async def cmd_groups_add(core: Core, args: argparse.Namespace) -> int:
    rule = rule_lang.parse(args.rule) if args.rule else None
    group = await core.inventory.create_group(
        GroupSpec(args.name, args.description or "", rule), members=csv_list(args.members)
    )
    print(f"created group {group.name} ({group.member_count} member(s))", file=out())
    return EXIT_OK


async def cmd_groups_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.inventory.delete_group(name)
    print(f"deleted {len(args.names)} group(s)", file=out())
    return EXIT_OK


async def cmd_groups_add_members(core: Core, args: argparse.Namespace) -> int:
    group = await core.inventory.add_members(args.group, args.targets)
    print(f"group {group.name}: {group.static_count} static member(s)", file=out())
    return EXIT_OK


async def cmd_groups_rm_members(core: Core, args: argparse.Namespace) -> int:
    group = await core.inventory.remove_members(args.group, args.targets)
    print(f"group {group.name}: {group.static_count} static member(s)", file=out())
    return EXIT_OK


async def cmd_groups_set_rule(core: Core, args: argparse.Namespace) -> int:
    rule = None if args.clear else rule_lang.parse(args.rule or "")
    group = await core.inventory.set_rule(args.group, rule)
    state = f"rule {group.rule}" if group.rule else "no rule (static group)"
    print(f"group {group.name}: {state}; {group.member_count} member(s)", file=out())
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
    print(f"created credential {cred.name} ({cred.kind}); secret stored in the keyring", file=out())
    return EXIT_OK


async def cmd_creds_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        await core.credentials.delete(name)
    print(f"deleted {len(args.names)} credential(s)", file=out())
    return EXIT_OK
