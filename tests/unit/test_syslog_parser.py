"""The syslog parser, TCP framer and rule language on real-world lines, and fuzzed.

Lines are what Cisco IOS, Junos and Linux (rsyslog, util-linux ``logger``) really send,
plus the RFC 5424 examples. Every input is either read or rejected with
``SyslogParseError`` (hypothesis checks that nothing else ever escapes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.syslog import (
    DEFAULT_SEVERITY,
    Frame,
    FramingError,
    StreamFramer,
    SyslogParseError,
    SyslogSeverity,
    evaluate,
    parse,
    parse_rule,
)
from opsconductor_desktop.runtime.receivers.syslog import (
    SyslogSettings,
    bind_error,
    bundled_rules,
    load_rules,
)

NOW = datetime(2025, 3, 18, 12, 0, tzinfo=UTC)


def at(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


# ---- RFC 3164 as devices send it ---------------------------------------------------------------


def test_cisco_ios_with_sequence_unsynced_clock_milliseconds_and_zone() -> None:
    line = (
        "<187>2654: *Mar  1 00:01:02.345 UTC: %LINK-3-UPDOWN: "
        "Interface GigabitEthernet0/1, changed state to down"
    )
    msg = parse(line, now=NOW)
    assert (msg.facility_name, msg.severity) == ("local7", SyslogSeverity.ERR)
    assert msg.timestamp == at(2025, 3, 1, 0, 1, 2, 345000)
    assert msg.hostname is None and msg.app is None
    assert msg.msgid == "LINK-3-UPDOWN"
    assert msg.message.startswith("%LINK-3-UPDOWN: Interface GigabitEthernet0/1")


def test_cisco_origin_id_hostname_and_local_time() -> None:
    line = (
        "<189>45: core-r1: Mar 18 10:12:33.123: %LINEPROTO-5-UPDOWN: "
        "Line protocol on Interface Gi0/2, changed state to up"
    )
    msg = parse(line, now=NOW, tz=ZoneInfo("Europe/Paris"))
    assert msg.hostname == "core-r1"
    assert msg.timestamp == at(2025, 3, 18, 9, 12, 33, 123000)  # CET is UTC+1 in March
    assert msg.msgid == "LINEPROTO-5-UPDOWN"


def test_cisco_uptime_stamp_and_explicit_year() -> None:
    uptime = parse("<189>23: 1w2d: %SYS-5-CONFIG_I: Configured from console by admin", now=NOW)
    assert uptime.timestamp is None
    assert uptime.message == "%SYS-5-CONFIG_I: Configured from console by admin"
    with_year = parse("<189>24: Dec 30 2023 23:00:00 UTC: %SYS-5-CONFIG_I: x", now=NOW)
    assert with_year.timestamp == at(2023, 12, 30, 23, 0, 0)


def test_cisco_asa_without_header() -> None:
    msg = parse("<166>%ASA-6-302013: Built outbound TCP connection 1 for outside", now=NOW)
    assert msg.msgid == "ASA-6-302013" and msg.app is None and msg.timestamp is None


def test_juniper_bsd_format() -> None:
    line = (
        "<28>Mar 18 11:25:18 jnpr-mx1 mib2d[1474]: SNMP_TRAP_LINK_DOWN: ifIndex 526, "
        "ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1"
    )
    msg = parse(line, now=NOW, tz=UTC)
    assert (msg.facility_name, msg.severity.label) == ("daemon", "warning")
    assert (msg.hostname, msg.app, msg.pid) == ("jnpr-mx1", "mib2d", "1474")
    assert msg.timestamp == at(2025, 3, 18, 11, 25, 18)
    assert msg.message.startswith("SNMP_TRAP_LINK_DOWN: ifIndex 526")


def test_linux_rsyslog_forwarded_and_local_socket_lines() -> None:
    sshd = parse(
        "<38>Mar 18 11:25:18 web1 sshd[2211]: Failed password for root from 203.0.113.9 "
        "port 51234 ssh2",
        now=NOW,
        tz=UTC,
    )
    assert (sshd.facility_name, sshd.hostname, sshd.app, sshd.pid) == (
        "auth",
        "web1",
        "sshd",
        "2211",
    )
    local = parse("<13>Mar 18 11:25:18 myapp[12]: hi", now=NOW, tz=UTC)  # /dev/log: no host
    assert (local.hostname, local.app, local.message) == (None, "myapp", "hi")
    rfc_example = parse(
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        now=NOW,
        tz=UTC,
    )
    assert (rfc_example.hostname, rfc_example.app) == ("mymachine", "su")
    assert rfc_example.timestamp == at(2024, 10, 11, 22, 14, 15)  # nearer than Oct 2025
    forward = parse("<13>2025-03-18T11:25:18.123456+01:00 host tag[9]: msg", now=NOW)
    assert forward.timestamp == at(2025, 3, 18, 10, 25, 18, 123456)
    assert (forward.hostname, forward.app, forward.pid, forward.message) == (
        "host",
        "tag",
        "9",
        "msg",
    )


def test_message_without_timestamp_has_no_hostname() -> None:
    msg = parse("<13>hello world", now=NOW)
    assert (msg.hostname, msg.app, msg.message) == (None, None, "hello world")


# ---- timestamps: year, zone, new year ----------------------------------------------------------


@pytest.fixture
def new_york() -> Iterator[None]:
    """This machine's zone, for the parser's ``tz=None`` (mktime reads ``TZ``)."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


