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

import ast
import csv
import io
import ipaddress
import json
import re
import shlex
import string
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SshProfile,
    TargetKind,
    TargetSpec,
    normalize_tags,
    parse_kind,
    parse_snmp_version,
    validate_address,
    validate_name,
    validate_port,
)

CSV_COLUMNS: tuple[str, ...] = (
    "name",
    "address",
    "kind",
    "vendor",
    "model",
    "site",
    "description",
    "tags",
    "enabled",
    "parent",
    "groups",
    "snmp_version",
    "snmp_port",
    "snmp_credential",
    "ssh_port",
    "ssh_username",
    "ssh_credential",
    "vars",
)
FORMATS: tuple[str, ...] = ("csv", "json", "ansible-ini", "ansible-yaml")

_REQUIRED_COLUMNS = ("name", "address")
_IMPLICIT_GROUPS = frozenset({"all", "ungrouped"})
# A host range such as web[1:100000000] must not exhaust memory.
_MAX_HOSTS_PER_PATTERN = 10_000


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem in the file: the 1-based line to look at, the target if known, the reason."""

    line: int
    name: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A valid target read from the file, with the groups it should be a static member of."""

    line: int
    spec: TargetSpec
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportGroup:
    """A group the file defines (Ansible groups, the JSON ``groups`` list)."""

    name: str
    vars: dict[str, Any]
    children: tuple[str, ...] = ()
    description: str = ""
    rule: str | None = None  # dynamic rule in the rule language (JSON only)


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """Everything read from one file: good rows, the errors, and the groups it defines."""

    source: str
    format: str
    rows: tuple[ImportRow, ...]
    errors: tuple[RowError, ...]
    groups: tuple[ImportGroup, ...]

    @property
    def ok(self) -> bool:
        """True when the file has no errors at all (it may still have no rows)."""
        return not self.errors


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
        return isinstance(json.loads(_without_bom(text)), list | dict)
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


# --- shared: fields to a validated spec ---------------------------------------------------


class _BatchBuilder:
    """Collects rows and errors of one file and refuses a name the file repeats."""

    def __init__(self, source: str, format: str) -> None:
        self.source = source
        self.format = format
        self.rows: list[ImportRow] = []
        self.errors: list[RowError] = []
        self.groups: list[ImportGroup] = []
        self._first_line: dict[str, int] = {}

    def error(self, line: int, message: str, name: str | None = None) -> None:
        self.errors.append(RowError(line, name, message))

    def add_target(self, line: int, fields: Mapping[str, Any], problems: list[str]) -> None:
        """Validate one target's fields; add its row, or one error per problem found."""
        raw_name = fields.get("name")
        hint = (raw_name.strip() or None) if isinstance(raw_name, str) else None
        target = _target_from_fields(fields, problems)
        name = target[0].name if target else hint
        if name is not None and name in self._first_line:
            problems.append(f"name {name!r} repeated (first on line {self._first_line[name]})")
        elif name is not None:
            self._first_line[name] = line
        for problem in problems:
            self.error(line, problem, hint)
        if target and not problems:
            self.rows.append(ImportRow(line, target[0], target[1]))

    def batch(self) -> ImportBatch:
        return ImportBatch(
            source=self.source,
            format=self.format,
            rows=tuple(self.rows),
            errors=tuple(sorted(self.errors, key=lambda e: e.line)),
            groups=tuple(self.groups),
        )


def _target_from_fields(
    fields: Mapping[str, Any], problems: list[str]
) -> tuple[TargetSpec, tuple[str, ...]] | None:
    """Check every field (one problem per bad field); the spec and groups when all are good.

    ``fields`` holds values already of the right Python type, keyed by CSV column name (and
    ``vars``); an absent key means the default.
    """

    try:  # fast path: one validation pass for a good row
        return _spec_of(fields).validated(), _group_names(fields.get("groups", ()))
    except ValidationError as exc:
        first = str(exc)
    _collect_problems(fields, problems)  # slow path: every problem of a bad row
    if not problems:
        problems.append(first)
    return None


