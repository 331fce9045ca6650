"""Waiting for an event with a timeout, cancellably.

On Python 3.11 ``asyncio.wait_for`` can swallow a cancellation that arrives as the inner
wait completes (bpo-37658, fixed in 3.12), so a task cancelled at that moment would keep
running. ``asyncio.timeout`` has no such window; every periodic loop waits through here.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass; True when it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
