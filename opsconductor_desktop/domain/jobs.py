"""Job definitions: ordered steps run across a selection of targets.

A definition is plain data (read from YAML or JSON, stored as JSON) validated here into
immutable values, so that every client shows the same errors before anything runs::

    name: show-version
    description: Collect software versions
    select: {targets: [r1], groups: [core], rule: "vendor:cisco"}
    concurrency: 20
    failure_policy: stop          # or: continue
    steps:
      - type: ssh.command
        command: "show version | include {{ target.model }}"
        timeout: 30
        expect: {regex: "Version \\S+"}
        capture: "Version (?P<version>\\S+)"
      - {type: snmp.get, oids: [1.3.6.1.2.1.1.1.0]}
      - {type: snmp.walk, oid: 1.3.6.1.2.1.2.2.1.2}
      - {type: snmp.set, oid: 1.3.6.1.2.1.1.6.0, value_type: s, value: "{{ target.site }}"}
      - {type: ping, count: 3}
      - {type: tcp.check, port: 22}

Templates (``{{ target.FIELD }}``, ``{{ vars.NAME }}``) are checked for syntax here and
rendered per target, where a missing field is that target's own clear error.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import validate_name, validate_port


class StepType(StrEnum):
    """What a step does; one driver behind each."""

    SSH_COMMAND = "ssh.command"
    SNMP_GET = "snmp.get"
    SNMP_WALK = "snmp.walk"
    SNMP_SET = "snmp.set"
    PING = "ping"
    TCP_CHECK = "tcp.check"


class FailurePolicy(StrEnum):
    """What happens to a target's remaining steps after one fails."""

    STOP = "stop"
    CONTINUE = "continue"


class RunStatus(StrEnum):
    """States of a run, of each target in it, and of each step."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.PENDING, RunStatus.RUNNING)


COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_TEMPLATE_PATH = re.compile(r"^(target|vars)\.([A-Za-z_][A-Za-z0-9_]*)$")
TARGET_FIELDS = ("name", "address", "kind", "vendor", "model", "site", "description")
MAX_STEPS = 50


def check_template(text: str, *, what: str) -> str:
    """Refuse template syntax that can never render (unknown roots, unbalanced braces)."""
    for match in _TEMPLATE.finditer(text):
        path = _TEMPLATE_PATH.match(match.group(1))
        if path is None:
            raise ValidationError(
                f"{what}: cannot use {{{{ {match.group(1)} }}}}; write {{{{ target.FIELD }}}} "
                "or {{ vars.NAME }}",
                field=what,
            )
        if path.group(1) == "target" and path.group(2) not in TARGET_FIELDS:
            raise ValidationError(
                f"{what}: target has no field {path.group(2)!r}; one of {', '.join(TARGET_FIELDS)}",
                field=what,
            )
    leftover = _TEMPLATE.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise ValidationError(f"{what}: unbalanced '{{{{' or '}}}}' in template", field=what)
    return text


def render(text: str, target: Mapping[str, Any], variables: Mapping[str, Any]) -> str:
    """Fill a checked template for one target; a missing var raises ``ValidationError``."""

    def value(match: re.Match[str]) -> str:
        path = _TEMPLATE_PATH.match(match.group(1))
        if path is None:
            raise ValidationError(f"bad template expression {match.group(0)!r}")
        root, name = path.groups()
        source = target if root == "target" else variables
        if name not in source or source[name] is None:
            raise ValidationError(f"template needs {root}.{name}, which this target lacks")
        return str(source[name])

    return _TEMPLATE.sub(value, text)


@dataclass(frozen=True, slots=True)
class Expectation:
    """What makes a step succeed, beyond the driver not failing."""

    regex: str | None = None
    not_regex: str | None = None
    exit_status: int | None = 0  # ssh.command only; None accepts any status
    compare_op: str | None = None
    compare_value: float | None = None

    def check_text(self, text: str) -> str | None:
        """A reason the text fails the expectation, or None."""
        if self.regex and not re.search(self.regex, text, re.MULTILINE):
            return f"output does not match /{self.regex}/"
        if self.not_regex and re.search(self.not_regex, text, re.MULTILINE):
            return f"output matches /{self.not_regex}/"
        return None

    def check_value(self, value: float | None) -> str | None:
        if self.compare_op is None or self.compare_value is None:
            return None
        if value is None:
            return f"no numeric value to compare with {self.compare_op} {self.compare_value:g}"
        if not COMPARATORS[self.compare_op](value, self.compare_value):
            return f"value {value:g} is not {self.compare_op} {self.compare_value:g}"
        return None


@dataclass(frozen=True, slots=True)
class Step:
    """One validated step of a job."""

    type: StepType
    name: str
    timeout: float
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: Expectation = field(default_factory=Expectation)
    capture: str | None = None

    def captured(self, text: str) -> dict[str, str]:
        """Named groups of the capture regex found in ``text`` (first match)."""
        if not self.capture:
            return {}
        found = re.search(self.capture, text, re.MULTILINE)
        return {k: v for k, v in found.groupdict().items() if v is not None} if found else {}


@dataclass(frozen=True, slots=True)
class Selection:
    """Which targets a job runs on: named targets, groups and a rule, combined (union)."""

    targets: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    rule: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.targets or self.groups or self.rule)

    def to_json(self) -> dict[str, Any]:
        return {"targets": list(self.targets), "groups": list(self.groups), "rule": self.rule}


@dataclass(frozen=True, slots=True)
class JobDefinition:
    """A validated job definition."""

    name: str
    description: str
    steps: tuple[Step, ...]
    select: Selection = field(default_factory=Selection)
    concurrency: int = 20
    failure_policy: FailurePolicy = FailurePolicy.STOP
    source: Mapping[str, Any] = field(default_factory=dict)  # the document as given


_TOP_KEYS = {"name", "description", "select", "concurrency", "failure_policy", "steps"}
_STEP_KEYS_COMMON = {"type", "name", "timeout", "expect", "capture"}
_STEP_KEYS = {
    StepType.SSH_COMMAND: {"command", "max_output"},
    StepType.SNMP_GET: {"oids"},
    StepType.SNMP_WALK: {"oid", "max_repetitions", "max_varbinds"},
    StepType.SNMP_SET: {"oid", "value_type", "value"},
    StepType.PING: {"count"},
    StepType.TCP_CHECK: {"port"},
}
_DEFAULT_TIMEOUT = {StepType.SSH_COMMAND: 60.0, StepType.SNMP_WALK: 60.0, StepType.PING: 5.0}
_OID = re.compile(r"^\.?[0-2](\.\d+)+$")


def _fail(where: str, message: str) -> ValidationError:
    return ValidationError(f"{where}: {message}", field=where)


def _number(value: Any, where: str, *, low: float, high: float, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise _fail(where, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise _fail(where, f"must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "must be non-empty text")
    return value


def check_oid(value: Any, where: str) -> str:
    """A numeric OID (``1.3.6.1.2.1.1.1.0``); names are refused (no MIBs are compiled)."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    if not _OID.match(text):
        raise _fail(where, f"invalid OID {value!r}: use numeric form like 1.3.6.1.2.1.1.1.0")
    return text.lstrip(".")


