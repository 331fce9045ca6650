"""The silences in force and to come: a table with removal (Alerts ▸ Silences…).

Silences are created from a selection of alerts (``SilenceDialog``) or from a monitoring
YAML file; here an operator sees what is silenced, by whom and why, and ends a silence
early (the alerts it suppressed are released at once by the service).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.timeutil import to_local, utcnow
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import alive, confirm
from opsconductor_desktop.services.alerts import AlertService, SilenceInfo

COLUMNS = ("Matches", "Starts", "Ends", "Weekly window", "State", "Author", "Comment")
_TIME = "%Y-%m-%d %H:%M"


class SilencesDialog(QDialog):
    """See the module docstring."""

    def __init__(self, alerts: AlertService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("silencesDialog")
        self.setWindowTitle("Silences and maintenance windows")
        self.alerts = alerts
        self.silences: list[SilenceInfo] = []
        self.messages = MessageBar(self)
        self.summary = QLabel(self)
        self.show_ended = QCheckBox("Show &ended", self)
        self.show_ended.setObjectName("showEnded")
        self.show_ended.toggled.connect(lambda _on: self.reload())
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("silencesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update)
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setObjectName("removeSilence")
        self.remove_button.setToolTip("End the selected silences now (Delete)")
        self.remove_button.setShortcut(Qt.Key.Key_Delete)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.show_ended)
        bottom = QHBoxLayout()
        bottom.addWidget(self.remove_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.resize(1000, 420)
        self._update()
        self.reload()

    def reload(self) -> None:
        spawn(self._load(), on_error=self._failed, name="load silences")

    async def _load(self) -> None:
        silences = await self.alerts.silences(include_expired=self.show_ended.isChecked())
        if not alive(self):
            return
        self.silences = silences
        now = utcnow()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(silences))
        for row, info in enumerate(silences):
            s = info.silence
            state = "in force" if info.active else "ended" if s.ends_at <= now else "scheduled"
            cells = (
                info.matchers.describe(),
                to_local(s.starts_at).strftime(_TIME),
                to_local(s.ends_at).strftime(_TIME),
                s.weekly.describe() if s.weekly else "",
                state,
                s.author,
                s.comment,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, str(info.id))
                if column in (1, 2):
                    item.setToolTip(
                        (s.starts_at if column == 1 else s.ends_at).isoformat() + " (UTC)"
                    )
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        active = sum(1 for i in silences if i.active)
        self.summary.setText(f"{len(silences)} silence(s), {active} in force now")
        self._update()

    def chosen_ids(self) -> list[str]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        out = []
        for row in sorted(rows):
            item = self.table.item(row, 0)
            if item is not None:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def _update(self) -> None:
        self.remove_button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def remove_selected(self) -> None:
        ids = self.chosen_ids()
        if ids:
            spawn(self._remove(ids), on_error=self._failed, name="remove silences")

    async def _remove(self, ids: list[str], *, ask_first: bool = True) -> None:
        if ask_first and not await confirm(
            self,
            "Remove silences",
            f"End {len(ids)} silence(s) now? The alerts they suppress become active again.",
            action="Remove",
        ):
            return
        for silence_id in ids:
            await self.alerts.remove_silence(silence_id)
        if alive(self):
            self.messages.clear()
            await self._load()

    def _failed(self, error: OpsError) -> None:
        if alive(self):
            self.messages.show_error(error)
