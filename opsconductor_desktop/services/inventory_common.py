"""Inventory files: the pieces every format shares.

The batch a file becomes (``ImportBatch`` and its rows, groups and errors), ``CSV_COLUMNS``
(the target fields every format uses), and ``BatchBuilder``, which turns typed fields into
validated rows. The format modules import from here; ``inventory_formats`` is the public
entry point and documents the formats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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


# --- shared: fields to a validated spec ---------------------------------------------------


class BatchBuilder:
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
        return _spec_of(fields).validated(), group_names(fields.get("groups", ()))
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
    check(lambda: group_names(fields.get("groups", ())))
    check(lambda: parse_snmp_version(fields.get("snmp_version")))
    check(lambda: validate_port(fields.get("snmp_port", 161), what="snmp_port"))
    check(lambda: validate_port(fields.get("ssh_port", 22), what="ssh_port"))
    if not problems:
        check(lambda: _spec_of(fields).validated())


def group_names(names: Iterable[str]) -> tuple[str, ...]:
    """Valid group names, duplicates dropped, in the order given."""
    return tuple(dict.fromkeys(validate_name(n, what="group name") for n in names))


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def without_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text
