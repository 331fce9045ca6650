"""Opening the core at start-up, with a way out when the database cannot be opened.

``open_core_interactively`` never lets a traceback reach the operator: when the settings
file is broken or the database is unreachable, too new, or not a database URL at all, a
dialog says why and offers Retry, Choose another database… (an SQLite file or a
PostgreSQL URL), Use the embedded database, or Quit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.config import (
    Settings,
    load_settings,
    resolve_database,
    save_settings,
    with_updates,
)
from opsconductor_desktop.domain.errors import (
    DatabaseUnavailableError,
    OpsError,
    SchemaTooNewError,
    ValidationError,
)
from opsconductor_desktop.gui.crash import redact
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import ask, ask_file, dispose
from opsconductor_desktop.paths import AppPaths
from opsconductor_desktop.services.app import Core, open_core

log = logging.getLogger(__name__)

OPEN_ERRORS = (DatabaseUnavailableError, SchemaTooNewError, ValidationError)


class Choice(Enum):
    RETRY = "retry"
    CHOOSE = "choose"
    DEFAULT = "default"
    RESET_SETTINGS = "reset-settings"
    QUIT = "quit"


_LABELS = {
    Choice.RETRY: "&Retry",
    Choice.CHOOSE: "&Choose another database…",
    Choice.DEFAULT: "Use the &embedded database",
    Choice.RESET_SETTINGS: "Reset the &settings file",
    Choice.QUIT: "&Quit",
}


def _advice(error: OpsError) -> str:
    if isinstance(error, SchemaTooNewError):
        return (
            "This database was upgraded by a newer OpsConductor. Install that version, or "
            "open another database."
        )
    if isinstance(error, ValidationError):
        return "The database setting is not usable. Choose another database."
    return (
        "Check that the server is running and reachable and that you may log in, then "
        "Retry — or work on another database for now."
    )


class StartupProblemDialog(QDialog):
    """Why OpsConductor cannot start on its database, and the ways forward."""

    def __init__(
        self,
        title: str,
        error: OpsError,
        details: str,
        choices: tuple[Choice, ...],
        parent: QWidget | None = None,
        *,
        advice: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("startupProblemDialog")
        self.setWindowTitle("OpsConductor — cannot start")
        self.choice = Choice.QUIT
        icon = QLabel()
        style = self.style()
        icon.setPixmap(
            style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(48, 48)
        )
        heading = QLabel(f"<b>{title}</b>")
        reason = QLabel(redact(str(error)))
        reason.setObjectName("problemReason")
        reason.setWordWrap(True)
        reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where = QLabel(details)
        where.setObjectName("problemDetails")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = QLabel(advice)
        hint.setWordWrap(True)
        self.remember = QCheckBox("Remember the database I choose (save it in the settings)")
        self.remember.setObjectName("rememberChoice")
        self.remember.setVisible(Choice.CHOOSE in choices or Choice.DEFAULT in choices)
        text = QVBoxLayout()
        for widget in (heading, reason, where, hint, self.remember):
            text.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.buttons: dict[Choice, QPushButton] = {}
        for choice in choices:
            button = QPushButton(_LABELS[choice])
            button.setObjectName(f"choice-{choice.value}")
            button.clicked.connect(lambda _=False, c=choice: self._choose(c))
            buttons.addWidget(button)
            self.buttons[choice] = button
        if choices:
            self.buttons[choices[0]].setDefault(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        self.setMinimumWidth(620)

    def _choose(self, choice: Choice) -> None:
        self.choice = choice
        self.done(QDialog.DialogCode.Accepted if choice is not Choice.QUIT else 0)

    def reject(self) -> None:
        self.choice = Choice.QUIT
        super().reject()


class ChooseDatabaseDialog(QDialog):
    """Pick an SQLite file or type a PostgreSQL URL."""

    def __init__(self, default_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chooseDatabaseDialog")
        self.setWindowTitle("Choose a database")
        self.sqlite = QRadioButton("SQLite file (on this computer)")
        self.sqlite.setChecked(True)
        self.postgres = QRadioButton("PostgreSQL server (shared)")
        group = QButtonGroup(self)
        group.addButton(self.sqlite)
        group.addButton(self.postgres)
        self.file_edit = QLineEdit(str(default_file))
        self.file_edit.setObjectName("sqliteFile")
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: spawn(self._browse(), name="choose sqlite file"))
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("postgresUrl")
        self.url_edit.setPlaceholderText("postgresql://user@host:5432/opsconductor")
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828;")
        grid = QGridLayout()
        grid.addWidget(self.sqlite, 0, 0, 1, 2)
        grid.addWidget(self.file_edit, 1, 0)
        grid.addWidget(browse, 1, 1)
        grid.addWidget(self.postgres, 2, 0, 1, 2)
        grid.addWidget(self.url_edit, 3, 0, 1, 2)
        self.box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.problem)
        layout.addWidget(self.box)
        for signal in (
            self.sqlite.toggled,
            self.file_edit.textChanged,
            self.url_edit.textChanged,
        ):
            signal.connect(self._validate)
        self.url_edit.textEdited.connect(lambda _: self.postgres.setChecked(True))
        self._validate()
        self.setMinimumWidth(560)

    def url(self) -> str:
        if self.sqlite.isChecked():
            return f"sqlite:///{Path(self.file_edit.text().strip()).expanduser()}"
        return self.url_edit.text().strip()

    def _problem(self) -> str:
        if self.sqlite.isChecked():
            return "" if self.file_edit.text().strip() else "Choose a file."
        url = self.url_edit.text().strip()
        if not url:
            return "Type the server's URL."
        if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            return "A PostgreSQL URL starts with postgresql://"
        return ""

    def _validate(self) -> None:
        problem = self._problem()
        self.problem.setText(problem)
        button = self.box.button(QDialogButtonBox.StandardButton.Open)
        button.setEnabled(not problem)

    async def _browse(self) -> None:
        chosen = await ask_file(
            self,
            "SQLite database file",
            save=True,
            name_filters=("SQLite databases (*.db *.sqlite *.sqlite3)", "All files (*)"),
            directory=str(Path(self.file_edit.text()).parent),
        )
        if chosen:
            self.file_edit.setText(chosen)
            self.sqlite.setChecked(True)


async def choose_database(default_file: Path, parent: QWidget | None = None) -> str | None:
    dialog = ChooseDatabaseDialog(default_file, parent)
    try:
        if await ask(dialog) != QDialog.DialogCode.Accepted:
            return None
        return dialog.url()
    finally:
        dispose(dialog)


Opener = Callable[..., Awaitable[Core]]


def _database_details(paths: AppPaths, settings: Settings, url: str | None, chosen: bool) -> str:
    resolved = resolve_database(paths, settings, url)
    source = "chosen here" if chosen else f"from {resolved.source}"
    return f"Database: {redact(resolved.url)} ({source})"


def _move_aside(path: Path) -> Path:
    target = path.with_name(path.name + ".broken")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken{n}")
    path.replace(target)
    log.warning("settings file %s was unreadable; moved to %s", path, target)
    return target


async def _ask_choice(dialog: StartupProblemDialog) -> tuple[Choice, bool]:
    """The operator's choice and whether to remember it."""
    try:
        await ask(dialog)
        return dialog.choice, dialog.remember.isChecked()
    finally:
        dispose(dialog)


