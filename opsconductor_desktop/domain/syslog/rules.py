"""The syslog rule language: a message → an alert, or a clear, or nothing.

A ``SyslogRule`` (``parse_rule`` validates one from a mapping, as a rule pack's list item)
searches the message text with its ``match`` regex, optionally only for some hosts
(``host``: the whole hostname, target name or address), apps (``app``: the whole tag),
facilities or syslog severities. Its ``key`` and ``summary`` templates use the regex's
named groups and the built-in fields (``BUILTIN_FIELDS``) as ``{name}``; its optional
``clear`` regex clears the alert of the same key (so it must capture the groups the key
uses). Without a ``severity``, the alert's comes from the syslog severity
(``DEFAULT_SEVERITY``). ``evaluate`` applies the first rule that matches, or returns None:
the message is unknown.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.syslog.message import (
    DEFAULT_SEVERITY,
    SyslogMessage,
    SyslogSeverity,
    facility_number,
)

#: fields every template may use besides the regex's named groups
BUILTIN_FIELDS = (
    "host", "hostname", "target", "address", "app", "pid", "msgid", "facility", "level",
    "message", "rule",
)  # fmt: skip
RULE_FIELDS = (
    "name", "description", "match", "clear", "severity", "key", "summary", "host", "app",
    "facility", "syslog_severity",
)  # fmt: skip

SOURCE = "syslog"  # the source of syslog alerts, whichever connector received them


@dataclass(frozen=True, slots=True)
class Template:
    """``{name}`` placeholders and literal text (no format specs, no attribute access)."""

    text: str
    pieces: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, text: str, where: str) -> Template:
        pieces: list[tuple[str, str | None]] = []
        try:
            for literal, name, spec, conversion in string.Formatter().parse(text):
                if name is not None and (spec or conversion or not name.isidentifier()):
                    raise ValidationError(
                        f"{where}: write placeholders as {{name}}, got {text!r}", field=where
                    )
                pieces.append((literal, name))
        except ValueError as exc:
            raise ValidationError(f"{where}: {exc} in {text!r}", field=where) from None
        return cls(text, tuple(pieces))

    @property
    def fields(self) -> set[str]:
        return {name for _, name in self.pieces if name is not None}

    def render(self, values: Mapping[str, str | None]) -> str:
        out = []
        for literal, name in self.pieces:
            out.append(literal)
            if name is not None:
                out.append(values.get(name) or "")
        return "".join(out)


@dataclass(frozen=True, slots=True)
class SyslogRule:
    """A message matched by ``pattern`` (with its filters) raises an alert of ``key``; one
    matched by ``clear`` clears it. ``severity`` None: from the syslog severity."""

    name: str
    pattern: re.Pattern[str]
    key: Template
    summary: Template
    severity: Severity | None = None
    clear: re.Pattern[str] | None = None
    host: re.Pattern[str] | None = None  # the whole hostname, target name or address
    app: re.Pattern[str] | None = None  # the whole app name (tag)
    facilities: frozenset[int] = frozenset()
    levels: frozenset[SyslogSeverity] = frozenset()
    description: str = ""

    def applies_to(self, msg: SyslogMessage, target: str | None, address: str) -> bool:
        if self.facilities and msg.facility not in self.facilities:
            return False
        if self.levels and msg.severity not in self.levels:
            return False
        if self.app is not None and (msg.app is None or not self.app.fullmatch(msg.app)):
            return False
        if self.host is not None:
            names = (msg.hostname, target, address)
            return any(n is not None and self.host.fullmatch(n) for n in names)
        return True


def _regex(data: Mapping[str, Any], name: str) -> re.Pattern[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name}: a regular expression (text)", field=name)
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValidationError(f"{name}: bad regular expression: {exc}", field=name) from None


def _names(value: Any, parse_one: Any, name: str) -> frozenset[Any]:
    if value is None:
        return frozenset()
    items = value if isinstance(value, list) else [value]
    try:
        return frozenset(parse_one(item) for item in items)
    except ValidationError as exc:
        raise ValidationError(f"{name}: {exc}", field=name) from None


def parse_rule(data: Any) -> SyslogRule:
    """A rule from its mapping (a rule pack's list item); ``ValidationError`` names the
    field (its ``field`` attribute too)."""
    if not isinstance(data, Mapping):
        raise ValidationError("a rule is a mapping with name, match, key and summary")
    unknown = sorted(set(map(str, data)) - set(RULE_FIELDS))
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(RULE_FIELDS)}",
            field=unknown[0],
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("name: every rule needs a name", field="name")
    pattern = _regex(data, "match")
    if pattern is None:
        raise ValidationError("match: every rule needs a match regex", field="match")
    clear = _regex(data, "clear")
    severity = None
    if data.get("severity") is not None:
        try:
            severity = Severity.parse(str(data["severity"]))
        except ValidationError as exc:
            raise ValidationError(f"severity: {exc}", field="severity") from None
        if severity is Severity.CLEAR:
            raise ValidationError("severity: use a clear regex to clear", field="severity")
    key, summary = _templates(data, name, pattern, clear)
    return SyslogRule(
        name=name.strip(),
        pattern=pattern,
        key=key,
        summary=summary,
        severity=severity,
        clear=clear,
        host=_regex(data, "host"),
        app=_regex(data, "app"),
        facilities=_names(data.get("facility"), facility_number, "facility"),
        levels=_names(data.get("syslog_severity"), SyslogSeverity.parse, "syslog_severity"),
        description=str(data.get("description") or ""),
    )


def _templates(
    data: Mapping[str, Any], name: str, pattern: re.Pattern[str], clear: re.Pattern[str] | None
) -> tuple[Template, Template]:
    groups = set(pattern.groupindex)
    for which, regex in (("match", pattern), ("clear", clear)):
        shadowing = sorted(set(regex.groupindex if regex else ()) & set(BUILTIN_FIELDS))
        if shadowing:
            raise ValidationError(
                f"{which}: the group name(s) {', '.join(shadowing)} are built-in fields; "
                "rename the group(s)",
                field=which,
            )
    templates = []
    for which, default in (("key", name.strip()), ("summary", "{rule} on {host}: {message}")):
        text = data.get(which, default)
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"{which}: a template (text)", field=which)
        template = Template.parse(text, which)
        unknown = sorted(template.fields - groups - set(BUILTIN_FIELDS))
        if unknown:
            raise ValidationError(
                f"{which}: {{{unknown[0]}}} is neither a named group of match "
                f"(({', '.join(sorted(groups)) or 'none'})) nor a built-in field "
                f"({', '.join(BUILTIN_FIELDS)})",
                field=which,
            )
        templates.append(template)
    key = templates[0]
    if clear is not None:
        missing = sorted((key.fields & groups) - set(clear.groupindex))
        if missing:
            raise ValidationError(
                f"clear: the key uses {{{missing[0]}}}, which clear does not capture; "
                f"add (?P<{missing[0]}>...) to clear",
                field="clear",
            )
    return key, templates[1]


# ---- evaluation ------------------------------------------------------------------------------

SUMMARY_LIMIT = 500
DETAIL_MESSAGE_LIMIT = 2000


def evaluate(
    rules: Sequence[SyslogRule],
    msg: SyslogMessage,
    *,
    address: str,
    target: str | None,
    source: str = SOURCE,
    extra: Mapping[str, Any] | None = None,
) -> NormalizedAlert | None:
    """The alert (or clear) of the first rule that matches ``msg``; None when none does.

    Without a ``target`` the key ends in ``@<hostname or address>`` so that the same
    problem on two unknown senders stays two alerts.
    """
    text = msg.message
    for rule in rules:
        if not rule.applies_to(msg, target, address):
            continue
        found = rule.pattern.search(text)
        cleared = False
        if found is None and rule.clear is not None:
            found = rule.clear.search(text)
            cleared = found is not None
        if found is not None:
            return _alert(rule, msg, found, cleared, address, target, source, extra or {})
    return None


def _alert(
    rule: SyslogRule,
    msg: SyslogMessage,
    found: re.Match[str],
    cleared: bool,
    address: str,
    target: str | None,
    source: str,
    extra: Mapping[str, Any],
) -> NormalizedAlert:
    values: dict[str, str | None] = {
        "host": target or msg.hostname or address,
        "hostname": msg.hostname,
        "target": target,
        "address": address,
        "app": msg.app,
        "pid": msg.pid,
        "msgid": msg.msgid,
        "facility": msg.facility_name,
        "level": msg.severity.label,
        "message": msg.message,
        "rule": rule.name,
    }
    groups = {k: v for k, v in found.groupdict().items() if v is not None}
    values.update(groups)
    key = rule.key.render(values)
    if target is None:
        key = f"{key}@{msg.hostname or address}"
    if cleared:
        severity, summary = Severity.CLEAR, f"{rule.name} cleared: {msg.message}"
    else:
        severity = rule.severity or DEFAULT_SEVERITY[msg.severity]
        summary = rule.summary.render(values)
    return NormalizedAlert(
        source=source,
        key=key,
        severity=severity,
        summary=summary[:SUMMARY_LIMIT],
        target=target,
        details=_details(rule, msg, groups, address, extra),
        clear=cleared,
    )


def _details(
    rule: SyslogRule,
    msg: SyslogMessage,
    groups: Mapping[str, str],
    address: str,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    details: dict[str, Any] = {
        **extra,
        "rule": rule.name,
        "address": address,
        "facility": msg.facility_name,
        "level": msg.severity.label,
        "message": msg.message[:DETAIL_MESSAGE_LIMIT],
    }
    optional = {
        "hostname": msg.hostname,
        "app": msg.app,
        "pid": msg.pid,
        "msgid": msg.msgid,
        "sent_at": msg.timestamp.isoformat() if msg.timestamp else None,
    }
    details.update((k, v) for k, v in optional.items() if v is not None)
    if groups:
        details["fields"] = dict(groups)
    if msg.structured_data:
        details["structured_data"] = {k: dict(v) for k, v in msg.structured_data.items()}
    return details


def summary_of(
    msg: SyslogMessage, address: str, extra: Iterable[tuple[str, Any]] = ()
) -> dict[str, Any]:
    """A message no rule matched, as the receiver's recent list keeps it."""
    item: dict[str, Any] = dict(extra)
    item.update(
        address=address,
        hostname=msg.hostname,
        app=msg.app,
        facility=msg.facility_name,
        level=msg.severity.label,
        sent_at=msg.timestamp.isoformat() if msg.timestamp else None,
        message=msg.message[:DETAIL_MESSAGE_LIMIT],
    )
    return item
