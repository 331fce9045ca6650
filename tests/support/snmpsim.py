"""A real SNMP agent for tests: snmpsim, run from its own virtualenv as a subprocess.

snmpsim needs ``pysmi`` beside it, and pysmi must stay out of the application's
environment (when importable, pysnmp compiles MIBs on the first request).  So the
simulator lives in ``<repo>/.venv-snmpsim``, created on first use (guarded by a file
lock, so parallel test processes do not race), and runs as a child process.

Data files are ``.snmprec`` recordings; the v1/v2c community of a recording is its
file name without the extension, and for SNMPv3 the same name is the context name.

``start_dynamic_agent`` (below) serves ``tests/data/snmp/dynamic.snmprec``: an agent
whose values a test changes with SNMP SETs (snmpsim's ``writecache`` module), so a
monitoring test can script counter rates, counter wraps, reboots (sysUpTime drops) and
gauges crossing thresholds, deterministically and without waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from opsconductor_desktop.domain.results import SnmpEndpoint, SnmpValue, VarBind
from opsconductor_desktop.drivers.snmp import SnmpDriver
from opsconductor_desktop.drivers.snmp_values import parse_set_value

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("OPSC_SNMPSIM_VENV", REPO / ".venv-snmpsim"))
DATA_DIR = REPO / "tests" / "data" / "snmp"
# pysmi is an undeclared dependency of snmpsim 1.2, and pysnmp needs cryptography for
# SNMPv3 privacy (DES/AES): name both explicitly.
REQUIREMENTS = ("snmpsim>=1.2,<2", "pysmi>=1.5", "cryptography>=42")
_STAMP = VENV / ".opsc-installed"
_RESPONDER = VENV / "bin" / "snmpsim-command-responder"


class SnmpSimError(RuntimeError):
    """snmpsim could not be installed or started; the message carries its log tail."""


@dataclass(frozen=True)
class V3User:
    """One SNMPv3 USM user configured on the simulator (protocol names as snmpsim spells them)."""

    name: str
    auth_key: str | None = None
    auth_proto: str = "NONE"
    priv_key: str | None = None
    priv_proto: str = "NONE"

    def args(self) -> list[str]:
        out = [f"--v3-user={self.name}"]
        if self.auth_key is not None:
            out += [f"--v3-auth-key={self.auth_key}", f"--v3-auth-proto={self.auth_proto}"]
        if self.priv_key is not None:
            out += [f"--v3-priv-key={self.priv_key}", f"--v3-priv-proto={self.priv_proto}"]
        return out


@dataclass
class SnmpSimAgent:
    """A running simulator: where it listens and how to stop it."""

    host: str
    port: int
    endpoints: list[tuple[str, int]]
    process: subprocess.Popen[bytes]
    workdir: Path
    users: tuple[V3User, ...] = field(default=())

    @property
    def log_path(self) -> Path:
        return self.workdir / "snmpsim.log"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _installed() -> bool:
    try:
        return _RESPONDER.exists() and _STAMP.read_text().split() == list(REQUIREMENTS)
    except OSError:
        return False


def ensure_snmpsim() -> Path:
    """Create ``.venv-snmpsim`` with snmpsim and pysmi once; return the responder's path."""
    if _installed():
        return _RESPONDER
    VENV.mkdir(parents=True, exist_ok=True)  # ``python -m venv`` accepts an existing folder
    with (VENV / ".opsc-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _installed():
                _install()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return _RESPONDER


def _install() -> None:
    python = VENV / "bin" / "python"
    base = getattr(sys, "_base_executable", None) or sys.executable
    steps = []
    if not python.exists():
        steps.append([base, "-m", "venv", str(VENV)])
    steps.append([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS])
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise SnmpSimError(
                f"installing snmpsim failed: {' '.join(cmd)}\n{done.stdout[-2000:]}"
                f"\n{done.stderr[-2000:]}"
            )
    _STAMP.write_text(" ".join(REQUIREMENTS) + "\n")


def _die_with_parent() -> None:
    """In the child (Linux): get SIGTERM when the test process dies, so no agent is orphaned."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# -- a hand-encoded SNMPv2c GET (sysUpTime.0), so readiness needs no SNMP library ----------


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def probe_packet(community: str, request_id: int) -> bytes:
    oid = bytes([0x2B, 6, 1, 2, 1, 1, 3, 0])  # 1.3.6.1.2.1.1.3.0
    varbind = _tlv(0x30, _tlv(0x06, oid) + b"\x05\x00")
    pdu = _tlv(0xA0, _int(request_id) + _int(0) + _int(0) + _tlv(0x30, varbind))
    return _tlv(0x30, _int(1) + _tlv(0x04, community.encode()) + pdu)


def answers(host: str, port: int, community: str, timeout: float = 0.2) -> bool:
    """True when a v2c GET to ``host:port`` with ``community`` gets any reply."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(probe_packet(community, random.randint(1, 2**30)), (host, port))
        try:
            sock.recvfrom(65535)
        except TimeoutError:
            return False
        return True


def start_snmpsim(
    data_files: Sequence[Path],
    *,
    users: Sequence[V3User] = (),
    endpoints: Sequence[tuple[str, int]] | None = None,
    startup_timeout: float = 60.0,
    contents: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> SnmpSimAgent:
    """Start snmpsim serving ``data_files`` on ``endpoints`` (default: 127.0.0.1, free port).

    ``contents`` adds data files given as text (file name → text); ``extra_args`` are
    command-line options of the responder itself (``--variation-module-options=...``:
    snmpsim reads only SNMP-engine options from its ``--args-from-file``).
    The first endpoint is probed with the first data file's community until it answers.
    """
    names = [Path(path).name for path in data_files] + list(contents or {})
    if not names:
        raise ValueError("no data files to serve")
    responder = ensure_snmpsim()
    workdir = Path(tempfile.mkdtemp(prefix="opsc-snmpsim-"))
    data_dir = workdir / "data"
    data_dir.mkdir()
    for path in data_files:
        shutil.copy(path, data_dir / path.name)
    for name, text in (contents or {}).items():
        (data_dir / name).write_text(text)
    if endpoints is None:
        endpoints = [("127.0.0.1", free_udp_port())]
    args = [
        f"--data-dir={data_dir}",
        f"--cache-dir={workdir / 'cache'}",
        *(f"--agent-udpv4-endpoint={h}:{p}" for h, p in endpoints),
    ]
    for user in users:
        args += user.args()
    args_file = workdir / "args.txt"
    args_file.write_text("\n".join(args) + "\n")
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    with (workdir / "snmpsim.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(responder),
                *extra_args,
                f"--args-from-file={args_file}",
                "--log-level=error",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    host, port = endpoints[0]
    agent = SnmpSimAgent(host, port, list(endpoints), process, workdir, tuple(users))
    community = names[0].removesuffix(".snmprec")
    deadline = time.monotonic() + startup_timeout
    while not answers(host, port, community):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = agent.log_tail()
            agent.stop()
            raise SnmpSimError(f"snmpsim did not answer on {host}:{port}:\n{tail}")
    return agent


@contextlib.contextmanager
def running_snmpsim(data_files: Sequence[Path], **kwargs: object) -> Iterator[SnmpSimAgent]:
    agent = start_snmpsim(data_files, **kwargs)  # type: ignore[arg-type]
    try:
        yield agent
    finally:
        agent.stop()


# -- an agent whose values the test changes: tests/data/snmp/dynamic.snmprec ----------------

DYNAMIC_TEMPLATE = DATA_DIR / "dynamic.snmprec"

# snmprec type tags → the SMI names the driver uses.
_TAG_TYPES = {
    "2": "Integer32",
    "4": "OctetString",
    "6": "ObjectIdentifier",
    "64": "IpAddress",
    "65": "Counter32",
    "66": "Gauge32",
    "67": "TimeTicks",
    "70": "Counter64",
}
_WRAPS = {"Counter32": 2**32, "TimeTicks": 2**32, "Counter64": 2**64}
_COUNTERS = ("Counter32", "Counter64")


class DynOids:
    """The OIDs of ``dynamic.snmprec``; (W) marks those a SET changes, initial value after.

    Table columns are given without the index: ``DynOids.row(DynOids.IF_HC_IN_OCTETS, 2)``.
    Rows are ifIndex 1, 2, 3 (lo, eth0, eth1).
    """

    SYS_DESCR = "1.3.6.1.2.1.1.1.0"  # "... @DEVICE@" → the device number
    SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
    SYS_UPTIME = "1.3.6.1.2.1.1.3.0"  # (W) TimeTicks 360000 (1 h); frozen unless SET
    SYS_NAME = "1.3.6.1.2.1.1.5.0"  # (W) OctetString "dyn-router-<device>"
    IF_NUMBER = "1.3.6.1.2.1.2.1.0"  # Integer32 3
    IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
    IF_DESCR = "1.3.6.1.2.1.2.2.1.2"  # lo, eth0, eth1
    IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
    IF_SPEED = "1.3.6.1.2.1.2.2.1.5"  # (W) Gauge32 10000000, 1000000000, 1000000000
    IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"  # Integer32 1
    IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"  # (W) Integer32 1 (up); 2 is down
    IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"  # (W) Counter32 1000, 2000, 3000
    IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"  # (W) Counter32 1500, 2500, 3500
    HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2.1"  # (W) Integer32 5 (percent)
    IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"  # lo, eth0, eth1
    IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"  # (W) Counter64 10000, 20000, 30000
    IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"  # (W) Counter64 15000, 25000, 35000
    IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"  # Gauge32 10, 1000, 1000 (Mbit/s)
    GAUGE = "1.3.6.1.4.1.55555.10.1.0"  # (W) Gauge32 10
    COUNTER32 = "1.3.6.1.4.1.55555.10.2.0"  # (W) Counter32 1000
    COUNTER64 = "1.3.6.1.4.1.55555.10.3.0"  # (W) Counter64 1000
    INTEGER = "1.3.6.1.4.1.55555.10.4.0"  # (W) Integer32 20
    TEXT = "1.3.6.1.4.1.55555.10.5.0"  # (W) OctetString "ok"
    MISSING = "1.3.6.1.4.1.55555.10.8.0"  # not in the file: GET answers noSuchInstance
    NOT_A_NUMBER = "1.3.6.1.4.1.55555.10.9.0"  # OctetString "n/a" (text where a number is due)
    # snmpsim's ``numeric`` module: value = rate × seconds since the agent started.
    CLOCK_COUNTER32 = "1.3.6.1.4.1.55555.20.1.0"  # Counter32, +1000 per second
    CLOCK_TICKS = "1.3.6.1.4.1.55555.20.2.0"  # TimeTicks, +100 per second (a live uptime)
    CLOCK_WRAPPING = "1.3.6.1.4.1.55555.20.3.0"  # Counter32, +10^9/s, wraps every ~4.3 s
    # The ``error`` module: a GET *and* any GETNEXT/GETBULK that reaches it (GETBULK reads
    # max-repetitions rows past the walked subtree) answer genErr. So it is the file's
    # first OID, below mib-2, where only a walk of 1.3.6.1 or 1.3.6.1.1 meets it.
    GEN_ERR = "1.3.6.1.1.99.1.0"

    @staticmethod
    def row(column: str, index: int) -> str:
        return f"{column}.{index}"


def _writable_records(text: str, module: str = "writecache") -> dict[str, tuple[str, SnmpValue]]:
    """``oid → (SMI type, initial value)`` of a data file's records using ``module``."""
    out: dict[str, tuple[str, SnmpValue]] = {}
    for line in text.splitlines():
        oid, _, rest = line.partition("|")
        tag, _, settings = rest.partition("|")
        type_tag, _, variation = tag.partition(":")
        if variation != module:
            continue
        options = dict(item.split("=", 1) for item in settings.split(","))
        kind = _TAG_TYPES[type_tag]
        raw = options.get("value", "")
        out[oid] = (kind, raw.encode() if kind == "OctetString" else int(raw))
    return out


@contextlib.asynccontextmanager
async def _driver(driver: SnmpDriver | None) -> AsyncIterator[SnmpDriver]:
    if driver is not None:
        yield driver
        return
    own = SnmpDriver()  # ~0.1 s (engine) per call: pass the test's driver when looping
    try:
        yield own
    finally:
        own.close()


SetSpec = Mapping[str, object]  # oid → value (type from the data file) or (type, value)


@dataclass
class DynamicDevice:
    """One simulated device of a dynamic agent: its own community and its own values.

    Values change only when SET (with the project's ``SnmpDriver``), so a test decides
    what every poll sees. ``values`` is what this helper last set (initially the data
    file's values); ``advance`` builds on it, so change values through this object.
    """

    index: int
    host: str
    port: int
    community: str
    writable: dict[str, tuple[str, SnmpValue]]
    values: dict[str, SnmpValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.values:
            self.values = {oid: value for oid, (_, value) in self.writable.items()}

    def endpoint(self, version: str = "v2c", **overrides: object) -> SnmpEndpoint:
        """An endpoint for this device (v1 or v2c; 1 s timeout, 1 retry unless overridden)."""
        values: dict[str, object] = {"community": self.community, "timeout": 1.0, "retries": 1}
        values.update(overrides)
        return SnmpEndpoint(self.host, self.port, version, **values)  # type: ignore[arg-type]

    async def set_values(
        self, values: SetSpec, *, driver: SnmpDriver | None = None
    ) -> list[VarBind]:
        """SET ``{oid: value}`` or ``{oid: (type, value)}`` in one request; return the echo.

        The type defaults to the data file's type for that OID. writecache stores a value
        only when the SET's type equals the record's type, and snmpsim answers a refused
        SET (wrong type, read-only or unknown OID) with ``noSuchInstance`` and *no*
        error-status, so this checks the echo and raises ``SnmpSimError`` instead.
        """
        triples: list[tuple[str, str, object]] = []
        for oid, spec in values.items():
            record_type = self.writable.get(oid, (None, None))[0]
            if isinstance(spec, tuple):
                type_name, value = spec
                kind = parse_set_value(type_name, value, oid=oid)[0]
                if record_type is not None and kind != record_type:
                    raise SnmpSimError(
                        f"{oid} is a {record_type} in the data file; writecache ignores a "
                        f"SET of type {kind}"
                    )
            elif record_type is None:
                raise SnmpSimError(f"{oid} is not writable here: give (type, value) to try")
            else:
                type_name, value = record_type, spec
            triples.append((oid, type_name, value))
        async with _driver(driver) as snmp:
            echo = await snmp.set(self.endpoint(), triples)
        refused = [vb.oid for vb in echo if not vb.exists]
        if refused:
            raise SnmpSimError(
                f"{self.community}: the agent did not store {', '.join(refused)} (not a "
                "writecache record, or a SET type other than the record's)"
            )
        for vb in echo:
            self.values[vb.oid] = vb.value
        return echo

    async def advance(
        self, deltas: Mapping[str, int], *, driver: SnmpDriver | None = None
    ) -> dict[str, int]:
        """Add ``delta`` to each numeric value (one SET) and return the new values.

        Counter32 and TimeTicks wrap modulo 2^32, Counter64 modulo 2^64 (as a device's
        counters do); Gauge32 and Integer32 must stay in range.
        """
        new: dict[str, int] = {}
        for oid, delta in deltas.items():
            kind, _ = self.writable[oid]
            current = self.values[oid]
            if not isinstance(current, int):
                raise SnmpSimError(f"{oid} is a {kind}, not a number")
            value = current + delta
            new[oid] = value % _WRAPS[kind] if kind in _WRAPS else value
        await self.set_values(new, driver=driver)
        return new

    async def reboot(self, uptime: int = 0, *, driver: SnmpDriver | None = None) -> None:
        """Look rebooted: sysUpTime becomes ``uptime`` ticks and every counter 0."""
        values: dict[str, object] = {DynOids.SYS_UPTIME: uptime}
        values.update({oid: 0 for oid, (kind, _) in self.writable.items() if kind in _COUNTERS})
        await self.set_values(values, driver=driver)

    async def reset(self, *, driver: SnmpDriver | None = None) -> None:
        """Every writable value back to the data file's (one SET)."""
        await self.set_values(
            {oid: value for oid, (_, value) in self.writable.items()}, driver=driver
        )


@dataclass
class DynamicAgent:
    """A snmpsim process serving ``devices``; ``host``/``port``/``set_values`` & co. are the
    first device's, for the common one-device test."""

    sim: SnmpSimAgent
    devices: list[DynamicDevice]

    @property
    def device(self) -> DynamicDevice:
        return self.devices[0]

    @property
    def host(self) -> str:
        return self.device.host

    @property
    def port(self) -> int:
        return self.device.port

    @property
    def community(self) -> str:
        return self.device.community

    def endpoint(self, version: str = "v2c", **overrides: object) -> SnmpEndpoint:
        return self.device.endpoint(version, **overrides)

    async def set_values(
        self, values: SetSpec, *, driver: SnmpDriver | None = None
    ) -> list[VarBind]:
        return await self.device.set_values(values, driver=driver)

    async def advance(
        self, deltas: Mapping[str, int], *, driver: SnmpDriver | None = None
    ) -> dict[str, int]:
        return await self.device.advance(deltas, driver=driver)

    async def reboot(self, uptime: int = 0, *, driver: SnmpDriver | None = None) -> None:
        await self.device.reboot(uptime, driver=driver)

    async def reset(self, *, driver: SnmpDriver | None = None) -> None:
        for device in self.devices:
            await device.reset(driver=driver)

    def stop(self) -> None:
        self.sim.stop()


def start_dynamic_agent(
    devices: int = 1,
    *,
    distinct_hosts: bool = False,
    community_prefix: str = "dynamic",
    startup_timeout: float = 60.0,
) -> DynamicAgent:
    """Start one snmpsim process serving ``devices`` copies of ``dynamic.snmprec``.

    Device ``i`` answers to community ``f"{community_prefix}{i}"``. With
    ``distinct_hosts`` each device also gets its own loopback address (127.0.1.1,
    127.0.1.2, ...; every community answers on every address); otherwise all share
    127.0.0.1 and one port. Each device's writable values are its own: writecache keeps
    *one* cache per loaded module, keyed by OID only, shared by every data file that
    names it, so each device's copy names its own alias of the module (``wc<i>``).
    """
    if not 1 <= devices <= 250:
        raise ValueError("devices must be between 1 and 250")
    template = DYNAMIC_TEMPLATE.read_text()
    contents: dict[str, str] = {}
    for i in range(devices):
        text = template.replace(":writecache|", f":wc{i}|").replace("@DEVICE@", str(i))
        contents[f"{community_prefix}{i}.snmprec"] = text
    hosts = (
        [str(IPv4Address("127.0.1.1") + i) for i in range(devices)]
        if distinct_hosts
        else ["127.0.0.1"]
    )
    endpoints = [(host, free_udp_port(host)) for host in hosts]
    sim = start_snmpsim(
        [],
        contents=contents,
        endpoints=endpoints,
        startup_timeout=startup_timeout,
        extra_args=[f"--variation-module-options=writecache=wc{i}:" for i in range(devices)],
    )
    members = []
    for i, (name, text) in enumerate(contents.items()):
        host, port = endpoints[i % len(endpoints)]
        writable = _writable_records(text, module=f"wc{i}")
        members.append(DynamicDevice(i, host, port, name.removesuffix(".snmprec"), writable))
    return DynamicAgent(sim, members)


@contextlib.contextmanager
def running_dynamic_agent(devices: int = 1, **kwargs: object) -> Iterator[DynamicAgent]:
    agent = start_dynamic_agent(devices, **kwargs)  # type: ignore[arg-type]
    try:
        yield agent
    finally:
        agent.stop()
