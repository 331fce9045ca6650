"""Inventory files: Ansible inventories, INI and YAML (see ``inventory_formats``)."""

from __future__ import annotations

import ast
import io
import ipaddress
import re
import shlex
import string
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.targets import validate_name
from opsconductor_desktop.services.inventory_common import (
    BatchBuilder,
    ImportBatch,
    ImportGroup,
    RowError,
    short,
    without_bom,
)

_IMPLICIT_GROUPS = frozenset({"all", "ungrouped"})
# A host range such as web[1:100000000] must not exhaust memory.
_MAX_HOSTS_PER_PATTERN = 10_000


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
                return f"var {key!r} is {short(value)} here but {short(old)} on line {where}"
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
        builder = BatchBuilder(source, format)
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
            problems.append(f"{var} must be text, got {short(value)}")
    port = remaining.pop("ansible_port", None)
    if isinstance(port, str) and re.fullmatch(r"[0-9]{1,9}", port):
        port = int(port)
    if isinstance(port, int) and not isinstance(port, bool):
        fields["ssh_port"] = port
    elif port is not None:
        problems.append(f"ansible_port must be an integer, got {short(port)}")
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
    for number, raw in enumerate(io.StringIO(without_bom(text), newline=None), start=1):
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
    body = without_bom(text)
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
            self.inventory.error(_line(node), f"{what} must be a mapping, got {short(value)}")
        except ValueError as exc:
            self.inventory.error(_line(node), f"{what}: {exc}")
        except RecursionError:
            self.inventory.error(_line(node), f"{what}: nested too deeply or refers to itself")
        except yaml.MarkedYAMLError as exc:
            self.inventory.error(_line(node), f"{what}: invalid YAML: {exc.problem}")
        return None
