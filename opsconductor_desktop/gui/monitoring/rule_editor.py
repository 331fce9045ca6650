"""The threshold rule editor: the condition, how long it must hold, severity and scope.

A rule watches the series whose names match its metric glob (``cpuLoad``,
``ifHCIn.*``); the metric field completes from the metrics the monitors define. The
problem is raised once the condition has held for a duration or a number of checks, and
cleared past the clear threshold (hysteresis) after ``clear_checks`` checks. See
``editor.py`` for the YAML view, validation and saving.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.display import seconds_text
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.jobs import COMPARATORS
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.domain.thresholds import (
    DEFAULT_SUMMARY,
    SUMMARY_FIELDS,
    AlertRule,
    parse_rule,
)
from opsconductor_desktop.gui.jobs.selection import SelectionPicker
from opsconductor_desktop.gui.monitoring.common import (
    IntField,
    put,
    to_text,
    to_value,
)
from opsconductor_desktop.gui.monitoring.editor import DocumentEditor
from opsconductor_desktop.gui.monitoring.models import condition_text, hold_text
from opsconductor_desktop.gui.monitoring.monitor_editor import (
    ordered,
    selection_document,
    selection_of,
)
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import RuleInfo

SEVERITIES = (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING, Severity.INFO)
AT_ONCE, FOR_DURATION, FOR_CHECKS = range(3)
ORDER = (
    "name", "description", "enabled", "metric", "op", "threshold", "clear", "for",
    "for_checks", "clear_checks", "severity", "scope", "summary",
)  # fmt: skip


def new_rule_document() -> dict[str, Any]:
    return {"name": "", "metric": "", "op": ">", "threshold": 0, "severity": "warning"}


def _tags(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return [str(t).strip() for t in items if str(t).strip()]


class RuleEditorDialog(DocumentEditor):
    """See the module docstring."""

    what = "rule"

    def __init__(
        self,
        core: Core,
        info: RuleInfo | None,
        *,
        taken: set[str],
        targets: Sequence[Target],
        groups: Sequence[Group],
        metrics: Iterable[str] = (),
        doc: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self._targets = list(targets)
        self._groups = list(groups)
        self._metrics = sorted(set(metrics), key=str.lower)
        if doc is None:
            doc = dict(info.rule.source) if info else new_rule_document()
        super().__init__(
            core,
            doc,
            original=info.name if info else None,
            version=info.version if info else None,
            taken=taken,
            parent=parent,
        )
        self.setObjectName("ruleEditor")
        self.setWindowTitle(f"Edit rule {info.name}" if info else "New threshold rule")
        self.resize(940, 660)

    # ---- building -----------------------------------------------------------------------

    def build_form(self, tabs: QTabWidget) -> QWidget:
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("ruleName")
        self.name_edit.setPlaceholderText("e.g. cpu-high")
        self.enabled_check = QCheckBox("&Enabled")
        self.enabled_check.setObjectName("ruleEnabled")
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("ruleDescription")
        self.description_edit.setPlaceholderText("why the rule exists, what to do (optional)")
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self._row(grid, 0, "&Name:", self.name_edit, self.enabled_check)
        self._row(grid, 1, "&Description:", self.description_edit)
        grid.setColumnStretch(1, 1)
        tabs.addTab(self._condition_tab(), "&Condition")
        tabs.addTab(self._scope_tab(), "&Scope")
        fields = QWidget()
        fields.setLayout(grid)
        self._connect()
        return fields

    @staticmethod
    def _row(grid: QGridLayout, row: int, text: str, widget: QWidget, *extra: QWidget) -> None:
        label = QLabel(text)
        label.setBuddy(widget)
        grid.addWidget(label, row, 0)
        if extra:
            line = QHBoxLayout()
            line.addWidget(widget, 1)
            for other in extra:
                line.addWidget(other)
            grid.addLayout(line, row, 1)
        else:
            grid.addWidget(widget, row, 1)

    def _condition_tab(self) -> QWidget:
        self.metric_edit = QLineEdit()
        self.metric_edit.setObjectName("ruleMetric")
        self.metric_edit.setPlaceholderText("a series name or glob: cpuLoad, ifHCIn.*")
        completer = QCompleter(self._metrics, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.metric_edit.setCompleter(completer)
        self.op_combo = QComboBox()
        self.op_combo.setObjectName("ruleOp")
        self.op_combo.addItems(list(COMPARATORS))
        self.threshold_edit = QLineEdit()
        self.threshold_edit.setObjectName("ruleThreshold")
        self.threshold_edit.setPlaceholderText("a number")
        self.clear_edit = QLineEdit()
        self.clear_edit.setObjectName("ruleClear")
        self.clear_edit.setPlaceholderText("none: clears once the condition is false")
        self.hold_combo = QComboBox()
        self.hold_combo.setObjectName("ruleHold")
        self.hold_combo.addItems(["at once", "held for a duration", "held for N checks"])
        self.for_edit = QLineEdit()
        self.for_edit.setObjectName("ruleFor")
        self.for_edit.setPlaceholderText("seconds or 30s, 5m, 1h")
        self.for_checks_spin = IntField(1, 1000, 1)
        self.for_checks_spin.setObjectName("ruleForChecks")
        self.for_checks_spin.setSuffix(" check(s)")
        self.hold_stack = QStackedWidget()
        self.hold_stack.addWidget(QWidget())
        self.hold_stack.addWidget(self.for_edit)
        self.hold_stack.addWidget(self.for_checks_spin)
        self.clear_checks_spin = IntField(1, 1000, 1)
        self.clear_checks_spin.setObjectName("ruleClearChecks")
        self.clear_checks_spin.setSuffix(" check(s)")
        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("ruleSeverity")
        for severity in SEVERITIES:
            self.severity_combo.addItem(severity.label, severity.label)
        self.summary_edit = QLineEdit()
        self.summary_edit.setObjectName("ruleSummary")
        self.summary_edit.setPlaceholderText(DEFAULT_SUMMARY)
        self.summary_edit.setToolTip(
            "The alert's summary; fields: " + ", ".join("{" + f + "}" for f in SUMMARY_FIELDS)
        )
        grid = QGridLayout()
        self._row(grid, 0, "&Metric:", self.metric_edit)
        condition = QHBoxLayout()
        condition.addWidget(self.op_combo)
        condition.addWidget(self.threshold_edit, 1)
        condition.addWidget(QLabel("clear at:"))
        condition.addWidget(self.clear_edit, 2)
        label = QLabel("Co&ndition:")
        label.setBuddy(self.op_combo)
        grid.addWidget(label, 1, 0)
        grid.addLayout(condition, 1, 1)
        hold = QHBoxLayout()
        hold.addWidget(self.hold_combo)
        hold.addWidget(self.hold_stack, 1)
        hold.addWidget(QLabel("clears after:"))
        hold.addWidget(self.clear_checks_spin)
        label = QLabel("&Raise:")
        label.setBuddy(self.hold_combo)
        grid.addWidget(label, 2, 0)
        grid.addLayout(hold, 2, 1)
        self._row(grid, 3, "Se&verity:", self.severity_combo)
        self._row(grid, 4, "S&ummary:", self.summary_edit)
        self.preview = QLabel()
        self.preview.setObjectName("rulePreview")
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("color: palette(mid);")
        grid.addWidget(self.preview, 5, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(6, 1)
        page = QWidget()
        page.setLayout(grid)
        return page

    def _scope_tab(self) -> QWidget:
        self.picker = SelectionPicker()
        self.picker.set_choices(self._targets, self._groups)
        self.tags_edit = QLineEdit()
        self.tags_edit.setObjectName("scopeTags")
        self.tags_edit.setPlaceholderText("tags, comma-separated (optional): prod, core")
        page = QWidget()
        layout = QVBoxLayout(page)
        hint = QLabel(
            "Nothing chosen: the rule applies to every target. Otherwise to the ticked targets, "
            "members of ticked groups, targets with one of the tags and those the rule matches."
        )
        hint.setWordWrap(True)
        tags = QHBoxLayout()
        tags_label = QLabel("&Tags:")
        tags_label.setBuddy(self.tags_edit)
        tags.addWidget(tags_label)
        tags.addWidget(self.tags_edit, 1)
        layout.addWidget(hint)
        layout.addWidget(self.picker, 1)
        layout.addLayout(tags)
        return page

    def _connect(self) -> None:
        for edit in (
            self.name_edit,
            self.description_edit,
            self.metric_edit,
            self.threshold_edit,
            self.clear_edit,
            self.for_edit,
            self.summary_edit,
            self.tags_edit,
        ):
            edit.textChanged.connect(self.edited)
        for combo in (self.op_combo, self.severity_combo):
            combo.currentIndexChanged.connect(self.edited)
        self.hold_combo.currentIndexChanged.connect(self._hold_changed)
        for spin in (self.for_checks_spin, self.clear_checks_spin):
            spin.valueChanged.connect(self.edited)
        self.enabled_check.toggled.connect(self.edited)
        self.picker.changed.connect(self.edited)

    def _hold_changed(self, index: int) -> None:
        self.hold_stack.setCurrentIndex(index)
        self.edited()

    # ---- form <-> document -------------------------------------------------------------

    def load_form(self, doc: dict[str, Any]) -> None:
        self.name_edit.setText(str(doc.get("name") or ""))
        self.enabled_check.setChecked(doc.get("enabled", True) is not False)
        self.description_edit.setText(str(doc.get("description") or ""))
        self.metric_edit.setText(str(doc.get("metric") or ""))
        op = str(doc.get("op") or ">")
        if self.op_combo.findText(op) < 0:
            self.op_combo.addItem(op)  # shown as given; validation names it
        self.op_combo.setCurrentIndex(self.op_combo.findText(op))
        self.threshold_edit.setText(to_text(doc.get("threshold")))
        self.clear_edit.setText(to_text(doc.get("clear")))
        hold = FOR_DURATION if doc.get("for") is not None else AT_ONCE
        hold = FOR_CHECKS if hold == AT_ONCE and doc.get("for_checks") is not None else hold
        self.hold_combo.setCurrentIndex(hold)
        self.hold_stack.setCurrentIndex(hold)
        self.for_edit.setText(to_text(doc.get("for")))
        self.for_checks_spin.load(doc.get("for_checks"))
        self.clear_checks_spin.load(doc.get("clear_checks"))
        severity = str(doc.get("severity") or "warning").strip().lower()
        if self.severity_combo.findData(severity) < 0:
            self.severity_combo.addItem(severity, severity)
        self.severity_combo.setCurrentIndex(self.severity_combo.findData(severity))
        self.summary_edit.setText(str(doc.get("summary") or ""))
        given = doc.get("scope")
        scope: dict[str, Any] = given if isinstance(given, dict) else {}
        self.picker.set_selection(selection_of(scope))
        self.tags_edit.setText(", ".join(_tags(scope.get("tags"))))

    def form_document(self, base: dict[str, Any]) -> dict[str, Any]:
        doc = base
        doc["name"] = self.name_edit.text().strip()
        put(doc, "description", self.description_edit.text().strip() or None)
        if not self.enabled_check.isChecked():
            doc["enabled"] = False
        elif "enabled" in doc:
            doc["enabled"] = True
        doc["metric"] = self.metric_edit.text().strip()
        doc["op"] = self.op_combo.currentText()
        doc["threshold"] = to_value(self.threshold_edit.text())
        put(doc, "clear", to_value(self.clear_edit.text()))
        hold = self.hold_combo.currentIndex()
        put(doc, "for", to_value(self.for_edit.text()) if hold == FOR_DURATION else None)
        if hold == FOR_CHECKS:
            self.for_checks_spin.put(doc, "for_checks")
            doc.setdefault("for_checks", self.for_checks_spin.value())
        else:
            doc.pop("for_checks", None)
        self.clear_checks_spin.put(doc, "clear_checks")
        doc["severity"] = str(self.severity_combo.currentData())
        put(doc, "summary", self.summary_edit.text().strip() or None)
        scope = selection_document(self.picker.selection())
        tags = _tags(self.tags_edit.text())
        if tags:
            scope["tags"] = tags
        put(doc, "scope", scope or None)
        return ordered(doc, ORDER)

    def parse(self, doc: dict[str, Any]) -> AlertRule:
        return parse_rule(doc)

    def valid_text(self, parsed: AlertRule) -> str:
        return f"✔ Valid rule: {condition_text(parsed)}, {hold_text(parsed)}"

    def _show_status(self) -> None:
        super()._show_status()
        rule = self.parsed
        if isinstance(rule, AlertRule):
            example = rule.threshold + (1 if rule.op in (">", ">=") else -1)
            summary = rule.render(
                rule.summary,
                target="ams1-core-rtr-01",
                metric=rule.metric.replace("*", "1"),
                value=example,
            )
            held = f" after {seconds_text(rule.for_seconds)}" if rule.for_seconds else ""
            self.preview.setText(f"Example alert ({rule.severity.label}{held}): “{summary}”")
        else:
            self.preview.setText("")

    # ---- fields -------------------------------------------------------------------------

    def field_widget(self, field: str) -> QWidget | None:
        if field.startswith("scope"):
            if ".targets" in field:
                return self.picker.targets.view
            if ".groups" in field:
                return self.picker.groups.view
            if ".tags" in field:
                return self.tags_edit
            return self.picker.rule_edit
        hold = {"for": self.for_edit, "for_checks": self.for_checks_spin}
        if field in hold:
            return hold[field]
        widgets: dict[str, QWidget] = {
            "name": self.name_edit,
            "enabled": self.enabled_check,
            "description": self.description_edit,
            "metric": self.metric_edit,
            "op": self.op_combo,
            "threshold": self.threshold_edit,
            "clear": self.clear_edit,
            "clear_checks": self.clear_checks_spin,
            "severity": self.severity_combo,
            "summary": self.summary_edit,
        }
        return widgets.get(field)

    def reveal(self, field: str) -> None:
        if field == "for" and self.hold_combo.currentIndex() != FOR_DURATION:
            self.hold_combo.setCurrentIndex(FOR_DURATION)
        elif field == "for_checks" and self.hold_combo.currentIndex() != FOR_CHECKS:
            self.hold_combo.setCurrentIndex(FOR_CHECKS)

    # ---- storing ------------------------------------------------------------------------

    async def store(self, parsed: AlertRule) -> tuple[RuleInfo, str]:
        return await self.core.monitoring.save_rule(parsed)

    async def remove(self, name: str) -> None:
        await self.core.monitoring.remove_rule(name)

    async def version_of(self, name: str) -> int | None:
        for info in await self.core.monitoring.rules():
            if info.name == name:
                return info.version
        return None
