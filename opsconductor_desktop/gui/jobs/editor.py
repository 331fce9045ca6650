"""The job editor: a job's fields, its steps and default selection, checked as you edit.

The dialog keeps the job as a document (what a YAML file holds). ``VALIDATE_DELAY_MS``
after the last edit it runs the domain's ``parse_job`` on it — the same validation as the
CLI and an import — and shows the first error with its field path
(``steps[0].oids[0]: invalid OID …``), marks the step it points at, and keeps Save
disabled until the document is valid. The YAML tab shows the document as it would be
exported. Saving a renamed job stores it under the new name and removes the old one
(past runs keep the name they ran under).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

import yaml
from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.jobs import (
    MAX_STEPS,
    FailurePolicy,
    JobDefinition,
    Selection,
    StepType,
    parse_job,
)
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.jobs.common import mapping
from opsconductor_desktop.gui.jobs.selection import SelectionPicker
from opsconductor_desktop.gui.jobs.step_form import StepForm, new_step
from opsconductor_desktop.gui.jobs.steps_model import StepsTableModel
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.jobs import JobInfo

VALIDATE_DELAY_MS = 250
_STEP_FIELD = re.compile(r"^steps\[(\d+)\]")
OK_STYLE = "color: #2e7d32;"
ERROR_STYLE = "color: #c62828; font-weight: bold;"


def job_document(job: JobInfo | None) -> dict[str, Any]:
    """The editable document of a stored job (a fresh one-step job for None)."""
    if job is None:
        return {
            "name": "",
            "description": "",
            "concurrency": 20,
            "failure_policy": "stop",
            "steps": [new_step(StepType.SSH_COMMAND)],
        }
    doc: dict[str, Any] = json.loads(json.dumps(dict(job.definition.source), default=str))
    return doc


def _selection_json(selection: Selection) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if selection.targets:
        out["targets"] = list(selection.targets)
    if selection.groups:
        out["groups"] = list(selection.groups)
    if selection.rule:
        out["rule"] = selection.rule
    return out


def _ordered(step: dict[str, Any]) -> dict[str, Any]:
    """A step's keys in reading order: type and name, its own fields, then the common ones."""
    first = [k for k in ("type", "name") if k in step]
    last = [k for k in ("timeout", "expect", "capture") if k in step]
    middle = [k for k in step if k not in first and k not in last]
    return {k: step[k] for k in (*first, *middle, *last)}


def as_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


