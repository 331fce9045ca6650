"""Monitor definitions: what the poller checks on a selection of targets, and how often.

A monitor is plain data (YAML or JSON) validated here into immutable values; errors name
the field path (``metrics[1].oid: invalid OID ...``)::

    name: core-reachability
    kind: reachability
    method: tcp            # or icmp
    port: 22               # tcp only
    down_after: 3          # consecutive failed checks before the target is down
    interval: 60
    timeout: 5
    retries: 1
    select: {groups: [core], rule: "site:ams1"}

    name: interface-traffic
    kind: snmp
    metrics:
      - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3.0, type: gauge}
      - {name: ifHCInOctets, oid: 1.3.6.1.2.1.31.1.1.1.6, walk: true, type: counter,
         bits: 64, scale: 8}       # one series per ifIndex: ifHCInOctets.3

    name: load
    kind: ssh
    metrics:
      - {name: load1, command: "cat /proc/loadavg", regex: "^(\\S+)", type: gauge}

``scale`` multiplies the stored value (after a counter's rate is taken), e.g. 8 turns
octets per second into bits per second. Series names are the metric name, plus ``.INDEX``
for each row of a walked table column, so threshold rules select them with a glob
(``ifHCInOctets.*``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.jobs import Selection, check_oid, check_template
from opsconductor_desktop.domain.metrics import MetricType
from opsconductor_desktop.domain.silences import parse_duration
from opsconductor_desktop.domain.targets import validate_name, validate_port

MAX_METRICS = 100
_METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_:\-]*$")


class MonitorKind(StrEnum):
    """What a monitor checks; one driver behind each."""

    REACHABILITY = "reachability"
    SNMP = "snmp"
    SSH = "ssh"


class ProbeMethod(StrEnum):
    """How reachability is probed."""

    ICMP = "icmp"
    TCP = "tcp"


@dataclass(frozen=True, slots=True)
class SnmpMetric:
    """A scalar OID, or a table column walked into one series per index."""

    name: str
    oid: str
    type: MetricType = MetricType.GAUGE
    walk: bool = False
    bits: int | None = None  # counter width; None: from the SNMP type the agent returns
    scale: float = 1.0  # applied to the derived value: 8 turns octets/s into bits/s

    def series(self, index: str | None = None) -> str:
        """The series name of a scalar, or of one row of a walked column."""
        return f"{self.name}.{index}" if self.walk and index else self.name

    def index_of(self, oid: str) -> str | None:
        """The row index of an OID returned by walking this column, None if outside it."""
        prefix = self.oid + "."
        text = oid.lstrip(".")
        return text[len(prefix) :] if text.startswith(prefix) else None


@dataclass(frozen=True, slots=True)
class SshMetric:
    """A command whose output holds one number, found by a regex group."""

    name: str
    command: str  # may use {{ target.FIELD }} and {{ vars.NAME }}
    regex: str
    group: str | int = 1
    type: MetricType = MetricType.GAUGE
    scale: float = 1.0

    def series(self, index: str | None = None) -> str:
        return self.name

    def extract(self, output: str) -> float | None:
        """The raw number in the command output (before ``scale``), or None when absent."""
        found = re.search(self.regex, output, re.MULTILINE)
        if found is None:
            return None
        text = found.group(self.group)
        try:
            return float(text.replace(",", "")) if text is not None else None
        except ValueError:
            return None


Metric = SnmpMetric | SshMetric


@dataclass(frozen=True, slots=True)
class Monitor:
    """A validated monitor definition."""

    name: str
    kind: MonitorKind
    interval: float
    timeout: float
    retries: int
    select: Selection = field(default_factory=Selection)
    description: str = ""
    enabled: bool = True
    method: ProbeMethod | None = None  # reachability only
    port: int | None = None  # reachability over tcp only
    down_after: int = 3  # reachability only
    metrics: tuple[Metric, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)  # the document as given


# --- validation helpers (shared with thresholds) -------------------------------------


def fail(where: str, message: str) -> ValidationError:
    """A ``ValidationError`` whose message starts with the field path."""
    return ValidationError(f"{where}: {message}", field=where)


def number(value: Any, where: str, *, low: float, high: float, integer: bool = False) -> float:
    """A number within bounds (booleans refused), or a ``ValidationError`` at ``where``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(where, f"must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise fail(where, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise fail(where, f"must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def seconds(value: Any, where: str, *, low: float, high: float) -> float:
    """A number of seconds, or a duration such as ``30s``, ``5m``, ``1h30m``."""
    if isinstance(value, str) and value.strip() and not value.strip()[-1].isdigit():
        try:
            value = parse_duration(value).total_seconds()
        except ValidationError as exc:
            raise fail(where, str(exc)) from None
    return number(value, where, low=low, high=high)


def text(value: Any, where: str) -> str:
    """Non-empty text, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise fail(where, "must be non-empty text")
    return value.strip()


def check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse keys a definition does not know (a typo must not be silently ignored)."""
    unknown = set(data) - allowed
    if unknown:
        raise fail(where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")


def mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(where, f"must be a mapping {what}")
    return value


def metric_name(value: Any, where: str) -> str:
    name = text(value, where)
    if not _METRIC_NAME.match(name):
        raise fail(where, f"invalid metric name {name!r}: letters, digits, _ : - only")
    return name


def parse_selection(data: Any, where: str = "select", *, tags: bool = False) -> Selection:
    """``{targets, groups, rule}`` (and ``tags`` when allowed) into a ``Selection``.

    Parts combine as a union, as in jobs: tags become ``tag:a or tag:b`` in the rule.
    """
    if data is None:
        return Selection()
    data = mapping(data, where, "with targets, groups and/or rule")
    check_keys(data, {"targets", "groups", "rule"} | ({"tags"} if tags else set()), where)

    def names(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise fail(f"{where}.{key}", "must be a list of names")
        return tuple(validate_name(str(v), what=f"{where}.{key}[{i}]") for i, v in enumerate(value))

    parts: list[rules.Rule] = []
    if data.get("rule"):
        try:
            parts.append(rules.parse(text(data["rule"], f"{where}.rule")))
        except ValidationError as exc:
            raise fail(f"{where}.rule", str(exc)) from None
    parts.extend(rules.Term("tag", tag) for tag in names("tags"))
    combined = parts[0] if len(parts) == 1 else rules.AnyOf(tuple(parts)) if parts else None
    return Selection(names("targets"), names("groups"), str(combined) if combined else None)


def _enum(cls: type[StrEnum], value: Any, where: str) -> Any:
    try:
        return cls(str(value).strip().lower())
    except ValueError:
        raise fail(where, f"{value!r} is not one of {', '.join(m.value for m in cls)}") from None


# --- metrics ---------------------------------------------------------------------------

_SNMP_KEYS = {"name", "oid", "type", "walk", "bits", "scale"}
_SSH_KEYS = {"name", "command", "regex", "group", "type", "scale"}


def _scale(data: Mapping[str, Any], where: str) -> float:
    value = number(data.get("scale", 1), f"{where}.scale", low=-1e12, high=1e12)
    if value == 0:
        raise fail(f"{where}.scale", "must not be 0")
    return value


def _snmp_metric(data: Mapping[str, Any], where: str) -> SnmpMetric:
    check_keys(data, _SNMP_KEYS, where)
    kind = _enum(MetricType, data.get("type", "gauge"), f"{where}.type")
    bits = data.get("bits")
    if bits is not None and (isinstance(bits, bool) or bits not in (32, 64)):
        raise fail(f"{where}.bits", f"must be 32 or 64, got {bits!r}")
    walk = data.get("walk", False)
    if not isinstance(walk, bool):
        raise fail(f"{where}.walk", "must be true or false")
    return SnmpMetric(
        name=metric_name(data.get("name"), f"{where}.name"),
        oid=check_oid(data.get("oid"), f"{where}.oid"),
        type=kind,
        walk=walk,
        bits=bits,
        scale=_scale(data, where),
    )


def _ssh_metric(data: Mapping[str, Any], where: str) -> SshMetric:
    check_keys(data, _SSH_KEYS, where)
    command = check_template(text(data.get("command"), f"{where}.command"), what=f"{where}.command")
    pattern = text(data.get("regex"), f"{where}.regex")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise fail(f"{where}.regex", f"invalid regex: {exc}") from None
    group: Any = data.get("group")
    if group is None:
        if compiled.groups != 1:
            raise fail(
                f"{where}.regex",
                f"needs exactly one group holding the number (has {compiled.groups}), "
                "or say which with group",
            )
        group = 1
    elif isinstance(group, str) and group not in compiled.groupindex:
        raise fail(f"{where}.group", f"regex has no group named {group!r}")
    elif isinstance(group, int) and not isinstance(group, bool):
        if not 1 <= group <= compiled.groups:
            raise fail(f"{where}.group", f"regex has no group {group}")
    elif not isinstance(group, str):
        raise fail(f"{where}.group", "must be a group name or number")
    return SshMetric(
        name=metric_name(data.get("name"), f"{where}.name"),
        command=command,
        regex=pattern,
        group=group,
        type=_enum(MetricType, data.get("type", "gauge"), f"{where}.type"),
        scale=_scale(data, where),
    )


def _metrics(kind: MonitorKind, data: Any) -> tuple[Metric, ...]:
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise fail("metrics", f"a {kind} monitor needs a list of metrics")
    if len(data) > MAX_METRICS:
        raise fail("metrics", f"at most {MAX_METRICS} metrics")
    parse = _snmp_metric if kind is MonitorKind.SNMP else _ssh_metric
    found: list[Metric] = []
    for i, item in enumerate(data):
        where = f"metrics[{i}]"
        metric = parse(mapping(item, where, "with name and oid or command"), where)
        if any(m.name == metric.name for m in found):
            raise fail(f"{where}.name", f"metric {metric.name!r} is defined twice")
        found.append(metric)
    return tuple(found)


# --- monitors --------------------------------------------------------------------------

_COMMON_KEYS = {"name", "kind", "description", "enabled", "interval", "timeout", "retries"}
_KIND_KEYS = {
    MonitorKind.REACHABILITY: {"method", "port", "down_after", "select"},
    MonitorKind.SNMP: {"metrics", "select"},
    MonitorKind.SSH: {"metrics", "select"},
}
_DEFAULT_TIMEOUT = {MonitorKind.REACHABILITY: 5.0, MonitorKind.SNMP: 10.0, MonitorKind.SSH: 30.0}


def _reachability(data: Mapping[str, Any]) -> dict[str, Any]:
    method = _enum(ProbeMethod, data.get("method", "icmp"), "method")
    port = data.get("port")
    if method is ProbeMethod.TCP:
        if port is None:
            raise fail("port", "a tcp probe needs a port")
        port = validate_port(port, what="port")
    elif port is not None:
        raise fail("port", "only a tcp probe takes a port")
    down_after = number(data.get("down_after", 3), "down_after", low=1, high=100, integer=True)
    return {"method": method, "port": port, "down_after": int(down_after)}


def parse_monitor(data: Any) -> Monitor:
    """Validate a monitor document (a mapping from YAML/JSON), or raise ``ValidationError``."""
    if not isinstance(data, Mapping):
        raise ValidationError("a monitor definition must be a mapping with name and kind")
    name = validate_name(str(data.get("name", "")), what="name")
    if "kind" not in data:
        raise fail("kind", f"is required: one of {', '.join(k.value for k in MonitorKind)}")
    kind: MonitorKind = _enum(MonitorKind, data["kind"], "kind")
    check_keys(data, _COMMON_KEYS | _KIND_KEYS[kind], "monitor")
    interval = seconds(data.get("interval", 60), "interval", low=5, high=86400)
    timeout = seconds(data.get("timeout", _DEFAULT_TIMEOUT[kind]), "timeout", low=0.1, high=600)
    retries = int(number(data.get("retries", 1), "retries", low=0, high=10, integer=True))
    if timeout * (retries + 1) > interval:
        raise fail("timeout", f"{timeout:g}s x {retries + 1} tries does not fit the interval")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", "must be true or false")
    extra: dict[str, Any] = (
        _reachability(data)
        if kind is MonitorKind.REACHABILITY
        else {"metrics": _metrics(kind, data.get("metrics"))}
    )
    return Monitor(
        name=name,
        kind=kind,
        interval=interval,
        timeout=timeout,
        retries=retries,
        select=parse_selection(data.get("select")),
        description=str(data.get("description") or "").strip(),
        enabled=enabled,
        source=dict(data),
        **extra,
    )
