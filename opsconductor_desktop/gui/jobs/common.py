"""What the Jobs pane's widgets share: status colours and icons, times, output decoding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from opsconductor_desktop.domain.jobs import RunStatus
from opsconductor_desktop.domain.timeutil import to_local

STATUS_COLORS: dict[RunStatus, str] = {
    RunStatus.PENDING: "#8a93a0",
    RunStatus.RUNNING: "#1e88e5",
    RunStatus.SUCCEEDED: "#2e7d32",
    RunStatus.FAILED: "#c62828",
    RunStatus.CANCELLED: "#ef6c00",
    RunStatus.SKIPPED: "#9aa2ad",
    RunStatus.INTERRUPTED: "#7b1fa2",
}
STATUS_SYMBOLS: dict[RunStatus, str] = {
    RunStatus.PENDING: "…",
    RunStatus.RUNNING: "▶",
    RunStatus.SUCCEEDED: "✔",
    RunStatus.FAILED: "✖",
    RunStatus.CANCELLED: "■",
    RunStatus.SKIPPED: "–",
    RunStatus.INTERRUPTED: "!",
}
BINARY_PREVIEW = 4096  # bytes of a binary output shown as a hex dump
_icons: dict[RunStatus, QIcon] = {}


def mapping(value: Any) -> dict[str, Any]:
    """A nested mapping of a job document (``expect``, ``select``…), or {} for anything else."""
    return value if isinstance(value, dict) else {}


def status_icon(status: RunStatus) -> QIcon:
    """A coloured dot with the status symbol (made once per status, after QApplication)."""
    icon = _icons.get(status)
    if icon is None:
        pixmap = QPixmap(32, 32)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(STATUS_COLORS[status])))
        painter.drawEllipse(QRectF(2, 2, 28, 28))
        painter.setPen(QColor("#ffffff"))
        font = painter.font()
        font.setPixelSize(18)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, 32, 32), Qt.AlignmentFlag.AlignCenter, STATUS_SYMBOLS[status])
        painter.end()
        icon = _icons[status] = QIcon(pixmap)
    return icon


def status_brush(status: RunStatus) -> QBrush:
    return QBrush(QColor(STATUS_COLORS[status]))


def local_time(moment: datetime | None, *, seconds: bool = True) -> str:
    """An aware timestamp as local time for display ("" for none)."""
    if moment is None:
        return ""
    return to_local(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def elapsed_seconds(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None:
        return None
    end = finished or datetime.now(UTC)
    return max(0.0, (end - started).total_seconds())


def duration_text(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3m 05s``, ``1h 02m`` — short, for a table cell."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def looks_binary(data: bytes) -> bool:
    """True for output that is not text: NUL bytes, or many bytes that are not UTF-8."""
    if not data:
        return False
    if b"\x00" in data[:BINARY_PREVIEW]:
        return True
    text = data[:BINARY_PREVIEW].decode("utf-8", "replace")
    bad = text.count("\ufffd") + sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r")
    return bad > max(8, len(text) // 20)


def _printable(text: str) -> str:
    return "".join(c if c in "\t\n" or ord(c) >= 32 else f"\\x{ord(c):02x}" for c in text)


def hex_dump(data: bytes, limit: int = BINARY_PREVIEW) -> str:
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        shown = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  {shown}")
    return "\n".join(lines)


def decode_output(data: bytes) -> str:
    """Output as safe text: UTF-8 with replacement and control characters escaped, or a
    hex dump (of the first bytes) for binary output."""
    if looks_binary(data):
        head = f"[binary output, {len(data):,} bytes"
        if len(data) > BINARY_PREVIEW:
            head += f"; hex dump of the first {BINARY_PREVIEW:,}"
        return f"{head}]\n{hex_dump(data)}"
    return _printable(data.decode("utf-8", "replace").replace("\r\n", "\n"))


def last_line(data: bytes) -> str:
    """The last non-empty line of an output (as the live view shows it)."""
    if looks_binary(data):
        return f"[binary output, {len(data):,} bytes]"
    lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return _printable(lines[-1][:200]) if lines else ""
