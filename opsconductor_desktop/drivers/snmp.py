"""The one SNMP driver: GET, GETNEXT, walk (GETBULK / GETNEXT) and SET over v1, v2c, v3.

Design (see ``snmp_stack`` for the pysnmp side):

* One pysnmp engine per driver, created on first use; pysnmp itself is imported then
  (in a worker thread), so importing this module costs nothing at application start-up.
* No per-target configuration: a target is just an address on each request, a
  community or v3 user is registered once per credential. The first sweep of N new
  targets costs O(N) — ``tests/bench/bench_snmp_first_contact.py`` measures it.
* Bounded fan-out: at most ``max_in_flight`` requests in flight overall (default 64,
  where FIELD-NOTES found the kernel's UDP buffer still keeps up) and
  ``max_per_target`` per agent (default 4).
* OIDs are numeric; every OID and SET value is checked before any network I/O
  (``ValidationError``).
* ``noSuchObject`` / ``noSuchInstance`` / ``endOfMibView`` are returned as typed
  per-var-bind values (``VarBind.exists`` is False; ``VarBind.unwrap()`` raises
  ``SnmpNoSuchObject`` & co.), because a poll of ten OIDs should not fail for one
  missing counter. v1's ``noSuchName`` is translated the same way (the other OIDs of
  the request are asked again).
* Errors are typed: ``SnmpTimeout`` (no answer: down, wrong port, wrong community),
  ``SnmpAuthError`` (v3 reports), ``SnmpTooBig`` (even one OID does not fit; bigger
  requests are split in halves and retried), ``SnmpAgentError`` (error-status).
* Cancelling the awaiting task stops waiting at once; a late answer is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import socket
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import (
    SnmpAgentError,
    SnmpEndpoint,
    SnmpError,
    SnmpTooBig,
    VarBind,
)
from opsconductor_desktop.drivers.snmp_values import (
    ERROR_STATUS,
    Oid,
    format_oid,
    parse_oid,
    parse_oids,
    parse_set_value,
)

if TYPE_CHECKING:
    from opsconductor_desktop.drivers.snmp_stack import PduKind, Response, SnmpStack

__all__ = ["SnmpDriver"]

_DNS_TTL = 300.0
_DNS_CACHE = 4096
_TOO_BIG, _NO_SUCH_NAME = 1, 2


class _TargetSlots:
    """Per-target semaphores that exist only while someone uses or waits for them."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots: dict[tuple[str, int], tuple[asyncio.Semaphore, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, int]) -> AsyncIterator[None]:
        sem, users = self._slots.get(key) or (asyncio.Semaphore(self._limit), 0)
        self._slots[key] = (sem, users + 1)
        try:
            async with sem:
                yield
        finally:
            sem, users = self._slots[key]
            if users <= 1:
                del self._slots[key]
            else:
                self._slots[key] = (sem, users - 1)

    def __len__(self) -> int:
        return len(self._slots)


