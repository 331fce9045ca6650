"""Ping: ICMP echo through icmplib where the OS allows it, else a TCP connect probe.

ICMP needs either an unprivileged ICMP socket (Linux: the process's group inside
``/proc/sys/net/ipv4/ping_group_range``; macOS allows it) or a raw socket (root /
CAP_NET_RAW / Administrator). The first ping finds out which works and remembers it;
when neither does, ``ping`` probes ``tcp_fallback_ports`` instead and says so
(``method="tcp"``): a connection accepted *or refused* proves the host is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import icmplib

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import PingResult, TcpCheckResult
from opsconductor_desktop.drivers.tcp import tcp_check

__all__ = ["icmp_mode", "ping"]

IcmpMode = Literal["unprivileged", "privileged", "unavailable"]
DEFAULT_TCP_PORTS = (22, 443, 80, 23)
_mode: IcmpMode | None = None


def icmp_mode() -> IcmpMode | None:
    """How this process sends ICMP (None until the first ping found out)."""
    return _mode


async def ping(
    host: str,
    *,
    count: int = 1,
    timeout: float = 2.0,  # noqa: ASYNC109 - a timeout here yields a result, not an exception
    method: Literal["auto", "icmp", "tcp"] = "auto",
    tcp_fallback_ports: Sequence[int] = DEFAULT_TCP_PORTS,
) -> PingResult:
    """Is ``host`` reachable, and the round-trip time in ms.

    ``method="auto"`` uses ICMP when the OS permits it and the TCP probe otherwise;
    ``"icmp"`` never falls back; ``"tcp"`` forces the TCP probe. Network failures are
    results (``reachable=False`` with ``error``), never exceptions.
    """
    if not host:
        raise ValidationError("host is empty", field="host")
    if not 1 <= count <= 100:
        raise ValidationError("ping count must be between 1 and 100", field="count")
    if not 0 < timeout <= 60:
        raise ValidationError("ping timeout must be between 0 and 60 s", field="timeout")
    if method != "tcp":
        result = await _icmp(host, count, timeout)
        if result is not None or method == "icmp":
            return result or PingResult(
                host, False, None, "icmp", "ICMP is not permitted for this process"
            )
    return await _tcp_probe(host, timeout, tcp_fallback_ports)


async def _icmp(host: str, count: int, wait: float) -> PingResult | None:
    """Ping over ICMP; None when the OS permits no ICMP socket to this process."""
    global _mode
    modes: list[IcmpMode] = ["unprivileged", "privileged"] if _mode is None else [_mode]
    for mode in modes:
        if mode == "unavailable":
            return None
        try:
            reply = await icmplib.async_ping(
                host,
                count=count,
                interval=0.2,
                timeout=wait,
                privileged=mode == "privileged",
            )
        except icmplib.SocketPermissionError:
            continue
        except icmplib.NameLookupError:
            return PingResult(host, False, None, "icmp", "host name not found")
        except icmplib.ICMPLibError as exc:
            return PingResult(host, False, None, "icmp", str(exc) or type(exc).__name__)
        _mode = mode
        if reply.is_alive:
            return PingResult(host, True, round(reply.avg_rtt, 3), "icmp")
        return PingResult(
            host, False, None, "icmp", f"no echo reply ({count} sent, timeout {wait:g} s)"
        )
    _mode = "unavailable"
    return None


async def _tcp_probe(host: str, wait: float, ports: Sequence[int]) -> PingResult:
    """Reachable if any port accepts or refuses a connection; first answer wins."""
    if not ports:
        return PingResult(host, False, None, "tcp", "ICMP unavailable and no TCP ports to try")
    checks = [asyncio.create_task(tcp_check(host, port, wait)) for port in ports]
    last: TcpCheckResult | None = None
    try:
        for finished in asyncio.as_completed(checks):
            last = await finished
            if last.open or last.refused:
                return PingResult(host, True, last.latency_ms, "tcp", port=last.port)
    finally:
        for check in checks:
            check.cancel()
        await asyncio.gather(*checks, return_exceptions=True)
    error = last.error if last is not None else None
    return PingResult(
        host, False, None, "tcp", f"no TCP answer on ports {', '.join(map(str, ports))}: {error}"
    )
