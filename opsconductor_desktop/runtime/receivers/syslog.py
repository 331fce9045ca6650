"""The syslog receiver: UDP and TCP listeners, flood control, rules, alerts.

Every message — a UDP datagram, or a TCP frame (RFC 6587 octet counting or newline
framing, detected per frame) — is counted as received and passes the flood gate (beyond
``rate``/``burst`` it is dropped, counted, and summarized in one alert per flush window).
Then it is cut to ``max_line`` bytes (counted as truncated), parsed (unreadable input is a
counted rejection, kept in ``recent`` with the reason) and matched against the rules: the
first rule that matches raises or clears an alert, submitted in batches to the one alert
manager; a message no rule matches is counted as unknown and kept in ``recent`` — never
alerted. While many alerts wait for the database, TCP senders are held back (reading
pauses: TCP flow control) rather than their lines dropped; UDP cannot be held back.

Alerts have the source ``syslog`` (the flood summary too) and carry the connector's name
in their details (``connector``), so that an estate with two syslog connectors still sees
one alert per problem. The sender's address gives the target (``lookup``); failing that,
the message's hostname when it names a target (``name_lookup``). Without a target, the
alert's key ends in ``@<hostname or address>``.

Settings (all optional; ``SyslogSettings.parse`` validates them, ignoring keys it does
not know): ``address`` (``0.0.0.0``), ``port`` (514; 0 picks a free one, the same for UDP
and TCP), ``protocols`` (``[udp, tcp]``; or ``protocol``: ``udp``, ``tcp`` or ``both``),
``rate`` (2000 messages/s) and ``burst`` (5000) for the flood gate, ``max_line`` (8192
bytes), ``max_connections`` (256 TCP connections), ``idle_timeout`` (900 s without data
closes a TCP connection), ``timezone`` (the IANA zone of timestamps sent without one;
default this machine's), ``rules`` (a bundled rule pack's name, ``default``, or a rule
pack file).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from opsconductor_desktop import paths
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.syslog import (
    MAX_LINE,
    FramingError,
    StreamFramer,
    SyslogParseError,
    SyslogRule,
    evaluate,
    parse,
    parse_rule,
    summary_of,
)
from opsconductor_desktop.domain.syslog.rules import SOURCE as SYSLOG_SOURCE
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.receivers.base import (
    AlertBatcher,
    AlertSink,
    FloodGate,
    ReceiverCounters,
    RecentList,
    TargetLookup,
)
from opsconductor_desktop.runtime.waiting import wait_event

log = logging.getLogger(__name__)

PROTOCOLS = ("udp", "tcp")
HIGH_PORT = 5514  # what a bind failure suggests
MAX_RULES_BYTES = 1 << 20
TURN = 0.002  # seconds of TCP frames handled before the loop gets a turn (≥ one frame)
BATCH = 250  # queued alerts that wake the flush before its interval (small: short DB turns)
BATCH_INTERVAL = 0.25
MAX_QUEUE = 20_000  # alerts waiting for the database; beyond, they are dropped and counted
BACKLOG = 4 * BATCH  # TCP senders wait (reading pauses) while this many alerts queue
BACKLOG_RETRY = 0.05
STOP_TIMEOUT = 30.0  # seconds stop() waits for the last alerts to be stored
BIND_ATTEMPTS = 5  # with port 0: tries at one free port for both UDP and TCP
UDP_RCVBUF = 4 << 20  # room for bursts while the loop is busy (the kernel may cap it)


@dataclass
class SyslogCounters(ReceiverCounters):
    """The shared counters, and lines cut to ``max_line``."""

    truncated: int = 0


# ---- settings and rule packs -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyslogSettings:
    """The receiver's validated settings (see the module docstring)."""

    address: str = "0.0.0.0"  # a receiver listens for the estate's devices
    port: int = 514
    protocols: tuple[str, ...] = PROTOCOLS
    rate: float = 2000.0
    burst: float = 5000.0
    max_line: int = MAX_LINE
    max_connections: int = 256
    idle_timeout: float = 900.0
    timezone: tzinfo | None = None
    rules: str = "default"

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> SyslogSettings:
        """Validated settings; keys it does not know are ignored (a connector manifest may
        carry more), ``ValidationError`` names the key of a bad value."""
        given = {k: v for k, v in settings.items() if v is not None and v != ""}
        base = cls()
        key = "protocols" if "protocols" in given else "protocol"
        protocols = given.get(key, base.protocols)
        if isinstance(protocols, str):
            protocols = PROTOCOLS if protocols.strip().lower() == "both" else protocols.split(",")
        if not isinstance(protocols, list | tuple):
            protocols = [protocols]
        protocols = tuple(dict.fromkeys(str(p).strip().lower() for p in protocols))
        if not protocols or set(protocols) - set(PROTOCOLS):
            raise ValidationError(f"syslog: {key}: udp, tcp or both", field=key)
        return cls(
            address=str(given.get("address", base.address)).strip(),
            port=_number(given, "port", base.port, int, 0, 65535),
            protocols=protocols,
            rate=_number(given, "rate", base.rate, float, 0.001, 1e9),
            burst=_number(given, "burst", base.burst, float, 1, 1e9),
            max_line=_number(given, "max_line", base.max_line, int, 480, 1 << 20),
            max_connections=_number(given, "max_connections", base.max_connections, int, 1, 65535),
            idle_timeout=_number(given, "idle_timeout", base.idle_timeout, float, 1, 1e7),
            timezone=_zone(given.get("timezone")),
            rules=str(given.get("rules", base.rules)),
        )


