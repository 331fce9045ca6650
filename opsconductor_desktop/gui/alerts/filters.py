"""The Alerts pane's filter bar: status, minimum severity, source, target or group, text.

Choices in the combo boxes apply at once (``changed``); the target/group field applies
when the operator presses Enter, picks a completion or leaves the field; the free text
applies after a short pause in typing (``TEXT_PAUSE_MS``) or on Enter — each text search
is a scan of the alerts table, so not one per keystroke.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSettings, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QHBoxLayout, QLabel, QLineEdit, QWidget

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.gui.alerts import style

TEXT_PAUSE_MS = 250
GROUP_PREFIX = "group:"
STATUS_CHOICES = (
    ("open", "Open"),
    ("active", "Active (not acknowledged)"),
    ("acknowledged", "Acknowledged"),
    ("suppressed", "Suppressed"),
    ("resolved", "Resolved"),
    ("all", "All"),
)
ANY_SOURCE = "Any source"


class FilterBar(QWidget):
    """See the module docstring; ``changed`` is emitted when the filters should apply."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertFilters")
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("statusFilter")
        self.status_combo.setToolTip("Which alerts: open means every status but resolved")
        for value, label in STATUS_CHOICES:
            self.status_combo.addItem(label, value)
        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("severityFilter")
        self.severity_combo.setToolTip("Minimum severity: this level and above")
        self.severity_combo.addItem("Any severity", None)
        for severity in style.SEVERITIES[:-1]:
            label = "Critical only" if severity is Severity.CRITICAL else f"{severity.label}+"
            self.severity_combo.addItem(
                style.severity_icon(severity, style.is_dark()), label, int(severity)
            )
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("sourceFilter")
        self.source_combo.setToolTip("Where the alerts come from")
        self.source_combo.addItem(ANY_SOURCE, None)
        self.source_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.scope_edit = QLineEdit()
        self.scope_edit.setObjectName("scopeFilter")
        self.scope_edit.setPlaceholderText("Target or group:NAME")
        self.scope_edit.setClearButtonEnabled(True)
        self.scope_edit.setToolTip(
            "A target name, or group:NAME for the alerts of a group's members (Enter applies)"
        )
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(15)
        self.scope_edit.setCompleter(completer)
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("alertTextFilter")
        self.text_edit.setPlaceholderText("Filter (Ctrl+F): text in summary, key or target")
        self.text_edit.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.count_label.setObjectName("alertCount")
        self._applied_scope = ""
        self._applied_text = ""
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_PAUSE_MS)
        self._text_timer.timeout.connect(self.apply_text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_combo)
        layout.addWidget(self.severity_combo)
        layout.addWidget(self.source_combo)
        layout.addWidget(self.scope_edit, 1)
        layout.addWidget(self.text_edit, 2)
        layout.addWidget(self.count_label)
        self._connect()

    def _connect(self) -> None:
        for combo in (self.status_combo, self.severity_combo, self.source_combo):
            combo.currentIndexChanged.connect(lambda _=0: self.changed.emit())
        self.scope_edit.returnPressed.connect(self.apply_scope)
        self.scope_edit.editingFinished.connect(self.apply_scope)
        self.scope_edit.completer().activated.connect(lambda _text: self.apply_scope())
        self.scope_edit.textChanged.connect(self._scope_typed)
        self.text_edit.textChanged.connect(lambda _text: self._text_timer.start())
        self.text_edit.returnPressed.connect(self.apply_text)

    # ---- values -------------------------------------------------------------------------------

    def status(self) -> str:
        return str(self.status_combo.currentData())

    def min_severity(self) -> Severity | None:
        value = self.severity_combo.currentData()
        return None if value is None else Severity(int(value))

    def source(self) -> str | None:
        value = self.source_combo.currentData()
        return None if value is None else str(value)

    def scope(self) -> str:
        """The target or ``group:NAME`` applied (not what is being typed)."""
        return self._applied_scope

    def text(self) -> str:
        """The free text applied (not what is being typed)."""
        return self._applied_text

    def is_active(self) -> bool:
        """Whether anything narrows the default view (open alerts of any kind)."""
        return bool(
            self.status() != "open"
            or self.min_severity() is not None
            or self.source()
            or self._applied_scope
            or self._applied_text
        )

    # ---- setting ------------------------------------------------------------------------------

    def set_status(self, value: str) -> None:
        self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(value)))

    def set_min_severity(self, severity: Severity | None) -> None:
        data = None if severity is None else int(severity)
        self.severity_combo.setCurrentIndex(max(0, self.severity_combo.findData(data)))

    def set_source(self, source: str | None) -> None:
        if source and self.source_combo.findData(source) < 0:
            self.source_combo.addItem(source, source)
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(source)))

    def set_scope(self, text: str) -> None:
        self.scope_edit.setText(text)
        self.apply_scope()

    def set_text(self, text: str) -> None:
        """Type ``text`` into the free-text field and apply it at once."""
        self.text_edit.setText(text)
        self.apply_text()

    def set_sources(self, sources: Iterable[str]) -> None:
        """Offer these sources (the chosen one stays, even if no alert has it now)."""
        current = self.source()
        wanted = sorted(set(sources) | ({current} if current else set()))
        have = [self.source_combo.itemData(i) for i in range(1, self.source_combo.count())]
        if have == wanted:
            return
        self.source_combo.blockSignals(True)
        try:
            while self.source_combo.count() > 1:
                self.source_combo.removeItem(1)
            for source in wanted:
                self.source_combo.addItem(source, source)
            self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(current)))
        finally:
            self.source_combo.blockSignals(False)

    def set_completions(self, targets: Iterable[str], groups: Iterable[str]) -> None:
        names = sorted(targets) + [f"{GROUP_PREFIX}{g}" for g in sorted(groups)]
        self._names.setStringList(names)

    def has_completions(self) -> bool:
        return self._names.rowCount() > 0

    def apply_scope(self) -> None:
        text = self.scope_edit.text().strip()
        if text != self._applied_scope:
            self._applied_scope = text
            self.changed.emit()

    def apply_text(self) -> None:
        self._text_timer.stop()
        text = self.text_edit.text().strip()
        if text != self._applied_text:
            self._applied_text = text
            self.changed.emit()

    def _scope_typed(self, text: str) -> None:
        if not text.strip() and self._applied_scope:  # the clear button: apply at once
            self.apply_scope()

    def show_count(self, shown: int, total: int) -> None:
        if shown < total:
            self.count_label.setText(f"{shown:,} of {total:,} alerts loaded")
        else:
            self.count_label.setText(f"{total:,} alert{'s' if total != 1 else ''}")

    # ---- state --------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("status", self.status())
        severity = self.min_severity()
        settings.setValue("severity", "" if severity is None else int(severity))
        settings.setValue("source", self.source() or "")
        settings.setValue("scope", self._applied_scope)
        settings.setValue("text", self._applied_text)

    def restore_state(self, settings: QSettings) -> None:
        """Restore the filters without emitting ``changed`` (the first load follows)."""
        self.blockSignals(True)
        try:
            status = settings.value("status", "open")
            self.set_status(status if isinstance(status, str) else "open")
            severity = settings.value("severity", "")
            try:
                level = Severity(int(str(severity))) if severity not in ("", None) else None
            except (TypeError, ValueError):
                level = None
            self.set_min_severity(level)
            source = settings.value("source", "")
            self.set_source(source if isinstance(source, str) and source else None)
            scope = settings.value("scope", "")
            if isinstance(scope, str):
                self.scope_edit.setText(scope)
                self._applied_scope = scope.strip()
            text = settings.value("text", "")
            if isinstance(text, str):
                self.text_edit.setText(text)
                self._applied_text = text.strip()
            self._text_timer.stop()
        finally:
            self.blockSignals(False)
