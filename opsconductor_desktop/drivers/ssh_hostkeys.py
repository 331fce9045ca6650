"""The application's known-hosts file: trust on first use, then refuse a changed key.

OpenSSH ``known_hosts`` format (plain or hashed entries are read; new entries are
written plain, ``[host]:port`` for ports other than 22), so an operator can inspect it
with the usual tools. Writers in this process are serialized by a lock, each write
re-reads the file first (another console may have added entries) and replaces it
atomically.

The parsed file is cached and re-read only when its inode, size or modification time
changes: parsing is O(entries) (≈ 4.7 ms for 100 entries, under the lock), so reading
it on every connection made a fan-out to N known hosts cost O(N²).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import threading
from pathlib import Path

import paramiko

from opsconductor_desktop.domain.results import (
    HostKeyChangedError,
    HostKeyInfo,
    HostKeyUnknownError,
)


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:<base64>`` as ``ssh-keygen -l`` prints it."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode()
    return "SHA256:" + digest.rstrip("=")


def host_entry(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """Checks and records host keys in one known-hosts file."""

    def __init__(self, path: Path, *, trust_on_first_use: bool = True) -> None:
        self.path = Path(path)
        self.trust_on_first_use = trust_on_first_use
        self._lock = threading.Lock()
        # (inode, size, mtime_ns) of the file when it was parsed, and the parsed keys
        self._cache: tuple[tuple[int, int, int], paramiko.HostKeys] | None = None

    def verify(self, host: str, port: int, key: paramiko.PKey) -> HostKeyInfo:
        """Accept a known key, record an unknown one (TOFU), refuse a changed one."""
        entry = host_entry(host, port)
        offered = fingerprint(key)
        with self._lock:
            keys = self._load()
            known = keys.lookup(entry)
            if known:
                stored = known.get(key.get_name())
                if stored is not None and stored.asbytes() == key.asbytes():
                    return HostKeyInfo(host, port, key.get_name(), offered, newly_trusted=False)
                other = stored if stored is not None else next(iter(known.values()))
                raise HostKeyChangedError(
                    host=entry,
                    stored=fingerprint(other),
                    offered=offered,
                    key_type=key.get_name(),
                )
            if not self.trust_on_first_use:
                raise HostKeyUnknownError(host=entry, offered=offered, key_type=key.get_name())
            self._cache = None  # mutated below: re-cached only once saved
            keys.add(entry, key.get_name(), key)
            self._save(keys)
        return HostKeyInfo(host, port, key.get_name(), offered, newly_trusted=True)

    def forget(self, host: str, port: int) -> bool:
        """Remove every key recorded for ``host:port`` (after a device was re-keyed)."""
        entry = host_entry(host, port)
        with self._lock:
            keys = self._load()
            removed = False
            while entry in keys:
                self._cache = None  # mutated below: re-cached only once saved
                del keys[entry]  # removes one matching line per call
                removed = True
            if removed:
                self._save(keys)
            return removed

    @staticmethod
    def _signature(st: os.stat_result) -> tuple[int, int, int]:
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _load(self) -> paramiko.HostKeys:
        """The file's keys; parsed again only if the file changed since the last parse."""
        try:
            signature = self._signature(self.path.stat())
        except FileNotFoundError:
            self._cache = None
            return paramiko.HostKeys()
        if self._cache is not None and self._cache[0] == signature:
            return self._cache[1]
        keys = paramiko.HostKeys()
        keys.load(str(self.path))
        self._cache = (signature, keys)
        return keys

    def _save(self, keys: paramiko.HostKeys) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".known_hosts.", dir=self.path.parent)
        os.close(handle)
        try:
            keys.save(temp)
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
            self._cache = (self._signature(self.path.stat()), keys)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