def _number(
    given: Mapping[str, Any], key: str, default: Any, kind: Any, low: Any, high: Any
) -> Any:
    value = given.get(key, default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValidationError(f"syslog: {key}: not a number: {value!r}", field=key) from None
    if not low <= number <= high or isinstance(value, bool):
        raise ValidationError(f"syslog: {key}: {value!r} is not in {low}..{high}", field=key)
    return number


def _zone(name: Any) -> tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"syslog: timezone: unknown zone {name!r} (an IANA name such as Europe/Paris)",
            field="timezone",
        ) from None


def rule_pack_path(pack: str = "default") -> Path:
    """The file of a bundled rule pack (``resources/syslog/<pack>.yaml``)."""
    return paths.resources_dir() / "syslog" / f"{pack}.yaml"


def bundled_rules(pack: str = "default") -> list[SyslogRule]:
    return load_rules(rule_pack_path(pack))


def load_rules(source: Path | str, *, name: str | None = None) -> list[SyslogRule]:
    """Validated rules of a rule pack: a ``Path`` is read as a file, a ``str`` is the YAML
    text itself (``name`` says where it came from in messages).

    A pack is a list of rules, or a mapping with ``rules`` (and an optional
    ``description``). Every problem raises ``ValidationError`` naming the file, the line
    and the field.
    """
    if isinstance(source, Path):
        where = name or str(source)
        try:
            if source.stat().st_size > MAX_RULES_BYTES:
                raise ValidationError(f"{where}: too large for a rule pack")
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ValidationError(f"{where}: cannot read the rule pack: {reason}") from None
    else:
        where, text = name or "<rules>", source
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark is not None else where
        raise ValidationError(f"{at}: YAML error: {getattr(exc, 'problem', None) or exc}") from None
    items, item_nodes = _rule_items(data, node, where)
    rules: list[SyslogRule] = []
    for i, item in enumerate(items):
        lines = _field_lines(item_nodes[i] if i < len(item_nodes) else None)
        try:
            rule = parse_rule(item)
        except ValidationError as exc:
            line = lines.get(exc.field or "", lines.get("", 0))
            label = f" ({item['name']})" if isinstance(item, Mapping) and "name" in item else ""
            raise ValidationError(
                f"{where}:{line}: rules[{i}]{label}: {exc}", field=exc.field
            ) from None
        if any(r.name == rule.name for r in rules):
            raise ValidationError(
                f"{where}:{lines.get('name', 0)}: rules[{i}]: duplicate rule name {rule.name!r}",
                field="name",
            )
        rules.append(rule)
    return rules


