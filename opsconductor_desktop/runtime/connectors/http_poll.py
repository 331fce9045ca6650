"""Asking an ``http_poll`` source for its alerts: request, pages, retries, a deadline.

Every request has a timeout; transport errors, timeouts, HTTP 429 and 5xx are retried
``resilience.retries`` times with a doubling backoff (capped at 30 s); the whole poll has a
``deadline`` (under the dispatcher's lease). An answer that is not JSON (a login page, a
proxy error), is too large, redirects, or carries the source's own error becomes a
``SourceError`` whose message says what happened and where — the host and path only: the
query string (which may hold an API token) never appears in a message.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from opsconductor_desktop import __version__
from opsconductor_desktop.domain.connector_templates import (
    Condition,
    MissingFieldError,
    Template,
    as_text,
)
from opsconductor_desktop.domain.connectors import Manifest, Pagination, Request
from opsconductor_desktop.runtime.connectors.mapping import (
    Extractor,
    SourceError,
    compile_jmespath,
    search,
)

BACKOFF_CAP = 30.0
# httpx logs every request's full URL at INFO, query string included — where PRTG's
# apitoken or passhash travel; the engine reports requests itself, without the query
logging.getLogger("httpx").setLevel(logging.WARNING)
_HINTS = {
    401: ": check the token or credentials",
    403: ": the account may not read this",
    404: ": check the URL (and the API path of this version)",
    429: ": the source asks to slow down",
}


@dataclass(frozen=True, slots=True)
class Fetched:
    """The items of every page; ``complete`` is false when a limit cut the list short."""

    items: list[Any]
    pages: int
    complete: bool = True
    note: str = ""


def where(url: str) -> str:
    """``scheme://host:port/path`` of a URL: never its query or user information."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}"


def _render(template: Template, ctx: Mapping[str, Any], field: str) -> str:
    try:
        return template.render(ctx)
    except MissingFieldError as exc:
        raise SourceError(f"{field}: {_missing(exc)}") from None


def _missing(exc: MissingFieldError) -> str:
    if exc.path.startswith("settings."):
        return f"the setting {exc.path.split('.')[1]} is not set"
    return str(exc)


def _holds(condition: Condition | None, ctx: Mapping[str, Any]) -> bool:
    return condition is None or condition.evaluate(ctx)


def render_body(body: Any, ctx: Mapping[str, Any], field: str = "request.body") -> Any:
    if isinstance(body, Template):
        try:
            return body.value(ctx)
        except MissingFieldError as exc:
            raise SourceError(f"{field}: {_missing(exc)}") from None
    if isinstance(body, dict):
        return {k: render_body(v, ctx, f"{field}.{k}") for k, v in body.items()}
    if isinstance(body, list):
        return [render_body(v, ctx, f"{field}[{i}]") for i, v in enumerate(body)]
    return body


def resolve_number(value: float | Template, ctx: Mapping[str, Any], field: str) -> float:
    if not isinstance(value, Template):
        return value
    text = _render(value, ctx, field)
    try:
        return float(text)
    except ValueError:
        raise SourceError(f"{field}: {text!r} is not a number") from None


def resolve_bool(value: bool | Template, ctx: Mapping[str, Any], field: str) -> bool:
    if not isinstance(value, Template):
        return value
    text = _render(value, ctx, field).strip().lower()
    if text not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        raise SourceError(f"{field}: {text!r} is not true or false")
    return text in ("true", "yes", "1", "on")


@dataclass(frozen=True, slots=True)
class _Prepared:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    auth: tuple[str, str] | None


