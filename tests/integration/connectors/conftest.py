"""Fixtures: the fake products on loopback, and a core on SQLite whose retries do not wait."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconductor_desktop.secrets import SecretStore

from .fakes import Fake, serve


@pytest.fixture
def fake() -> Iterator[Fake]:
    with serve(Fake()) as running:
        yield running


@pytest.fixture
async def lite(sqlite_url: str, home: Path) -> AsyncIterator[Any]:
    """A core on SQLite; its connector service records backoff delays instead of sleeping."""
    from opsconductor_desktop.services.app import open_core

    core = await open_core(home=home, db_url=sqlite_url, secrets=SecretStore(), actor="tester")
    delays: list[float] = []

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    core.connectors.sleep = no_wait
    core.delays = delays  # type: ignore[attr-defined]
    try:
        yield core
    finally:
        await core.close()
