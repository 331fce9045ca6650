"""The pysnmp glue under ``SnmpDriver``: one engine, one UDP socket, no per-target config.

pysnmp's high-level API registers every (target, credential) pair in the engine's local
configuration datastore (SNMP-TARGET-MIB and SNMP-COMMUNITY-MIB rows), and its security
models rebuild lookup maps by walking those tables whenever a row is added: a sweep of N
new targets costs O(N²) (FIELD-NOTES: 52.9 s for 1,000 targets). This module talks to
the engine's RFC 3412 message dispatcher directly instead, so a target costs nothing to
"register":

* v1/v2c never reach pysnmp's dispatcher: ``_CommunityClient`` encodes the request and
  decodes the answer with ``snmp_ber`` on its own UDP socket (per address family),
  matching answers by request-id and community. pyasn1's generic codec cost ≈ 1 ms of CPU
  per 5-OID GET, half of all the driver spent (``tests/bench/bench_snmp_sweep.py``);
* transport (v3): one UDP (and, on demand, one UDP/IPv6) socket per engine; the
  destination address travels with each request;
* v1/v2c: a bounded dictionary of the communities in use (community → security name),
  never MIB rows; pysnmp's community security models look communities up there too;
* v3: one USM user row per user name (pysnmp's USM clones it per remote engine, as the
  protocol requires a key localized per engine); the user lookup is replaced by a direct
  row check so it does not walk the whole user table on every new engine.

Importing this module imports pysnmp (≈ 0.26 s): ``drivers.snmp`` imports it lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import socket
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.error import PyAsn1Error
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.api import v2c
from pysnmp.proto.error import StatusInformation
from pysnmp.proto.proxy import rfc2576 as proxy
from pysnmp.proto.secmod.rfc2576 import SnmpV1SecurityModel, SnmpV2cSecurityModel
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel
from pysnmp.smi.error import NoSuchInstanceError

from opsconductor_desktop.domain.results import (
    SnmpAuthError,
    SnmpEndpoint,
    SnmpError,
    SnmpTimeout,
    SnmpValue,
    VarBind,
)
from opsconductor_desktop.drivers.snmp_ber import BerError, DecodedResponse, decode_response
from opsconductor_desktop.drivers.snmp_ber import encode_request as ber_request

log = logging.getLogger(__name__)

PduKind = Literal["get", "next", "bulk", "set"]
Oid = tuple[int, ...]

_AUTH = {
    "none": config.USM_AUTH_NONE,
    "md5": config.USM_AUTH_HMAC96_MD5,
    "sha": config.USM_AUTH_HMAC96_SHA,
    "sha224": config.USM_AUTH_HMAC128_SHA224,
    "sha256": config.USM_AUTH_HMAC192_SHA256,
    "sha384": config.USM_AUTH_HMAC256_SHA384,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    "none": config.USM_PRIV_NONE,
    "des": config.USM_PRIV_CBC56_DES,
    "3des": config.USM_PRIV_CBC168_3DES,
    "aes": config.USM_PRIV_CFB128_AES,
    "aes128": config.USM_PRIV_CFB128_AES,
    "aes192": config.USM_PRIV_CFB192_AES,
    "aes256": config.USM_PRIV_CFB256_AES,
}
_SECURITY_LEVEL = {"noAuthNoPriv": 1, "authNoPriv": 2, "authPriv": 3}
# USM reports that mean "these credentials are wrong" (RFC 3414 usmStats*).
_AUTH_FAILURES: dict[type, str] = {
    errind.UnknownUserName: "unknown user name",
    errind.WrongDigest: "wrong digest (auth key or protocol)",
    errind.DecryptionError: "decryption error (privacy key or protocol)",
    errind.UnsupportedSecurityLevel: "security level not supported for this user",
    errind.UnknownSecurityName: "unknown security name",
    errind.AuthenticationFailure: "authentication failure",
    errind.AuthenticationError: "authentication error",
}
_DISCOVERY = (errind.UnknownEngineID, errind.NotInTimeWindow)
_MAX_DISCOVERY_ROUNDS = 3
_COMMUNITY_CACHE = 65_536
_ENGINE_ID_CACHE = 65_536
_NO_SUCH_NAME = 2
# Receive buffer of the v1/v2c sockets: FIELD-NOTES saw the kernel drop answers at 256
# requests in flight with the default; the kernel caps it at net.core.rmem_max.
_RCVBUF = 4 * 1024 * 1024

_TYPE_NAMES = {
    rfc1902.Integer32.tagSet: "Integer32",
    rfc1902.OctetString.tagSet: "OctetString",
    rfc1902.ObjectIdentifier.tagSet: "ObjectIdentifier",
    rfc1902.IpAddress.tagSet: "IpAddress",
    rfc1902.Counter32.tagSet: "Counter32",
    rfc1902.Gauge32.tagSet: "Gauge32",
    rfc1902.TimeTicks.tagSet: "TimeTicks",
    rfc1902.Opaque.tagSet: "Opaque",
    rfc1902.Counter64.tagSet: "Counter64",
    rfc1905.NoSuchObject.tagSet: "noSuchObject",
    rfc1905.NoSuchInstance.tagSet: "noSuchInstance",
    rfc1905.EndOfMibView.tagSet: "endOfMibView",
}
_BUILDERS: dict[str, Any] = {
    "Integer32": rfc1902.Integer32,
    "Unsigned32": rfc1902.Unsigned32,
    "Gauge32": rfc1902.Gauge32,
    "Counter32": rfc1902.Counter32,
    "Counter64": rfc1902.Counter64,
    "TimeTicks": rfc1902.TimeTicks,
    "IpAddress": rfc1902.IpAddress,
    "ObjectIdentifier": rfc1902.ObjectIdentifier,
    "OctetString": rfc1902.OctetString,
    "Opaque": rfc1902.Opaque,
}


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded response PDU (SMIv2 view; v1 answers are translated)."""

    error_status: int
    error_index: int
    varbinds: list[VarBind]


