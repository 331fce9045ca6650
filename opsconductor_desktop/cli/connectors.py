"""``opsconductor connectors``: alert sources."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import Any

from opsconductor_desktop.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    local,
    out,
    print_json,
    print_table,
)
from opsconductor_desktop.domain.display import seconds_text
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.services.app import Core

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
                local(c.last_poll_at),
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
        ("last poll", local(c.last_poll_at)),
        ("last success", local(c.last_success_at)),
        ("failures", c.failures),
        ("next probe", local(c.next_probe_at)),
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
        print(f"{key.ljust(width)}  {value}", file=out())
    return EXIT_OK


async def cmd_connectors_add(core: Core, args: argparse.Namespace) -> int:
    c = await core.connectors.add(
        args.manifest, name=args.name, settings=_assignments(args.set), enabled=args.enabled
    )
    state = "enabled" if c.enabled else "disabled"
    print(f"connector {c.name} added ({c.manifest_id} {c.manifest_version}, {state})", file=out())
    if c.missing:
        print(f"before enabling it, set: {', '.join(c.missing)}", file=out())
    return EXIT_OK


async def cmd_connectors_set(core: Core, args: argparse.Namespace) -> int:
    c = await core.connectors.set(args.name, _assignments(args.pairs))
    print(f"connector {c.name} updated", file=out())
    return EXIT_OK


async def cmd_connectors_enable(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        c = await core.connectors.set_enabled(name, args.sub == "enable")
        print(f"connector {c.name} {'enabled' if c.enabled else 'disabled'}", file=out())
    return EXIT_OK


async def cmd_connectors_rm(core: Core, args: argparse.Namespace) -> int:
    for name in args.names:
        resolved = await core.connectors.remove(name)
        extra = f"; {resolved} open alert(s) resolved" if resolved else ""
        print(f"connector {name} removed{extra}", file=out())
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
        print(f"{report.connector}: {report.error}", file=out())
        return EXIT_FAILED
    rows = [
        ("clear" if a.clear else a.severity.label, a.target or "", a.key, a.summary)
        for a in report.alerts
    ]
    rows += [("resolve", a.target or "", a.key, "no longer listed: " + a.summary)
             for a in report.absent]  # fmt: skip
    print_table(rows, ["severity", "target", "key", "summary"])
    for error in report.item_errors:
        print(f"item error: {error}", file=out())
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
    print(line + (f"; {report.note}" if report.note else ""), file=out())
    return EXIT_OK


async def cmd_connectors_test(core: Core, args: argparse.Namespace) -> int:
    return _print_report(await core.connectors.test(args.name), args.format)


async def cmd_connectors_poll(core: Core, args: argparse.Namespace) -> int:
    return _print_report(await core.connectors.poll(args.name, force=args.force), args.format)
