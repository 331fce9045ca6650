"""Inventory files: the JSON format (a list of targets, or targets and groups)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import TargetSpec, validate_name
from opsconductor_desktop.services.inventory_common import (
    CSV_COLUMNS,
    BatchBuilder,
    ImportBatch,
    ImportGroup,
    group_names,
    short,
    without_bom,
)


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
    builder = BatchBuilder(source, "json")
    body = without_bom(text)
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


def _json_document(document: dict[str, Any], body: str, start: int, builder: BatchBuilder) -> None:
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
            builder.error(lines[key], f'"{key}" must be a list, got {short(items)}')
        elif key in offsets:
            read(items, _json_item_lines(body, offsets[key]), builder)


def _json_targets(items: list[Any], lines: list[int], builder: BatchBuilder) -> None:
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, dict):
            builder.error(line, f"a target must be an object, got {short(item)}")
            continue
        problems: list[str] = []
        fields = _json_fields(item, _JSON_FIELDS, problems)
        builder.add_target(line, fields, problems)


def _json_groups(items: list[Any], lines: list[int], builder: BatchBuilder) -> None:
    first_line: dict[str, int] = {}
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, dict):
            builder.error(line, f"a group must be an object, got {short(item)}")
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
        children = group_names(fields.get("children", ()))
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
                problems.append(f"{key} must be {expected}, got {short(value)}")
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
