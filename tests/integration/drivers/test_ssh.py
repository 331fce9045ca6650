"""SshDriver (paramiko) against a real SSH server (asyncssh on loopback)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncssh
import pytest
from support.sshserver import HOSTNAME, SshTestServer

from opsconductor_desktop.domain.results import (
    HostKeyChangedError,
    HostKeyUnknownError,
    SshAuthError,
    SshConnectError,
    SshEndpoint,
)
from opsconductor_desktop.drivers.ssh import MiB, SshDriver

from .conftest import KEY_PASSPHRASE, SSH_PASSWORD, SSH_USER, ClientKey, private_key_text


async def _server_saw(server: SshTestServer, event: tuple[str, str], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if event in server.events:
            return True
        await asyncio.sleep(0.02)
    return event in server.events


async def test_password_login_and_command(ssh: SshDriver, ssh_ep: SshEndpoint) -> None:
    result = await ssh.run(ssh_ep, "echo hello operator")
    assert result.ok
    assert (result.exit_status, result.stdout, result.stderr) == (0, b"hello operator\n", b"")
    assert result.text() == "hello operator\n"
    assert not result.timed_out
    assert not result.stdout_truncated
    assert ssh._sessions == set()  # the convenience call closed its session


async def test_exit_status_and_stderr(ssh: SshDriver, ssh_ep: SshEndpoint) -> None:
    async with await ssh.connect(ssh_ep) as session:
        failed = await session.run("fail disk full")
        assert (failed.exit_status, failed.stderr, failed.stdout) == (1, b"disk full\n", b"")
        assert not failed.ok
        assert (await session.run("exit 7")).exit_status == 7
        missing = await session.run("no-such-tool --flag")
        assert missing.exit_status == 127
        assert missing.text("stderr") == "no-such-tool: command not found\n"


@pytest.mark.parametrize(
    ("kind", "fmt", "passphrase"),
    [
        ("ed25519", "openssh", None),
        ("ecdsa", "openssh", None),
        ("rsa", "openssh", None),
        ("rsa", "pem", None),
        ("ecdsa", "pem", None),
        ("ed25519", "openssh", KEY_PASSPHRASE),
        ("ecdsa", "openssh", KEY_PASSPHRASE),
        ("rsa", "pem", KEY_PASSPHRASE),
        ("rsa", "pkcs8", KEY_PASSPHRASE),
    ],
)
async def test_key_login(
    ssh: SshDriver,
    ssh_server: SshTestServer,
    client_keys: dict[str, ClientKey],
    kind: str,
    fmt: str,
    passphrase: str | None,
) -> None:
    text = private_key_text(client_keys[kind], fmt, passphrase)
    ep = SshEndpoint(
        ssh_server.host, SSH_USER, port=ssh_server.port, private_key=text, passphrase=passphrase
    )
    result = await ssh.run(ep, "whoami")
    assert result.stdout == f"{SSH_USER}\n".encode()


async def test_encrypted_key_without_or_with_wrong_passphrase(
    ssh: SshDriver, ssh_server: SshTestServer, client_keys: dict[str, ClientKey]
) -> None:
    text = private_key_text(client_keys["ed25519"], "openssh", KEY_PASSPHRASE)
    ep = SshEndpoint(ssh_server.host, SSH_USER, port=ssh_server.port, private_key=text)
    with pytest.raises(SshAuthError, match="passphrase"):
        await ssh.run(ep, "whoami")
    wrong = SshEndpoint(
        ssh_server.host,
        SSH_USER,
        port=ssh_server.port,
        private_key=text,
        passphrase="not-the-passphrase",
    )
    with pytest.raises(SshAuthError) as caught:
        await ssh.run(wrong, "whoami")
    assert "not-the-passphrase" not in str(caught.value)


async def test_unauthorized_key_is_refused(ssh: SshDriver, ssh_server: SshTestServer) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    ep = SshEndpoint(ssh_server.host, SSH_USER, port=ssh_server.port, private_key=stranger)
    with pytest.raises(SshAuthError, match="public key"):
        await ssh.run(ep, "whoami")


async def test_wrong_password_is_an_auth_error_without_the_password(
    ssh: SshDriver, ssh_server: SshTestServer
) -> None:
    ep = SshEndpoint(ssh_server.host, SSH_USER, port=ssh_server.port, password="Tr0ub4dor&3-wrong")
    with pytest.raises(SshAuthError) as caught:
        await ssh.run(ep, "echo never")
    message = str(caught.value)
    assert "Tr0ub4dor" not in message
    assert SSH_PASSWORD not in message
    assert SSH_USER in message
    assert str(ssh_server.port) in message
    assert "Tr0ub4dor" not in repr(ep)
    assert ("command", "echo never") not in ssh_server.events


async def test_trust_on_first_use_then_refuse_a_changed_key(
    ssh: SshDriver, ssh_server: SshTestServer, ssh_ep: SshEndpoint, tmp_path: Path
) -> None:
    first_fp = ssh_server.host_key_fingerprint
    async with await ssh.connect(ssh_ep) as session:
        assert session.host_key.newly_trusted
        assert session.host_key.fingerprint == first_fp
        result = await session.run("hostname")
        assert result.new_host_key_fingerprint == first_fp
        assert result.stdout == f"{HOSTNAME}\n".encode()
    recorded = (tmp_path / "known_hosts").read_text()
    assert recorded.startswith(f"[127.0.0.1]:{ssh_server.port} ssh-ed25519 ")

    async with await ssh.connect(ssh_ep) as again:  # known now: no longer "new"
        assert not again.host_key.newly_trusted
        assert (await again.run("hostname")).new_host_key_fingerprint is None

    await ssh_server.restart(new_host_key=True)  # same address, different key
    second_fp = ssh_server.host_key_fingerprint
    assert second_fp != first_fp
    auths_before = [e for e in ssh_server.events if e[0] == "password-auth"]
    with pytest.raises(HostKeyChangedError) as caught:
        await ssh.connect(ssh_ep)
    message = str(caught.value)
    assert first_fp in message
    assert second_fp in message
    assert f"[127.0.0.1]:{ssh_server.port}" in message
    assert caught.value.stored_fingerprint == first_fp
    assert caught.value.offered_fingerprint == second_fp
    # the password was never offered to the impostor
    assert [e for e in ssh_server.events if e[0] == "password-auth"] == auths_before
    assert (tmp_path / "known_hosts").read_text() == recorded  # not overwritten

    # after the operator confirms the re-key, forgetting the entry lets TOFU record the new one
    assert ssh.known_hosts.forget("127.0.0.1", ssh_server.port)
    async with await ssh.connect(ssh_ep) as rekeyed:
        assert rekeyed.host_key.newly_trusted
        assert rekeyed.host_key.fingerprint == second_fp


async def test_unknown_key_refused_when_tofu_is_off(ssh_ep: SshEndpoint, tmp_path: Path) -> None:
    strict = SshDriver(tmp_path / "strict_known_hosts", max_workers=1, trust_on_first_use=False)
    try:
        with pytest.raises(HostKeyUnknownError, match="SHA256:"):
            await strict.connect(ssh_ep)
        assert not (tmp_path / "strict_known_hosts").exists()
    finally:
        await strict.close()


async def test_timeout_closes_the_channel(
    ssh: SshDriver, ssh_server: SshTestServer, ssh_ep: SshEndpoint
) -> None:
    async with await ssh.connect(ssh_ep) as session:
        started = time.monotonic()
        result = await session.run("sleep 30", timeout=0.5)
        elapsed = time.monotonic() - started
        assert result.timed_out
        assert result.exit_status is None
        assert not result.ok
        assert 0.45 < elapsed < 1.5
        assert await _server_saw(ssh_server, ("closed-early", "sleep 30"), within=1.0)
        # the connection survives: the next command runs normally
        assert (await session.run("echo still here")).stdout == b"still here\n"


async def test_cancelling_the_task_stops_the_command(
    ssh: SshDriver, ssh_server: SshTestServer, ssh_ep: SshEndpoint
) -> None:
    async with await ssh.connect(ssh_ep) as session:
        task = asyncio.create_task(session.run("sleep 20", timeout=60))
        assert await _server_saw(ssh_server, ("command", "sleep 20"), within=2.0)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 0.5
        assert await _server_saw(ssh_server, ("closed-early", "sleep 20"), within=1.0)


async def test_output_is_capped_with_truncated_flags(ssh: SshDriver, ssh_ep: SshEndpoint) -> None:
    result = await ssh.run(ssh_ep, "big 5000000 3000000", timeout=30)
    assert result.exit_status == 0
    assert not result.timed_out
    assert len(result.stdout) == MiB
    assert result.stdout_truncated
    assert len(result.stderr) == MiB
    assert result.stderr_truncated
    assert result.stdout[:6] == b"y\ny\ny\n"
    small = await ssh.run(ssh_ep, "big 1000", max_output=MiB)
    assert len(small.stdout) == 1000
    assert not small.stdout_truncated


async def test_timeout_bounds_a_command_that_floods_output(
    ssh: SshDriver, ssh_server: SshTestServer, ssh_ep: SshEndpoint
) -> None:
    started = time.monotonic()
    result = await ssh.run(ssh_ep, "big 2000000000", timeout=1.0)
    assert result.timed_out
    assert result.stdout_truncated
    assert len(result.stdout) == MiB
    assert time.monotonic() - started < 2.5


async def test_binary_output_is_kept_as_bytes(ssh: SshDriver, ssh_ep: SshEndpoint) -> None:
    result = await ssh.run(ssh_ep, "binary")
    assert result.stdout == bytes(range(256)) * 4
    assert "\ufffd" in result.text()  # decoding is safe, never raises


async def test_one_connection_serves_several_commands(
    ssh: SshDriver, ssh_server: SshTestServer, ssh_ep: SshEndpoint
) -> None:
    before = ssh_server.connections
    async with await ssh.connect(ssh_ep) as session:
        ids = [(await session.run("conn-id")).stdout for _ in range(3)]
        together = await asyncio.gather(*(session.run(f"echo {i}") for i in range(5)))
    assert len(set(ids)) == 1
    assert [r.stdout for r in together] == [f"{i}\n".encode() for i in range(5)]
    assert ssh_server.connections == before + 1
    assert not session.is_open


async def test_more_runs_than_workers(ssh: SshDriver, ssh_ep: SshEndpoint) -> None:
    results = await asyncio.gather(*(ssh.run(ssh_ep, f"echo {i}") for i in range(8)))
    assert [r.stdout for r in results] == [f"{i}\n".encode() for i in range(8)]


async def test_connection_refused(ssh: SshDriver) -> None:
    server = await SshTestServer.start(passwords={})
    port = server.port
    await server.stop()
    ep = SshEndpoint("127.0.0.1", SSH_USER, port=port, password="x", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(SshConnectError, match="refused"):
        await ssh.connect(ep)
    assert time.monotonic() - started < 1.0


async def test_endpoint_repr_hides_secrets(client_keys: dict[str, ClientKey]) -> None:
    key_text = private_key_text(client_keys["ed25519"], "openssh")
    ep = SshEndpoint("h", "u", password="pw-123456", private_key=key_text, passphrase="pp-42")
    text = repr(ep)
    assert "pw-123456" not in text
    assert "PRIVATE KEY" not in text
    assert "pp-42" not in text
