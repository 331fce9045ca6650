"""SNMPv3 notifications through pysnmp, behind the trap receiver's socket.

pysnmp's ``SnmpEngine`` does the User-based Security Model (authentication, privacy, time
windows, engine-id discovery for informs) and its ``NotificationReceiver``
(``pysnmp.entity.rfc3413.ntfrcv``) answers informs; the reports and responses it writes go
out through the receiver's own UDP socket (a pysnmp transport adapter wraps it).

A v3 *trap* is authenticated with keys localized to the sender's engine id (RFC 3414): a
user given with ``engine_id`` accepts traps from that engine only; a user without one
learns each sender's engine id from its first trap (a bounded table; the message must
still authenticate with the user's keys). Informs are checked against the receiver's own
engine id, which the sender discovers.

pysnmp is imported only here, lazily (≈ 0.3 s, in a worker thread: ``new_v3_engine``).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import VarBind
from opsconductor_desktop.domain.traps import Trap, TrapFormatError, trap_from_v2

log = logging.getLogger(__name__)

LEARNED_ENGINES = 4_096  # (user, sender engine id) pairs learned from v3 traps
AUTH_PROTOCOLS = ("none", "md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV_PROTOCOLS = ("none", "des", "3des", "aes", "aes128", "aes192", "aes256")


class Delivery(Protocol):
    """What the listener reports to: the trap receiver."""

    def deliver(self, trap: Trap) -> None: ...

    def reject(self, address: str, reason: str) -> None: ...


def host_of(addr: tuple[Any, ...]) -> str:
    """The sender's address as targets are written (an IPv4-mapped IPv6 address unmapped)."""
    host = str(addr[0])
    return host[7:] if host.startswith("::ffff:") and "." in host else host


def engine_id_bytes(value: object, where: str) -> bytes:
    """An SNMP engine id from hex text (``0x…``, colons allowed) or bytes, checked."""
    if isinstance(value, bytes):
        raw = value
    else:
        text = str(value).strip().lower().removeprefix("0x").replace(":", "")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise ValidationError(f"{where}: {value!r} is not hexadecimal", field=where) from None
    if not 5 <= len(raw) <= 32:
        raise ValidationError(f"{where}: an engine id is 5 to 32 octets", field=where)
    return raw


@dataclass(frozen=True, slots=True)
class TrapUser:
    """An SNMPv3 user whose notifications are accepted.

    ``engine_id`` (hex or bytes) pins the sender's engine for traps; None accepts traps
    from any engine whose messages authenticate with these keys (learned per engine).
    Informs are always checked against the receiver's own engine id.
    """

    name: str
    auth_protocol: str = "none"
    auth_key: str | None = None
    priv_protocol: str = "none"
    priv_key: str | None = None
    engine_id: bytes | None = None

    @classmethod
    def of(cls, value: TrapUser | Sequence[Any]) -> TrapUser:
        """From a ``TrapUser`` or a tuple (user, auth protocol, auth key, priv protocol,
        priv key[, engine id]); protocols and keys are checked."""
        if isinstance(value, TrapUser):
            user = value
        else:
            fields = list(value)
            if not 5 <= len(fields) <= 6:
                raise ValidationError(
                    "an SNMPv3 user is (user, auth protocol, auth key, priv protocol, "
                    "priv key[, engine id])",
                    field="users",
                )
            engine = fields[5] if len(fields) == 6 else None
            user = cls(
                str(fields[0]),
                str(fields[1] or "none"),
                str(fields[2]) if fields[2] else None,
                str(fields[3] or "none"),
                str(fields[4]) if fields[4] else None,
                engine_id_bytes(engine, "engine_id") if engine else None,
            )
        return user._checked()

    def _checked(self) -> TrapUser:
        auth, priv = self.auth_protocol.lower(), self.priv_protocol.lower()
        who = f"SNMPv3 user {self.name!r}"
        if not self.name:
            raise ValidationError("an SNMPv3 user needs a name", field="users")
        if auth not in AUTH_PROTOCOLS:
            raise ValidationError(
                f"{who}: auth protocol {self.auth_protocol!r} is not one of "
                f"{', '.join(AUTH_PROTOCOLS)}",
                field="users",
            )
        if priv not in PRIV_PROTOCOLS:
            raise ValidationError(
                f"{who}: privacy protocol {self.priv_protocol!r} is not one of "
                f"{', '.join(PRIV_PROTOCOLS)}",
                field="users",
            )
        if priv != "none" and auth == "none":
            raise ValidationError(f"{who}: privacy needs authentication too", field="users")
        for proto, key, what in ((auth, self.auth_key, "auth"), (priv, self.priv_key, "priv")):
            if proto != "none" and (not key or len(key) < 8):
                raise ValidationError(
                    f"{who}: the {what} key needs 8 characters or more", field="users"
                )
        engine = engine_id_bytes(self.engine_id, "engine_id") if self.engine_id else None
        return TrapUser(self.name, auth, self.auth_key, priv, self.priv_key, engine)