@pytest.mark.usefixtures("new_york")
def test_bsd_timestamp_is_read_in_the_local_zone_with_its_dst() -> None:
    winter = parse("<13>Jan 10 12:00:00 h t: x", now=at(2025, 1, 10, 18))
    summer = parse("<13>Jul 10 12:00:00 h t: x", now=at(2025, 7, 10, 18))
    assert winter.timestamp == at(2025, 1, 10, 17)  # EST, UTC-5
    assert summer.timestamp == at(2025, 7, 10, 16)  # EDT, UTC-4


def test_new_year_edge_both_ways() -> None:
    late = parse("<13>Dec 31 23:59:59 h t: x", now=at(2026, 1, 1, 0, 0, 5), tz=UTC)
    assert late.timestamp == at(2025, 12, 31, 23, 59, 59)
    early = parse("<13>Jan  1 00:00:01 h t: x", now=at(2025, 12, 31, 23, 59, 58), tz=UTC)
    assert early.timestamp == at(2026, 1, 1, 0, 0, 1)
    # months ago this year, not months ahead next year; a day ahead is a fast clock
    spring = parse("<13>Mar 18 11:00:00 h t: x", now=at(2026, 11, 22), tz=UTC)
    assert spring.timestamp == at(2026, 3, 18, 11)
    fast = parse("<13>Nov 22 20:00:00 h t: x", now=at(2026, 11, 22, 12), tz=UTC)
    assert fast.timestamp == at(2026, 11, 22, 20)
    a_week_ahead = parse("<13>Nov 29 12:00:00 h t: x", now=at(2026, 11, 22, 12), tz=UTC)
    assert a_week_ahead.timestamp == at(2025, 11, 29, 12)
    # the year is the receiver's local year: 23:30 UTC on Dec 31 is already Jan 1 in Paris
    paris = parse(
        "<13>Jan  1 00:40:00 h t: x", now=at(2025, 12, 31, 23, 45), tz=ZoneInfo("Europe/Paris")
    )
    assert paris.timestamp == at(2025, 12, 31, 23, 40)


def test_impossible_dates_give_no_timestamp_but_keep_the_message() -> None:
    leap = parse("<13>Feb 29 10:00:00 h t: x", now=at(2028, 3, 1), tz=UTC)
    assert leap.timestamp == at(2028, 2, 29, 10)
    assert parse("<13>Feb 29 10:00:00 h t: x", now=at(2026, 3, 1), tz=UTC).timestamp is None
    bad = parse("<13>Feb 30 25:00:00 h t: still here", now=NOW)
    assert bad.timestamp is None and bad.message == "still here"