def _regex(value: Any, where: str) -> str:
    text = _text(value, where)
    try:
        re.compile(text)
    except re.error as exc:
        raise _fail(where, f"invalid regex: {exc}") from None
    return text


def _expectation(data: Any, step_type: StepType, where: str) -> Expectation:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _fail(where, "must be a mapping with regex, not_regex, exit_status or compare")
    unknown = set(data) - {"regex", "not_regex", "exit_status", "compare"}
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    op = value = None
    if "compare" in data:
        cmp = data["compare"]
        if not isinstance(cmp, Mapping) or set(cmp) != {"op", "value"}:
            raise _fail(f"{where}.compare", "needs exactly op and value")
        if cmp["op"] not in COMPARATORS:
            raise _fail(f"{where}.compare.op", f"one of {' '.join(COMPARATORS)}")
        op = str(cmp["op"])
        value = _number(cmp["value"], f"{where}.compare.value", low=-1e18, high=1e18)
    status: int | None = 0 if step_type is StepType.SSH_COMMAND else None
    if "exit_status" in data:
        raw = data["exit_status"]
        status = (
            None
            if raw is None
            else int(_number(raw, f"{where}.exit_status", low=0, high=255, integer=True))
        )
    return Expectation(
        regex=_regex(data["regex"], f"{where}.regex") if data.get("regex") else None,
        not_regex=_regex(data["not_regex"], f"{where}.not_regex")
        if data.get("not_regex")
        else None,
        exit_status=status,
        compare_op=op,
        compare_value=value,
    )


