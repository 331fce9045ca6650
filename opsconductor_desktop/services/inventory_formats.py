"""Inventory files: read CSV, JSON and Ansible inventories into a batch; write CSV and JSON.

Parsing never touches the database and never raises on bad input: every problem becomes a
``RowError`` carrying the line the operator should look at, and the rows that are good are
returned alongside. The service that applies a batch decides what to do with the errors
(it refuses a batch that is not ``ok``) and checks what only the database knows: unknown
groups, parents and credentials, and names that already exist.

Formats
  ``csv``           A header row, then one target per row; the columns are ``CSV_COLUMNS``
                    (only ``name`` and ``address`` are required). Lists (tags, groups) are
                    separated by ``;``; ``vars`` holds a JSON object.
  ``json``          A list of target objects, or ``{"targets": [...], "groups": [...]}`` as
                    ``export_json`` writes it. Target objects use the CSV column names with
                    JSON types, plus ``vars``; groups are ``{"name", "vars", "children"}``.
  ``ansible-ini``   An Ansible INI inventory: ``[group]``, ``[group:vars]``,
  ``ansible-yaml``  ``[group:children]``, or the YAML ``all: {hosts, vars, children}`` tree.
                    ``ansible_host``, ``ansible_port`` and ``ansible_user`` of a host become
                    its address, SSH port and SSH user; every other host var is kept in the
                    target's vars. Group vars stay with the group, except those of the
                    implicit ``all`` and ``ungrouped`` groups, which are not real groups here:
                    they are copied into each host's vars where neither the host nor one of
                    its groups sets them, so every host keeps the value Ansible would give it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import PurePath

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.services.inventory_ansible import parse_ansible_ini, parse_ansible_yaml
from opsconductor_desktop.services.inventory_common import (
    CSV_COLUMNS,
    ImportBatch,
    ImportGroup,
    ImportRow,
    RowError,
    without_bom,
)
from opsconductor_desktop.services.inventory_csv import export_csv, parse_csv
from opsconductor_desktop.services.inventory_json import export_json, parse_json

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ImportBatch",
    "ImportGroup",
    "ImportRow",
    "RowError",
    "detect_format",
    "export_csv",
    "export_json",
    "parse_ansible_ini",
    "parse_ansible_yaml",
    "parse_csv",
    "parse_inventory",
    "parse_json",
]

FORMATS: tuple[str, ...] = ("csv", "json", "ansible-ini", "ansible-yaml")


# --- format detection --------------------------------------------------------------------

_EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".ini": "ansible-ini",
    ".cfg": "ansible-ini",
    ".yml": "ansible-yaml",
    ".yaml": "ansible-yaml",
}


def detect_format(path_name: str, text: str) -> str:
    """The format of a file, by its extension, else by a look at its content.

    A file without extension (``hosts``, ``<stdin>``) is an Ansible INI inventory unless it
    holds JSON. Raises ``ValidationError`` when neither the name nor the content tells.
    """
    suffix = PurePath(path_name).suffix.lower() if path_name != "<stdin>" else ""
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if _is_json(text):
        return "json"
    if not suffix:
        return "ansible-ini"
    raise ValidationError(
        f"cannot tell the format of {path_name!r}: name it .csv, .json, .ini or .yml, "
        f"or choose one of {', '.join(FORMATS)}",
        field="format",
    )


def _is_json(text: str) -> bool:
    try:
        return isinstance(json.loads(without_bom(text)), list | dict)
    except (ValueError, RecursionError):
        return False


def parse_inventory(
    text: str, *, source: str = "<stdin>", format: str | None = None
) -> ImportBatch:
    """Parse ``text`` in the given format, or the one ``detect_format`` finds from ``source``.

    Raises ``ValidationError`` only for an unknown or undetectable format; every problem in
    the content is returned as a ``RowError`` in the batch.
    """
    chosen = format or detect_format(source, text)
    parsers: dict[str, Callable[..., ImportBatch]] = {
        "csv": parse_csv,
        "json": parse_json,
        "ansible-ini": parse_ansible_ini,
        "ansible-yaml": parse_ansible_yaml,
    }
    if chosen not in parsers:
        raise ValidationError(
            f"unknown format {chosen!r}; one of {', '.join(FORMATS)}", field="format"
        )
    return parsers[chosen](text, source=source)
