"""Themes: "light" and "dark" are Fusion with a matching palette plus a QSS file from
``ui/themes``; "system" restores the platform's style and palette, with no stylesheet.

``apply_theme`` can be called any number of times at run time (the Settings dialog
previews themes live); the platform look is remembered on the first call.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from opsconductor_desktop import paths
from opsconductor_desktop.config import THEMES

log = logging.getLogger(__name__)

_platform: tuple[str, QPalette] | None = None
_current = "system"

_DARK = {
    QPalette.ColorRole.Window: "#1e2228",
    QPalette.ColorRole.WindowText: "#d8dde5",
    QPalette.ColorRole.Base: "#23272e",
    QPalette.ColorRole.AlternateBase: "#282d35",
    QPalette.ColorRole.ToolTipBase: "#e6eaf0",
    QPalette.ColorRole.ToolTipText: "#1e2228",
    QPalette.ColorRole.PlaceholderText: "#7d8693",
    QPalette.ColorRole.Text: "#d8dde5",
    QPalette.ColorRole.Button: "#2d333c",
    QPalette.ColorRole.ButtonText: "#d8dde5",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#3a414c",
    QPalette.ColorRole.Midlight: "#323841",
    QPalette.ColorRole.Mid: "#2a2f37",
    QPalette.ColorRole.Dark: "#15181c",
    QPalette.ColorRole.Shadow: "#0d0f12",
    QPalette.ColorRole.Highlight: "#2f6fdb",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6fa8ff",
    QPalette.ColorRole.LinkVisited: "#b08cff",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f4f5f7",
    QPalette.ColorRole.WindowText: "#1f2933",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f5f7fa",
    QPalette.ColorRole.ToolTipBase: "#27313f",
    QPalette.ColorRole.ToolTipText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8a93a0",
    QPalette.ColorRole.Text: "#1f2933",
    QPalette.ColorRole.Button: "#ffffff",
    QPalette.ColorRole.ButtonText: "#1f2933",
    QPalette.ColorRole.BrightText: "#c62828",
    QPalette.ColorRole.Highlight: "#2f6fdb",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#1a5fc8",
    QPalette.ColorRole.LinkVisited: "#6a3fb5",
}
_DISABLED_TEXT = {"dark": "#6b7480", "light": "#9aa2ad"}


def theme_file(theme: str) -> Path:
    """The QSS file of a theme (``ui/themes/<theme>.qss``)."""
    return paths.ui_dir() / "themes" / f"{theme}.qss"


def stylesheet(theme: str) -> str:
    """The stylesheet of ``theme``; empty for "system" or when the file is missing."""
    if theme == "system":
        return ""
    try:
        return theme_file(theme).read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("theme %s has no stylesheet: %s", theme, exc)
        return ""


def palette(theme: str, base: QPalette) -> QPalette:
    """``base`` with the colours of ``theme`` (light or dark)."""
    pal = QPalette(base)
    colors = _DARK if theme == "dark" else _LIGHT
    for role, color in colors.items():
        pal.setColor(role, QColor(color))
    muted = QColor(_DISABLED_TEXT["dark" if theme == "dark" else "light"])
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, muted)
    return pal


def current_theme() -> str:
    return _current


def apply_theme(app: QApplication, theme: str) -> None:
    """Apply ``theme`` (system, light or dark) to the whole application, live."""
    global _platform, _current
    if theme not in THEMES:
        log.warning("unknown theme %r; using system", theme)
        theme = "system"
    if _platform is None:
        _platform = (app.style().name(), QPalette(app.palette()))
    style_name, platform_palette = _platform
    if theme == "system":
        app.setStyleSheet("")
        app.setStyle(style_name)
        app.setPalette(platform_palette)
    else:
        app.setStyle("Fusion")
        app.setPalette(palette(theme, app.style().standardPalette()))
        app.setStyleSheet(stylesheet(theme))
    _current = theme
