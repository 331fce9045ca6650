"""``opsconductor db``: the schema; ``opsconductor demo``: a demo estate."""

from __future__ import annotations

import argparse

from opsconductor_desktop.cli.common import EXIT_OK, out, print_json
from opsconductor_desktop.services.app import Core

# ---- db -------------------------------------------------------------------------------------


async def cmd_db_upgrade(core: Core, args: argparse.Namespace) -> int:
    result = await core.upgrade()
    if result.before == result.after:
        print(f"database is at {result.after} (up to date)", file=out())
    else:
        print(f"upgraded {result.before or 'empty database'} -> {result.after}", file=out())
        if result.backup:
            print(f"backup: {result.backup}", file=out())
    return EXIT_OK


async def cmd_db_current(core: Core, args: argparse.Namespace) -> int:
    await core.ping()
    current, head = await core.db_revision(), await core.head_revision()
    state = "up to date" if current == head else f"head is {head}: run `opsconductor db upgrade`"
    if args.format == "json":
        print_json(
            {
                "database": str(core.db_info),
                "source": core.database.source,
                "revision": current,
                "head": head,
            }
        )
    else:
        print(f"{current or '(empty)'} ({state})", file=out())
        print(f"database: {core.db_info} (from {core.database.source})", file=out())
    return EXIT_OK


# ---- demo -----------------------------------------------------------------------------------


async def cmd_demo(core: Core, args: argparse.Namespace) -> int:
    from opsconductor_desktop.services import demo

    summary = await demo.populate(core, targets=args.targets, seed=args.seed)
    for line in summary.lines():
        print(line, file=out())
    return EXIT_OK