# ---- RFC 5424 ----------------------------------------------------------------------------------


def test_rfc5424_examples_with_structured_data_and_bom() -> None:
    line = (
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
        'iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] '
        "\ufeffAn application event log entry..."
    )
    msg = parse(line.encode(), now=NOW)
    assert msg.rfc == 5424
    assert (msg.facility_name, msg.severity.label) == ("local4", "notice")
    assert msg.timestamp == at(2003, 10, 11, 22, 14, 15, 3000)
    assert (msg.hostname, msg.app, msg.pid, msg.msgid) == (
        "mymachine.example.com",
        "evntslog",
        None,
        "ID47",
    )
    assert msg.structured_data == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "examplePriority@32473": {"class": "high"},
    }
    assert msg.message == "An application event log entry..."
    offset = parse(
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time",
        now=NOW,
    )
    assert offset.timestamp == at(2003, 8, 24, 12, 14, 15, 3)
    assert (offset.pid, offset.structured_data, offset.message) == ("8710", {}, "%% It's time")
    nothing = parse("<13>1 - - - - - -", now=NOW)
    assert (nothing.timestamp, nothing.hostname, nothing.message) == (None, None, "")


def test_rfc5424_structured_data_escapes_and_juniper() -> None:
    msg = parse(
        r'<14>1 2025-03-18T11:00:00Z h app - - [x@1 a="say \"hi\"" b="c:\\d" c="[1\]"] m',
        now=NOW,
    )
    assert msg.structured_data == {"x@1": {"a": 'say "hi"', "b": "c:\\d", "c": "[1]"}}
    junos = parse(
        "<28>1 2025-03-18T11:25:18.123+01:00 jnpr-mx1 mib2d 1474 SNMP_TRAP_LINK_DOWN "
        '[junos@2636.1.1.1.2.18 snmp-interface-index="526" admin-status="up(1)" '
        'operational-status="down(2)" interface-name="ge-0/0/1"] ifIndex 526, '
        "ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1",
        now=NOW,
    )
    assert junos.msgid == "SNMP_TRAP_LINK_DOWN"
    assert junos.structured_data["junos@2636.1.1.1.2.18"]["interface-name"] == "ge-0/0/1"
    assert junos.timestamp == at(2025, 3, 18, 10, 25, 18, 123000)


def test_util_linux_logger_lines() -> None:
    rfc5424 = parse(
        '<187>1 2026-11-22T23:06:19.015533+00:00 vm myapp - LINKDOWN [timeQuality tzKnown="1" '
        'isSynced="0"][zoo@123 tiger="hungry"] hello world\n',
        now=NOW,
    )
    assert rfc5424.structured_data["zoo@123"] == {"tiger": "hungry"}
    assert (rfc5424.msgid, rfc5424.message) == ("LINKDOWN", "hello world")
    rfc3164 = parse(b"<13>Nov 22 23:06:19 vm myapp[19198]: hello tcp\n", now=NOW, tz=UTC)
    assert (rfc3164.hostname, rfc3164.app, rfc3164.message) == ("vm", "myapp", "hello tcp")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "no <PRI>"),
        ("hello world", "no <PRI>"),
        ("<999>oops", "not a syslog priority"),
        ("<192>Mar 18 11:25:18 h t: x", "not a syslog priority"),
        ("<13>\x01\x02\x03\x04garbage\x05\x06", "binary"),
        ("<13>a\x00b", "binary"),
        ("<13>1 2025-99-99T00:00:00Z h a - - - m", "RFC 3339"),
        ("<13>1 2025-03-18 h a - - - m", "RFC 3339"),
        ('<13>1 - h a - - [x@1 a="unterminated] m', "structured data"),
        ('<13>1 - h a - - [x@1 a="b"]m', "space after structured data"),
    ],
)
def test_unreadable_input_is_a_clear_rejection(line: str, reason: str) -> None:
    with pytest.raises(SyslogParseError, match=reason):
        parse(line, now=NOW)


