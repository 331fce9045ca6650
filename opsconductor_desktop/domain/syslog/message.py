"""One syslog message: RFC 5424 and the RFC 3164 dialects devices really send.

``parse`` reads one message. ``<PRI>`` is required; the rest is optional in the 3164
dialects real devices speak: Cisco IOS sequence numbers, origin-id hostnames, ``*``
unsynchronized clocks, years and zones, uptime stamps and ``%FAC-SEV-MNEMONIC`` (kept as
the msgid); Juniper and Linux ``host tag[pid]:`` headers; rsyslog's RFC 3339 stamps.

A 3164 timestamp has no year and no zone: it is read in the receiver's zone (or the one
given) in the latest year that does not put it more than a day after ``now`` — a
``Dec 31 23:59:59`` line arriving just after midnight on New Year's Day belongs to the old
year, and a ``Jan  1`` line from a clock slightly fast on New Year's Eve to the new one.
A stamp that names no real moment (``Feb 30``) gives ``timestamp=None`` (the receiver
uses the arrival time).

Anything that cannot be read at all — no ``<PRI>``, a priority above 191, binary data, a
malformed RFC 5424 header or structured data — raises ``SyslogParseError``, which the
receiver counts as a rejection.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import IntEnum

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    *(f"local{i}" for i in range(8)),
)  # fmt: skip


class SyslogSeverity(IntEnum):
    """The syslog severity (RFC 5424 section 6.2.1), 0 the worst."""

    EMERG = 0
    ALERT = 1
    CRIT = 2
    ERR = 3
    WARNING = 4
    NOTICE = 5
    INFO = 6
    DEBUG = 7

    @classmethod
    def parse(cls, value: str | int) -> SyslogSeverity:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 7:
            return cls(value)
        name = _SEVERITY_ALIASES.get(str(value).strip().lower(), str(value).strip().upper())
        try:
            return cls[name]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValidationError(f"unknown syslog severity {value!r}; one of {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


_SEVERITY_ALIASES = {
    "emergency": "EMERG", "panic": "EMERG", "critical": "CRIT", "error": "ERR",
    "warn": "WARNING", "informational": "INFO",
}  # fmt: skip

#: the alert severity of a message no rule gives one to
DEFAULT_SEVERITY: Mapping[SyslogSeverity, Severity] = {
    SyslogSeverity.EMERG: Severity.CRITICAL,
    SyslogSeverity.ALERT: Severity.CRITICAL,
    SyslogSeverity.CRIT: Severity.CRITICAL,
    SyslogSeverity.ERR: Severity.MAJOR,
    SyslogSeverity.WARNING: Severity.WARNING,
    SyslogSeverity.NOTICE: Severity.INFO,
    SyslogSeverity.INFO: Severity.INFO,
    SyslogSeverity.DEBUG: Severity.INFO,
}


def facility_number(name: str | int) -> int:
    if isinstance(name, int) and not isinstance(name, bool) and 0 <= name < len(FACILITIES):
        return name
    try:
        return FACILITIES.index(str(name).strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown facility {name!r}; one of {', '.join(FACILITIES)}"
        ) from None


class SyslogParseError(ValidationError):
    """A message that cannot be read at all: the receiver counts it as rejected."""


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """One syslog message, whichever RFC it came in."""

    facility: int
    severity: SyslogSeverity
    message: str
    timestamp: datetime | None = None  # aware UTC; None: none sent (or an impossible one)
    hostname: str | None = None
    app: str | None = None  # APP-NAME (5424) or TAG (3164)
    pid: str | None = None
    msgid: str | None = None  # MSGID (5424), or a Cisco mnemonic such as LINK-3-UPDOWN
    structured_data: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rfc: int = 3164

    @property
    def facility_name(self) -> str:
        return FACILITIES[self.facility]


# ---- parsing ---------------------------------------------------------------------------------

_PRI = re.compile(r"\s*<(\d{1,3})>")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_5424 = re.compile(r"1 (\S+) (\S+) (\S+) (\S+) (\S+)(?: |$)", re.DOTALL)
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|z|[+-]\d\d:?\d\d)?"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SEQUENCE = re.compile(r"\d{1,10}: ")  # Cisco "service sequence-numbers"
_ORIGIN = re.compile(r"([^\s:\[\]<>]{1,255}): (?=[*.]?[A-Za-z]{3} )")  # Cisco origin-id
_BSD_TIME = re.compile(
    r"[*.]?(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})(?:\s+(?P<y1>\d{4}))?"
    r"\s+(?P<h>\d{1,2}):(?P<m>\d\d):(?P<s>\d\d)(?:\.(?P<frac>\d{1,6})\d*)?"
    r"(?:\s+(?P<y2>\d{4}))?(?:\s+(?P<zone>[A-Z]{2,5})(?=:))?(?P<colon>:)?(?:\s+|$)"
)
_UPTIME = re.compile(r"[*.]?(?:\d{1,2}:\d\d:\d\d(?:\.\d+)?|(?:\d{1,4}[ywdh]){1,3}):(?:\s+|$)")
_TAG = re.compile(r"([^\s\[\]:%]{1,64})(?:\[([^\]\s]{0,32})\])?: ?")
_HOST = re.compile(r"([^\s:\[\]]{1,255})(?: |$)")
_CISCO = re.compile(r"%((?:[A-Z0-9_]+-)+\d-[A-Z0-9_]+)\s?:")
_SD_ELEMENT = re.compile(r'\[([^\s=\]"]{1,32})((?:\s+[^\s=\]"]{1,32}="(?:[^"\\]|\\.)*")*)\s*\]')
_SD_PARAM = re.compile(r'([^\s=\]"]{1,32})="((?:[^"\\]|\\.)*)"')
_SD_ESCAPE = re.compile(r'\\(["\\\]])')
_UTC_ZONES = frozenset({"UTC", "GMT", "Z", "UT"})
_AHEAD = timedelta(days=1)
_LATE_IN_YEAR = timedelta(days=300)


def decode(data: bytes) -> str:
    """Bytes off the wire as text: UTF-8, undecodable bytes replaced (and judged by parse)."""
    return data.decode("utf-8", "replace")


def parse(data: str | bytes, *, now: datetime, tz: tzinfo | None = None) -> SyslogMessage:
    """One syslog message, RFC 5424 or 3164 (see the module docstring).

    ``now`` (aware) places a 3164 timestamp in a year; ``tz`` is the zone of timestamps
    sent without one (default: this machine's zone). Raises ``SyslogParseError``.
    """
    text = decode(data) if isinstance(data, bytes) else data
    text = text.rstrip("\r\n\x00")
    pri = _PRI.match(text)
    if pri is None:
        raise SyslogParseError(f"no <PRI> at the start: {_clip(text)!r}")
    value = int(pri.group(1))
    if value > 191:
        raise SyslogParseError(f"<{value}> is not a syslog priority (0 to 191)")
    bad = len(_JUNK.findall(text))
    if "\x00" in text or bad * 10 > len(text):
        raise SyslogParseError(f"binary data, not syslog text: {_clip(text)!r}")
    facility, severity = value >> 3, SyslogSeverity(value & 7)
    rest = text[pri.end() :]
    header = _5424.match(rest)
    if header is not None and (rest[2:3].isdigit() or rest[2:3] == "-"):
        return _parse_5424(facility, severity, header, rest, tz)
    return _parse_3164(facility, severity, rest, now, tz)


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _nil(token: str) -> str | None:
    return None if token == "-" else token


def _parse_5424(
    facility: int, severity: SyslogSeverity, header: re.Match[str], rest: str, tz: tzinfo | None
) -> SyslogMessage:
    stamp, host, app, pid, msgid = header.groups()
    timestamp = None
    if stamp != "-":
        found = _RFC3339.fullmatch(stamp)
        timestamp = _rfc3339(found, tz) if found else None
        if timestamp is None:
            raise SyslogParseError(f"RFC 5424: timestamp {_clip(stamp)!r} is not RFC 3339")
    data, message = _structured_data(rest[header.end() :])
    return SyslogMessage(
        facility=facility,
        severity=severity,
        message=message.removeprefix("\ufeff"),
        timestamp=timestamp,
        hostname=_nil(host),
        app=_nil(app),
        pid=_nil(pid),
        msgid=_nil(msgid),
        structured_data=data,
        rfc=5424,
    )


def _structured_data(rest: str) -> tuple[dict[str, dict[str, str]], str]:
    """(SD elements, MSG) of what follows the 5424 header."""
    if not rest.startswith("["):
        if rest == "-" or rest.startswith("- "):
            return {}, rest[2:]
        return {}, rest  # no STRUCTURED-DATA at all: lenient, the rest is the message
    data: dict[str, dict[str, str]] = {}
    at = 0
    while at < len(rest) and rest[at] == "[":
        element = _SD_ELEMENT.match(rest, at)
        if element is None:
            raise SyslogParseError(f"RFC 5424: malformed structured data at {_clip(rest[at:])!r}")
        params = data.setdefault(element.group(1), {})
        for name, value in _SD_PARAM.findall(element.group(2)):
            params[name] = _SD_ESCAPE.sub(r"\1", value)
        at = element.end()
    if at < len(rest) and rest[at] != " ":
        raise SyslogParseError(f"RFC 5424: expected a space after structured data at {at}")
    return data, rest[at + 1 :]


def _parse_3164(
    facility: int, severity: SyslogSeverity, rest: str, now: datetime, tz: tzinfo | None
) -> SyslogMessage:
    hostname: str | None = None
    if seq := _SEQUENCE.match(rest):
        rest = rest[seq.end() :]
    if origin := _ORIGIN.match(rest):
        hostname, rest = origin.group(1), rest[origin.end() :]
    stamped, timestamp, rest = _bsd_timestamp(rest, now, tz)
    if stamped and hostname is None and (token := _HOST.match(rest)) is not None:
        hostname, rest = token.group(1), rest[token.end() :]
    app = pid = None
    if (tag := _TAG.match(rest)) is not None:
        app, pid, rest = tag.group(1), tag.group(2) or None, rest[tag.end() :]
    mnemonic = _CISCO.search(rest, 0, 200)
    return SyslogMessage(
        facility=facility,
        severity=severity,
        message=rest,
        timestamp=timestamp,
        hostname=hostname,
        app=app,
        pid=pid,
        msgid=mnemonic.group(1) if mnemonic else None,
    )


def _bsd_timestamp(
    rest: str, now: datetime, tz: tzinfo | None
) -> tuple[bool, datetime | None, str]:
    """(a hostname may follow, the timestamp, what follows the stamp).

    No hostname follows when there was no stamp, or in Cisco style (``stamp:``)."""
    if (iso := _RFC3339.match(rest)) is not None and rest[iso.end() : iso.end() + 1] in " ":
        return True, _rfc3339(iso, tz), rest[iso.end() + 1 :]
    found = _BSD_TIME.match(rest)
    if found is None or found.group("mon").lower() not in _MONTHS:
        if (uptime := _UPTIME.match(rest)) is not None:
            return False, None, rest[uptime.end() :]
        return False, None, rest
    g = found.groupdict()
    month = _MONTHS.index(g["mon"].lower()) + 1
    clock = (int(g["day"]), int(g["h"]), int(g["m"]), int(g["s"]))
    micro = int((g["frac"] or "0").ljust(6, "0"))
    zone = UTC if (g["zone"] or "").upper() in _UTC_ZONES else tz
    year = g["y1"] or g["y2"]
    if year is not None:
        stamp = _moment(int(year), month, *clock, micro, zone)
    else:
        stamp = _recent(month, *clock, micro, zone, now)
    return not g["colon"], stamp, rest[found.end() :]


def _recent(
    month: int, day: int, h: int, m: int, s: int, micro: int, zone: tzinfo | None, now: datetime
) -> datetime | None:
    """The latest moment — next year, this year or last year in ``zone`` — that is not
    more than ``_AHEAD`` after ``now`` (a device's clock may run a little fast)."""
    year = now.astimezone(zone).year
    found = _moment(year, month, day, h, m, s, micro, zone)
    if found is not None and found <= now + _AHEAD:
        if now - found < _LATE_IN_YEAR:
            return found
        ahead = _moment(year + 1, month, day, h, m, s, micro, zone)  # "Jan  1" on Dec 31
        return ahead if ahead is not None and ahead <= now + _AHEAD else found
    return _moment(year - 1, month, day, h, m, s, micro, zone)  # "Dec 31" on Jan 1


def _moment(
    year: int, month: int, day: int, h: int, m: int, s: int, micro: int, zone: tzinfo | None
) -> datetime | None:
    """Aware UTC from wall-clock fields in ``zone`` (None: this machine's zone, DST and
    all); None when the fields name no real moment (Feb 30, 25:00)."""
    try:
        if zone is not None:
            return datetime(year, month, day, h, m, s, micro, tzinfo=zone).astimezone(UTC)
        datetime(year, month, day, h, m, s, tzinfo=UTC)  # validates: mktime would roll over
        epoch = time.mktime((year, month, day, h, m, s, 0, 0, -1))
        return datetime.fromtimestamp(epoch, UTC).replace(microsecond=micro)
    except (ValueError, OverflowError, OSError):
        return None


def _rfc3339(found: re.Match[str], tz: tzinfo | None) -> datetime | None:
    year, month, day, h, m, s = (int(v) for v in found.groups()[:6])
    micro = int((found.group(7) or "0")[:6].ljust(6, "0"))
    offset = found.group(8)
    if offset is None:
        return _moment(year, month, day, h, m, s, micro, tz)
    if offset in "Zz":
        return _moment(year, month, day, h, m, s, micro, UTC)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if delta >= timedelta(hours=24):
        return None
    stamp = _moment(year, month, day, h, m, s, micro, UTC)
    try:
        return None if stamp is None else stamp - sign * delta
    except OverflowError:  # year 1 or 9999 pushed out of range by the offset
        return None