def to_varbind(oid: Any, value: Any) -> VarBind:
    """Translate one pysnmp (name, value) pair into a plain ``VarBind``."""
    text = ".".join(str(arc) for arc in oid)
    type_name = _TYPE_NAMES.get(value.tagSet)
    if type_name is None:
        type_name = "Null" if value.tagSet == rfc1902.Null.tagSet else type(value).__name__
    python: SnmpValue
    if type_name in ("OctetString", "Opaque"):
        python = bytes(value)
    elif type_name == "IpAddress":
        python = ".".join(str(b) for b in bytes(value))
    elif type_name == "ObjectIdentifier":
        python = ".".join(str(arc) for arc in value)
    elif type_name in ("noSuchObject", "noSuchInstance", "endOfMibView", "Null"):
        python = None
    else:
        python = int(value)
    return VarBind(text, type_name, python)


def build_value(type_name: str, value: SnmpValue) -> Any:
    """Build the pysnmp value for a canonical (type, value) pair checked by the driver."""
    builder = _BUILDERS[type_name]
    if type_name == "ObjectIdentifier":
        return builder(tuple(int(arc) for arc in str(value).split(".")))
    return builder(value)


class _Communities:
    """Community ↔ security-name map, bounded; the only v1/v2c "configuration"."""

    def __init__(self, limit: int = _COMMUNITY_CACHE) -> None:
        self._by_name: OrderedDict[bytes, bytes] = OrderedDict()
        self._limit = limit

    def security_name(self, community: bytes) -> bytes:
        # A digest, so the security name (which pysnmp may log at debug level) is no secret.
        name = b"c" + hashlib.blake2b(community, digest_size=10).hexdigest().encode()
        self._by_name[name] = community
        self._by_name.move_to_end(name)
        while len(self._by_name) > self._limit:
            self._by_name.popitem(last=False)
        return name

    def community(self, security_name: bytes) -> bytes | None:
        return self._by_name.get(bytes(security_name))

    def name_for(self, community: bytes) -> bytes | None:
        name = b"c" + hashlib.blake2b(community, digest_size=10).hexdigest().encode()
        return name if name in self._by_name else None


