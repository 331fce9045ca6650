"""Credential use cases: metadata in the database, the secret in the keyring.

The secret is written to the keyring only after the metadata row is committed, and a
failing keyring rolls the row back, so no credential exists without its secret.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsconductor_desktop.domain.connectors import FieldType, parse_manifest
from opsconductor_desktop.domain.credentials import (
    SECRET_FIELDS,
    SNMPV3_AUTH,
    SNMPV3_PRIV,
    Credential,
    CredentialKind,
    Secret,
)
from opsconductor_desktop.domain.errors import NotFoundError, OpsError, ValidationError
from opsconductor_desktop.domain.events import Action, Entity
from opsconductor_desktop.domain.targets import validate_name
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services import records
from opsconductor_desktop.services.inventory import _check_version, _ensure_name_free, _flush
from opsconductor_desktop.services.uow import ServiceContext, unit_of_work
from opsconductor_desktop.store.models import ConnectorRow, CredentialRow, TargetRow

log = logging.getLogger(__name__)


class CredentialInUseError(OpsError):
    """A credential still referenced by targets cannot be deleted."""


def _check_secret(kind: CredentialKind, secret: Secret) -> Secret:
    allowed = SECRET_FIELDS[kind]
    values = {k: v for k, v in secret.reveal().items() if v}
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError(f"a {kind} credential has no field(s) {', '.join(unknown)}")
    if not values.get(allowed[0]) and kind is not CredentialKind.SNMPV3:
        raise ValidationError(f"a {kind} credential needs its {allowed[0].replace('_', ' ')}")
    return Secret(values)


def _check_protocols(kind: CredentialKind, auth: str | None, priv: str | None) -> None:
    if kind is not CredentialKind.SNMPV3:
        if auth or priv:
            raise ValidationError("auth/priv protocols apply to snmpv3 credentials only")
        return
    if auth and auth not in SNMPV3_AUTH:
        raise ValidationError(f"unknown auth protocol {auth!r}; one of {', '.join(SNMPV3_AUTH)}")
    if priv and priv not in SNMPV3_PRIV:
        raise ValidationError(f"unknown priv protocol {priv!r}; one of {', '.join(SNMPV3_PRIV)}")


class CredentialService:
    """Create, rename, list and delete credentials; read a secret for a driver."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def list(self) -> list[Credential]:
        async with self.ctx.db.session() as s:
            rows = (await s.scalars(select(CredentialRow).order_by(CredentialRow.name))).all()
            return [records.credential_from_row(r) for r in rows]

    async def get(self, ref: str | uuid.UUID) -> Credential:
        async with self.ctx.db.session() as s:
            return records.credential_from_row(await _row(s, ref))

    async def usage(self, ref: str | uuid.UUID) -> int:
        """How many targets use the credential."""
        async with self.ctx.db.session() as s:
            row = await _row(s, ref)
            return await _usage(s, row.id)

    async def create(
        self,
        name: str,
        kind: CredentialKind,
        secret: Secret,
        *,
        username: str | None = None,
        auth_protocol: str | None = None,
        priv_protocol: str | None = None,
    ) -> Credential:
        name = validate_name(name, what="credential name")
        secret = _check_secret(kind, secret)
        _check_protocols(kind, auth_protocol, priv_protocol)
        store = self.ctx.secrets
        _ = store.backend  # fail early, before anything is written, if there is no keyring
        cid = uuid.uuid4()
        ref = f"credential:{cid}"
        async with unit_of_work(self.ctx) as tx:
            await _ensure_name_free(tx.session, CredentialRow, name, "credential")
            row = CredentialRow(
                id=cid,
                version=1,
                name=name,
                kind=kind.value,
                username=username or None,
                auth_protocol=auth_protocol,
                priv_protocol=priv_protocol,
                secret_ref=ref,
            )
            tx.session.add(row)
            await _flush(tx.session, "credential", name)
            tx.audit(
                "create",
                Entity.CREDENTIAL,
                cid,
                f"created credential {name} ({kind})",
                after={"name": name, "kind": kind.value, "username": username},
            )
            tx.changed(Entity.CREDENTIAL, Action.CREATED, [cid])
            store.put(ref, secret)  # inside the transaction: a keyring failure rolls back
        return await self.get(cid)

    async def rename(
        self, ref: str | uuid.UUID, new_name: str, *, expected_version: int
    ) -> Credential:
        new_name = validate_name(new_name, what="credential name")
        async with unit_of_work(self.ctx) as tx:
            row = await _row(tx.session, ref)
            _check_version(row.version, expected_version, f"credential {row.name}")
            if new_name != row.name:
                await _ensure_name_free(tx.session, CredentialRow, new_name, "credential")
            old = row.name
            row.name = new_name
            await _flush(tx.session, "credential", new_name)
            tx.audit(
                "rename",
                Entity.CREDENTIAL,
                row.id,
                f"renamed credential {old} to {new_name}",
                before={"name": old},
                after={"name": new_name},
            )
            tx.changed(Entity.CREDENTIAL, Action.UPDATED, [row.id])
            # targets show credential names: they changed too
            tx.changed(Entity.TARGET, Action.UPDATED, [])
            # connectors name their credentials: follow the rename
            for conn, fields in await _connector_refs(tx.session, old):
                settings = dict(conn.settings or {})
                for name in fields:
                    settings[name] = _renamed(settings[name], old, new_name)
                conn.settings = settings
                tx.audit(
                    "update",
                    Entity.CONNECTOR,
                    conn.id,
                    f"connector {conn.name}: credential {old} renamed to {new_name}",
                )
                tx.changed(Entity.CONNECTOR, Action.UPDATED, [conn.id])
        return await self.get(row.id)

    async def set_secret(self, ref: str | uuid.UUID, secret: Secret) -> None:
        """Replace the secret of a credential (the metadata row's version moves on)."""
        async with unit_of_work(self.ctx) as tx:
            row = await _row(tx.session, ref)
            secret = _check_secret(CredentialKind(row.kind), secret)
            row.updated_at = utcnow()  # the row's version moves on with the secret
            tx.audit("set-secret", Entity.CREDENTIAL, row.id, f"changed secret of {row.name}")
            tx.changed(Entity.CREDENTIAL, Action.UPDATED, [row.id])
            # a listening connector (SNMPv3 trap users) reads its keys when it starts: its
            # version moves on, so the receivers restart with the new secret
            for conn, _ in await _connector_refs(tx.session, row.name):
                conn.updated_at = utcnow()
                tx.changed(Entity.CONNECTOR, Action.UPDATED, [conn.id])
            self.ctx.secrets.put(row.secret_ref, secret)

    async def delete(self, ref: str | uuid.UUID) -> None:
        async with unit_of_work(self.ctx) as tx:
            row = await _row(tx.session, ref)
            used = await _usage(tx.session, row.id)
            if used:
                raise CredentialInUseError(
                    f"credential {row.name} is used by {used} target(s); change them first"
                )
            connectors = await _connector_refs(tx.session, row.name)
            if connectors:
                names = ", ".join(f"{c.name} ({', '.join(fields)})" for c, fields in connectors)
                raise CredentialInUseError(
                    f"credential {row.name} is used by connector(s) {names}; change them first"
                )
            tx.audit(
                "delete",
                Entity.CREDENTIAL,
                row.id,
                f"deleted credential {row.name}",
                before={"name": row.name, "kind": row.kind},
            )
            await tx.session.execute(delete(CredentialRow).where(CredentialRow.id == row.id))
            tx.changed(Entity.CREDENTIAL, Action.DELETED, [row.id])
            secret_ref = row.secret_ref
        self.ctx.secrets.delete(secret_ref)

    async def secret(self, ref: str | uuid.UUID) -> Secret:
        """The secret of a credential, for a driver. Never log or display it."""
        cred = await self.get(ref)
        async with self.ctx.db.session() as s:
            row = await _row(s, cred.id)
            found = self.ctx.secrets.get(row.secret_ref)
        if found is None:
            raise NotFoundError(f"the keyring holds no secret for credential {cred.name}")
        return found


