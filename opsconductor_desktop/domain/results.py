"""What the device drivers take and give back: endpoints, results and typed errors.

Pure standard library, so the GUI, services and tests can use these values without
importing a protocol library. Secret-bearing fields never appear in a ``repr``, and no
error message here ever contains a secret.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Literal

from opsconductor_desktop.domain.errors import OpsError, ValidationError

# --------------------------------------------------------------------------- SNMP endpoint

SnmpVersionName = Literal["v1", "v2c", "v3"]
SNMP_VERSIONS: tuple[str, ...] = ("v1", "v2c", "v3")
# Spellings accepted for SNMPv3 protocols; the driver maps them to its library's OIDs.
SNMP_AUTH_PROTOCOLS: tuple[str, ...] = (
    "none",
    "md5",
    "sha",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
)
SNMP_PRIV_PROTOCOLS: tuple[str, ...] = ("none", "des", "3des", "aes", "aes128", "aes192", "aes256")
_USM_KEY_MIN = 8  # RFC 3414: pass phrases shorter than 8 octets are refused


@dataclass(frozen=True, slots=True)
class SnmpEndpoint:
    """Where and how to reach one SNMP agent.

    ``timeout`` is per attempt (seconds); ``retries`` is the number of extra attempts.
    ``context`` is the SNMPv3 context name (ignored by v1/v2c).
    """

    host: str
    port: int = 161
    version: SnmpVersionName = "v2c"
    community: str | None = field(default=None, repr=False)
    user: str | None = None
    auth_protocol: str = "none"
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str = "none"
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""
    timeout: float = 2.0
    retries: int = 1

    def __post_init__(self) -> None:
        if not self.host or not isinstance(self.host, str):
            raise ValidationError("SNMP host is empty", field="host")
        if not 0 < self.port < 65536:
            raise ValidationError(f"SNMP port {self.port} is out of range", field="port")
        if self.version not in SNMP_VERSIONS:
            raise ValidationError(
                f"SNMP version {self.version!r} is not one of {', '.join(SNMP_VERSIONS)}",
                field="version",
            )
        if not 0 < self.timeout <= 300:
            raise ValidationError("SNMP timeout must be between 0 and 300 s", field="timeout")
        if not 0 <= self.retries <= 10:
            raise ValidationError("SNMP retries must be between 0 and 10", field="retries")
        if self.version == "v3":
            self._check_v3()
        elif not self.community:
            raise ValidationError(f"SNMP {self.version} needs a community", field="community")

    def _check_v3(self) -> None:
        if not self.user:
            raise ValidationError("SNMPv3 needs a user name", field="user")
        auth, priv = self.auth_protocol.lower(), self.priv_protocol.lower()
        if auth not in SNMP_AUTH_PROTOCOLS:
            raise ValidationError(
                f"SNMPv3 auth protocol {self.auth_protocol!r} is not one of "
                f"{', '.join(SNMP_AUTH_PROTOCOLS)}",
                field="auth_protocol",
            )
        if priv not in SNMP_PRIV_PROTOCOLS:
            raise ValidationError(
                f"SNMPv3 privacy protocol {self.priv_protocol!r} is not one of "
                f"{', '.join(SNMP_PRIV_PROTOCOLS)}",
                field="priv_protocol",
            )
        if priv != "none" and auth == "none":
            raise ValidationError("SNMPv3 privacy needs an auth protocol", field="priv_protocol")
        if auth != "none" and len(self.auth_key or "") < _USM_KEY_MIN:
            raise ValidationError(
                f"SNMPv3 auth key must be at least {_USM_KEY_MIN} characters", field="auth_key"
            )
        if priv != "none" and len(self.priv_key or "") < _USM_KEY_MIN:
            raise ValidationError(
                f"SNMPv3 privacy key must be at least {_USM_KEY_MIN} characters",
                field="priv_key",
            )

    @property
    def security_level(self) -> Literal["noAuthNoPriv", "authNoPriv", "authPriv"]:
        if self.auth_protocol.lower() == "none":
            return "noAuthNoPriv"
        return "authNoPriv" if self.priv_protocol.lower() == "none" else "authPriv"

    @property
    def label(self) -> str:
        """``host:port`` for messages (never a credential)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


