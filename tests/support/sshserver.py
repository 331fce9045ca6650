"""A real SSH server for tests: asyncssh in the test's event loop, on 127.0.0.1.

Commands are implemented in Python inside the session handler (no shell is spawned),
so tests are hermetic and deterministic:

``echo WORDS``            WORDS and a newline on stdout
``hostname``              ``opsc-test-host``
``whoami``                the logged-in user
``conn-id``               a number unique to the SSH connection (proves reuse)
``exit N``                exit status N
``fail TEXT``             TEXT on stderr, exit status 1
``sleep SECONDS``         waits; records ``("closed-early", command)`` in ``events`` if the
                          client closes the channel before the time is up
``big OUT [ERR]``         OUT bytes on stdout (and ERR on stderr, concurrently)
``binary``                bytes 0..255 repeated 4 times, on stdout
anything else             ``command not found`` on stderr, exit status 127

``restart(new_host_key=True)`` brings the server back on the same port with a different
host key (for the host-key-change test).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncssh

HOSTNAME = "opsc-test-host"
_CHUNK = 64 * 1024


def fingerprint(key: asyncssh.SSHKey) -> str:
    """OpenSSH's SHA256 fingerprint of a public key."""
    blob = key.public_data
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


@dataclass
class SshTestServer:
    """The server and what it observed. Create with ``await SshTestServer.start(...)``."""

    passwords: dict[str, str]
    authorized: dict[str, list[asyncssh.SSHKey]]
    host_key: asyncssh.SSHKey
    host: str = "127.0.0.1"
    port: int = 0
    events: list[tuple[str, str]] = field(default_factory=list)
    connections: int = 0
    _server: asyncssh.SSHAcceptor | None = None
    _live: set[asyncssh.SSHServerConnection] = field(default_factory=set)
    _conn_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    async def start(
        cls,
        *,
        passwords: dict[str, str],
        authorized: dict[str, Iterable[asyncssh.SSHKey]] | None = None,
        host_key: asyncssh.SSHKey | None = None,
    ) -> SshTestServer:
        server = cls(
            passwords=dict(passwords),
            authorized={u: list(k) for u, k in (authorized or {}).items()},
            host_key=host_key or asyncssh.generate_private_key("ssh-ed25519"),
        )
        await server._listen()
        return server

    @property
    def host_key_fingerprint(self) -> str:
        return fingerprint(self.host_key)

    async def _listen(self) -> None:
        self._server = await asyncssh.create_server(
            lambda: _Server(self),
            self.host,
            self.port,
            server_host_keys=[self.host_key],
            process_factory=self._handle,
            encoding=None,
            reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection still open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for conn in list(self._live):
            conn.close()
            await conn.wait_closed()
        self._live.clear()

    async def restart(self, *, new_host_key: bool = True) -> None:
        """Stop and listen again on the same port, with a fresh host key if asked."""
        await self.stop()
        if new_host_key:
            self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        await self._listen()

    # -- the commands ---------------------------------------------------------------

    async def _handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        command = process.command or ""
        self.events.append(("command", command))
        name, _, rest = command.partition(" ")
        try:
            status = await self._dispatch(process, name, rest.strip())
        except (BrokenPipeError, ConnectionError, asyncssh.Error):
            self.events.append(("client-gone", command))
            return
        process.exit(status)

    async def _dispatch(
        self, process: asyncssh.SSHServerProcess[bytes], name: str, rest: str
    ) -> int:
        out, err = process.stdout, process.stderr
        if name == "echo":
            out.write(rest.encode() + b"\n")
        elif name == "hostname":
            out.write(HOSTNAME.encode() + b"\n")
        elif name == "whoami":
            out.write(process.get_extra_info("username").encode() + b"\n")
        elif name == "conn-id":
            out.write(str(process.get_extra_info("conn_id")).encode() + b"\n")
        elif name == "exit":
            return int(rest or 0)
        elif name == "fail":
            err.write(rest.encode() + b"\n")
            return 1
        elif name == "sleep":
            return await self._sleep(process, float(rest or 1))
        elif name == "big":
            sizes = [int(x) for x in rest.split()] + [0]
            await asyncio.gather(_pour(out, sizes[0]), _pour(err, sizes[1]))
        elif name == "binary":
            out.write(bytes(range(256)) * 4)
        else:
            err.write(f"{name}: command not found\n".encode())
            return 127
        await out.drain()
        return 0

    async def _sleep(self, process: asyncssh.SSHServerProcess[bytes], seconds: float) -> int:
        command = process.command or ""
        try:
            await asyncio.wait_for(process.channel.wait_closed(), seconds)
        except TimeoutError:
            return 0
        self.events.append(("closed-early", command))
        raise BrokenPipeError(command)


async def _pour(stream: asyncssh.SSHWriter[bytes], size: int) -> None:
    pattern = (b"y\n" * (_CHUNK // 2))[:_CHUNK]
    left = size
    while left > 0:
        piece = pattern[: min(left, _CHUNK)]
        stream.write(piece)
        await stream.drain()
        left -= len(piece)


class _Server(asyncssh.SSHServer):
    def __init__(self, owner: SshTestServer) -> None:
        self._owner = owner
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._owner.connections += 1
        self._owner._live.add(conn)
        self._conn = conn
        conn.set_extra_info(conn_id=next(self._owner._conn_ids))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._owner._live.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = self._owner.passwords.get(username) == password
        self._owner.events.append(("password-auth", f"{username}:{'ok' if ok else 'refused'}"))
        return ok

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        keys = self._owner.authorized.get(username, [])
        return any(k.public_data == key.public_data for k in keys)
