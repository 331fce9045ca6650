"""Screenshots of the Alerts pane and its dialogs (``opsconductor gui --screenshot``).

Nothing is written: the pane is shot with its worst open alert selected (its history
below), then the acknowledge and silence dialogs for it, closed without being accepted.
On a database without alerts the pane is shot as it is (its empty state) and the dialogs
get an unsaved example alert.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QDialog, QWidget

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.alerts.dialogs import AckDialog, SilenceDialog
from opsconductor_desktop.gui.alerts.pane import AlertsPane
from opsconductor_desktop.services.alerts import AlertInfo

Shoot = Callable[[QWidget, Path, str], Awaitable[Path]]


def example_alert() -> AlertInfo:
    """An unsaved alert for the dialogs of an empty database."""
    now = utcnow()
    return AlertInfo(
        uuid.uuid4(),
        "example",
        "rule",
        "bgp-peer:10.10.255.2",
        "ams1-core-rtr-01",
        Severity.CRITICAL,
        AlertStatus.ACTIVE,
        "BGP session to 10.10.255.2 (AS 64512) down",
        {},
        now - timedelta(minutes=12),
        now,
        12,
        None,
        None,
        None,
        None,
        False,
        None,
        False,
        1,
    )


async def _noop(*_: object) -> None:
    """Dialogs shot here are never accepted."""


async def render_alert_shots(
    pane: AlertsPane, window: QWidget, out: Path, shoot: Shoot
) -> list[Path]:
    """The pane with an alert's history shown, and the acknowledge and silence dialogs."""
    alerts = pane.model.alerts()
    worst = max(alerts, key=lambda a: (a.status is AlertStatus.ACTIVE, a.severity), default=None)
    if worst is not None:
        pane.select_ids([worst.id])
        for _ in range(100):  # the history comes after the selection settles
            if pane.details.history_for == worst.id:
                break
            await asyncio.sleep(0.02)
    shots = [await shoot(window, out, "pane-alerts")]
    chosen = [worst or example_alert()]
    ack = AckDialog(chosen, _noop, parent=window)
    ack.comment_edit.setPlainText("Transit provider confirms an outage, ticket INC-20433")
    ack.set_expiry(4 * 3600)
    shots.append(await shoot(ack, out, "dialog-alert-ack"))
    _dispose(ack)
    silence = SilenceDialog(chosen, _noop, parent=window)
    silence.comment_edit.setText("CHG-3320: transit-a maintenance window")
    shots.append(await shoot(silence, out, "dialog-alert-silence"))
    _dispose(silence)
    return shots


def _dispose(dialog: QDialog) -> None:
    dialog.hide()
    dialog.deleteLater()