def _spec_of(fields: Mapping[str, Any]) -> TargetSpec:
    """An unvalidated spec from typed fields (``parse_snmp_version`` may raise)."""
    return TargetSpec(
        name=fields.get("name", ""),
        address=fields.get("address", ""),
        kind=fields.get("kind") or TargetKind.OTHER,
        vendor=fields.get("vendor", ""),
        model=fields.get("model", ""),
        site=fields.get("site", ""),
        description=fields.get("description", ""),
        tags=tuple(fields.get("tags", ())),
        enabled=fields.get("enabled", True),
        parent=fields.get("parent") or None,
        snmp=SnmpProfile(
            parse_snmp_version(fields.get("snmp_version")),
            fields.get("snmp_port", 161),
            fields.get("snmp_credential") or None,
        ),
        ssh=SshProfile(
            fields.get("ssh_port", 22),
            fields.get("ssh_username") or None,
            fields.get("ssh_credential") or None,
        ),
        vars=dict(fields.get("vars") or {}),
    )


def _collect_problems(fields: Mapping[str, Any], problems: list[str]) -> None:
    """Check each field on its own, so that a bad row reports all of its problems."""

    def check(validate: Callable[[], object]) -> None:
        try:
            validate()
        except ValidationError as exc:
            problems.append(str(exc))

    check(lambda: validate_name(fields.get("name", "")))
    check(lambda: validate_address(fields.get("address", "")))
    check(lambda: parse_kind(fields.get("kind") or "other"))
    check(lambda: normalize_tags(fields.get("tags", ())))
    check(lambda: _group_names(fields.get("groups", ())))
    check(lambda: parse_snmp_version(fields.get("snmp_version")))
    check(lambda: validate_port(fields.get("snmp_port", 161), what="snmp_port"))
    check(lambda: validate_port(fields.get("ssh_port", 22), what="ssh_port"))
    if not problems:
        check(lambda: _spec_of(fields).validated())


def _group_names(names: Iterable[str]) -> tuple[str, ...]:
    """Valid group names, duplicates dropped, in the order given."""
    return tuple(dict.fromkeys(validate_name(n, what="group name") for n in names))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _without_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


# --- CSV ------------------------------------------------------------------------------------


def parse_csv(text: str, *, source: str = "<stdin>") -> ImportBatch:
    """Read a CSV inventory: a header naming ``CSV_COLUMNS`` (any order), one target a row."""
    builder = _BatchBuilder(source, "csv")
    records = _csv_records(_without_bom(text), builder)
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


def _csv_records(text: str, builder: _BatchBuilder) -> Iterator[tuple[int, list[str]]]:
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
        raise ValidationError(f"{column} must be a JSON object, got {_short(value)}", field=column)
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


# --- JSON -----------------------------------------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


_TEXT = (_is_text, "text")
_JSON_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    **{column: _TEXT for column in CSV_COLUMNS},
    "tags": (_is_text_list, "a list of text"),
    "groups": (_is_text_list, "a list of text"),
    "enabled": (_is_flag, "true or false"),
    "snmp_port": (_is_int, "an integer"),
    "ssh_port": (_is_int, "an integer"),
    "vars": (_is_object, "an object"),
}
_JSON_GROUP_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": _TEXT,
    "description": _TEXT,
    "rule": _TEXT,
    "vars": (_is_object, "an object"),
    "children": (_is_text_list, "a list of text"),
}


def parse_json(text: str, *, source: str = "<stdin>") -> ImportBatch:
    """Read a JSON inventory: a list of targets, or ``{"targets": [...], "groups": [...]}``.

    Line numbers are those where each target or group object starts.
    """
    builder = _BatchBuilder(source, "json")
    body = _without_bom(text)
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        builder.error(exc.lineno, f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})")
        return builder.batch()
    except RecursionError:
        builder.error(1, "invalid JSON: nested too deeply")
        return builder.batch()
    except ValueError as exc:  # e.g. a number with thousands of digits
        builder.error(1, f"invalid JSON: {exc}")
        return builder.batch()
    start = _skip_json_space(body, 0)
    if isinstance(document, list):
        _json_targets(document, _json_item_lines(body, start), builder)
    elif isinstance(document, dict):
        _json_document(document, body, start, builder)
    else:
        builder.error(1, 'expected a list of targets or an object with "targets" and "groups"')
    return builder.batch()


