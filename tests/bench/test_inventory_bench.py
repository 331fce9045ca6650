"""Benchmark: import 10,000 targets from CSV and list them as JSON, SQLite and PostgreSQL.

Run with ``make bench``. Goal (issue 2): 10,000 targets imported in under 2 s on SQLite.
Prints rows/s per phase; never asserts on time.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsconductor_desktop.cli import main

N = 10_000
KINDS = ("router", "switch", "firewall", "server", "ups", "camera")
SITES = ("AMS1", "FRA2", "LON1", "NYC3", "SIN1")


def make_csv(path: Path, n: int = N) -> Path:
    lines = ["name,address,kind,vendor,site,tags,groups,snmp_version,ssh_username"]
    for i in range(n):
        a, b = divmod(i, 250)
        lines.append(
            f"dev-{i:05d},10.{a // 250}.{a % 250}.{b + 1},{KINDS[i % 6]},Vendor{i % 7},"
            f"{SITES[i % 5]},bench;t{i % 10},bench,v2c,netops"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(*argv: str) -> tuple[int, float, int]:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, time.perf_counter() - start, len(out.getvalue())


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_import_and_list_10k(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "pg_url")
    csv_file = make_csv(tmp_path / "estate.csv")
    assert main(["--db", url, "groups", "add", "bench"]) == 0
    code, imp, _ = timed("--db", url, "targets", "import", str(csv_file))
    assert code == 0
    code, again, _ = timed("--db", url, "targets", "import", str(csv_file))
    assert code == 0
    code, listing, size = timed("--db", url, "targets", "list", "--format", "json")
    assert code == 0
    # the same import as a whole process (interpreter start and imports included)
    fresh = url if dialect != "sqlite" else f"sqlite:///{tmp_path / 'whole.db'}"
    if dialect == "sqlite":
        assert main(["--db", fresh, "groups", "add", "bench"]) == 0
        cmd = [
            sys.executable,
            "-m",
            "opsconductor_desktop",
            "--home",
            str(tmp_path / "h"),
            "--db",
            fresh,
            "targets",
            "import",
            str(csv_file),
        ]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        whole = time.perf_counter() - start
        print(f"\n[{dialect}] whole command `opsconductor targets import` (10k): {whole:.2f} s")
    goal = " (goal < 2 s)" if dialect == "sqlite" else ""
    print(
        f"\n[{dialect}] import {N} targets: {imp:.2f} s = {N / imp:,.0f} rows/s{goal}"
        f"\n[{dialect}] re-import (all unchanged): {again:.2f} s = {N / again:,.0f} rows/s"
        f"\n[{dialect}] list --format json: {listing:.2f} s = {N / listing:,.0f} rows/s"
        f" ({size / 1e6:.1f} MB)"
    )
