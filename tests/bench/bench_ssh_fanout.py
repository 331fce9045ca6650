"""Benchmark: one ad-hoc SSH command on 100 targets — OpsConductor's job engine vs Ansible.

Peer set-up (``peers.py``): private OpenSSH servers (Debian ``openssh-server``) answering
on 100 distinct loopback addresses 127.0.0.1 … 127.0.0.100, one port, root login with a
generated ed25519 key. Distinct addresses, so neither side can share a connection
between "hosts" — as with real devices.

* OpsConductor, in process: ``core.jobs.start(adhoc_job(ssh=CMD), selection=...)`` through
  the real job engine (SQLite in a temp folder, the key in an in-memory keyring), wall
  time for all targets and the event-loop lag measured by ``looplag.LoopLag`` meanwhile.
* OpsConductor, as a process: ``opsconductor exec --ssh CMD --groups G`` (start-up,
  schema check, the run and its report included).
* Peer: ``ansible all -i INVENTORY -m raw -a CMD -f 50`` (``ansible-core`` from PyPI in
  its own virtualenv), host key checking and connection sharing off.

Each side runs ``OPSC_BENCH_ROUNDS`` times (default 3), alternately; medians and ratios are
printed with PASS/MISS against the goal (≥ 4x faster than Ansible, loop lag p99 < 20 ms).
Never asserts on time.

Run: ``make bench`` or ``.venv/bin/pytest -q -s tests/bench/bench_ssh_fanout.py
-p no:cacheprovider --override-ini addopts=``. Sizes: OPSC_BENCH_SSH_TARGETS (default
100), OPSC_BENCH_SSH_COMMAND (default ``uname -a``), OPSC_BENCH_ANSIBLE_FORKS (50).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from looplag import IdleProcessLag, LagStats, LoopLag
from peers import PeerUnavailable, SshdFarm, ansible_venv, start_sshd_farm

from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.jobs import RunStatus, Selection
from opsconductor_desktop.domain.targets import SshProfile, TargetSpec
from opsconductor_desktop.memkeyring import MemoryKeyring
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import Core, open_core
from opsconductor_desktop.services.jobs import adhoc_job

N = int(os.environ.get("OPSC_BENCH_SSH_TARGETS", "100"))
ROUNDS = int(os.environ.get("OPSC_BENCH_ROUNDS", "3"))
COMMAND = os.environ.get("OPSC_BENCH_SSH_COMMAND", "uname -a")
FORKS = int(os.environ.get("OPSC_BENCH_ANSIBLE_FORKS", "50"))
GROUP = "fanout"
GOAL_RATIO = 4.0
GOAL_LAG_P99 = 0.020

# The CLI in a child process, with the bench's in-memory keyring handed over in a file.
CLI_WRAPPER = """
import json, sys
import keyring
from opsconductor_desktop.memkeyring import MemoryKeyring
from opsconductor_desktop.cli import main
ring = MemoryKeyring()
for service, user, secret in json.load(open(sys.argv[1])):
    ring.set_password(service, user, secret)
keyring.set_keyring(ring)
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def farm() -> Iterator[SshdFarm]:
    try:
        started = time.perf_counter()
        farm = start_sshd_farm(N)
    except PeerUnavailable as exc:
        pytest.skip(f"OpenSSH peer unavailable: {exc}")
    print(
        f"\nsshd: {len(farm.processes)} instance(s) on 127.0.0.1..127.0.0.{N} port {farm.port}, "
        f"up in {time.perf_counter() - started:.1f} s"
    )
    try:
        yield farm
    finally:
        farm.stop()


@pytest.fixture(scope="module")
def ansible_bin() -> Path:
    try:
        return ansible_venv()
    except PeerUnavailable as exc:
        pytest.skip(f"Ansible peer unavailable: {exc}")


@dataclass
class Bench:
    core: Core
    ring: MemoryKeyring
    home: Path
    db_url: str
    names: tuple[str, ...]