def _json_document(document: dict[str, Any], body: str, start: int, builder: _BatchBuilder) -> None:
    offsets = _json_member_offsets(body, start)
    lines = dict(zip(offsets, _lines_at(body, list(offsets.values())), strict=True))
    for key in document:
        if key not in ("targets", "groups"):
            builder.error(lines[key], f'unknown key {key!r}; expected "targets" and "groups"')
    for key, read in (("targets", _json_targets), ("groups", _json_groups)):
        items = document.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            builder.error(lines[key], f'"{key}" must be a list, got {_short(items)}')
        elif key in offsets:
            read(items, _json_item_lines(body, offsets[key]), builder)


def _json_targets(items: list[Any], lines: list[int], builder: _BatchBuilder) -> None:
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, dict):
            builder.error(line, f"a target must be an object, got {_short(item)}")
            continue
        problems: list[str] = []
        fields = _json_fields(item, _JSON_FIELDS, problems)
        builder.add_target(line, fields, problems)


def _json_groups(items: list[Any], lines: list[int], builder: _BatchBuilder) -> None:
    first_line: dict[str, int] = {}
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, dict):
            builder.error(line, f"a group must be an object, got {_short(item)}")
            continue
        problems: list[str] = []
        group = _json_group(item, problems)
        if group and group.name in first_line:
            first = first_line[group.name]
            problems.append(f"group {group.name!r} repeated (first on line {first})")
        elif group:
            first_line[group.name] = line
        hint = item.get("name") if isinstance(item.get("name"), str) else None
        for problem in problems:
            builder.error(line, problem, hint)
        if group and not problems:
            builder.groups.append(group)


def _json_group(item: Mapping[str, Any], problems: list[str]) -> ImportGroup | None:
    fields = _json_fields(item, _JSON_GROUP_FIELDS, problems)
    try:
        name = validate_name(fields.get("name", ""), what="group name")
        children = _group_names(fields.get("children", ()))
        rule = str(rules.parse(fields["rule"])) if fields.get("rule") else None
    except ValidationError as exc:
        problems.append(str(exc))
        return None
    description = str(fields.get("description", "")).strip()
    return ImportGroup(name, dict(fields.get("vars", {})), children, description, rule)


def _json_fields(
    item: Mapping[str, Any],
    known: Mapping[str, tuple[Callable[[Any], bool], str]],
    problems: list[str],
) -> dict[str, Any]:
    """The fields of a JSON object whose type is right; ``null`` means the default."""
    fields: dict[str, Any] = {}
    for key, value in item.items():
        if key not in known:
            problems.append(f"unknown field {key!r}")
        elif value is not None:
            accepts, expected = known[key]
            if accepts(value):
                fields[key] = value
            else:
                problems.append(f"{key} must be {expected}, got {_short(value)}")
    return fields


# json gives no positions, so after a successful parse these walk the (valid) text again
# with raw_decode to find where each item starts, for line numbers an operator can use.
_JSON_DECODER = json.JSONDecoder()


def _skip_json_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _json_item_lines(text: str, pos: int) -> list[int]:
    """Lines where the items of the JSON array opening at ``pos`` start."""
    starts: list[int] = []
    pos = _skip_json_space(text, pos + 1)
    while text[pos] != "]":
        starts.append(pos)
        _, pos = _JSON_DECODER.raw_decode(text, pos)
        pos = _skip_json_space(text, pos)
        if text[pos] == ",":
            pos = _skip_json_space(text, pos + 1)
    return _lines_at(text, starts)