async def new_v3_engine(engine_id: bytes | None) -> Any:
    """A pysnmp engine, built with its imports in a worker thread (≈ 0.3 s the first time)."""

    def build() -> Any:
        engine_module = importlib.import_module("pysnmp.entity.engine")
        importlib.import_module("pysnmp.entity.rfc3413.ntfrcv")
        importlib.import_module("opsconductor_desktop.drivers.snmp_stack")
        if engine_id is None:
            return engine_module.SnmpEngine()
        univ = importlib.import_module("pyasn1.type.univ")
        return engine_module.SnmpEngine(snmpEngineID=univ.OctetString(engine_id))

    return await asyncio.to_thread(build)


class V3Listener:
    """pysnmp's engine, USM users and notification receiver behind the shared socket.

    Datagrams are handed to the engine's message dispatcher synchronously, so each one's
    fate (a notification, a security failure, a discovery exchange) is known on return.
    """

    def __init__(
        self,
        engine: Any,
        users: Sequence[TrapUser],
        receiver: Delivery,
        transport: asyncio.DatagramTransport,
        family: int,
    ) -> None:
        from pysnmp.carrier.asyncio.dgram import udp, udp6
        from pysnmp.entity import config
        from pysnmp.entity.rfc3413 import ntfrcv

        self.engine = engine
        self.receiver = receiver
        six = family == socket.AF_INET6
        self.domain = tuple(udp6.DOMAIN_NAME if six else udp.DOMAIN_NAME)
        # pysnmp writes reports and inform responses through this adapter to our socket
        self.adapter = (udp6.Udp6AsyncioTransport if six else udp.UdpAsyncioTransport)(
            loop=asyncio.get_running_loop()
        )
        self.adapter.connection_made(transport)
        config.add_transport(engine, self.domain, self.adapter)
        self.users = {user.name.encode(): user for user in users}
        self._master: dict[bytes, tuple[Any, Any]] = {}
        self._learned: OrderedDict[tuple[bytes, bytes], None] = OrderedDict()
        for user in users:
            self._add_user(user, None)  # informs: our own engine id
            if user.engine_id is not None:
                self._add_user(user, user.engine_id)
        self._request: dict[str, Any] = {}
        self._failure: dict[str, Any] = {}
        self._delivered = False
        self._address: tuple[Any, ...] = ("", 0)
        self.notifications = ntfrcv.NotificationReceiver(engine, self._notification)
        engine.observer.register_observer(self._on_request, "rfc3412.receiveMessage:request")
        engine.observer.register_observer(
            self._on_failure, "rfc3412.prepareDataElements:sm-failure"
        )

    def close(self) -> None:
        self.engine.observer.unregister_observer(self._on_request)
        self.engine.observer.unregister_observer(self._on_failure)
        self.notifications.close(self.engine)
        self.adapter.transport = None  # the receiver closes its socket itself
        self.engine.close_dispatcher()

    # -- users --------------------------------------------------------------------------------

    def _add_user(self, user: TrapUser, engine_id: bytes | None) -> None:
        from pysnmp.entity import config
        from pysnmp.proto import rfc1902

        auth, priv = _protocols(user)
        auth_key, priv_key = self._master_keys(user, auth, priv)
        config.add_v3_user(
            self.engine,
            user.name,
            auth,
            auth_key,
            priv,
            priv_key,
            securityEngineId=rfc1902.OctetString(engine_id) if engine_id else None,
            authKeyType=config.USM_KEY_TYPE_MASTER,
            privKeyType=config.USM_KEY_TYPE_MASTER,
        )

    def _master_keys(self, user: TrapUser, auth: Any, priv: Any) -> tuple[Any, Any]:
        """The keys hashed from the pass phrases once (≈ 1 MB of hashing each), then only
        localized per engine."""
        from pysnmp.entity import config

        name = user.name.encode()
        if name not in self._master:
            auth_key = (
                config.AUTH_SERVICES[auth].hash_passphrase(user.auth_key.encode())
                if user.auth_key and user.auth_protocol != "none"
                else None
            )
            priv_key = (
                config.PRIV_SERVICES[priv].hash_passphrase(auth, user.priv_key.encode())
                if user.priv_key and user.priv_protocol != "none"
                else None
            )
            self._master[name] = (auth_key, priv_key)
        return self._master[name]

    def _learn(self, user: TrapUser, engine_id: bytes) -> None:
        from pysnmp.entity import config
        from pysnmp.proto import rfc1902

        key = (user.name.encode(), engine_id)
        self._learned[key] = None
        while len(self._learned) > LEARNED_ENGINES:
            (name, old), _ = self._learned.popitem(last=False)
            config.delete_v3_user(
                self.engine, name.decode(), securityEngineId=rfc1902.OctetString(old)
            )
        self._add_user(user, engine_id)
        log.info("SNMPv3 user %s: accepting traps from engine %s", user.name, engine_id.hex())

    # -- datagrams ----------------------------------------------------------------------------

    def receive(self, data: bytes, addr: tuple[Any, ...]) -> None:
        outcome = self._dispatch(data, addr)
        if outcome == "unknown-user":
            learnable = self._learnable()
            if learnable is not None:
                self._learn(*learnable)
                outcome = self._dispatch(data, addr)
        if outcome in ("delivered", "discovery"):
            return
        if outcome == "unknown-user":
            outcome = f"SNMPv3: {self._unknown_user()}"
        self.receiver.reject(host_of(addr), outcome)

    def _unknown_user(self) -> str:
        status = self._failure.get("statusInformation")
        name = bytes(status.get("msgUserName") or b"") if status is not None else b""
        user = self.users.get(name)
        text = name.decode(errors="replace")
        if user is not None and user.engine_id is not None:
            return f"user {text!r} is accepted from engine {user.engine_id.hex()} only"
        return f"unknown user {text!r}"

    def _dispatch(self, data: bytes, addr: tuple[Any, ...]) -> str:
        """Run one message through pysnmp: "delivered", "discovery", "unknown-user" or
        the reason for a rejection."""
        from pyasn1.error import PyAsn1Error
        from pysnmp.error import PySnmpError
        from pysnmp.proto import errind

        self._delivered, self._failure, self._request = False, {}, {}
        self._address = addr
        try:
            self.engine.message_dispatcher.receive_message(self.engine, self.domain, addr, data)
        except (PySnmpError, PyAsn1Error, ValueError, TypeError, KeyError, IndexError) as exc:
            # untrusted bytes deep in pysnmp: whatever it could not handle is a rejection
            log.debug("SNMPv3 message from %s: %r", host_of(addr), exc)
            return f"malformed SNMPv3 message ({type(exc).__name__})"
        if self._delivered:
            return "delivered"
        status = self._failure.get("statusInformation")
        indication = status.get("errorIndication") if status is not None else None
        if indication is None:
            return "malformed or unsupported SNMPv3 message"
        if isinstance(indication, errind.UnknownEngineID):
            return "discovery"  # a sender learning our engine id (pysnmp reported it)
        if isinstance(indication, errind.UnknownSecurityName):
            return "unknown-user"
        return f"SNMPv3: {_V3_REASONS.get(type(indication).__name__, str(indication))}"

    def _learnable(self) -> tuple[TrapUser, bytes] | None:
        """(user, sender engine id) when an unknown-user failure names a user of ours with
        no pinned engine id, from an engine not learned yet."""
        from pyasn1.codec.ber import decoder
        from pyasn1.error import PyAsn1Error
        from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

        status = self._failure.get("statusInformation")
        name = bytes(status.get("msgUserName") or b"") if status is not None else b""
        user = self.users.get(name)
        if user is None or user.engine_id is not None:
            return None
        try:
            params, _ = decoder.decode(
                bytes(self._failure["securityParameters"]), asn1Spec=UsmSecurityParameters()
            )
        except (PyAsn1Error, KeyError, TypeError):
            return None
        engine_id = bytes(params[0])
        if not 5 <= len(engine_id) <= 32 or (name, engine_id) in self._learned:
            return None
        return user, engine_id

    def _on_request(
        self, snmpEngine: Any, execpoint: str, variables: dict[str, Any], cbCtx: Any
    ) -> None:
        self._request = variables

    def _on_failure(
        self, snmpEngine: Any, execpoint: str, variables: dict[str, Any], cbCtx: Any
    ) -> None:
        self._failure = dict(variables)

    def _notification(
        self,
        snmpEngine: Any,
        stateReference: Any,
        contextEngineId: Any,
        contextName: Any,
        varBinds: Any,
        cbCtx: Any,
    ) -> None:
        from pysnmp.proto.api import v2c

        from opsconductor_desktop.drivers.snmp_stack import to_varbind

        self._delivered = True
        host = host_of(self._address)
        pdu = self._request.get("pdu")
        inform = pdu is not None and pdu.tagSet == v2c.InformRequestPDU.tagSet
        user = bytes(self._request.get("securityName") or b"").decode(errors="replace")
        varbinds: list[VarBind] = [to_varbind(oid, value) for oid, value in varBinds]
        try:
            trap = trap_from_v2(host, "v3", varbinds, user=user, inform=inform)
        except TrapFormatError as exc:
            self.receiver.reject(host, f"SNMPv3: {exc}")
            return
        self.receiver.deliver(trap)