async def _prepare(farm: SshdFarm, root: Path) -> Bench:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    home, db_url = root / "home", f"sqlite:///{root / 'bench.db'}"
    core = await open_core(home=home, db_url=db_url, secrets=SecretStore())
    await core.credentials.create(
        "bench-key",
        CredentialKind.SSH_KEY,
        Secret({"private_key": farm.client_key_text, "passphrase": ""}),
        username=farm.user,
    )
    await core.inventory.create_group(GroupSpec(GROUP, description="ssh fan-out bench"))
    names = []
    for i, host in enumerate(farm.hosts):
        spec = TargetSpec(
            name=f"fan-{i:03d}",
            address=host,
            ssh=SshProfile(port=farm.port, username=farm.user, credential="bench-key"),
        )
        names.append((await core.inventory.create_target(spec, groups=[GROUP])).name)
    return Bench(core, ring, home, db_url, tuple(names))


@dataclass
class OpscRun:
    wall: float  # start() called → run finished
    starting: float  # of which start(): resolve targets, endpoints, credentials, rows
    cpu: float  # this process's CPU time (client side only: sshd is other processes)
    lag: LagStats
    ok: int
    control: LagStats | None  # the same probe in an idle process meanwhile


async def _opsc_run(bench: Bench) -> OpscRun:
    """One run through the job engine, timed, with the loop-lag probe running."""
    async with IdleProcessLag() as control, LoopLag() as lag:
        cpu, started = time.process_time(), time.perf_counter()
        handle = await bench.core.jobs.start(
            adhoc_job(ssh=COMMAND), selection=Selection(targets=bench.names)
        )
        starting = time.perf_counter() - started
        await handle.wait()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    targets = await bench.core.jobs.run_targets(handle.run_id)
    ok = sum(t.status is RunStatus.SUCCEEDED for t in targets)
    if ok != len(targets):
        bad = next(t for t in targets if t.status is not RunStatus.SUCCEEDED)
        print(f"  opsconductor: {len(targets) - ok} failed, e.g. {bad.name}: {bad.error}")
    return OpscRun(wall, starting, cpu, lag.stats(), ok, control.stats)


async def _cli_run(bench: Bench, keyfile: Path) -> tuple[float, int]:
    """``opsconductor exec --ssh CMD --groups G`` as a child process: (wall, exit code)."""
    argv = [
        sys.executable,
        "-c",
        CLI_WRAPPER,
        str(keyfile),
        "--home",
        str(bench.home),
        "--db",
        bench.db_url,
        "exec",
        "--ssh",
        COMMAND,
        "--groups",
        GROUP,
        "--format",
        "json",
    ]
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        print(f"  opsconductor exec: exit {process.returncode}: {err.decode()[-300:]}")
    else:
        report = json.loads(out)
        ok = sum(t["status"] == "succeeded" for t in report["targets"])
        if ok != N:
            print(f"  opsconductor exec: only {ok}/{N} succeeded")
    return wall, process.returncode or 0


