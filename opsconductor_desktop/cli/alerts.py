"""``opsconductor alerts`` and ``silences``."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from opsconductor_desktop.cli.common import EXIT_OK, local, out, print_json, print_table
from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.silences import Matchers, Weekly, parse_duration
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services.app import Core

# ---- alerts ---------------------------------------------------------------------------------


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
                local(a.last_seen),
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
        ("first seen", local(a.first_seen)),
        ("last seen", local(a.last_seen)),
        ("flapping", "yes" if a.flapping else "no"),
    ]
    if a.ack_by:
        fields.append(("acknowledged by", f"{a.ack_by}: {a.ack_comment or ''}"))
        if a.ack_expires:
            fields.append(("ack expires", local(a.ack_expires)))
    if a.suppressed_by:
        fields.append(("suppressed by", a.suppressed_by))
    if a.resolved_at:
        fields.append(("resolved", local(a.resolved_at)))
    for name, value in fields:
        print(f"{name + ':':<17}{value}", file=out())
    for key, value in a.details.items():
        print(f"  {key}: {value}", file=out())
    print("", file=out())
    print_table(
        [(local(e.at), e.actor, e.from_status or "", e.to_status, e.comment) for e in a.events],
        ["at", "actor", "from", "to", "comment"],
    )
    return EXIT_OK


async def cmd_alerts_ack(core: Core, args: argparse.Namespace) -> int:
    expires = utcnow() + parse_duration(args.expires) if args.expires else None
    done = await core.alerts.acknowledge(args.ids, comment=args.comment or "", expires=expires)
    print(f"acknowledged {len(done)} alert(s)", file=out())
    return EXIT_OK


async def cmd_alerts_unack(core: Core, args: argparse.Namespace) -> int:
    done = await core.alerts.unacknowledge(args.ids, comment=args.comment or "")
    print(f"unacknowledged {len(done)} alert(s)", file=out())
    return EXIT_OK


async def cmd_alerts_resolve(core: Core, args: argparse.Namespace) -> int:
    done = await core.alerts.resolve(args.ids, comment=args.comment or "")
    print(f"resolved {len(done)} alert(s)", file=out())
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
                local(s.silence.starts_at),
                local(s.silence.ends_at),
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
    print(f"silence {str(info.id)[:8]} added ({matchers.describe()})", file=out())
    return EXIT_OK


async def cmd_silences_rm(core: Core, args: argparse.Namespace) -> int:
    for ref in args.ids:
        await core.alerts.remove_silence(ref)
    print(f"removed {len(args.ids)} silence(s)", file=out())
    return EXIT_OK
