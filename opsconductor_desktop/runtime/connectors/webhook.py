"""The webhook receiver: a local HTTP listener for sources that push their alerts.

``POST`` to any path on the connector's ``address:port`` with the token as
``Authorization: Bearer TOKEN`` (or ``?token=TOKEN``); anything else is refused with 401.
The body is JSON: Alertmanager's webhook payload (``{"alerts": [...], "status": ...}``),
a list of alerts, or one alert object — the manifest's ``extract`` (default
``alerts || @``) finds the list and its ``mapping`` maps each item, with the same rules as
a polled source. Alerts go to the one alert manager through an ``AlertBatcher`` (bounded;
drops counted and summarized); items that cannot be mapped are counted as rejected and
kept in the bounded ``recent`` list.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
from typing import Any

from aiohttp import web

from opsconductor_desktop.domain.connectors import Extract
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.connectors.http_poll import parse_json
from opsconductor_desktop.runtime.connectors.mapping import (
    Extractor,
    ItemError,
    ItemMapper,
    SourceError,
)
from opsconductor_desktop.runtime.connectors.receivers import ReceiverSetup
from opsconductor_desktop.runtime.receivers.base import AlertBatcher, ReceiverCounters, RecentList

log = logging.getLogger(__name__)

DEFAULT_EXTRACT = Extract("alerts || @", "alerts || @")
MAX_BODY = 4 << 20


class WebhookReceiver:
    """See the module docstring; a ``Receiver``."""

    def __init__(self, setup: ReceiverSetup, *, max_body: int = MAX_BODY) -> None:
        settings = setup.settings
        token = settings.get("token")
        if not isinstance(token, str) or not token:
            raise OpsError(
                f"the webhook connector {setup.name} needs a token: "
                f"opsconductor connectors set {setup.name} token=-"
            )
        self.setup = setup
        self.address = str(settings.get("address") or "127.0.0.1")
        self.port = int(settings.get("port") or 9095)
        self.max_body = max_body
        self._token = token.encode()
        self.mapper = ItemMapper(setup.manifest, setup.name, settings)
        self.extractor = Extractor(setup.manifest.extract or DEFAULT_EXTRACT, single_is_list=True)
        self.counters = ReceiverCounters()
        self.recent = RecentList()
        self.batcher = AlertBatcher(setup.sink, self.counters, source=setup.source)
        self._runner: web.AppRunner | None = None
        self._flusher: asyncio.Task[None] | None = None

    @property
    def bound(self) -> tuple[str, int]:
        """The address and port listened on (the real port when 0 was asked)."""
        if self._runner is not None:
            for addr in self._runner.addresses:
                if isinstance(addr, tuple):
                    return str(addr[0]), int(addr[1])
        return self.address, self.port

    async def start(self) -> None:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.address, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise OpsError(_bind_message(self.address, self.port, exc)) from None
        self._runner = runner
        self._flusher = asyncio.create_task(self.batcher.run(), name=f"webhook {self.setup.name}")
        log.info("webhook %s listening on %s:%s", self.setup.name, *self.bound)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else ""
        given = given or request.query.get("token", "")
        return bool(given) and hmac.compare_digest(given.encode(), self._token)

    def _reject(self, status: int, message: str, peer: str | None) -> web.Response:
        self.counters.rejected += 1
        self.counters.last_error = f"{message} (from {peer or '?'})"
        self.recent.add({"at": utcnow().isoformat(), "from": peer, "error": message})
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return web.json_response({"error": message}, status=status, headers=headers)

    async def _handle(self, request: web.Request) -> web.Response:
        peer = request.remote
        if not self._authorized(request):
            return self._reject(401, "a valid token is required (Authorization: Bearer)", peer)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, f"body larger than {self.max_body} bytes", peer)
        try:
            items = self.extractor.items(parse_json(raw, request.content_type, "the body"))
        except SourceError as exc:
            return self._reject(400, str(exc), peer)
        accepted = rejected = held = 0
        for item in items:
            self.counters.received += 1
            outcome = self._one(item, peer)
            accepted += outcome == "accepted"
            rejected += outcome == "rejected"
            held += outcome == "held"
        body = {"received": len(items), "accepted": accepted, "held": held, "rejected": rejected}
        return web.json_response(body)

    def _one(self, item: Any, peer: str | None) -> str:
        try:
            mapped = self.mapper.map(item)
        except ItemError as exc:
            self.counters.rejected += 1
            self.counters.last_error = str(exc)
            self.recent.add({"at": utcnow().isoformat(), "from": peer, "error": str(exc)})
            return "rejected"
        if mapped.held:
            return "held"
        rule = self.mapper.mapping.target
        target = self.setup.targets.resolve(rule, mapped.target_value)
        if not self.batcher.put(self.mapper.finish(mapped, target)):
            return "rejected"
        self.counters.matched += 1
        return "accepted"


def _bind_message(address: str, port: int, exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"cannot listen on {address}:{port}: a port under 1024 needs privilege; "
            "choose a port above 1024"
        )
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {address}:{port}: the port is in use by another program"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {address}:{port}: this machine has no such address"
    return f"cannot listen on {address}:{port}: {exc.strerror or exc}"
