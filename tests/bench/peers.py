"""Peers for the benchmarks: install them, start them on loopback, stop them.

* OpenSSH (Debian ``openssh-server``): private ``sshd -f CONFIG`` instances with their own
  host key and ``AuthorizedKeysFile``. One sshd listens on at most 16 addresses
  (OpenSSH's ``MAX_LISTEN_SOCKS``), so N distinct loopback addresses get ⌈N/16⌉
  instances on one port — nothing listens beyond 127.0.0.0/8.
* net-snmp (Debian ``snmpd`` + ``snmp``): one ``snmpd`` on ``udp:PORT`` answers on every
  127.x.y.z address; ``snmpget`` is the client peer.
* Ansible (``ansible-core`` from PyPI) in its own virtualenv, never the app's:
  ``$OPSC_BENCH_VENV`` or ``~/.cache/opsconductor-bench/ansible-venv`` (outside the work
  tree, so it is never committed by accident).

Every helper raises ``PeerUnavailable`` with a one-line reason when a peer cannot be
installed or started; the benchmarks turn that into ``pytest.skip``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

APT_TIMEOUT = 900
_apt_updated = False


class PeerUnavailable(RuntimeError):
    """A peer could not be installed or started (the message says why)."""


# -- installing -----------------------------------------------------------------------------


def _run(cmd: Sequence[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"{' '.join(cmd[:3])}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PeerUnavailable(f"{' '.join(cmd[:4])} failed: {' | '.join(tail)}")
    return done.stdout


def ensure_apt(binaries: dict[str, str]) -> dict[str, str]:
    """Make sure each binary exists (installing its Debian package); return their paths.

    ``binaries`` maps a program (``sshd``, ``snmpd`` ...) to the package that ships it.
    """
    global _apt_updated
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])
    missing = {pkg for exe, pkg in binaries.items() if not shutil.which(exe, path=search)}
    if missing:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise PeerUnavailable(
                f"{', '.join(sorted(missing))} not installed and apt-get is not usable as this user"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if not _apt_updated:
            _run(["apt-get", "update", "-qq"], timeout=APT_TIMEOUT, env=env)
            _apt_updated = True
        _run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *sorted(missing)],
            timeout=APT_TIMEOUT,
            env=env,
        )
    paths = {exe: shutil.which(exe, path=search) for exe in binaries}
    absent = [exe for exe, path in paths.items() if not path]
    if absent:
        raise PeerUnavailable(f"{', '.join(absent)} still missing after apt-get install")
    return {exe: str(path) for exe, path in paths.items()}


ANSIBLE_REQUIREMENT = "ansible-core"


def ansible_venv() -> Path:
    """A virtualenv with ``ansible-core`` (created once); return its ``bin`` folder."""
    default = Path.home() / ".cache" / "opsconductor-bench" / "ansible-venv"
    venv = Path(os.environ.get("OPSC_BENCH_VENV", default))
    bin_dir = venv / "bin"
    if (bin_dir / "ansible").exists():
        return bin_dir
    base = getattr(sys, "_base_executable", None) or sys.executable
    venv.parent.mkdir(parents=True, exist_ok=True)
    if not (bin_dir / "python").exists():
        _run([base, "-m", "venv", str(venv)], timeout=300)
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", ANSIBLE_REQUIREMENT], timeout=900)
    if not (bin_dir / "ansible").exists():
        raise PeerUnavailable(f"pip installed {ANSIBLE_REQUIREMENT} but no ansible in {bin_dir}")
    return bin_dir


# -- ports and readiness --------------------------------------------------------------------


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 for TCP or UDP (``kind``) right now."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_tcp(host: str, port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5) as sock:
                sock.settimeout(2)
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# -- OpenSSH ---------------------------------------------------------------------------------

MAX_LISTEN_SOCKS = 16  # OpenSSH's compile-time limit of ListenAddress sockets per sshd


def loopback_hosts(n: int) -> list[str]:
    """127.0.0.1 … 127.0.0.n (n ≤ 254)."""
    if not 1 <= n <= 254:
        raise ValueError("1..254 loopback hosts")
    return [f"127.0.0.{i}" for i in range(1, n + 1)]


@dataclass
class SshdFarm:
    """sshd instances answering on ``hosts`` at ``port``, root login with ``client_key``."""

    hosts: list[str]
    port: int
    user: str
    client_key: Path  # private key file (OpenSSH format, ed25519)
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def client_key_text(self) -> str:
        return self.client_key.read_text()

    def stop(self) -> None:
        for process in self.processes:
            _stop(process)
        self.processes.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_sshd_farm(n_hosts: int, *, port: int | None = None) -> SshdFarm:
    """Start private sshds on 127.0.0.1..n at one port; raise ``PeerUnavailable`` if not."""
    tools = ensure_apt({"sshd": "openssh-server", "ssh-keygen": "openssh-client"})
    if os.geteuid() != 0:
        raise PeerUnavailable("the SSH benchmark logs in as root to a private sshd: run as root")
    hosts = loopback_hosts(n_hosts)
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="opsc-bench-sshd-"))
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # privsep chroot
    host_key, client_key = workdir / "host_ed25519", workdir / "client_ed25519"
    for key in (host_key, client_key):
        _run([tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-f", str(key)], timeout=30)
    authorized = workdir / "authorized_keys"
    authorized.write_text(Path(f"{client_key}.pub").read_text())
    authorized.chmod(0o600)
    farm = SshdFarm(hosts, port, "root", client_key, workdir)
    try:
        for index in range(0, len(hosts), MAX_LISTEN_SOCKS):
            chunk = hosts[index : index + MAX_LISTEN_SOCKS]
            config = workdir / f"sshd_{index // MAX_LISTEN_SOCKS}.conf"
            config.write_text(_sshd_config(chunk, port, host_key, authorized, workdir, index))
            log = workdir / f"sshd_{index // MAX_LISTEN_SOCKS}.log"
            check = subprocess.run(
                [tools["sshd"], "-t", "-f", str(config)], capture_output=True, text=True
            )
            if check.returncode != 0:
                raise PeerUnavailable(f"sshd rejected its config: {check.stderr.strip()}")
            farm.processes.append(
                subprocess.Popen(
                    [tools["sshd"], "-D", "-f", str(config), "-E", str(log)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 15
        for index in range(0, len(hosts), MAX_LISTEN_SOCKS):
            if not _wait_tcp(hosts[index], port, deadline):
                log = workdir / f"sshd_{index // MAX_LISTEN_SOCKS}.log"
                text = log.read_text(errors="replace") if log.exists() else ""
                raise PeerUnavailable(f"sshd on {hosts[index]}:{port} did not start: {text[-500:]}")
    except BaseException:
        farm.stop()
        raise
    return farm


def _sshd_config(
    hosts: Sequence[str], port: int, host_key: Path, authorized: Path, workdir: Path, n: int
) -> str:
    listen = "\n".join(f"ListenAddress {h}" for h in hosts)
    return f"""\