def test_binary_junk_bytes_are_rejected() -> None:
    junk = bytes(range(256)) * 4
    with pytest.raises(SyslogParseError):
        parse(junk, now=NOW)
    with pytest.raises(SyslogParseError, match="binary"):
        parse(b"<13>" + os.urandom(64).replace(b"\n", b"") + b"\xff\xfe" * 40, now=NOW)


# ---- fuzz: read or rejected, nothing else ------------------------------------------------------

fuzz = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_bits = st.sampled_from(
    [
        "<13>",
        "<191>1 ",
        "<0>",
        "1 ",
        "2025-03-18T11:25:18Z ",
        "Mar  1 ",
        "00:01:02.345 ",
        "UTC: ",
        "*",
        "%LINK-3-UPDOWN: ",
        "host ",
        "tag[12]: ",
        "- ",
        '[a@1 b="c"]',
        '[x y="\\"',
        "]",
        " ",
        "1w2d: ",
        "\ufeff",
    ]
)


@fuzz
@given(st.text(max_size=300))
def test_fuzz_any_text(text: str) -> None:
    _read_or_rejected(text)


@fuzz
@given(st.binary(max_size=300))
def test_fuzz_any_bytes(data: bytes) -> None:
    _read_or_rejected(data)


@fuzz
@given(st.lists(st.one_of(header_bits, st.text(max_size=12)), max_size=12))
def test_fuzz_plausible_headers(parts: list[str]) -> None:
    _read_or_rejected("".join(parts))


def _read_or_rejected(data: str | bytes) -> None:
    try:
        msg = parse(data, now=NOW)
    except SyslogParseError as exc:
        rejection = exc
    else:
        assert 0 <= msg.facility <= 23
        assert msg.timestamp is None or msg.timestamp.tzinfo is UTC
        return
    assert str(rejection)  # a rejection says why


# ---- TCP framing (RFC 6587) --------------------------------------------------------------------


def frames(framer: StreamFramer) -> list[Frame]:
    out = []
    while (frame := framer.next()) is not None:
        out.append(frame)
    return out