def _json_member_offsets(text: str, pos: int) -> dict[str, int]:
    """Where the value of each member of the JSON object opening at ``pos`` starts."""
    offsets: dict[str, int] = {}
    pos = _skip_json_space(text, pos + 1)
    while text[pos] != "}":
        key, pos = _JSON_DECODER.raw_decode(text, pos)
        pos = _skip_json_space(text, _skip_json_space(text, pos) + 1)  # past the ':'
        offsets[key] = pos
        _, pos = _JSON_DECODER.raw_decode(text, pos)
        pos = _skip_json_space(text, pos)
        if text[pos] == ",":
            pos = _skip_json_space(text, pos + 1)
    return offsets


def _lines_at(text: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of increasing ``offsets`` into ``text``."""
    lines: list[int] = []
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


def export_json(
    rows: Iterable[tuple[TargetSpec, Sequence[str]]], groups: Iterable[ImportGroup] = ()
) -> str:
    """JSON text ``{"targets": [...], "groups": [...]}`` that ``parse_json`` reads back.

    Targets and groups keep the order given. Unlike CSV, JSON carries target and group vars.
    """
    document = {
        "targets": [_json_target(spec, member_of) for spec, member_of in rows],
        "groups": [_json_group_out(g) for g in groups],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_group_out(group: ImportGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name}
    if group.description:
        out["description"] = group.description
    if group.rule:
        out["rule"] = group.rule
    out["vars"] = dict(group.vars)
    out["children"] = list(group.children)
    return out


def _json_target(spec: TargetSpec, groups: Sequence[str]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "address": spec.address,
        "kind": str(spec.kind),
        "vendor": spec.vendor,
        "model": spec.model,
        "site": spec.site,
        "description": spec.description,
        "tags": list(spec.tags),
        "enabled": spec.enabled,
        "parent": spec.parent,
        "groups": list(groups),
        "snmp_version": str(spec.snmp.version) if spec.snmp.version else None,
        "snmp_port": spec.snmp.port,
        "snmp_credential": spec.snmp.credential,
        "ssh_port": spec.ssh.port,
        "ssh_username": spec.ssh.username,
        "ssh_credential": spec.ssh.credential,
        "vars": dict(spec.vars),
    }


# --- Ansible: the shared model --------------------------------------------------------------


@dataclass(slots=True)
class _Scope:
    """A host or group while an Ansible file is read: where it was first seen, its vars."""

    line: int
    vars: dict[str, Any] = field(default_factory=dict)
    var_lines: dict[str, int] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # hosts: the groups listing them
    children: dict[str, int] = field(default_factory=dict)  # groups: child -> line of link

    def merge(self, key: str, value: Any, line: int) -> str | None:
        """Set a var; the problem when the file already gave it another value."""
        if key in self.vars:
            old = self.vars[key]
            if old != value or type(old) is not type(value):
                where = self.var_lines[key]
                return f"var {key!r} is {_short(value)} here but {_short(old)} on line {where}"
            return None
        self.vars[key] = value
        self.var_lines[key] = line
        return None


class _AnsibleInventory:
    """Hosts and groups of an Ansible inventory, before they become rows."""

    def __init__(self) -> None:
        self.hosts: dict[str, _Scope] = {}
        self.groups: dict[str, _Scope] = {name: _Scope(1) for name in sorted(_IMPLICIT_GROUPS)}
        self.errors: list[RowError] = []
        self.conflicted: set[str] = set()

    def error(self, line: int, message: str, name: str | None = None) -> None:
        self.errors.append(RowError(line, name, message))

    def group(self, name: str, line: int) -> _Scope:
        return self.groups.setdefault(name, _Scope(line))

    def add_host(self, name: str, line: int, group: str, variables: Mapping[str, Any]) -> None:
        """Record that ``group`` lists host ``name`` with ``variables`` on ``line``."""
        host = self.hosts.setdefault(name, _Scope(line))
        self.group(group, line)
        if group not in host.groups:
            host.groups.append(group)
        for key, value in variables.items():
            problem = host.merge(key, value, line)
            if problem:
                self.conflicted.add(name)
                self.error(line, f"host {name!r}: {problem}", name)

    def set_group_var(self, group: str, key: str, value: Any, line: int) -> None:
        problem = self.group(group, line).merge(key, value, line)
        if problem:
            self.error(line, f"group {group!r}: {problem}", group)

    def add_child(self, parent: str, child: str, line: int) -> None:
        """Link ``child`` under ``parent``, refusing a link that would close a loop."""
        if child == parent or parent in self._descendants(child):
            inside = "itself" if child == parent else f"{parent!r}, which is inside it"
            self.error(line, f"group {child!r} cannot be a child of {inside}", child)
            return
        self.group(parent, line).children.setdefault(child, line)

    def _descendants(self, name: str) -> set[str]:
        found: set[str] = set()
        pending = [name]
        while pending:
            scope = self.groups.get(pending.pop())
            for child in scope.children if scope else ():
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def to_batch(self, source: str, format: str) -> ImportBatch:
        builder = _BatchBuilder(source, format)
        builder.errors.extend(self.errors)
        for name, scope in self.groups.items():
            if name in _IMPLICIT_GROUPS:
                continue
            try:
                validate_name(name, what="group name")
            except ValidationError as exc:
                builder.error(scope.line, str(exc), name)
                continue
            builder.groups.append(ImportGroup(name, dict(scope.vars), tuple(scope.children)))
        parents = self._parents()
        for name, host in self.hosts.items():
            if name in self.conflicted:
                continue
            groups = _with_ancestors(host.groups, parents)
            problems: list[str] = []
            fields = _host_fields(name, self._host_vars(host, groups), problems)
            builder.add_target(host.line, {**fields, "groups": groups}, problems)
        return builder.batch()

    def _parents(self) -> dict[str, set[str]]:
        parents: dict[str, set[str]] = {}
        for name, scope in self.groups.items():
            for child in scope.children:
                parents.setdefault(child, set()).add(name)
        return parents

    def _host_vars(self, host: _Scope, groups: Sequence[str]) -> dict[str, Any]:
        """The host's vars plus the ``all``/``ungrouped`` vars nothing closer overrides."""
        layers = [self.groups["all"].vars]
        if not groups:
            layers.append(self.groups["ungrouped"].vars)
        shadowed = set(host.vars).union(*(self.groups[g].vars for g in groups))
        inherited = {k: v for layer in layers for k, v in layer.items() if k not in shadowed}
        return {**inherited, **host.vars}


def _with_ancestors(groups: Iterable[str], parents: Mapping[str, set[str]]) -> tuple[str, ...]:
    """The groups plus every group above them, without the implicit ones, sorted."""
    found: set[str] = set()
    pending = list(groups)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(parents.get(name, ()))
    return tuple(sorted(found - _IMPLICIT_GROUPS))


def _host_fields(name: str, variables: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """Target fields of an Ansible host: the three connection vars map to fields."""
    remaining = dict(variables)
    fields: dict[str, Any] = {"name": name, "address": name}
    for var, key in (("ansible_host", "address"), ("ansible_user", "ssh_username")):
        value = remaining.pop(var, None)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            fields[key] = str(value)
        elif value is not None:
            problems.append(f"{var} must be text, got {_short(value)}")
    port = remaining.pop("ansible_port", None)
    if isinstance(port, str) and re.fullmatch(r"[0-9]{1,9}", port):
        port = int(port)
    if isinstance(port, int) and not isinstance(port, bool):
        fields["ssh_port"] = port
    elif port is not None:
        problems.append(f"ansible_port must be an integer, got {_short(port)}")
    fields["vars"] = remaining
    return fields


def _json_ready(value: Any) -> Any:
    """``value`` as plain JSON data (tuples become lists); ``ValueError`` if it cannot be."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("its keys must be text")
        return {k: _json_ready(v) for k, v in value.items()}
    raise ValueError(f"a {type(value).__name__} cannot be stored")


# --- Ansible: host patterns -----------------------------------------------------------------

_HOST_RANGE = re.compile(r"\[([^\]]*:[^\]]*)\]")
_HOST_PORT = re.compile(r"(?P<host>.+?):(?P<port>[0-9]{1,5})")
_BRACKETED_IPV6 = re.compile(r"\[(?P<host>[0-9A-Fa-f:.]+)\](?::(?P<port>[0-9]{1,5}))?")


def _expand_host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """Host names and port of an Ansible host pattern such as ``web[01:03].lan:2222``."""
    host, port = _split_port(pattern)
    return _expand_ranges(host), port


def _split_port(pattern: str) -> tuple[str, int | None]:
    if _is_ip(pattern):
        return pattern, None
    bracketed = _BRACKETED_IPV6.fullmatch(pattern)
    if bracketed and _is_ip(bracketed["host"]):
        port = bracketed["port"]
        return bracketed["host"], int(port) if port else None
    if pattern.endswith(":"):
        raise ValidationError(f"host {pattern!r} ends in ':' without a port", field="name")
    with_port = _HOST_PORT.fullmatch(pattern)
    if with_port:
        return with_port["host"], int(with_port["port"])
    return pattern, None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _expand_ranges(name: str) -> list[str]:
    """Expand every ``[begin:end(:step)]`` in a host name, Ansible style."""
    match = _HOST_RANGE.search(name)
    if match is None:
        return [name]
    middles = _range_values(match[1])
    tails = _expand_ranges(name[match.end() :])
    if len(middles) * len(tails) > _MAX_HOSTS_PER_PATTERN:
        raise ValidationError(
            f"host pattern {name!r} expands to more than {_MAX_HOSTS_PER_PATTERN} hosts",
            field="name",
        )
    head = name[: match.start()]
    return [head + middle + tail for middle in middles for tail in tails]


def _range_values(spec: str) -> list[str]:
    """``01:03`` → 01 02 03; ``a:c`` → a b c; ``1:9:4`` → 1 5 9."""
    bounds = spec.split(":")
    if len(bounds) not in (2, 3) or not bounds[1]:
        raise ValidationError(f"host range [{spec}] must be [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    step = bounds[2] if len(bounds) == 3 else "1"
    if not re.fullmatch(r"[0-9]{1,6}", step) or int(step) == 0:
        raise ValidationError(f"host range [{spec}] needs a positive whole step")
    if re.fullmatch(r"[0-9]{1,9}", begin) and re.fullmatch(r"[0-9]{1,9}", end):
        width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
        if width and len(end) != width:
            raise ValidationError(f"host range [{spec}] must give begin and end the same width")
        first, last = int(begin), int(end)
        if first > last:
            raise ValidationError(f"host range [{spec}] must have begin <= end")
        if (last - first) // int(step) >= _MAX_HOSTS_PER_PATTERN:
            raise ValidationError(
                f"host range [{spec}] expands to more than {_MAX_HOSTS_PER_PATTERN} hosts"
            )
        return [str(n).zfill(width) for n in range(first, last + 1, int(step))]
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        if letters.index(begin) > letters.index(end):
            raise ValidationError(f"host range [{spec}] must have begin <= end")
        return list(letters[letters.index(begin) : letters.index(end) + 1 : int(step)])
    raise ValidationError(f"host range [{spec}] must be numbers (01:10) or single letters (a:f)")


# --- Ansible INI ----------------------------------------------------------------------------

_INI_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?")
_INI_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:[#;].*)?")


def parse_ansible_ini(text: str, *, source: str = "<stdin>") -> ImportBatch:
    """Read an Ansible INI inventory (hosts, ``[group]``, ``:vars`` and ``:children``)."""
    inventory = _AnsibleInventory()
    declared = set(_IMPLICIT_GROUPS)
    references: list[tuple[int, str, str]] = []  # (line, group, problem if never declared)
    group, state = "ungrouped", "hosts"
    for number, raw in enumerate(io.StringIO(_without_bom(text), newline=None), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        section = _INI_SECTION.fullmatch(line)
        if section:
            group, state = section[1], section[2] or "hosts"
            inventory.group(group, number)
            if state == "vars":
                message = f"section [{group}:vars] is for a group the file never defines"
                references.append((number, group, message))
            elif state in ("hosts", "children"):
                declared.add(group)
            else:
                inventory.error(
                    number, f"section [{group}:{state}] has an unknown type; use :vars or :children"
                )
                state = "skip"
        elif line.startswith("[") and line.endswith("]"):
            inventory.error(
                number, f"invalid section header {line!r}: no spaces or ':' inside a group name"
            )
            state = "skip"
        elif state == "hosts":
            _ini_hosts(inventory, group, line, number)
        elif state == "vars":
            _ini_group_var(inventory, group, line, number)
        elif state == "children":
            child = _INI_GROUP_NAME.fullmatch(line)
            if child is None:
                inventory.error(number, f"expected a group name, got {line!r}")
                continue
            inventory.add_child(group, child[1], number)
            message = (
                f"section [{group}:children] names group {child[1]!r}, which the file never defines"
            )
            references.append((number, child[1], message))
    for number, name, message in references:
        if name not in declared:
            inventory.error(number, message, name)
    return inventory.to_batch(source, "ansible-ini")


def _ini_hosts(inventory: _AnsibleInventory, group: str, line: str, number: int) -> None:
    """A host line: ``pattern [key=value ...]``, shell-quoted, ``#`` starts a comment."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        inventory.error(number, f"cannot read host line: {exc}")
        return
    if not tokens:
        return
    variables: dict[str, Any] = {}
    for token in tokens[1:]:
        key, equals, value = token.partition("=")
        if not equals or not key:
            inventory.error(number, f"expected key=value after the host, got {token!r}", tokens[0])
            return
        variables[key] = _ini_value(value)
    try:
        names, port = _expand_host_pattern(tokens[0])
    except ValidationError as exc:
        inventory.error(number, str(exc), tokens[0])
        return
    if port is not None:
        variables.setdefault("ansible_port", port)
    for name in names:
        inventory.add_host(name, number, group, variables)


def _ini_group_var(inventory: _AnsibleInventory, group: str, line: str, number: int) -> None:
    key, equals, value = (part.strip() for part in line.partition("="))
    if not equals or not key:
        inventory.error(number, f"expected key=value, got {line!r}", group)
        return
    inventory.set_group_var(group, key, _ini_value(value), number)


def _ini_value(text: str) -> Any:
    """A value as Ansible reads it: a Python literal (number, quoted text, list) or the text.

    ``true``/``false`` are booleans too; literals JSON cannot hold (sets, bytes) stay text.
    """
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in quoted text warn
            return _json_ready(ast.literal_eval(text))
    except (ValueError, SyntaxError, TypeError, RecursionError):
        return text


# --- Ansible YAML ---------------------------------------------------------------------------


class _InventoryLoader(yaml.SafeLoader):
    """Safe YAML that keeps timestamps as text, so every var stays JSON data."""


def _timestamp_as_text(loader: _InventoryLoader, node: Node) -> str:
    return str(node.value)


_InventoryLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def parse_ansible_yaml(text: str, *, source: str = "<stdin>") -> ImportBatch:
    """Read an Ansible YAML inventory: groups (usually ``all:``) with hosts, vars, children."""
    inventory = _AnsibleInventory()
    body = _without_bom(text)
    try:
        loader = _InventoryLoader(body)
        try:
            root = loader.get_single_node()
            if root is not None:
                _YamlWalker(loader, inventory).walk_root(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        reason = ", ".join(part for part in (exc.context, exc.problem) if part) or "unreadable"
        inventory.error(line, f"invalid YAML: {reason} (line {line})")
    except yaml.reader.ReaderError as exc:
        line = body.count("\n", 0, exc.position) + 1
        inventory.error(line, f"invalid YAML: {exc.reason} (line {line})")
    except yaml.YAMLError as exc:
        inventory.error(1, f"invalid YAML: {exc}")
    except RecursionError:
        inventory.error(1, "invalid YAML: nested too deeply")
    return inventory.to_batch(source, "ansible-yaml")


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


class _YamlWalker:
    """Walks the YAML node tree, so hosts and groups keep the line they appear on."""

    def __init__(self, loader: _InventoryLoader, inventory: _AnsibleInventory) -> None:
        self.loader = loader
        self.inventory = inventory
        # Aliases can make the same group subtree appear many times: walk each once.
        self.walked: set[tuple[str, int]] = set()

    def walk_root(self, root: Node) -> None:
        if not isinstance(root, MappingNode):
            self.inventory.error(
                _line(root), "an Ansible YAML inventory maps group names (such as 'all:') to groups"
            )
            return
        for name, line, node in self.entries(root):
            self.inventory.group(name, line)
            self.walk_group(name, node)

    def entries(self, node: MappingNode) -> Iterator[tuple[str, int, Node]]:
        """(key, line, value) of a mapping whose keys must be plain names."""
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value:
                yield str(key_node.value), _line(key_node), value_node
            else:
                self.inventory.error(_line(key_node), "expected a name here")

    def walk_group(self, name: str, node: Node) -> None:
        if (name, id(node)) in self.walked or _is_null(node):
            return
        self.walked.add((name, id(node)))
        if not isinstance(node, MappingNode):
            self.inventory.error(_line(node), f"group {name!r} must map hosts, vars or children")
            return
        for key, line, value in self.entries(node):
            if key == "hosts":
                self.walk_hosts(name, value)
            elif key == "vars":
                variables = self.mapping(value, f"vars of group {name!r}") or {}
                for var, var_value in variables.items():
                    self.inventory.set_group_var(name, var, var_value, line)
            elif key == "children":
                self.walk_children(name, value)
            else:
                self.inventory.error(
                    line,
                    f"unknown key {key!r} in group {name!r}; expected hosts, vars or children",
                    name,
                )

    def walk_children(self, parent: str, node: Node) -> None:
        if _is_null(node):
            return
        if not isinstance(node, MappingNode):
            self.inventory.error(_line(node), f"children of group {parent!r} must be a mapping")
            return
        for child, line, value in self.entries(node):
            self.inventory.group(child, line)
            self.inventory.add_child(parent, child, line)
            self.walk_group(child, value)

    def walk_hosts(self, group: str, node: Node) -> None:
        if _is_null(node):
            return
        if not isinstance(node, MappingNode):
            self.inventory.error(
                _line(node), f"hosts of group {group!r} must be a mapping of host names"
            )
            return
        for pattern, line, value in self.entries(node):
            variables = self.mapping(value, f"vars of host {pattern!r}")
            if variables is None:
                continue  # the error is reported; a row without its vars would mislead
            try:
                names, port = _expand_host_pattern(pattern)
            except ValidationError as exc:
                self.inventory.error(line, str(exc), pattern)
                continue
            if port is not None:
                variables.setdefault("ansible_port", port)
            for name in names:
                self.inventory.add_host(name, line, group, variables)

    def mapping(self, node: Node, what: str) -> dict[str, Any] | None:
        """A vars mapping as plain JSON data; an error and None when it is not one."""
        if _is_null(node):
            return {}
        try:
            value = self.loader.construct_object(node, deep=True)
            if isinstance(value, dict):
                return dict(_json_ready(value))
            self.inventory.error(_line(node), f"{what} must be a mapping, got {_short(value)}")
        except ValueError as exc:
            self.inventory.error(_line(node), f"{what}: {exc}")
        except RecursionError:
            self.inventory.error(_line(node), f"{what}: nested too deeply or refers to itself")
        except yaml.MarkedYAMLError as exc:
            self.inventory.error(_line(node), f"{what}: invalid YAML: {exc.problem}")
        return None
