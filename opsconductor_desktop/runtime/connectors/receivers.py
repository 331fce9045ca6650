"""The hook through which every listening connector kind gets its receiver.

The connector service keeps a mapping ``kind → ReceiverFactory``; a factory takes a
``ReceiverSetup`` (the connector's name, manifest, resolved settings, where alerts go, the
inventory's target index) and returns a ``Receiver`` (``runtime/receivers/base.py``), not
yet started. ``webhook`` is built in; ``snmp_trap`` and ``syslog`` are plugged in with
``ConnectorService.register_receiver(kind, factory)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opsconductor_desktop.domain.connectors import Manifest
from opsconductor_desktop.runtime.connectors.targets import TargetIndex
from opsconductor_desktop.runtime.receivers.base import AlertSink, Receiver


@dataclass(frozen=True, slots=True)
class ReceiverSetup:
    """What a factory gets. ``settings`` holds resolved values, secrets included: a receiver
    uses them (a webhook token, SNMPv3 keys) and never logs or shows them."""

    name: str
    manifest: Manifest
    settings: Mapping[str, Any]
    sink: AlertSink
    targets: TargetIndex

    @property
    def source(self) -> str:
        """The ``source`` of the alerts this connector raises."""
        return f"connector:{self.name}"

    def lookup(self, address: str) -> str | None:
        """A ``TargetLookup``: the sending address → the target's name."""
        return self.targets.by_address(address)


ReceiverFactory = Callable[[ReceiverSetup], Receiver]


def webhook_factory(setup: ReceiverSetup) -> Receiver:
    from opsconductor_desktop.runtime.connectors.webhook import WebhookReceiver

    return WebhookReceiver(setup)


def syslog_factory(setup: ReceiverSetup) -> Receiver:
    from opsconductor_desktop.runtime.receivers.syslog import SyslogReceiver

    return SyslogReceiver(
        setup.settings,
        setup.sink,
        setup.lookup,
        name=setup.name,
        name_lookup=setup.targets.by_name,
    )


def trap_factory(setup: ReceiverSetup) -> Receiver:
    """v1/v2c by community; SNMPv3 users from the stored SNMPv3 credentials the
    ``v3_users`` setting names (resolved by the connector service: user name, protocols,
    keys)."""
    from opsconductor_desktop.runtime.receivers.traps import TrapReceiver

    users = [
        (
            cred.get("username") or cred.get("name"),
            cred.get("auth_protocol") or "none",
            cred.get("auth_key"),
            cred.get("priv_protocol") or "none",
            cred.get("priv_key"),
        )
        for cred in setup.settings.get("v3_users") or ()
        if isinstance(cred, Mapping)
    ]
    return TrapReceiver(setup.settings, setup.sink, setup.lookup, name=setup.name, users=users)


def default_factories() -> dict[str, ReceiverFactory]:
    return {"webhook": webhook_factory, "syslog": syslog_factory, "snmp_trap": trap_factory}
