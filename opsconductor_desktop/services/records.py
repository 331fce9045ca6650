"""Conversions between stored rows and the immutable values services return."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from opsconductor_desktop.domain import rules as rule_lang
from opsconductor_desktop.domain.credentials import Credential, CredentialKind
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SnmpVersion,
    SshProfile,
    Target,
    TargetKind,
    TargetSpec,
)
from opsconductor_desktop.store.models import CredentialRow, GroupRow


def spec_record(spec: TargetSpec) -> dict[str, Any]:
    """A JSON-safe dict of a target spec (audit before/after, exports)."""
    return {
        "name": spec.name,
        "address": spec.address,
        "kind": spec.kind.value if isinstance(spec.kind, TargetKind) else str(spec.kind),
        "vendor": spec.vendor,
        "model": spec.model,
        "site": spec.site,
        "description": spec.description,
        "tags": list(spec.tags),
        "enabled": spec.enabled,
        "parent": spec.parent,
        "snmp_version": spec.snmp.version.value if spec.snmp.version else None,
        "snmp_port": spec.snmp.port,
        "snmp_credential": spec.snmp.credential,
        "ssh_port": spec.ssh.port,
        "ssh_username": spec.ssh.username,
        "ssh_credential": spec.ssh.credential,
        "vars": dict(spec.vars),
    }


def spec_from_row(
    row: Any,
    credential_names: Mapping[uuid.UUID, str],
    target_names: Mapping[uuid.UUID, str],
) -> TargetSpec:
    return TargetSpec(
        name=row.name,
        address=row.address,
        kind=TargetKind(row.kind),
        vendor=row.vendor,
        model=row.model,
        site=row.site,
        description=row.description,
        tags=tuple(row.tags or ()),
        enabled=row.enabled,
        parent=target_names.get(row.parent_id) if row.parent_id else None,
        snmp=SnmpProfile(
            version=SnmpVersion(row.snmp_version) if row.snmp_version else None,
            port=row.snmp_port,
            credential=credential_names.get(row.snmp_credential_id)
            if row.snmp_credential_id
            else None,
        ),
        ssh=SshProfile(
            port=row.ssh_port,
            username=row.ssh_username,
            credential=credential_names.get(row.ssh_credential_id)
            if row.ssh_credential_id
            else None,
        ),
        vars=dict(row.vars or {}),
    )


def target_from_row(
    row: Any,
    credential_names: Mapping[uuid.UUID, str],
    target_names: Mapping[uuid.UUID, str],
    groups: tuple[str, ...],
) -> Target:
    return Target(
        id=row.id,
        spec=spec_from_row(row, credential_names, target_names),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        groups=groups,
    )


def apply_spec(
    row: Any,
    spec: TargetSpec,
    *,
    parent_id: uuid.UUID | None,
    snmp_credential_id: uuid.UUID | None,
    ssh_credential_id: uuid.UUID | None,
) -> None:
    """Copy a validated spec onto a row (ids already resolved by the caller)."""
    for key, value in row_values(spec).items():
        setattr(row, key, value)
    row.parent_id = parent_id
    row.snmp_credential_id = snmp_credential_id
    row.ssh_credential_id = ssh_credential_id


def row_values(spec: TargetSpec) -> dict[str, Any]:
    """Column values of a spec, references excluded."""
    return {
        "name": spec.name,
        "address": spec.address,
        "kind": TargetKind(spec.kind).value,
        "vendor": spec.vendor,
        "model": spec.model,
        "site": spec.site,
        "description": spec.description,
        "tags": list(spec.tags),
        "enabled": spec.enabled,
        "snmp_version": spec.snmp.version.value if spec.snmp.version else None,
        "snmp_port": spec.snmp.port,
        "ssh_port": spec.ssh.port,
        "ssh_username": spec.ssh.username,
        "vars": dict(spec.vars),
    }


def group_record(row: GroupRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "rule": row.rule,
        "vars": dict(row.vars or {}),
    }


def group_from_row(row: GroupRow, static_count: int, member_count: int) -> Group:
    return Group(
        id=row.id,
        name=row.name,
        description=row.description,
        rule=rule_lang.from_json(row.rule) if row.rule else None,
        vars=dict(row.vars or {}),
        static_count=static_count,
        member_count=member_count,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def credential_from_row(row: CredentialRow) -> Credential:
    return Credential(
        id=row.id,
        name=row.name,
        kind=CredentialKind(row.kind),
        username=row.username,
        auth_protocol=row.auth_protocol,
        priv_protocol=row.priv_protocol,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