def octets(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


def test_octet_counting_and_newline_framing_mixed_and_split_anywhere() -> None:
    messages = [b"<13>first", b"<14>second has\na newline inside", b"<15>third", b"<16>4th"]
    stream = octets(messages[0]) + octets(messages[1]) + messages[2] + b"\n"
    stream += b"\r\n" + octets(messages[3])
    whole = StreamFramer()
    whole.feed(stream)
    assert [f.data for f in frames(whole)] == messages
    for size in (1, 2, 3, 7):  # any segmentation gives the same frames
        split = StreamFramer()
        got: list[bytes] = []
        for i in range(0, len(stream), size):
            split.feed(stream[i : i + size])
            got.extend(f.data for f in frames(split))
        assert got == messages


def test_long_lines_are_truncated_and_the_rest_skipped() -> None:
    framer = StreamFramer(max_line=16)
    framer.feed(b"<13>" + b"x" * 40 + b"\n<13>next\n")
    framer.feed(octets(b"<13>" + b"y" * 30) + octets(b"<13>after"))
    assert frames(framer) == [
        Frame(b"<13>" + b"x" * 12, truncated=True),
        Frame(b"<13>next"),
        Frame(b"<13>" + b"y" * 12, truncated=True),
        Frame(b"<13>after"),
    ]
    streaming = StreamFramer(max_line=16)  # a long line arriving in pieces
    streaming.feed(b"<13>" + b"z" * 20)
    assert frames(streaming) == [Frame(b"<13>" + b"z" * 12, truncated=True)]
    streaming.feed(b"z" * 100)
    assert frames(streaming) == []
    streaming.feed(b"zz\n<13>ok\n")
    assert frames(streaming) == [Frame(b"<13>ok")]


def test_absurd_octet_count_is_a_framing_error_and_digits_without_space_are_a_line() -> None:
    framer = StreamFramer(max_frame=1000)
    framer.feed(b"5000 <13>...")
    with pytest.raises(FramingError, match="5000"):
        framer.next()
    line = StreamFramer()
    line.feed(b"123abc\n99999999999 eleven digits\n")
    assert [f.data for f in frames(line)] == [b"123abc", b"99999999999 eleven digits"]
    waiting = StreamFramer()
    waiting.feed(b"11")  # a count that may continue in the next segment
    assert waiting.next() is None
    waiting.feed(b" <13>counted")
    assert waiting.next() == Frame(b"<13>counted")


def test_the_end_of_the_stream_gives_the_unterminated_last_line() -> None:
    framer = StreamFramer(max_line=64)
    framer.feed(b"<13>done\n<13>no newline at the end  \x00")
    assert frames(framer) == [Frame(b"<13>done")]
    assert framer.close() == Frame(b"<13>no newline at the end")
    assert framer.close() is None
    long = StreamFramer(max_line=16)  # a long last line was given (cut) by next already
    long.feed(b"<13>a long last line without its newline")
    assert frames(long) == [Frame(b"<13>a long last ", truncated=True)]
    assert long.close() is None
    cut = StreamFramer()
    cut.feed(b"30 <13>only part")
    assert frames(cut) == []
    with pytest.raises(FramingError, match="ended inside a frame of 30 octets"):
        cut.close()


@fuzz
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=20), st.data())
def test_fuzz_framer_gives_back_octet_counted_messages(
    messages: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(octets(m) for m in messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    framer = StreamFramer(max_line=64)
    got: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        framer.feed(stream[start:end])
        got.extend(frames(framer))
    assert [f.data for f in got] == [m[:64] for m in messages]
    assert [f.truncated for f in got] == [len(m) > 64 for m in messages]


@fuzz
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_fuzz_framer_never_crashes_and_bounds_frames(chunks: list[bytes]) -> None:
    framer = StreamFramer(max_line=100, max_frame=10_000)
    got: list[Frame] = []
    try:
        for chunk in chunks:
            framer.feed(chunk)
            got.extend(frames(framer))
    except FramingError as exc:
        problem = str(exc)
    else:
        problem = "octet count: none"
    assert all(len(frame.data) <= 100 for frame in got)
    assert "octet count" in problem


# ---- rules -------------------------------------------------------------------------------------

LINK = {
    "name": "link",
    "match": r"Interface (?P<ifname>\S+), changed state to down",
    "clear": r"Interface (?P<ifname>\S+), changed state to up",
    "severity": "major",
    "key": "ifDown:{ifname}",
    "summary": "Interface {ifname} down on {host}",
}


def msg_of(text: str, pri: int = 187, host: str = "r1", app: str = "x") -> object:
    return parse(f"<{pri}>Mar 18 11:25:18 {host} {app}: {text}", now=NOW, tz=UTC)


def test_rule_raises_and_clears_with_key_from_named_groups() -> None:
    rule = parse_rule(LINK)
    down = evaluate([rule], msg_of("Interface Gi0/1, changed state to down"), **to("r1"))
    up = evaluate([rule], msg_of("Interface Gi0/1, changed state to up"), **to("r1"))
    assert down is not None and up is not None
    assert (down.source, down.key, down.target, down.severity) == (
        "syslog",
        "ifDown:Gi0/1",
        "r1",
        Severity.MAJOR,
    )
    assert down.summary == "Interface Gi0/1 down on r1"
    assert down.details["fields"] == {"ifname": "Gi0/1"}
    assert down.details["connector"] == "edge" and down.details["address"] == "10.0.0.1"
    assert up.clear and up.severity is Severity.CLEAR and up.fingerprint == down.fingerprint
    assert evaluate([rule], msg_of("Interface Gi0/1 flapping"), **to("r1")) is None


def to(target: str | None) -> dict[str, object]:
    return {"address": "10.0.0.1", "target": target, "extra": {"connector": "edge"}}


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0, Severity.CRITICAL),
        (1, Severity.CRITICAL),
        (2, Severity.CRITICAL),
        (3, Severity.MAJOR),
        (4, Severity.WARNING),
        (5, Severity.INFO),
        (6, Severity.INFO),
        (7, Severity.INFO),
    ],
)
def test_default_severity_comes_from_the_syslog_severity(level: int, expected: Severity) -> None:
    rule = parse_rule({"name": "any", "match": "boom"})
    alert = evaluate([rule], msg_of("boom", pri=16 * 8 + level), **to("r1"))
    assert alert is not None and alert.severity is expected
    assert DEFAULT_SEVERITY[SyslogSeverity(level)] is expected


