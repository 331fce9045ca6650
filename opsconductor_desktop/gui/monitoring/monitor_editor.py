"""The monitor editor: name, kind and timing, what it checks, and the targets it applies to.

A reachability monitor probes by ICMP or a TCP port and calls a target down after N
failed checks; an SNMP or SSH monitor reads metrics, one row each in the metrics table.
"Test on target…" runs the monitor as edited (valid, not yet saved) once on one target.
See ``editor.py`` for the YAML view, validation and saving.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.display import seconds_text
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.jobs import Selection
from opsconductor_desktop.domain.monitors import (
    MAX_METRICS,
    Monitor,
    MonitorKind,
    ProbeMethod,
    parse_monitor,
)
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.jobs.selection import SelectionPicker
from opsconductor_desktop.gui.monitoring.common import (
    IntField,
    put,
    to_text,
    to_value,
)
from opsconductor_desktop.gui.monitoring.editor import DocumentEditor
from opsconductor_desktop.gui.monitoring.metrics_model import (
    ChoiceDelegate,
    MetricsTableModel,
    new_metric,
)
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.monitoring import MonitorInfo

_METRIC_FIELD = re.compile(r"^metrics\[(\d+)\](?:\.(\w+))?")
DEFAULT_TIMEOUTS = {"reachability": 5, "snmp": 10, "ssh": 30}
ORDER = (
    "name", "kind", "description", "enabled", "method", "port", "down_after", "interval",
    "timeout", "retries", "select", "metrics",
)  # fmt: skip


def new_monitor_document() -> dict[str, Any]:
    return {"name": "", "kind": "reachability", "method": "icmp"}


def selection_of(value: Any) -> Selection:
    """A document's ``select`` (or ``scope``) as a Selection, forgiving odd shapes."""
    data = value if isinstance(value, dict) else {}

    def names(key: str) -> tuple[str, ...]:
        raw = data.get(key) or []
        items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
        return tuple(str(v).strip() for v in items if str(v).strip())

    rule = data.get("rule")
    return Selection(names("targets"), names("groups"), str(rule) if rule else None)


def selection_document(selection: Selection) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if selection.targets:
        out["targets"] = list(selection.targets)
    if selection.groups:
        out["groups"] = list(selection.groups)
    if selection.rule:
        out["rule"] = selection.rule
    return out