def _step_params(kind: StepType, data: Mapping[str, Any], where: str) -> dict[str, Any]:
    if kind is StepType.SSH_COMMAND:
        params: dict[str, Any] = {
            "command": check_template(
                _text(data.get("command"), f"{where}.command"), what=f"{where}.command"
            )
        }
        if "max_output" in data:
            params["max_output"] = int(
                _number(
                    data["max_output"], f"{where}.max_output", low=1024, high=64 << 20, integer=True
                )
            )
        return params
    if kind is StepType.SNMP_GET:
        oids = data.get("oids")
        if isinstance(oids, str):
            oids = [oids]
        if not isinstance(oids, list) or not oids:
            raise _fail(f"{where}.oids", "needs a list of OIDs")
        return {"oids": [check_oid(o, f"{where}.oids[{i}]") for i, o in enumerate(oids)]}
    if kind is StepType.SNMP_WALK:
        params = {"oid": check_oid(data.get("oid"), f"{where}.oid")}
        for key, high in (("max_repetitions", 200), ("max_varbinds", 100_000)):
            if key in data:
                params[key] = int(
                    _number(data[key], f"{where}.{key}", low=1, high=high, integer=True)
                )
        return params
    if kind is StepType.SNMP_SET:
        value = data.get("value")
        if value is None:
            raise _fail(f"{where}.value", "is required")
        if isinstance(value, str):
            check_template(value, what=f"{where}.value")
        return {
            "oid": check_oid(data.get("oid"), f"{where}.oid"),
            "value_type": _text(data.get("value_type"), f"{where}.value_type"),
            "value": value,
        }
    if kind is StepType.PING:
        return {
            "count": int(
                _number(data.get("count", 1), f"{where}.count", low=1, high=20, integer=True)
            )
        }
    port = data.get("port")
    if not isinstance(port, int):
        raise _fail(f"{where}.port", "needs a port number")
    return {"port": validate_port(port, what=f"{where}.port")}


def _step(data: Any, index: int) -> Step:
    where = f"steps[{index}]"
    if not isinstance(data, Mapping):
        raise _fail(where, "must be a mapping with a type")
    try:
        kind = StepType(str(data.get("type", "")))
    except ValueError:
        choices = ", ".join(t.value for t in StepType)
        raise _fail(
            f"{where}.type", f"unknown step type {data.get('type')!r}; one of {choices}"
        ) from None
    unknown = set(data) - _STEP_KEYS_COMMON - _STEP_KEYS[kind]
    if unknown:
        raise _fail(where, f"unknown key(s) for {kind}: {', '.join(sorted(unknown))}")
    timeout = _number(
        data.get("timeout", _DEFAULT_TIMEOUT.get(kind, 10.0)),
        f"{where}.timeout",
        low=0.1,
        high=24 * 3600,
    )
    capture = data.get("capture")
    if capture is not None:
        capture = _regex(capture, f"{where}.capture")
        if not re.compile(capture).groupindex:
            raise _fail(f"{where}.capture", "needs named groups like (?P<version>\\S+)")
    return Step(
        type=kind,
        name=str(data.get("name") or kind.value),
        timeout=timeout,
        params=_step_params(kind, data, where),
        expect=_expectation(data.get("expect"), kind, f"{where}.expect"),
        capture=capture,
    )


def _selection(data: Any) -> Selection:
    if data is None:
        return Selection()
    if not isinstance(data, Mapping):
        raise _fail("select", "must be a mapping with targets, groups and/or rule")
    unknown = set(data) - {"targets", "groups", "rule"}
    if unknown:
        raise _fail("select", f"unknown key(s) {', '.join(sorted(unknown))}")

    def names(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise _fail(f"select.{key}", "must be a list of names")
        return tuple(validate_name(str(v), what=f"select.{key}") for v in value)

    rule = data.get("rule")
    if rule:
        rule = str(rules.parse(_text(rule, "select.rule")))
    return Selection(names("targets"), names("groups"), rule or None)


def parse_job(data: Any) -> JobDefinition:
    """Validate a job document (a mapping from YAML/JSON), or raise ``ValidationError``."""
    if not isinstance(data, Mapping):
        raise ValidationError("a job definition must be a mapping with name and steps")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail("job", f"unknown key(s) {', '.join(sorted(unknown))}")
    name = validate_name(str(data.get("name", "")), what="name")
    steps_data = data.get("steps")
    if not isinstance(steps_data, Sequence) or isinstance(steps_data, str) or not steps_data:
        raise _fail("steps", "a job needs at least one step")
    if len(steps_data) > MAX_STEPS:
        raise _fail("steps", f"at most {MAX_STEPS} steps")
    policy_text = str(data.get("failure_policy", "stop"))
    try:
        policy = FailurePolicy(policy_text)
    except ValueError:
        raise _fail("failure_policy", "one of stop, continue") from None
    return JobDefinition(
        name=name,
        description=str(data.get("description") or "").strip(),
        steps=tuple(_step(s, i) for i, s in enumerate(steps_data)),
        select=_selection(data.get("select")),
        concurrency=int(
            _number(data.get("concurrency", 20), "concurrency", low=1, high=500, integer=True)
        ),
        failure_policy=policy,
        source=dict(data),
    )


def first_number(text: str) -> float | None:
    """The first number in a text (for ``compare`` on command output)."""
    found = re.search(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)
    return float(found.group(0)) if found else None
