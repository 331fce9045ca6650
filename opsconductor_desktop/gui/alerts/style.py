"""How alerts look: severity colours and icons, status badges, local times.

Colours come in a light and a dark variant (chosen from the palette's base colour), so
that an amber "minor" stays legible on white and a red "critical" does not glow on the
dark theme. Icons are painted, not loaded: they need no asset files and follow the
colours. A resolved alert is drawn in the palette's muted text colour with a grey icon.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QApplication

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.domain.timeutil import to_local

SEVERITIES = (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING, Severity.INFO)

_LIGHT = {
    Severity.CRITICAL: "#c62828",
    Severity.MAJOR: "#d84315",
    Severity.MINOR: "#e07b00",
    Severity.WARNING: "#a68a00",
    Severity.INFO: "#1565c0",
    Severity.CLEAR: "#2e7d32",
}
_DARK = {
    Severity.CRITICAL: "#ef5350",
    Severity.MAJOR: "#ff7043",
    Severity.MINOR: "#ffa726",
    Severity.WARNING: "#e6c84a",
    Severity.INFO: "#64b5f6",
    Severity.CLEAR: "#81c784",
}
#: the flapping badge
FLAP_COLOURS = {"light": "#8e24aa", "dark": "#ce93d8"}
MUTED_ICON = "#9aa2ad"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette (default: the application's) is a dark one."""
    pal = palette or QApplication.palette()
    return pal.color(QPalette.ColorRole.Base).lightness() < 128


def severity_colour(severity: Severity, dark: bool | None = None) -> QColor:
    dark = is_dark() if dark is None else dark
    return QColor((_DARK if dark else _LIGHT)[severity])


def tint(severity: Severity, dark: bool) -> QBrush:
    """A faint background of the severity's colour (on light or dark rows alike)."""
    colour = severity_colour(severity, dark)
    colour.setAlpha(70 if dark else 40)
    return QBrush(colour)


def local_time(moment: datetime | None) -> str:
    """An aware UTC timestamp as local wall time for display ("" for none)."""
    return to_local(moment).strftime(TIME_FORMAT) if moment else ""


def age(moment: datetime, now: datetime) -> str:
    """How long ago, roughly: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def status_text(status: AlertStatus, flapping: bool) -> str:
    return f"{status.value} · flapping" if flapping and status.open else status.value


# ---- icons ----------------------------------------------------------------------------------

_ICON_SIZES = (16, 32)


def _canvas(size: int) -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 16, size / 16)
    return pixmap, painter


def _glyph(painter: QPainter, rect: QRectF, text: str, colour: str = "#ffffff") -> None:
    font = QFont()
    font.setBold(True)
    font.setPixelSize(10)
    painter.setFont(font)
    painter.setPen(QColor(colour))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _severity_pixmap(severity: Severity, colour: str, size: int) -> QPixmap:
    pixmap, p = _canvas(size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    if severity is Severity.CRITICAL:  # an octagon, like a stop sign
        path = QPainterPath()
        points = [(5, 1), (11, 1), (15, 5), (15, 11), (11, 15), (5, 15), (1, 11), (1, 5)]
        path.moveTo(*points[0])
        for x, y in points[1:]:
            path.lineTo(x, y)
        path.closeSubpath()
        p.drawPath(path)
        _glyph(p, QRectF(0, 0, 16, 16), "!")
    elif severity in (Severity.MAJOR, Severity.MINOR):  # a warning triangle
        path = QPainterPath(QPointF(8, 1))
        path.lineTo(15.5, 14.5)
        path.lineTo(0.5, 14.5)
        path.closeSubpath()
        p.drawPath(path)
        _glyph(p, QRectF(0, 3, 16, 12), "!" if severity is Severity.MAJOR else "·")
    elif severity is Severity.WARNING:  # a diamond
        path = QPainterPath(QPointF(8, 1))
        for x, y in ((15, 8), (8, 15), (1, 8)):
            path.lineTo(x, y)
        path.closeSubpath()
        p.drawPath(path)
        _glyph(p, QRectF(0, 0, 16, 16), "!")
    else:  # info, clear: a disc
        p.drawEllipse(QRectF(1, 1, 14, 14))
        _glyph(p, QRectF(0, 0, 16, 16), "i" if severity is Severity.INFO else "✓")
    p.end()
    return pixmap


@cache
def severity_icon(severity: Severity, dark: bool, muted: bool = False) -> QIcon:
    """The icon of a severity (grey when ``muted``: a resolved alert)."""
    colour = MUTED_ICON if muted else (_DARK if dark else _LIGHT)[severity]
    icon = QIcon()
    for size in _ICON_SIZES:
        icon.addPixmap(_severity_pixmap(severity, colour, size))
    return icon


def _status_pixmap(status: AlertStatus, flapping: bool, dark: bool, size: int) -> QPixmap:
    pixmap, p = _canvas(size)
    pen = QPen(QColor("#7d8693"), 1.6)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    if flapping and status.open:
        pen.setColor(QColor(FLAP_COLOURS["dark" if dark else "light"]))
        p.setPen(pen)
        for x, up in ((5.0, True), (11.0, False)):  # ⇅: one arrow up, one down
            top, bottom = 2.5, 13.5
            p.drawLine(QPointF(x, top), QPointF(x, bottom))
            tip = top if up else bottom
            back = tip + (3 if up else -3)
            p.drawLine(QPointF(x, tip), QPointF(x - 2.5, back))
            p.drawLine(QPointF(x, tip), QPointF(x + 2.5, back))
    elif status is AlertStatus.ACKNOWLEDGED:
        pen.setColor(QColor("#66bb6a" if dark else "#2e7d32"))
        pen.setWidthF(2.0)
        p.setPen(pen)
        p.drawPolyline([QPointF(3, 8.5), QPointF(6.5, 12), QPointF(13, 4)])
    elif status is AlertStatus.SUPPRESSED:
        p.setPen(pen)
        p.drawEllipse(QRectF(2.5, 2.5, 11, 11))
        p.drawLine(QPointF(4.5, 11.5), QPointF(11.5, 4.5))
    elif status is AlertStatus.RESOLVED:
        p.setPen(pen)
        p.drawPolyline([QPointF(3.5, 8.5), QPointF(6.5, 11.5), QPointF(12.5, 5)])
    else:  # active: a filled dot, the "needs attention" mark
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#ef5350" if dark else "#d32f2f"))
        p.drawEllipse(QRectF(4.5, 4.5, 7, 7))
    p.end()
    return pixmap


@cache
def status_icon(status: AlertStatus, flapping: bool, dark: bool) -> QIcon:
    icon = QIcon()
    for size in _ICON_SIZES:
        icon.addPixmap(_status_pixmap(status, flapping, dark, size))
    return icon