def test_filters_and_first_rule_wins() -> None:
    rules = [
        parse_rule({"name": "sshd-only", "match": "boom", "app": "sshd", "severity": "critical"}),
        parse_rule({"name": "core-only", "match": "boom", "host": "core-.*", "severity": "minor"}),
        parse_rule(
            {
                "name": "auth-errors",
                "match": "boom",
                "facility": ["auth", "authpriv"],
                "syslog_severity": ["err", "crit"],
                "severity": "warning",
            }
        ),
        parse_rule({"name": "fallback", "match": "boom", "key": "boom:{rule}"}),
    ]

    def rule_of(text_msg: object, target: str | None = None) -> str:
        alert = evaluate(rules, text_msg, **to(target))  # type: ignore[arg-type]
        assert alert is not None
        return str(alert.details["rule"])

    assert rule_of(msg_of("boom", app="sshd")) == "sshd-only"
    assert rule_of(msg_of("boom", app="sshd-session")) != "sshd-only"  # whole app name
    assert rule_of(msg_of("boom", host="core-7")) == "core-only"
    assert rule_of(msg_of("boom", host="edge"), target="core-target") == "core-only"
    assert rule_of(msg_of("boom", pri=4 * 8 + 3)) == "auth-errors"
    assert rule_of(msg_of("boom", pri=4 * 8 + 6)) == "fallback"
    assert rule_of(msg_of("boom", pri=1 * 8 + 3)) == "fallback"


def test_without_target_the_key_names_the_sender() -> None:
    rule = parse_rule(LINK)
    alert = evaluate([rule], msg_of("Interface Gi0/1, changed state to down"), **to(None))
    assert alert is not None and alert.target is None
    assert alert.key == "ifDown:Gi0/1@r1"
    assert alert.summary == "Interface Gi0/1 down on r1"
    nameless = parse("<187>%LINK-3-UPDOWN: Interface Gi0/1, changed state to down", now=NOW)
    alert = evaluate([rule], nameless, **to(None))
    assert alert is not None and alert.key == "ifDown:Gi0/1@10.0.0.1"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"colour": "red"}, "colour", "unknown field"),
        ({"name": ""}, "name", "needs a name"),
        ({"match": None}, "match", "needs a match"),
        ({"match": "(unclosed"}, "match", "bad regular expression"),
        ({"clear": "[x"}, "clear", "bad regular expression"),
        ({"severity": "purple"}, "severity", "unknown severity"),
        ({"severity": "clear"}, "severity", "clear regex"),
        ({"key": "ifDown:{ifindex}"}, "key", "{ifindex} is neither"),
        ({"summary": "{0}"}, "summary", "placeholders"),
        ({"summary": "{ifname.__class__}"}, "summary", "placeholders"),
        ({"summary": "{ifname!r}"}, "summary", "placeholders"),
        ({"summary": "oops {"}, "summary", "Single '{'"),
        ({"clear": "changed state to up"}, "clear", "does not capture"),
        ({"match": "(?P<host>x)"}, "match", "built-in"),
        ({"facility": "kitchen"}, "facility", "unknown facility"),
        ({"syslog_severity": ["err", "loud"]}, "syslog_severity", "unknown syslog severity"),
        ({"host": 5}, "host", "regular expression"),
    ],
)
def test_bad_rules_name_the_field(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        parse_rule({**LINK, **change})
    assert info.value.field == field


@fuzz
@given(
    st.dictionaries(
        st.sampled_from(["name", "match", "clear", "key", "summary", "severity", "app", "x"]),
        st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.text(max_size=5))),
    )
)
def test_fuzz_rule_definitions_are_valid_or_a_validation_error(data: dict[str, object]) -> None:
    try:
        rule = parse_rule(data)
    except ValidationError as exc:
        rejection = exc
    else:
        evaluate([rule], msg_of("anything at all"), **to(None))
        return
    assert str(rejection)


