"""The ``opsconductor`` command end to end (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from opsconductor_desktop.cli import main
from opsconductor_desktop.paths import migrations_dir
from opsconductor_desktop.store import migrate


def run(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    *argv: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_db_upgrade_and_current(capsys: Any, db_url: str) -> None:
    code, out, _ = run(capsys, db_url, "db", "current")
    assert code == 0 and out.startswith("(empty)")
    code, out, _ = run(capsys, db_url, "db", "upgrade")
    head = migrate.head_revision(migrations_dir())
    assert code == 0 and f"-> {head}" in out
    code, out, _ = run(capsys, db_url, "db", "current", "--format", "json")
    data = json.loads(out)
    assert data["revision"] == data["head"] == head
    assert data["source"] == "--db"


def test_targets_crud(capsys: Any, db_url: str) -> None:
    assert (
        run(
            capsys,
            db_url,
            "targets",
            "add",
            "r1",
            "10.0.0.1",
            "--kind",
            "router",
            "--vendor",
            "Cisco",
            "--tags",
            "core,dc:ams",
            "--var",
            "role=edge",
        )[0]
        == 0
    )
    code, out, _ = run(capsys, db_url, "targets", "list", "--format", "json")
    (t,) = json.loads(out)
    assert t["name"] == "r1" and t["tags"] == ["core", "dc:ams"] and t["vars"] == {"role": "edge"}
    assert (
        run(
            capsys,
            db_url,
            "targets",
            "edit",
            "r1",
            "--add-tags",
            "edge",
            "--remove-tags",
            "core",
            "--disable",
            "--name",
            "r1-new",
        )[0]
        == 0
    )
    code, out, _ = run(capsys, db_url, "targets", "show", "r1-new", "--format", "json")
    shown = json.loads(out)
    assert shown["tags"] == ["dc:ams", "edge"] and shown["enabled"] is False
    assert shown["version"] == 2
    code, out, _ = run(capsys, db_url, "targets", "list")
    assert out.splitlines()[0].split() == [
        "NAME",
        "ADDRESS",
        "KIND",
        "VENDOR",
        "SITE",
        "TAGS",
        "ENABLED",
        "GROUPS",
    ]
    assert run(capsys, db_url, "targets", "rm", "r1-new")[0] == 0
    assert run(capsys, db_url, "targets", "list", "--format", "json")[1].strip() == "[]"


def test_bad_input_is_one_line_no_traceback(capsys: Any, db_url: str) -> None:
    code, out, err = run(capsys, db_url, "targets", "add", "r1", "10.0.0.300")
    assert code == 1
    assert err.strip() == "error: invalid address '10.0.0.300': not a valid IPv4 address"
    assert "Traceback" not in err
    code, _, err = run(capsys, db_url, "targets", "show", "nope")
    assert code == 1 and err.strip() == "error: no target named 'nope'"
    code, _, err = run(capsys, db_url, "groups", "add", "g", "--rule", "tag:")
    assert code == 1 and "no value" in err


def test_groups_commands(capsys: Any, db_url: str) -> None:
    for name, addr, site in (
        ("a1", "10.1.0.1", "ams"),
        ("a2", "10.1.0.2", "ams"),
        ("f1", "10.2.0.1", "fra"),
    ):
        assert run(capsys, db_url, "targets", "add", name, addr, "--site", site)[0] == 0
    assert run(capsys, db_url, "groups", "add", "ams", "--rule", "site:ams")[0] == 0
    assert run(capsys, db_url, "groups", "add", "mixed", "--members", "f1")[0] == 0
    assert run(capsys, db_url, "groups", "add-members", "mixed", "a1")[0] == 0
    code, out, _ = run(capsys, db_url, "groups", "list", "--format", "json")
    groups = {g["name"]: g for g in json.loads(out)}
    assert groups["ams"]["members"] == 2 and groups["ams"]["rule"] == "site:ams"
    assert groups["mixed"]["static_members"] == 2
    assert run(capsys, db_url, "groups", "rm-members", "mixed", "a1")[0] == 0
    assert run(capsys, db_url, "groups", "set-rule", "mixed", "site:fra or site:ams")[0] == 0
    code, out, _ = run(capsys, db_url, "groups", "show", "mixed", "--format", "json")
    assert json.loads(out)["member_names"] == ["a1", "a2", "f1"]
    assert run(capsys, db_url, "groups", "set-rule", "mixed", "--clear")[0] == 0
    assert run(capsys, db_url, "groups", "rm", "mixed", "ams")[0] == 0


def test_creds_secret_from_stdin_never_argv(
    capsys: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(
        capsys,
        db_url,
        "creds",
        "add",
        "lab",
        "--kind",
        "ssh-password",
        "--username",
        "ops",
        stdin="hunter2-secret\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    code, out, _ = run(capsys, db_url, "creds", "list", "--format", "json")
    assert json.loads(out)[0]["name"] == "lab"
    assert "hunter2" not in out
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"
    code, _, err = run(
        capsys, db_url, "creds", "add", "k", "--kind", "ssh-key", stdin=key, monkeypatch=monkeypatch
    )
    assert code == 0, err
    code, _, err = run(capsys, db_url, "creds", "add", "x", "--kind", "password")
    assert code == 1 and "unknown credential kind" in err
    assert run(capsys, db_url, "creds", "rm", "lab", "k")[0] == 0


def test_unreachable_database_is_one_line(capsys: Any) -> None:
    code = main(["--db", "postgresql://u:pw@127.0.0.1:9/x", "targets", "list"])
    _, err = capsys.readouterr()
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "cannot reach PostgreSQL" in err
    assert "pw@" not in err


def test_corrupt_sqlite_file_cli(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"garbage" * 500)
    code = main(["--db", f"sqlite:///{path}", "targets", "list"])
    _, err = capsys.readouterr()
    assert code == 1 and "corrupt" in err and "moved to" in err
    assert len(err.strip().splitlines()) == 1
    assert not path.exists() and list(tmp_path.glob("bad.db.corrupt-*"))


def test_schema_newer_than_code(capsys: Any, sqlite_url: str) -> None:
    import sqlite3

    assert main(["--db", sqlite_url, "db", "upgrade"]) == 0
    capsys.readouterr()
    sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).execute(
        "UPDATE alembic_version SET version_num='ffff'"
    ).connection.commit()
    code = main(["--db", sqlite_url, "targets", "list"])
    _, err = capsys.readouterr()
    assert code == 1 and "newer than this OpsConductor" in err


def test_default_database_lives_under_home(capsys: Any, home: Path) -> None:
    assert main(["targets", "add", "x", "10.0.0.1"]) == 0
    assert (home / "data" / "opsconductor.db").exists()
    assert (home / "logs" / "opsconductor.jsonl").exists()


def test_read_only_sqlite_file_is_one_clear_line(capsys: Any, tmp_path: Path) -> None:
    """A file the OS will not let us write (immutable here; read-only media in the field)."""
    import shutil
    import subprocess

    path = tmp_path / "ro.db"
    assert main(["--db", f"sqlite:///{path}", "targets", "add", "a", "10.0.0.1"]) == 0
    capsys.readouterr()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("cannot make the file immutable here (needs root and chattr)")
    try:
        code = main(["--db", f"sqlite:///{path}", "targets", "add", "b", "10.0.0.2"])
        _, err = capsys.readouterr()
        assert code == 1
        assert err.strip() == (
            f"error: the database file {path} is read-only: attempt to write a readonly database"
        )
        assert main(["--db", f"sqlite:///{path}", "targets", "list", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr()[0])[0]["name"] == "a"  # reads still work
    finally:
        subprocess.run([chattr, "-i", str(path)], check=False)
