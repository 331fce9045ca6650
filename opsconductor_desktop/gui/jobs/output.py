"""The output viewer: one target's steps with their output, error and captured data.

Every step goes into one read-only text document (so a search runs across all of them);
the steps table above it jumps to a step's section. Output is decoded as UTF-8 with
replacement, control characters escaped, binary output shown as a hex dump, and capped
output marked ``[truncated]``. Search highlights every match and steps through them.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QKeySequence,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.jobs import RunStatus
from opsconductor_desktop.gui.jobs.common import (
    STATUS_COLORS,
    decode_output,
    status_brush,
    status_icon,
)
from opsconductor_desktop.gui.keyed_model import Column, KeyedTableModel
from opsconductor_desktop.services.jobs import RunTargetInfo, StepInfo

MAX_MATCHES = 5000
_MATCH = QColor("#fff176")
_CURRENT = QColor("#ffb74d")


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f} ms"


STEP_COLUMNS: list[Column[StepInfo]] = [
    Column("#", lambda s: str(s.index + 1), sort=lambda s: s.index, align_right=True),
    Column("Step", lambda s: s.name),
    Column("Type", lambda s: s.type),
    Column("Status", lambda s: s.status.value),
    Column(
        "Exit",
        lambda s: "" if s.exit_status is None else str(s.exit_status),
        sort=lambda s: -1 if s.exit_status is None else s.exit_status,
        align_right=True,
    ),
    Column(
        "Duration",
        lambda s: _ms(s.duration_ms),
        sort=lambda s: s.duration_ms or 0.0,
        align_right=True,
    ),
    Column("Error", lambda s: s.error or "", tooltip=lambda s: s.error or ""),
]


class StepsModel(KeyedTableModel[StepInfo]):
    """A target's step results by index, with a coloured status."""

    STATUS = 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(STEP_COLUMNS, lambda s: s.index, parent)

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == self.STATUS and 0 <= index.row() < self.rowCount():
            step = self.item(index.row())
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(step.status)
            if role == Qt.ItemDataRole.ForegroundRole:
                return status_brush(step.status)
        return super().data(index, role)


def data_lines(data: dict[str, Any]) -> list[str]:
    """Captured fields, var-binds and the rest of a step's data as readable lines."""
    lines: list[str] = []
    captured = data.get("captured") or {}
    if captured:
        lines.append("captured:")
        lines += [f"  {key} = {value}" for key, value in captured.items()]
    varbinds = data.get("varbinds") or []
    if varbinds:
        lines.append(f"varbinds ({len(varbinds)}):")
        lines += [f"  {vb.get('oid')} = {vb.get('type')}: {vb.get('value')}" for vb in varbinds]
    rest = {k: v for k, v in data.items() if k not in ("captured", "varbinds", "command")}
    for key, value in rest.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{key}: {shown}")
    return lines


