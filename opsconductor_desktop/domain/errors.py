"""Errors the operator can act on, kept apart from bugs.

Every class here carries a message meant for a person; none ever includes a secret.
"""

from __future__ import annotations


class OpsError(Exception):
    """Base of every expected, operator-facing error."""


class ValidationError(OpsError):
    """Input that does not make sense (bad address, malformed tag, unknown column)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(OpsError):
    """A named or identified object does not exist."""


class DuplicateError(OpsError):
    """A unique name is already taken."""


class ConflictError(OpsError):
    """An update carried a stale version: somebody changed the object since it was read."""

    def __init__(self, message: str, *, expected: int, actual: int | None) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class DatabaseUnavailableError(OpsError):
    """The database cannot be reached, opened or written."""


class DatabaseRefusedError(OpsError):
    """The database refused a change: a constraint, a trigger or a missing privilege."""


class SchemaTooNewError(OpsError):
    """The database was upgraded by a newer OpsConductor than this one."""


class SecretStoreError(OpsError):
    """The OS keyring cannot be used; the message says what to install or configure."""
