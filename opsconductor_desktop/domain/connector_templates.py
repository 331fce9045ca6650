"""The small, safe languages of connector manifests: templates and conditions.

**Templates** fill text from a JSON item (an alert of the source) or from the request's
context (``settings``, ``page``)::

    "{labels.alertname} on {labels.instance}"      dotted paths; list items by index (a.0.b)
    "{labels.severity|warning}"                     a literal default after one "|"
    "{annotations.summary||labels.alertname|?}"     alternatives with "||", then a default
    "{$settings.url}" "{$connector}" "{$host}"      names given by the engine ($...)
    "{{literal braces}}"

A path that is missing (or null) with no default raises ``MissingFieldError``; the engine
counts it as an item error. A template that is one placeholder and nothing else keeps the
value's type (``value``), so a JSON body can carry numbers and lists.

**Conditions** are boolean expressions over the same paths, parsed with Python's ``ast``
and interpreted here (never evaluated by Python)::

    status.state == 'resolved'
    suppressed == 1 or labels['app-name'] in ['a', 'b']
    not settings.token

``and or not``, ``== != < <= > >= in``, strings, numbers, lists, ``true false null``. A
missing path is ``null`` in a condition (conditions test optional fields). A number and a
numeric string compare as numbers (Zabbix sends ``"4"``).
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opsconductor_desktop.domain.errors import OpsError, ValidationError

MAX_TEMPLATE = 4000
MAX_CONDITION = 2000
_SEGMENT = re.compile(r"^[^.{}|\s]+$")
_EXTRA = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$")


class MissingFieldError(OpsError):
    """A template named a field the item (or the context) does not have."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no field {path}")
        self.path = path


Path = tuple[str, ...]


def parse_path(text: str) -> Path:
    """``labels.alertname`` → ``("labels", "alertname")``; ``$host`` keeps its ``$``."""
    parts = tuple(text.strip().split("."))
    if not text.strip() or any(not _SEGMENT.match(p) for p in parts):
        raise ValidationError(f"bad field path {text.strip()!r}")
    if parts[0].startswith("$") and not _EXTRA.match(parts[0]):
        raise ValidationError(f"bad name {parts[0]!r}")
    return parts


def lookup(root: Any, path: Path, extras: Mapping[str, Any] | None = None) -> Any:
    """The value at ``path`` or ``None`` when any step is missing."""
    if path[0].startswith("$"):
        if extras is None or path[0][1:] not in extras:
            return None
        node, rest = extras[path[0][1:]], path[1:]
    else:
        node, rest = root, path
    for step in rest:
        if isinstance(node, Mapping):
            node = node.get(step)
        elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
            try:
                node = node[int(step)]
            except (ValueError, IndexError):
                return None
        else:
            return None
        if node is None:
            return None
    return node


def as_text(value: Any) -> str:
    """How a value reads inside a template."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(value, "g") if isinstance(value, float) else str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``{a||b|default}``: the paths tried in order, then the literal default (if any)."""

    paths: tuple[Path, ...]
    default: str | None

    def resolve(self, root: Any, extras: Mapping[str, Any] | None) -> Any:
        for path in self.paths:
            value = lookup(root, path, extras)
            if value is not None:
                return value
        if self.default is not None:
            return self.default
        raise MissingFieldError(" or ".join(".".join(p) for p in self.paths))


def _placeholder(body: str) -> Placeholder:
    paths_text, bar, default = body, "", ""
    i = 0
    while i < len(body):  # the first "|" that is not part of "||" starts the default
        if body[i] == "|":
            if body[i : i + 2] == "||":
                i += 2
                continue
            paths_text, bar, default = body[:i], "|", body[i + 1 :]
            break
        i += 1
    alternatives = paths_text.split("||")
    return Placeholder(tuple(parse_path(a) for a in alternatives), default if bar else None)


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled template (see the module docstring)."""

    text: str
    parts: tuple[str | Placeholder, ...]

    @classmethod
    def parse(cls, text: Any) -> Template:
        if not isinstance(text, str):
            raise ValidationError(f"a template is text, not {type(text).__name__}")
        if len(text) > MAX_TEMPLATE:
            raise ValidationError(f"template longer than {MAX_TEMPLATE} characters")
        parts: list[str | Placeholder] = []
        literal: list[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c in "{}" and text[i : i + 2] in ("{{", "}}"):
                literal.append(c)
                i += 2
            elif c == "{":
                end = text.find("}", i + 1)
                if end < 0:
                    raise ValidationError(f"unclosed '{{' at character {i + 1} of {text!r}")
                body = text[i + 1 : end]
                if "{" in body:
                    raise ValidationError(f"'{{' inside a placeholder in {text!r}")
                try:
                    placeholder = _placeholder(body)
                except ValidationError as exc:
                    raise ValidationError(f"{exc} in {text!r}") from None
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(placeholder)
                i = end + 1
            elif c == "}":
                raise ValidationError(f"unmatched '}}' at character {i + 1} of {text!r}")
            else:
                literal.append(c)
                i += 1
        if literal:
            parts.append("".join(literal))
        return cls(text, tuple(parts))

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(p for p in self.parts if isinstance(p, Placeholder))

    def render(self, root: Any, extras: Mapping[str, Any] | None = None) -> str:
        return "".join(
            p if isinstance(p, str) else as_text(p.resolve(root, extras)) for p in self.parts
        )

    def value(self, root: Any, extras: Mapping[str, Any] | None = None) -> Any:
        """Like ``render``, but a lone placeholder keeps its value's type."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Placeholder):
            return self.parts[0].resolve(root, extras)
        return self.render(root, extras)


