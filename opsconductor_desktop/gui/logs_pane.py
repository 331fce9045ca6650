"""The Logs pane: the structured JSON-lines log, newest first, paged and filtered.

The model fetches a page at a time (``canFetchMore``/``fetchMore``) from a ``LogReader``
running in a worker thread, so a large log opens at once and the loop never blocks. While
the pane is visible and "Follow" is on, new entries are prepended every few seconds.
"""

from __future__ import annotations

import html
import json

from PySide6.QtCore import (
    QByteArray,
    QModelIndex,
    QSettings,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QFontDatabase,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.gui.base import Pane
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.log_model import (
    FOLLOW_INTERVAL_MS,
    LEVEL_COLORS,
    LogModel,
)
from opsconductor_desktop.gui.logreader import LEVELS, LogEntry, LogFilter, LogReader
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.app import Core


class LogsPane(Pane):
    """The structured application log, newest first."""

    title = "Logs"
    object_name = "logsPane"

    def __init__(self, core: Core, parent: QWidget | None = None) -> None:
        super().__init__(core, parent)
        self.log_file = core.paths.log_dir / "opsconductor.jsonl"
        self.model = LogModel(lambda: LogReader(self.log_file), self)
        self.message = MessageBar()
        self._build_filters()
        self.view = self._build_view()
        self.details = QTextBrowser()
        self.details.setObjectName("logDetails")
        self.details.setOpenLinks(False)
        self.details.anchorClicked.connect(self._on_link)
        self.status = QLabel()
        self.status.setObjectName("logStatus")
        self.older_button = QPushButton("Load &older")
        self.older_button.setToolTip("Read the next page of older entries")
        self.older_button.clicked.connect(self.load_older)
        self.folder_button = QPushButton("Open log &folder")
        self.folder_button.clicked.connect(self.open_log_folder)
        self._build_layout()
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_INTERVAL_MS)
        self._follow_timer.timeout.connect(self._follow_tick)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(250)
        self._filter_timer.timeout.connect(self.apply_filters)
        self.model.state_changed.connect(self._update_status)
        self.model.failed.connect(self.message.show_error)
        self.model.rowsInserted.connect(self._update_status)
        self.view.selectionModel().currentRowChanged.connect(self._show_current)
        self._started = False
        self._update_status()

    # ---- construction ----------------------------------------------------------------------

    def _build_filters(self) -> None:
        self.level_combo = QComboBox()
        self.level_combo.setObjectName("logLevel")
        self.level_combo.addItem("All levels", 0)
        for name, number in LEVELS.items():
            self.level_combo.addItem(f"{name.title()} and above", number)
        self.level_combo.currentIndexChanged.connect(self.apply_filters)
        self.category_combo = QComboBox()
        self.category_combo.setObjectName("logCategory")
        self.category_combo.setEditable(True)
        self.category_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.category_combo.setMinimumContentsLength(22)
        self.category_combo.addItem("")  # the empty choice; later items never become current
        line = self.category_combo.lineEdit()
        assert line is not None  # the combo is editable
        line.setPlaceholderText("Category…")
        line.setClearButtonEnabled(True)
        self.category_combo.editTextChanged.connect(self._filter_timer_start)
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("logText")
        self.text_edit.setPlaceholderText("Search messages and tracebacks…")
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.textChanged.connect(self._filter_timer_start)
        self.cid_edit = QLineEdit()
        self.cid_edit.setObjectName("logCid")
        self.cid_edit.setPlaceholderText("Correlation id")
        self.cid_edit.setClearButtonEnabled(True)
        self.cid_edit.setMaximumWidth(160)
        self.cid_edit.textChanged.connect(self._filter_timer_start)
        self.follow_box = QCheckBox("Follow")
        self.follow_box.setToolTip("Show new entries as they are written (every 2 s)")
        self.follow_box.setChecked(True)
        self.follow_box.toggled.connect(self._update_follow)

    def _build_view(self) -> QTableView:
        view = QTableView()
        view.setObjectName("logTable")
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setWordWrap(False)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 4)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(LogModel.MESSAGE, QHeaderView.ResizeMode.Stretch)
        view.setColumnWidth(LogModel.TIME, 170)
        view.setColumnWidth(LogModel.LEVEL, 80)
        view.setColumnWidth(LogModel.CATEGORY, 230)
        view.setColumnWidth(LogModel.CID, 110)
        copy = QAction("Copy", view)
        copy.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selection)
        view.addAction(copy)
        self.copy_action = copy
        return view

    def _build_layout(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(self.level_combo)
        filters.addWidget(self.category_combo)
        filters.addWidget(self.text_edit, 1)
        filters.addWidget(self.cid_edit)
        filters.addWidget(self.follow_box)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.older_button)
        bottom.addWidget(self.folder_button)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([420, 160])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

    def pane_actions(self) -> list[QAction]:
        return [self.copy_action]

    def activated(self) -> None:
        if not self._started:
            self.apply_filters()
        self.view.setFocus()

    # ---- loading and filtering -------------------------------------------------------------

    async def reload(self) -> None:
        """Read the log again from its newest entry."""
        self._started = True
        self.model.restart(self.current_filter())

    def current_filter(self) -> LogFilter:
        return LogFilter(
            min_level=int(self.level_combo.currentData() or 0),
            category=self.category_combo.currentText().strip(),
            text=self.text_edit.text().strip(),
            cid=self.cid_edit.text().strip(),
        )

    def _filter_timer_start(self) -> None:
        self._filter_timer.start()

    def apply_filters(self) -> None:
        self._filter_timer.stop()
        flt = self.current_filter()
        if flt != self.model.log_filter or not self._started:
            self._started = True
            self.model.restart(flt)

    def load_older(self) -> None:
        self.model.fetchMore(QModelIndex())

    def filter_by_cid(self, cid: str) -> None:
        self.cid_edit.setText(cid)
        self.apply_filters()

    def _update_status(self) -> None:
        m = self.model
        parts = [f"{m.rowCount()} entries, newest first"]
        if m.log_filter.active:
            parts[0] += " (filtered)"
        if m.malformed:
            parts.append(f"{m.malformed} malformed line(s) shown as raw text")
        if m.fetching:
            parts.append("reading…")
        elif m.exhausted:
            parts.append("start of the log reached")
        if not self.log_file.exists() and not m.rowCount():
            parts = [f"No log file yet ({self.log_file})"]
        self.status.setText(" · ".join(parts))
        self.older_button.setEnabled(not m.exhausted and not m.fetching)
        known = {self.category_combo.itemText(i) for i in range(self.category_combo.count())}
        for category in sorted(m.categories - known):
            self.category_combo.addItem(category)

    # ---- following -------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self.apply_filters()
        self._update_follow()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._follow_timer.stop()

    def _update_follow(self) -> None:
        if self.follow_box.isChecked() and self.isVisible():
            self._follow_timer.start()
        else:
            self._follow_timer.stop()

    def _follow_tick(self) -> None:
        if self.model.follow_small() is None:  # a lot arrived: read it in a worker thread
            self.model._track(
                spawn(self.model.follow(), on_error=self.message.show_error, name="follow log")
            )

    # ---- details, copy, folder -------------------------------------------------------------

    def selected_entries(self) -> list[LogEntry]:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        return [self.model.entry(r) for r in rows]

    def copy_selection(self) -> str:
        text = "\n".join(e.as_text() for e in self.selected_entries())
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def _show_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.details.clear()
            return
        self.details.setHtml(entry_html(self.model.entry(current.row())))

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == "cid":
            self.filter_by_cid(url.path())

    def open_log_folder(self) -> bool:
        folder = self.core.paths.log_dir
        folder.mkdir(parents=True, exist_ok=True)
        ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        if not ok:
            self.message.show_error(f"Could not open the log folder {folder}")
        return ok

    # ---- state -----------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("logs/splitter", self.splitter.saveState())
        settings.setValue("logs/header", self.view.horizontalHeader().saveState())
        settings.setValue("logs/level", self.level_combo.currentIndex())

    def restore_state(self, settings: QSettings) -> None:
        for key, restore in (
            ("logs/splitter", self.splitter.restoreState),
            ("logs/header", self.view.horizontalHeader().restoreState),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray):
                restore(value)
        level = settings.value("logs/level")
        if level is not None and 0 <= int(str(level)) < self.level_combo.count():
            self.level_combo.setCurrentIndex(int(str(level)))

    def shutdown(self) -> None:
        self._follow_timer.stop()
        self._filter_timer.stop()
        self.model.shutdown()
        super().shutdown()


