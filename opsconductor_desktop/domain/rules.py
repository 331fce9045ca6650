"""Target selection rules: dynamic group membership and quick filters share this language.

A rule is a small tree of terms combined with ``and``, ``or`` and ``not``::

    tag:core and (vendor:cisco or vendor:juniper) and not site:lab
    cidr:10.20.0.0/16 or name:"ams-*"

Terms: ``tag``, ``kind``, ``vendor``, ``site`` (case-insensitive, ``*`` and ``?`` globs),
``name`` (glob), ``cidr`` (address inside a network; DNS names never match) and
``address`` (glob). Rules are stored as JSON (``to_json``/``from_json``) and shown as text
(``str(rule)``); both forms round-trip.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from opsconductor_desktop.domain.errors import ValidationError

FIELDS = ("tag", "kind", "vendor", "site", "name", "cidr", "address")


class Matchable(Protocol):
    """What a rule needs to know of a target."""

    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def vendor(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


class Rule:
    """Base of the rule tree."""

    def matches(self, target: Matchable) -> bool:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def __and__(self, other: Rule) -> Rule:
        return All((self, other))

    def __or__(self, other: Rule) -> Rule:
        return AnyOf((self, other))

    def __invert__(self) -> Rule:
        return Not(self)


def _quote(value: str) -> str:
    if re.fullmatch(r"[^\s()\"]+", value) and value.lower() not in ("and", "or", "not"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Term(Rule):
    """One field test, e.g. ``vendor:cisco*`` or ``cidr:10.0.0.0/8``."""

    field: str
    value: str

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValidationError(
                f"unknown rule field {self.field!r}; one of {', '.join(FIELDS)}", field="rule"
            )
        if not self.value:
            raise ValidationError(f"rule term {self.field}: has no value", field="rule")
        if self.field == "cidr":
            _ = self._network

    @cached_property
    def _network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        try:
            return ipaddress.ip_network(self.value, strict=False)
        except ValueError:
            raise ValidationError(
                f"invalid network {self.value!r} in cidr:", field="rule"
            ) from None

    def _glob(self, text: str) -> bool:
        return fnmatch.fnmatchcase(text.lower(), self.value.lower())

    def matches(self, target: Matchable) -> bool:
        if self.field == "tag":
            return any(self._glob(t) for t in target.tags)
        if self.field == "cidr":
            try:
                return ipaddress.ip_address(target.address) in self._network
            except ValueError:
                return False  # a DNS name is never inside a network
        return self._glob(str(getattr(target, self.field)))

    def to_json(self) -> dict[str, Any]:
        return {self.field: self.value}

    def __str__(self) -> str:
        return f"{self.field}:{_quote(self.value)}"


@dataclass(frozen=True)
class All(Rule):
    """Every sub-rule matches."""

    rules: tuple[Rule, ...]

    def matches(self, target: Matchable) -> bool:
        return all(r.matches(target) for r in self.rules)

    def to_json(self) -> dict[str, Any]:
        return {"all": [r.to_json() for r in self.rules]}

    def __str__(self) -> str:
        return " and ".join(_wrap(r, AnyOf) for r in self.rules)


@dataclass(frozen=True)
class AnyOf(Rule):
    """At least one sub-rule matches."""

    rules: tuple[Rule, ...]

    def matches(self, target: Matchable) -> bool:
        return any(r.matches(target) for r in self.rules)

    def to_json(self) -> dict[str, Any]:
        return {"any": [r.to_json() for r in self.rules]}

    def __str__(self) -> str:
        return " or ".join(_wrap(r, All) for r in self.rules)


@dataclass(frozen=True)
class Not(Rule):
    """The sub-rule does not match."""

    rule: Rule

    def matches(self, target: Matchable) -> bool:
        return not self.rule.matches(target)

    def to_json(self) -> dict[str, Any]:
        return {"not": self.rule.to_json()}

    def __str__(self) -> str:
        return "not " + _wrap(self.rule, All, AnyOf)


def _wrap(rule: Rule, *kinds: type[Rule]) -> str:
    return f"({rule})" if isinstance(rule, kinds) else str(rule)


def from_json(data: Any) -> Rule:
    """Build a rule from its JSON form, or raise ``ValidationError``."""
    if not isinstance(data, dict) or len(data) != 1:
        raise ValidationError(f"malformed rule {data!r}: expected one key", field="rule")
    ((key, value),) = data.items()
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ValidationError(f"rule '{key}' needs a non-empty list", field="rule")
        parts = tuple(from_json(v) for v in value)
        return All(parts) if key == "all" else AnyOf(parts)
    if key == "not":
        return Not(from_json(value))
    if not isinstance(value, str):
        raise ValidationError(f"rule term {key!r} needs a text value", field="rule")
    return Term(key, value)


_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValidationError(
                f"cannot read rule at column {pos + 1}: {text[pos:]!r}", field="rule"
            )
        pos = m.end()
        if m.group(1):
            out.append(("(", "("))
        elif m.group(2):
            out.append((")", ")"))
        elif m.group(3) is not None:
            out.append(("word", re.sub(r"\\(.)", r"\1", m.group(3))))
        else:
            word = m.group(4)
            kind = word.lower() if word.lower() in ("and", "or", "not") else "word"
            out.append((kind, word))
    return out


class _Parser:
    """Recursive descent: or-expr := and-expr ('or' and-expr)*; and binds tighter."""

    def __init__(self, tokens: Sequence[tuple[str, str]]) -> None:
        self.tokens = list(tokens)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Rule:
        rule = self.or_expr()
        if self.peek() is not None:
            raise ValidationError(f"unexpected {self.tokens[self.pos][1]!r} in rule", field="rule")
        return rule

    def or_expr(self) -> Rule:
        parts = [self.and_expr()]
        while self.peek() == "or":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def and_expr(self) -> Rule:
        parts = [self.unary()]
        while self.peek() in ("and", "not", "(", "word"):
            if self.peek() == "and":
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def unary(self) -> Rule:
        kind = self.peek()
        if kind is None:
            raise ValidationError("rule ends too early", field="rule")
        if kind == "not":
            self.take()
            return Not(self.unary())
        if kind == "(":
            self.take()
            rule = self.or_expr()
            if self.peek() != ")":
                raise ValidationError("missing ')' in rule", field="rule")
            self.take()
            return rule
        if kind != "word":
            raise ValidationError(f"unexpected {self.tokens[self.pos][1]!r} in rule", field="rule")
        return self.term()

    def term(self) -> Rule:
        _, word = self.take()
        field, sep, value = word.partition(":")
        if not sep:
            raise ValidationError(
                f"rule term {word!r} needs a field, e.g. tag:{word}", field="rule"
            )
        if not value and self.peek() == "word":
            _, value = self.take()  # field:"quoted value"
        return Term(field.lower(), value)


def parse(text: str) -> Rule:
    """Parse the text form of a rule, or raise ``ValidationError`` saying where it fails."""
    tokens = _tokens(text)
    if not tokens:
        raise ValidationError("rule is empty", field="rule")
    return _Parser(tokens).parse()
