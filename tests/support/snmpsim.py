"""A real SNMP agent for tests: snmpsim, run from its own virtualenv as a subprocess.

snmpsim needs ``pysmi`` beside it, and pysmi must stay out of the application's
environment (when importable, pysnmp compiles MIBs on the first request).  So the
simulator lives in ``<repo>/.venv-snmpsim``, created on first use (guarded by a file
lock, so parallel test processes do not race), and runs as a child process.

Data files are ``.snmprec`` recordings; the v1/v2c community of a recording is its
file name without the extension, and for SNMPv3 the same name is the context name.
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
) -> SnmpSimAgent:
    """Start snmpsim serving ``data_files`` on ``endpoints`` (default: 127.0.0.1, free port).

    The first endpoint is probed with the first data file's community until it answers.
    """
    responder = ensure_snmpsim()
    workdir = Path(tempfile.mkdtemp(prefix="opsc-snmpsim-"))
    data_dir = workdir / "data"
    data_dir.mkdir()
    for path in data_files:
        shutil.copy(path, data_dir / path.name)
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
    community = Path(data_files[0]).name.removesuffix(".snmprec")
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