# --------------------------------------------------------------------------- SNMP values

SNMP_EXCEPTION_TYPES = frozenset({"noSuchObject", "noSuchInstance", "endOfMibView"})
SnmpValue = int | str | bytes | None


@dataclass(frozen=True, slots=True)
class VarBind:
    """One SNMP variable binding as plain Python.

    ``type`` is the SMI type name (``OctetString``, ``Integer32``, ``Counter32``,
    ``Counter64``, ``Gauge32``, ``TimeTicks``, ``IpAddress``, ``ObjectIdentifier``,
    ``Opaque``, ``Null``) or one of the exception values ``noSuchObject``,
    ``noSuchInstance``, ``endOfMibView`` (then ``value`` is ``None``).
    ``OctetString``/``Opaque`` values are ``bytes``; ``IpAddress`` and
    ``ObjectIdentifier`` values are dotted ``str``; the numeric types are ``int``.
    """

    oid: str
    type: str
    value: SnmpValue

    @property
    def exists(self) -> bool:
        """False for ``noSuchObject``, ``noSuchInstance`` and ``endOfMibView``."""
        return self.type not in SNMP_EXCEPTION_TYPES

    def unwrap(self) -> SnmpValue:
        """The value, or raise the typed error for an exception value."""
        if self.type == "noSuchObject":
            raise SnmpNoSuchObject(f"no such object {self.oid}", oid=self.oid)
        if self.type == "noSuchInstance":
            raise SnmpNoSuchInstance(f"no such instance {self.oid}", oid=self.oid)
        if self.type == "endOfMibView":
            raise SnmpEndOfMib(f"end of MIB view after {self.oid}", oid=self.oid)
        return self.value

    def display(self) -> str:
        """A human-readable rendering (text when printable, else colon-separated hex)."""
        if not self.exists:
            return self.type
        value = self.value
        if value is None:
            return ""
        if isinstance(value, bytes):
            return _bytes_display(value)
        if self.type == "TimeTicks" and isinstance(value, int):
            return _timeticks_display(value)
        return str(value)


_PRINTABLE = frozenset(string.printable) - frozenset("\x0b\x0c")


def _bytes_display(value: bytes) -> str:
    text = value[:-1] if value.endswith(b"\x00") else value  # C strings from some agents
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and all(c in _PRINTABLE or c.isprintable() for c in decoded):
        return decoded
    return ":".join(f"{b:02x}" for b in value)


def _timeticks_display(ticks: int) -> str:
    seconds, hundredths = divmod(ticks, 100)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    clock = f"{hrs}:{mins:02d}:{secs:02d}.{hundredths:02d}"
    return f"{days} days, {clock}" if days else clock


# --------------------------------------------------------------------------- SNMP errors


class SnmpError(OpsError):
    """An SNMP operation failed; ``host`` names the endpoint (``host:port``) if known."""

    def __init__(self, message: str, *, host: str | None = None, oid: str | None = None) -> None:
        super().__init__(message)
        self.host = host
        self.oid = oid


class SnmpTimeout(SnmpError):
    """No answer within timeout × (retries + 1): agent down, wrong port, or wrong community."""


class SnmpAuthError(SnmpError):
    """SNMPv3 security failure reported by the agent (unknown user, wrong digest, ...)."""


class SnmpNoSuchObject(SnmpError):
    """The agent does not implement the object."""


class SnmpNoSuchInstance(SnmpError):
    """The object exists but this instance does not."""


class SnmpEndOfMib(SnmpError):
    """Nothing follows the requested OID in the agent's MIB view."""


class SnmpTooBig(SnmpError):
    """The answer would not fit one message even for a single OID."""


class SnmpAgentError(SnmpError):
    """The agent answered with an error-status (``notWritable``, ``wrongType``, ``genErr`` ...).

    ``status`` is the RFC 3416 name; ``index`` is the 1-based error-index (0 if none).
    """

    def __init__(
        self,
        message: str,
        *,
        status: str,
        index: int = 0,
        host: str | None = None,
        oid: str | None = None,
    ) -> None:
        super().__init__(message, host=host, oid=oid)
        self.status = status
        self.index = index


# --------------------------------------------------------------------------- SSH


