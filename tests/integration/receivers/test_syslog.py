"""The syslog receiver on loopback: real senders (util-linux ``logger`` over UDP and TCP,
RFC 3164 and 5424, newline and octet-counted framing) and raw sockets (split frames,
binary junk, huge lines, absurd octet counts, many connections, floods, bind failures).

Most tests collect the submitted alerts in a list; the last ones submit to the real alert
service of a core (SQLite and PostgreSQL), where a link-down line opens an alert and the
link-up line clears it. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import errno
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.runtime.receivers.syslog import SyslogReceiver, bundled_rules
from opsconductor_desktop.services.app import Core

LOGGER = shutil.which("logger")
needs_logger = pytest.mark.skipif(LOGGER is None, reason="util-linux logger is not installed")
LOOPBACK = "127.0.0.1"
DOWN = "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"
UP = "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up"


class Collected:
    """A sink that keeps every submitted alert."""

    def __init__(self) -> None:
        self.alerts: list[NormalizedAlert] = []

    async def __call__(self, batch: Sequence[NormalizedAlert]) -> None:
        self.alerts.extend(batch)

    def keys(self) -> list[str]:
        return [a.key for a in self.alerts if a.key != "flood"]

    def floods(self) -> list[NormalizedAlert]:
        return [a for a in self.alerts if a.key == "flood"]


Start = Callable[..., Awaitable[tuple[SyslogReceiver, Collected]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Starts receivers on a free loopback port (UDP and TCP on the same one); stops them."""
    started: list[SyslogReceiver] = []

    async def run(
        settings: dict[str, Any] | None = None,
        *,
        lookup: Callable[[str], str | None] = {LOOPBACK: "r1"}.get,
        **kwargs: Any,
    ) -> tuple[SyslogReceiver, Collected]:
        sink = Collected()
        receiver = SyslogReceiver(
            {"address": LOOPBACK, "port": 0, **(settings or {})},
            sink,
            lookup,
            name="edge",
            **kwargs,
        )
        await receiver.start()
        started.append(receiver)
        return receiver, sink

    yield run
    for receiver in started:
        await receiver.stop()


