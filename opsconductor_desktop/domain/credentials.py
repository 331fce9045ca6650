"""Credentials: metadata lives in the database, the secret only in the keyring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from opsconductor_desktop.domain.errors import ValidationError


class CredentialKind(StrEnum):
    """What a credential is used for; decides which secret fields it carries."""

    SSH_PASSWORD = "ssh-password"
    SSH_KEY = "ssh-key"
    SNMP_COMMUNITY = "snmp-community"
    SNMPV3 = "snmpv3"
    TOKEN = "token"


SECRET_FIELDS: dict[CredentialKind, tuple[str, ...]] = {
    CredentialKind.SSH_PASSWORD: ("password",),
    CredentialKind.SSH_KEY: ("private_key", "passphrase"),
    CredentialKind.SNMP_COMMUNITY: ("community",),
    CredentialKind.SNMPV3: ("auth_key", "priv_key"),
    CredentialKind.TOKEN: ("token",),
}

SNMPV3_AUTH = ("none", "md5", "sha", "sha224", "sha256", "sha384", "sha512")
SNMPV3_PRIV = ("none", "des", "3des", "aes", "aes192", "aes256")


def parse_credential_kind(value: str) -> CredentialKind:
    """Map text to a ``CredentialKind`` or raise a ``ValidationError`` listing the choices."""
    try:
        return CredentialKind(value.strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in CredentialKind)
        raise ValidationError(f"unknown credential kind {value!r}; one of {choices}") from None


class Secret:
    """Secret fields of a credential. Its repr and str never show the values."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def reveal(self) -> dict[str, str]:
        """The values, for the one place that must hand them to a driver or the keyring."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"Secret(fields={sorted(self._values)})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Credential:
    """A stored credential's metadata (never the secret)."""

    id: UUID
    name: str
    kind: CredentialKind
    username: str | None
    auth_protocol: str | None
    priv_protocol: str | None
    version: int
    created_at: datetime
    updated_at: datetime