@dataclass(frozen=True, slots=True)
class SshEndpoint:
    """Where and how to log in over SSH. ``private_key`` is the key file's text (PEM/OpenSSH)."""

    host: str
    username: str
    port: int = 22
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.host or not isinstance(self.host, str):
            raise ValidationError("SSH host is empty", field="host")
        if not 0 < self.port < 65536:
            raise ValidationError(f"SSH port {self.port} is out of range", field="port")
        if not self.username:
            raise ValidationError("SSH user name is empty", field="username")
        if self.password is None and self.private_key is None:
            raise ValidationError("SSH needs a password or a private key", field="password")
        if not 0 < self.connect_timeout <= 300:
            raise ValidationError(
                "SSH connect timeout must be between 0 and 300 s", field="connect_timeout"
            )

    @property
    def label(self) -> str:
        """``user@host:port`` for messages (never a credential)."""
        return f"{self.username}@{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class HostKeyInfo:
    """The host key a connection was verified with.

    ``newly_trusted`` is True when the key was unknown and has just been recorded (trust
    on first use): the UI should show ``fingerprint`` to the operator.
    """

    host: str
    port: int
    key_type: str
    fingerprint: str  # "SHA256:..." as OpenSSH prints it
    newly_trusted: bool


@dataclass(frozen=True, slots=True)
class SshResult:
    """What one remote command did. Output is raw bytes, capped per stream.

    ``exit_status`` is None when the command was stopped (``timed_out``) or the server
    sent no status. ``new_host_key_fingerprint`` is set when this session's connection
    trusted an unknown host key on first use.
    """

    command: str
    exit_status: int | None
    stdout: bytes
    stderr: bytes
    duration: float
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    new_host_key_fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.timed_out

    def text(self, stream: Literal["stdout", "stderr"] = "stdout") -> str:
        """Decode a stream as UTF-8; undecodable bytes become U+FFFD."""
        data = self.stdout if stream == "stdout" else self.stderr
        return data.decode("utf-8", errors="replace")


class SshError(OpsError):
    """An SSH operation failed; ``host`` names ``user@host:port`` (never a secret)."""

    def __init__(self, message: str, *, host: str | None = None) -> None:
        super().__init__(message)
        self.host = host


class HostKeyChangedError(SshError):
    """The server offered a different host key than the one recorded: possible MITM."""

    def __init__(self, *, host: str, stored: str, offered: str, key_type: str) -> None:
        super().__init__(
            f"host key for {host} has CHANGED: stored {stored}, offered {offered} "
            f"({key_type}). If the device was replaced or re-keyed, remove its entry "
            "from the known hosts and connect again; otherwise do not trust this connection.",
            host=host,
        )
        self.stored_fingerprint = stored
        self.offered_fingerprint = offered
        self.key_type = key_type


class HostKeyUnknownError(SshError):
    """The host key is not recorded and trust on first use is switched off."""

    def __init__(self, *, host: str, offered: str, key_type: str) -> None:
        super().__init__(
            f"host key for {host} is unknown ({key_type} {offered}) and trust on first use is off",
            host=host,
        )
        self.offered_fingerprint = offered
        self.key_type = key_type


class SshAuthError(SshError):
    """The server refused the credentials (the message never contains them)."""


class SshTimeout(SshError):
    """Connecting or authenticating took longer than the connect timeout."""


class SshConnectError(SshError):
    """The TCP connection or SSH handshake failed (refused, unreachable, protocol error)."""


# --------------------------------------------------------------------------- reachability


@dataclass(frozen=True, slots=True)
class PingResult:
    """Reachability of a host. ``method`` says whether ICMP or a TCP connect answered."""

    host: str
    reachable: bool
    rtt_ms: float | None
    method: Literal["icmp", "tcp"]
    error: str | None = None
    port: int | None = None  # the TCP port that answered (method "tcp")


@dataclass(frozen=True, slots=True)
class TcpCheckResult:
    """Whether a TCP port accepted a connection, and how fast.

    ``refused`` means the host answered with a reset: the port is closed but the host is
    up (``latency_ms`` is then the time to the refusal).
    """

    host: str
    port: int
    open: bool
    latency_ms: float | None
    error: str | None = None
    refused: bool = False