def _community_model(base: Any, communities: _Communities, engine_id: Any) -> Any:
    class CommunityModel(base):  # type: ignore[misc]
        """pysnmp's community model with O(1) lookups instead of MIB-table walks."""

        def _sec2com(
            self, snmpEngine: Any, securityName: Any, contextEngineId: Any, contextName: Any
        ) -> bytes:
            community = communities.community(securityName)
            if community is None:
                raise StatusInformation(errorIndication=errind.unknownCommunityName)
            return community

        def _com2sec(
            self, snmpEngine: Any, communityName: Any, transportInformation: Any
        ) -> tuple[bytes, Any, bytes]:
            name = communities.name_for(bytes(communityName))
            if name is None:
                raise StatusInformation(errorIndication=errind.unknownCommunityName)
            return name, engine_id, b""

    return CommunityModel()


class _Usm(SnmpUSMSecurityModel):  # type: ignore[misc]
    """USM whose securityName → userName lookup checks one row instead of walking all.

    pysnmp rebuilds that map by walking the whole usmUserTable whenever a row is added —
    and it adds one per newly discovered remote engine, so a first sweep of N v3 targets
    was O(N²). This driver always registers users with securityName == userName, so the
    lookup reduces to "does the row (engine, name) exist".
    """

    def _SnmpUSMSecurityModel__sec2usr(
        self, snmpEngine: Any, securityName: Any, securityEngineID: Any = None
    ) -> Any:
        builder = snmpEngine.get_mib_builder()
        if securityEngineID is None:
            (local,) = builder.import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineID")
            securityEngineID = local.syntax
        (entry,) = builder.import_symbols("SNMP-USER-BASED-SM-MIB", "usmUserEntry")
        index = entry.getInstIdFromIndices(securityEngineID, securityName)
        entry.getNode((*entry.name, 3, *index))  # raises NoSuchInstanceError if absent
        return securityName


