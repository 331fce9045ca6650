"""``wait_event``: set, timed out, and cancelled (the cancellation is never swallowed)."""

from __future__ import annotations

import asyncio

import pytest

from opsconductor_desktop.runtime.waiting import wait_event


async def test_set_and_timeout() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True


async def test_a_cancel_as_the_event_is_set_still_cancels() -> None:
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            await wait_event(event, 5)
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    event.set()  # the wait completes and the cancel arrives in the same loop pass
    task.cancel()
    with pytest.raises(asyncio.CancelledError):  # 3.11's wait_for: still running at 2 s
        async with asyncio.timeout(2):
            await task
    assert task.cancelled()
