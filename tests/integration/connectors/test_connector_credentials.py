"""Stored credentials that connectors name: a delete is refused while one is used, a
rename follows into the connectors' settings, a new secret restarts the listeners."""

from __future__ import annotations

from typing import Any

import pytest

from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.services.credentials import CredentialInUseError


async def snmpv3(core: Any, name: str) -> Any:
    return await core.credentials.create(
        name,
        CredentialKind.SNMPV3,
        Secret({"auth_key": f"{name}-auth-key", "priv_key": f"{name}-priv-key"}),
        username=name.replace("-", ""),
        auth_protocol="sha",
        priv_protocol="aes",
    )


async def test_delete_rename_and_new_secret(lite: Any) -> None:
    core = lite
    await snmpv3(core, "noc-traps")
    await snmpv3(core, "core-traps")
    await core.connectors.add(
        "snmp-trap", name="traps", settings={"v3_users": "noc-traps, core-traps", "port": "11162"}
    )
    with pytest.raises(CredentialInUseError, match=r"connector\(s\) traps \(v3_users\)"):
        await core.credentials.delete("core-traps")
    before = await core.connectors.get("traps")

    cred = await core.credentials.get("core-traps")
    await core.credentials.rename("core-traps", "dc1-traps", expected_version=cred.version)
    renamed = await core.connectors.get("traps")
    assert renamed.settings["v3_users"] == "noc-traps, dc1-traps"  # order kept
    assert renamed.version > before.version  # running receivers restart with it

    await core.credentials.set_secret(
        "noc-traps", Secret({"auth_key": "new-auth-key-42", "priv_key": "new-priv-key-42"})
    )
    assert (await core.connectors.get("traps")).version > renamed.version

    await core.connectors.set("traps", {"v3_users": "dc1-traps"})
    await core.credentials.delete("noc-traps")  # no longer used
    assert [c.name for c in await core.credentials.list()] == ["dc1-traps"]
