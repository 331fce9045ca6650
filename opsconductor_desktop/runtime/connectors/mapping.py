"""From a source's answer to alerts: the alert list (JMESPath) and one item's mapping.

``check_manifest`` finishes what ``domain.connectors.parse_manifest`` cannot do without
JMESPath: every expression is compiled, and when the manifest carries a ``sample`` item
every mapping template is rendered against it, so a template naming a field the source
does not send is an error when the manifest is loaded, not at three in the morning.

``ItemMapper.map`` never raises anything but ``ItemError``: a bad item is counted by the
engine and the other items go on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.parser import ParsedResult

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.connector_templates import (
    Condition,
    MissingFieldError,
    Template,
)
from opsconductor_desktop.domain.connectors import (
    AlertMapping,
    Extract,
    FieldType,
    Manifest,
    fail,
    mapping_templates,
)
from opsconductor_desktop.domain.errors import OpsError, ValidationError

KEY_LIMIT = 255
SUMMARY_LIMIT = 1000
DETAIL_LIMIT = 2000


class SourceError(OpsError):
    """The source could not be asked or answered nonsense; the message says which."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ItemError(OpsError):
    """One item could not be mapped; ``identity`` is its (key, target value) when known."""

    def __init__(self, message: str, identity: tuple[str, str | None] | None = None) -> None:
        super().__init__(message)
        self.identity = identity


def compile_jmespath(text: str, where: str) -> ParsedResult:
    try:
        return jmespath.compile(text)
    except (  # the parser's own errors, and a few it lets escape on odd input
        jmespath_errors.JMESPathError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        RecursionError,
    ) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise fail(where, f"bad JMESPath {text!r}: {detail}") from None


def search(expr: ParsedResult, doc: Any) -> Any:
    """A JMESPath search; a type error in the expression's functions reads as no result."""
    try:
        return expr.search(doc)
    except (jmespath_errors.JMESPathError, TypeError, ValueError, RecursionError):
        return None


class Extractor:
    """The alert list (and a source-reported error) of one response document."""

    def __init__(self, extract: Extract, *, single_is_list: bool = False) -> None:
        self.extract = extract
        self.items_expr = compile_jmespath(extract.jmespath, "extract")
        self.error_expr = (
            compile_jmespath(extract.error, "extract.error") if extract.error else None
        )
        self.single_is_list = single_is_list

    def error(self, doc: Any) -> str | None:
        if self.error_expr is None:
            return None
        found = search(self.error_expr, doc)
        if found in (None, "", [], {}):
            return None
        return found if isinstance(found, str) else str(found)

    def items(self, doc: Any) -> list[Any]:
        found = search(self.items_expr, doc)
        if isinstance(found, list):
            return found
        if isinstance(found, dict) and self.single_is_list:
            return [found]
        what = "nothing" if found is None else f"a {type(found).__name__}"
        raise SourceError(
            f"the alert list ({self.extract.expression}) found {what} in the answer, not a list"
        )


@dataclass(frozen=True, slots=True)
class MappedItem:
    """One item, mapped; the target is matched to the inventory afterwards."""

    key: str
    target_value: str | None
    severity: Severity
    summary: str
    details: Mapping[str, Any]
    clear: bool
    held: bool  # suppressed at the source: neither raised nor resolved


def clean(value: Any, limit: int = DETAIL_LIMIT, depth: int = 0) -> Any:
    """JSON-safe for both databases: no NUL characters, long strings cut, depth bounded."""
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if depth > 8:
        return "…"
    if isinstance(value, Mapping):
        return {clean(str(k), 200): clean(v, limit, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, limit, depth + 1) for v in value[:200]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean(str(value), limit)


def bounded_key(text: str) -> str:
    text = text.replace("\x00", "")
    if len(text) <= KEY_LIMIT:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: KEY_LIMIT - 17]}~{digest}"


