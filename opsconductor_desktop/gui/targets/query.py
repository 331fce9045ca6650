"""The quick-filter language of the Targets pane, and sort keys that read like an operator.

A query is words separated by spaces; every word must match (``and``), ``or`` between
words offers alternatives::

    ams core                 free text: both words appear somewhere in the row
    tag:core vendor:cisco    field terms: tag, kind, vendor, site, group, name, address,
                             model, enabled (yes/no)
    site:ams* -tag:lab       ``*`` and ``?`` glob the whole value; ``-word`` or ``not word``
                             negates a term
    "data centre" site:fra2 or site:ams1

Field values match by substring unless they contain a glob character. Unknown fields and
half-typed terms never raise: ``foo:bar`` is free text and ``tag:`` (no value yet) matches
everything, so the table does not flicker while the operator types.

Evaluation runs against ``Haystack`` values computed once per row (lower-cased fields and
one joined text), so re-filtering ten thousand rows costs a few milliseconds of Python.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FIELDS = ("tag", "kind", "vendor", "site", "group", "name", "address", "model", "enabled")
_ALIASES = {"tags": "tag", "groups": "group", "ip": "address", "host": "address"}
_YES = frozenset({"yes", "y", "true", "1", "on"})
_NO = frozenset({"no", "n", "false", "0", "off"})
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class Haystack:
    """The lower-cased fields of one row that filters look at."""

    name: str
    address: str
    kind: str
    vendor: str
    site: str
    model: str
    tags: tuple[str, ...]
    groups: tuple[str, ...]
    enabled: bool
    text: str  # every field joined, for free-text words


Predicate = Callable[[Haystack], bool]


def _match_all(_: Haystack) -> bool:
    return True


def _tokens(text: str) -> list[str]:
    """Words, honouring double quotes; an unclosed quote runs to the end (still typing)."""
    out: list[str] = []
    word: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if word:
                out.append("".join(word))
                word = []
        else:
            word.append(char)
    if word:
        out.append("".join(word))
    return out


def _value_matcher(value: str) -> Callable[[str], bool]:
    if "*" in value or "?" in value:
        pattern = re.compile(fnmatch.translate(value))
        return lambda text: pattern.match(text) is not None
    return lambda text: value in text


def _term(word: str) -> Predicate | None:
    """The predicate of one word, or None when it does not constrain anything yet."""
    field, sep, value = word.partition(":")
    field = _ALIASES.get(field.lower(), field.lower())
    if not sep or field not in FIELDS:
        needle = word.lower()
        return lambda h: needle in h.text
    value = value.lower()
    if not value:
        return None
    if field == "enabled":
        if value in _YES:
            return lambda h: h.enabled
        if value in _NO:
            return lambda h: not h.enabled
        return None
    match = _value_matcher(value)
    if field == "tag":
        return lambda h: any(match(t) for t in h.tags)
    if field == "group":
        return lambda h: any(match(g) for g in h.groups)
    attr = field
    return lambda h: match(getattr(h, attr))


def _conjunction(words: Sequence[str]) -> Predicate | None:
    terms: list[Predicate] = []
    negate_next = False
    for word in words:
        if word.lower() == "not":
            negate_next = not negate_next
            continue
        negate = negate_next
        negate_next = False
        if word.startswith("-") and len(word) > 1:
            negate, word = not negate, word[1:]
        term = _term(word)
        if term is None:
            continue
        terms.append(_negated(term) if negate else term)
    if not terms:
        return None
    if len(terms) == 1:
        return terms[0]
    return lambda h: all(t(h) for t in terms)


def _negated(term: Predicate) -> Predicate:
    return lambda h: not term(h)


def compile_query(text: str) -> Predicate | None:
    """A predicate for ``text``, or None when the query accepts every row."""
    words = _tokens(text)
    alternatives: list[list[str]] = [[]]
    for word in words:
        if word.lower() == "or":
            alternatives.append([])
        else:
            alternatives[-1].append(word)
    parts = [_conjunction(words) for words in alternatives if words]
    if not parts or any(p is None for p in parts):
        return None  # an empty alternative accepts everything
    chosen = [p for p in parts if p is not None]
    if len(chosen) == 1:
        return chosen[0]
    return lambda h: any(p(h) for p in chosen)


# ---- sort keys --------------------------------------------------------------------------

NaturalKey = tuple[str | int, ...]


def natural_key(text: str) -> NaturalKey:
    """``sw2`` before ``sw10``: digit runs compare as numbers (text and numbers alternate)."""
    parts = _DIGITS.split(text.lower())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def address_key(text: str) -> tuple[int, int, int, NaturalKey]:
    """IP addresses numerically (IPv4 before IPv6), then DNS names naturally."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return (1, 0, 0, natural_key(text))
    return (0, ip.version, int(ip), ())
