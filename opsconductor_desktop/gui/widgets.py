"""Small widgets and helpers shared by the panes and dialogs.

Dialogs are never run with ``exec()``: a nested Qt event loop inside a coroutine would
re-enter the one qasync loop ("Cannot enter into task ... while another task is being
executed"). ``ask`` opens a dialog window-modally and awaits its result instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import ValidationError


def alive(obj: QObject | None) -> bool:
    """Whether ``obj``'s C++ object still exists (a parent may have deleted it)."""
    return obj is not None and shiboken6.isValid(obj)


def dispose(obj: QObject | None) -> None:
    """``deleteLater`` unless Qt already deleted it (with its parent)."""
    if alive(obj):
        assert obj is not None
        obj.deleteLater()


async def ask(dialog: QDialog) -> int:
    """Open ``dialog`` (window-modal, non-blocking) and wait for its result code."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    def finished(code: int) -> None:
        if not done.done():
            done.set_result(code)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await done
    finally:
        if alive(dialog):
            dialog.finished.disconnect(finished)


async def ask_file(
    parent: QWidget,
    title: str,
    *,
    save: bool = False,
    name_filters: tuple[str, ...] = (),
    directory: str = "",
    default_suffix: str = "",
) -> str | None:
    """A file chosen in a (non-native, non-blocking) file dialog, or None if cancelled."""
    dialog = QFileDialog(parent, title, directory)
    dialog.setObjectName("fileDialog")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    if name_filters:
        dialog.setNameFilters(list(name_filters))
    if default_suffix:
        dialog.setDefaultSuffix(default_suffix)
    try:
        if await ask(dialog) != QDialog.DialogCode.Accepted:
            return None
        files = dialog.selectedFiles()
        return files[0] if files else None
    finally:
        dispose(dialog)


async def confirm(
    parent: QWidget, title: str, text: str, *, action: str = "OK", detail: str = ""
) -> bool:
    """A yes/cancel question (window-modal, non-blocking); True when ``action`` was chosen."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton)
    box.setParent(parent, box.windowFlags())
    box.setObjectName("confirmBox")
    if detail:
        box.setInformativeText(detail)
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    try:
        await ask(box)
        return box.clickedButton() is yes
    finally:
        dispose(box)


def inform(parent: QWidget, title: str, text: str, *, error: bool = False) -> QMessageBox:
    """Show a message without blocking (for errors the operator should read)."""
    icon = QMessageBox.Icon.Critical if error else QMessageBox.Icon.Information
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok)
    box.setParent(parent, box.windowFlags())
    box.setObjectName("errorBox" if error else "infoBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class FieldEdit(QWidget):
    """A line edit with an inline error line under it, checked as the operator types.

    ``check`` gets the text and raises ``ValidationError`` (or returns an error text) when it
    is not acceptable; ``error()`` is the current message or "".
    """

    def __init__(
        self,
        check: Callable[[str], str | None] | None = None,
        *,
        placeholder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._check = check
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        small = QFont(self.message.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.message.setFont(small)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)
        self.edit.textChanged.connect(self.revalidate)

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:
        self.edit.setText(text)

    def set_check(self, check: Callable[[str], str | None]) -> None:
        self._check = check
        self.revalidate()

    def revalidate(self) -> None:
        problem: str | None = None
        if self._check is not None:
            try:
                problem = self._check(self.edit.text())
            except ValidationError as exc:
                problem = str(exc)
        self.set_error(problem or "")

    def set_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.edit.setProperty("invalid", bool(text))
        self.edit.setStyleSheet("border: 1px solid #c62828;" if text else "")

    def error(self) -> str:
        return self.message.text()


class BusyBar(QWidget):
    """A thin indeterminate progress bar with a caption, shown while work is under way."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("busyBar")
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumHeight(10)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def update_text(self, text: str) -> None:
        self.label.setText(text)

    def stop(self) -> None:
        self.hide()