class ItemMapper:
    """Maps the items of one connector (``connector`` is its name; ``settings`` only the
    non-secret values, the only ones a mapping may show)."""

    def __init__(
        self, manifest: Manifest, connector: str, settings: Mapping[str, Any] | None = None
    ) -> None:
        if manifest.mapping is None:
            raise ValidationError(f"the manifest {manifest.id} has no mapping")
        self.mapping: AlertMapping = manifest.mapping
        self.source = f"connector:{connector}"
        public = {
            f.name: (settings or {}).get(f.name, f.default)
            for f in manifest.settings
            if f.type not in (FieldType.SECRET, FieldType.CREDENTIAL)
        }
        self.extras_base: dict[str, Any] = {"settings": public, "connector": connector}
        self.lets = [
            (name, compile_jmespath(text, f"mapping.let.{name}")) for name, text in self.mapping.let
        ]

    def _extras(self, item: Mapping[str, Any]) -> dict[str, Any]:
        extras = dict(self.extras_base)
        for name, expr in self.lets:
            extras[name] = search(expr, item)
        return extras

    def map(self, item: Any) -> MappedItem:
        if not isinstance(item, Mapping):
            raise ItemError(f"an item is a JSON object, not {type(item).__name__}")
        m = self.mapping
        extras = self._extras(item)
        try:
            key = bounded_key(m.key.render(item, extras))
            target = None
            if m.target is not None:
                target = m.target.value.render(item, extras).strip() or None
        except MissingFieldError as exc:
            raise ItemError(f"key/target: {exc}") from None
        try:
            return self._rest(item, extras, key, target)
        except MissingFieldError as exc:
            raise ItemError(f"{exc} (item {key})", (key, target)) from None

    def _rest(
        self, item: Mapping[str, Any], extras: dict[str, Any], key: str, target: str | None
    ) -> MappedItem:
        m = self.mapping
        severity = m.severity.default
        if m.severity.value is not None:
            word = m.severity.value.render(item, extras).strip().lower()
            if word in m.severity.map:
                severity = m.severity.map[word]
            else:
                severity = _SEVERITY_NAMES.get(word, m.severity.default)
        clear = severity is Severity.CLEAR or _holds(m.clear, item, extras)
        held = not clear and _holds(m.suppressed, item, extras)
        return MappedItem(
            key=key,
            target_value=target,
            severity=m.severity.default if severity is Severity.CLEAR else severity,
            summary=clean(m.summary.render(item, extras), SUMMARY_LIMIT),
            details={name: clean(t.value(item, extras)) for name, t in m.details},
            clear=clear,
            held=held,
        )

    def finish(self, mapped: MappedItem, target: str | None) -> NormalizedAlert:
        return NormalizedAlert(
            source=self.source,
            key=mapped.key,
            severity=mapped.severity,
            summary=mapped.summary,
            target=target,
            details=mapped.details,
            clear=mapped.clear,
        )


_SEVERITY_NAMES = {s.label: s for s in Severity}


def _holds(condition: Condition | None, item: Any, extras: Mapping[str, Any]) -> bool:
    return condition is not None and condition.evaluate(item, extras)


def check_manifest(manifest: Manifest) -> None:
    """Compile every JMESPath of the manifest; render the mapping against its sample."""
    if manifest.extract is not None:
        translated = manifest.extract.jmespath != manifest.extract.expression
        compile_jmespath(
            manifest.extract.jmespath, f"extract.{'jsonpath' if translated else 'jmespath'}"
        )
        if manifest.extract.error:
            compile_jmespath(manifest.extract.error, "extract.error")
    r = manifest.request
    if r is not None and r.pagination is not None:
        for name in ("total", "next"):
            text = getattr(r.pagination, name)
            if text:
                compile_jmespath(text, f"request.pagination.{name}")
    if manifest.mapping is None:
        return
    placeholders = {
        f.name: f.default if f.default is not None else f"<{f.name}>" for f in manifest.settings
    }
    mapper = ItemMapper(manifest, "sample", placeholders)
    if manifest.sample is None:
        return
    extras = mapper._extras(manifest.sample)
    for where, thing in mapping_templates(manifest.mapping):
        if isinstance(thing, Template):
            try:
                thing.render(manifest.sample, extras)
            except MissingFieldError as exc:
                raise fail(where, f"{thing.text!r}: the sample item has {exc}") from None