class HttpPoller:
    """Fetches the alert list of one manifest with resolved settings (secrets included:
    they go into headers, query and body only — never into a message)."""

    def __init__(
        self,
        manifest: Manifest,
        settings: Mapping[str, Any],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if manifest.request is None or manifest.extract is None:
            raise SourceError(f"the manifest {manifest.id} has no request")
        self.manifest = manifest
        self.request: Request = manifest.request
        self.extractor = Extractor(manifest.extract)
        self.ctx: dict[str, Any] = {"settings": dict(settings)}
        self.transport = transport
        self.sleep = sleep
        p = self.request.pagination
        self.next_expr = compile_jmespath(p.next, "next") if p and p.next else None
        self.total_expr = compile_jmespath(p.total, "total") if p and p.total else None
        self.timeout = resolve_number(self.request.timeout, self.ctx, "request.timeout")
        self.verify = resolve_bool(self.request.verify_tls, self.ctx, "request.verify_tls")

    async def fetch(self) -> Fetched:
        deadline = self.manifest.resilience.deadline
        try:
            async with asyncio.timeout(deadline):
                async with httpx.AsyncClient(
                    transport=self.transport,
                    verify=self.verify,
                    timeout=httpx.Timeout(self.timeout),
                    follow_redirects=False,
                    headers={"User-Agent": f"OpsConductor-Desktop/{__version__}"},
                ) as client:
                    return await self._pages(client)
        except TimeoutError:
            raise SourceError(f"gave up after {deadline:g} s (resilience.deadline)") from None

    def prepare(self, page: Mapping[str, Any], url: str | None = None) -> _Prepared:
        r = self.request
        ctx = {**self.ctx, "page": page}
        target = url or _render(r.url, ctx, "request.url")
        if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).netloc:
            raise SourceError(f"request.url: {where(target)!r} is not an http(s) URL")
        headers = {
            name: _render(e.value, ctx, f"request.headers.{name}")
            for name, e in r.headers
            if _holds(e.when, ctx)
        }
        query: list[tuple[str, str]] = []
        if url is None:
            query = [
                (name, _render(e.value, ctx, f"request.query.{name}"))
                for name, e in r.query
                if _holds(e.when, ctx)
            ]
            query += _page_params(r.pagination, page)
        if query:  # merged into the URL's own query (a next link keeps its query as given)
            target = str(httpx.URL(target).copy_merge_params(httpx.QueryParams(tuple(query))))
        content = None
        if r.body is not None:
            content = json.dumps(render_body(r.body, ctx)).encode()
            if not any(h.lower() == "content-type" for h in headers):
                headers["Content-Type"] = "application/json"
        auth = None
        if r.basic_auth is not None and _holds(r.basic_auth[2], ctx):
            auth = (
                _render(r.basic_auth[0], ctx, "request.basic_auth.username"),
                _render(r.basic_auth[1], ctx, "request.basic_auth.password"),
            )
        return _Prepared(r.method, target, headers, content, auth)

    async def _pages(self, client: httpx.AsyncClient) -> Fetched:
        p = self.request.pagination
        limit = self.manifest.resilience.max_items
        start = p.start if p else 0
        page: dict[str, Any] = {"number": start, "offset": start, "size": p.size if p else None}
        items: list[Any] = []
        pages = 0
        url: str | None = None
        while True:
            prepared = self.prepare(page, url)
            doc = await self._with_retries(client, prepared)
            pages += 1
            found = self.extractor.items(doc)
            items.extend(found)
            if len(items) > limit:
                return Fetched(items[:limit], pages, False, f"more than {limit} items")
            if p is None:
                return Fetched(items, pages)
            if p.type == "next_link":
                link = search(self.next_expr, doc) if self.next_expr else None
                if not link or not isinstance(link, str):
                    return Fetched(items, pages)
                url = _same_origin(prepared.url, urljoin(prepared.url, link))
            elif self._last_page(p, found, doc, page):
                return Fetched(items, pages)
            else:
                page = {
                    "number": page["number"] + 1,
                    "offset": page["offset"] + (p.size or len(found)),
                    "size": p.size,
                }
            if pages >= p.max_pages:
                return Fetched(items, pages, False, f"stopped after {p.max_pages} pages")

    def _last_page(
        self, p: Pagination, found: list[Any], doc: Any, page: Mapping[str, Any]
    ) -> bool:
        if not found or (p.stop == "short" and p.size is not None and len(found) < p.size):
            return True
        if self.total_expr is not None:
            total = search(self.total_expr, doc)
            if isinstance(total, int | float | str):
                try:
                    return bool(page["offset"] + len(found) >= float(total))
                except ValueError:
                    return False
        return False

    async def _with_retries(self, client: httpx.AsyncClient, prepared: _Prepared) -> Any:
        res = self.manifest.resilience
        for attempt in range(res.retries + 1):
            try:
                return await self._once(client, prepared)
            except SourceError as exc:
                if not exc.retryable or attempt == res.retries:
                    raise
                await self.sleep(min(BACKOFF_CAP, res.backoff * 2**attempt))
        raise AssertionError("unreachable")

    async def _once(self, client: httpx.AsyncClient, p: _Prepared) -> Any:
        at = where(p.url)
        try:
            async with asyncio.timeout(self.timeout):
                raw, status, ctype, location = await self._exchange(client, p)
        except (TimeoutError, httpx.TimeoutException):
            raise SourceError(
                f"no answer from {at} within {self.timeout:g} s", retryable=True
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise SourceError(f"bad URL {at}: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise SourceError(f"cannot reach {at}: {_reason(exc)}", retryable=True) from None
        if 300 <= status < 400:
            raise SourceError(f"{at} redirects to {where(location or '?')}: use that URL")
        if status >= 400:
            hint = _HINTS.get(status, "")
            raise SourceError(
                f"HTTP {status} {_phrase(status)} from {at}{hint}",
                retryable=status == 429 or status >= 500,
            )
        doc = parse_json(raw, ctype, at)
        reported = self.extractor.error(doc)
        if reported:
            raise SourceError(f"{at} reported an error: {reported[:300]}")
        return doc

    async def _exchange(
        self, client: httpx.AsyncClient, p: _Prepared
    ) -> tuple[bytes, int, str, str | None]:
        limit = self.manifest.resilience.max_bytes
        async with client.stream(
            p.method, p.url, headers=p.headers, content=p.content, auth=p.auth
        ) as resp:
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise SourceError(
                        f"the answer of {where(p.url)} is larger than {limit} bytes "
                        "(resilience.max_bytes)"
                    )
                chunks.append(chunk)
                if resp.status_code >= 300 and size > 4096:
                    break
            ctype = resp.headers.get("content-type", "")
            return b"".join(chunks), resp.status_code, ctype, resp.headers.get("location")


def _page_params(p: Pagination | None, page: Mapping[str, Any]) -> list[tuple[str, str]]:
    if p is None or p.type == "next_link":
        return []
    out = []
    if p.param:
        out.append((p.param, str(page["number"] if p.type == "page" else page["offset"])))
    if p.size_param and p.size:
        out.append((p.size_param, str(p.size)))
    return out


def _same_origin(current: str, nxt: str) -> str:
    a, b = urlsplit(current), urlsplit(nxt)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        raise SourceError(
            f"the next page link points to another server ({where(nxt)}); not followed"
        )
    return nxt


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.splitlines()[0][:200]


def _phrase(status: int) -> str:
    try:
        from http import HTTPStatus

        return HTTPStatus(status).phrase
    except ValueError:
        return ""


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def parse_json(raw: bytes, content_type: str, at: str) -> Any:
    """The JSON document of an answer, or a ``SourceError`` saying what came instead."""
    if not raw.strip():
        raise SourceError(f"{at} answered an empty body, not JSON")
    try:
        return json.loads(raw)
    except RecursionError:
        raise SourceError(f"{at} answered JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise SourceError(f"{at} answered binary data, not JSON") from None
    except ValueError as exc:
        head = raw.lstrip()[:1]
        if "html" in content_type.lower() or head == b"<":
            title = _TITLE.search(raw[:65536])
            named = ""
            if title:
                text = html.unescape(title.group(1).decode("utf-8", "replace")).strip()
                named = f" (page title {as_text(text[:80])!r})" if text else ""
            raise SourceError(
                f"{at} answered HTML, not JSON{named}: a login page, a proxy or a wrong URL?"
            ) from None
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        line = f" at line {exc.lineno} column {exc.colno}" if isinstance(
            exc, json.JSONDecodeError
        ) else ""  # fmt: skip
        raise SourceError(f"{at} answered invalid JSON: {detail}{line}") from None
