"""The Graphs pane's series list: a target's series, ticked to be drawn.

Each row shows the series' colour (as on the plot), its name and latest value (with its
age when older than ten minutes); the tooltip tells the monitor and the exact time.
Refreshing with the same names keeps the rows, so ticks and scroll stay as the operator
left them; ``ticks_changed`` fires only for the operator's ticks, never for the code's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from opsconductor_desktop.gui.graphs.values import age, format_value, local_time, series_colour
from opsconductor_desktop.services.monitoring import SeriesInfo

NAME_ROLE = Qt.ItemDataRole.UserRole
STALE_SECONDS = 600


class SeriesList(QListWidget):
    """See the module docstring."""

    ticks_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graphsSeries")
        self.setToolTip("Tick the series to draw; several are overlaid")
        self.infos: list[SeriesInfo] = []
        self._filling = False
        self.itemChanged.connect(self._changed)

    def names(self) -> list[str]:
        return [str(self.item(i).data(NAME_ROLE)) for i in range(self.count())]

    def show_infos(self, infos: Sequence[SeriesInfo], wanted: Sequence[str]) -> None:
        """Show ``infos``; new rows are ticked from ``wanted`` (else the first series)."""
        self.infos = list(infos)
        names = [i.series for i in infos]
        ticked = [n for n in wanted if n in names] or names[:1]
        self._filling = True
        try:
            if self.names() != names:
                self.clear()
                for name in names:
                    item = QListWidgetItem(name)
                    item.setData(NAME_ROLE, name)
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(_state(name in ticked))
                    self.addItem(item)
            now = time.time()
            dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
            for row, info in enumerate(infos):
                _describe(self.item(row), info, series_colour(row, dark), now)
        finally:
            self._filling = False

    def forget(self) -> None:
        """Drop the rows, so that the next ``show_infos`` ticks afresh from ``wanted``."""
        self._filling = True
        try:
            self.clear()
        finally:
            self._filling = False

    def ticked(self) -> list[str]:
        """The ticked series, in list order."""
        return [
            str(item.data(NAME_ROLE))
            for item in (self.item(i) for i in range(self.count()))
            if item.checkState() == Qt.CheckState.Checked
        ]

    def set_ticked(self, names: Sequence[str]) -> None:
        """Tick exactly ``names`` (without ``ticks_changed``)."""
        self._filling = True
        try:
            for i in range(self.count()):
                item = self.item(i)
                item.setCheckState(_state(item.data(NAME_ROLE) in names))
        finally:
            self._filling = False

    def _changed(self, _: QListWidgetItem) -> None:
        if not self._filling:
            self.ticks_changed.emit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.infos:
            self.show_infos(self.infos, self.ticked())  # swatches in the theme's colours


def _state(on: bool) -> Qt.CheckState:
    return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked


def _describe(item: QListWidgetItem, info: SeriesInfo, colour: str, now: float) -> None:
    stale = now - info.last_at.timestamp()
    text = f"{info.series}   {format_value(info.last_value)}"
    item.setText(text + (f" ({age(stale)} ago)" if stale > STALE_SECONDS else ""))
    item.setToolTip(
        f"{info.series} from monitor {info.monitor}\n"
        f"latest {info.last_value!r} at {local_time(info.last_at.timestamp())}"
    )
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    item.setIcon(QIcon(pixmap))
