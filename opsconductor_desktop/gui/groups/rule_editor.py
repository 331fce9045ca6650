"""The rule editor of dynamic groups: syntax feedback as you type and a live preview.

The text is parsed on every keystroke (cheap) so errors show at once; the preview of the
matching targets is computed ``PREVIEW_DELAY_MS`` after the last keystroke, in memory,
against the targets the pane already loaded — typing never waits for the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.groups import Group, GroupSpec
from opsconductor_desktop.domain.rules import Rule
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.feedback import MessageBar, confirm
from opsconductor_desktop.gui.groups.model import TargetsModel
from opsconductor_desktop.gui.keyed_model import FilterProxy
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core

PREVIEW_DELAY_MS = 200
INVALID_STYLE = "QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; padding: 2px; }"
HELP = (
    "Terms: <code>tag:</code> <code>kind:</code> <code>vendor:</code> <code>site:</code> "
    "<code>name:</code> <code>address:</code> (globs <code>*</code> <code>?</code>, any case), "
    "<code>cidr:10.0.0.0/8</code>; combine with <code>and</code>, <code>or</code>, "
    "<code>not</code> and parentheses. Example: "
    "<code>tag:core and (vendor:cisco or vendor:juniper) and not site:lab</code>"
)


class RuleEditor(QWidget):
    """Edit, preview, save and clear one group's rule."""

    rule_saved = Signal()
    preview_updated = Signal(int)

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self._group: Group | None = None
        self._targets: list[Target] = []
        self._saved_text = ""
        self._rule: Rule | None = None
        self.error: str | None = None
        self.busy = False

        self.message = MessageBar()
        self.rule_edit = QLineEdit()
        self.rule_edit.setObjectName("ruleEdit")
        self.rule_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.rule_edit.setPlaceholderText("e.g. tag:core and not site:lab   (empty: no rule)")
        self.rule_edit.setClearButtonEnabled(True)
        self.status = QLabel()
        self.status.setObjectName("ruleStatus")
        self.status.setWordWrap(True)
        self.help = QLabel(HELP)
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.RichText)
        self.help.setStyleSheet("color: palette(placeholder-text);")
        self.preview_model = TargetsModel(self)
        self.preview_proxy = FilterProxy(self.preview_model, self)
        self.preview_view = self._preview_table()
        self.preview_label = QLabel()
        self.save_button = QPushButton("&Save rule")
        self.revert_button = QPushButton("Re&vert")
        self.clear_button = QPushButton("&Clear rule…")
        self.clear_button.setToolTip("Remove the rule: the group keeps its static members only")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.update_preview)
        self._build_layout()
        self.rule_edit.textChanged.connect(self._on_text_changed)
        self.rule_edit.returnPressed.connect(self.save)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.clear_button.clicked.connect(self.ask_clear)
        self._validate()
        self._update_buttons()

    def _preview_table(self) -> QTableView:
        view = QTableView()
        view.setObjectName("rulePreview")
        view.setModel(self.preview_proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setSortingEnabled(True)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        view.horizontalHeader().setStretchLastSection(True)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.setColumnWidth(0, 150)
        view.setAlternatingRowColors(True)
        return view

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("<b>Rule</b> — targets matching it are members of the group:"))
        layout.addWidget(self.rule_edit)
        layout.addWidget(self.status)
        layout.addWidget(self.help)
        layout.addLayout(buttons)
        layout.addWidget(self.preview_label)
        layout.addWidget(self.preview_view, 1)

    # ---- showing ---------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.rule_edit.text().strip() != self._saved_text

    def set_group(self, group: Group | None, targets: Sequence[Target]) -> None:
        """Show ``group``'s rule; an operator's unsaved text survives a reload of the same group."""
        same = group is not None and self._group is not None and group.id == self._group.id
        stored = str(group.rule) if group is not None and group.rule is not None else ""
        keep_text = same and self.dirty
        if keep_text and stored != self._saved_text:
            shown = stored or "no rule"
            self.message.show_message(
                f"The stored rule was changed elsewhere (now: {shown}); saving overwrites it.",
                "warning",
            )
        elif not same:
            self.message.clear()
        self._group = group
        self._targets = list(targets)
        self._saved_text = stored
        if not keep_text:
            self.rule_edit.setText(stored)
        self.setEnabled(group is not None)
        self._validate()
        self.update_preview()

    def _on_text_changed(self) -> None:
        self._validate()
        self._timer.start()

    def _validate(self) -> None:
        text = self.rule_edit.text().strip()
        self._rule, self.error = None, None
        if text:
            try:
                self._rule = rules.parse(text)
            except ValidationError as exc:
                self.error = str(exc)
        self.rule_edit.setStyleSheet(INVALID_STYLE if self.error else "")
        self.rule_edit.setToolTip(self.error or "")
        if self.error:
            self._set_status(f"✖ {self.error}", "#c62828")
        elif self._rule is None:
            self._set_status("No rule: the group has its static members only.", "")
        else:
            self._set_status(f"✔ Valid rule: {self._rule}", "#2e7d32")
        self._update_buttons()

    def _set_status(self, text: str, color: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {color};" if color else "")

    def update_preview(self) -> None:
        """Show the targets the current text matches (nothing while it does not parse)."""
        self._timer.stop()
        if self.error is not None:
            self.preview_label.setText("<b>Preview</b>: fix the rule to see the targets it matches")
            return  # keep the last good preview visible while the operator types
        rule = self._rule
        matched = [t for t in self._targets if rule.matches(t)] if rule is not None else []
        self.preview_model.replace(matched)
        total = len(self._targets)
        if rule is None:
            self.preview_label.setText(f"<b>Preview</b>: no rule, 0 of {total} targets")
        else:
            self.preview_label.setText(f"<b>Preview</b>: {len(matched)} of {total} targets match")
        self.preview_updated.emit(len(matched))

    def _update_buttons(self) -> None:
        idle = self._group is not None and not self.busy
        self.save_button.setEnabled(idle and self.error is None and self.dirty)
        self.revert_button.setEnabled(idle and self.dirty)
        self.clear_button.setEnabled(idle and bool(self._saved_text))

    # ---- writing ---------------------------------------------------------------------------

    def save(self) -> None:
        if self.save_button.isEnabled():
            spawn(self.save_rule(self._rule), on_error=self._failed, name="save group rule")

    def revert(self) -> None:
        self.rule_edit.setText(self._saved_text)
        self.message.clear()
        self.update_preview()

    def ask_clear(self) -> None:
        group = self._group
        if group is None:
            return
        confirm(
            self,
            "Clear rule",
            f"Remove the rule of group {group.name}?\n\nTargets it matches leave the group "
            "unless they are static members.",
            lambda: spawn(self.save_rule(None), on_error=self._failed, name="clear group rule"),
            action="Clear rule",
        )

    async def save_rule(self, rule: Rule | None) -> None:
        """Store ``rule`` (None: no rule) with the version the operator last saw."""
        group = self._group
        if group is None:
            return
        self.busy = True
        self.message.clear()
        self._update_buttons()
        spec = GroupSpec(group.name, group.description, rule, group.vars)
        try:
            saved = await self.core.inventory.update_group(
                group.id, spec, expected_version=group.version
            )
        finally:
            self.busy = False
            self._update_buttons()
        if self._group is not None and self._group.id == saved.id:
            self._group = saved
            self._saved_text = str(saved.rule) if saved.rule is not None else ""
            self.rule_edit.setText(self._saved_text)
            self.update_preview()
        self.rule_saved.emit()

    def _failed(self, error: OpsError) -> None:
        self.message.show_error(error)
