"""The details panel: one target's health, properties, effective variables and groups.

Effective variables come from ``InventoryService.effective_vars`` with the layer each one
comes from (``target`` or ``group:NAME``) and the layers it hides; they are fetched after
the selection settles, and a late answer for a target no longer shown is dropped. The
health section (check states and metric sparklines, ``health.py``) loads the same way,
and again, at most every ``HEALTH_REFRESH_MS``, while new samples are written.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import NotFoundError, OpsError
from opsconductor_desktop.domain.events import Changed, Entity
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.targets.conflict import FIELD_TEXT
from opsconductor_desktop.gui.targets.health import TargetHealth
from opsconductor_desktop.gui.tasks import report_ops_error, spawn
from opsconductor_desktop.gui.widgets import alive
from opsconductor_desktop.services.app import Core

SETTLE_MS = 120
HEALTH_REFRESH_MS = 5000  # new samples redraw the sparklines at most this often
HEALTH_TOPICS = frozenset({Entity.METRIC, Entity.MONITOR})


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _local(moment: Any) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


class DetailsPanel(QWidget):
    """See the module docstring; ``show_target`` switches what it shows."""

    graphs_requested = Signal(str, str)  # target, series: open them in the Graphs pane

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("targetDetails")
        self.core = core
        self.target: Target | None = None
        self._task: asyncio.Task[None] | None = None
        self._health_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._fetch)
        self._health_timer = QTimer(self)
        self._health_timer.setSingleShot(True)
        self._health_timer.setInterval(HEALTH_REFRESH_MS)
        self._health_timer.timeout.connect(self._fetch_health)
        unsubscribe = self._unsubscribe = core.bus.subscribe(self._on_changed)
        self.destroyed.connect(lambda *_: unsubscribe())  # holds no reference to the panel
        self.stack = QStackedWidget()
        self.placeholder = QLabel("Select a target to see its details.")
        self.placeholder.setObjectName("detailsPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self._build_details())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def _build_details(self) -> QWidget:
        self.heading = QLabel()
        self.heading.setObjectName("detailsHeading")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.health = TargetHealth(self.core)
        self.health.graphs_requested.connect(self.graphs_requested)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.values: dict[str, QLabel] = {}
        for key, title, _ in FIELD_TEXT[1:]:
            if key == "vars":
                continue
            label = _value_label()
            self.values[key] = label
            self.form.addRow(f"{title}:", label)
        self.version_label = _value_label()
        self.form.addRow("Version:", self.version_label)
        self.vars_table = QTableWidget(0, 3)
        self.vars_table.setObjectName("effectiveVars")
        self.vars_table.setHorizontalHeaderLabels(["Variable", "Value", "From"])
        self.vars_table.verticalHeader().hide()
        self.vars_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.vars_table.setWordWrap(False)
        self.vars_table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.vars_table.verticalHeader().setDefaultSectionSize(
            self.vars_table.fontMetrics().height() + 6
        )
        header = self.vars_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.vars_table.setMinimumHeight(120)
        self.vars_state = _value_label()
        self.vars_state.setObjectName("varsState")
        self.groups_label = _value_label()
        self.groups_label.setObjectName("detailsGroups")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.heading)
        layout.addWidget(self.health)
        layout.addWidget(_section("Properties"))
        layout.addLayout(self.form)
        layout.addWidget(_section("Effective variables"))
        layout.addWidget(self.vars_state)
        layout.addWidget(self.vars_table, 1)
        layout.addWidget(_section("Group memberships"))
        layout.addWidget(self.groups_label)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        return scroll

    def show_target(self, target: Target | None, selected: int = 1) -> None:
        """Show ``target`` (None: nothing, or ``selected`` targets at once)."""
        same = (
            target is not None
            and self.target is not None
            and target.id == self.target.id
            and target == self.target
        )
        self.target = target
        if target is None:
            self._timer.stop()
            self._cancel()
            self.placeholder.setText(
                f"{selected} targets selected."
                if selected > 1
                else "Select a target to see its details."
            )
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        if same:
            return
        spec = target.spec
        self.heading.setText(
            f"<span style='font-size:14pt; font-weight:600'>{_esc(spec.name)}</span><br>"
            f"{_esc(spec.address)} · {_esc(str(spec.kind))}"
            + ("" if spec.enabled else " · <i>disabled</i>")
        )
        for key, _, text in FIELD_TEXT[1:]:
            if key in self.values:
                self.values[key].setText(text(spec) or "—")
        self.version_label.setText(
            f"{target.version} (changed {_local(target.updated_at)}, "
            f"created {_local(target.created_at)})"
        )
        self.groups_label.setText(", ".join(target.groups) or "— (in no group)")
        self.vars_state.setText("Loading…")
        self.vars_table.setRowCount(0)
        if self.health.target != spec.name:
            self.health.show_loading(spec.name)
        self._timer.start()

    def _cancel(self) -> None:
        for task in (self._task, self._health_task):
            if task is not None and not task.done():
                task.cancel()
        self._task = self._health_task = None
        self._health_timer.stop()

    def _fetch(self) -> None:
        self._cancel()
        if self.target is not None:
            self._task = spawn(
                self._load_vars(self.target.id), on_error=self._failed, name="effective vars"
            )
            self._fetch_health()

    def _fetch_health(self) -> None:
        if self.target is None or (self._health_task and not self._health_task.done()):
            return
        self._health_task = spawn(self._load_health(self.target.name), name="target health")

    async def _load_health(self, name: str) -> None:
        try:
            await self.health.load(name)
        except NotFoundError:
            return  # renamed or deleted meanwhile: the pane's reload shows what is there
        except OpsError as exc:
            report_ops_error(exc, lambda e: self._health_failed(name, e))

    def _health_failed(self, name: str, error: OpsError) -> None:
        if alive(self) and self.target is not None and self.target.name == name:
            self.health.show_failure(str(error))

    def _on_changed(self, event: Changed) -> None:
        """New samples or monitor changes: redraw the shown target's health, throttled."""
        if (
            event.entity in HEALTH_TOPICS
            and self.target is not None
            and self.isVisible()
            and not self._timer.isActive()
            and not self._health_timer.isActive()
        ):
            self._health_timer.start()

    async def _load_vars(self, target_id: UUID) -> None:
        try:
            values = await self.core.inventory.effective_vars(target_id)
        except NotFoundError:
            return  # deleted meanwhile: the pane's reload clears the panel
        if not alive(self) or self.target is None or self.target.id != target_id:
            return
        self.vars_table.setRowCount(len(values))
        for row, value in enumerate(values):
            source = value.source
            if value.overridden:
                source += f" (over {', '.join(value.overridden)})"
            for column, text in enumerate((value.key, _value_text(value.value), source)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.vars_table.setItem(row, column, item)
        self.vars_state.setText(
            f"{len(values)} variable(s): the target's own values win over its groups'."
            if values
            else "No variables on the target or its groups."
        )

    def _failed(self, error: OpsError) -> None:
        self.vars_state.setText(f"Cannot load the variables: {error}")

    def shutdown(self) -> None:
        self._unsubscribe()
        self._timer.stop()
        self._cancel()


def _value_label() -> QLabel:
    """A selectable value that wraps instead of widening the panel."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _section(title: str) -> QLabel:
    label = QLabel(f"<b>{title}</b>")
    label.setContentsMargins(0, 8, 0, 0)
    return label


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