# ---- rule packs --------------------------------------------------------------------------------

PACK = """\
description: test pack
rules:
  - name: link
    match: 'Interface (?P<ifname>\\S+), changed state to down'
    key: 'ifDown:{ifname}'
  - name: broken
    match: 'Interface (?P<ifname>\\S+) down'
    summary: 'Interface {ifnam} down'
"""


def test_rule_pack_errors_name_file_line_and_field() -> None:
    with pytest.raises(
        ValidationError, match=r"^site\.yaml:8: rules\[1\] \(broken\): summary"
    ) as e:
        load_rules(PACK, name="site.yaml")
    assert e.value.field == "summary"
    with pytest.raises(ValidationError, match=r"<rules>:3: rules\[0\] \(a\): unknown field"):
        load_rules("- name: a\n  match: x\n  colour: red\n")
    with pytest.raises(ValidationError, match=r"p\.yaml:3: YAML error"):
        load_rules("rules:\n  - name: [unclosed\n", name="p.yaml")
    with pytest.raises(ValidationError, match="duplicate rule name 'a'"):
        load_rules("- {name: a, match: x}\n- {name: a, match: y}\n")
    with pytest.raises(ValidationError, match="unknown key"):
        load_rules("rulez: []\n")
    with pytest.raises(ValidationError, match="must be a list"):
        load_rules("rules: {name: a}\n")
    assert load_rules("") == []
    assert [r.name for r in load_rules(PACK.split("  - name: broken")[0])] == ["link"]


BUNDLED_CASES = [
    (
        "<187>2654: *Mar  1 00:01:02.345 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, "
        "changed state to down",
        "ifDown:GigabitEthernet0/1",
        Severity.MAJOR,
    ),
    (
        "<187>2655: *Mar  1 00:01:05.345 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, "
        "changed state to up",
        "ifDown:GigabitEthernet0/1",
        Severity.CLEAR,
    ),
    (
        "<189>45: Mar 18 10:12:33.123: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/2, "
        "changed state to down",
        "lineProtoDown:Gi0/2",
        Severity.MINOR,
    ),
    (
        "<189>46: Mar 18 10:12:39.123: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/2, "
        "changed state to up",
        "lineProtoDown:Gi0/2",
        Severity.CLEAR,
    ),
    (
        "<189>23: 1w2d: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.1.1)",
        "configChanged",
        Severity.INFO,
    ),
    (
        "<28>Mar 18 11:25:18 jnpr-mx1 mib2d[1474]: SNMP_TRAP_LINK_DOWN: ifIndex 526, "
        "ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1",
        "ifDown:ge-0/0/1",
        Severity.MAJOR,
    ),
    (
        "<28>Mar 18 11:26:18 jnpr-mx1 mib2d[1474]: SNMP_TRAP_LINK_UP: ifIndex 526, "
        "ifAdminStatus up(1), ifOperStatus up(1), ifName ge-0/0/1",
        "ifDown:ge-0/0/1",
        Severity.CLEAR,
    ),
    (
        "<189>12: Mar 18 10:12:33: %BGP-5-ADJCHANGE: neighbor 10.0.0.2 Down BGP Notification sent",
        "bgpDown:10.0.0.2",
        Severity.MAJOR,
    ),
    (
        "<189>13: Mar 18 10:14:33: %BGP-5-ADJCHANGE: neighbor 10.0.0.2 Up",
        "bgpDown:10.0.0.2",
        Severity.CLEAR,
    ),
    (
        "<28>Mar 18 11:25:18 mx1 rpd[1571]: BGP_NEIGHBOR_STATE_CHANGED: BGP peer 192.0.2.1 "
        "(External AS 65001) changed state from Established to Idle (event RecvNotify)",
        "bgpDown:192.0.2.1",
        Severity.MAJOR,
    ),
    (
        "<28>Mar 18 11:27:18 mx1 rpd[1571]: BGP_NEIGHBOR_STATE_CHANGED: BGP peer 192.0.2.1+179 "
        "(External AS 65001) changed state from OpenConfirm to Established (event RecvKeepAlive)",
        "bgpDown:192.0.2.1",
        Severity.CLEAR,
    ),
    (
        "<38>Mar 18 11:25:18 web1 sshd[2211]: Failed password for invalid user admin from "
        "203.0.113.9 port 51234 ssh2",
        "sshFailedPassword:203.0.113.9",
        Severity.WARNING,
    ),
    (
        "<3>Mar 18 11:25:18 web1 kernel: [123456.789] Out of memory: Killed process 4242 (java) "
        "total-vm:1234kB",
        "outOfMemory",
        Severity.CRITICAL,
    ),
]


