"""The SNMP trap receiver: v1, v2c and v3 notifications on one UDP socket, turned into alerts.

Two paths share the socket:

* **v1 and v2c** are decoded in the datagram callback by the project's BER codec
  (``drivers.snmp_ber``), the community checked, a v2c inform acknowledged by echoing its
  var-binds. Through pysnmp's engine the same trap costs ≈ 1 ms of CPU (pyasn1), which
  alone caps one core near 1,000 traps/s; the codec path costs ≈ 65 µs from datagram to
  alert (``tests/bench/bench_trap_receiver.py`` measures both).
* **v3** goes through pysnmp (``traps_v3``): USM, informs, engine ids (≈ 1.3-2 ms a trap,
  so it has its own, lower flood gate). pysnmp is loaded, in a worker thread, only when
  v3 users are given.

Every datagram is counted: beyond a flood gate it is dropped (and summarized in one alert
per flush); malformed messages, unknown communities and v3 users, and failed
authentication are ``rejected``; a trap no rule names is ``unknown`` and still becomes an
``info`` alert. The last unknown and rejected items stay in ``recent`` for the operator.
Rule packs (YAML) are loaded here: ``load_rules`` (bundled packs in ``resources/traps``,
then the operator's) and ``load_pack_text`` (errors name the file, line and field).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from opsconductor_desktop import paths
from opsconductor_desktop.domain.alerts import NormalizedAlert
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.domain.traps import (
    SOURCE,
    LineOf,
    Trap,
    TrapFormatError,
    TrapRule,
    TrapRules,
    parse_pack,
    trap_from_v1,
    trap_from_v2,
    varbind_details,
)
from opsconductor_desktop.drivers.snmp_ber import (
    INFORM,
    TRAP_V1,
    BerError,
    decode_notification,
    encode_inform_response,
)
from opsconductor_desktop.runtime.receivers.base import (
    AlertBatcher,
    AlertSink,
    FloodGate,
    ReceiverCounters,
    RecentList,
    TargetLookup,
)
from opsconductor_desktop.runtime.receivers.traps_v3 import (
    TrapUser,
    V3Listener,
    engine_id_bytes,
    host_of,
    new_v3_engine,
)

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "0.0.0.0"
DEFAULT_PORT = 162
DEFAULT_COMMUNITIES = ("public",)
DEFAULT_RATE = 2_000.0  # traps/s on average, beyond which traps are dropped (and counted)
DEFAULT_BURST = 5_000.0
# SNMPv3 through pysnmp costs ≈ 2 ms of CPU per trap (30× a v2c trap): its own, lower gate
# keeps a v3 storm from taking the whole event loop
DEFAULT_V3_RATE = 400.0
BATCH = 250  # queued alerts that wake the batcher before its interval
BATCH_INTERVAL = 0.25
# Alerts per call to the sink. The alert manager's loop-thread CPU per submission is about
# 30 ms + 0.1 ms per alert, in stretches of up to ~40 % of it between awaits: smaller
# submissions lower the loop lag, larger ones the cost per alert. 500 keeps up with
# 2,000 traps/s on one core (tests/bench/bench_trap_receiver.py).
SUBMIT_CHUNK = 500
MAX_QUEUE = 20_000
RCVBUF = 4 * 1024 * 1024  # the kernel caps it at net.core.rmem_max
MAX_PACK_BYTES = 1_000_000


# ---- settings and users ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrapSettings:
    """The receiver's settings (keys of the connector's settings mapping).

    ``address`` (default 0.0.0.0), ``port`` (162), ``communities`` (a list or a
    comma-separated text; ``*`` accepts any; default ``public``), ``rate`` and ``burst``
    (the flood gate, traps/s), ``v3_rate`` (a second gate for SNMPv3 messages, default
    400/s), ``engine_id`` (hex; the receiver's SNMPv3 engine id, which inform senders
    discover; default: pysnmp's).
    """

    address: str = DEFAULT_ADDRESS
    port: int = DEFAULT_PORT
    communities: frozenset[bytes] | None = frozenset(c.encode() for c in DEFAULT_COMMUNITIES)
    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST
    v3_rate: float = DEFAULT_V3_RATE
    engine_id: bytes | None = None

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> TrapSettings:
        address = str(settings.get("address") or DEFAULT_ADDRESS).strip().strip("[]")
        port = _number(settings, "port", DEFAULT_PORT, int)
        if not 0 <= port <= 65535:
            raise ValidationError(f"port {port} is not 0-65535", field="port")
        rate = _number(settings, "rate", DEFAULT_RATE, float)
        burst = _number(settings, "burst", DEFAULT_BURST, float)
        v3_rate = _number(settings, "v3_rate", DEFAULT_V3_RATE, float)
        if rate <= 0 or burst < 1 or v3_rate <= 0:
            raise ValidationError("rates must be positive and burst at least 1", field="rate")
        engine_id = settings.get("engine_id")
        return cls(
            address,
            port,
            _communities(settings.get("communities") or DEFAULT_COMMUNITIES),
            rate,
            burst,
            v3_rate,
            engine_id_bytes(engine_id, "engine_id") if engine_id else None,
        )


def _number(settings: Mapping[str, Any], key: str, default: Any, kind: type[Any]) -> Any:
    value = settings.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValidationError(f"{key} must be a number", field=key)
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{key} must be a number, not {value!r}", field=key) from None


def _communities(value: object) -> frozenset[bytes] | None:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        raise ValidationError("communities: a list of community names", field="communities")
    names = [str(item).strip() for item in items if str(item).strip()]
    if "*" in names:
        return None
    return frozenset(name.encode() for name in names)


# ---- rule packs ---------------------------------------------------------------------------------


def _line_index(node: yaml.Node | None) -> LineOf:
    """Where each key of the pack and of each rule is (1-based lines)."""
    top: dict[str, int] = {}
    items: list[tuple[int, dict[str, int]]] = []
    sequence = node if isinstance(node, yaml.SequenceNode) else None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            top[str(key.value)] = key.start_mark.line + 1
            if key.value == "traps" and isinstance(value, yaml.SequenceNode):
                sequence = value
    for item in sequence.value if sequence is not None else []:
        keys = (
            {str(k.value): k.start_mark.line + 1 for k, _ in item.value}
            if isinstance(item, yaml.MappingNode)
            else {}
        )
        items.append((item.start_mark.line + 1, keys))

    def line_of(index: int | None, key: str | None) -> int | None:
        if index is None:
            return top.get(key) if key else None
        if index >= len(items):
            return None
        line, keys = items[index]
        return keys.get(key, line) if key else line

    return line_of


def load_pack_text(text: str, source: str) -> list[TrapRule]:
    """The rules of a YAML trap pack; errors name ``source``, the line and the field."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(f"{where}: YAML error: {problem}") from None
    return parse_pack(data if data is not None else {}, source, _line_index(node))


def load_pack(path: Path) -> list[TrapRule]:
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise ValidationError(f"{path}: {size} bytes is too large for a trap pack")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: not UTF-8 text") from None
    return load_pack_text(text, str(path))


def bundled_packs() -> list[Path]:
    """The rule packs shipped in ``resources/traps/``, in name order."""
    return sorted((paths.resources_dir() / "traps").glob("*.yaml"))


def load_rules(extra: Iterable[Path] = (), *, bundled: bool = True) -> TrapRules:
    """The bundled packs, then ``extra`` ones (whose rules override bundled ones by OID)."""
    packs = [*(bundled_packs() if bundled else []), *extra]
    return TrapRules(rule for path in packs for rule in load_pack(path))


# ---- binding -----------------------------------------------------------------------------------


async def _bind(address: str, port: int) -> socket.socket:
    """A bound UDP socket, or ``OpsError`` saying what the operator can do."""
    where = f"udp {address}:{port}"
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            address, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise OpsError(f"cannot listen for SNMP traps on {where}: {exc.strerror}") from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        raise OpsError(_bind_advice(where, port, exc)) from None
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    return sock


def _bind_advice(where: str, port: int, exc: OSError) -> str:
    head = f"cannot listen for SNMP traps on {where}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{head}: ports below 1024 need privilege. Use a high port such as 1162 (and "
            "send the devices' traps there, or redirect 162 to it in the firewall), or "
            "give the program the CAP_NET_BIND_SERVICE capability"
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{head}: port {port} is already in use (another trap receiver, such as "
            "snmptrapd, or a second console?). Stop it or use another port such as 1162"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{head}: the address is not one of this machine's; use 0.0.0.0 for all"
    return f"{head}: {exc.strerror or exc}"


# ---- the receiver ------------------------------------------------------------------------------


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, receiver: TrapReceiver) -> None:
        self._receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._receiver.datagram(data, addr)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP unreachable after an answer
        log.debug("trap socket: %s", exc)


def _message_version(data: bytes) -> int | None:
    """The SNMP version field of a message (0 v1, 1 v2c, 3 v3), read without decoding it."""
    if len(data) < 5 or data[0] != 0x30:
        return None
    first = data[1]
    pos = 2 + (first & 0x7F if first & 0x80 else 0)
    if pos + 3 > len(data) or data[pos] != 0x02 or data[pos + 1] != 1:
        return None
    return data[pos + 2]


class TrapReceiver:
    """Receives SNMP notifications and submits them as alerts (a ``Receiver``).

    ``settings``: see ``TrapSettings``. ``sink`` stores alert batches (the alert service);
    ``lookup`` maps a sender's address to a target name. ``rules`` defaults to the bundled
    packs; ``users`` are the SNMPv3 users (``TrapUser`` or tuples, see ``TrapUser.of``).
    """

    def __init__(
        self,
        settings: Mapping[str, Any],
        sink: AlertSink,
        lookup: TargetLookup,
        *,
        rules: TrapRules | None = None,
        users: Iterable[TrapUser | Sequence[Any]] = (),
        name: str = "traps",
    ) -> None:
        self.name = name
        self.settings = TrapSettings.parse(settings)
        self.users = tuple(TrapUser.of(user) for user in users)
        self.rules = rules if rules is not None else load_rules()
        self.counters = ReceiverCounters()
        self.recent = RecentList()
        self._sink = sink
        self._lookup = lookup
        self._extra = {"connector": name}
        self._gate = FloodGate(self.settings.rate, self.settings.burst)
        self._v3_gate = FloodGate(self.settings.v3_rate, self.settings.burst)
        self._batcher = self._new_batcher()
        self._transport: asyncio.DatagramTransport | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._v3: V3Listener | None = None
        self._bound: tuple[str, int] = (self.settings.address, self.settings.port)

    def _new_batcher(self) -> AlertBatcher:
        return AlertBatcher(
            self._submit,
            self.counters,
            source=SOURCE,
            max_queue=MAX_QUEUE,
            batch=BATCH,
            interval=BATCH_INTERVAL,
            extra={"connector": self.name},
        )

    async def _submit(self, batch: Sequence[NormalizedAlert]) -> None:
        """Hand a flush to the sink in chunks (see ``SUBMIT_CHUNK``); a chunk the sink
        cannot store is counted as dropped with the rest, as the batcher would."""
        for start in range(0, len(batch), SUBMIT_CHUNK):
            try:
                await self._sink(batch[start : start + SUBMIT_CHUNK])
            except OpsError as exc:
                lost = len(batch) - start
                self.counters.dropped += lost
                self.counters.last_error = f"could not store {lost} alert(s): {exc}"
                log.warning("%s: %s", self.name, self.counters.last_error)
                return

    @property
    def address(self) -> tuple[str, int]:
        """The address and port listened on (the real port when the setting was 0)."""
        return self._bound

    @property
    def listening(self) -> bool:
        return self._transport is not None

    async def start(self) -> None:
        """Bind and listen; ``OpsError`` when the port cannot be bound (with advice)."""
        if self._transport is not None:
            return
        engine = await new_v3_engine(self.settings.engine_id) if self.users else None
        sock = await _bind(self.settings.address, self.settings.port)
        host, port = sock.getsockname()[:2]
        self._bound = (str(host), int(port))
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), sock=sock)
        try:
            if engine is not None:
                self._v3 = V3Listener(engine, self.users, self, transport, sock.family)
        except BaseException:
            transport.close()
            raise
        self._transport = transport
        self._batcher = self._new_batcher()  # a stopped batcher stays closed
        self._flusher = asyncio.create_task(self._batcher.run(), name=f"{self.name}: alerts")
        log.info("%s: listening for SNMP traps on udp %s:%s", self.name, *self._bound)

    async def stop(self) -> None:
        """Close the socket, then store what was received."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        v3, self._v3 = self._v3, None
        if v3 is not None:
            v3.close()
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher

    # -- per datagram ----------------------------------------------------------------------

    def datagram(self, data: bytes, addr: tuple[Any, ...]) -> None:
        """One datagram from ``addr``: counted, gated, decoded, turned into an alert."""
        self.counters.received += 1
        if not self._gate.allow():
            self._batcher.drop()
            return
        version = _message_version(data)
        if version == 3:
            if not self._v3_gate.allow():
                self._batcher.drop()
            elif self._v3 is None:
                self.reject(host_of(addr), "SNMPv3 message, but no SNMPv3 user is configured")
            else:
                self._v3.receive(data, addr)
            return
        if version not in (0, 1):
            what = "not an SNMP message" if version is None else f"SNMP version {version}"
            self.reject(host_of(addr), what)
            return
        self._community(data, addr, "SNMPv1" if version == 0 else "SNMPv2c")

    def _community(self, data: bytes, addr: tuple[Any, ...], label: str) -> None:
        host = host_of(addr)
        try:
            message = decode_notification(data)
        except BerError as exc:
            self.reject(host, f"malformed {label} message: {exc}")
            return
        allowed = self.settings.communities
        if allowed is not None and message.community not in allowed:
            self.reject(host, f"unknown community ({label})")
            return
        try:
            if message.pdu == TRAP_V1:
                trap = trap_from_v1(
                    host,
                    enterprise=message.enterprise,
                    agent_address=message.agent_address,
                    generic=message.generic_trap,
                    specific=message.specific_trap,
                    timestamp=message.timestamp,
                    varbinds=message.varbinds,
                )
            else:
                inform = message.pdu == INFORM
                trap = trap_from_v2(host, "v2c", message.varbinds, inform=inform)
        except TrapFormatError as exc:
            self.reject(host, f"{label}: {exc}")
            return
        if trap.inform and self._transport is not None:
            self._transport.sendto(encode_inform_response(message), addr)
        self.deliver(trap)

    def deliver(self, trap: Trap) -> None:
        """Match ``trap`` to a target and a rule, and queue its alert."""
        target = self._lookup(trap.address)
        agent = trap.agent_address
        if target is None and agent and agent not in (trap.address, "0.0.0.0"):
            target = self._lookup(agent)  # a v1 trap relayed by another host
        alert, rule = self.rules.alert_for(trap, target, self._extra)
        if rule is None:
            self.counters.unknown += 1
            self.recent.add(
                {
                    "at": utcnow().isoformat(),
                    "kind": "unknown",
                    "address": trap.address,
                    "target": target,
                    "version": trap.version,
                    "trap_oid": trap.trap_oid,
                    "varbinds": varbind_details(trap.varbinds),
                }
            )
        else:
            self.counters.matched += 1
        self._batcher.put(alert)

    def reject(self, address: str, reason: str) -> None:
        """Count a datagram that could not be accepted and keep why (never its bytes: a
        community is a secret)."""
        self.counters.rejected += 1
        self.recent.add(
            {"at": utcnow().isoformat(), "kind": "rejected", "address": address, "reason": reason}
        )
