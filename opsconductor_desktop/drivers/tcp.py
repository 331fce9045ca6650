"""TCP reachability: can a port be connected to, and how long did it take."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import TcpCheckResult

__all__ = ["tcp_check"]

_CLOSE_GRACE = 1.0  # seconds to wait for a polite close before abandoning the socket


async def tcp_check(
    host: str,
    port: int,
    timeout: float = 3.0,  # noqa: ASYNC109 - expiry is reported in the result, not raised
) -> TcpCheckResult:
    """Open and close one TCP connection to ``host:port``; never raises for network errors.

    A refused connection comes back with ``refused=True`` and its latency (the host is up).
    """
    if not host:
        raise ValidationError("host is empty", field="host")
    if not 0 < port < 65536:
        raise ValidationError(f"TCP port {port} is out of range", field="port")
    if not 0 < timeout <= 300:
        raise ValidationError("TCP timeout must be between 0 and 300 s", field="timeout")
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return TcpCheckResult(host, port, False, None, f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return TcpCheckResult(host, port, False, _ms(started), "connection refused", refused=True)
    except socket.gaierror:
        return TcpCheckResult(host, port, False, None, "host name not found")
    except OSError as exc:
        return TcpCheckResult(host, port, False, None, exc.strerror or str(exc))
    latency = _ms(started)
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(_CLOSE_GRACE):
            await writer.wait_closed()
    return TcpCheckResult(host, port, True, latency)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
