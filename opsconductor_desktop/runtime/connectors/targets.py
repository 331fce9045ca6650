"""Matching a source's host (an address, a name, a Prometheus ``instance``) to a target.

The index is built from the inventory's (name, address) pairs and matched in memory, so
receivers can call it from a protocol callback without touching the database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from opsconductor_desktop.domain.connectors import TargetRule, host_of


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TargetIndex:
    """Target names by name and by address (exact, then case-insensitive, then short name)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.update(pairs)

    def update(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Rebuild from the inventory, in place (receivers hold this object)."""
        self.names: dict[str, str] = {}
        self.lower_names: dict[str, str] = {}
        self.short_names: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        for name, address in pairs:
            self.names[name] = name
            self.lower_names.setdefault(name.lower(), name)
            if not _is_address(name):
                self.short_names.setdefault(name.lower().split(".")[0], name)
            if address:
                self.addresses.setdefault(address.strip().lower(), name)

    def __len__(self) -> int:
        return len(self.names)

    def by_name(self, host: str) -> str | None:
        found = self.names.get(host) or self.lower_names.get(host.lower())
        if found is None and not _is_address(host):
            found = self.short_names.get(host.lower().split(".")[0])
        return found

    def by_address(self, host: str) -> str | None:
        """The target whose address is ``host`` (the ``TargetLookup`` of the receivers)."""
        return self.addresses.get(host_of(host).lower())

    def match(self, value: str, by: str = "label", *, strip_port: bool = True) -> str | None:
        host = host_of(value) if strip_port else value.strip()
        if not host:
            return None
        if by == "address":
            return self.addresses.get(host.lower())
        if by == "name":
            return self.by_name(host)
        return self.by_name(host) or self.addresses.get(host.lower())

    def resolve(self, rule: TargetRule | None, value: str | None) -> str | None:
        """The alert's target: the matched target's name, else (``unmatched: keep``) the
        host as the source named it, else none."""
        if rule is None or not value:
            return None
        found = self.match(value, rule.by, strip_port=rule.strip_port)
        if found is not None:
            return found
        if rule.unmatched == "drop":
            return None
        host = host_of(value) if rule.strip_port else value.strip()
        return host[:255] or None
