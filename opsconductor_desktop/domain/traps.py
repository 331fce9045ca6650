"""SNMP notifications as alerts: trap rule packs, the v1 → v2 mapping, matching.

A trap is seen in SMIv2 terms whatever version carried it: a notification OID
(``snmpTrapOID.0``) and its var-binds. SNMPv1 traps are mapped as RFC 3584 (3.1) says:
generic traps 0-5 become ``snmpTraps.1``-``.6`` (coldStart … egpNeighborLoss), an
enterprise-specific trap becomes ``enterprise.0.specific``, and the agent address and
enterprise are appended as ``snmpTrapAddress.0`` and ``snmpTrapEnterprise.0``.

A rule pack (YAML in ``resources/traps/``, read by ``runtime.receivers.traps``) lists
rules, each naming one notification OID::

    name: snmpv2-mib
    traps:
      - name: linkDown
        oid: 1.3.6.1.6.3.1.1.5.3
        severity: major
        key: "linkDown:{ifIndex}"
        summary: "link down on ifIndex {ifIndex}"
        fields:
          ifIndex:                               # first source present wins
            - 1.3.6.1.2.1.2.2.1.1                # the value of ifIndex.N
            - {oid: 1.3.6.1.2.1.2.2.1.8, take: index}   # else N from ifOperStatus.N
      - name: linkUp
        oid: 1.3.6.1.6.3.1.1.5.4
        severity: clear                          # clears the alert with the same key
        key: "linkDown:{ifIndex}"
        fields: {ifIndex: 1.3.6.1.2.1.2.2.1.1}

Templates (``key``, ``summary``) use the rule's fields and ``trap`` (the rule's name),
``oid``, ``address``, ``target``, ``version``, ``user`` and ``uptime``; a field the trap
did not carry renders as ``?``. A trap no rule names is never dropped: it becomes an
``info`` alert keyed by its OID, its var-binds in the details.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import VarBind

SOURCE = "trap"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAP_ENTERPRISE = "1.3.6.1.6.3.1.1.4.3.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
SNMP_TRAPS = "1.3.6.1.6.3.1.1.5"
GENERIC_TRAPS = (
    "coldStart",
    "warmStart",
    "linkDown",
    "linkUp",
    "authenticationFailure",
    "egpNeighborLoss",
)
ENTERPRISE_SPECIFIC = 6
BUILTIN_NAMES = frozenset({"trap", "oid", "address", "target", "version", "user", "uptime"})
MISSING = "?"
MAX_KEY = 255  # the alerts.key column
MAX_SUMMARY = 500
MAX_VARBINDS_SHOWN = 64
MAX_VALUE_CHARS = 512
MAX_OID_ARCS = 128
_ARC_MAX = 2**32 - 1
_OID_TEXT = re.compile(r"^\.?\d+(\.\d+)+$")
_RULE_NAME = re.compile(r"^[A-Za-z][\w.-]{0,63}$")
_FIELD_NAME = re.compile(r"^[A-Za-z_]\w{0,63}$")
RULE_KEYS = frozenset({"name", "oid", "severity", "summary", "key", "fields", "description"})
PACK_KEYS = frozenset({"name", "description", "traps"})
FIELD_KEYS = frozenset({"oid", "take"})

#: (index of the rule in ``traps`` or None for the pack, field or None) → line, if known
LineOf = Callable[[int | None, str | None], int | None]


class TrapFormatError(ValidationError):
    """A notification that says nothing usable (no ``snmpTrapOID.0``, a bad generic-trap)."""


# ---- the trap, whatever version carried it ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trap:
    """One notification in SMIv2 terms (v1 traps mapped), as the receiver got it.

    ``varbinds`` excludes ``sysUpTime.0`` and ``snmpTrapOID.0`` (kept as ``uptime`` and
    ``trap_oid``). A community is a secret and is never kept; a v3 user name is.
    """

    address: str  # the sender's IP address (UDP source)
    version: str  # "v1", "v2c" or "v3"
    trap_oid: str
    varbinds: tuple[VarBind, ...] = ()
    uptime: int | None = None  # hundredths of a second
    user: str = ""
    agent_address: str = ""  # v1: the agent-addr field (differs from ``address`` via relays)
    inform: bool = False


def v1_trap_oid(enterprise: str, generic: int, specific: int) -> str:
    """The SNMPv2 notification OID of an SNMPv1 trap (RFC 3584 3.1.2)."""
    if 0 <= generic < ENTERPRISE_SPECIFIC:
        return f"{SNMP_TRAPS}.{generic + 1}"
    if generic == ENTERPRISE_SPECIFIC:
        if specific < 0:
            raise TrapFormatError(f"specific-trap {specific} is negative")
        return f"{enterprise}.0.{specific}"
    raise TrapFormatError(f"generic-trap {generic} is not 0-6")


def trap_from_v1(
    address: str,
    *,
    enterprise: str,
    agent_address: str,
    generic: int,
    specific: int,
    timestamp: int,
    varbinds: Sequence[VarBind],
) -> Trap:
    """An SNMPv1 Trap-PDU as its SNMPv2 equivalent (RFC 3584 3.1)."""
    extra = (
        VarBind(SNMP_TRAP_ADDRESS, "IpAddress", agent_address),
        VarBind(SNMP_TRAP_ENTERPRISE, "ObjectIdentifier", enterprise),
    )
    return Trap(
        address,
        "v1",
        v1_trap_oid(enterprise, generic, specific),
        (*varbinds, *extra),
        uptime=timestamp,
        agent_address=agent_address,
    )


def trap_from_v2(
    address: str,
    version: str,
    varbinds: Sequence[VarBind],
    *,
    user: str = "",
    inform: bool = False,
) -> Trap:
    """An SNMPv2-Trap or InformRequest: ``snmpTrapOID.0`` is required, ``sysUpTime.0`` not."""
    trap_oid: str | None = None
    uptime: int | None = None
    rest: list[VarBind] = []
    for vb in varbinds:
        if vb.oid == SNMP_TRAP_OID and trap_oid is None:
            if vb.type != "ObjectIdentifier" or not isinstance(vb.value, str):
                raise TrapFormatError(f"snmpTrapOID.0 is a {vb.type}, not an OBJECT IDENTIFIER")
            trap_oid = vb.value
        elif vb.oid == SYS_UPTIME and uptime is None and isinstance(vb.value, int):
            uptime = vb.value
        else:
            rest.append(vb)
    if trap_oid is None:
        raise TrapFormatError("no snmpTrapOID.0 var-bind: not a notification")
    return Trap(address, version, trap_oid, tuple(rest), uptime, user=user, inform=inform)


# ---- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSource:
    """Where a field's value comes from: a var-bind whose OID is ``oid`` or under it.

    ``take="value"`` renders the var-bind's value; ``take="index"`` the OID's suffix
    after ``oid`` (the table row, e.g. a BGP peer's address).
    """

    oid: str
    take: Literal["value", "index"] = "value"

    def pick(self, varbinds: Sequence[VarBind]) -> str | None:
        prefix = self.oid + "."
        for vb in varbinds:
            if self.take == "index":
                if vb.oid.startswith(prefix):
                    return vb.oid[len(prefix) :]
            elif vb.oid == self.oid or vb.oid.startswith(prefix):
                return vb.display() if vb.exists else None
        return None


@dataclass(frozen=True, slots=True)
class TrapRule:
    """Turns the notification ``oid`` into an alert (``severity: clear`` clears one)."""

    name: str
    oid: str
    severity: Severity
    key: str
    summary: str
    fields: Mapping[str, tuple[FieldSource, ...]] = field(default_factory=dict)
    description: str = ""
    pack: str = ""

    @property
    def clear(self) -> bool:
        return self.severity is Severity.CLEAR

    def values(self, varbinds: Sequence[VarBind]) -> dict[str, str]:
        """The rule's fields found in ``varbinds`` (absent ones left out)."""
        out: dict[str, str] = {}
        for name, sources in self.fields.items():
            for source in sources:
                value = source.pick(varbinds)
                if value is not None:
                    out[name] = value
                    break
        return out


class TrapRules:
    """Rules by notification OID; a later rule for the same OID replaces an earlier one
    (so an operator's own pack, loaded after the bundled ones, overrides them)."""

    def __init__(self, rules: Iterable[TrapRule] = ()) -> None:
        self._by_oid: dict[str, TrapRule] = {}
        for rule in rules:
            self._by_oid[rule.oid] = rule

    def __len__(self) -> int:
        return len(self._by_oid)

    def __iter__(self) -> Iterator[TrapRule]:
        return iter(self._by_oid.values())

    def rule_for(self, trap_oid: str) -> TrapRule | None:
        return self._by_oid.get(trap_oid)

    def alert_for(
        self, trap: Trap, target: str | None, extra: Mapping[str, Any] | None = None
    ) -> tuple[NormalizedAlert, TrapRule | None]:
        """The alert for ``trap`` from ``target`` (None: the sender is no known target);
        ``extra`` goes into its details (the receiving connector's name)."""
        rule = self._by_oid.get(trap.trap_oid)
        if rule is None:
            return unknown_trap_alert(trap, target, extra), None
        fields = rule.values(trap.varbinds)
        values = _Values(_builtins(trap, target, rule.name))
        values.update(fields)
        details = _details(trap, extra)
        details.update({"trap": rule.name, "pack": rule.pack, "fields": fields})
        alert = NormalizedAlert(
            source=SOURCE,
            key=_key(rule.key.format_map(values), trap, target),
            severity=rule.severity,
            summary=rule.summary.format_map(values)[:MAX_SUMMARY],
            target=target,
            details=details,
            clear=rule.clear,
        )
        return alert, rule


def unknown_trap_alert(
    trap: Trap, target: str | None, extra: Mapping[str, Any] | None = None
) -> NormalizedAlert:
    """A trap no rule names: an ``info`` alert keyed by its OID, var-binds in the details."""
    return NormalizedAlert(
        source=SOURCE,
        key=_key(trap.trap_oid, trap, target),
        severity=Severity.INFO,
        summary=f"unknown trap {trap.trap_oid} from {target or trap.address}"[:MAX_SUMMARY],
        target=target,
        details=_details(trap, extra),
    )


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return MISSING


def _builtins(trap: Trap, target: str | None, name: str) -> dict[str, str]:
    return {
        "trap": name,
        "oid": trap.trap_oid,
        "address": trap.address,
        "target": target or trap.address,
        "version": trap.version,
        "user": trap.user or MISSING,
        "uptime": MISSING if trap.uptime is None else str(trap.uptime),
    }


def _key(key: str, trap: Trap, target: str | None) -> str:
    # without a target, the sender's address keeps the problems of two unknown senders apart
    if target is None:
        key = f"{key}@{trap.address}"
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: MAX_KEY - 33]}~{digest}"


