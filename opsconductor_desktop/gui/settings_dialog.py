"""The Settings dialog: database, appearance, notifications and credentials.

Database, theme and notifications are written to the settings file
(``config.save_settings``) on OK; the database choice takes effect at the next start, the
theme at once (it is previewed live and restored on Cancel), the notifications at once.
Credentials are saved as they are changed. A PostgreSQL password is kept out of the URL
field and out of every message: it has its own password field.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.config import THEMES, Settings, load_settings, save_settings, with_updates
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.gui import theme as themes
from opsconductor_desktop.gui.credentials_dialog import CredentialsManager
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.notification_settings import NotificationsPage
from opsconductor_desktop.gui.notifications import Sound
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core, check_database, redact_database_url

THEME_LABELS = {"system": "System (platform look)", "light": "Light", "dark": "Dark"}
SOURCE_LABELS = {
    "--db": "the --db option",
    "environment": "the OPSCONDUCTOR_DB_URL environment variable",
    "settings": "the settings file",
    "default": "the default",
}


def split_password(url: str) -> tuple[str, str]:
    """A URL without its password, and the password (empty when there is none)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, ""
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), unquote(parts.password)


def join_password(url: str, password: str) -> str:
    """``url`` with ``password`` put in (URL-quoted); unchanged when the password is empty."""
    if not password:
        return url
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url  # no user to attach a password to: the server will ask for one
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite:///`` URL (or a plain path), else None."""
    text = url.strip()
    if "://" not in text:
        return Path(text).expanduser() if text else None
    scheme, _, rest = text.partition("://")
    if not scheme.lower().startswith("sqlite"):
        return None
    return Path(rest[1:]) if rest.startswith("/") else None