# ---- conditions ---------------------------------------------------------------------------

_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False}
_CONSTANTS["None"] = None
_DOLLAR = re.compile(r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|\$([A-Za-z_][A-Za-z0-9_]*)")
_EXT_PREFIX = "_ext__"
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if a is not None and b is not None and isinstance(a, str) != isinstance(b, str):
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            return x == y
    return bool(a == b)


def _order(op: ast.cmpop, a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        if not (isinstance(a, str) and isinstance(b, str)):
            return False
        x, y = a, b  # type: ignore[assignment]
    if isinstance(op, ast.Lt):
        return bool(x < y)  # type: ignore[operator]
    if isinstance(op, ast.LtE):
        return bool(x <= y)  # type: ignore[operator]
    if isinstance(op, ast.Gt):
        return bool(x > y)  # type: ignore[operator]
    return bool(x >= y)  # type: ignore[operator]


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, Mapping):
        return isinstance(item, str) and item in container
    if isinstance(container, list | tuple):
        return any(_equal(item, x) for x in container)
    return False


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition (see the module docstring)."""

    text: str
    tree: ast.expr
    paths: tuple[Path, ...]

    @classmethod
    def parse(cls, text: Any) -> Condition:
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("a condition is a non-empty expression")
        if len(text) > MAX_CONDITION:
            raise ValidationError(f"condition longer than {MAX_CONDITION} characters")
        source = _DOLLAR.sub(lambda m: m.group(1) or _EXT_PREFIX + m.group(2), text.strip())
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. invalid escapes in a string literal
                tree = ast.parse(source, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise ValidationError(f"not a valid condition: {text.strip()!r}") from None
        paths: list[Path] = []
        try:
            _check(tree, paths)
        except RecursionError:
            raise ValidationError(f"condition nested too deeply: {text.strip()!r}") from None
        return cls(text.strip(), tree, tuple(paths))

    def evaluate(self, root: Any, extras: Mapping[str, Any] | None = None) -> bool:
        return bool(_eval(self.tree, root, extras))


def _path_of(node: ast.expr) -> Path | None:
    if isinstance(node, ast.Name):
        name = node.id
        if name.startswith(_EXT_PREFIX):
            return ("$" + name[len(_EXT_PREFIX) :],)
        return None if name in _CONSTANTS else (name,)
    if isinstance(node, ast.Attribute):
        base = _path_of(node.value)
        return None if base is None else (*base, node.attr)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        key = node.slice.value
        base = _path_of(node.value)
        if base is None or not isinstance(key, str | int) or isinstance(key, bool):
            return None
        return (*base, str(key))
    return None


def _check(node: ast.expr, paths: list[Path]) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, paths)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        _check(node.operand, paths)
    elif isinstance(node, ast.Compare):
        if not all(isinstance(op, _COMPARE) for op in node.ops):
            raise ValidationError("conditions compare with == != < <= > >= in 'not in'")
        for sub in (node.left, *node.comparators):
            _check(sub, paths)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ValidationError(f"unsupported constant {node.value!r}")
    elif isinstance(node, ast.List | ast.Tuple):
        for item in node.elts:
            _check(item, paths)
    elif isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return
    else:
        path = _path_of(node)
        if path is None:
            what = type(node).__name__
            raise ValidationError(f"conditions use fields, constants and comparisons, not {what}")
        paths.append(path)


def _eval(node: ast.expr, root: Any, extras: Mapping[str, Any] | None) -> Any:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, root, extras) for v in node.values)
        return any(_eval(v, root, extras) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, root, extras)
        if isinstance(node.op, ast.Not):
            return not operand
        number = _number(operand)
        return None if number is None else -number
    if isinstance(node, ast.Compare):
        left = _eval(node.left, root, extras)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, root, extras)
            if isinstance(op, ast.Eq):
                ok = _equal(left, right)
            elif isinstance(op, ast.NotEq):
                ok = not _equal(left, right)
            elif isinstance(op, ast.In):
                ok = _contains(right, left)
            elif isinstance(op, ast.NotIn):
                ok = not _contains(right, left)
            else:
                ok = _order(op, left, right)
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, root, extras) for e in node.elts]
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    path = _path_of(node)
    return None if path is None else lookup(root, path, extras)