async def open_core_interactively(
    home: str | Path | None = None,
    db_url: str | None = None,
    *,
    parent: QWidget | None = None,
    opener: Opener = open_core,
    **core_options: Any,
) -> Core | None:
    """Open the core, asking the operator what to do while it fails; None means Quit."""
    paths = AppPaths.resolve(home).ensure()
    url = db_url
    while True:
        try:
            settings = load_settings(paths)
        except ValidationError as exc:
            choice, _ = await _ask_choice(
                StartupProblemDialog(
                    "OpsConductor cannot read its settings file",
                    exc,
                    f"Settings file: {paths.settings_file}",
                    (Choice.RESET_SETTINGS, Choice.RETRY, Choice.QUIT),
                    parent,
                    advice="Fix the file and Retry, or reset it: it is renamed to "
                    "settings.toml.broken and the defaults are used.",
                )
            )
            if choice is Choice.QUIT:
                return None
            if choice is Choice.RESET_SETTINGS:
                _move_aside(paths.settings_file)
            continue
        try:
            return await opener(home=home, db_url=url, **core_options)
        except OPEN_ERRORS as exc:
            log.warning("cannot open the database: %s", exc)
            choice, remember = await _ask_choice(
                StartupProblemDialog(
                    "OpsConductor cannot open its database",
                    exc,
                    _database_details(paths, settings, url, url != db_url),
                    (Choice.RETRY, Choice.CHOOSE, Choice.DEFAULT, Choice.QUIT),
                    parent,
                    advice=_advice(exc),
                )
            )
        if choice is Choice.QUIT:
            return None
        if choice is Choice.CHOOSE:
            chosen = await choose_database(paths.default_database, parent)
            if chosen is None:
                continue
            url = chosen
        elif choice is Choice.DEFAULT:
            url = f"sqlite:///{paths.default_database}"
        if remember and choice in (Choice.CHOOSE, Choice.DEFAULT):
            _remember(paths, settings, url if choice is Choice.CHOOSE else None)


def _remember(paths: AppPaths, settings: Settings, url: str | None) -> None:
    try:
        save_settings(paths, with_updates(settings, db_url=url))
    except OSError as exc:
        log.warning("cannot save the database choice in %s: %s", paths.settings_file, exc)