async def until(check: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def logger(port: int, *args: str) -> None:
    assert LOGGER is not None
    process = await asyncio.create_subprocess_exec(
        LOGGER,
        "-n",
        LOOPBACK,
        "-P",
        str(port),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


def send_udp(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, (LOOPBACK, port))


async def send_tcp(port: int, *chunks: bytes, pause: float = 0.0) -> None:
    _, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
    finally:
        writer.close()
        await writer.wait_closed()


def octets(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return b"%d %s" % (len(data), data)


def port_of(receiver: SyslogReceiver, protocol: str = "tcp") -> int:
    return receiver.addresses[protocol][1]


# ---- real senders: util-linux logger -----------------------------------------------------------


@needs_logger
async def test_logger_over_udp_rfc3164_and_rfc5424(start: Start) -> None:
    receiver, sink = await start({"protocols": ["udp"]})
    port = port_of(receiver, "udp")
    await logger(port, "-d", "--rfc3164", "-t", "ios", "-p", "local7.err", DOWN)
    await logger(
        port,
        "-d",
        "--rfc5424",
        "-t",
        "ios",
        "-p",
        "local7.notice",
        "--msgid",
        "UPDOWN",
        "--sd-id",
        "zoo@32473",
        "--sd-param",
        'tiger="hungry"',
        UP,
    )
    await logger(port, "-d", "--rfc3164", "-t", "cron", "-p", "cron.info", "nothing to see")
    await until(lambda: receiver.counters.received == 3, "three messages")
    await until(lambda: len(sink.alerts) == 2, "two alerts submitted")
    down, up = sink.alerts
    assert (down.source, down.key, down.target, down.severity, down.clear) == (
        "syslog",
        "ifDown:GigabitEthernet0/1",
        "r1",
        Severity.MAJOR,
        False,
    )
    assert down.details["connector"] == "edge"
    assert (down.details["app"], down.details["facility"], down.details["level"]) == (
        "ios",
        "local7",
        "err",
    )
    assert up.clear and up.fingerprint == down.fingerprint
    assert up.details["msgid"] == "UPDOWN"
    assert up.details["structured_data"]["zoo@32473"] == {"tiger": "hungry"}
    counters = receiver.counters
    assert (counters.matched, counters.unknown, counters.rejected, counters.dropped) == (2, 1, 0, 0)
    (unknown,) = receiver.recent.items()
    assert (unknown["status"], unknown["app"], unknown["message"]) == (
        "unknown",
        "cron",
        "nothing to see",
    )
    assert unknown["target"] == "r1" and unknown["address"] == LOOPBACK


@needs_logger
@pytest.mark.parametrize(
    "framing", [["--rfc5424"], ["--rfc5424", "--octet-count"], ["--rfc3164"]], ids=str
)
async def test_logger_over_tcp(start: Start, framing: list[str]) -> None:
    receiver, sink = await start({"protocols": ["tcp"]})
    port = port_of(receiver)
    await logger(port, "-T", *framing, "-t", "ios", "-p", "local7.err", DOWN)
    await logger(port, "-T", *framing, "-t", "ios", "-p", "local7.err", UP)
    await until(lambda: len(sink.alerts) == 2, "two alerts")
    assert [a.clear for a in sink.alerts] == [False, True]
    assert receiver.counters.rejected == 0


# ---- raw sockets -------------------------------------------------------------------------------


async def test_octet_counted_frames_split_anywhere_and_mixed_with_lines(start: Start) -> None:
    receiver, sink = await start()
    port = port_of(receiver)
    stream = (
        octets(f"<187>1 - r1 ios - - - {DOWN}")
        + octets("<13>1 - r1 app - - - multi\nline message")
        + f"<187>Mar  1 00:00:00 r1 ios: {UP}\n".encode()
        + octets("<13>last one")
    )
    await send_tcp(port, *(stream[i : i + 7] for i in range(0, len(stream), 7)))
    await until(lambda: receiver.counters.received == 4, "four frames")
    await until(lambda: len(sink.alerts) == 2, "down and up")
    assert [a.clear for a in sink.alerts] == [False, True]
    assert receiver.counters.unknown == 2
    messages = [item["message"] for item in receiver.recent.items()]
    assert messages == ["multi\nline message", "last one"]


async def test_last_line_without_newline_counts_when_the_sender_closes(start: Start) -> None:
    receiver, sink = await start()
    port = port_of(receiver)
    await send_tcp(port, f"<187>{DOWN}\n<187>{UP}".encode())
    await send_tcp(port, b"500 <13>the sender gave up early")
    await until(lambda: receiver.counters.received == 2, "both lines")
    await until(lambda: len(sink.alerts) == 2, "down and up")
    await until(lambda: receiver.counters.rejected == 1, "the cut frame")
    assert "ended inside a frame" in receiver.recent.items()[-1]["error"]


async def test_binary_junk_is_counted_and_the_receiver_keeps_going(start: Start) -> None:
    receiver, sink = await start()
    port = port_of(receiver)
    junk = bytes(range(256)) * 8
    send_udp(port_of(receiver, "udp"), junk, b"<13>" + b"\xff\xfe\x00\x01" * 100, b"")
    await send_tcp(port, junk + b"\n", b"no priority at all\n", b"<999>bad priority\n")
    await until(lambda: receiver.counters.received >= 6, "the junk")
    send_udp(port_of(receiver, "udp"), f"<187>{DOWN}".encode())
    await until(lambda: len(sink.alerts) == 1, "a good message after the junk")
    counters = receiver.counters
    assert counters.rejected == counters.received - 1 and counters.matched == 1
    reasons = [i["error"] for i in receiver.recent.items() if i["status"] == "rejected"]
    assert any("binary" in r for r in reasons) and any("<PRI>" in r for r in reasons)


async def test_huge_lines_are_truncated_and_counted(start: Start) -> None:
    receiver, sink = await start({"max_line": 1024})
    huge = f"<187>{DOWN} ".encode() + b"x" * 200_000
    await send_tcp(port_of(receiver), huge + b"\n", f"<187>{UP}\n".encode())
    send_udp(port_of(receiver, "udp"), huge[:60_000])
    await until(lambda: receiver.counters.received == 3, "three messages")
    await until(lambda: len(sink.alerts) == 3, "alerts")
    assert receiver.counters.truncated == 2
    assert [a.clear for a in sink.alerts] in ([False, True, False], [False, False, True])
    assert all(len(str(a.details["message"])) <= 1024 for a in sink.alerts)


async def test_absurd_octet_count_closes_only_that_connection(start: Start) -> None:
    receiver, sink = await start()
    port = port_of(receiver)
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    writer.write(b"999999999 <13>x")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the receiver
    writer.close()
    await send_tcp(port, octets(f"<187>{DOWN}"))
    await until(lambda: len(sink.alerts) == 1, "the next connection's alert")
    assert receiver.counters.rejected == 1
    assert "octet count" in receiver.recent.items()[0]["error"]


async def test_many_connections_at_once(start: Start) -> None:
    receiver, sink = await start()
    port = port_of(receiver)

    async def sender(i: int) -> None:
        lines = [f"<187>{DOWN.replace('0/1', f'{i}/{n}')}\n".encode() for n in range(5)]
        await send_tcp(port, *lines, pause=0.001)

    await asyncio.gather(*(sender(i) for i in range(100)))
    await until(lambda: receiver.counters.received == 500, "500 lines")
    await until(lambda: len(sink.alerts) == 500, "500 alerts")
    assert len(set(sink.keys())) == 500 and receiver.counters.rejected == 0


async def test_connections_beyond_the_cap_are_refused_and_counted(start: Start) -> None:
    receiver, sink = await start({"max_connections": 5})
    port = port_of(receiver)
    opened = [await asyncio.open_connection(LOOPBACK, port) for _ in range(8)]
    await until(
        lambda: len(receiver._connections) + receiver.counters.rejected == 8, "8 connections seen"
    )
    assert (len(receiver._connections), receiver.counters.rejected) == (5, 3)
    assert "max_connections" in receiver.counters.last_error
    for _, writer in opened:
        writer.close()
    await until(lambda: not receiver._connections, "the connections to close")
    await send_tcp(port, f"<187>{DOWN}\n".encode())
    await until(lambda: len(sink.alerts) == 1, "an alert once there is room again")


async def test_idle_connections_are_closed(start: Start) -> None:
    receiver, _ = await start({"idle_timeout": 1})
    reader, writer = await asyncio.open_connection(LOOPBACK, port_of(receiver))
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert not receiver._connections


# ---- flood control -----------------------------------------------------------------------------


async def test_tcp_flood_is_dropped_counted_and_summarized(start: Start) -> None:
    receiver, sink = await start({"rate": 10, "burst": 100})
    lines = b"".join(f"<187>{DOWN.replace('0/1', f'0/{i}')}\n".encode() for i in range(5000))
    began = time.monotonic()
    await send_tcp(receiver.addresses["tcp"][1], lines)
    await until(lambda: receiver.counters.received == 5000, "5000 lines")
    elapsed = time.monotonic() - began
    await until(lambda: bool(sink.floods()), "the flood summary")
    counters = receiver.counters
    assert counters.matched <= 100 + 10 * elapsed + 1
    assert counters.dropped == 5000 - counters.matched
    floods = sink.floods()
    assert len({f.fingerprint for f in floods}) == 1  # one alert, however many windows
    assert sum(int(f.details["dropped"]) for f in floods) == counters.dropped
    assert floods[0].severity is Severity.WARNING and "dropped" in floods[0].summary
    await until(lambda: len(sink.keys()) == counters.matched, "the accepted alerts")


async def test_udp_flood_is_dropped_and_summarized(start: Start) -> None:
    receiver, sink = await start({"rate": 10, "burst": 50, "protocols": "udp"})
    port = port_of(receiver, "udp")
    for burst in range(20):
        send_udp(port, *(f"<187>{DOWN} #{burst}-{i}".encode() for i in range(50)))
        await asyncio.sleep(0.005)
    await until(lambda: receiver.counters.received >= 500, "most datagrams")
    await asyncio.sleep(0.1)  # the kernel may still hold a few
    counters = receiver.counters
    assert counters.dropped == counters.received - counters.matched
    assert counters.dropped >= counters.received - 50 - 10 * 2
    await until(lambda: bool(sink.floods()), "the flood summary")


# ---- binding -----------------------------------------------------------------------------------


async def test_port_in_use_is_a_clear_error_and_nothing_stays_bound() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((LOOPBACK, 0))
        port = taken.getsockname()[1]
        receiver = SyslogReceiver({"address": LOOPBACK, "port": port}, Collected(), lambda a: None)
        with pytest.raises(OpsError, match=rf"UDP {LOOPBACK}:{port}: the port is in use") as e:
            await receiver.start()
        assert "5514" in str(e.value) and receiver.counters.last_error == str(e.value)
        # the TCP listener bound before UDP failed was closed again
        with socket.socket() as again:
            again.bind((LOOPBACK, port))
    with socket.socket() as listening:
        listening.bind((LOOPBACK, 0))
        listening.listen()
        port = listening.getsockname()[1]
        tcp = SyslogReceiver(
            {"address": LOOPBACK, "port": port, "protocols": ["tcp"]}, Collected(), lambda a: None
        )
        with pytest.raises(OpsError, match="TCP .* in use"):
            await tcp.start()
    await receiver.stop()  # stopping a receiver that never started is harmless


async def test_privileged_port_error_names_the_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(loop, "create_server", denied)
    receiver = SyslogReceiver({"port": 514}, Collected(), lambda a: None)
    with pytest.raises(OpsError, match="CAP_NET_BIND_SERVICE") as e:
        await receiver.start()
    assert "5514" in str(e.value)


# ---- targets and shutdown ----------------------------------------------------------------------


async def test_target_from_address_else_from_hostname(start: Start) -> None:
    receiver, sink = await start(lookup=lambda address: None, name_lookup={"edge-7": "r7"}.get)
    port = port_of(receiver, "udp")
    send_udp(
        port,
        f"<187>Nov 22 23:06:19 edge-7 ios: {DOWN}".encode(),
        f"<187>Nov 22 23:06:19 stranger ios: {DOWN}".encode(),
        f"<187>{DOWN}".encode(),
    )
    await until(lambda: len(sink.alerts) == 3, "three alerts")
    assert [(a.target, a.key) for a in sink.alerts] == [
        ("r7", "ifDown:GigabitEthernet0/1"),
        (None, "ifDown:GigabitEthernet0/1@stranger"),
        (None, f"ifDown:GigabitEthernet0/1@{LOOPBACK}"),
    ]


async def test_stop_submits_what_is_queued() -> None:
    sink = Collected()
    receiver = SyslogReceiver({"address": LOOPBACK, "port": 0}, sink, lambda a: "r1")
    await receiver.start()
    send_udp(port_of(receiver, "udp"), f"<187>{DOWN}".encode())
    await until(lambda: receiver.counters.matched == 1, "the message")
    await receiver.stop()  # before the batcher's interval
    assert len(sink.alerts) == 1
    assert receiver.addresses == {}


async def test_a_slow_database_holds_tcp_senders_back_without_loss() -> None:
    stored: list[NormalizedAlert] = []
    biggest = 0

    async def slow(batch: Sequence[NormalizedAlert]) -> None:
        nonlocal biggest
        biggest = max(biggest, len(batch))
        await asyncio.sleep(0.2)
        stored.extend(batch)

    settings = {"address": LOOPBACK, "port": 0, "protocols": "tcp", "rate": 1e6, "burst": 1e6}
    receiver = SyslogReceiver(settings, slow, lambda a: "r1")
    await receiver.start()
    try:
        lines = b"".join(f"<187>{DOWN} #{i}\n".encode() for i in range(3000))
        await send_tcp(port_of(receiver), lines)
        await until(lambda: len(stored) == 3000, "every alert stored", limit=30)
    finally:
        await receiver.stop()
    assert receiver.counters.dropped == 0
    assert biggest <= 1300  # the queue stayed near the backlog mark, not all 3000 at once


async def test_a_failing_database_is_counted_and_said(caplog: pytest.LogCaptureFixture) -> None:
    async def unavailable(batch: Sequence[NormalizedAlert]) -> None:
        raise OpsError("database is locked")

    receiver = SyslogReceiver({"address": LOOPBACK, "port": 0}, unavailable, lambda a: "r1")
    await receiver.start()
    send_udp(port_of(receiver, "udp"), f"<187>{DOWN}".encode())
    await until(lambda: receiver.counters.dropped == 1, "the lost alert counted")
    assert "database is locked" in receiver.counters.last_error

    async def broken(batch: Sequence[NormalizedAlert]) -> None:
        raise RuntimeError("a bug")

    receiver._batcher.sink = broken
    send_udp(port_of(receiver, "udp"), f"<187>{DOWN}".encode())
    await until(lambda: "no longer submitted" in receiver.counters.last_error, "the bug said")
    assert "submitting stopped" in caplog.text
    await receiver.stop()  # does not raise the flusher's error again


async def test_custom_rules_and_rule_pack_setting(start: Start, tmp_path: Any) -> None:
    pack = tmp_path / "site.yaml"
    pack.write_text("- {name: disk, match: 'disk (?P<disk>\\w+) full', key: 'disk:{disk}'}\n")
    receiver, sink = await start({"rules": str(pack)})
    assert [r.name for r in receiver.rules] == ["disk"]
    send_udp(port_of(receiver, "udp"), b"<11>disk sda1 full", f"<187>{DOWN}".encode())
    await until(lambda: receiver.counters.received == 2, "two messages")
    await until(lambda: len(sink.alerts) == 1, "the disk alert")
    assert sink.alerts[0].key == "disk:sda1" and sink.alerts[0].severity is Severity.MAJOR
    assert receiver.counters.unknown == 1  # the bundled pack is not used beside this one
    assert len(bundled_rules()) >= 8


# ---- into the real alert manager (SQLite and PostgreSQL) ---------------------------------------


async def open_alerts(core: Core, **kwargs: Any) -> list[Any]:
    return list(await core.alerts.list(source="syslog", **kwargs))


@needs_logger
async def test_link_down_opens_and_link_up_clears_in_the_alert_manager(core: Core) -> None:
    await core.inventory.create_target(TargetSpec("r1", LOOPBACK))
    receiver = SyslogReceiver(
        {"address": LOOPBACK, "port": 0}, core.alerts.submit, {LOOPBACK: "r1"}.get, name="edge"
    )
    await receiver.start()
    try:
        await logger(
            port_of(receiver, "udp"), "-d", "--rfc3164", "-t", "ios", "-p", "local7.err", DOWN
        )
        opened: list[Any] = []

        async def poll_open() -> bool:
            opened[:] = await open_alerts(core, status="open")
            return bool(opened)

        await until_async(poll_open, "the open alert")
        (alert,) = opened
        assert (alert.target, alert.key, alert.severity) == (
            "r1",
            "ifDown:GigabitEthernet0/1",
            Severity.MAJOR,
        )
        assert alert.details["connector"] == "edge"
        await logger(
            port_of(receiver), "-T", "--octet-count", "-t", "ios", "-p", "local7.notice", UP
        )

        async def poll_resolved() -> bool:
            return not await open_alerts(core, status="open")

        await until_async(poll_resolved, "the clear")
        (resolved,) = await open_alerts(core, status="resolved")
        assert resolved.id == alert.id and resolved.status is AlertStatus.RESOLVED
    finally:
        await receiver.stop()


async def test_flood_into_the_alert_manager_is_one_alert(core: Core) -> None:
    receiver = SyslogReceiver(
        {"address": LOOPBACK, "port": 0, "rate": 5, "burst": 10},
        core.alerts.submit,
        {LOOPBACK: "r1"}.get,
    )
    await receiver.start()
    try:
        lines = [f"<187>{DOWN.replace('0/1', f'0/{i}')}\n".encode() for i in range(300)]
        await send_tcp(port_of(receiver), b"".join(lines))
        await until(lambda: receiver.counters.received == 300, "300 lines")
    finally:
        await receiver.stop()
    alerts = await open_alerts(core, status="open")
    floods = [a for a in alerts if a.key == "flood"]
    assert len(floods) == 1
    assert floods[0].details["dropped_total"] == receiver.counters.dropped >= 280
    assert len(alerts) - 1 == receiver.counters.matched <= 12


async def until_async(check: Callable[[], Awaitable[bool]], what: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