def _inventory(farm: SshdFarm, path: Path) -> Path:
    lines = [f"[{GROUP}]"]
    lines += [f"fan-{i:03d} ansible_host={host}" for i, host in enumerate(farm.hosts)]
    lines += [
        f"[{GROUP}:vars]",
        f"ansible_port={farm.port}",
        f"ansible_user={farm.user}",
        f"ansible_ssh_private_key_file={farm.client_key}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def _ansible_run(bin_dir: Path, inventory: Path, workdir: Path) -> tuple[float, int, int]:
    """``ansible all -m raw`` over the inventory: (wall, exit code, hosts that answered)."""
    (workdir / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        # no connection sharing: real targets are distinct hosts
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o ControlPersist=no "
        "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no",
        "ANSIBLE_NOCOLOR": "1",
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
    }
    argv = [str(bin_dir / "ansible"), "all", "-i", str(inventory), "-m", "raw", "-a", COMMAND]
    argv += ["-f", str(FORKS)]
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await process.communicate()
    wall = time.perf_counter() - started
    text = out.decode(errors="replace")
    ok = sum(1 for line in text.splitlines() if "| CHANGED |" in line or "| SUCCESS |" in line)
    if process.returncode != 0 or ok != N:
        print(f"  ansible: exit {process.returncode}, {ok}/{N} ok: {err.decode()[-300:]}")
    return wall, process.returncode or 0, ok


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


async def test_ssh_fanout_vs_ansible(farm: SshdFarm, ansible_bin: Path, tmp_path: Path) -> None:
    bench = await _prepare(farm, tmp_path)
    keyfile = tmp_path / "keyring.json"
    inventory = _inventory(farm, tmp_path / "inventory.ini")
    opsc: list[OpscRun] = []
    cli: list[float] = []
    peer: list[float] = []
    try:
        for round_no in range(1, ROUNDS + 1):
            opsc.append(await _opsc_run(bench))
            keyfile.write_text(json.dumps([[s, u, p] for (s, u), p in bench.ring._store.items()]))
            cli.append((await _cli_run(bench, keyfile))[0])
            peer.append((await _ansible_run(ansible_bin, inventory, tmp_path))[0])
            run = opsc[-1]
            print(
                f"round {round_no}: opsconductor {run.wall:5.2f} s (start() {run.starting:4.2f} s, "
                f"client CPU {run.cpu:4.2f} s, {run.ok}/{N} ok, {run.lag}; idle process: "
                f"p99 {run.control.p99 * 1000 if run.control else float('nan'):.1f} ms) | "
                f"opsconductor exec (process) {cli[-1]:5.2f} s | ansible -f {FORKS} "
                f"{peer[-1]:5.2f} s"
            )
    finally:
        await bench.core.close()
    ours = statistics.median(r.wall for r in opsc)
    starting = statistics.median(r.starting for r in opsc)
    cpu = statistics.median(r.cpu for r in opsc)
    ours_cli = statistics.median(cli)
    theirs = statistics.median(peer)
    p99 = statistics.median(r.lag.p99 for r in opsc)
    worst = max(r.lag.max for r in opsc)
    controls = [r.control.p99 for r in opsc if r.control]
    control = f"{statistics.median(controls) * 1000:.1f} ms" if controls else "n/a"
    ratio, ratio_cli = theirs / ours, theirs / ours_cli
    print(
        f"\nSSH fan-out, {N} targets, `{COMMAND}`, medians of {ROUNDS} (round 1 records "
        f"{N} new host keys):\n"
        f"  opsconductor job engine : {ours:6.2f} s  ({N / ours:5.1f} targets/s; start() "
        f"{starting:.2f} s; client CPU {cpu / N * 1000:.1f} ms/target)\n"
        f"  opsconductor exec (CLI) : {ours_cli:6.2f} s\n"
        f"  ansible raw -f {FORKS:<3}     : {theirs:6.2f} s  ({N / theirs:5.1f} targets/s)\n"
        f"  ratio ansible/opsconductor: {ratio:4.1f}x in process, {ratio_cli:4.1f}x as a "
        f"process — goal ≥ {GOAL_RATIO:g}x: {_verdict(ratio >= GOAL_RATIO)}"
        f" (process: {_verdict(ratio_cli >= GOAL_RATIO)})\n"
        f"  loop lag p99 {p99 * 1000:.1f} ms (median of runs; worst max {worst * 1000:.1f} ms)"
        f" — goal < {GOAL_LAG_P99 * 1000:g} ms: {_verdict(p99 < GOAL_LAG_P99)}\n"
        f"  (an idle process on the same machine meanwhile: p99 {control} — the share of the"
        f" lag that is the OS scheduling a saturated machine, not this process)"
    )
    assert all(r.ok == N for r in opsc), "every target must succeed"
