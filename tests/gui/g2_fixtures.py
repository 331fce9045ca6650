"""Fixtures of the Groups, Logs and Settings GUI tests: a core on SQLite, helpers.

The qasync loop is conftest.py's ``qloop`` (a ``TestLoop`` that keeps asyncio's running
loop set between ``run_until_complete`` calls and fails a test on unexpected task errors).

GUI tests are plain (sync) functions: coroutines run on a ``qasync.QEventLoop`` through
``loop.run_until_complete`` and ``wait_until``; pytest-asyncio's loop is never used here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.rules import parse
from opsconductor_desktop.domain.targets import TargetKind, TargetSpec
from opsconductor_desktop.gui import tasks
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import Core, open_core

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture
def gcore(qloop: qasync.QEventLoop, tmp_path: Path) -> Iterator[Core]:
    """A core on a fresh SQLite file; the keyring is the in-memory one of tests/conftest.py."""
    core = qloop.run_until_complete(
        open_core(
            home=tmp_path / "home",
            db_url=f"sqlite:///{tmp_path}/x.db",
            secrets=SecretStore(),
            actor="tester",
        )
    )
    try:
        yield core
    finally:
        qloop.run_until_complete(core.close())


def wait_until(
    loop: qasync.QEventLoop, predicate: Callable[[], Any], timeout: float = 10.0
) -> None:
    """Run the loop until ``predicate()`` is true (the timeout only guards against hangs)."""

    async def poll() -> None:
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"condition not reached: {predicate}")
            await asyncio.sleep(0.01)

    loop.run_until_complete(poll())


def run(loop: qasync.QEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


def settle(loop: qasync.QEventLoop) -> None:
    """Let spawned tasks and queued callbacks finish."""
    wait_until(loop, lambda: tasks.pending() == 0)


def screenshot(widget: QWidget, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    widget.grab().save(str(path))
    return path


SITES = ("ams1", "fra2", "lon1", "lab")
VENDORS = {
    TargetKind.ROUTER: "cisco",
    TargetKind.SWITCH: "arista",
    TargetKind.FIREWALL: "paloalto",
    TargetKind.SERVER: "dell",
}


async def small_estate(core: Core, per_site: int = 6) -> None:
    """A few dozen realistic targets over four sites, plus two groups."""
    n = 0
    kinds = list(VENDORS)
    for s, site in enumerate(SITES):
        for i in range(per_site):
            kind = kinds[i % len(kinds)]
            n += 1
            tags = ["core"] if kind is TargetKind.ROUTER else []
            if kind is TargetKind.SWITCH and i % 2:
                tags.append("access")
            tags.append("prod" if site != "lab" else "test")
            await core.inventory.create_target(
                TargetSpec(
                    name=f"{site}-{kind.value[:3]}-{i + 1:02d}",
                    address=f"10.{20 + s}.{i // 4}.{10 + i}",
                    kind=kind,
                    vendor=VENDORS[kind],
                    model={"cisco": "ASR1001-X", "arista": "7050SX3", "paloalto": "PA-3220"}.get(
                        VENDORS[kind], "R740"
                    ),
                    site=site,
                    tags=tuple(tags),
                )
            )
    await core.inventory.create_group(
        GroupSpec("core-routers", "WAN edge and core routing", parse("tag:core and not site:lab"))
    )
    await core.inventory.create_group(
        GroupSpec("maintenance-window-a", "Patched Tuesday nights"),
        members=["ams1-ser-04", "fra2-ser-04"],
    )
