"""Targets: the devices an operator manages, and the rules that make their fields valid."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from opsconductor_desktop.domain.errors import ValidationError


class TargetKind(StrEnum):
    """What sort of device a target is; drives icons, defaults and rules."""

    ROUTER = "router"
    SWITCH = "switch"
    FIREWALL = "firewall"
    SERVER = "server"
    ACCESS_POINT = "access-point"
    LOAD_BALANCER = "load-balancer"
    STORAGE = "storage"
    UPS = "ups"
    PDU = "pdu"
    CAMERA = "camera"
    OTHER = "other"


class SnmpVersion(StrEnum):
    """SNMP protocol versions a target may speak."""

    V1 = "v1"
    V2C = "v2c"
    V3 = "v3"


NAME_MAX = 255
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/=+-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_name(name: str, *, what: str = "name") -> str:
    """Return a stripped, valid object name or raise ``ValidationError``."""
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned:
        raise ValidationError(f"{what} is empty", field=what)
    if len(cleaned) > NAME_MAX:
        raise ValidationError(f"{what} is longer than {NAME_MAX} characters", field=what)
    if _CONTROL.search(cleaned):
        raise ValidationError(f"{what} contains control characters", field=what)
    return cleaned


def validate_address(address: str) -> str:
    """Return a normalized IPv4/IPv6 address or DNS name, or raise ``ValidationError``.

    IP addresses are normalized (``2001:DB8::1`` becomes ``2001:db8::1``); DNS names are
    lower-cased and checked label by label (RFC 1123). A dotted string whose last label is
    numeric must be a valid IPv4 address: ``10.0.0.300`` is refused, not taken for a name.
    """
    text = address.strip() if isinstance(address, str) else ""
    if not text:
        raise ValidationError("address is empty", field="address")
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    ip = _as_ip(candidate)
    if ip is not None:
        return ip
    name = text.rstrip(".").lower()
    labels = name.split(".")
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValidationError(
            f"invalid address {text!r}: not an IPv4/IPv6 address or a DNS name", field="address"
        )
    if labels[-1].isdigit():
        raise ValidationError(
            f"invalid address {text!r}: not a valid IPv4 address", field="address"
        )
    return name


_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED_QUAD = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")


def _as_ip(text: str) -> str | None:
    """The normalized IP literal, or None when ``text`` is not one."""
    if _DOTTED_QUAD.match(text):  # the common case, without ipaddress's cost
        return text
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def validate_tag(tag: str) -> str:
    """Return a valid tag or raise ``ValidationError`` naming it."""
    cleaned = tag.strip() if isinstance(tag, str) else ""
    if not _TAG.match(cleaned):
        raise ValidationError(
            f"malformed tag {tag!r}: use letters, digits and _ . : / = + - (max 64, no spaces)",
            field="tags",
        )
    return cleaned


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Validate tags, drop duplicates, keep them sorted for stable comparison."""
    return tuple(sorted({validate_tag(t) for t in tags if t.strip()}))


def limit_length(value: str, limit: int, *, what: str) -> str:
    """Return ``value`` stripped, or raise when it is longer than its column allows."""
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationError(f"{what} is longer than {limit} characters", field=what)
    return text


def validate_port(port: int, *, what: str) -> int:
    """Return ``port`` if it is a TCP/UDP port number, else raise ``ValidationError``."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError(f"{what} must be a port number 1-65535, got {port!r}", field=what)
    return port


def parse_kind(value: str) -> TargetKind:
    """Map free text (``Router``, ``access_point``) to a ``TargetKind``."""
    key = (value or "other").strip().lower().replace("_", "-").replace(" ", "-")
    try:
        return TargetKind(key)
    except ValueError:
        choices = ", ".join(k.value for k in TargetKind)
        raise ValidationError(f"unknown kind {value!r}; one of {choices}", field="kind") from None


def parse_snmp_version(value: str | None) -> SnmpVersion | None:
    """Map ``2c``/``v2c``/``V3`` to an ``SnmpVersion``; empty means no SNMP profile."""
    if value is None or not str(value).strip():
        return None
    key = str(value).strip().lower()
    key = key if key.startswith("v") else f"v{key}"
    try:
        return SnmpVersion(key)
    except ValueError:
        raise ValidationError(
            f"unknown SNMP version {value!r}; one of v1, v2c, v3", field="snmp_version"
        ) from None


@dataclass(frozen=True, slots=True)
class SnmpProfile:
    """How to reach a target over SNMP; ``version=None`` means the target has no SNMP."""

    version: SnmpVersion | None = None
    port: int = 161
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class SshProfile:
    """How to reach a target over SSH."""

    port: int = 22
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """The operator-editable fields of a target (what a dialog, CLI or import supplies).

    References to other objects (parent, credentials, groups) are by name, as operators
    think of them; the services resolve them to identifiers.
    """

    name: str
    address: str
    kind: TargetKind = TargetKind.OTHER
    vendor: str = ""
    model: str = ""
    site: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    enabled: bool = True
    parent: str | None = None
    snmp: SnmpProfile = field(default_factory=SnmpProfile)
    ssh: SshProfile = field(default_factory=SshProfile)
    vars: Mapping[str, Any] = field(default_factory=dict)

    def validated(self) -> TargetSpec:
        """Return a normalized copy, or raise ``ValidationError`` for the first bad field."""
        name = validate_name(self.name)
        if self.parent is not None and self.parent.strip() == name:
            raise ValidationError("a target cannot be its own parent", field="parent")
        return TargetSpec(
            name=name,
            address=validate_address(self.address),
            kind=parse_kind(self.kind),
            vendor=limit_length(self.vendor, 128, what="vendor"),
            model=limit_length(self.model, 128, what="model"),
            site=limit_length(self.site, 128, what="site"),
            description=limit_length(self.description, 10_000, what="description"),
            tags=normalize_tags(self.tags),
            enabled=bool(self.enabled),
            parent=(self.parent.strip() or None) if self.parent else None,
            snmp=SnmpProfile(
                version=self.snmp.version,
                port=validate_port(self.snmp.port, what="snmp_port"),
                credential=limit_length(
                    self.snmp.credential or "", NAME_MAX, what="snmp_credential"
                )
                or None,
            ),
            ssh=SshProfile(
                port=validate_port(self.ssh.port, what="ssh_port"),
                username=limit_length(self.ssh.username or "", NAME_MAX, what="ssh_username")
                or None,
                credential=limit_length(self.ssh.credential or "", NAME_MAX, what="ssh_credential")
                or None,
            ),
            vars=dict(self.vars),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """A stored target as the services return it: immutable, never an ORM row."""

    id: UUID
    spec: TargetSpec
    version: int
    created_at: datetime
    updated_at: datetime
    groups: tuple[str, ...] = ()

    # Convenience accessors so rules and filters can treat Target and TargetSpec alike.
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def address(self) -> str:
        return self.spec.address

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def vendor(self) -> str:
        return self.spec.vendor

    @property
    def site(self) -> str:
        return self.spec.site

    @property
    def tags(self) -> tuple[str, ...]:
        return self.spec.tags


def spec_differences(old: TargetSpec, new: TargetSpec) -> list[str]:
    """Names of the fields that differ between two specs (for conflicts and audit)."""
    fields = [
        "name",
        "address",
        "kind",
        "vendor",
        "model",
        "site",
        "description",
        "tags",
        "enabled",
        "parent",
        "snmp",
        "ssh",
        "vars",
    ]
    return [f for f in fields if getattr(old, f) != getattr(new, f)]