def entry_html(entry: LogEntry) -> str:
    """The details of one entry as HTML; the correlation id links to a filter on it."""
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    pre = f"<pre style='font-family:\"{mono}\"; white-space:pre-wrap'>"
    where = f"{html.escape(entry.file)} @ byte {entry.offset}"
    if entry.malformed:
        return (
            f"<b>Malformed line</b> (not a JSON log record) — {where}<br>"
            f"{pre}{html.escape(entry.raw)}</pre>"
        )
    color = LEVEL_COLORS.get(entry.level, "")
    level = f"<span style='color:{color}'>{entry.level}</span>" if color else entry.level
    rows = [
        ("Time", f"{html.escape(entry.when)} <small>({html.escape(entry.ts)} UTC)</small>"),
        ("Level", f"<b>{level}</b>"),
        ("Category", html.escape(entry.category)),
    ]
    if entry.cid and entry.cid != "-":
        cid = html.escape(entry.cid)
        rows.append(
            ("Correlation", f"<a href='cid:{cid}'>{cid}</a> <small>(click to filter)</small>")
        )
    rows.append(("Source", where))
    table = "".join(
        f"<tr><td style='padding-right:12px'><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows
    )
    out = f"<table>{table}</table>{pre}{html.escape(entry.message)}</pre>"
    if entry.extra:
        extra = json.dumps(entry.extra, indent=2, ensure_ascii=False, default=str)
        out += f"<b>Extra</b>{pre}{html.escape(extra)}</pre>"
    if entry.exc:
        out += f"<b>Traceback</b>{pre}{html.escape(entry.exc)}</pre>"
    return out
