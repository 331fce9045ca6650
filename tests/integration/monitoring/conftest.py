"""A real SNMP agent whose values the test sets (snmpsim writecache), shared per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.snmpsim import DynamicAgent, start_dynamic_agent


@pytest.fixture(scope="module")
def dyn_agent() -> Iterator[DynamicAgent]:
    agent = start_dynamic_agent(devices=3)
    try:
        yield agent
    finally:
        agent.stop()
