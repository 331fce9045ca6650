"""Choosing the targets of a job: ticked targets and groups, and/or a rule (a union).

Used by the run dialog and by the job editor's default selection. The rule is parsed as
the operator types; names the inventory no longer has stay listed (ticked, marked "not in
the inventory") so the operator sees why a stored selection no longer resolves.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.jobs import Selection
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.jobs.models import ChecklistModel, ChecklistProxy

UNKNOWN = "not in the inventory"
INVALID_STYLE = "QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; padding: 2px; }"


def _target_detail(target: Target) -> str:
    parts = [target.address, str(target.kind), target.site]
    text = " · ".join(p for p in parts if p)
    return text if target.spec.enabled else f"{text} · disabled"


class Checklist(QWidget):
    """A titled, optionally filterable list of names with tick boxes."""

    def __init__(self, title: str, name: str, *, filterable: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = ChecklistModel(self)
        self.proxy = ChecklistProxy(self.model, self)
        self.title = QLabel(f"<b>{title}</b>")
        self.count = QLabel()
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName(f"{name}Filter")
        self.filter_edit.setPlaceholderText("Filter…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter_edit.setVisible(filterable)
        self.view = QListView()
        self.view.setObjectName(f"{name}List")
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.tick_shown = QToolButton()
        self.tick_shown.setText("Tick shown")
        self.tick_shown.setToolTip("Tick every name the filter shows")
        self.tick_shown.clicked.connect(self.check_shown)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Untick everything")
        self.clear_button.clicked.connect(self.model.clear_checked)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.count)
        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.tick_shown)
        tools.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        self.model.checked_changed.connect(self._update_count)
        self.model.modelReset.connect(self._update_count)
        self._update_count()

    def check_shown(self) -> None:
        self.model.set_checked(self.proxy.visible_names())

    def _update_count(self) -> None:
        self.count.setText(f"{len(self.model.checked())} of {self.model.rowCount()} ticked")


class SelectionPicker(QWidget):
    """Targets and groups checklists and a rule; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("selectionPicker")
        self.targets = Checklist("Targets", "targets", filterable=True)
        self.groups = Checklist("Groups", "groups", filterable=True)
        self.rule_edit = QLineEdit()
        self.rule_edit.setObjectName("selectionRule")
        self.rule_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.rule_edit.setPlaceholderText("optional rule, e.g. site:ams1 and kind:switch")
        self.rule_edit.setClearButtonEnabled(True)
        self.rule_error = QLabel()
        self.rule_error.setObjectName("ruleError")
        self.rule_error.setWordWrap(True)
        self.rule_error.setStyleSheet("color: #c62828;")
        self.rule_error.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.targets, 0, 0)
        grid.addWidget(self.groups, 0, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        rule_row = QHBoxLayout()
        rule_row.addWidget(QLabel("<b>Rule</b>"))
        rule_row.addWidget(self.rule_edit, 1)
        grid.addLayout(rule_row, 1, 0, 1, 2)
        grid.addWidget(self.rule_error, 2, 0, 1, 2)
        self.targets.model.checked_changed.connect(self.changed)
        self.groups.model.checked_changed.connect(self.changed)
        self.rule_edit.textChanged.connect(self._rule_changed)

    def set_choices(self, targets: Sequence[Target], groups: Sequence[Group]) -> None:
        """The inventory the operator picks from (ticks of names still there are kept)."""
        self.targets.model.set_names(
            [t.name for t in targets], {t.name: _target_detail(t) for t in targets}
        )
        self.groups.model.set_names(
            [g.name for g in groups],
            {g.name: f"{g.member_count} member(s)" + (" · rule" if g.rule else "") for g in groups},
        )

    def set_selection(self, selection: Selection) -> None:
        for checklist, wanted in (
            (self.targets, selection.targets),
            (self.groups, selection.groups),
        ):
            model = checklist.model
            model.add_names(model.missing(wanted), UNKNOWN)
            model.clear_checked()
            model.set_checked(wanted)
        self.rule_edit.setText(selection.rule or "")
        self.changed.emit()

    def selection(self) -> Selection:
        rule = self.rule_edit.text().strip() or None
        return Selection(
            tuple(self.targets.model.checked()), tuple(self.groups.model.checked()), rule
        )

    def error(self) -> str | None:
        return self.rule_error.text() or None

    def _rule_changed(self, text: str) -> None:
        problem = ""
        if text.strip():
            try:
                rules.parse(text)
            except ValidationError as exc:
                problem = f"rule: {exc}"
        self.rule_error.setText(problem)
        self.rule_error.setVisible(bool(problem))
        self.rule_edit.setStyleSheet(INVALID_STYLE if problem else "")
        self.changed.emit()
