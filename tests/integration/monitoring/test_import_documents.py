"""Importing a monitoring file is all or nothing, on both dialects."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from opsconductor_desktop.domain.errors import DatabaseRefusedError
from opsconductor_desktop.services.monitoring import load_documents

FILE = """\
monitors:
  - name: ping-all
    kind: reachability
    select: {groups: [core]}
rules:
  - name: slow-ping
    metric: rtt_ms
    op: ">"
    threshold: 250
    severity: warning
"""

REFUSE_RULES = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON alert_rules "
        "BEGIN SELECT RAISE(ABORT, 'rules are refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'rules are refused'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON alert_rules FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


async def test_a_file_imports_whole_or_not_at_all(core: Any) -> None:
    docs = load_documents(FILE, "m.yaml")
    engine = core.ctx.db.engine
    statements = REFUSE_RULES[engine.dialect.name]
    async with engine.begin() as conn:  # the database itself refuses the rule
        for statement in statements:
            await conn.execute(sa.text(statement))
    with pytest.raises(DatabaseRefusedError, match="refused the change: .*rules are refused"):
        await core.monitoring.import_documents(docs)
    assert await core.monitoring.monitors() == []  # the monitor before it was rolled back
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TRIGGER refuse" + (
            " ON alert_rules" if engine.dialect.name == "postgresql" else ""
        )))  # fmt: skip
    outcomes = await core.monitoring.import_documents(docs)
    assert outcomes == [("monitor", "ping-all", "created"), ("rule", "slow-ping", "created")]
    again = await core.monitoring.import_documents(docs)
    assert [o for _, _, o in again] == ["unchanged", "unchanged"]
