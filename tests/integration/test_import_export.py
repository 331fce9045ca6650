"""Import and export through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opsconductor_desktop.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def run(capsys: Any, db_url: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: Any, db_url: str) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, db_url, "targets", "list", "--format", "json")
    assert code == 0
    return list(json.loads(out))


def test_csv_import_twice_is_idempotent(capsys: Any, db_url: str) -> None:
    assert run(capsys, db_url, "groups", "add", "core")[0] == 0
    code, out, err = run(capsys, db_url, "targets", "import", str(DATA / "estate.csv"))
    assert code == 0, err
    assert "created 3" in out
    targets = {t["name"]: t for t in listed(capsys, db_url)}
    assert targets["ams-acc-01"]["parent"] == "ams-core-01"
    assert targets["ams-acc-01"]["snmp_version"] == "v2c"
    assert targets["ups-ams-01"]["enabled"] is False
    assert targets["ups-ams-01"]["snmp_port"] == 1161
    assert targets["ams-core-01"]["groups"] == ["core"]
    assert targets["ams-core-01"]["description"] == "Core router, rack A1"
    code, out, _ = run(capsys, db_url, "targets", "import", str(DATA / "estate.csv"))
    assert code == 0 and "created 0, updated 0, unchanged 3" in out


def test_bad_rows_write_nothing_and_are_reported(capsys: Any, db_url: str) -> None:
    code, out, err = run(capsys, db_url, "targets", "import", str(DATA / "bad.csv"))
    assert code == 1
    assert "wrote nothing" in out
    lines = err.strip().splitlines()
    assert any(line.startswith("bad.csv:3") and "10.0.0.300" in line for line in lines)
    assert any(line.startswith("bad.csv:4") and "repeated" in line for line in lines)
    assert any(line.startswith("bad.csv:5") and "malformed tag" in line for line in lines)
    assert any(line.startswith("bad.csv:6") and "unknown group" in line for line in lines)
    assert listed(capsys, db_url) == []
    code, out, _ = run(capsys, db_url, "targets", "import", str(DATA / "bad.csv"), "--skip-invalid")
    assert code == 1 and "created 1" in out
    assert [t["name"] for t in listed(capsys, db_url)] == ["good-1"]


def test_conflicts_need_update(capsys: Any, db_url: str, tmp_path: Path) -> None:
    assert run(capsys, db_url, "groups", "add", "core")[0] == 0
    assert run(capsys, db_url, "targets", "import", str(DATA / "estate.csv"))[0] == 0
    changed = (DATA / "estate.csv").read_text().replace("ASR1001-X", "ASR9001")
    (tmp_path / "changed.csv").write_text(changed)
    code, _, err = run(capsys, db_url, "targets", "import", str(tmp_path / "changed.csv"))
    assert code == 1 and "conflict" in err and "model" in err
    code, out, _ = run(
        capsys, db_url, "targets", "import", str(tmp_path / "changed.csv"), "--update"
    )
    assert code == 0 and "updated 1" in out
    assert {t["name"]: t for t in listed(capsys, db_url)}["ams-core-01"]["model"] == "ASR9001"


def test_ansible_ini_and_yaml(capsys: Any, db_url: str) -> None:
    code, out, err = run(capsys, db_url, "targets", "import", str(DATA / "hosts.ini"))
    assert code == 0, err
    targets = {t["name"]: t for t in listed(capsys, db_url)}
    assert set(targets) == {"rtr1", "rtr2", "sw01", "sw02", "sw03"}
    assert targets["rtr2"]["ssh_port"] == 2222 and targets["rtr2"]["vars"]["os"] == "iosxr"
    assert targets["rtr1"]["ssh_username"] == "admin"
    assert set(targets["sw02"]["groups"]) == {"network", "switches"}
    code, out, _ = run(capsys, db_url, "groups", "show", "network", "--format", "json")
    assert json.loads(out)["vars"] == {"ntp_server": "10.0.0.5"}
    code, out, _ = run(capsys, db_url, "targets", "show", "rtr1", "--format", "json")
    eff = {v["key"]: v for v in json.loads(out)["effective_vars"]}
    assert eff["ntp_server"]["source"] == "group:network"
    code, out, err = run(capsys, db_url, "targets", "import", str(DATA / "hosts.yml"))
    assert code == 0, err
    targets = {t["name"]: t for t in listed(capsys, db_url)}
    assert targets["db1"]["ssh_port"] == 2200 and targets["db1"]["vars"]["role"] == "primary"
    assert set(targets["lb1"]["groups"]) == {"dc1", "lb"}


def test_export_round_trip(capsys: Any, db_url: str, tmp_path: Path, sqlite_url: str) -> None:
    assert run(capsys, db_url, "groups", "add", "core")[0] == 0
    assert run(capsys, db_url, "targets", "import", str(DATA / "estate.csv"))[0] == 0
    assert run(capsys, db_url, "targets", "import", str(DATA / "hosts.ini"))[0] == 0
    assert (
        run(
            capsys,
            db_url,
            "groups",
            "add",
            "ams-gear",
            "--rule",
            "site:AMS1",
            "--description",
            "everything in AMS1",
        )[0]
        == 0
    )
    for fmt in ("csv", "json"):
        out_file = tmp_path / f"export.{fmt}"
        assert run(capsys, db_url, "targets", "export", "-o", str(out_file))[0] == 0
        # re-importing into the same database changes nothing
        code, out, err = run(capsys, db_url, "targets", "import", str(out_file))
        assert code == 0, err
        assert "created 0, updated 0" in out
    # JSON export carries everything (vars, group vars) into an empty database
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, _, err = run(capsys, fresh, "targets", "import", str(tmp_path / "export.json"))
    assert code == 0, err
    strip = ("id", "created_at", "updated_at", "version")
    before = [{k: v for k, v in t.items() if k not in strip} for t in listed(capsys, db_url)]
    after = [{k: v for k, v in t.items() if k not in strip} for t in listed(capsys, fresh)]
    assert before == after
    code, out, _ = run(capsys, fresh, "groups", "show", "ams-gear", "--format", "json")
    group = json.loads(out)
    assert group["rule"] == "site:AMS1" and group["description"] == "everything in AMS1"
    assert group["members"] == 3