Port {port}
{listen}
HostKey {host_key}
PidFile {workdir}/sshd_{n}.pid
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200:30:400
MaxSessions 100
MaxAuthTries 10
LoginGraceTime 60
LogLevel ERROR
# Commands run through root's login shell (bash), which sources ~/.bashrc for ssh
# commands unless it is nested (SHLVL ≥ 1 inherited). Developer machines' rc files
# (pyenv init: ≈ 200 ms per command here) would otherwise dominate the figures, for
# both clients alike; the benchmark measures SSH, not the machine's shell set-up.
SetEnv SHLVL=1
"""


# -- net-snmp ---------------------------------------------------------------------------------


@dataclass
class SnmpdAgent:
    """One net-snmp agent answering v2c ``community`` on every 127.x.y.z at ``port``."""

    port: int
    community: str
    snmpget: str
    workdir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


SNMPD_SYSNAME = "bench-agent"
SNMPD_LOCATION = "bench-lab"


def start_snmpd(*, port: int | None = None, community: str = "public") -> SnmpdAgent:
    """Start ``snmpd -f -C -c CONF udp:PORT`` (all local addresses); wait until it answers."""
    tools = ensure_apt({"snmpd": "snmpd", "snmpget": "snmp"})
    port = port or free_port(socket.SOCK_DGRAM)
    workdir = Path(tempfile.mkdtemp(prefix="opsc-bench-snmpd-"))
    config = workdir / "snmpd.conf"
    config.write_text(
        f"rocommunity {community} 127.0.0.0/8\n"
        f"sysName {SNMPD_SYSNAME}\n"
        f"sysLocation {SNMPD_LOCATION}\n"
        "dontLogTCPWrappersConnects yes\n"
    )
    # udp:PORT binds 0.0.0.0, but the community is only valid from 127.0.0.0/8 and the
    # benchmark sends only there. MIBS= keeps snmpd from parsing (absent) MIB files.
    env = {**os.environ, "MIBS": "", "MIBDIRS": str(workdir)}
    process = subprocess.Popen(
        [
            tools["snmpd"],
            "-f",
            "-C",
            "-c",
            str(config),
            "-Lf",
            str(workdir / "snmpd.log"),
            "-p",
            str(workdir / "snmpd.pid"),
            f"udp:{port}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    agent = SnmpdAgent(port, community, tools["snmpget"], workdir, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(PeerUnavailable):
            probe = ["-On", "-v2c", "-c", community, "-t", "0.3", "-r", "0"]
            out = _run(
                [agent.snmpget, *probe, f"127.0.0.1:{port}", "1.3.6.1.2.1.1.5.0"],
                timeout=5,
                env=env,
            )
            if SNMPD_SYSNAME in out:
                return agent
        time.sleep(0.1)
    log = workdir / "snmpd.log"
    text = log.read_text(errors="replace")[-500:] if log.exists() else ""
    agent.stop()
    raise PeerUnavailable(f"snmpd on udp:{port} did not answer: {text}")


def snmpd_address(i: int) -> str:
    """The ``i``-th of the benchmark's distinct agent addresses, 127.1.x.y (i < 62,500)."""
    return f"127.1.{i // 250}.{i % 250 + 1}"


def snmpget_sweep(
    agent: SnmpdAgent,
    addresses: Sequence[str],
    oids: Sequence[str],
    *,
    parallel: int = 16,
    expect: str = SNMPD_SYSNAME,
) -> tuple[float, int]:
    """net-snmp's ``snmpget`` once per address, ``parallel`` at a time: (wall s, answered).

    An answer counts when ``snmpget`` exits 0 and prints ``expect`` ("" for any output).
    """

    def one(address: str) -> bool:
        argv = [agent.snmpget, "-v2c", "-c", agent.community, "-t", "1", "-r", "1"]
        done = subprocess.run(
            [*argv, f"{address}:{agent.port}", *oids],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode == 0 and expect in done.stdout

    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        answered = sum(pool.map(one, addresses))
    return time.perf_counter() - started, answered