def _rule_items(data: Any, node: Any, where: str) -> tuple[list[Any], list[Any]]:
    if data is None:
        return [], []
    if isinstance(data, Mapping):
        unknown = sorted(set(map(str, data)) - {"rules", "description"})
        if unknown:
            raise ValidationError(
                f"{where}: unknown key(s) {', '.join(unknown)}; a rule pack has rules "
                "(and a description)"
            )
        data = data.get("rules") or []
        node = next((v for k, v in node.value if k.value == "rules"), None)
    if not isinstance(data, list):
        raise ValidationError(f"{where}: rules must be a list of rules")
    return data, list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _field_lines(node: Any) -> dict[str, int]:
    """Line (1-based) of a rule, under ``""``, and of each of its fields."""
    if node is None:
        return {}
    lines = {"": node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[str(key.value)] = value.start_mark.line + 1
    return lines


def bind_error(protocol: str, address: str, port: int, exc: OSError) -> str:
    """What an operator reads when a listener cannot bind, with what to do about it."""
    where = f"cannot listen for syslog on {protocol.upper()} {address}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{where}: the port is in use by another program (often the system's own syslog "
            f"daemon on 514); stop it, or set another port such as {HIGH_PORT} and send the "
            "devices' syslog there"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{where}: permission denied — ports below 1024 need privilege (run with the "
            "CAP_NET_BIND_SERVICE capability, e.g. setcap 'cap_net_bind_service=+ep' on the "
            f"Python executable); or set a high port such as {HIGH_PORT} (and redirect 514 "
            "to it in the firewall if the devices cannot be changed)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{where}: the address is not one of this machine's; use 0.0.0.0 for all"
    return f"{where}: {exc.strerror or exc}"


# ---- the receiver --------------------------------------------------------------------------------


class SyslogReceiver:
    """Listens for syslog over UDP and/or TCP and turns messages into alerts (see the
    module docstring). Implements the ``Receiver`` protocol of ``base``."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        sink: AlertSink,
        lookup: TargetLookup,
        *,
        rules: Sequence[SyslogRule] | None = None,
        name: str = "syslog",
        name_lookup: TargetLookup | None = None,
    ) -> None:
        self.settings = SyslogSettings.parse(settings)
        self.name = name
        self.rules: tuple[SyslogRule, ...] = tuple(
            rules if rules is not None else self._pack_rules(self.settings.rules)
        )
        self.counters = SyslogCounters()
        self.recent = RecentList()
        #: where it listens once started: {"udp": (host, port), "tcp": (host, port)}
        self.addresses: dict[str, tuple[str, int]] = {}
        self._sink = sink
        self._lookup = lookup
        self._name_lookup = name_lookup
        self._extra = {"connector": name}
        self._gate = FloodGate(self.settings.rate, self.settings.burst)
        self._batcher = AlertBatcher(
            sink,
            self.counters,
            source=SYSLOG_SOURCE,
            max_queue=MAX_QUEUE,
            batch=BATCH,
            interval=BATCH_INTERVAL,
            extra={"connector": self.name},
        )
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_TcpConnection] = set()
        self._queued = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    @staticmethod
    def _pack_rules(pack: str) -> list[SyslogRule]:
        if "/" in pack or "\\" in pack or pack.endswith((".yaml", ".yml")):
            return load_rules(Path(pack).expanduser())
        path = rule_pack_path(pack)
        if not path.is_file():
            raise ValidationError(f"syslog: rules: no bundled rule pack {pack!r}", field="rules")
        return load_rules(path)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the listeners and start submitting; ``OpsError`` when a port cannot be bound."""
        if self._flusher is not None:
            raise RuntimeError("the syslog receiver is already running")
        self._stopping.clear()
        for attempt in range(BIND_ATTEMPTS):
            try:
                await self._bind()
                break
            except OSError as exc:
                protocol = "tcp" if "tcp" in self.settings.protocols and not self._server else "udp"
                await self._close_listeners()
                # port 0: UDP may be taken on the free port TCP got; pick another pair
                again = self.settings.port == 0 and exc.errno == errno.EADDRINUSE
                if again and attempt + 1 < BIND_ATTEMPTS:
                    continue
                message = bind_error(protocol, self.settings.address, self.settings.port, exc)
                self.counters.last_error = message
                raise OpsError(message) from exc
        self._flusher = asyncio.create_task(self._flush_loop(), name=f"syslog {self.name} flush")
        self._flusher.add_done_callback(self._flusher_done)
        log.info("syslog %s listening on %s", self.name, self.addresses)

    async def stop(self) -> None:
        """Close the listeners and connections, then submit what is queued."""
        await self._close_listeners()
        task, self._flusher = self._flusher, None
        if task is None:
            return
        self._stopping.set()
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT)  # (never raises its error)
        if not done:  # the database hangs: give up on the last batch, say so
            task.cancel()
            await asyncio.wait({task})
            self.counters.last_error = "stopped before the last alerts could be stored"
            log.warning("syslog %s: %s", self.name, self.counters.last_error)

    async def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.settings.address, self.settings.port
        if "tcp" in self.settings.protocols:
            self._server = await loop.create_server(
                lambda: _TcpConnection(self), host, port, backlog=128
            )
            sock = self._server.sockets[0].getsockname()
            self.addresses["tcp"] = (sock[0], sock[1])
            port = port or sock[1]  # port 0: UDP on the same free port as TCP
        if "udp" in self.settings.protocols:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(host, port)
            )
            self._udp = transport
            raw = transport.get_extra_info("socket")
            with contextlib.suppress(OSError):
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF)
            sock = raw.getsockname()
            self.addresses["udp"] = (sock[0], sock[1])

    async def _close_listeners(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for connection in list(self._connections):
                connection.abort()
            await server.wait_closed()
        self.addresses.clear()

    async def _flush_loop(self) -> None:
        """Submit every ``interval`` (or when a batch is full) until stopped; a last flush.

        Driven here rather than by ``AlertBatcher.run`` so that stopping never cancels a
        batch in the middle of its transaction.
        """
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self._sweep_every
        while not self._stopping.is_set():
            await wait_event(self._wake, self._batcher.interval)
            self._wake.clear()
            self._queued = 0
            await self._batcher.flush()
            if loop.time() >= next_sweep:
                self._close_idle(loop.time())
                next_sweep = loop.time() + self._sweep_every
        await self._batcher.flush()

    def _flusher_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.counters.last_error = f"alerts are no longer submitted: {exc!r}"
            log.error("syslog %s: submitting stopped", self.name, exc_info=exc)

    @property
    def _sweep_every(self) -> float:
        return min(60.0, self.settings.idle_timeout / 2)

    def _close_idle(self, now: float) -> None:
        for connection in list(self._connections):
            if now - connection.last_data > self.settings.idle_timeout:
                connection.abort()

    # ---- messages ----------------------------------------------------------------------------

    def handle(self, data: bytes, address: str, *, truncated: bool = False) -> None:
        """One message from ``address`` (see the module docstring). Never raises on input."""
        counters = self.counters
        counters.received += 1
        if not self._gate.allow():
            self._batcher.drop()
            return
        if len(data) > self.settings.max_line:
            data, truncated = data[: self.settings.max_line], True
        if truncated:
            counters.truncated += 1
        try:
            msg = parse(data, now=utcnow(), tz=self.settings.timezone)
        except SyslogParseError as exc:
            self.reject(str(exc), address)
            return
        target = self._lookup(address)
        if target is None and msg.hostname and self._name_lookup is not None:
            target = self._name_lookup(msg.hostname)
        alert = evaluate(self.rules, msg, address=address, target=target, extra=self._extra)
        if alert is None:
            counters.unknown += 1
            item = summary_of(msg, address, (("status", "unknown"), ("target", target)))
            item["received_at"] = utcnow().isoformat()
            self.recent.add(item)
            return
        counters.matched += 1
        self._batcher.put(alert)
        self._queued += 1
        if self._queued >= self._batcher.batch:
            self._wake.set()

    @property
    def backlogged(self) -> bool:
        """Alerts wait for the database: TCP senders are held back (UDP ones cannot be)."""
        flusher = self._flusher
        return self._queued >= BACKLOG and flusher is not None and not flusher.done()

    def reject(self, reason: str, address: str) -> None:
        """Count input that cannot be read (or a refused connection) and keep the reason."""
        self.counters.rejected += 1
        self.recent.add(
            {
                "status": "rejected",
                "address": address,
                "error": reason,
                "received_at": utcnow().isoformat(),
            }
        )


def _peer(addr: Any) -> str:
    host = str(addr[0]) if isinstance(addr, tuple) and addr else "?"
    return host.removeprefix("::ffff:")  # an IPv4 sender on a dual-stack socket


class _Udp(asyncio.DatagramProtocol):
    """One datagram, one message (RFC 5426)."""

    def __init__(self, receiver: SyslogReceiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.receiver.handle(data, _peer(addr))

    def error_received(self, exc: Exception) -> None:
        self.receiver.counters.last_error = f"UDP: {exc}"


class _TcpConnection(asyncio.Protocol):
    """One sender's TCP stream: framed, at most ``TURN`` seconds of frames per loop turn;
    reading pauses while the receiver is backlogged (the sender's TCP window fills)."""

    def __init__(self, receiver: SyslogReceiver) -> None:
        self.receiver = receiver
        self.framer = StreamFramer(receiver.settings.max_line)
        self.address = "?"
        self.last_data = 0.0
        self._transport: asyncio.Transport | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.address = _peer(transport.get_extra_info("peername"))
        self.last_data = asyncio.get_running_loop().time()
        receiver = self.receiver
        limit = receiver.settings.max_connections
        if len(receiver._connections) >= limit:
            receiver.reject(f"TCP connection refused: {limit} connections open", self.address)
            receiver.counters.last_error = (
                f"refused a TCP connection from {self.address}: {limit} are open "
                "(the max_connections setting)"
            )
            transport.abort()
            return
        receiver._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.receiver._connections.discard(self)
        self._transport = None

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def eof_received(self) -> bool | None:
        """The sender is done: its last line may lack the newline."""
        try:
            frame = self.framer.close()
        except FramingError as exc:
            self.receiver.reject(f"TCP stream: {exc}", self.address)
            return None
        if frame is not None:
            self.receiver.handle(frame.data, self.address, truncated=frame.truncated)
        return None  # close the connection

    def data_received(self, data: bytes) -> None:
        self.last_data = asyncio.get_running_loop().time()
        self.framer.feed(data)
        if not self._paused:
            self._drain()

    def _drain(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        loop = asyncio.get_running_loop()
        if self.receiver.backlogged:  # TCP flow control instead of dropping
            self._pause(transport)
            loop.call_later(BACKLOG_RETRY, self._drain)
            return
        until = time.perf_counter() + TURN
        while True:
            try:
                frame = self.framer.next()
            except FramingError as exc:
                self.receiver.reject(f"TCP stream closed: {exc}", self.address)
                transport.abort()
                return
            if frame is None:
                if self._paused:
                    self._paused = False
                    transport.resume_reading()
                return
            self.receiver.handle(frame.data, self.address, truncated=frame.truncated)
            if time.perf_counter() >= until:
                break
        self._pause(transport)  # more waits: let the loop breathe, then go on
        loop.call_soon(self._drain)

    def _pause(self, transport: asyncio.Transport) -> None:
        if not self._paused:
            self._paused = True
            transport.pause_reading()