class JobEditorDialog(QDialog):
    """See the module docstring. After Accepted: ``result_info`` and ``outcome``."""

    validated = Signal(bool)

    def __init__(
        self,
        core: Core,
        job: JobInfo | None,
        *,
        names: set[str],
        targets: Sequence[Target],
        groups: Sequence[Group],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("jobEditor")
        self.setWindowTitle(f"Edit job {job.name}" if job else "New job")
        self.core = core
        self.original = job.name if job else None
        self._names = set(names) - ({job.name} if job else set())
        self.definition: JobDefinition | None = None
        self.error: str | None = None
        self.error_field: str | None = None
        self.result_info: JobInfo | None = None
        self.outcome = ""
        self.busy = False
        doc = job_document(job)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.validate)
        self._build(targets, groups)
        self._load(doc)
        self._connect()
        self.validate()
        self.resize(1060, 720)

    # ---- building ---------------------------------------------------------------------------

    def _build(self, targets: Sequence[Target], groups: Sequence[Group]) -> None:
        self.messages = MessageBar()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("jobName")
        self.name_edit.setPlaceholderText("e.g. show-version")
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("jobDescription")
        self.description_edit.setPlaceholderText("what the job is for (optional)")
        self.policy_combo = QComboBox()
        self.policy_combo.setObjectName("failurePolicy")
        self.policy_combo.addItem("stop: skip a target's remaining steps", FailurePolicy.STOP.value)
        self.policy_combo.addItem("continue: run every step anyway", FailurePolicy.CONTINUE.value)
        self.concurrency_spin = QSpinBox()
        self.concurrency_spin.setObjectName("concurrency")
        self.concurrency_spin.setRange(1, 500)
        self.concurrency_spin.setSuffix(" targets at once")
        self.rename_hint = QLabel()
        self.rename_hint.setStyleSheet("color: #8a6d00;")
        self.rename_hint.hide()
        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("", self.rename_hint)
        form.addRow("&Description:", self.description_edit)
        policy = QHBoxLayout()
        policy.addWidget(self.policy_combo, 1)
        policy.addWidget(QLabel("Concurrency:"))
        policy.addWidget(self.concurrency_spin)
        policy_label = QLabel("On &failure:")
        policy_label.setBuddy(self.policy_combo)
        form.addRow(policy_label, policy)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._steps_tab(), "&Steps")
        self.picker = SelectionPicker()
        self.picker.set_choices(targets, groups)
        selection_tab = QWidget()
        selection_layout = QVBoxLayout(selection_tab)
        hint = QLabel(
            "The targets a run starts from (the run dialog lets the operator change them). "
            "Ticked targets, group members and rule matches add up."
        )
        hint.setWordWrap(True)
        selection_layout.addWidget(hint)
        selection_layout.addWidget(self.picker, 1)
        self.tabs.addTab(selection_tab, "Default s&election")
        self.yaml_view = QPlainTextEdit()
        self.yaml_view.setObjectName("jobYaml")
        self.yaml_view.setReadOnly(True)
        self.yaml_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs.addTab(self.yaml_view, "&YAML")
        self.status = QLabel()
        self.status.setObjectName("validation")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _steps_tab(self) -> QWidget:
        self.steps_model = StepsTableModel(self)
        self.steps_view = QTableView()
        self.steps_view.setObjectName("stepsTable")
        self.steps_view.setModel(self.steps_model)
        self.steps_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.steps_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.steps_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.steps_view.setWordWrap(False)
        self.steps_view.verticalHeader().hide()
        self.steps_view.verticalHeader().setDefaultSectionSize(
            self.steps_view.fontMetrics().height() + 8
        )
        self.steps_view.horizontalHeader().setStretchLastSection(True)
        self.steps_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((40, 100, 120, 70)):
            self.steps_view.setColumnWidth(column, width)
        self.add_button = QToolButton()
        self.add_button.setObjectName("addStep")
        self.add_button.setText("Add step")
        self.add_button.setToolTip("Add a step after the selected one (choose its type)")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.add_button)
        self.add_actions: dict[StepType, QAction] = {}
        for kind in StepType:
            action = menu.addAction(kind.value)
            action.triggered.connect(lambda _=False, k=kind: self.add_step(k))
            self.add_actions[kind] = action
        self.add_button.setMenu(menu)
        self.add_button.clicked.connect(lambda: self.add_step(StepType.SSH_COMMAND))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_step)
        self.up_button = QPushButton("▲ Up")
        self.up_button.clicked.connect(lambda: self.move_step(-1))
        self.down_button = QPushButton("▼ Down")
        self.down_button.clicked.connect(lambda: self.move_step(1))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.steps_view, 1)
        left_layout.addLayout(buttons)
        self.step_form = StepForm()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.step_form)
        scroll.setMinimumWidth(420)
        tab = QWidget()
        layout = QHBoxLayout(tab)
        layout.addWidget(left, 5)
        layout.addWidget(scroll, 4)
        return tab

    def _load(self, doc: dict[str, Any]) -> None:
        self.name_edit.setText(str(doc.get("name") or ""))
        self.description_edit.setText(str(doc.get("description") or ""))
        policy = self.policy_combo.findData(str(doc.get("failure_policy") or "stop"))
        self.policy_combo.setCurrentIndex(max(0, policy))
        concurrency = doc.get("concurrency", 20)
        self.concurrency_spin.setValue(concurrency if isinstance(concurrency, int) else 20)
        select = mapping(doc.get("select"))
        self.picker.set_selection(
            Selection(
                tuple(select.get("targets") or ()),
                tuple(select.get("groups") or ()),
                select.get("rule") or None,
            )
        )
        steps = [copy.deepcopy(s) for s in doc.get("steps") or [] if isinstance(s, dict)]
        self.steps_model.set_steps(steps)
        if steps:
            self.steps_view.selectRow(0)
        self.step_form.load(steps[0] if steps else None)

    def _connect(self) -> None:
        for edit in (self.name_edit, self.description_edit):
            edit.textChanged.connect(self.schedule_validation)
        self.policy_combo.currentIndexChanged.connect(self.schedule_validation)
        self.concurrency_spin.valueChanged.connect(self.schedule_validation)
        self.picker.changed.connect(self.schedule_validation)
        self.step_form.edited.connect(self._step_edited)
        self.steps_view.selectionModel().selectionChanged.connect(self._step_selected)
        self._update_step_buttons()

    # ---- steps --------------------------------------------------------------------------------

    def current_row(self) -> int | None:
        rows = self.steps_view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _step_selected(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        row = self.current_row()
        self.step_form.load(self.steps_model.step(row) if row is not None else None)
        self._update_step_buttons()

    def _step_edited(self) -> None:
        row = self.current_row()
        if row is not None:
            self.steps_model.update(row, self.step_form.step())
            self.schedule_validation()

    def add_step(self, kind: StepType) -> None:
        if self.steps_model.rowCount() >= MAX_STEPS:
            self.messages.show_message(f"A job has at most {MAX_STEPS} steps.", "warning")
            return
        current = self.current_row()
        at = self.steps_model.rowCount() if current is None else current + 1
        row = self.steps_model.insert(at, new_step(kind))
        self.steps_view.selectRow(row)
        self.step_form.name_edit.setFocus()
        self.schedule_validation()

    def remove_step(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.steps_model.remove(row)
        remaining = self.steps_model.rowCount()
        if remaining:
            self.steps_view.selectRow(min(row, remaining - 1))
        else:
            self.step_form.load(None)
        self._update_step_buttons()
        self.schedule_validation()

    def move_step(self, delta: int) -> None:
        row = self.current_row()
        if row is None:
            return
        moved = self.steps_model.move(row, delta)
        self.steps_view.selectRow(moved)
        self._update_step_buttons()
        self.schedule_validation()

    def _update_step_buttons(self) -> None:
        row = self.current_row()
        count = self.steps_model.rowCount()
        self.remove_button.setEnabled(row is not None)
        self.up_button.setEnabled(row is not None and row > 0)
        self.down_button.setEnabled(row is not None and row < count - 1)
        self.add_button.setEnabled(count < MAX_STEPS)

    # ---- validation ---------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The job as a document, in the order a person would write it."""
        doc: dict[str, Any] = {"name": self.name_edit.text().strip()}
        description = self.description_edit.text().strip()
        if description:
            doc["description"] = description
        select = _selection_json(self.picker.selection())
        if select:
            doc["select"] = select
        doc["concurrency"] = self.concurrency_spin.value()
        doc["failure_policy"] = str(self.policy_combo.currentData())
        doc["steps"] = [_ordered(step) for step in self.steps_model.steps()]
        return doc

    def schedule_validation(self) -> None:
        self.save_button.setEnabled(False)
        self._timer.start()

    def pending(self) -> bool:
        return self._timer.isActive()

    def validate(self) -> bool:
        """Check the document now; True when it is a valid, savable job."""
        self._timer.stop()
        doc = self.document()
        self.definition, self.error, self.error_field = None, None, None
        try:
            name = doc["name"]
            if name in self._names:
                raise ValidationError(f"name: a job named {name!r} already exists", field="name")
            rule_problem = self.picker.error()
            if rule_problem:
                raise ValidationError(f"select.{rule_problem}", field="select.rule")
            self.definition = parse_job(doc)
        except ValidationError as exc:
            self.error, self.error_field = str(exc), exc.field
        self._show_validation(doc)
        return self.definition is not None

    def _show_validation(self, doc: dict[str, Any]) -> None:
        self.yaml_view.setPlainText(as_yaml(doc))
        step_row: int | None = None
        source = self.error_field or self.error or ""
        found = _STEP_FIELD.match(source)
        if found:
            step_row = int(found.group(1))
        self.steps_model.set_error(step_row, self.error or "")
        renamed = self.original is not None and doc["name"] and doc["name"] != self.original
        self.rename_hint.setVisible(bool(renamed))
        if renamed:
            self.rename_hint.setText(
                f"Saving stores the job as “{doc['name']}” and removes “{self.original}”; "
                "past runs keep their name."
            )
        if self.error:
            self.status.setText(f"✖ {self.error}")
            self.status.setStyleSheet(ERROR_STYLE)
        else:
            assert self.definition is not None
            count = len(self.definition.steps)
            self.status.setText(f"✔ Valid job: {count} step(s)")
            self.status.setStyleSheet(OK_STYLE)
        self.save_button.setEnabled(self.definition is not None and not self.busy)
        self.validated.emit(self.definition is not None)

    # ---- saving -------------------------------------------------------------------------------

    def accept(self) -> None:
        if self.busy or not self.validate():
            return
        self.busy = True
        self.save_button.setEnabled(False)
        definition = self.definition
        assert definition is not None
        spawn(self._save(definition), on_error=self._failed, name="save job")

    async def _save(self, definition: JobDefinition) -> None:
        try:
            info, outcome = await self.core.jobs.save(definition)
            if self.original is not None and self.original != definition.name:
                await self.core.jobs.delete(self.original)
                outcome = "renamed"
        finally:
            self.busy = False
            self.save_button.setEnabled(self.definition is not None)
        self.result_info, self.outcome = info, outcome
        super().accept()

    def _failed(self, error: OpsError) -> None:
        self.messages.show_error(error)
