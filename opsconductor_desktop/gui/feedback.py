"""Inline feedback for operators: a message bar and a non-blocking confirmation.

Dialogs here never use ``exec()``: a nested Qt event loop inside an asyncio callback would
re-enter the one qasync loop. They are opened with ``open()`` and report through signals.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

_STYLES = {
    "error": "background:#fdecea; color:#8a1c13; border:1px solid #e6a19a; border-radius:3px;",
    "warning": "background:#fff4e5; color:#663c00; border:1px solid #f0c36d; border-radius:3px;",
    "info": "background:#e8f4fd; color:#0c3c60; border:1px solid #9cc9ee; border-radius:3px;",
}


class MessageBar(QFrame):
    """A closable one-line message above a view: errors the operator can act on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setStyleSheet(f"QFrame#messageBar {{ {_STYLES[kind]} }} QLabel {{ border: none; }}")
        self.label.setText(text)
        self.show()

    def show_error(self, error: BaseException | str) -> None:
        self.show_message(str(error), "error")

    def show_info(self, text: str) -> None:
        self.show_message(text, "info")

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def clear(self) -> None:
        self.kind = ""
        self.label.clear()
        self.hide()


def confirm(
    parent: QWidget, title: str, text: str, on_yes: Callable[[], object], *, action: str = "Delete"
) -> QMessageBox:
    """Ask a yes/no question window-modally without blocking; ``on_yes`` runs on yes."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton)
    box.setParent(parent, box.windowFlags())
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setObjectName("confirmBox")

    def finished() -> None:
        if box.clickedButton() is yes:
            on_yes()

    box.finished.connect(finished)
    box.open()
    return box
