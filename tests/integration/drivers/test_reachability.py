"""tcp_check and ping against real sockets on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator

import icmplib
import pytest

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.drivers import icmp
from opsconductor_desktop.drivers.icmp import icmp_mode, ping
from opsconductor_desktop.drivers.tcp import tcp_check


@pytest.fixture
async def open_port() -> AsyncIterator[int]:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener whose accept queue is full: new SYNs are dropped, connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    try:
        yield port
    finally:
        for sock in [*fillers, listener]:
            sock.close()


@pytest.fixture
def fresh_icmp_mode() -> Iterator[None]:
    saved = icmp._mode
    icmp._mode = None
    yield
    icmp._mode = saved


async def test_tcp_check_open_port(open_port: int) -> None:
    result = await tcp_check("127.0.0.1", open_port, timeout=2)
    assert result.open
    assert result.error is None
    assert not result.refused
    assert result.latency_ms is not None
    assert 0 < result.latency_ms < 1000


async def test_tcp_check_closed_port_is_refused(closed_port: int) -> None:
    result = await tcp_check("127.0.0.1", closed_port, timeout=2)
    assert not result.open
    assert result.refused
    assert result.error == "connection refused"


async def test_tcp_check_timeout(silent_port: int) -> None:
    started = time.monotonic()
    result = await tcp_check("127.0.0.1", silent_port, timeout=0.3)
    assert not result.open
    assert not result.refused
    assert result.error == "no answer within 0.3 s"
    assert time.monotonic() - started < 1.0


async def test_tcp_check_validates_input() -> None:
    with pytest.raises(ValidationError):
        await tcp_check("127.0.0.1", 0)
    with pytest.raises(ValidationError):
        await tcp_check("", 22)


async def test_ping_loopback_over_icmp(fresh_icmp_mode: None) -> None:
    result = await ping("127.0.0.1", count=2, timeout=1)
    if icmp_mode() == "unavailable":
        pytest.skip("this process may not send ICMP here")
    assert result.reachable
    assert result.method == "icmp"
    assert result.rtt_ms is not None
    assert result.rtt_ms >= 0
    assert icmp_mode() in ("unprivileged", "privileged")


async def test_ping_forced_tcp_fallback(open_port: int, closed_port: int) -> None:
    accepted = await ping("127.0.0.1", method="tcp", tcp_fallback_ports=[open_port], timeout=1)
    assert accepted.reachable
    assert accepted.method == "tcp"
    assert accepted.port == open_port
    refused = await ping("127.0.0.1", method="tcp", tcp_fallback_ports=[closed_port], timeout=1)
    assert refused.reachable
    assert refused.method == "tcp"


async def test_ping_tcp_unreachable(silent_port: int) -> None:
    result = await ping("127.0.0.1", method="tcp", tcp_fallback_ports=[silent_port], timeout=0.3)
    assert not result.reachable
    assert result.method == "tcp"
    assert result.error is not None
    assert str(silent_port) in result.error


async def test_ping_falls_back_to_tcp_when_the_os_refuses_icmp(
    fresh_icmp_mode: None, monkeypatch: pytest.MonkeyPatch, open_port: int
) -> None:
    async def refused(*args: object, **kwargs: object) -> icmplib.Host:
        raise icmplib.SocketPermissionError(bool(kwargs.get("privileged")))

    monkeypatch.setattr(icmplib, "async_ping", refused)
    result = await ping("127.0.0.1", tcp_fallback_ports=[open_port], timeout=1)
    assert result.reachable
    assert result.method == "tcp"
    assert icmp_mode() == "unavailable"
    strict = await ping("127.0.0.1", method="icmp", timeout=1)
    assert not strict.reachable
    assert strict.error == "ICMP is not permitted for this process"


async def test_ping_validates_input() -> None:
    with pytest.raises(ValidationError):
        await ping("127.0.0.1", count=0)
