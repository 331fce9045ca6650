"""Credential secrets in the OS keyring — never in the database, logs or error texts.

One keyring entry per credential (a JSON object of its secret fields), under the service
name ``opsconductor-desktop``. When no usable keyring backend exists the operator gets one
clear message saying what to install or configure.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from opsconductor_desktop import logs
from opsconductor_desktop.domain.credentials import Secret
from opsconductor_desktop.domain.errors import SecretStoreError

SERVICE = "opsconductor-desktop"
log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

# keyring is imported on first use: it costs ~50 ms and most commands never need it.

NO_BACKEND = (
    "no usable OS keyring: on Linux install and unlock a Secret Service provider "
    "(gnome-keyring, KWallet or KeePassXC) and its D-Bus session; on Windows and macOS the "
    "system keyring is used. To choose a backend explicitly set PYTHON_KEYRING_BACKEND "
    "(see `keyring --list-backends`)."
)


def _usable(backend: KeyringBackend) -> bool:
    name = type(backend).__module__ + "." + type(backend).__name__
    if name.startswith("keyring.backends.fail"):
        return False
    if name.startswith("keyring.backends.chainer"):
        return bool(getattr(backend, "backends", ()))
    return float(getattr(backend, "priority", 1)) > 0


class SecretStore:
    """Read and write credential secrets through ``keyring``."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        import keyring

        backend = self._backend or keyring.get_keyring()
        if not _usable(backend):
            raise SecretStoreError(NO_BACKEND)
        return backend

    def describe(self) -> str:
        try:
            backend = self.backend
        except SecretStoreError:
            return "no keyring"
        return f"{type(backend).__name__}"

    def put(self, ref: str, secret: Secret) -> None:
        import keyring.errors

        values = secret.reveal()
        for value in values.values():
            logs.redact(value)
        try:
            self.backend.set_password(SERVICE, ref, json.dumps(values))
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"cannot store the secret in the keyring: {type(exc).__name__}"
            ) from None

    def get(self, ref: str) -> Secret | None:
        import keyring.errors

        try:
            raw = self.backend.get_password(SERVICE, ref)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"cannot read the keyring: {type(exc).__name__}") from None
        if raw is None:
            return None
        try:
            values = json.loads(raw)
        except json.JSONDecodeError:
            raise SecretStoreError(f"the keyring entry {ref} is not readable") from None
        for value in values.values():
            logs.redact(value)
        return Secret(values)

    def delete(self, ref: str) -> None:
        import keyring.errors

        try:
            self.backend.delete_password(SERVICE, ref)
        except keyring.errors.PasswordDeleteError:
            log.info("keyring entry %s was already gone", ref)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"cannot delete from the keyring: {type(exc).__name__}"
            ) from None


def __getattr__(name: str) -> Any:
    if name == "MemoryKeyring":  # defined apart so that importing this module stays cheap
        from opsconductor_desktop.memkeyring import MemoryKeyring

        return MemoryKeyring
    raise AttributeError(name)
