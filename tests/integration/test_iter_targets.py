"""``InventoryService.iter_targets``: the chunked listing the Targets pane loads with."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.services.app import Core


async def test_chunks_hold_the_same_targets_as_list_targets(core: Core) -> None:
    inventory = core.inventory
    await inventory.create_target(TargetSpec("core-1", "10.0.0.1", tags=("core",)))
    await inventory.create_target(TargetSpec("edge-2", "10.0.0.2", parent="core-1"))
    for n in range(3, 12):
        await inventory.create_target(TargetSpec(f"sw{n}", f"10.0.1.{n}", site="ams"))
    await inventory.create_group(GroupSpec("cores", rule=rules.parse("tag:core")))
    await inventory.create_group(GroupSpec("picked"), members=["sw3", "edge-2"])

    chunks = [chunk async for chunk in inventory.iter_targets(chunk_size=4)]

    assert [len(c) for c in chunks] == [4, 4, 3]
    streamed = [t for chunk in chunks for t in chunk]
    assert streamed == await inventory.list_targets()  # values, groups and name order
    by_name = {t.name: t for t in streamed}
    assert by_name["core-1"].groups == ("cores",)
    assert by_name["edge-2"].groups == ("picked",)
    assert by_name["edge-2"].spec.parent == "core-1"


async def test_closing_early_and_bad_chunk_sizes(core: Core) -> None:
    for n in range(5):
        await core.inventory.create_target(TargetSpec(f"t{n}", f"192.0.2.{n + 1}"))
    async with aclosing(core.inventory.iter_targets(chunk_size=2)) as chunks:
        async for chunk in chunks:
            assert len(chunk) == 2
            break
    assert len(await core.inventory.list_targets()) == 5  # the session was released
    with pytest.raises(ValidationError):
        async for _ in core.inventory.iter_targets(chunk_size=0):
            pass