async def _row(session: AsyncSession, ref: str | uuid.UUID) -> CredentialRow:
    try:
        ident: uuid.UUID | None = ref if isinstance(ref, uuid.UUID) else uuid.UUID(str(ref))
    except ValueError:
        ident = None
    cond = CredentialRow.id == ident if ident else CredentialRow.name == str(ref).strip()
    row = await session.scalar(select(CredentialRow).where(cond))
    if row is None:
        raise NotFoundError(f"no credential named {str(ref)!r}")
    return row


async def _usage(session: AsyncSession, cid: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                or_(TargetRow.snmp_credential_id == cid, TargetRow.ssh_credential_id == cid)
            )
        )
        or 0
    )


async def _connector_refs(session: AsyncSession, name: str) -> list[tuple[ConnectorRow, list[str]]]:
    """The connectors whose credential settings name credential ``name``, with the fields."""
    found: list[tuple[ConnectorRow, list[str]]] = []
    for row in (await session.scalars(select(ConnectorRow).order_by(ConnectorRow.name))).all():
        try:
            fields = parse_manifest(row.manifest).settings
        except ValidationError as exc:  # a stored manifest this version cannot read
            log.warning("connector %s: manifest unreadable (%s)", row.name, exc)
            continue
        settings = row.settings or {}
        using = [
            f.name
            for f in fields
            if f.type is FieldType.CREDENTIAL
            and settings.get(f.name)
            and name in (f.names(settings[f.name]) if f.multiple else [settings[f.name]])
        ]
        if using:
            found.append((row, using))
    return found


def _renamed(value: Any, old: str, new: str) -> Any:
    """A credential setting's value with ``old`` replaced by ``new`` (one name, or a
    comma-separated list whose order is kept)."""
    if isinstance(value, str) and "," in value:
        return ", ".join(new if n.strip() == old else n.strip() for n in value.split(","))
    return new if value == old else value


def secret_from_fields(kind: CredentialKind, values: Mapping[str, str]) -> Secret:
    """Build a ``Secret`` for a kind from named values (prompts, dialogs)."""
    return _check_secret(kind, Secret(dict(values)))
