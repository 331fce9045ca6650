"""The operator's alert dialogs: acknowledge, resolve, and silence from a selection.

Each dialog runs its ``submit`` coroutine itself and stays open with the error shown when
the service refuses (an alert resolved meanwhile, a bad regular expression, a silence that
would end in the past), so the operator corrects the input instead of retyping it.
Times are entered in local time and handed on as aware UTC.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.silences import Matchers, matches_alert
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.gui.alerts import style
from opsconductor_desktop.gui.feedback import MessageBar
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.services.alerts import AlertInfo

Clock = Callable[[], datetime]
SHOWN = 5  # alerts listed by name in a dialog's introduction
ACK_EXPIRY = (
    ("No expiry", 0),
    ("1 hour", 3600),
    ("4 hours", 4 * 3600),
    ("24 hours", 24 * 3600),
    ("Until a time…", -1),
)
SILENCE_FOR = (
    ("1 hour", 3600),
    ("2 hours", 2 * 3600),
    ("4 hours", 4 * 3600),
    ("8 hours", 8 * 3600),
    ("24 hours", 24 * 3600),
    ("3 days", 3 * 86400),
    ("7 days", 7 * 86400),
    ("Until a time…", -1),
)
CUSTOM = -1


def describe(alerts: Sequence[AlertInfo]) -> str:
    """A few lines naming the alerts (HTML), "… and N more" after ``SHOWN``."""
    lines = [
        f"<b>{_html(a.severity.label)}</b> · {_html(a.target or '(no target)')} · "
        f"{_html(_short(a.summary))}"
        for a in alerts[:SHOWN]
    ]
    if len(alerts) > SHOWN:
        lines.append(f"… and {len(alerts) - SHOWN} more")
    return "<br>".join(lines)


def _short(text: str, limit: int = 80) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_qt(moment: datetime) -> QDateTime:
    """An aware datetime as a local ``QDateTime`` (what the editors show)."""
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()), QTimeZone.systemTimeZone())


def from_qt(value: QDateTime) -> datetime:
    """A ``QDateTime`` from an editor as aware UTC."""
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)


def _time_edit(name: str, moment: datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit(to_qt(moment))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setTimeZone(QTimeZone.systemTimeZone())
    return edit


class _ActionDialog(QDialog):
    """Message bar, introduction, form, OK/Cancel; OK runs ``_submit`` and closes on success."""

    def __init__(
        self, title: str, intro: str, ok_text: str, clock: Clock, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.clock = clock
        self.busy = False
        self.message = MessageBar()
        self.intro = QLabel(intro)
        self.intro.setObjectName("dialogIntro")
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

    def accept(self) -> None:
        if self.busy:
            return
        try:
            work = self._submit()
        except ValidationError as exc:
            self.message.show_error(exc)
            return
        self.busy = True
        self.buttons.setEnabled(False)
        spawn(self._run(work), on_error=self._failed, name=self.windowTitle())

    async def _run(self, work: Awaitable[object]) -> None:
        try:
            await work
        finally:
            self.busy = False
            self.buttons.setEnabled(True)
        super().accept()

    def _failed(self, error: OpsError) -> None:
        self.message.show_error(error)

    def _submit(self) -> Awaitable[object]:
        """Read the form (``ValidationError`` when it does not make sense); the work to run."""
        raise NotImplementedError


def _row(form: QFormLayout, text: str, buddy: QWidget, *widgets: QWidget) -> None:
    """A form row of several widgets whose label's mnemonic (``&``) focuses ``buddy``."""
    label = QLabel(text)
    label.setBuddy(buddy)
    row = QHBoxLayout()
    for widget in (buddy, *widgets):
        row.addWidget(widget, 1 if widget is not buddy else 0)
    form.addRow(label, row)


def _comment_edit(name: str, placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 14)
    return edit


