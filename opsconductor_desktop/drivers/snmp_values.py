"""Checks and conversions for SNMP input, done before any network I/O (no pysnmp here).

OIDs are numeric and dotted (``1.3.6.1.2.1.1.1.0``, a leading dot allowed): the
application keeps pysmi out of its environment, so MIB names are not resolved here.
Values to SET are given as (type, value) with net-snmp's type letters or SMI names.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import SnmpValue

Oid = tuple[int, ...]

MAX_OID_ARCS = 128
_ARC_MAX = 2**32 - 1
_OID_TEXT = re.compile(r"^\.?\d+(\.\d+)+$")

# RFC 3416 error-status names, by value.
ERROR_STATUS = (
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
)

# net-snmp's snmpset letters and SMI names → canonical SMI type (plus an input format).
_TYPE_ALIASES = {
    "i": "Integer32",
    "integer": "Integer32",
    "integer32": "Integer32",
    "int": "Integer32",
    "u": "Unsigned32",
    "unsigned": "Unsigned32",
    "unsigned32": "Unsigned32",
    "g": "Gauge32",
    "gauge": "Gauge32",
    "gauge32": "Gauge32",
    "c": "Counter32",
    "counter": "Counter32",
    "counter32": "Counter32",
    "counter64": "Counter64",
    "t": "TimeTicks",
    "timeticks": "TimeTicks",
    "a": "IpAddress",
    "ipaddress": "IpAddress",
    "o": "ObjectIdentifier",
    "oid": "ObjectIdentifier",
    "objectidentifier": "ObjectIdentifier",
    "s": "OctetString",
    "string": "OctetString",
    "octetstring": "OctetString",
    "x": "hex",
    "hex": "hex",
    "hexstring": "hex",
    "d": "decimal",
    "decimal": "decimal",
    "opaque": "Opaque",
}
_INT_RANGES = {
    "Integer32": (-(2**31), 2**31 - 1),
    "Unsigned32": (0, 2**32 - 1),
    "Gauge32": (0, 2**32 - 1),
    "Counter32": (0, 2**32 - 1),
    "TimeTicks": (0, 2**32 - 1),
    "Counter64": (0, 2**64 - 1),
}
_MAX_OCTETS = 65_535


def parse_oid(text: str) -> Oid:
    """Parse a numeric OID or raise ``ValidationError`` saying what is wrong."""
    if not isinstance(text, str):
        raise _not_numeric(text)
    return _parse_oid(text)


def _not_numeric(text: object) -> ValidationError:
    return ValidationError(
        f"invalid OID {text!r}: use numeric dotted form such as 1.3.6.1.2.1.1.1.0 "
        "(MIB names are not resolved)",
        field="oid",
    )


@lru_cache(maxsize=16_384)  # a poll asks the same OIDs of every target (errors not cached)
def _parse_oid(text: str) -> Oid:
    if not _OID_TEXT.match(text.strip()):
        raise _not_numeric(text)
    arcs = tuple(int(part) for part in text.strip().lstrip(".").split("."))
    if len(arcs) > MAX_OID_ARCS:
        raise ValidationError(f"invalid OID {text!r}: more than {MAX_OID_ARCS} arcs", field="oid")
    if arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValidationError(
            f"invalid OID {text!r}: starts with {arcs[0]}.{arcs[1]} (first arc 0-2, second "
            "below 40 unless the first is 2)",
            field="oid",
        )
    if any(arc > _ARC_MAX for arc in arcs):
        raise ValidationError(f"invalid OID {text!r}: an arc exceeds 2^32-1", field="oid")
    return arcs


def parse_oids(texts: Iterable[str]) -> list[Oid]:
    if isinstance(texts, str):
        raise ValidationError("pass a list of OIDs, not one string", field="oid")
    return [parse_oid(text) for text in texts]


def format_oid(oid: Oid) -> str:
    return ".".join(str(arc) for arc in oid)


def parse_set_value(type_name: str, value: object, *, oid: str = "") -> tuple[str, SnmpValue]:
    """Check one SET value; return (canonical SMI type, Python value) or raise."""
    where = f" for {oid}" if oid else ""
    key = type_name if len(type_name) == 1 else type_name.strip().lower()
    kind = _TYPE_ALIASES.get(key) or _TYPE_ALIASES.get(key.lower())
    if kind is None:
        raise ValidationError(
            f"unknown SNMP type {type_name!r}{where}: use one of i u g c t a o s x d or "
            "Integer32, Unsigned32, Gauge32, Counter32, Counter64, TimeTicks, IpAddress, "
            "ObjectIdentifier, OctetString, Opaque",
            field="type",
        )
    if isinstance(value, bool):
        raise ValidationError(f"SNMP value{where} must not be a boolean", field="value")
    if kind in _INT_RANGES:
        return kind, _checked_int(kind, value, where)
    if kind == "IpAddress":
        try:
            return kind, str(ipaddress.IPv4Address(str(value).strip()))
        except ValueError:
            raise ValidationError(f"invalid IpAddress {value!r}{where}", field="value") from None
    if kind == "ObjectIdentifier":
        return kind, format_oid(parse_oid(str(value)))
    return ("Opaque" if kind == "Opaque" else "OctetString"), _octets(kind, value, where)


def _checked_int(kind: str, value: object, where: str) -> int:
    try:
        number = int(value) if isinstance(value, int | str) else None
    except ValueError:
        number = None
    if number is None:
        raise ValidationError(f"{kind} value {value!r}{where} is not an integer", field="value")
    low, high = _INT_RANGES[kind]
    if not low <= number <= high:
        raise ValidationError(
            f"{kind} value {number}{where} is out of range {low}..{high}", field="value"
        )
    return number


def _octets(kind: str, value: object, where: str) -> bytes:
    if kind == "hex":
        text = re.sub(r"[\s:.-]", "", str(value))
        if text.lower().startswith("0x"):
            text = text[2:]
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise ValidationError(f"invalid hex string {value!r}{where}", field="value") from None
    elif kind == "decimal":
        parts = [p for p in re.split(r"[\s.]+", str(value).strip()) if p]
        if not all(p.isdigit() and int(p) < 256 for p in parts):
            raise ValidationError(
                f"invalid decimal octets {value!r}{where} (bytes 0-255 separated by dots "
                "or spaces)",
                field="value",
            )
        data = bytes(int(p) for p in parts)
    elif isinstance(value, bytes | bytearray):
        data = bytes(value)
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        raise ValidationError(
            f"OctetString value{where} must be text or bytes, not {type(value).__name__}",
            field="value",
        )
    if len(data) > _MAX_OCTETS:
        raise ValidationError(
            f"OctetString value{where} is longer than 65535 octets", field="value"
        )
    return data