if not hasattr(SnmpUSMSecurityModel, "_SnmpUSMSecurityModel__sec2usr"):  # pragma: no cover
    # The override above only takes effect while pysnmp keeps this private method name.
    raise ImportError("pysnmp's USM internals changed: review drivers/snmp_stack.py")


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, client: _CommunityClient) -> None:
        self._client = client

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._client.received(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("SNMP socket error: %s", exc)


class _CommunityClient:
    """SNMPv1/v2c requests and answers on the client's own sockets (one per family)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transports: dict[int, asyncio.DatagramTransport] = {}
        self._lock = asyncio.Lock()
        # request-id → (future, version, community): the answer must match all three
        self._pending: dict[int, tuple[asyncio.Future[DecodedResponse], int, bytes]] = {}
        self._next_id = random.randrange(1, 0x7FFFFFFF)
        self._closed = False

    async def _transport(self, family: int) -> asyncio.DatagramTransport:
        transport = self._transports.get(family)
        if transport is not None:
            return transport
        async with self._lock:
            if family not in self._transports:
                if self._closed:
                    raise SnmpError("the SNMP driver is closed")
                transport, _ = await self._loop.create_datagram_endpoint(
                    lambda: _Datagrams(self), family=family
                )
                sock = transport.get_extra_info("socket")
                with contextlib.suppress(OSError, AttributeError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
                self._transports[family] = transport
            return self._transports[family]

    def _request_id(self) -> int:
        while True:
            self._next_id = self._next_id % 0x7FFFFFFF + 1
            if self._next_id not in self._pending:
                return self._next_id

    async def request(
        self,
        ep: SnmpEndpoint,
        address: tuple[str, int],
        kind: PduKind,
        varbinds: Sequence[tuple[Oid, Any]],
        community: bytes,
        non_repeaters: int,
        max_repetitions: int,
    ) -> DecodedResponse | None:
        """Send (and resend, ``ep.retries`` times) one request; None when unanswered.

        Every attempt carries the same request-id, so a late answer to an earlier attempt
        is as good as a prompt one."""
        version = 0 if ep.version == "v1" else 1
        values = [
            (oid, None if value is None else ber_encoder.encode(value)) for oid, value in varbinds
        ]
        request_id = self._request_id()
        message = ber_request(
            version,
            community,
            kind,
            request_id,
            values,
            non_repeaters=non_repeaters,
            max_repetitions=max_repetitions,
        )
        transport = await self._transport(socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
        future: asyncio.Future[DecodedResponse] = self._loop.create_future()
        self._pending[request_id] = (future, version, community)
        try:
            for _ in range(ep.retries + 1):
                if transport.is_closing():
                    raise SnmpError("the SNMP driver is closed")
                transport.sendto(message, address)
                try:
                    async with asyncio.timeout(ep.timeout):
                        return await asyncio.shield(future)
                except TimeoutError:
                    continue
            return None
        finally:
            del self._pending[request_id]
            if not future.done():
                future.cancel()

    def received(self, data: bytes) -> None:
        try:
            answer = decode_response(data)
        except BerError as exc:
            log.debug("dropped a malformed SNMP answer: %s", exc)
            return
        pending = self._pending.get(answer.request_id)
        if pending is None:
            return  # late (already answered, timed out, cancelled) or not ours
        future, version, community = pending
        if future.done() or answer.version != version or answer.community != community:
            return
        future.set_result(answer)

    def close(self) -> None:
        self._closed = True
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
        for future, _, _ in self._pending.values():
            if not future.done():
                future.set_exception(SnmpError("the SNMP driver is closed"))


def new_engine() -> Any:
    """A new pysnmp engine (no sockets yet): safe to build in a worker thread."""
    return SnmpEngine()


class SnmpStack:
    """One SNMP engine and its sockets. Create it inside the running event loop."""

    def __init__(self, engine: Any = None) -> None:
        """Wrap ``engine`` (a fresh ``SnmpEngine``, which may be built off the loop's
        thread: it costs ~80 ms) and open its socket in the running loop."""
        self._loop = asyncio.get_running_loop()
        self.engine = engine if engine is not None else SnmpEngine()
        (engine_id,) = self.engine.get_mib_builder().import_symbols(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineID"
        )
        self._communities = _Communities()
        self.engine.security_models[1] = _community_model(
            SnmpV1SecurityModel, self._communities, engine_id.syntax
        )
        self.engine.security_models[2] = _community_model(
            SnmpV2cSecurityModel, self._communities, engine_id.syntax
        )
        self.engine.security_models[3] = _Usm()
        self._users: dict[bytes, bytes] = {}  # user name → digest of its protocols/keys
        self._remote_engines: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self.engine.observer.register_observer(
            self._note_engine_id,
            "rfc3412.prepareDataElements:internal",
            "rfc3412.prepareDataElements:response",
        )
        config.add_transport(
            self.engine, udp.DOMAIN_NAME, udp.UdpAsyncioTransport().open_client_mode()
        )
        self._has_udp6 = False
        self._ticks = self.engine.transport_dispatcher.get_timer_resolution()
        self._community_client = _CommunityClient(self._loop)

    def close(self) -> None:
        self._community_client.close()
        self.engine.observer.unregister_observer(self._note_engine_id)
        self.engine.close_dispatcher()

    # -- security configuration (per credential, never per target) --------------------

    def _security(self, ep: SnmpEndpoint) -> tuple[int, int, bytes, int]:
        """(message model, security model, security name, security level) for ``ep``."""
        if ep.version in ("v1", "v2c"):
            name = self._communities.security_name((ep.community or "").encode())
            model = 0 if ep.version == "v1" else 1
            return model, model + 1, name, 1
        user = (ep.user or "").encode()
        self._ensure_user(ep, user)
        return 3, 3, user, _SECURITY_LEVEL[ep.security_level]

    def _ensure_user(self, ep: SnmpEndpoint, user: bytes) -> None:
        digest = hashlib.blake2b(
            b"\0".join(
                s.encode()
                for s in (
                    ep.auth_protocol.lower(),
                    ep.auth_key or "",
                    ep.priv_protocol.lower(),
                    ep.priv_key or "",
                )
            ),
            digest_size=16,
        ).digest()
        if self._users.get(user) == digest:
            return
        if user in self._users:
            config.delete_v3_user(self.engine, user)
        auth, priv = ep.auth_protocol.lower(), ep.priv_protocol.lower()
        config.add_v3_user(
            self.engine,
            user,
            _AUTH[auth],
            ep.auth_key if auth != "none" else None,
            _PRIV[priv],
            ep.priv_key if priv != "none" else None,
        )
        self._users[user] = digest

    def forget_remote_user(self, address: tuple[str, int], user: bytes) -> bool:
        """Drop the key localized for ``user`` at the engine behind ``address``.

        Called after an authentication failure so the next attempt re-localizes the
        current keys (credential rotated, or two credentials share a user name).
        """
        remote = self._remote_engines.get(address)
        if remote is None:
            return False
        try:
            config.delete_v3_user(self.engine, user, securityEngineId=remote)
        except (NoSuchInstanceError, PyAsn1Error):
            return False
        return True

    def _note_engine_id(
        self, snmpEngine: Any, execpoint: str, variables: dict[str, Any], cbCtx: Any
    ) -> None:
        if variables.get("securityModel") != 3:
            return
        address = variables.get("transportAddress")
        engine_id = variables.get("securityEngineId")
        if address is None or not engine_id:
            return
        key = (str(address[0]), int(address[1]))
        self._remote_engines[key] = engine_id
        self._remote_engines.move_to_end(key)
        while len(self._remote_engines) > _ENGINE_ID_CACHE:
            self._remote_engines.popitem(last=False)

    # -- requests ---------------------------------------------------------------------

    def _domain(self, address: tuple[str, int]) -> tuple[int, ...]:
        if ":" not in address[0]:
            return tuple(udp.DOMAIN_NAME)
        if not self._has_udp6:
            config.add_transport(
                self.engine, udp6.DOMAIN_NAME, udp6.Udp6AsyncioTransport().open_client_mode()
            )
            self._has_udp6 = True
        return tuple(udp6.DOMAIN_NAME)

    @staticmethod
    def _pdu(
        kind: PduKind, varbinds: Sequence[tuple[Oid, Any]], non_repeaters: int, max_repetitions: int
    ) -> Any:
        pdu: Any
        if kind == "bulk":
            pdu = v2c.GetBulkRequestPDU()
            v2c.apiBulkPDU.set_defaults(pdu)
            v2c.apiBulkPDU.set_non_repeaters(pdu, non_repeaters)
            v2c.apiBulkPDU.set_max_repetitions(pdu, max_repetitions)
        else:
            pdu = {
                "get": v2c.GetRequestPDU,
                "next": v2c.GetNextRequestPDU,
                "set": v2c.SetRequestPDU,
            }[kind]()
            v2c.apiPDU.set_defaults(pdu)
        v2c.apiPDU.set_varbinds(
            pdu,
            [
                (v2c.ObjectIdentifier(oid), v2c.null if val is None else val)
                for oid, val in varbinds
            ],
        )
        return pdu

    async def request(
        self,
        ep: SnmpEndpoint,
        address: tuple[str, int],
        kind: PduKind,
        varbinds: Sequence[tuple[Oid, Any]],
        *,
        non_repeaters: int = 0,
        max_repetitions: int = 0,
    ) -> Response:
        """Send one request (with retries and v3 discovery) and return the response."""
        if ep.version != "v3":
            return await self._community_request(
                ep, address, kind, varbinds, non_repeaters, max_repetitions
            )
        v2_pdu = self._pdu(kind, varbinds, non_repeaters, max_repetitions)
        attempts_left = ep.retries + 1
        discovery = 0
        retried_auth = False
        while True:
            outcome = await self._attempt(ep, address, v2_pdu)
            if not isinstance(outcome, errind.ErrorIndication):
                return outcome
            if isinstance(outcome, _DISCOVERY) and discovery < _MAX_DISCOVERY_ROUNDS:
                discovery += 1
                continue
            if isinstance(outcome, errind.RequestTimedOut):
                attempts_left -= 1
                if attempts_left <= 0:
                    raise _timeout(ep)
                continue
            reason = _AUTH_FAILURES.get(type(outcome))
            if reason is not None:
                user = (ep.user or "").encode()
                if (
                    not retried_auth
                    and not isinstance(outcome, errind.UnknownUserName)
                    and self.forget_remote_user(address, user)
                ):
                    retried_auth = True
                    continue
                raise SnmpAuthError(
                    f"SNMPv3 authentication with {ep.label} failed for user {ep.user!r}: {reason}",
                    host=ep.label,
                )
            raise SnmpError(f"SNMP request to {ep.label} failed: {outcome}", host=ep.label)

    async def _community_request(
        self,
        ep: SnmpEndpoint,
        address: tuple[str, int],
        kind: PduKind,
        varbinds: Sequence[tuple[Oid, Any]],
        non_repeaters: int,
        max_repetitions: int,
    ) -> Response:
        """v1/v2c through ``_CommunityClient`` (no pysnmp on the way)."""
        community = (ep.community or "").encode()
        self._communities.security_name(community)  # the one per-credential record
        answer = await self._community_client.request(
            ep, address, kind, varbinds, community, non_repeaters, max_repetitions
        )
        if answer is None:
            raise _timeout(ep)
        rows = answer.varbinds
        if answer.version == 0 and answer.error_status == _NO_SUCH_NAME:
            # RFC 2576 4.1.2.2: a v1 noSuchName answer marks its var-binds as missing
            missing = "endOfMibView" if kind == "next" else "noSuchObject"
            rows = [VarBind(vb.oid, missing, None) for vb in rows]
        return Response(answer.error_status, answer.error_index, rows)

    async def _attempt(
        self, ep: SnmpEndpoint, address: tuple[str, int], v2_pdu: Any
    ) -> Response | errind.ErrorIndication:
        mp_model, sec_model, sec_name, sec_level = self._security(ep)
        pdu = proxy.v2_to_v1(v2_pdu) if mp_model == 0 else v2_pdu
        future: asyncio.Future[Any] = self._loop.create_future()

        def on_response(
            snmpEngine: Any,
            messageProcessingModel: Any,
            securityModel: Any,
            securityName: Any,
            securityLevel: Any,
            contextEngineId: Any,
            contextName: Any,
            pduVersion: Any,
            PDU: Any,
            statusInformation: Any,
            sendPduHandle: Any,
            cbCtx: Any,
        ) -> None:
            if future.done():
                return  # answered after our own timer gave up, or cancelled
            if statusInformation:
                future.set_result(statusInformation["errorIndication"])
            else:
                future.set_result(PDU)

        try:
            self.engine.message_dispatcher.send_pdu(
                self.engine,
                self._domain(address),
                address,
                mp_model,
                sec_model,
                sec_name,
                sec_level,
                None,
                ep.context.encode() if mp_model == 3 else b"",
                0 if mp_model == 0 else 1,
                pdu,
                True,
                # the dispatcher's own expiry (ticks) is a backstop behind our timer
                (ep.timeout + 1.0) / self._ticks,
                on_response,
                None,
            )
        except StatusInformation as status:
            indication: errind.ErrorIndication = status["errorIndication"]
            return indication
        try:
            async with asyncio.timeout(ep.timeout):
                answer = await future
        except TimeoutError:
            return errind.requestTimedOut
        if isinstance(answer, errind.ErrorIndication):
            return answer
        if mp_model == 0:
            answer = proxy.v1_to_v2(answer, v2_pdu)
        return Response(
            int(v2c.apiPDU.get_error_status(answer)),
            int(v2c.apiPDU.get_error_index(answer, muteErrors=True)),
            [to_varbind(oid, val) for oid, val in v2c.apiPDU.get_varbinds(answer)],
        )


def _timeout(ep: SnmpEndpoint) -> SnmpTimeout:
    return SnmpTimeout(
        f"no SNMP answer from {ep.label} after {ep.retries + 1} attempt(s) of "
        f"{ep.timeout:g} s (agent down, wrong port, or wrong "
        f"{'credentials' if ep.version == 'v3' else 'community'})",
        host=ep.label,
    )