_V3_REASONS = {
    "WrongDigest": "wrong digest (auth key or protocol)",
    "DecryptionError": "decryption error (privacy key or protocol)",
    "UnsupportedSecurityLevel": "security level not supported for this user",
    "NotInTimeWindow": "not in time window (a replay, or the sender's clock is off)",
    "UnknownSecurityName": "unknown user",
    "AuthenticationFailure": "authentication failure",
    "UnsupportedSecurityModel": "unsupported security model",
    "InvalidMsg": "invalid message",
}


def _protocols(user: TrapUser) -> tuple[Any, Any]:
    from pysnmp.entity import config

    auth = {
        "none": config.USM_AUTH_NONE,
        "md5": config.USM_AUTH_HMAC96_MD5,
        "sha": config.USM_AUTH_HMAC96_SHA,
        "sha224": config.USM_AUTH_HMAC128_SHA224,
        "sha256": config.USM_AUTH_HMAC192_SHA256,
        "sha384": config.USM_AUTH_HMAC256_SHA384,
        "sha512": config.USM_AUTH_HMAC384_SHA512,
    }[user.auth_protocol]
    priv = {
        "none": config.USM_PRIV_NONE,
        "des": config.USM_PRIV_CBC56_DES,
        "3des": config.USM_PRIV_CBC168_3DES,
        "aes": config.USM_PRIV_CFB128_AES,
        "aes128": config.USM_PRIV_CFB128_AES,
        "aes192": config.USM_PRIV_CFB192_AES,
        "aes256": config.USM_PRIV_CFB256_AES,
    }[user.priv_protocol]
    return auth, priv
