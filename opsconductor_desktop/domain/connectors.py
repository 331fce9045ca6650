"""Connector manifests: one declarative document per alert source, validated here.

A manifest says what a source is (``kind``: ``http_poll``, ``webhook``, ``snmp_trap``,
``syslog``), which settings an operator fills in (a form in the GUI), how to ask the source
for its alerts (``request``, ``extract``) and how one item of its answer becomes a
``NormalizedAlert`` (``mapping``). One engine runs every manifest; README.md, "Connector
manifest format", documents every field. ``parse_manifest`` refuses unknown fields and
raises ``ValidationError`` whose ``field`` is the dotted path of the culprit (the YAML
loader turns it into a line number). JMESPath expressions are compiled by the runtime's
loader check, not here (the domain imports the standard library only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.connector_fields import (
    NAME_PATTERN,
    FieldType,
    SettingField,
    bool_field,
    check_keys,
    condition_field,
    fail,
    fields_text,
    literal_or_template,
    missing_required,
    number_field,
    scalar_text,
    setting_field,
    settings_for,
    template_field,
    text_field,
)
from opsconductor_desktop.domain.connector_requests import (
    Entry,
    Extract,
    Pagination,
    Request,
    jsonpath_to_jmespath,
    parse_extract,
    parse_request,
)
from opsconductor_desktop.domain.connector_templates import Condition, Path, Template

__all__ = [
    "AlertMapping",
    "ConnectorKind",
    "ConnectorState",
    "Entry",
    "Extract",
    "FieldType",
    "Manifest",
    "Pagination",
    "Request",
    "Resilience",
    "SettingField",
    "SeverityRule",
    "TargetRule",
    "check_references",
    "fail",
    "fields_text",
    "host_of",
    "jsonpath_to_jmespath",
    "mapping_templates",
    "missing_required",
    "parse_manifest",
    "request_templates",
    "settings_for",
]


class ConnectorKind(StrEnum):
    HTTP_POLL = "http_poll"
    WEBHOOK = "webhook"
    SNMP_TRAP = "snmp_trap"
    SYSLOG = "syslog"

    @property
    def listening(self) -> bool:
        return self is not ConnectorKind.HTTP_POLL


class ConnectorState(StrEnum):
    """How a source is doing: never polled, fine, partly failing, or failing (breaker open)."""

    UNKNOWN = "unknown"
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"


_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


# ---- request -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetRule:
    by: str  # address | name | label (a name or an address)
    value: Template
    strip_port: bool = True
    unmatched: str = "keep"  # keep the value as the alert's target, or drop (no target)


@dataclass(frozen=True, slots=True)
class SeverityRule:
    value: Template | None
    map: Mapping[str, Severity]  # Severity.CLEAR: the item is a clear
    default: Severity = Severity.WARNING


@dataclass(frozen=True, slots=True)
class AlertMapping:
    key: Template
    summary: Template
    severity: SeverityRule
    target: TargetRule | None = None
    details: tuple[tuple[str, Template], ...] = ()
    let: tuple[tuple[str, str], ...] = ()  # name → JMESPath over the item
    clear: Condition | None = None
    suppressed: Condition | None = None
    resolve_on_absence: bool = True


@dataclass(frozen=True, slots=True)
class Resilience:
    retries: int = 2
    backoff: float = 1.0
    breaker_failures: int = 3
    breaker_cooldown: float = 120.0
    max_items: int = 20_000
    max_bytes: int = 32 << 20
    deadline: float = 100.0  # the whole poll, every page and retry (the dispatcher's lease: 120)


@dataclass(frozen=True, slots=True)
class Manifest:
    id: str
    name: str
    version: str
    kind: ConnectorKind
    description: str = ""
    enabled_by_default: bool = True
    interval: float | Template = 60.0
    settings: tuple[SettingField, ...] = ()
    request: Request | None = None
    extract: Extract | None = None
    mapping: AlertMapping | None = None
    resilience: Resilience = field(default_factory=Resilience)
    sample: Mapping[str, Any] | None = None
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def setting(self, name: str) -> SettingField | None:
        return next((f for f in self.settings if f.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.settings if f.default is not None}


TOP_KEYS = (
    "id",
    "name",
    "version",
    "kind",
    "description",
    "enabled_by_default",
    "interval",
    "settings",
    "request",
    "extract",
    "mapping",
    "resilience",
    "sample",
)


_SEVERITY_WORDS = {s.label: s for s in Severity}


def _severity_word(value: Any, where: str) -> Severity:
    word = str(value).strip().lower()
    if word not in _SEVERITY_WORDS:
        raise fail(where, f"one of {', '.join(_SEVERITY_WORDS)}, not {value!r}")
    return _SEVERITY_WORDS[word]


def _severity(data: Any, where: str) -> SeverityRule:
    if isinstance(data, str) and "{" not in data:
        return SeverityRule(None, {}, _severity_word(data, where))
    if isinstance(data, str):
        data = {"value": data}
    check_keys(data, where, ("value", "map", "default"))
    raw = data.get("map") or {}
    if not isinstance(raw, Mapping):
        raise fail(f"{where}.map", "a mapping of source values to severities")
    table = {str(k).strip().lower(): _severity_word(v, f"{where}.map.{k}") for k, v in raw.items()}
    return SeverityRule(
        template_field(scalar_text(data["value"]), f"{where}.value") if data.get("value") else None,
        table,
        _severity_word(data.get("default", "warning"), f"{where}.default"),
    )


def _target(data: Any, where: str) -> TargetRule:
    if isinstance(data, str):
        data = {"value": data}
    check_keys(data, where, ("by", "value", "strip_port", "unmatched"), ("value",))
    by = str(data.get("by", "label"))
    if by not in ("address", "name", "label"):
        raise fail(f"{where}.by", "one of address, name, label")
    unmatched = str(data.get("unmatched", "keep"))
    if unmatched not in ("keep", "drop"):
        raise fail(f"{where}.unmatched", "one of keep, drop")
    return TargetRule(
        by,
        template_field(data["value"], f"{where}.value"),
        bool_field(data.get("strip_port", True), f"{where}.strip_port"),
        unmatched,
    )


MAPPING_KEYS = (
    "key",
    "summary",
    "severity",
    "target",
    "details",
    "let",
    "clear",
    "suppressed",
    "resolve_on_absence",
)


def _mapping(data: Any, where: str = "mapping") -> AlertMapping:
    check_keys(data, where, MAPPING_KEYS, ("key", "summary"))
    details = data.get("details") or {}
    if not isinstance(details, Mapping):
        raise fail(f"{where}.details", "a mapping of names to templates")
    let = data.get("let") or {}
    if not isinstance(let, Mapping):
        raise fail(f"{where}.let", "a mapping of names to JMESPath expressions")
    for name in let:
        if not NAME_PATTERN.match(str(name)) or name in ("settings", "connector"):
            raise fail(f"{where}.let.{name}", "a lower-case name other than settings, connector")
    return AlertMapping(
        key=template_field(scalar_text(data["key"]), f"{where}.key"),
        summary=template_field(scalar_text(data["summary"]), f"{where}.summary"),
        severity=_severity(data.get("severity", "warning"), f"{where}.severity"),
        target=_target(data["target"], f"{where}.target") if data.get("target") else None,
        details=tuple(
            (str(k), template_field(scalar_text(v), f"{where}.details.{k}"))
            for k, v in details.items()
        ),
        let=tuple((str(k), text_field(let, k, f"{where}.let.{k}", limit=500)) for k in let),
        clear=condition_field(data["clear"], f"{where}.clear") if data.get("clear") else None,
        suppressed=(
            condition_field(data["suppressed"], f"{where}.suppressed")
            if data.get("suppressed")
            else None
        ),
        resolve_on_absence=bool_field(
            data.get("resolve_on_absence", True), f"{where}.resolve_on_absence"
        ),
    )


def _resilience(data: Any, where: str = "resilience") -> Resilience:
    keys = ("retries", "backoff", "breaker", "max_items", "max_bytes", "deadline")
    check_keys(data, where, keys)
    breaker = data.get("breaker") or {}
    check_keys(breaker, f"{where}.breaker", ("failures", "cooldown"))
    d = Resilience()
    return Resilience(
        retries=int(number_field(data.get("retries", d.retries), f"{where}.retries", 0, 5)),
        backoff=number_field(data.get("backoff", d.backoff), f"{where}.backoff", 0, 60),
        breaker_failures=int(
            number_field(
                breaker.get("failures", d.breaker_failures), f"{where}.breaker.failures", 1, 100
            )
        ),
        breaker_cooldown=number_field(
            breaker.get("cooldown", d.breaker_cooldown), f"{where}.breaker.cooldown", 0.1, 86400
        ),
        max_items=int(
            number_field(data.get("max_items", d.max_items), f"{where}.max_items", 1, 1e6)
        ),
        max_bytes=int(
            number_field(data.get("max_bytes", d.max_bytes), f"{where}.max_bytes", 1024, 1 << 30)
        ),
        deadline=number_field(data.get("deadline", d.deadline), f"{where}.deadline", 1, 110),
    )


def parse_manifest(data: Any) -> Manifest:
    """Validate a manifest document (see the module docstring)."""
    check_keys(data, "", TOP_KEYS, ("id", "name", "version", "kind"))
    ident = text_field(data, "id", "id", limit=64)
    if not _ID.match(ident):
        raise fail("id", "an id is lower case: letters, digits, '.', '_' and '-'")
    try:
        kind = ConnectorKind(str(data["kind"]))
    except ValueError:
        choices = ", ".join(k.value for k in ConnectorKind)
        raise fail("kind", f"unknown kind {data['kind']!r}; one of {choices}") from None
    raw_settings = data.get("settings") or []
    if not isinstance(raw_settings, list):
        raise fail("settings", "a list of fields")
    settings = tuple(setting_field(f, f"settings[{i}]") for i, f in enumerate(raw_settings))
    names = [f.name for f in settings]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise fail(f"settings[{i}].name", f"duplicate setting {name!r}")
    polled = kind is ConnectorKind.HTTP_POLL
    for key in ("request", "interval"):
        if not polled and key in data:
            raise fail(key, f"only an http_poll connector has {key}")
    for key in ("extract", "mapping"):
        if kind in (ConnectorKind.SNMP_TRAP, ConnectorKind.SYSLOG) and key in data:
            raise fail(key, f"a {kind} connector has no {key} (its receiver has rules)")
    if polled:
        for key in ("request", "extract", "mapping"):
            if data.get(key) is None:
                raise fail(key, "required for an http_poll connector")
    if kind is ConnectorKind.WEBHOOK and data.get("mapping") is None:
        raise fail("mapping", "required for a webhook connector")
    sample = data.get("sample")
    if sample is not None and not isinstance(sample, Mapping):
        raise fail("sample", "a sample item is a mapping (one alert as the source sends it)")
    manifest = Manifest(
        id=ident,
        name=text_field(data, "name", "name", limit=128),
        version=text_field(data, "version", "version", limit=32),
        kind=kind,
        description=str(data.get("description") or "").strip(),
        enabled_by_default=bool_field(data.get("enabled_by_default", True), "enabled_by_default"),
        interval=literal_or_template(data.get("interval", 60), "interval", 5, 86400),
        settings=settings,
        request=parse_request(data["request"]) if data.get("request") is not None else None,
        extract=parse_extract(data["extract"]) if data.get("extract") is not None else None,
        mapping=_mapping(data["mapping"]) if data.get("mapping") is not None else None,
        resilience=_resilience(data.get("resilience") or {}),
        sample=sample,
        source=dict(data),
    )
    check_references(manifest)
    return manifest


# ---- references ----------------------------------------------------------------------------


def _templates_of(body: Any, where: str) -> Iterable[tuple[str, Template]]:
    if isinstance(body, Template):
        yield where, body
    elif isinstance(body, Mapping):
        for k, v in body.items():
            yield from _templates_of(v, f"{where}.{k}")
    elif isinstance(body, list):
        for i, v in enumerate(body):
            yield from _templates_of(v, f"{where}[{i}]")


def request_templates(m: Manifest) -> list[tuple[str, Template | Condition]]:
    """Every template and condition of the request side, with its field path."""
    out: list[tuple[str, Template | Condition]] = []
    if isinstance(m.interval, Template):
        out.append(("interval", m.interval))
    r = m.request
    if r is None:
        return out
    out.append(("request.url", r.url))
    for section, entries in (("headers", r.headers), ("query", r.query)):
        for name, entry in entries:
            out.append((f"request.{section}.{name}.value", entry.value))
            if entry.when is not None:
                out.append((f"request.{section}.{name}.when", entry.when))
    out += list(_templates_of(r.body, "request.body"))
    if r.basic_auth is not None:
        user, password, when = r.basic_auth
        out += [("request.basic_auth.username", user), ("request.basic_auth.password", password)]
        if when is not None:
            out.append(("request.basic_auth.when", when))
    for name, value in (("timeout", r.timeout), ("verify_tls", r.verify_tls)):
        if isinstance(value, Template):
            out.append((f"request.{name}", value))
    return out


def mapping_templates(mapping: AlertMapping) -> list[tuple[str, Template | Condition]]:
    out: list[tuple[str, Template | Condition]] = [
        ("mapping.key", mapping.key),
        ("mapping.summary", mapping.summary),
    ]
    if mapping.target is not None:
        out.append(("mapping.target.value", mapping.target.value))
    if mapping.severity.value is not None:
        out.append(("mapping.severity.value", mapping.severity.value))
    out += [(f"mapping.details.{k}", t) for k, t in mapping.details]
    for name, condition in (("clear", mapping.clear), ("suppressed", mapping.suppressed)):
        if condition is not None:
            out.append((f"mapping.{name}", condition))
    return out


def paths_of(thing: Template | Condition) -> list[Path]:
    if isinstance(thing, Condition):
        return list(thing.paths)
    return [p for ph in thing.placeholders for p in ph.paths]


def _check_setting_ref(m: Manifest, path: Path, where: str, *, mapping: bool) -> None:
    if len(path) < 2:
        raise fail(where, "name the setting: settings.NAME")
    f = m.setting(path[1])
    if f is None:
        declared = ", ".join(x.name for x in m.settings) or "none"
        raise fail(where, f"no setting {path[1]!r} is declared (declared: {declared})")
    if mapping and f.type in (FieldType.SECRET, FieldType.CREDENTIAL):
        raise fail(where, f"the secret setting {f.name!r} cannot appear in an alert")


def check_references(m: Manifest) -> None:
    """Templates name only what exists: declared settings, pagination, ``let`` names."""
    pages = m.request is not None and m.request.pagination is not None
    for where, thing in request_templates(m):
        for path in paths_of(thing):
            if path[0] == "settings":
                _check_setting_ref(m, path, where, mapping=False)
            elif path[0] == "page" and pages and where != "interval":
                if len(path) != 2 or path[1] not in ("number", "offset", "size"):
                    raise fail(where, "page.number, page.offset or page.size")
            else:
                roots = "settings.*" + (" and page.*" if pages else "")
                raise fail(where, f"{'.'.join(path)}: request templates use {roots} only")
    if m.mapping is None:
        return
    lets = {name for name, _ in m.mapping.let}
    for where, thing in mapping_templates(m.mapping):
        for path in paths_of(thing):
            head = path[0]
            if head == "$settings":
                _check_setting_ref(m, path, where, mapping=True)
            elif head.startswith("$") and head not in ("$connector",) and head[1:] not in lets:
                raise fail(where, f"{head}: not $settings.NAME, $connector or a let name")


def host_of(value: str) -> str:
    """The host part of ``node1:9100``, ``[2001:db8::1]:9100``, ``http://h:80/x`` or ``h``."""
    text = value.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
        text = re.split(r"[/?#]", text, maxsplit=1)[0]
        text = text.rsplit("@", 1)[-1]
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if port.isdigit():
            return host
    return text