@pytest.mark.parametrize(("line", "key", "severity"), BUNDLED_CASES)
def test_bundled_pack_on_real_lines(line: str, key: str, severity: Severity) -> None:
    alert = evaluate(bundled_rules(), parse(line, now=NOW), **to("dev1"))
    assert alert is not None
    assert (alert.key, alert.severity) == (key, severity)
    assert "{" not in alert.summary


@pytest.mark.parametrize(
    "line",
    [
        "<28>Mar 18 11:25:18 jnpr-mx1 mib2d[1474]: SNMP_TRAP_LINK_DOWN: ifIndex 526, "
        "ifAdminStatus down(2), ifOperStatus down(2), ifName ge-0/0/1",  # shut down on purpose
        "<38>Mar 18 11:25:18 web1 cron[22]: Failed password for root from 1.2.3.4 port 1",
        "<13>Mar 18 11:25:18 web1 systemd[1]: Started Session 42 of user root.",
    ],
)
def test_bundled_pack_leaves_other_lines_unknown(line: str) -> None:
    assert evaluate(bundled_rules(), parse(line, now=NOW), **to("dev1")) is None


# ---- receiver settings -------------------------------------------------------------------------


def test_settings_defaults_and_validation() -> None:
    default = SyslogSettings.parse({})
    assert (default.port, default.protocols, default.rate, default.burst) == (
        514,
        ("udp", "tcp"),
        2000.0,
        5000.0,
    )
    given = SyslogSettings.parse({"port": "5514", "protocols": "tcp", "timezone": "Asia/Tokyo"})
    assert (given.port, given.protocols, str(given.timezone)) == (5514, ("tcp",), "Asia/Tokyo")
    both = SyslogSettings.parse({"protocol": "both", "description": "ignored"})
    assert both.protocols == ("udp", "tcp")
    assert SyslogSettings.parse({"protocols": "tcp, udp,tcp"}).protocols == ("tcp", "udp")
    for bad, field in [
        ({"protocol": "sctp"}, "protocol"),
        ({"port": 70000}, "port"),
        ({"port": "x"}, "port"),
        ({"protocols": ["udp", "sctp"]}, "protocols"),
        ({"rate": 0}, "rate"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ]:
        with pytest.raises(ValidationError) as info:
            SyslogSettings.parse(bad)
        assert info.value.field == field


def test_bind_errors_say_what_to_do() -> None:
    import errno

    in_use = bind_error("udp", "0.0.0.0", 514, OSError(errno.EADDRINUSE, "in use"))
    assert "in use" in in_use and "5514" in in_use
    denied = bind_error("tcp", "0.0.0.0", 514, PermissionError(errno.EACCES, "denied"))
    assert "CAP_NET_BIND_SERVICE" in denied and "5514" in denied
    assert "0.0.0.0" in bind_error("udp", "10.9.9.9", 5514, OSError(errno.EADDRNOTAVAIL, "x"))


def test_timestamps_are_never_naive() -> None:
    msg = parse("<13>Mar 18 11:25:18 h t: x", now=NOW)
    assert msg.timestamp is not None and msg.timestamp.utcoffset() == timedelta(0)
