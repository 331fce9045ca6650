"""The group properties dialog (create and rename): name and description."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.tasks import spawn

Submit = Callable[[str, str], Awaitable[object]]


class GroupDialog(QDialog):
    """Asks for a group's name and description, then runs ``submit``.

    The dialog stays open with the error shown when the service refuses (duplicate name,
    stale version), so the operator can correct the input instead of retyping it.
    """

    def __init__(
        self,
        title: str,
        submit: Submit,
        *,
        name: str = "",
        description: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("groupDialog")
        self.setWindowTitle(title)
        self._submit = submit
        self.message = MessageBar()
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("e.g. core-routers")
        self.description_edit = QLineEdit(description)
        self.description_edit.setPlaceholderText("what the group is for (optional)")
        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Description:", self.description_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._update_ok)
        self._update_ok()
        self.resize(420, self.sizeHint().height())
        self.busy = False

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.name_edit.text().strip()))

    def accept(self) -> None:
        if self.busy or not self.name_edit.text().strip():
            return
        self.busy = True
        self.buttons.setEnabled(False)
        spawn(self._run(), on_error=self._failed, name="group dialog")

    async def _run(self) -> None:
        try:
            await self._submit(self.name_edit.text().strip(), self.description_edit.text().strip())
        finally:
            self.busy = False
            self.buttons.setEnabled(True)
        super().accept()

    def _failed(self, error: OpsError) -> None:
        self.message.show_error(error)