class OutputViewer(QWidget):
    """See the module docstring; ``show_target`` switches what it shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobOutput")
        self.target: RunTargetInfo | None = None
        self._anchors: dict[int, int] = {}
        self._matches: list[QTextCursor] = []
        self._current = -1
        self.heading = QLabel("Select a target of the run to see its output.")
        self.heading.setObjectName("outputHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.steps_model = StepsModel(self)
        self.steps_view = self._steps_table()
        self.text = QPlainTextEdit()
        self.text.setObjectName("outputText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self._build_search()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.steps_view)
        text_box = QWidget()
        text_layout = QVBoxLayout(text_box)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addLayout(self.search_bar)
        text_layout.addWidget(self.text, 1)
        splitter.addWidget(text_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([110, 330])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(splitter, 1)
        self.steps_view.selectionModel().selectionChanged.connect(self._step_selected)
        self._update_search_buttons()

    def _steps_table(self) -> QTableView:
        view = QTableView()
        view.setObjectName("outputSteps")
        view.setModel(self.steps_model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        header = view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((34, 130, 100, 100, 44, 80)):
            view.setColumnWidth(column, width)
        return view

    def _build_search(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("outputSearch")
        self.search_edit.setPlaceholderText("Find in output (Ctrl+F, Enter: next)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.search)
        self.search_edit.returnPressed.connect(self.find_next)
        self.match_label = QLabel()
        self.match_label.setObjectName("matchCount")
        self.match_label.setMinimumWidth(
            self.match_label.fontMetrics().horizontalAdvance("9999 of 9999+")
        )
        self.match_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.prev_button = QToolButton()
        self.prev_button.setText("▲")
        self.prev_button.setToolTip("Previous match (Shift+F3)")
        self.prev_button.clicked.connect(self.find_previous)
        self.next_button = QToolButton()
        self.next_button.setText("▼")
        self.next_button.setToolTip("Next match (F3, Enter)")
        self.next_button.clicked.connect(self.find_next)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the selected text, or all of the output")
        self.copy_button.clicked.connect(self.copy)
        self.search_bar = QHBoxLayout()
        self.search_bar.addWidget(self.search_edit, 1)
        self.search_bar.addWidget(self.match_label)
        self.search_bar.addWidget(self.prev_button)
        self.search_bar.addWidget(self.next_button)
        self.search_bar.addWidget(self.copy_button)
        for keys, slot in (
            (QKeySequence(QKeySequence.StandardKey.Find), self.focus_search),
            (QKeySequence("F3"), self.find_next),
            (QKeySequence("Shift+F3"), self.find_previous),
        ):
            action = QAction(self)
            action.setShortcut(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    # ---- showing ------------------------------------------------------------------------------

    def show_target(self, target: RunTargetInfo | None) -> None:
        """Show one target's steps (None: nothing selected)."""
        self.target = target
        self.steps_model.replace(target.steps if target is not None else ())
        if target is None:
            self.heading.setText("Select a target of the run to see its output.")
            self.text.clear()
            self._anchors = {}
            self.search()
            return
        color = STATUS_COLORS[target.status]
        text = (
            f"<b>{_html(target.name)}</b> ({_html(target.address)}) — "
            f"<span style='color:{color}'><b>{target.status.value}</b></span>"
            f", {len(target.steps)} step(s)"
        )
        if target.error:
            text += f"<br><span style='color:{color}'>{_html(target.error)}</span>"
        self.heading.setText(text)
        self._render(target)
        self.search()

    def _render(self, target: RunTargetInfo) -> None:
        document = self.text.document()
        document.clear()
        self._anchors = {}
        cursor = QTextCursor(document)
        plain, bold, muted, error = _formats(self.text.font())
        total = len(target.steps)
        if not target.steps:
            cursor.insertText("No step has run on this target yet.", muted)
        for number, step in enumerate(target.steps):
            if number:
                cursor.insertText("\n\n", plain)
            self._anchors[step.index] = cursor.position()
            head = (
                f"━━ Step {step.index + 1}/{max(total, step.index + 1)} · {step.name} ({step.type})"
            )
            cursor.insertText(head, bold)
            status = QTextCharFormat(bold)
            status.setForeground(QColor(STATUS_COLORS[step.status]))
            cursor.insertText(f" — {step.status.value}", status)
            facts = [
                f"exit {step.exit_status}" if step.exit_status is not None else "",
                _ms(step.duration_ms),
            ]
            cursor.insertText("".join(f" · {f}" for f in facts if f) + "\n", muted)
            command = step.data.get("command")
            if command:
                cursor.insertText(f"$ {command}\n", muted)
            self._insert_stream(cursor, step.stdout, step.stdout_truncated, plain, muted)
            if step.stderr:
                cursor.insertText("── stderr ──\n", muted)
                self._insert_stream(cursor, step.stderr, step.stderr_truncated, plain, muted)
            if step.error:
                cursor.insertText(f"── error ──\n{step.error}\n", error)
            lines = data_lines(dict(step.data))
            if lines:
                cursor.insertText("── data ──\n", muted)
                cursor.insertText("\n".join(lines) + "\n", plain)
        self.text.moveCursor(QTextCursor.MoveOperation.Start)

    @staticmethod
    def _insert_stream(
        cursor: QTextCursor,
        data: bytes,
        truncated: bool,
        plain: QTextCharFormat,
        muted: QTextCharFormat,
    ) -> None:
        if not data and not truncated:
            return
        body = decode_output(data)
        cursor.insertText(body + ("" if body.endswith("\n") else "\n"), plain)
        if truncated:
            cursor.insertText(f"[truncated: only the first {len(data):,} bytes were kept]\n", muted)

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def _step_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        if not rows:
            return
        step = self.steps_model.item(rows[0].row())
        position = self._anchors.get(step.index)
        if position is None:
            return
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(position)
        self.text.setTextCursor(cursor)
        # the step's heading goes to the top of the view, not just somewhere in it
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.text.ensureCursorVisible()

    # ---- search and copy -------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def search(self) -> None:
        """Highlight every match of the search text; the first becomes current."""
        needle = self.search_edit.text()
        self._matches = []
        self._current = -1
        if needle:
            document = self.text.document()
            cursor = QTextCursor(document)
            while len(self._matches) < MAX_MATCHES:
                cursor = document.find(needle, cursor)
                if cursor.isNull():
                    break
                self._matches.append(QTextCursor(cursor))
        if self._matches:
            self._current = 0
        self._show_matches()

    def find_next(self) -> None:
        self._step(1)

    def find_previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if not self._matches:
            return
        self._current = (self._current + delta) % len(self._matches)
        self._show_matches()

    def match_count(self) -> int:
        return len(self._matches)

    def current_match(self) -> int:
        return self._current

    def _show_matches(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        for number, match in enumerate(self._matches):
            extra = QTextEdit.ExtraSelection()
            extra.cursor = match
            extra.format.setBackground(_CURRENT if number == self._current else _MATCH)
            extra.format.setForeground(QColor("#000000"))
            selections.append(extra)
        self.text.setExtraSelections(selections)
        if self._current >= 0:
            # the cursor goes to the match without selecting it: the highlight shows it, and
            # Copy still means "all of it" unless the operator selects text
            current = QTextCursor(self.text.document())
            current.setPosition(self._matches[self._current].selectionStart())
            self.text.setTextCursor(current)
            self.text.ensureCursorVisible()
        needle = self.search_edit.text()
        if not needle:
            self.match_label.setText("")
        elif not self._matches:
            self.match_label.setText("no match")
        else:
            more = "+" if len(self._matches) >= MAX_MATCHES else ""
            self.match_label.setText(f"{self._current + 1} of {len(self._matches)}{more}")
        self._update_search_buttons()

    def _update_search_buttons(self) -> None:
        many = len(self._matches) > 0
        self.prev_button.setEnabled(many)
        self.next_button.setEnabled(many)
        self.copy_button.setEnabled(self.target is not None)

    def copy(self) -> str:
        """Copy the selected text, or all of it; returns what was copied."""
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        text = selected or self.plain_text()
        QGuiApplication.clipboard().setText(text)
        return text


def _formats(
    base: QFont,
) -> tuple[QTextCharFormat, QTextCharFormat, QTextCharFormat, QTextCharFormat]:
    plain = QTextCharFormat()
    plain.setFont(base)
    bold = QTextCharFormat(plain)
    bold.setFontWeight(QFont.Weight.Bold)
    muted = QTextCharFormat(plain)
    muted.setForeground(QColor("#78828f"))
    error = QTextCharFormat(plain)
    error.setForeground(QColor(STATUS_COLORS[RunStatus.FAILED]))
    return plain, bold, muted, error


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
