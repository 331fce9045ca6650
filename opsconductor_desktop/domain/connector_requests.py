"""Connector manifests: the ``request`` (URL, headers, query, body, pagination) and
``extract`` sections of an ``http_poll`` manifest, and the JSONPath subset."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsconductor_desktop.domain.connector_fields import (
    bool_field,
    check_keys,
    condition_field,
    fail,
    literal_or_template,
    number_field,
    scalar_text,
    template_field,
    text_field,
)
from opsconductor_desktop.domain.connector_templates import Condition, Template
from opsconductor_desktop.domain.errors import ValidationError

_HTTP_METHODS = ("GET", "POST", "PUT")


@dataclass(frozen=True, slots=True)
class Entry:
    """A header or query parameter: a template, sent only ``when`` (if given) holds."""

    value: Template
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Pagination:
    type: str  # page | offset | next_link
    param: str | None = None
    size_param: str | None = None
    size: int | None = None
    start: int = 0
    stop: str = "empty"  # empty | short
    total: str | None = None  # JMESPath to the number of items in all pages
    next: str | None = None  # JMESPath to the next page's URL (next_link)
    max_pages: int = 50


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: Template
    headers: tuple[tuple[str, Entry], ...] = ()
    query: tuple[tuple[str, Entry], ...] = ()
    body: Any = None  # JSON with templates at the leaves
    basic_auth: tuple[Template, Template, Condition | None] | None = None
    timeout: float | Template = 10.0
    verify_tls: bool | Template = True
    pagination: Pagination | None = None


@dataclass(frozen=True, slots=True)
class Extract:
    """Where the alert list is in a response: JMESPath (JSONPath is translated)."""

    expression: str  # as written
    jmespath: str
    error: str | None = None  # JMESPath: a non-null result is the source's error message


def _entries(data: Any, where: str) -> tuple[tuple[str, Entry], ...]:
    if data is None:
        return ()
    if not isinstance(data, Mapping):
        raise fail(where, "expected a mapping of names to templates")
    out: list[tuple[str, Entry]] = []
    for name, spec in data.items():
        w = f"{where}.{name}"
        if isinstance(spec, list):  # a repeated query parameter: one entry per value
            out += [(str(name), _entry(v, f"{w}[{i}]")) for i, v in enumerate(spec)]
        else:
            out.append((str(name), _entry(spec, w)))
    return tuple(out)


def _entry(spec: Any, where: str) -> Entry:
    if isinstance(spec, Mapping):
        check_keys(spec, where, ("value", "when"), ("value",))
        when = condition_field(spec["when"], f"{where}.when") if spec.get("when") else None
        return Entry(template_field(scalar_text(spec["value"]), f"{where}.value"), when)
    return Entry(template_field(scalar_text(spec), where))


def _body(data: Any, where: str, depth: int = 0) -> Any:
    if depth > 20:
        raise fail(where, "nested too deeply")
    if isinstance(data, Mapping):
        return {str(k): _body(v, f"{where}.{k}", depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [_body(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(data)]
    if isinstance(data, str):
        return template_field(data, where)
    if data is None or isinstance(data, bool | int | float):
        return data
    raise fail(where, f"unsupported value {type(data).__name__}")


def _pagination(data: Any, where: str) -> Pagination:
    keys = ("type", "param", "size_param", "size", "start", "stop", "total", "next", "max_pages")
    check_keys(data, where, keys, ("type",))
    kind = str(data["type"])
    if kind not in ("page", "offset", "next_link"):
        raise fail(f"{where}.type", "one of page, offset, next_link")
    stop = str(data.get("stop", "empty"))
    if stop not in ("empty", "short"):
        raise fail(f"{where}.stop", "one of empty (a page with no items) or short")
    size = data.get("size")
    if size is not None:
        size = int(number_field(size, f"{where}.size", 1, 100_000))
    if stop == "short" and size is None:
        raise fail(f"{where}.size", "stop: short needs the page size")
    if kind == "next_link" and not data.get("next"):
        raise fail(f"{where}.next", "a next_link pagination names the next link (JMESPath)")
    if kind != "next_link" and not data.get("param"):
        raise fail(f"{where}.param", f"a {kind} pagination names its query parameter")
    return Pagination(
        type=kind,
        param=str(data["param"]) if data.get("param") else None,
        size_param=str(data["size_param"]) if data.get("size_param") else None,
        size=size,
        start=int(
            number_field(data.get("start", 1 if kind == "page" else 0), f"{where}.start", 0, 1e9)
        ),
        stop=stop,
        total=text_field(data, "total", f"{where}.total", limit=500) if data.get("total") else None,
        next=text_field(data, "next", f"{where}.next", limit=500) if data.get("next") else None,
        max_pages=int(number_field(data.get("max_pages", 50), f"{where}.max_pages", 1, 10_000)),
    )


def parse_request(data: Any, where: str = "request") -> Request:
    keys = ("method", "url", "headers", "query", "body", "basic_auth", "timeout", "verify_tls")
    check_keys(data, where, (*keys, "pagination"), ("url",))
    method = str(data.get("method", "GET")).upper()
    if method not in _HTTP_METHODS:
        raise fail(f"{where}.method", f"one of {', '.join(_HTTP_METHODS)}")
    auth = None
    if data.get("basic_auth") is not None:
        w = f"{where}.basic_auth"
        spec = data["basic_auth"]
        check_keys(spec, w, ("username", "password", "when"), ("username", "password"))
        when = condition_field(spec["when"], f"{w}.when") if spec.get("when") else None
        auth = (
            template_field(spec["username"], f"{w}.username"),
            template_field(spec["password"], f"{w}.password"),
            when,
        )
    verify = data.get("verify_tls", True)
    return Request(
        method=method,
        url=template_field(data["url"], f"{where}.url"),
        headers=_entries(data.get("headers"), f"{where}.headers"),
        query=_entries(data.get("query"), f"{where}.query"),
        body=_body(data["body"], f"{where}.body") if data.get("body") is not None else None,
        basic_auth=auth,
        timeout=literal_or_template(data.get("timeout", 10.0), f"{where}.timeout", 0.1, 110),
        verify_tls=(
            template_field(verify, f"{where}.verify_tls")
            if isinstance(verify, str)
            else bool_field(verify, f"{where}.verify_tls")
        ),
        pagination=(
            _pagination(data["pagination"], f"{where}.pagination")
            if data.get("pagination") is not None
            else None
        ),
    )


_JSONPATH_STEP = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|\.(?P<star>\*)|\[(?P<index>-?\d+)\]|\[\*\]"
    r"|\['(?P<q1>[^']*)'\]|\[\"(?P<q2>[^\"]*)\"\]"
)


def jsonpath_to_jmespath(text: str) -> str:
    """The JSONPath subset ``$ .name ['name'] [n] [*] .*`` as a JMESPath expression."""
    text = text.strip()
    if not text.startswith("$"):
        raise ValidationError(f"a JSONPath starts with $: {text!r}")
    out: list[str] = []
    i = 1
    while i < len(text):
        if text.startswith("..", i):
            raise ValidationError("recursive descent (..) is not supported; use JMESPath")
        m = _JSONPATH_STEP.match(text, i)
        if m is None:
            raise ValidationError(
                f"unsupported JSONPath at {text[i:]!r} (supported: .name ['name'] [n] [*] .*)"
            )
        name = m.group("name") or m.group("q1") or m.group("q2")
        if name is not None:
            quoted = name if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) else _quote(name)
            out.append(("." if out else "") + quoted)
        elif m.group("star"):
            out.append(".*" if out else "*")
        elif m.group("index") is not None:
            out.append(f"[{m.group('index')}]")
        else:
            out.append("[*]")
        i = m.end()
    return "".join(out) or "@"


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_extract(data: Any, where: str = "extract") -> Extract:
    check_keys(data, where, ("jmespath", "jsonpath", "error"))
    if ("jmespath" in data) == ("jsonpath" in data):
        raise fail(where, "give one of jmespath or jsonpath")
    error = text_field(data, "error", f"{where}.error", limit=500) if data.get("error") else None
    if "jsonpath" in data:
        written = text_field(data, "jsonpath", f"{where}.jsonpath", limit=500)
        try:
            return Extract(written, jsonpath_to_jmespath(written), error)
        except ValidationError as exc:
            raise fail(f"{where}.jsonpath", str(exc)) from None
    written = text_field(data, "jmespath", f"{where}.jmespath", limit=500)
    return Extract(written, written, error)
