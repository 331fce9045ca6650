"""What the monitor and rule editors share: a form, its YAML, validation that names a field.

The editor holds a *document* (what a YAML file holds). The form tabs edit it; the YAML
tab shows the same document and may be edited too: leaving it loads the text back into
the form (a YAML syntax error keeps the operator there, with the line), so form and YAML
round-trip. Keys the form has no field for survive both ways.

``VALIDATE_DELAY_MS`` after the last edit the document goes through the domain's parser —
the same validation as the CLI and an import — and the first error is shown with its field
path (``metrics[1].oid: invalid OID …``) and the field is outlined in red. Save checks
again; if the document is still invalid it brings that field forward and focuses it, so
the operator sees what to fix. Saving a renamed definition stores it under the new name
and removes the old one (resolving the alerts the old one raised); saving over a change
someone else made meanwhile asks first.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.monitoring.common import (
    ERROR_STYLE,
    INVALID_STYLE,
    OK_STYLE,
    as_yaml,
    parse_yaml_mapping,
)
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import confirm
from opsconductor_desktop.services.app import Core

VALIDATE_DELAY_MS = 250
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*):")


def error_field(exc: ValidationError) -> str:
    """The field path of a validation error: its ``field``, else the message's prefix."""
    if exc.field:
        return exc.field
    found = _FIELD_PREFIX.match(str(exc))
    return found.group(1) if found else ""