class SnmpDriver:
    """Async SNMP client. Use one per application; every caller shares it."""

    def __init__(
        self,
        *,
        max_in_flight: int = 64,
        max_per_target: int = 4,
        max_oids_per_request: int = 32,
    ) -> None:
        if max_in_flight < 1 or max_per_target < 1 or max_oids_per_request < 1:
            raise ValueError("limits must be positive")
        self._global = asyncio.Semaphore(max_in_flight)
        self._targets = _TargetSlots(max_per_target)
        self._max_oids = max_oids_per_request
        self._stack: SnmpStack | None = None
        self._stack_lock = asyncio.Lock()
        self._dns: OrderedDict[tuple[str, int], tuple[float, tuple[str, int]]] = OrderedDict()
        self._closed = False

    # -- public API ---------------------------------------------------------------------

    async def get(self, ep: SnmpEndpoint, oids: Sequence[str]) -> list[VarBind]:
        """GET ``oids``; one ``VarBind`` per OID, in order (missing ones typed, not raised)."""
        parsed = parse_oids(oids)
        out: list[VarBind] = []
        for start in range(0, len(parsed), self._max_oids):
            out += await self._fetch(ep, "get", parsed[start : start + self._max_oids])
        return out

    async def next(self, ep: SnmpEndpoint, oids: Sequence[str]) -> list[VarBind]:
        """GETNEXT ``oids``; one ``VarBind`` per OID (``endOfMibView`` at the end)."""
        parsed = parse_oids(oids)
        out: list[VarBind] = []
        for start in range(0, len(parsed), self._max_oids):
            out += await self._fetch(ep, "next", parsed[start : start + self._max_oids])
        return out

    async def walk(
        self,
        ep: SnmpEndpoint,
        oid: str,
        *,
        max_repetitions: int = 25,
        max_varbinds: int = 100_000,
    ) -> list[VarBind]:
        """Every var-bind under ``oid`` (GETBULK on v2c/v3, GETNEXT on v1), in order.

        Stops at the end of the subtree. A walk of a leaf instance returns that instance
        (as net-snmp's ``snmpwalk`` does). More than ``max_varbinds`` raises ``SnmpError``.
        """
        root = parse_oid(oid)
        if not 1 <= max_repetitions <= 1000:
            raise ValidationError(
                "max_repetitions must be between 1 and 1000", field="max_repetitions"
            )
        rows = await self._walk(ep, root, max_repetitions, max_varbinds)
        if not rows:
            (leaf,) = await self._fetch(ep, "get", [root])
            rows = [leaf] if leaf.exists else []
        return rows

    async def set(
        self, ep: SnmpEndpoint, assignments: Sequence[tuple[str, str, object]]
    ) -> list[VarBind]:
        """SET (oid, type, value) triples in one request; return the agent's var-binds.

        ``type`` is a net-snmp letter (``i u g c t a o s x d``) or an SMI name
        (``Integer32``, ``OctetString``, ``Counter64`` ...). Raises ``SnmpAgentError``
        with the error-status name (``notWritable``, ``wrongType`` ...) on refusal.
        """
        if not assignments:
            raise ValidationError("nothing to set", field="oid")
        checked: list[tuple[Oid, str, Any]] = []
        for entry in assignments:
            if len(entry) != 3:
                raise ValidationError("each SET entry is (oid, type, value)", field="oid")
            oid_text, type_name, value = entry
            oid = parse_oid(oid_text)
            kind, python = parse_set_value(type_name, value, oid=oid_text)
            if kind == "Counter64" and ep.version == "v1":
                raise ValidationError("Counter64 cannot be sent over SNMPv1", field="type")
            checked.append((oid, kind, python))
        await self._get_stack()  # imports pysnmp (off the loop's thread) on first use
        from opsconductor_desktop.drivers.snmp_stack import build_value

        varbinds = [(oid, build_value(kind, python)) for oid, kind, python in checked]
        response = await self._request(ep, "set", varbinds)
        if response.error_status:
            raise self._agent_error(ep, response, [oid for oid, _, _ in checked])
        return response.varbinds

    def close(self) -> None:
        """Close the socket(s) and the engine's timer. The driver cannot be used after."""
        self._closed = True
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    # -- internals ----------------------------------------------------------------------

    async def _get_stack(self) -> SnmpStack:
        if self._closed:
            raise SnmpError("the SNMP driver is closed")
        if self._stack is None:
            async with self._stack_lock:
                if self._stack is None:
                    # pysnmp's import (~0.26 s) and engine (~0.08 s) are built off the
                    # loop's thread; only the socket is opened in the loop.
                    module = await asyncio.to_thread(
                        importlib.import_module, "opsconductor_desktop.drivers.snmp_stack"
                    )
                    engine = await asyncio.to_thread(module.new_engine)
                    self._stack = module.SnmpStack(engine)
        assert self._stack is not None
        return self._stack

    async def _resolve(self, ep: SnmpEndpoint) -> tuple[str, int]:
        host = ep.host.strip("[]")
        try:
            return str(ipaddress.ip_address(host)), ep.port
        except ValueError:
            pass
        key = (host.lower(), ep.port)
        cached = self._dns.get(key)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, ep.port, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise SnmpError(f"cannot resolve {ep.host!r}: {exc}", host=ep.label) from None
        address = (str(infos[0][4][0]), int(infos[0][4][1]))
        self._dns[key] = (now + _DNS_TTL, address)
        self._dns.move_to_end(key)
        while len(self._dns) > _DNS_CACHE:
            self._dns.popitem(last=False)
        return address

    async def _request(
        self,
        ep: SnmpEndpoint,
        kind: PduKind,
        varbinds: Sequence[tuple[Oid, Any]],
        *,
        max_repetitions: int = 0,
    ) -> Response:
        stack = await self._get_stack()
        async with self._targets.hold((ep.host, ep.port)), self._global:
            address = await self._resolve(ep)
            return await stack.request(ep, address, kind, varbinds, max_repetitions=max_repetitions)

    async def _fetch(self, ep: SnmpEndpoint, kind: PduKind, oids: list[Oid]) -> list[VarBind]:
        """GET/GETNEXT ``oids``, splitting on tooBig and isolating v1 noSuchName."""
        if not oids:
            return []
        response = await self._request(ep, kind, [(oid, None) for oid in oids])
        status = response.error_status
        if status == 0:
            if len(response.varbinds) != len(oids):
                raise SnmpError(
                    f"{ep.label} answered {len(response.varbinds)} var-binds for {len(oids)} OIDs",
                    host=ep.label,
                )
            return response.varbinds
        if status == _TOO_BIG:
            if len(oids) == 1:
                raise SnmpTooBig(
                    f"the answer from {ep.label} for {format_oid(oids[0])} does not fit one "
                    "SNMP message",
                    host=ep.label,
                    oid=format_oid(oids[0]),
                )
            half = len(oids) // 2
            return await self._fetch(ep, kind, oids[:half]) + await self._fetch(
                ep, kind, oids[half:]
            )
        if status == _NO_SUCH_NAME and 1 <= response.error_index <= len(oids):
            return await self._without_missing(ep, kind, oids, response.error_index - 1)
        raise self._agent_error(ep, response, oids)

    async def _without_missing(
        self, ep: SnmpEndpoint, kind: PduKind, oids: list[Oid], missing: int
    ) -> list[VarBind]:
        """v1: mark ``oids[missing]`` absent and ask the others again."""
        rest = await self._fetch(ep, kind, oids[:missing] + oids[missing + 1 :])
        absent = VarBind(
            format_oid(oids[missing]), "endOfMibView" if kind == "next" else "noSuchObject", None
        )
        return [*rest[:missing], absent, *rest[missing:]]

    async def _walk(
        self, ep: SnmpEndpoint, root: Oid, repetitions: int, limit: int
    ) -> list[VarBind]:
        rows: list[VarBind] = []
        last = root
        while True:
            batch = await self._walk_step(ep, last, repetitions)
            if not batch:
                return rows
            for vb in batch:
                if not vb.exists:
                    return rows
                oid = parse_oid(vb.oid)
                if oid[: len(root)] != root or len(oid) <= len(root):
                    return rows
                if oid <= last:
                    raise SnmpError(
                        f"{ep.label} returned OIDs out of order ({vb.oid} after "
                        f"{format_oid(last)}): stopping the walk",
                        host=ep.label,
                        oid=vb.oid,
                    )
                rows.append(vb)
                last = oid
                if len(rows) > limit:
                    raise SnmpError(
                        f"walk of {format_oid(root)} on {ep.label} exceeded {limit} var-binds",
                        host=ep.label,
                        oid=format_oid(root),
                    )

    async def _walk_step(self, ep: SnmpEndpoint, after: Oid, repetitions: int) -> list[VarBind]:
        if ep.version == "v1":
            return await self._fetch(ep, "next", [after])
        while True:
            response = await self._request(ep, "bulk", [(after, None)], max_repetitions=repetitions)
            if response.error_status == 0:
                return response.varbinds
            if response.error_status == _TOO_BIG and repetitions > 1:
                repetitions = max(1, repetitions // 2)
                continue
            if response.error_status == _TOO_BIG:
                raise SnmpTooBig(
                    f"the answer from {ep.label} after {format_oid(after)} does not fit one "
                    "SNMP message",
                    host=ep.label,
                    oid=format_oid(after),
                )
            raise self._agent_error(ep, response, [after])

    @staticmethod
    def _agent_error(ep: SnmpEndpoint, response: Response, oids: Sequence[Oid]) -> SnmpAgentError:
        status = response.error_status
        name = ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else f"status {status}"
        index = response.error_index
        oid = format_oid(oids[index - 1]) if 1 <= index <= len(oids) else None
        where = f" for {oid}" if oid else ""
        return SnmpAgentError(
            f"{ep.label} refused the request{where}: {name}",
            status=name,
            index=index,
            host=ep.label,
            oid=oid,
        )
