"""Connector settings: checking changes, reading secrets and resolving credentials.

Used by ``ConnectorService`` (``services.connectors``): secret settings live in the
keyring (one entry per connector), ``credential`` settings name a stored credential whose
secret is read at poll time; every secret value read is redacted from the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from opsconductor_desktop import logs
from opsconductor_desktop.domain.connectors import (
    ConnectorKind,
    FieldType,
    Manifest,
    SettingField,
    missing_required,
    settings_for,
)
from opsconductor_desktop.domain.credentials import Credential
from opsconductor_desktop.domain.errors import SecretStoreError, ValidationError
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.connector_records import Loaded, interval_of, secret_fields
from opsconductor_desktop.services.credentials import CredentialService

__all__ = [
    "apply_settings",
    "check_runnable",
    "credential_for",
    "resolved_settings",
    "secret_names",
    "secret_values",
]

log = logging.getLogger(__name__)


def secret_names(store: SecretStore, conn: Loaded) -> list[str]:
    """The names of the secret settings that are set ([] when the keyring cannot be read)."""
    if not secret_fields(conn.manifest):
        return []
    try:
        found = store.get(conn.secret_ref)
    except SecretStoreError as exc:  # no keyring here: list the connector, secrets unknown
        log.info("the secrets of connector %s cannot be read: %s", conn.name, exc)
        return []
    return sorted(k for k, v in (found.reveal() if found else {}).items() if v)


def secret_values(store: SecretStore, conn: Loaded) -> dict[str, str]:
    if not secret_fields(conn.manifest):
        return {}
    found = store.get(conn.secret_ref)
    return {k: v for k, v in (found.reveal() if found else {}).items() if v}


async def apply_settings(
    credentials: CredentialService,
    m: Manifest,
    public: Mapping[str, Any],
    secrets: Mapping[str, str],
    values: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """New (public settings, secret values) after ``values``; each checked by its field."""
    new_public, new_secrets = dict(public), dict(secrets)
    for key, value in values.items():
        f = m.setting(str(key))
        if f is None:
            names = ", ".join(x.name for x in m.settings) or "none"
            raise ValidationError(f"{m.id} has no setting {key!r} (settings: {names})")
        unset = value is None or (isinstance(value, str) and not value.strip())
        target: dict[str, Any] = new_secrets if f.secret else new_public
        if unset:
            target.pop(f.name, None)
            continue
        coerced = f.coerce(value)
        if f.type is FieldType.CREDENTIAL:
            wanted = f.names(coerced) if f.multiple else [coerced]
            found = [await credential_for(credentials, f, ref) for ref in wanted]
            coerced = ", ".join(c.name for c in found)
        if f.secret:
            logs.redact(coerced)
        target[f.name] = coerced
    return new_public, new_secrets


async def credential_for(credentials: CredentialService, f: SettingField, ref: str) -> Credential:
    """The stored credential ``ref`` names, of the kind the field asks for."""
    cred = await credentials.get(ref)
    if f.credential_kind and cred.kind.value != f.credential_kind:
        raise ValidationError(
            f"{f.name}: credential {cred.name} is a {cred.kind.value} credential; "
            f"a {f.credential_kind} one is needed"
        )
    return cred


def check_runnable(
    m: Manifest, public: Mapping[str, Any], secrets: Mapping[str, str], enabled: bool
) -> None:
    if m.kind is ConnectorKind.HTTP_POLL:
        interval_of(m, settings_for(m, public))
    if not enabled:
        return
    missing = missing_required(m, settings_for(m, public), secrets)
    if missing:
        raise ValidationError(
            f"{m.id} needs {', '.join(missing)} before it can be enabled "
            f"(set {' '.join(f'{x}=...' for x in missing)})"
        )


async def resolved_settings(
    store: SecretStore, credentials: CredentialService, conn: Loaded
) -> tuple[dict[str, Any], list[str]]:
    """Settings with secrets and credentials filled in, and the secret values (to mask)."""
    m = conn.manifest
    values: dict[str, Any] = settings_for(m, conn.settings)
    secrets = secret_values(store, conn)
    values.update(secrets)
    hidden = list(secrets.values())
    for f in m.settings:
        if f.type is FieldType.CREDENTIAL and values.get(f.name):
            refs = f.names(values[f.name]) if f.multiple else [values[f.name]]
            resolved = []
            for ref in refs:
                cred = await credential_for(credentials, f, ref)
                secret = (await credentials.secret(cred.id)).reveal()
                hidden += [v for v in secret.values() if v]
                resolved.append(
                    {
                        **secret,
                        "username": cred.username or "",
                        "name": cred.name,
                        "kind": cred.kind.value,
                        "auth_protocol": cred.auth_protocol or "none",
                        "priv_protocol": cred.priv_protocol or "none",
                    }
                )
            values[f.name] = resolved if f.multiple else resolved[0]
    for value in list(hidden):  # as they appear in a URL's query string too
        hidden += [quote(value, safe=""), quote_plus(value)]
    for value in hidden:
        logs.redact(value)
    return values, hidden