class AckDialog(_ActionDialog):
    """Acknowledge alerts: a comment, and optionally when the acknowledgement expires."""

    Submit = Callable[[str, datetime | None], Awaitable[object]]

    def __init__(
        self,
        alerts: Sequence[AlertInfo],
        submit: AckDialog.Submit,
        *,
        clock: Clock = utcnow,
        parent: QWidget | None = None,
    ) -> None:
        count = len(alerts)
        super().__init__(
            f"Acknowledge {count} alert{'s' if count != 1 else ''}",
            describe(alerts),
            "Acknowledge",
            clock,
            parent,
        )
        self.setObjectName("ackDialog")
        self._submit_to = submit
        self.comment_edit = _comment_edit(
            "ackComment", "What is being done: ticket, who is on it, what to expect"
        )
        self.expiry_combo = QComboBox()
        self.expiry_combo.setObjectName("ackExpiry")
        for label, seconds in ACK_EXPIRY:
            self.expiry_combo.addItem(label, seconds)
        self.until_edit = _time_edit("ackUntil", clock() + timedelta(hours=8))
        note = QLabel("When it expires, an alert still open is active again and notifies.")
        note.setObjectName("dialogNote")
        note.setWordWrap(True)
        note.setStyleSheet("font-style: italic;")
        self.form.addRow("&Comment:", self.comment_edit)
        _row(self.form, "&Expires:", self.expiry_combo, self.until_edit)
        self.form.addRow("", note)
        self.expiry_combo.currentIndexChanged.connect(self._update)
        self._update()
        self.resize(520, self.sizeHint().height())

    def _update(self) -> None:
        """A preset shows when it ends (greyed); "Until a time…" lets the operator set it."""
        seconds = int(self.expiry_combo.currentData())
        self.until_edit.setEnabled(seconds == CUSTOM)
        self.until_edit.setVisible(seconds != 0)
        if seconds > 0:
            self.until_edit.setDateTime(to_qt(self.clock() + timedelta(seconds=seconds)))

    def set_expiry(self, seconds: int) -> None:
        self.expiry_combo.setCurrentIndex(max(0, self.expiry_combo.findData(seconds)))

    def comment(self) -> str:
        return self.comment_edit.toPlainText().strip()

    def expires(self) -> datetime | None:
        seconds = int(self.expiry_combo.currentData())
        now = self.clock()
        if seconds == 0:
            return None
        if seconds == CUSTOM:
            until = from_qt(self.until_edit.dateTime())
            if until <= now:
                raise ValidationError("the acknowledgement would expire in the past")
            return until
        return now + timedelta(seconds=seconds)

    def _submit(self) -> Awaitable[object]:
        return self._submit_to(self.comment(), self.expires())


class ResolveDialog(_ActionDialog):
    """Resolve alerts by hand, with a comment saying why."""

    Submit = Callable[[str], Awaitable[object]]

    def __init__(
        self,
        alerts: Sequence[AlertInfo],
        submit: ResolveDialog.Submit,
        *,
        clock: Clock = utcnow,
        parent: QWidget | None = None,
    ) -> None:
        count = len(alerts)
        super().__init__(
            f"Resolve {count} alert{'s' if count != 1 else ''}",
            describe(alerts)
            + "<br><br><i>If the problem is still there, its source opens a new alert.</i>",
            "Resolve",
            clock,
            parent,
        )
        self.setObjectName("resolveDialog")
        self._submit_to = submit
        self.comment_edit = _comment_edit("resolveComment", "Why: fixed how, or not a problem")
        self.form.addRow("&Comment:", self.comment_edit)
        self.resize(520, self.sizeHint().height())

    def comment(self) -> str:
        return self.comment_edit.toPlainText().strip()

    def _submit(self) -> Awaitable[object]:
        return self._submit_to(self.comment())


_SPECIAL = re.compile(r"([.^$*+?{}\[\]\\|()])")


def literal(text: str) -> str:
    """``text`` as a regular expression matching itself, escaping only what must be
    (``re.escape`` also escapes ``-`` and ``:``, which reads badly in a form)."""
    return _SPECIAL.sub(r"\\\1", text)