def ordered(doc: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    first = [k for k in order if k in doc]
    return {k: doc[k] for k in (*first, *(k for k in doc if k not in order))}


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class MonitorEditorDialog(DocumentEditor):
    """See the module docstring."""

    what = "monitor"

    def __init__(
        self,
        core: Core,
        info: MonitorInfo | None,
        *,
        taken: set[str],
        targets: Sequence[Target],
        groups: Sequence[Group],
        doc: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self._targets = list(targets)
        self._groups = list(groups)
        self.tester: Any = None  # the "Test on target" dialog while open
        if doc is None:
            doc = dict(info.monitor.source) if info else new_monitor_document()
        super().__init__(
            core,
            doc,
            original=info.name if info else None,
            version=info.version if info else None,
            taken=taken,
            parent=parent,
        )
        self.setObjectName("monitorEditor")
        self.setWindowTitle(f"Edit monitor {info.name}" if info else "New monitor")
        self.test_button = self.buttons.addButton(
            "&Test on target…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.test_button.setObjectName("testMonitor")
        self.test_button.setToolTip("Run the monitor as edited once on one target (stores nothing)")
        self.test_button.clicked.connect(self.test_on_target)
        self.validated.connect(self.test_button.setEnabled)
        self.test_button.setEnabled(self.parsed is not None)
        self.resize(1000, 700)

    # ---- building -----------------------------------------------------------------------

    def build_form(self, tabs: QTabWidget) -> QWidget:
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("monitorName")
        self.name_edit.setPlaceholderText("e.g. core-reachability")
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("monitorKind")
        for kind, label in (
            (MonitorKind.REACHABILITY, "reachability — ICMP or TCP probe"),
            (MonitorKind.SNMP, "snmp — OIDs read or walked"),
            (MonitorKind.SSH, "ssh — a number from a command's output"),
        ):
            self.kind_combo.addItem(label, kind.value)
        self.enabled_check = QCheckBox("&Enabled")
        self.enabled_check.setObjectName("monitorEnabled")
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("monitorDescription")
        self.description_edit.setPlaceholderText("what the monitor is for (optional)")
        self.interval_edit = QLineEdit()
        self.interval_edit.setObjectName("monitorInterval")
        self.interval_edit.setPlaceholderText("60 (default)")
        self.interval_edit.setToolTip("Seconds between checks, or a duration: 30s, 5m, 1h")
        self.timeout_edit = QLineEdit()
        self.timeout_edit.setObjectName("monitorTimeout")
        self.timeout_edit.setToolTip("Seconds one try may take (or a duration)")
        self.retries_spin = IntField(0, 10, 1)
        self.retries_spin.setObjectName("monitorRetries")
        grid = QGridLayout()
        grid.addWidget(_label("&Name:", self.name_edit), 0, 0)
        grid.addWidget(self.name_edit, 0, 1)
        grid.addWidget(_label("&Kind:", self.kind_combo), 0, 2)
        grid.addWidget(self.kind_combo, 0, 3)
        grid.addWidget(self.enabled_check, 0, 4)
        grid.addWidget(_label("&Description:", self.description_edit), 1, 0)
        grid.addWidget(self.description_edit, 1, 1, 1, 4)
        timing = QHBoxLayout()
        for text, widget in (
            ("&Interval:", self.interval_edit),
            ("T&imeout:", self.timeout_edit),
            ("&Retries:", self.retries_spin),
        ):
            widget.setMaximumWidth(130)
            timing.addWidget(_label(text, widget))
            timing.addWidget(widget)
            timing.addSpacing(12)
        timing.addStretch(1)
        grid.addWidget(QLabel("Timing:"), 2, 0)
        grid.addLayout(timing, 2, 1, 1, 4)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        self.checks_stack = QStackedWidget()
        self.checks_stack.addWidget(self._reachability_page())
        self.checks_stack.addWidget(self._metrics_page())
        tabs.addTab(self.checks_stack, "&Checks")
        self.picker = SelectionPicker()
        self.picker.set_choices(self._targets, self._groups)
        applies = QWidget()
        applies_layout = QVBoxLayout(applies)
        hint = QLabel(
            "The monitor checks every target ticked, every member of a ticked group and every "
            "target the rule matches (disabled targets only when ticked by name)."
        )
        hint.setWordWrap(True)
        applies_layout.addWidget(hint)
        applies_layout.addWidget(self.picker, 1)
        tabs.addTab(applies, "&Applies to")
        fields = QWidget()
        fields.setLayout(grid)
        grid.setContentsMargins(0, 0, 0, 0)
        self._connect()
        return fields

    def _reachability_page(self) -> QWidget:
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("probeMethod")
        self.method_combo.addItem(
            "icmp — echo request (TCP probe where ICMP is not allowed)", "icmp"
        )
        self.method_combo.addItem("tcp — a port must accept connections", "tcp")
        self.port_spin = IntField(1, 65535, 22)
        self.port_spin.setObjectName("probePort")
        self.down_after_spin = IntField(1, 100, 3)
        self.down_after_spin.setObjectName("downAfter")
        self.down_after_spin.setSuffix(" failed checks")
        form = QFormLayout()
        form.addRow("&Method:", self.method_combo)
        form.addRow("&Port:", self.port_spin)
        form.addRow("&Down after:", self.down_after_spin)
        note = QLabel(
            "Stores the round-trip time (rtt_ms) or the TCP connect time (tcp_connect_ms). "
            "After the failed checks above the target is down: a critical alert, cleared by "
            "the first success."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    def _metrics_page(self) -> QWidget:
        self.metrics_model = MetricsTableModel(self)
        self.metrics_view = QTableView()
        self.metrics_view.setObjectName("metricsTable")
        self.metrics_view.setModel(self.metrics_model)
        self.metrics_view.setItemDelegate(ChoiceDelegate(self.metrics_model, self.metrics_view))
        self.metrics_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.metrics_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.metrics_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.metrics_view.verticalHeader().setDefaultSectionSize(
            self.metrics_view.fontMetrics().height() + 10
        )
        header = self.metrics_view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.add_metric_button = QPushButton("&Add metric")
        self.add_metric_button.setObjectName("addMetric")
        self.add_metric_button.clicked.connect(self.add_metric)
        self.remove_metric_button = QPushButton("Remo&ve metric")
        self.remove_metric_button.setObjectName("removeMetric")
        self.remove_metric_button.clicked.connect(self.remove_metric)
        self.metrics_hint = QLabel()
        self.metrics_hint.setWordWrap(True)
        self.metrics_hint.setStyleSheet("color: palette(mid);")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_metric_button)
        buttons.addWidget(self.remove_metric_button)
        buttons.addStretch(1)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.metrics_view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.metrics_hint)
        return page

    def _connect(self) -> None:
        for edit in (self.name_edit, self.description_edit, self.interval_edit, self.timeout_edit):
            edit.textChanged.connect(self.edited)
        for spin in (self.retries_spin, self.port_spin, self.down_after_spin):
            spin.valueChanged.connect(self.edited)
        self.enabled_check.toggled.connect(self.edited)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.method_combo.currentIndexChanged.connect(self._method_changed)
        self.picker.changed.connect(self.edited)
        self.metrics_model.edited.connect(self.edited)

    # ---- form <-> document -------------------------------------------------------------

    def kind(self) -> MonitorKind:
        return MonitorKind(str(self.kind_combo.currentData()))

    def load_form(self, doc: dict[str, Any]) -> None:
        self.name_edit.setText(str(doc.get("name") or ""))
        kind = str(doc.get("kind") or "reachability").strip().lower()
        found = self.kind_combo.findData(kind)
        self.kind_combo.setCurrentIndex(max(0, found))
        self.enabled_check.setChecked(doc.get("enabled", True) is not False)
        self.description_edit.setText(str(doc.get("description") or ""))
        self.interval_edit.setText(to_text(doc.get("interval")))
        self.timeout_edit.setText(to_text(doc.get("timeout")))
        self.retries_spin.load(doc.get("retries"))
        method = str(doc.get("method") or "icmp").strip().lower()
        self.method_combo.setCurrentIndex(max(0, self.method_combo.findData(method)))
        self.port_spin.load(doc.get("port"))
        self.down_after_spin.load(doc.get("down_after"))
        self.picker.set_selection(selection_of(doc.get("select")))
        metrics = doc.get("metrics")
        rows = [m for m in metrics if isinstance(m, dict)] if isinstance(metrics, list) else []
        self.metrics_model.set_kind(MonitorKind.SSH if kind == "ssh" else MonitorKind.SNMP)
        self.metrics_model.set_metrics(rows)
        self._show_kind()

    def form_document(self, base: dict[str, Any]) -> dict[str, Any]:
        doc = base
        kind = self.kind()
        doc["name"] = self.name_edit.text().strip()
        doc["kind"] = kind.value
        put(doc, "description", self.description_edit.text().strip() or None)
        if not self.enabled_check.isChecked():
            doc["enabled"] = False
        elif "enabled" in doc:
            doc["enabled"] = True
        put(doc, "interval", to_value(self.interval_edit.text()))
        put(doc, "timeout", to_value(self.timeout_edit.text()))
        self.retries_spin.put(doc, "retries")
        if kind is MonitorKind.REACHABILITY:
            method = str(self.method_combo.currentData())
            if method != "icmp" or "method" in doc:
                doc["method"] = method
            if method == ProbeMethod.TCP.value:
                doc["port"] = self.port_spin.value()
            else:
                doc.pop("port", None)
            self.down_after_spin.put(doc, "down_after")
            doc.pop("metrics", None)
        else:
            for key in ("method", "port", "down_after"):
                doc.pop(key, None)
            doc["metrics"] = self.metrics_model.metrics()
        select = selection_document(self.picker.selection())
        put(doc, "select", select or None)
        return ordered(doc, ORDER)

    def parse(self, doc: dict[str, Any]) -> Monitor:
        return parse_monitor(doc)

    def valid_text(self, parsed: Monitor) -> str:
        what = (
            f"{len(parsed.metrics)} metric(s)"
            if parsed.metrics
            else (parsed.method.value if parsed.method else "icmp")
        )
        return f"✔ Valid {parsed.kind.value} monitor: {what}, every {seconds_text(parsed.interval)}"

    # ---- kind and metrics ---------------------------------------------------------------

    def _kind_changed(self) -> None:
        kind = self.kind()
        if kind is not MonitorKind.REACHABILITY:
            self.metrics_model.set_kind(kind)
            if not self.metrics_model.rowCount() and not self._loading:
                self.add_metric()
        self._show_kind()
        self.edited()

    def _method_changed(self) -> None:
        self.port_spin.setEnabled(self.method_combo.currentData() == "tcp")
        self.edited()

    def _show_kind(self) -> None:
        kind = self.kind()
        self.checks_stack.setCurrentIndex(0 if kind is MonitorKind.REACHABILITY else 1)
        self.port_spin.setEnabled(self.method_combo.currentData() == "tcp")
        self.timeout_edit.setPlaceholderText(f"{DEFAULT_TIMEOUTS[kind.value]} (default)")
        if kind is MonitorKind.SSH:
            self.metrics_hint.setText(
                "Each metric runs its command over SSH; the regex group holds the number "
                "(commands may use {{ target.name }}, {{ vars.NAME }})."
            )
        else:
            self.metrics_hint.setText(
                "Numeric OIDs only. Walk a table column for one series per row (ifHCInOctets.3); "
                "a counter stores a rate per second, times Scale (8: octets/s → bit/s)."
            )
        widths = (140, 260, 80, 60, 70) if kind is MonitorKind.SNMP else (120, 260, 170, 60, 80)
        for column, width in enumerate(widths):
            self.metrics_view.setColumnWidth(column, width)

    def current_metric(self) -> int | None:
        index = self.metrics_view.currentIndex()
        return index.row() if index.isValid() else None

    def add_metric(self) -> None:
        if self.metrics_model.rowCount() >= MAX_METRICS:
            self.messages.show_message(f"A monitor has at most {MAX_METRICS} metrics.", "warning")
            return
        current = self.current_metric()
        at = self.metrics_model.rowCount() if current is None else current + 1
        row = self.metrics_model.insert(at, new_metric(self.kind()))
        index = self.metrics_model.index(row, 0)
        self.metrics_view.setCurrentIndex(index)
        if not self._loading and self.isVisible():
            self.metrics_view.edit(index)

    def remove_metric(self) -> None:
        row = self.current_metric()
        if row is not None:
            self.metrics_model.remove(row)

    # ---- fields -------------------------------------------------------------------------

    def field_widget(self, field: str) -> QWidget | None:
        if _METRIC_FIELD.match(field) or field == "metrics":
            return self.metrics_view
        if field.startswith("select"):
            if ".targets" in field:
                return self.picker.targets.view
            if ".groups" in field:
                return self.picker.groups.view
            return self.picker.rule_edit
        widgets: dict[str, QWidget] = {
            "name": self.name_edit,
            "kind": self.kind_combo,
            "enabled": self.enabled_check,
            "description": self.description_edit,
            "interval": self.interval_edit,
            "timeout": self.timeout_edit,
            "retries": self.retries_spin,
            "method": self.method_combo,
            "port": self.port_spin,
            "down_after": self.down_after_spin,
        }
        return widgets.get(field)

    def mark_field(self, field: str, text: str) -> None:
        found = _METRIC_FIELD.match(field)
        if found:
            self.metrics_model.set_error(int(found.group(1)), found.group(2), text)
        else:
            self.metrics_model.set_error(None, None, "")

    def reveal(self, field: str) -> None:
        found = _METRIC_FIELD.match(field)
        if not found or int(found.group(1)) >= self.metrics_model.rowCount():
            return
        column = self.metrics_model.column_of(found.group(2) or "name")
        index = self.metrics_model.index(int(found.group(1)), column)
        self.metrics_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.metrics_view.scrollTo(index)

    # ---- storing ------------------------------------------------------------------------

    async def store(self, parsed: Monitor) -> tuple[MonitorInfo, str]:
        return await self.core.monitoring.save_monitor(parsed)

    async def remove(self, name: str) -> None:
        await self.core.monitoring.remove_monitor(name)

    async def version_of(self, name: str) -> int | None:
        for info in await self.core.monitoring.monitors():
            if info.name == name:
                return info.version
        return None

    # ---- testing ------------------------------------------------------------------------

    def test_on_target(self) -> None:
        if not self.validate():
            self.show_field(self.error_field)
            return
        from opsconductor_desktop.gui.monitoring.check_dialog import CheckDialog

        monitor = self.parsed
        assert isinstance(monitor, Monitor)
        dialog = CheckDialog(self.core, monitor, [t.name for t in self._targets], parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.tester = dialog
        dialog.finished.connect(self._tester_closed)
        dialog.open()

    def _tester_closed(self, _code: int) -> None:
        self.tester = None
