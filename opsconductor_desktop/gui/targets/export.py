"""Exporting targets to CSV or JSON, as ``opsconductor targets export`` does."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path
from uuid import UUID

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.services import inventory_formats as formats
from opsconductor_desktop.services.app import Core


def format_for(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in ("", ".csv"):
        return "csv"
    if suffix == ".json":
        return "json"
    raise ValidationError(f"cannot export to {suffix!r} files: name the file .csv or .json")


async def export_text(
    core: Core, fmt: str, only: Collection[UUID] | None = None
) -> tuple[str, int]:
    """The export document and how many targets it holds (static groups, like the CLI)."""
    estate = await core.inventory.estate()
    static: dict[UUID, list[str]] = {}
    for gid, members in estate.static.items():
        for tid in members:
            static.setdefault(tid, []).append(estate.group_rows[gid].name)
    targets = [t for t in estate.targets() if only is None or t.id in only]
    rows = [(t.spec, sorted(static.get(t.id, ()))) for t in targets]
    if fmt == "csv":
        return formats.export_csv(rows), len(rows)
    groups = [
        formats.ImportGroup(g.name, dict(g.vars), ())
        for g in await core.inventory.list_groups()
        if g.vars
    ]
    return formats.export_json(rows, groups), len(rows)


async def export_to_file(core: Core, path: str, only: Collection[UUID] | None = None) -> int:
    """Write the export to ``path``; the number of targets written."""
    text, count = await export_text(core, format_for(path), only)
    await asyncio.to_thread(Path(path).write_text, text, encoding="utf-8", newline="")
    return count