class DatabasePage(QWidget):
    """Where the data lives: an embedded SQLite file or a PostgreSQL server."""

    def __init__(self, core: Core, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.testing = False
        self.result_ok: bool | None = None
        self.sqlite_radio = QRadioButton("Embedded &SQLite file (works offline, one console)")
        self.postgres_radio = QRadioButton("&PostgreSQL server (shared by a team)")
        group = QButtonGroup(self)
        group.addButton(self.sqlite_radio)
        group.addButton(self.postgres_radio)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("sqlitePath")
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.clicked.connect(self._browse)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("postgresUrl")
        self.url_edit.setPlaceholderText("postgresql://operator@db.example.net:5432/opsconductor")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("postgresPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("leave empty to use ~/.pgpass or PGPASSWORD")
        self.password_edit.setToolTip(
            "Stored in the settings file with the URL. A ~/.pgpass file keeps it out of it."
        )
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.start_test)
        self.result = QLabel()
        self.result.setObjectName("testResult")
        self.result.setWordWrap(True)
        self._build(settings)
        self.sqlite_radio.toggled.connect(self._update_enabled)
        self._update_enabled()

    def _build(self, settings: Settings) -> None:
        current = QLabel(
            f"This session uses <b>{_html(str(self.core.db_info))}</b>, chosen by "
            f"{SOURCE_LABELS.get(self.core.database.source, self.core.database.source)}."
        )
        current.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(current)
        if self.core.database.source in ("--db", "environment"):
            override = MessageBar()
            override.show_message(
                "The database of this session was given on the command line or in the "
                "environment; the choice below is used when neither is given.",
                "warning",
            )
            layout.addWidget(override)
        box = QGroupBox("Database for the next start")
        grid = QGridLayout(box)
        grid.addWidget(self.sqlite_radio, 0, 0, 1, 3)
        grid.addWidget(QLabel("File:"), 1, 0)
        grid.addWidget(self.path_edit, 1, 1)
        grid.addWidget(self.browse_button, 1, 2)
        grid.addWidget(self.postgres_radio, 2, 0, 1, 3)
        grid.addWidget(QLabel("URL:"), 3, 0)
        grid.addWidget(self.url_edit, 3, 1, 1, 2)
        grid.addWidget(QLabel("Password:"), 4, 0)
        grid.addWidget(self.password_edit, 4, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)
        note = QLabel("Database changes take effect when OpsConductor restarts.")
        note.setStyleSheet("font-style: italic;")
        layout.addWidget(box)
        layout.addLayout(test_row)
        layout.addWidget(note)
        layout.addStretch(1)
        self._load(settings)

    def _load(self, settings: Settings) -> None:
        url = settings.db_url or ""
        path = sqlite_path(url) if url else self.core.paths.default_database
        if path is not None:
            self.sqlite_radio.setChecked(True)
            self.path_edit.setText(str(path))
        else:
            self.postgres_radio.setChecked(True)
            bare, password = split_password(url)
            self.url_edit.setText(bare)
            self.password_edit.setText(password)
        if not self.path_edit.text():
            self.path_edit.setText(str(self.core.paths.default_database))

    def _update_enabled(self) -> None:
        sqlite = self.sqlite_radio.isChecked()
        for widget in (self.path_edit, self.browse_button):
            widget.setEnabled(sqlite)
        for widget in (self.url_edit, self.password_edit):
            widget.setEnabled(not sqlite)

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "SQLite database file",
            self.path_edit.text(),
            "SQLite databases (*.db *.sqlite);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if name:
            self.path_edit.setText(name)

    def url(self) -> str:
        """The URL the page describes (with the password), for testing and saving."""
        if self.sqlite_radio.isChecked():
            return f"sqlite:///{Path(self.path_edit.text().strip()).expanduser()}"
        return join_password(self.url_edit.text().strip(), self.password_edit.text())

    def settings_url(self) -> str | None:
        """What the settings file should hold: None keeps the default SQLite file."""
        if self.sqlite_radio.isChecked():
            path = Path(self.path_edit.text().strip()).expanduser()
            if not self.path_edit.text().strip() or path == self.core.paths.default_database:
                return None
        return self.url()

    def start_test(self) -> None:
        if self.testing:
            return
        self.testing = True
        self.result_ok = None
        self.test_button.setEnabled(False)
        self._show_result("Testing…", "")
        spawn(self.test(), on_error=self._test_failed, name="test database")

    async def test(self) -> str:
        try:
            message = await check_database(self.url())
        finally:
            self.testing = False
            self.test_button.setEnabled(True)
        self.result_ok = True
        self._show_result(f"✔ {message[:1].upper()}{message[1:]}", "#2e7d32")
        return message

    def _test_failed(self, error: OpsError) -> None:
        self.result_ok = False
        text = str(error)
        password = self.password_edit.text()
        if password and len(password) >= 3:  # belt and braces: the service redacts already
            text = text.replace(password, "***").replace(quote(password, safe=""), "***")
        self._show_result(f"✖ {text}", "#c62828")

    def _show_result(self, text: str, color: str) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {color};" if color else "")

    def describe(self) -> str:
        """The chosen database, safe to show (no password)."""
        return redact_database_url(self.url())


class AppearancePage(QWidget):
    """The theme, previewed live."""

    theme_changed = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme_combo = QComboBox()
        self.theme_combo.setObjectName("themeCombo")
        for name in THEMES:
            self.theme_combo.addItem(THEME_LABELS.get(name, name), name)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(settings.theme)))
        self.theme_combo.currentIndexChanged.connect(self._preview)
        self.theme_combo.setMinimumWidth(220)
        row = QHBoxLayout()
        row.addWidget(self.theme_combo)
        row.addStretch(1)
        form = QFormLayout()
        form.addRow("&Theme:", row)
        note = QLabel("The theme changes at once; OK keeps it, Cancel goes back.")
        note.setStyleSheet("font-style: italic;")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)

    @property
    def theme(self) -> str:
        return str(self.theme_combo.currentData())

    def _preview(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            themes.apply_theme(app, self.theme)
            self.theme_changed.emit(self.theme)


class SettingsDialog(QDialog):
    """Database, appearance and credentials.

    ``theme_changed`` is emitted whenever the application's theme changes (live preview,
    and the restore on Cancel) so widgets that paint their own colours can refresh.
    """

    theme_changed = Signal(str)

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.message = MessageBar()
        try:
            self.settings = load_settings(core.paths)
        except OpsError as exc:  # a broken file: start from what this session runs with
            self.settings = core.settings
            self.message.show_error(f"{exc}; saving will replace it")
        self._theme_at_open = themes.current_theme()
        self.database = DatabasePage(core, self.settings)
        self.appearance = AppearancePage(self.settings)
        self.appearance.theme_changed.connect(self.theme_changed)
        self.notifications = NotificationsPage(
            self.settings, Sound(core.paths.data_dir / "sounds", self)
        )
        self.credentials = CredentialsManager(core)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.database, "&Database")
        self.tabs.addTab(self.appearance, "&Appearance")
        self.tabs.addTab(self.notifications, "&Notifications")
        self.tabs.addTab(self.credentials, "&Credentials")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 480)
        self.credentials.start_reload()

    def save(self) -> Path:
        """Write database and theme to the settings file; raises ``OpsError``/``OSError``."""
        notify = self.notifications.values()
        updated = with_updates(
            self.settings,
            db_url=self.database.settings_url(),
            theme=self.appearance.theme,
            **notify,
        )
        path = save_settings(self.core.paths, updated)
        self.settings = updated
        # the theme and notifications are live now; the database waits for the next start
        self.core.settings = with_updates(self.core.settings, theme=updated.theme, **notify)
        return path

    def accept(self) -> None:
        try:
            self.save()
        except (OpsError, OSError) as exc:
            self.message.show_error(f"Settings not saved: {exc}")
            return
        super().accept()

    def reject(self) -> None:
        if themes.current_theme() != self._theme_at_open:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                themes.apply_theme(app, self._theme_at_open)
                self.theme_changed.emit(self._theme_at_open)
        super().reject()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
