"""Screenshots of the Graphs pane and the target details' health (``gui --screenshot``).

Nothing is written: the target shown is the first one with check states (the demo's
showcase router), its traffic series over a day and a month; then the Targets pane with
that target's checks and sparklines. On a database without metrics the Graphs pane is
shot as it is (its empty state).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from opsconductor_desktop.gui.graphs.pane import GraphsPane

if TYPE_CHECKING:
    from opsconductor_desktop.gui.main_window import MainWindow

Shoot = Callable[[QWidget, Path, str], Awaitable[Path]]
PREFERRED = ("ifHCIn.1", "ifHCOut.1")  # two series on one scale read best


async def render_graph_shots(
    pane: GraphsPane, window: MainWindow, out: Path, shoot: Shoot
) -> list[Path]:
    """The Graphs pane over 24 h and 30 d, and the details panel's health section."""
    states = await pane.core.monitoring.check_states()
    target = states[0].target if states else None
    if target is None:
        return [await shoot(window, out, "pane-graphs")]
    series = [s.series for s in await pane.core.monitoring.series(target)]
    chosen = [s for s in PREFERRED if s in series] or series[:1]
    pane.show_target(target)
    await pane.settled()
    pane.tick(chosen)
    await pane.settled()
    shots = [await shoot(window, out, "pane-graphs")]
    pane.range_bar.buttons["30 d"].click()
    await pane.settled()
    shots.append(await shoot(window, out, "pane-graphs-30d"))
    pane.range_bar.buttons["24 h"].click()
    await pane.settled()
    targets = window.targets_pane()
    if targets is not None:
        window.show_pane(window.panes.index(targets))
        targets.select_ids([t.id for t in targets.model.targets() if t.name == target])
        await targets.details.health.load(target)
        shots.append(await shoot(window, out, "pane-targets-health"))
        window.show_pane(window.panes.index(pane))
    return shots
