"""Credentials: metadata in the database, secret only in the keyring, never in messages."""

from __future__ import annotations

from typing import Any

import keyring
import pytest
from sqlalchemy import text

from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.errors import SecretStoreError, ValidationError
from opsconductor_desktop.domain.targets import SshProfile, TargetSpec
from opsconductor_desktop.secrets import SERVICE, SecretStore
from opsconductor_desktop.services.credentials import CredentialInUseError

PASSWORD = "s3cr3t-Pa55w0rd!"


async def dump_database(core: Any) -> str:
    """Every value of every table, as text: a secret must appear nowhere."""
    out = []
    async with core.ctx.db.session() as s:
        for table in ("credentials", "audit_log", "targets"):
            rows = (await s.execute(text(f"SELECT * FROM {table}"))).all()
            out.append(repr(rows))
    return "\n".join(out)


async def test_secret_lives_in_keyring_only(core: Any) -> None:
    cred = await core.credentials.create(
        "lab-ssh", CredentialKind.SSH_PASSWORD, Secret({"password": PASSWORD}), username="netops"
    )
    assert cred.username == "netops"
    assert PASSWORD not in await dump_database(core)
    stored = keyring.get_keyring().get_password(SERVICE, f"credential:{cred.id}")
    assert stored is not None and PASSWORD in stored
    assert (await core.credentials.secret("lab-ssh")).get("password") == PASSWORD
    assert PASSWORD not in repr(await core.credentials.secret("lab-ssh"))


async def test_credential_in_use_cannot_be_deleted(core: Any) -> None:
    await core.credentials.create(
        "ro", CredentialKind.SNMP_COMMUNITY, Secret({"community": "x1y2"})
    )
    await core.inventory.create_target(
        TargetSpec("sw", "10.0.0.1", ssh=SshProfile(credential="ro"))
    )
    with pytest.raises(CredentialInUseError, match="used by 1 target"):
        await core.credentials.delete("ro")
    await core.inventory.delete_targets(["sw"])
    await core.credentials.delete("ro")
    assert await core.credentials.list() == []
    assert keyring.get_keyring().get_password(SERVICE, "credential:x") is None


async def test_rename_keeps_secret_and_target_reference(core: Any) -> None:
    c = await core.credentials.create("old", CredentialKind.TOKEN, Secret({"token": "tok-123"}))
    await core.inventory.create_target(
        TargetSpec("t", "10.0.0.2", ssh=SshProfile(credential="old"))
    )
    await core.credentials.rename("old", "new", expected_version=c.version)
    assert (await core.inventory.get_target("t")).spec.ssh.credential == "new"
    assert (await core.credentials.secret("new")).get("token") == "tok-123"


async def test_bad_secret_fields_rejected(core: Any) -> None:
    with pytest.raises(ValidationError, match="needs its password"):
        await core.credentials.create("e", CredentialKind.SSH_PASSWORD, Secret({}))
    with pytest.raises(ValidationError, match="auth protocol"):
        await core.credentials.create(
            "v3", CredentialKind.SNMPV3, Secret({"auth_key": "a" * 8}), auth_protocol="sha999"
        )
    assert await core.credentials.list() == []


async def test_no_keyring_backend_gives_one_clear_message(core: Any) -> None:
    from keyring.backends import fail

    core.ctx.secrets = SecretStore(fail.Keyring())
    with pytest.raises(SecretStoreError, match="install and unlock a Secret Service"):
        await core.credentials.create("x", CredentialKind.TOKEN, Secret({"token": "t0k3n"}))
    assert await core.credentials.list() == []