def prefill(alerts: Sequence[AlertInfo]) -> dict[str, str | Severity | None]:
    """Matchers that cover exactly the selected alerts, as far as matchers can say it.

    Targets: the one target, or the several (one silence each). Source: when all share it.
    Key: an anchored, escaped regular expression of the key (or keys). Severity: the
    lowest of the selection (a matcher means "this level or above").
    """
    targets = sorted({a.target for a in alerts if a.target})
    sources = {a.source for a in alerts}
    keys = sorted({a.key for a in alerts})
    if len(keys) == 1:
        key_regex = f"^{literal(keys[0])}$"
    elif keys:
        key_regex = "^(" + "|".join(literal(k) for k in keys) + ")$"
    else:
        key_regex = ""
    return {
        "targets": ", ".join(targets),
        "source": next(iter(sources)) if len(sources) == 1 else "",
        "key_regex": key_regex,
        "severity": min((a.severity for a in alerts), default=None),
    }


class SilenceDialog(_ActionDialog):
    """Silence what the selected alerts are about: matchers, span and why.

    Several targets make one silence per target (a matcher names one target). The line
    under the form says how many of the selected alerts the silence would match.
    """

    Submit = Callable[[list[Matchers], datetime | None, datetime, str], Awaitable[object]]

    def __init__(
        self,
        alerts: Sequence[AlertInfo],
        submit: SilenceDialog.Submit,
        *,
        clock: Clock = utcnow,
        parent: QWidget | None = None,
    ) -> None:
        count = len(alerts)
        what = "this alert is" if count == 1 else f"these {count} alerts are"
        super().__init__(
            "Silence alerts",
            f"Silence what {what} about:<br>" + describe(alerts),
            "Silence",
            clock,
            parent,
        )
        self.setObjectName("silenceDialog")
        self.alerts = list(alerts)
        self._submit_to = submit
        self._build()
        values = prefill(alerts)
        self.targets_edit.setText(str(values["targets"] or ""))
        self.source_edit.setText(str(values["source"] or ""))
        self.key_edit.setText(str(values["key_regex"] or ""))
        severity = values["severity"]
        if isinstance(severity, Severity):
            self.severity_combo.setCurrentIndex(self.severity_combo.findData(int(severity)))
        for edit in (self.targets_edit, self.source_edit, self.key_edit, self.summary_edit):
            edit.textChanged.connect(self.update_preview)
        self.severity_combo.currentIndexChanged.connect(self.update_preview)
        self.update_preview()
        self.resize(600, self.sizeHint().height())

    def _build(self) -> None:
        self.targets_edit = QLineEdit()
        self.targets_edit.setObjectName("silenceTargets")
        self.targets_edit.setPlaceholderText("any target (several: comma separated)")
        self.source_edit = QLineEdit()
        self.source_edit.setObjectName("silenceSource")
        self.source_edit.setPlaceholderText("any source")
        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("silenceSeverity")
        self.severity_combo.addItem("Any severity", None)
        for severity in style.SEVERITIES:
            self.severity_combo.addItem(f"{severity.label} and above", int(severity))
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("silenceKey")
        self.key_edit.setPlaceholderText("regular expression on the alert key (optional)")
        self.summary_edit = QLineEdit()
        self.summary_edit.setObjectName("silenceSummary")
        self.summary_edit.setPlaceholderText("regular expression on the summary (optional)")
        now = self.clock()
        self.now_check = QCheckBox("&now")
        self.now_check.setObjectName("silenceNow")
        self.now_check.setChecked(True)
        self.start_edit = _time_edit("silenceStart", now)
        self.start_edit.setEnabled(False)
        self.now_check.toggled.connect(lambda on: self.start_edit.setEnabled(not on))
        self.now_check.toggled.connect(self._duration_changed)
        self.start_edit.dateTimeChanged.connect(self._duration_changed)
        self.duration_combo = QComboBox()
        self.duration_combo.setObjectName("silenceDuration")
        for label, seconds in SILENCE_FOR:
            self.duration_combo.addItem(label, seconds)
        self.duration_combo.setCurrentIndex(self.duration_combo.findData(2 * 3600))
        self.end_edit = _time_edit("silenceEnd", now + timedelta(hours=2))
        self.duration_combo.currentIndexChanged.connect(self._duration_changed)
        self._duration_changed()
        self.comment_edit = QLineEdit()
        self.comment_edit.setObjectName("silenceComment")
        self.comment_edit.setPlaceholderText(
            "why (required): change ticket, maintenance, known issue"
        )
        self.preview = QLabel()
        self.preview.setObjectName("silencePreview")
        self.preview.setWordWrap(True)
        self.form.addRow("&Target(s):", self.targets_edit)
        self.form.addRow("S&ource:", self.source_edit)
        self.form.addRow("Se&verity:", self.severity_combo)
        self.form.addRow("&Key matches:", self.key_edit)
        self.form.addRow("S&ummary matches:", self.summary_edit)
        _row(self.form, "&Starts:", self.now_check, self.start_edit)
        _row(self.form, "&For:", self.duration_combo, self.end_edit)
        self.form.addRow("&Comment:", self.comment_edit)
        self.form.addRow("", self.preview)

    def _duration_changed(self, *_: object) -> None:
        """A preset shows when the silence ends (greyed); "Until a time…" lets one set it."""
        seconds = int(self.duration_combo.currentData())
        self.end_edit.setEnabled(seconds == CUSTOM)
        if seconds != CUSTOM:
            now = self.now_check.isChecked()
            start = self.clock() if now else from_qt(self.start_edit.dateTime())
            self.end_edit.setDateTime(to_qt(start + timedelta(seconds=seconds)))

    def set_duration(self, seconds: int) -> None:
        self.duration_combo.setCurrentIndex(max(0, self.duration_combo.findData(seconds)))

    # ---- reading ------------------------------------------------------------------------------

    def targets(self) -> list[str]:
        return [t.strip() for t in self.targets_edit.text().split(",") if t.strip()]

    def matchers(self) -> list[Matchers]:
        """One ``Matchers`` per target (one for none); ``ValidationError`` when invalid."""
        severity = self.severity_combo.currentData()
        common = {
            "source": self.source_edit.text().strip() or None,
            "severity": Severity(int(severity)) if severity is not None else None,
            "key_regex": self.key_edit.text().strip() or None,
            "summary_regex": self.summary_edit.text().strip() or None,
        }
        targets: list[str | None] = list(self.targets()) or [None]
        return [Matchers(target=target, **common) for target in targets]  # type: ignore[arg-type]

    def span(self) -> tuple[datetime | None, datetime]:
        """(start or None for now, end), aware UTC; ``ValidationError`` when it makes no sense."""
        now = self.clock()
        start = None if self.now_check.isChecked() else from_qt(self.start_edit.dateTime())
        seconds = int(self.duration_combo.currentData())
        if seconds == CUSTOM:
            end = from_qt(self.end_edit.dateTime())
        else:
            end = (start or now) + timedelta(seconds=seconds)
        if end <= (start or now):
            raise ValidationError("the silence must end after it starts")
        if end <= now:
            raise ValidationError("the silence would end in the past")
        return start, end

    def comment(self) -> str:
        return self.comment_edit.text().strip()

    def update_preview(self) -> None:
        try:
            matchers = self.matchers()
        except ValidationError as exc:
            self.preview.setText(f"⚠ {exc}")
            self.preview.setStyleSheet("color: #c62828;")
            return
        hit = sum(1 for a in self.alerts if any(matches_alert(m, a, (), ()) for m in matchers))
        text = f"Matches {hit} of the {len(self.alerts)} selected alert(s)"
        if len(matchers) > 1:
            text += f" — one silence per target: {len(matchers)} silences"
        self.preview.setText(text + ", and new alerts like them while it lasts.")
        self.preview.setStyleSheet("" if hit == len(self.alerts) else "color: #8d6e00;")

    def _submit(self) -> Awaitable[object]:
        matchers = self.matchers()
        start, end = self.span()
        if not self.comment():
            raise ValidationError("say why: a silence needs a comment")
        return self._submit_to(matchers, start, end, self.comment())
