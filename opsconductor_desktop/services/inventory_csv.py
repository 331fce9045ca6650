"""Inventory files: the CSV format (see ``inventory_formats`` for the columns)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.services.inventory_common import (
    CSV_COLUMNS,
    BatchBuilder,
    ImportBatch,
    short,
    without_bom,
)

_REQUIRED_COLUMNS = ("name", "address")


def parse_csv(text: str, *, source: str = "<stdin>") -> ImportBatch:
    """Read a CSV inventory: a header naming ``CSV_COLUMNS`` (any order), one target a row."""
    builder = BatchBuilder(source, "csv")
    records = _csv_records(without_bom(text), builder)
    first = next(records, None)
    if first is None:
        if not builder.errors:
            builder.error(1, "the file is empty; the first row must name the columns")
        return builder.batch()
    header_line, header = first
    columns = [cell.strip().lower() for cell in header]
    header_problems = _header_problems(columns)
    for problem in header_problems:
        builder.error(header_line, problem)
    if header_problems:
        return builder.batch()
    for line, cells in records:
        if len(cells) > len(columns):
            builder.error(
                line, f"row has {len(cells)} cells but the header has {len(columns)} columns"
            )
            continue
        problems: list[str] = []
        fields = _csv_fields(zip(columns, cells, strict=False), problems)
        builder.add_target(line, fields, problems)
    return builder.batch()


def _csv_records(text: str, builder: BatchBuilder) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the physical line each starts on; stops at unreadable CSV."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        builder.error(line, f"unreadable CSV: {exc}")


def _header_problems(columns: list[str]) -> list[str]:
    if len(columns) == 1 and (";" in columns[0] or "\t" in columns[0]):
        separator = "';'" if ";" in columns[0] else "tabs"
        return [f"the header uses {separator} between columns; save the file as comma-separated"]
    problems = [f"column {i} has an empty header" for i, c in enumerate(columns, 1) if not c]
    known = ", ".join(CSV_COLUMNS)
    problems += [
        f"unknown column {c!r}; known columns: {known}"
        for c in columns
        if c and c not in CSV_COLUMNS
    ]
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    problems += [f"column {c!r} appears more than once" for c in repeated]
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        problems.append(f"missing required {noun} {', '.join(map(repr, missing))}")
    return problems


def _csv_fields(cells: Iterable[tuple[str, str]], problems: list[str]) -> dict[str, Any]:
    """Typed fields from (column, cell) pairs; an empty cell means the default."""
    fields: dict[str, Any] = {}
    for column, cell in cells:
        text = cell.strip()
        if not text:
            continue
        try:
            fields[column] = _CSV_READERS.get(column, _csv_text)(text, column)
        except ValidationError as exc:
            problems.append(str(exc))
    return fields


def _csv_text(text: str, column: str) -> str:
    return text


def _csv_list(text: str, column: str) -> list[str]:
    return [item.strip() for item in text.split(";") if item.strip()]


_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _csv_flag(text: str, column: str) -> bool:
    try:
        return _FLAGS[text.lower()]
    except KeyError:
        raise ValidationError(
            f"{column} must be true/false/yes/no/1/0, got {text!r}", field=column
        ) from None


def _csv_int(text: str, column: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", text):
        raise ValidationError(f"{column} must be an integer, got {text!r}", field=column)
    return int(text)


def _csv_vars(text: str, column: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{column} must be a JSON object: {exc.msg}", field=column) from None
    if not isinstance(value, dict):
        raise ValidationError(f"{column} must be a JSON object, got {short(value)}", field=column)
    return value


_CSV_READERS: dict[str, Callable[[str, str], Any]] = {
    "vars": _csv_vars,
    "tags": _csv_list,
    "groups": _csv_list,
    "enabled": _csv_flag,
    "snmp_port": _csv_int,
    "ssh_port": _csv_int,
}


def export_csv(rows: Iterable[tuple[TargetSpec, Sequence[str]]]) -> str:
    """CSV text with a ``CSV_COLUMNS`` header and one row per (spec, static groups).

    Target vars go in the ``vars`` column as a JSON object. Lines end
    in ``\\n``; write the text with ``newline=""`` to keep line breaks inside descriptions
    exactly. Raises ``ValidationError`` for a group name containing ``;``, which CSV would
    split in two.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for spec, groups in rows:
        for group in groups:
            if ";" in group:
                raise ValidationError(
                    f"group name {group!r} contains ';' and cannot be written to CSV; "
                    "export to JSON instead",
                    field="groups",
                )
        writer.writerow(
            [
                spec.name,
                spec.address,
                str(spec.kind),
                spec.vendor,
                spec.model,
                spec.site,
                spec.description,
                ";".join(spec.tags),
                "true" if spec.enabled else "false",
                spec.parent or "",
                ";".join(groups),
                spec.snmp.version or "",
                spec.snmp.port,
                spec.snmp.credential or "",
                spec.ssh.port,
                spec.ssh.username or "",
                spec.ssh.credential or "",
                json.dumps(dict(spec.vars), sort_keys=True, ensure_ascii=False)
                if spec.vars
                else "",
            ]
        )
    return out.getvalue()