def varbind_details(varbinds: Sequence[VarBind]) -> list[dict[str, Any]]:
    """Var-binds as JSON-safe rows (text or hex for octets, numbers kept), bounded."""
    rows: list[dict[str, Any]] = []
    for vb in varbinds[:MAX_VARBINDS_SHOWN]:
        value: Any = vb.value if isinstance(vb.value, int) else vb.display()
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "…"
        rows.append({"oid": vb.oid, "type": vb.type, "value": value})
    if len(varbinds) > MAX_VARBINDS_SHOWN:
        rows.append({"omitted": len(varbinds) - MAX_VARBINDS_SHOWN})
    return rows


def _details(trap: Trap, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    details: dict[str, Any] = dict(extra or {})
    details |= {
        "trap_oid": trap.trap_oid,
        "address": trap.address,
        "version": trap.version,
        "varbinds": varbind_details(trap.varbinds),
    }
    if trap.uptime is not None:
        details["uptime"] = trap.uptime
    if trap.user:
        details["user"] = trap.user
    if trap.agent_address and trap.agent_address != trap.address:
        details["agent_address"] = trap.agent_address
    if trap.inform:
        details["inform"] = True
    return details


# ---- parsing rule packs -----------------------------------------------------------------------


def parse_oid_text(value: object) -> str:
    """A numeric OID in canonical dotted form (no leading dot), or ``ValidationError``."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    if not _OID_TEXT.match(text):
        raise ValidationError(
            f"{value!r} is not a numeric OID such as 1.3.6.1.6.3.1.1.5.3 "
            "(MIB names are not resolved)"
        )
    arcs = [int(part) for part in text.lstrip(".").split(".")]
    if len(arcs) > MAX_OID_ARCS or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValidationError(f"{text!r} is not a valid OID")
    if any(arc > _ARC_MAX for arc in arcs):
        raise ValidationError(f"{text!r}: an arc exceeds 2^32-1")
    return ".".join(map(str, arcs))


def _field_source(value: object) -> FieldSource:
    if isinstance(value, Mapping):
        unknown = set(value) - FIELD_KEYS
        if unknown:
            raise ValidationError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        take = value.get("take", "value")
        if take not in ("value", "index"):
            raise ValidationError(f"take must be value or index, not {take!r}")
        return FieldSource(
            parse_oid_text(value.get("oid")), "index" if take == "index" else "value"
        )
    return FieldSource(parse_oid_text(value))


def _fields(data: object) -> dict[str, tuple[FieldSource, ...]]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError("a mapping of field name → OID (or a list of OIDs)", field="fields")
    out: dict[str, tuple[FieldSource, ...]] = {}
    for name, spec in data.items():
        if not isinstance(name, str) or not _FIELD_NAME.match(name) or name in BUILTIN_NAMES:
            raise ValidationError(
                f"{name!r} is not a usable field name (letters, digits, _; not one of "
                f"{', '.join(sorted(BUILTIN_NAMES))})",
                field="fields",
            )
        specs = spec if isinstance(spec, list) else [spec]
        if not specs:
            raise ValidationError(f"{name}: give at least one OID", field="fields")
        try:
            out[name] = tuple(_field_source(s) for s in specs)
        except ValidationError as exc:
            raise ValidationError(f"{name}: {exc}", field="fields") from None
    return out


def _template(value: object, names: Iterable[str], what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("a non-empty text", field=what)
    known = set(names) | BUILTIN_NAMES
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValidationError(f"bad template {value!r}: {exc}", field=what) from None
    for _, name, spec, _ in parts:
        if name is None:
            continue
        if name not in known or "{" in (spec or ""):
            raise ValidationError(
                f"template {value!r} uses {{{name}}}, which is neither a field of this rule "
                f"nor one of {', '.join(sorted(BUILTIN_NAMES))}",
                field=what,
            )
    try:  # a bad format spec fails on its first use, here rather than on a trap
        value.format_map(_Values({n: MISSING for n in known}))
    except (ValueError, IndexError) as exc:
        raise ValidationError(f"bad template {value!r}: {exc}", field=what) from None
    return value


def parse_rule(data: object, pack: str = "") -> TrapRule:
    """One rule from its mapping; ``ValidationError.field`` names the offending key."""
    if not isinstance(data, Mapping):
        raise ValidationError("a trap rule is a mapping with name, oid and severity")
    unknown = set(data) - RULE_KEYS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise ValidationError(
            f"unknown key(s) {names}; a rule has {', '.join(sorted(RULE_KEYS))}",
            field=str(sorted(map(str, unknown))[0]),
        )
    name = data.get("name")
    if not isinstance(name, str) or not _RULE_NAME.match(name):
        raise ValidationError(
            "a name of letters, digits, '.', '-' or '_' (e.g. linkDown)", field="name"
        )
    try:
        oid = parse_oid_text(data.get("oid"))
    except ValidationError as exc:
        raise ValidationError(str(exc), field="oid") from None
    if "severity" not in data:
        raise ValidationError("required (critical … info, or clear)", field="severity")
    try:
        severity = Severity.parse(data["severity"])
    except (ValidationError, ValueError) as exc:
        raise ValidationError(str(exc), field="severity") from None
    fields = _fields(data.get("fields"))
    if severity is Severity.CLEAR and "key" not in data:
        raise ValidationError("a clearing rule needs the key of the alert it clears", field="key")
    key = _template(data.get("key", "{trap}"), fields, "key")
    summary = _template(data.get("summary", "{trap} from {target}"), fields, "summary")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValidationError("a text", field="description")
    return TrapRule(name, oid, severity, key, summary, fields, description, pack)


def _where(source: str, line_of: LineOf, index: int | None, key: str | None) -> str:
    line = line_of(index, key) or line_of(index, None)
    return f"{source}:{line}" if line else source


def parse_pack(data: object, source: str, line_of: LineOf | None = None) -> list[TrapRule]:
    """The rules of one pack (a mapping with ``traps:``, or a bare list of rules).

    Every problem raises ``ValidationError`` naming ``source``, the line (when
    ``line_of`` knows it), the rule and the field.
    """
    lines: LineOf = line_of or (lambda index, key: None)
    pack = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if isinstance(data, list):
        data = {"traps": data}
    if not isinstance(data, Mapping):
        raise ValidationError(f"{source}: a trap pack is a mapping with traps: [...]")
    unknown = set(data) - PACK_KEYS
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise ValidationError(
            f"{_where(source, lines, None, key)}: unknown key(s) "
            f"{', '.join(sorted(map(str, unknown)))}; a pack has {', '.join(sorted(PACK_KEYS))}"
        )
    if data.get("name") is not None:
        pack = str(data["name"])
    items = data.get("traps") or []
    if not isinstance(items, list):
        raise ValidationError(f"{_where(source, lines, None, 'traps')}: traps must be a list")
    rules: list[TrapRule] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        label = f"traps[{i}]"
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            label += f" ({item['name']})"
        try:
            rule = parse_rule(item, pack)
        except ValidationError as exc:
            where = _where(source, lines, i, exc.field)
            what = f"{exc.field}: " if exc.field else ""
            raise ValidationError(f"{where}: {label}: {what}{exc}", field=exc.field) from None
        if rule.oid in seen:
            raise ValidationError(
                f"{_where(source, lines, i, 'oid')}: {label}: oid: {rule.oid} is already "
                f"used by {seen[rule.oid]}",
                field="oid",
            )
        seen[rule.oid] = rule.name
        rules.append(rule)
    return rules
