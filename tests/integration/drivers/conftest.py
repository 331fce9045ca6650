"""Real peers for the driver tests: snmpsim (own virtualenv, subprocess) and an asyncssh server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncssh
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from support.snmpsim import DATA_DIR, SnmpSimAgent, V3User, start_snmpsim
from support.sshserver import SshTestServer

from opsconductor_desktop.domain.results import SnmpEndpoint, SshEndpoint
from opsconductor_desktop.drivers.snmp import SnmpDriver
from opsconductor_desktop.drivers.ssh import SshDriver

V3_USERS = (
    V3User("ops-sha-aes", "auth-sha-secret", "SHA", "priv-aes-secret", "AES"),
    V3User("ops-sha256-aes256", "auth-sha256-secret", "SHA256", "priv-aes256-secret", "AES256"),
    V3User("ops-md5-des", "auth-md5-secret", "MD5", "priv-des-secret", "DES"),
    V3User("ops-sha512-auth", "auth-sha512-secret", "SHA512"),
    V3User("ops-noauth"),
)


@pytest.fixture(scope="session")
def snmp_agent() -> Iterator[SnmpSimAgent]:
    """One snmpsim process for the session, serving tests/data/snmp/public.snmprec."""
    agent = start_snmpsim([DATA_DIR / "public.snmprec"], users=V3_USERS)
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
async def snmp() -> AsyncIterator[SnmpDriver]:
    driver = SnmpDriver()
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def v2c(snmp_agent: SnmpSimAgent) -> SnmpEndpoint:
    return SnmpEndpoint(
        snmp_agent.host, snmp_agent.port, "v2c", community="public", timeout=1.0, retries=1
    )


@pytest.fixture
def v1(snmp_agent: SnmpSimAgent) -> SnmpEndpoint:
    return SnmpEndpoint(
        snmp_agent.host, snmp_agent.port, "v1", community="public", timeout=1.0, retries=1
    )


V3Factory = Callable[..., SnmpEndpoint]


@pytest.fixture
def v3(snmp_agent: SnmpSimAgent) -> V3Factory:
    """``v3(user_name, **overrides)``: an SNMPv3 endpoint for one of ``V3_USERS``."""

    def make(name: str, **overrides: object) -> SnmpEndpoint:
        user = next(u for u in V3_USERS if u.name == name)
        values: dict[str, object] = {
            "user": user.name,
            "auth_protocol": user.auth_proto.lower() if user.auth_key else "none",
            "auth_key": user.auth_key,
            "priv_protocol": user.priv_proto.lower() if user.priv_key else "none",
            "priv_key": user.priv_key,
            "context": "public",
            "timeout": 1.0,
            "retries": 1,
        }
        values.update(overrides)
        return SnmpEndpoint(snmp_agent.host, snmp_agent.port, "v3", **values)  # type: ignore[arg-type]

    return make


# -- SSH -------------------------------------------------------------------------------

SSH_USER = "operator"
SSH_PASSWORD = "correct horse battery staple"
KEY_PASSPHRASE = "key-passphrase-42"


ClientKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@pytest.fixture(scope="session")
def client_keys() -> dict[str, ClientKey]:
    """Client key pairs of each supported type, made as ssh-keygen makes them."""
    return {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa": ec.generate_private_key(ec.SECP256R1()),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


def private_key_text(key: ClientKey, fmt: str, passphrase: str | None = None) -> str:
    """The key file's text: ``openssh`` (ssh-keygen's default), ``pem`` (traditional
    PKCS#1 / SEC1) or ``pkcs8``; encrypted when ``passphrase`` is given."""
    formats = {
        "openssh": serialization.PrivateFormat.OpenSSH,
        "pem": serialization.PrivateFormat.TraditionalOpenSSL,
        "pkcs8": serialization.PrivateFormat.PKCS8,
    }
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, formats[fmt], encryption).decode()


def _public(key: ClientKey) -> asyncssh.SSHKey:
    blob = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return asyncssh.import_public_key(blob)


@pytest.fixture
async def ssh_server(client_keys: dict[str, ClientKey]) -> AsyncIterator[SshTestServer]:
    server = await SshTestServer.start(
        passwords={SSH_USER: SSH_PASSWORD},
        authorized={SSH_USER: [_public(k) for k in client_keys.values()]},
    )
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def ssh(tmp_path: Path) -> AsyncIterator[SshDriver]:
    driver = SshDriver(tmp_path / "known_hosts", max_workers=4)
    try:
        yield driver
    finally:
        await driver.close()


@pytest.fixture
def ssh_ep(ssh_server: SshTestServer) -> SshEndpoint:
    return SshEndpoint(
        ssh_server.host, SSH_USER, port=ssh_server.port, password=SSH_PASSWORD, connect_timeout=5
    )
