"""The step form of the job editor: the fields of one step, changing with its type.

The form edits a step *document* (the mapping a YAML file holds) and writes back only the
keys it manages, so keys it has no field for (``max_varbinds``…) survive an edit. It
never validates: the editor runs ``parse_job`` on the whole document, so the operator
sees exactly the errors the CLI and an import would report, with their field path.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.jobs import COMPARATORS, StepType
from opsconductor_desktop.gui.jobs.common import mapping

COMMON_KEYS = {"type", "name", "timeout", "expect", "capture"}
DEFAULT_TIMEOUTS = {StepType.SSH_COMMAND: 60.0, StepType.SNMP_WALK: 60.0, StepType.PING: 5.0}
SET_TYPES = (
    ("s", "s — OctetString"),
    ("i", "i — Integer32"),
    ("u", "u — Unsigned32"),
    ("g", "g — Gauge32"),
    ("c", "c — Counter32"),
    ("t", "t — TimeTicks"),
    ("a", "a — IpAddress"),
    ("o", "o — ObjectIdentifier"),
    ("x", "x — hex string"),
    ("d", "d — decimal bytes"),
)
_INTEGER_SET_TYPES = {"i", "u", "g", "c", "t"}


def new_step(kind: StepType) -> dict[str, Any]:
    """A fresh step document of a type, with the values an operator usually starts from."""
    fresh: dict[str, dict[str, Any]] = {
        StepType.SSH_COMMAND: {"command": ""},
        StepType.SNMP_GET: {"oids": ["1.3.6.1.2.1.1.1.0"]},
        StepType.SNMP_WALK: {"oid": "1.3.6.1.2.1.2.2.1.2"},
        StepType.SNMP_SET: {"oid": "", "value_type": "s", "value": ""},
        StepType.PING: {"count": 3},
        StepType.TCP_CHECK: {"port": 22},
    }
    return {"type": kind.value, **fresh[kind]}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _parse_number(text: str) -> int | float | str:
    """A number typed in a line edit; text that is not one goes to ``parse_job`` as is."""
    try:
        return _number(float(text))
    except ValueError:
        return text


def _spin(low: int, high: int, special: str = "", suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    if special:
        box.setSpecialValueText(special)
    if suffix:
        box.setSuffix(suffix)
    return box


class StepForm(QWidget):
    """See the module docstring: ``load`` a step, ``edited`` fires, ``step()`` reads it."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepForm")
        self._doc: dict[str, Any] = {}
        self._loading = False
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("stepType")
        for kind in StepType:
            self.type_combo.addItem(kind.value, kind.value)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("stepName")
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setObjectName("stepTimeout")
        self.timeout_spin.setRange(0.0, 86400.0)
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setSuffix(" s")
        # ssh.command
        self.command_edit = QPlainTextEdit()
        self.command_edit.setObjectName("stepCommand")
        self.command_edit.setFont(fixed)
        self.command_edit.setPlaceholderText(
            "show version | include {{ target.model }}   (templates: {{ target.FIELD }}, "
            "{{ vars.NAME }})"
        )
        self.command_edit.setFixedHeight(64)
        self.max_output_spin = _spin(0, 65536, "default (1 MiB)", " KiB")
        # snmp.get
        self.oids_edit = QPlainTextEdit()
        self.oids_edit.setObjectName("stepOids")
        self.oids_edit.setFont(fixed)
        self.oids_edit.setPlaceholderText("one numeric OID per line, e.g. 1.3.6.1.2.1.1.3.0")
        self.oids_edit.setFixedHeight(76)
        # snmp.walk / snmp.set
        self.walk_oid_edit = QLineEdit()
        self.walk_oid_edit.setObjectName("stepWalkOid")
        self.walk_oid_edit.setFont(fixed)
        self.repetitions_spin = _spin(0, 200, "default (25)")
        self.set_oid_edit = QLineEdit()
        self.set_oid_edit.setObjectName("stepSetOid")
        self.set_oid_edit.setFont(fixed)
        self.set_type_combo = QComboBox()
        for letter, text in SET_TYPES:
            self.set_type_combo.addItem(text, letter)
        self.set_value_edit = QLineEdit()
        self.set_value_edit.setPlaceholderText("value, or a template like {{ target.site }}")
        # ping / tcp.check
        self.count_spin = _spin(1, 20)
        self.port_spin = _spin(0, 65535, "— (choose a port)")
        self.port_spin.setObjectName("stepPort")
        # expectations
        self.regex_edit = QLineEdit()
        self.regex_edit.setObjectName("expectRegex")
        self.regex_edit.setPlaceholderText("regular expression the output must match")
        self.not_regex_edit = QLineEdit()
        self.not_regex_edit.setObjectName("expectNotRegex")
        self.not_regex_edit.setPlaceholderText("regular expression the output must not match")
        self.exit_spin = _spin(-1, 255, "any")
        self.exit_spin.setObjectName("expectExit")
        self.compare_op = QComboBox()
        self.compare_op.addItem("(no comparison)", "")
        for op in COMPARATORS:
            self.compare_op.addItem(op, op)
        self.compare_value = QLineEdit()
        self.compare_value.setObjectName("compareValue")
        self.compare_value.setPlaceholderText("number")
        self.capture_edit = QLineEdit()
        self.capture_edit.setObjectName("stepCapture")
        self.capture_edit.setFont(fixed)
        self.capture_edit.setPlaceholderText(r"named groups, e.g. Version (?P<version>\S+)")
        for edit in (self.regex_edit, self.not_regex_edit, self.walk_oid_edit, self.set_oid_edit):
            edit.setFont(fixed)
        self._build()
        self._connect()
        self.setEnabled(False)

    def _build(self) -> None:
        self.pages = QStackedWidget()
        self._page_of: dict[StepType, int] = {}
        pages: dict[StepType, list[tuple[str, QWidget]]] = {
            StepType.SSH_COMMAND: [
                ("Command:", self.command_edit),
                ("Max output:", self.max_output_spin),
            ],
            StepType.SNMP_GET: [("OIDs:", self.oids_edit)],
            StepType.SNMP_WALK: [
                ("OID:", self.walk_oid_edit),
                ("Max repetitions:", self.repetitions_spin),
            ],
            StepType.SNMP_SET: [
                ("OID:", self.set_oid_edit),
                ("Type:", self.set_type_combo),
                ("Value:", self.set_value_edit),
            ],
            StepType.PING: [("Count:", self.count_spin)],
            StepType.TCP_CHECK: [("Port:", self.port_spin)],
        }
        for kind, rows in pages.items():
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            for label, widget in rows:
                form.addRow(label, widget)
            self._page_of[kind] = self.pages.addWidget(page)
        top = QFormLayout()
        top.addRow("&Type:", self.type_combo)
        top.addRow("&Name:", self.name_edit)
        top.addRow("T&imeout:", self.timeout_spin)
        expect = QGroupBox("Success when")
        expect_form = QFormLayout(expect)
        expect_form.addRow("Output matches:", self.regex_edit)
        expect_form.addRow("Output does not match:", self.not_regex_edit)
        self.exit_label = QLabel("Exit status:")
        expect_form.addRow(self.exit_label, self.exit_spin)
        compare = QHBoxLayout()
        compare.addWidget(self.compare_op)
        compare.addWidget(self.compare_value, 1)
        expect_form.addRow("First number is:", compare)
        expect_form.addRow("Capture:", self.capture_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.pages)
        layout.addWidget(expect)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        for edit in (
            self.name_edit,
            self.walk_oid_edit,
            self.set_oid_edit,
            self.set_value_edit,
            self.regex_edit,
            self.not_regex_edit,
            self.compare_value,
            self.capture_edit,
        ):
            edit.textChanged.connect(self._changed)
        for text in (self.command_edit, self.oids_edit):
            text.textChanged.connect(self._changed)
        for spin in (
            self.timeout_spin,
            self.max_output_spin,
            self.repetitions_spin,
            self.count_spin,
            self.port_spin,
            self.exit_spin,
        ):
            spin.valueChanged.connect(self._changed)
        for combo in (self.set_type_combo, self.compare_op):
            combo.currentIndexChanged.connect(self._changed)

    # ---- reading and writing the document -------------------------------------------------------

    def kind(self) -> StepType:
        return StepType(self.type_combo.currentData())

    def load(self, step: dict[str, Any] | None) -> None:
        """Show a step document (None: no step selected)."""
        self._loading = True
        try:
            self._doc = copy.deepcopy(step) if step is not None else {}
            self.setEnabled(step is not None)
            if step is not None:
                self._fill(self._doc)
            self._show_page()
        finally:
            self._loading = False

    def _fill(self, doc: dict[str, Any]) -> None:
        try:
            kind = StepType(str(doc.get("type")))
        except ValueError:
            kind = StepType.SSH_COMMAND
        self.type_combo.setCurrentIndex(self.type_combo.findData(kind.value))
        self.name_edit.setText(str(doc.get("name") or ""))
        self.name_edit.setPlaceholderText(f"default: {kind.value}")
        self.timeout_spin.setSpecialValueText(f"default ({DEFAULT_TIMEOUTS.get(kind, 10.0):g} s)")
        self.timeout_spin.setValue(_float(doc.get("timeout")))
        self.command_edit.setPlainText(str(doc.get("command") or ""))
        self.max_output_spin.setValue(int(_float(doc.get("max_output")) // 1024))
        oids = doc.get("oids") or []
        self.oids_edit.setPlainText("\n".join(map(str, [oids] if isinstance(oids, str) else oids)))
        self.walk_oid_edit.setText(str(doc.get("oid") or "") if kind is StepType.SNMP_WALK else "")
        self.repetitions_spin.setValue(int(_float(doc.get("max_repetitions"))))
        self.set_oid_edit.setText(str(doc.get("oid") or "") if kind is StepType.SNMP_SET else "")
        at = self.set_type_combo.findData(str(doc.get("value_type") or "s"))
        self.set_type_combo.setCurrentIndex(max(0, at))
        self.set_value_edit.setText("" if doc.get("value") is None else str(doc.get("value")))
        self.count_spin.setValue(int(_float(doc.get("count")) or 1))
        self.port_spin.setValue(int(_float(doc.get("port"))))
        expect = mapping(doc.get("expect"))
        self.regex_edit.setText(str(expect.get("regex") or ""))
        self.not_regex_edit.setText(str(expect.get("not_regex") or ""))
        status = expect.get("exit_status", 0)
        self.exit_spin.setValue(-1 if status is None else int(_float(status)))
        compare = mapping(expect.get("compare"))
        self.compare_op.setCurrentIndex(max(0, self.compare_op.findData(compare.get("op", ""))))
        value = compare.get("value")
        self.compare_value.setText(
            "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        )
        self.capture_edit.setText(str(doc.get("capture") or ""))

    def _show_page(self) -> None:
        kind = self.kind()
        self.pages.setCurrentIndex(self._page_of[kind])
        ssh = kind is StepType.SSH_COMMAND
        self.exit_label.setVisible(ssh)
        self.exit_spin.setVisible(ssh)

    def _type_changed(self) -> None:
        if self._loading:
            return
        kind = self.kind()
        self._doc = {k: v for k, v in self._doc.items() if k in COMMON_KEYS}
        self._doc["type"] = kind.value
        defaults = new_step(kind)
        self._loading = True
        try:
            self._fill({**defaults, **self._doc})
        finally:
            self._loading = False
        self._show_page()
        self._changed()

    def _changed(self) -> None:
        if not self._loading:
            self._write()
            self.edited.emit()

    def step(self) -> dict[str, Any]:
        """The edited step document."""
        return copy.deepcopy(self._doc)

    def _write(self) -> None:
        doc = self._doc
        kind = self.kind()
        doc["type"] = kind.value
        _put(doc, "name", self.name_edit.text().strip())
        _put(
            doc,
            "timeout",
            _number(self.timeout_spin.value()) if self.timeout_spin.value() else None,
        )
        if kind is StepType.SSH_COMMAND:
            doc["command"] = self.command_edit.toPlainText()
            kib = self.max_output_spin.value()
            _put(doc, "max_output", kib * 1024 if kib else None)
        elif kind is StepType.SNMP_GET:
            doc["oids"] = [
                ln.strip() for ln in self.oids_edit.toPlainText().splitlines() if ln.strip()
            ]
        elif kind is StepType.SNMP_WALK:
            doc["oid"] = self.walk_oid_edit.text().strip()
            _put(doc, "max_repetitions", self.repetitions_spin.value() or None)
        elif kind is StepType.SNMP_SET:
            letter = str(self.set_type_combo.currentData())
            text = self.set_value_edit.text()
            value: Any = text
            if letter in _INTEGER_SET_TYPES and text.strip().lstrip("-").isdigit():
                value = int(text)
            doc.update(oid=self.set_oid_edit.text().strip(), value_type=letter, value=value)
        elif kind is StepType.PING:
            doc["count"] = self.count_spin.value()
        else:
            _put(doc, "port", self.port_spin.value() or None)
        _put(doc, "expect", self._expect(kind) or None)
        _put(doc, "capture", self.capture_edit.text())

    def _expect(self, kind: StepType) -> dict[str, Any]:
        old = mapping(self._doc.get("expect"))
        expect: dict[str, Any] = {
            k: v
            for k, v in old.items()
            if k not in {"regex", "not_regex", "exit_status", "compare"}
        }
        _put(expect, "regex", self.regex_edit.text())
        _put(expect, "not_regex", self.not_regex_edit.text())
        if kind is StepType.SSH_COMMAND and self.exit_spin.value() != 0:
            expect["exit_status"] = None if self.exit_spin.value() < 0 else self.exit_spin.value()
        op = str(self.compare_op.currentData() or "")
        if op:
            expect["compare"] = {
                "op": op,
                "value": _parse_number(self.compare_value.text().strip()),
            }
        return expect


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``, or remove it for an empty value (the default applies)."""
    if value is None or value == "":
        doc.pop(key, None)
    else:
        doc[key] = value


def _float(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return 0.0
