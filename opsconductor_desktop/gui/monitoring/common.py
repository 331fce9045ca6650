"""What the Monitoring pane's widgets share: documents as YAML, field text, state colours.

Form fields edit a *document* (what a YAML file holds). Numbers are typed as text and
converted back without guessing: "90" is 90, "0.5" is 0.5 and "5m" stays the text "5m"
(a duration the domain accepts), so a document survives form → YAML → form unchanged,
and text that is no number reaches the domain's validation, which names the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import yaml
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QSpinBox,
    QTableView,
    QWidget,
)

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.jobs import Selection

INVALID_STYLE = "border: 2px solid #d32f2f; border-radius: 3px;"
OK_STYLE = "color: #2e7d32;"
ERROR_STYLE = "color: #c62828; font-weight: bold;"
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
# (light, dark) colours of a check state
OK_COLOURS = ("#2e7d32", "#81c784")
PARTIAL_COLOURS = ("#a66a00", "#ffb74d")
FAIL_COLOURS = ("#c62828", "#ef5350")
DISABLED_COLOURS = ("#8a93a0", "#7d8693")


# ---- documents ------------------------------------------------------------------------


def as_yaml(doc: Mapping[str, Any]) -> str:
    """A document as the YAML an operator would write (keys in their order)."""
    return yaml.safe_dump(plain(doc), sort_keys=False, allow_unicode=True, width=100)


def plain(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, JSON-shaped copy of a stored document (mappings become dicts)."""
    copied: dict[str, Any] = json.loads(json.dumps(dict(doc), default=str))
    return copied


def parse_yaml_mapping(text: str, what: str) -> dict[str, Any]:
    """The mapping a YAML text holds, or ``ValidationError`` saying where it is broken."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(f"YAML {where}{problem}", field="yaml") from None
    if not isinstance(data, dict):
        raise ValidationError(f"YAML: a {what} is a mapping (name: …, …)", field="yaml")
    return plain(data)


def unique_name(base: str, taken: set[str]) -> str:
    """``base-copy``, ``base-copy-2``, … : the first name not taken (for Duplicate)."""
    name = f"{base}-copy"
    number = 2
    while name in taken:
        name = f"{base}-copy-{number}"
        number += 1
    return name


# ---- field text -----------------------------------------------------------------------


def to_value(text: str) -> Any:
    """Typed text as a document value: "" → None, "90" → 90, "0.5" → 0.5, else the text."""
    stripped = text.strip()
    if not stripped:
        return None
    if _INT.match(stripped):
        return int(stripped)
    if _FLOAT.match(stripped):
        return float(stripped)
    return stripped


def to_text(value: Any) -> str:
    """A document value as field text (the inverse of ``to_value`` for what it makes)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return str(value)


def put(doc: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``, or remove it for None (the domain's default applies)."""
    if value is None:
        doc.pop(key, None)
    else:
        doc[key] = value


def selection_text(selection: Selection, tags: Sequence[str] = ()) -> str:
    """What a monitor applies to (a rule's scope), in one line."""
    parts: list[str] = []
    if selection.groups:
        parts.append("groups " + ", ".join(selection.groups))
    if selection.targets:
        shown = ", ".join(selection.targets[:3])
        more = len(selection.targets) - 3
        parts.append("targets " + shown + (f" +{more}" if more > 0 else ""))
    if tags:
        parts.append("tags " + ", ".join(tags))
    if selection.rule:
        parts.append(f"rule “{selection.rule}”")
    return " · ".join(parts)


class IntField(QSpinBox):
    """A whole-number field of a document key that keeps what it cannot show.

    ``load`` a value: a whole number in range is shown; a missing key shows the default and
    stays missing unless the operator changes it; anything else (``"x"`` typed in the YAML
    view) is kept as it was, so validation still reports it, until the operator changes it.
    """

    def __init__(self, low: int, high: int, default: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setRange(low, high)
        self.default = default
        self._kept: Any = None
        self._present = False
        self._loading = False
        self.valueChanged.connect(self._edited)

    def load(self, value: Any) -> None:
        self._loading = True
        try:
            number = isinstance(value, int) and not isinstance(value, bool)
            in_range = number and self.minimum() <= value <= self.maximum()
            self.setValue(value if in_range else self.default)
            self._present = value is not None
            self._kept = None if in_range or value is None else value
        finally:
            self._loading = False

    def _edited(self, _value: int) -> None:
        if not self._loading:
            self._present = True
            self._kept = None

    def put(self, doc: dict[str, Any], key: str) -> None:
        """Write the field into ``doc`` (or leave the key out, as loaded)."""
        if self._kept is not None:
            doc[key] = self._kept
        elif self._present or self.value() != self.default:
            doc[key] = self.value()
        else:
            doc.pop(key, None)


def make_table(name: str, *, multi: bool = False) -> QTableView:
    """A read-only, sortable table of rows (several selectable when ``multi``)."""
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setHighlightSections(False)
    return view


# ---- state colours --------------------------------------------------------------------


def dark_palette() -> bool:
    palette = QApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def colour(pair: tuple[str, str]) -> QColor:
    """The light or dark variant of a colour pair, for the current palette."""
    return QColor(pair[1] if dark_palette() else pair[0])


def brush(pair: tuple[str, str]) -> QBrush:
    return QBrush(colour(pair))


@cache
def _dot(hex_colour: str, symbol: str) -> QIcon:
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(hex_colour)))
    painter.drawEllipse(QRectF(2, 2, 28, 28))
    painter.setPen(QColor("#ffffff"))
    font = painter.font()
    font.setPixelSize(18)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, 32, 32), Qt.AlignmentFlag.AlignCenter, symbol)
    painter.end()
    return QIcon(pixmap)


def state_icon(ok: bool, partial: bool = False) -> QIcon:
    """A green ✔, amber ! (answered, but some metrics missing) or red ✖ dot (painted once
    per colour, after QApplication exists)."""
    if ok and partial:
        return _dot(PARTIAL_COLOURS[0], "!")
    pair = OK_COLOURS if ok else FAIL_COLOURS
    return _dot(pair[0], "✔" if ok else "✖")