class DocumentEditor(QDialog):
    """Base of the monitor and rule editors; see the module docstring.

    Subclasses build the form (``build_form``), load and write it (``load_form``,
    ``form_document``), parse a document (``parse``), find a field's widget
    (``field_widget``) and store the result (``store``, ``remove``, ``version_of``).
    After Accepted: ``result_info`` and ``outcome``.
    """

    what = "definition"
    validated = Signal(bool)

    def __init__(
        self,
        core: Core,
        doc: dict[str, Any],
        *,
        original: str | None,
        version: int | None,
        taken: set[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self.original = original
        self.version = version
        self._taken = set(taken) - ({original} if original else set())
        self._base: dict[str, Any] = copy.deepcopy(doc)
        self.parsed: Any = None
        self.error: str | None = None
        self.error_field = ""
        self.result_info: Any = None
        self.outcome = ""
        self.busy = False
        self._yaml_dirty = False
        self._yaml_tab = -1
        self._last_tab = 0
        self._loading = False
        self._marked: list[QWidget] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.validate)
        self._build()
        self.load(doc)
        self.validate()

    # ---- subclass API -----------------------------------------------------------------

    def build_form(self, tabs: QTabWidget) -> QWidget:
        """Add the form's tabs to ``tabs``; return the widget above them (fields)."""
        raise NotImplementedError

    def load_form(self, doc: dict[str, Any]) -> None:
        raise NotImplementedError

    def form_document(self, base: dict[str, Any]) -> dict[str, Any]:
        """The document: ``base`` (a copy of the loaded one) with the form's fields set."""
        raise NotImplementedError

    def parse(self, doc: dict[str, Any]) -> Any:
        raise NotImplementedError

    def field_widget(self, field: str) -> QWidget | None:
        """The widget showing ``field``, or None when the form has none (unknown keys)."""
        return None

    def mark_field(self, field: str, text: str) -> None:
        """Show an error inside a widget (a table cell); ``field`` is "" when valid."""

    def reveal(self, field: str) -> None:
        """Select what ``field`` points at inside its widget (a table row) before focusing."""

    def valid_text(self, parsed: Any) -> str:
        return f"✔ Valid {self.what}"

    async def store(self, parsed: Any) -> tuple[Any, str]:
        raise NotImplementedError

    async def remove(self, name: str) -> None:
        raise NotImplementedError

    async def version_of(self, name: str) -> int | None:
        raise NotImplementedError

    # ---- building -----------------------------------------------------------------------

    def _build(self) -> None:
        self.messages = MessageBar()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("editorTabs")
        fields = self.build_form(self.tabs)
        self.yaml_edit = QPlainTextEdit()
        self.yaml_edit.setObjectName("yamlEdit")
        self.yaml_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.yaml_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.yaml_edit.setToolTip(
            "The same document as the form, as a YAML file holds it: edit either"
        )
        self._yaml_tab = self.tabs.addTab(self.yaml_edit, "Edit as &YAML")
        self.status = QLabel()
        self.status.setObjectName("validation")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rename_hint = QLabel()
        self.rename_hint.setObjectName("renameHint")
        self.rename_hint.setWordWrap(True)
        self.rename_hint.setStyleSheet("color: #8a6d00;")
        self.rename_hint.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addWidget(fields)
        layout.addWidget(self.rename_hint)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.yaml_edit.textChanged.connect(self._yaml_edited)

    def load(self, doc: dict[str, Any]) -> None:
        """Show ``doc`` in the form (and the YAML tab)."""
        self._base = copy.deepcopy(doc)
        self._loading = True
        try:
            self.load_form(copy.deepcopy(doc))
        finally:
            self._loading = False
        if self.tabs.currentIndex() == self._yaml_tab:
            self._show_yaml()

    # ---- the document -------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The document being edited (from the YAML tab while its text is edited)."""
        if self.on_yaml() and self._yaml_dirty:
            return parse_yaml_mapping(self.yaml_edit.toPlainText(), self.what)
        return self.form_document(copy.deepcopy(self._base))

    def on_yaml(self) -> bool:
        return self.tabs.currentIndex() == self._yaml_tab

    def _show_yaml(self) -> None:
        self.yaml_edit.blockSignals(True)
        try:
            self.yaml_edit.setPlainText(as_yaml(self.form_document(copy.deepcopy(self._base))))
        finally:
            self.yaml_edit.blockSignals(False)
        self._yaml_dirty = False

    def _yaml_edited(self) -> None:
        self._yaml_dirty = True
        self.schedule_validation()

    def _tab_changed(self, index: int) -> None:
        previous, self._last_tab = self._last_tab, index
        if previous == self._yaml_tab and index != self._yaml_tab and self._yaml_dirty:
            try:
                doc = parse_yaml_mapping(self.yaml_edit.toPlainText(), self.what)
            except ValidationError as exc:
                self._back_to_yaml(exc)
                return
            self._yaml_dirty = False
            self.load(doc)
        elif index == self._yaml_tab:
            self._show_yaml()
        self.validate()

    def _back_to_yaml(self, exc: ValidationError) -> None:
        """A YAML text that is no mapping cannot fill the form: stay, say why."""
        self.tabs.blockSignals(True)
        try:
            self.tabs.setCurrentIndex(self._yaml_tab)
        finally:
            self.tabs.blockSignals(False)
        self._last_tab = self._yaml_tab
        self.error, self.error_field = str(exc), "yaml"
        self._show_status()

    def edited(self) -> None:
        """Connect every form field's change signal here."""
        if not self._loading:
            self.schedule_validation()

    # ---- validation -----------------------------------------------------------------

    def schedule_validation(self) -> None:
        self._timer.start()

    def pending(self) -> bool:
        return self._timer.isActive()

    def validate(self) -> bool:
        """Check the document now; True when it can be saved."""
        self._timer.stop()
        self.parsed, self.error, self.error_field = None, None, ""
        try:
            doc = self.document()
            name = str(doc.get("name") or "").strip()
            if name in self._taken:
                raise ValidationError(
                    f"name: a {self.what} named {name!r} already exists", field="name"
                )
            self.parsed = self.parse(doc)
        except ValidationError as exc:
            self.error, self.error_field = str(exc), error_field(exc)
        self._show_status()
        return self.parsed is not None

    def _show_status(self) -> None:
        self._mark(self.error_field if self.error else "")
        if self.error:
            self.status.setText(f"✖ {self.error}")
            self.status.setStyleSheet(ERROR_STYLE)
        elif self.parsed is not None:
            self.status.setText(self.valid_text(self.parsed))
            self.status.setStyleSheet(OK_STYLE)
        name = getattr(self.parsed, "name", None)
        renamed = self.original is not None and name is not None and name != self.original
        self.rename_hint.setVisible(renamed)
        if renamed:
            self.rename_hint.setText(
                f"Saving stores the {self.what} as “{name}” and removes “{self.original}” "
                "(its open alerts are resolved; a problem that persists is raised again)."
            )
        self.validated.emit(self.parsed is not None)

    def _mark(self, field: str) -> None:
        self.mark_field(field, self.error or "")
        for marked in self._marked:
            marked.setStyleSheet("")
        self._marked = []
        widget: QWidget | None = None
        if field and field != "yaml":
            widget = self.field_widget(field)
        if field and widget is None and self.on_yaml():
            widget = self.yaml_edit  # "yaml", or a key the form has no field for
        if widget is not None and not isinstance(widget, QAbstractItemView):
            widget.setStyleSheet(f"{widget.metaObject().className()} {{ {INVALID_STYLE} }}")
            self._marked.append(widget)

    def show_field(self, field: str) -> None:
        """Bring the widget of ``field`` forward and focus it (the YAML for other fields)."""
        found = self.field_widget(field) if field and field != "yaml" else None
        widget: QWidget = self.yaml_edit if found is None else found
        if found is None and not self.on_yaml():
            self.tabs.setCurrentIndex(self._yaml_tab)
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if page is not None and (page is widget or page.isAncestorOf(widget)):
                if self.tabs.currentIndex() != index:
                    self.tabs.setCurrentIndex(index)
                break
        self.reveal(field)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(widget, QLineEdit):
            widget.selectAll()
        self._mark(self.error_field)

    # ---- saving ---------------------------------------------------------------------

    def accept(self) -> None:
        if self.busy:
            return
        if not self.validate():
            self.show_field(self.error_field)
            return
        self.busy = True
        self.save_button.setEnabled(False)
        spawn(self._save(self.parsed), on_error=self._failed, name=f"save {self.what}")

    async def _save(self, parsed: Any) -> None:
        try:
            if self.original is not None and self.version is not None:
                current = await self.version_of(self.original)
                if (
                    current is not None
                    and current != self.version
                    and not await confirm(
                        self,
                        f"Save {self.what}",
                        f"{self.original} was changed elsewhere since you opened it.",
                        action="Overwrite",
                        detail="Saving replaces that change with yours.",
                    )
                ):
                    return
            info, outcome = await self.store(parsed)
            if self.original is not None and self.original != parsed.name:
                await self.remove(self.original)
                outcome = "renamed"
        finally:
            self.busy = False
            self.save_button.setEnabled(True)
        self.result_info, self.outcome = info, outcome
        super().accept()

    def _failed(self, error: OpsError) -> None:
        self.messages.show_error(error)
