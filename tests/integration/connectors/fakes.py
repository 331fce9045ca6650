"""Loopback stand-ins for the products the bundled manifests talk to.

Each answers in the product's documented format: Alertmanager API v2 ``GET
/api/v2/alerts`` (a list of gettable alerts), PRTG ``/api/table.json?content=sensors``
(``treesize`` and ``sensors`` with ``_raw`` columns, filtered by ``filter_status``, paged by
``start``/``count``, authenticated by ``apitoken`` or ``username``+``passhash``), Zabbix
JSON-RPC ``problem.get`` at ``/api_jsonrpc.php`` (``Authorization: Bearer``; errors as a
JSON-RPC ``error`` object with HTTP 200). ``mode`` makes a source misbehave: ``down``
(503), ``html`` (a login page), ``invalid`` (broken JSON), ``slow`` (no answer in time).

The server runs in its own thread and event loop, so both async tests and the in-process
CLI (which runs ``asyncio.run``) can use it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Fake:
    """What the fake products serve; tests change it between polls."""

    token: str = "s3cret-token"
    mode: str = "ok"
    am_alerts: list[dict[str, Any]] = field(default_factory=list)
    prtg_sensors: list[dict[str, Any]] = field(default_factory=list)
    zabbix_problems: list[dict[str, Any]] = field(default_factory=list)
    generic: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""


def am_alert(
    name: str,
    instance: str,
    severity: str = "critical",
    state: str = "active",
    fp: str | None = None,
) -> dict[str, Any]:
    return {
        "annotations": {"summary": f"{name} on {instance}"},
        "endsAt": "2026-11-20T10:05:00.000Z",
        "fingerprint": fp or f"{abs(hash((name, instance))) % 16**16:016x}",
        "receivers": [{"name": "default"}],
        "startsAt": "2026-11-20T10:00:00.000Z",
        "status": {
            "inhibitedBy": [],
            "silencedBy": ["f3c1d7e0"] if state == "suppressed" else [],
            "state": state,
        },
        "updatedAt": "2026-11-20T10:01:00.000Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
        "labels": {"alertname": name, "instance": instance, "job": "node", "severity": severity},
    }


PRTG_STATUS = {3: "Up", 4: "Warning", 5: "Down", 10: "Unusual", 13: "Down (Acknowledged)"}


def prtg_sensor(objid: int, device: str, host: str, sensor: str, status: int) -> dict[str, Any]:
    text = PRTG_STATUS.get(status, "Unknown")
    return {
        "objid": objid,
        "objid_raw": objid,
        "device": device,
        "device_raw": device,
        "host": host,
        "host_raw": host,
        "sensor": sensor,
        "sensor_raw": sensor,
        "status": text,
        "status_raw": status,
        "message": f'<div class="status">{text}</div><div class="msg">OK</div>',
        "message_raw": "Request timed out (ICMP error # 11010)" if status == 5 else "OK",
        "lastvalue": "-",
        "lastvalue_raw": "",
        "priority": "3",
        "priority_raw": 3,
    }


def zabbix_problem(eventid: str, name: str, severity: str, host: str, suppressed: str = "0"):
    return {
        "eventid": eventid,
        "source": "0",
        "object": "0",
        "objectid": str(int(eventid) + 1000),
        "clock": "1731400000",
        "ns": "0",
        "r_eventid": "0",
        "r_clock": "0",
        "r_ns": "0",
        "correlationid": "0",
        "userid": "0",
        "name": name,
        "acknowledged": "0",
        "severity": severity,
        "suppressed": suppressed,
        "opdata": "",
        "urls": [],
        "tags": [{"tag": "host", "value": host}, {"tag": "scope", "value": "availability"}],
    }


async def _misbehave(fake: Fake) -> web.StreamResponse | None:
    if fake.mode == "down":
        return web.Response(status=503, text="Service Unavailable")
    if fake.mode == "html":
        page = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>login</body></html>"
        return web.Response(text=page, content_type="text/html")
    if fake.mode == "invalid":
        return web.Response(text='{"oops": [1, 2', content_type="application/json")
    if fake.mode == "slow":
        await asyncio.sleep(30)
    return None


def _app(fake: Fake) -> web.Application:
    async def alertmanager(request: web.Request) -> web.StreamResponse:
        fake.requests.append({"path": request.path, "query": dict(request.query)})
        if (bad := await _misbehave(fake)) is not None:
            return bad
        if request.headers.get("Authorization") != f"Bearer {fake.token}":
            return web.json_response({"code": 401, "message": "unauthorized"}, status=401)
        return web.json_response(fake.am_alerts)

    async def prtg(request: web.Request) -> web.StreamResponse:
        q = request.query
        fake.requests.append({"path": request.path, "query": list(q.items())})
        if (bad := await _misbehave(fake)) is not None:
            return bad
        authorized = q.get("apitoken") == fake.token or (
            q.get("username") == "noc" and q.get("passhash") == "1234567890"
        )
        if not authorized:
            return web.Response(status=401, text="<html><title>Unauthorized</title></html>")
        if q.get("content") != "sensors" or "status" not in q.get("columns", ""):
            return web.json_response({"error": "bad request"}, status=400)
        wanted = {int(s) for s in q.getall("filter_status", [])}
        sensors = [s for s in fake.prtg_sensors if not wanted or s["status_raw"] in wanted]
        start, count = int(q.get("start", 0)), int(q.get("count", 500))
        body = {
            "prtg-version": "24.1.92.1554",
            "treesize": len(sensors),
            "sensors": sensors[start : start + count],
        }
        return web.json_response(body)

    async def zabbix(request: web.Request) -> web.StreamResponse:
        fake.requests.append({"path": request.path, "headers": dict(request.headers)})
        if (bad := await _misbehave(fake)) is not None:
            return bad
        if request.content_type not in ("application/json-rpc", "application/json"):
            return web.Response(status=412, text="Precondition Failed")
        call = json.loads(await request.read())
        rid = call.get("id")
        if request.headers.get("Authorization") != f"Bearer {fake.token}":
            error = {"code": -32602, "message": "Invalid params.", "data": "Not authorized."}
            return web.json_response({"jsonrpc": "2.0", "error": error, "id": rid})
        if call.get("method") != "problem.get" or call.get("jsonrpc") != "2.0":
            error = {"code": -32601, "message": "Method not found.", "data": "bad method"}
            return web.json_response({"jsonrpc": "2.0", "error": error, "id": rid})
        problems = fake.zabbix_problems
        return web.json_response({"jsonrpc": "2.0", "result": problems, "id": rid})

    async def generic(request: web.Request) -> web.StreamResponse:
        fake.requests.append({"path": request.path, "query": dict(request.query)})
        if (bad := await _misbehave(fake)) is not None:
            return bad
        page = request.query.get("page")
        if page is not None:  # paged flavour: 2 items a page, then an empty page
            n = int(page)
            return web.json_response({"items": fake.generic[(n - 1) * 2 : n * 2]})
        return web.json_response(fake.generic)

    app = web.Application()
    app.router.add_get("/api/v2/alerts", alertmanager)
    app.router.add_get("/api/table.json", prtg)
    app.router.add_post("/api_jsonrpc.php", zabbix)
    app.router.add_get("/alerts", generic)
    return app


@contextmanager
def serve(fake: Fake) -> Iterator[Fake]:
    """Run the fake products on 127.0.0.1 in a thread until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(
            _app(fake), handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        host, port = runner.addresses[0][:2]
        fake.base = f"http://{host}:{port}"
        ready.set()

    async def stop() -> None:
        await holder["runner"].cleanup()
        # a handler still waiting (mode "slow") is cancelled and awaited here: a task left
        # pending would be destroyed later by the garbage collector, in whatever the test
        # thread is doing at that moment
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    thread = threading.Thread(target=loop.run_forever, name="fake products", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    ready.wait(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
