"""The Add/Edit connector dialog (manifest, name, settings form) and the Test result.

The connector dialog saves through the service itself: a refused value (a bad URL, a
missing required setting) keeps the dialog open with the error, naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.alerts import NormalizedAlert
from opsconductor_desktop.domain.connectors import Manifest
from opsconductor_desktop.domain.credentials import Credential
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.gui.connectors.settings_form import SettingsForm, field_of_error
from opsconductor_desktop.gui.keyed_model import Column, KeyedTableModel
from opsconductor_desktop.gui.monitoring.common import ERROR_STYLE, OK_STYLE, make_table
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import ask_file
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.connector_manifests import load_manifest_file
from opsconductor_desktop.services.connectors import ConnectorInfo, PollReport


class ConnectorDialog(QDialog):
    """Add a connector (``info`` None) or edit the settings of ``info``.

    After Save, ``result_info`` is the saved connector and ``outcome`` says what happened.
    ``credentials`` (the stored ones, listed by the caller) are what credential fields
    offer; the dialog itself never waits on the database before it shows.
    """

    def __init__(
        self,
        core: Core,
        info: ConnectorInfo | None = None,
        parent: QWidget | None = None,
        *,
        credentials: Sequence[Credential] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("connectorDialog")
        self.core = core
        self.info = info
        self.credentials = tuple(credentials)
        self.result_info: ConnectorInfo | None = None
        self.outcome = ""
        self.manifests: list[Manifest] = list(core.connectors.manifests())
        self.setWindowTitle(f"Settings of {info.name}" if info else "Add connector")
        self.resize(640, 560)  # a credential field's placeholder says where to add one
        self._build()
        self._rebuild_form()

    def _build(self) -> None:
        top = QFormLayout()
        self.manifest_combo = QComboBox()
        self.manifest_combo.setObjectName("manifestCombo")
        self.file_button = QPushButton("From file…")
        self.file_button.setObjectName("manifestFileButton")
        self.file_button.setToolTip("Import a manifest YAML file")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("connectorName")
        self.enabled_check = QCheckBox("Enabled")
        self.enabled_check.setObjectName("connectorEnabled")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(mid);")
        if self.info is None:
            for m in self.manifests:
                self.manifest_combo.addItem(f"{m.name} ({m.id} {m.version})")
            row = QHBoxLayout()
            row.addWidget(self.manifest_combo, 1)
            row.addWidget(self.file_button)
            top.addRow("Manifest", row)
            top.addRow("Name", self.name_edit)
            top.addRow("", self.enabled_check)
            self.manifest_combo.currentIndexChanged.connect(lambda _i: self._rebuild_form())
            self.file_button.clicked.connect(
                lambda: spawn(self.choose_file(), on_error=self.show_error, name="manifest file")
            )
        else:
            label = QLabel(f"{self.info.manifest_name} ({self.info.manifest_id} "
                           f"{self.info.manifest_version}), {self.info.kind.value}")  # fmt: skip
            top.addRow("Manifest", label)
        top.addRow("", self.description)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("connectorError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.form_area, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def manifest(self) -> Manifest | None:
        index = self.manifest_combo.currentIndex()
        return self.manifests[index] if 0 <= index < len(self.manifests) else None

    def _rebuild_form(self) -> None:
        if self.info is not None:
            self.form = SettingsForm(
                self.info.fields,
                self.info.settings,
                self.info.secrets_set,
                credentials=self.credentials,
            )
            self.description.setText(self.info.description)
        else:
            m = self.manifest()
            self.form = SettingsForm(m.settings if m else (), credentials=self.credentials)
            if m is not None:
                self.description.setText(m.description)
                self.name_edit.setText(m.id)
                self.enabled_check.setChecked(m.enabled_by_default)
        self.form_area.setWidget(self.form)
        self.error_label.hide()

    async def choose_file(self) -> None:
        chosen = await ask_file(
            self, "Import connector manifest", name_filters=("Manifests (*.yaml *.yml)",)
        )
        if chosen:
            self.add_manifest_file(Path(chosen))

    def add_manifest_file(self, path: Path) -> None:
        """Load a manifest file into the choice (its errors name file, line and field)."""
        try:
            m = load_manifest_file(path)
        except OpsError as exc:
            self.show_error(exc)
            return
        self.manifests.append(m)
        self.manifest_combo.addItem(f"{m.name} ({m.id} {m.version}) — {path.name}")
        self.manifest_combo.setCurrentIndex(len(self.manifests) - 1)

    def show_error(self, error: OpsError | str) -> None:
        text = str(error)
        field = error.field if isinstance(error, ValidationError) else None
        name = field_of_error(text, field, [f.name for f in self.form.fields])
        self.form.mark_invalid(name)
        self.error_label.setText(f"{name}: {text}" if name and not text.startswith(name) else text)
        self.error_label.show()
        self.save_button.setEnabled(True)

    def save(self) -> None:
        self.save_button.setEnabled(False)
        spawn(self._save(), on_error=self.show_error, name="save connector")

    async def _save(self) -> None:
        if self.info is None:
            m = self.manifest()
            if m is None:
                raise ValidationError("choose a manifest", field="manifest")
            saved = await self.core.connectors.add(
                m,
                name=self.name_edit.text().strip() or None,
                settings=self.form.values(),
                enabled=self.enabled_check.isChecked(),
            )
            self.outcome = "added"
        else:
            changes = self.form.changes()
            saved = (
                await self.core.connectors.set(self.info.name, changes) if changes else self.info
            )
            self.outcome = "saved" if changes else "unchanged"
        self.result_info = saved
        self.accept()


ALERT_COLUMNS: tuple[Column[NormalizedAlert], ...] = (
    Column(
        "Severity",
        lambda a: "clear" if a.clear else a.severity.name.lower(),
        sort=lambda a: -1 if a.clear else int(a.severity),
    ),
    Column("Target", lambda a: a.target or ""),
    Column("Key", lambda a: a.key),
    Column("Summary", lambda a: a.summary, tooltip=lambda a: a.summary),
)


def report_text(report: PollReport) -> str:
    if not report.ok:
        return f"The poll failed: {report.error}"
    parts = [f"{report.items} item(s) read", f"{len(report.alerts)} alert(s) would be submitted"]
    if report.absent:
        parts.append(f"{len(report.absent)} open alert(s) would resolve (no longer listed)")
    if report.held:
        parts.append(f"{report.held} held (silenced at the source)")
    if report.item_error_count:
        parts.append(f"{report.item_error_count} item(s) could not be mapped")
    return "; ".join(parts) + f" — in {report.took_ms:.0f} ms. Nothing was stored."


class PollPreviewDialog(QDialog):
    """What one test poll would produce: the alerts (and clears), nothing stored."""

    def __init__(self, report: PollReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectorTestDialog")
        self.setWindowTitle(f"Test of {report.connector}")
        self.resize(820, 420)
        self.report = report
        self.summary = QLabel(report_text(report))
        self.summary.setObjectName("testSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setStyleSheet(OK_STYLE if report.ok else ERROR_STYLE)
        self.model: KeyedTableModel[NormalizedAlert] = KeyedTableModel(
            ALERT_COLUMNS, lambda a: a.fingerprint, self
        )
        self.model.replace([*report.alerts, *report.absent])
        self.view = make_table("testAlertsTable")
        self.view.setModel(self.model)
        for column, width in enumerate((80, 160, 240)):
            self.view.setColumnWidth(column, width)
        errors = QLabel("\n".join(report.item_errors))
        errors.setWordWrap(True)
        errors.setVisible(bool(report.item_errors))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(errors)
        layout.addWidget(buttons)
