"""The one in-process event bus: services publish typed events after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from opsconductor_desktop.domain.events import Changed

log = logging.getLogger(__name__)

Subscriber = Callable[[Changed], None]


class EventBus:
    """Synchronous fan-out of ``Changed`` events to subscribers.

    A failing subscriber is logged with its traceback and does not stop the others.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Changed) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", subscriber, event)
