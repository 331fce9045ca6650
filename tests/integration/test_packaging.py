"""The PyInstaller spec and the Linux desktop files are consistent — checked without building.

Building the bundle takes minutes and is not part of ``make test``: ``packaging/smoke.sh``
builds it and runs it. Here the spec is executed with stand-ins for PyInstaller's classes,
which record what the real build would be given.
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "opsconductor.spec"


@dataclass
class Recorded:
    """What the spec handed to PyInstaller's build steps."""

    analysis: dict[str, Any] = field(default_factory=dict)
    scripts: list[str] = field(default_factory=list)
    exes: list[dict[str, Any]] = field(default_factory=list)
    collect: dict[str, Any] = field(default_factory=dict)


def run_spec(platform: str = "linux") -> Recorded:
    seen = Recorded()

    class Analysis:
        def __init__(self, scripts: list[str], **kwargs: Any) -> None:
            seen.scripts, seen.analysis = scripts, kwargs
            self.pure, self.scripts, self.binaries = [], [], []
            self.datas = kwargs["datas"]

    def exe(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.exes.append(kwargs)
        return kwargs

    def collect(*args: Any, **kwargs: Any) -> None:
        seen.collect = kwargs

    namespace = {
        "SPECPATH": str(PACKAGING),
        "Analysis": Analysis,
        "PYZ": lambda *a, **k: object(),
        "EXE": exe,
        "COLLECT": collect,
        "BUNDLE": lambda *a, **k: None,
        "__file__": str(SPEC),
    }
    real_platform = sys.platform
    sys.platform = platform
    try:
        exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    finally:
        sys.platform = real_platform
    return seen


@pytest.fixture(scope="module")
def spec() -> Recorded:
    return run_spec()


def asset_files() -> list[Path]:
    out = []
    for name in ("migrations", "ui", "resources"):
        for path in (ROOT / name).rglob("*"):
            rel = path.relative_to(ROOT)
            skipped = any(p == "__pycache__" or p.startswith(".") for p in rel.parts)
            if path.is_file() and not skipped and path.suffix != ".pyc":
                out.append(path)
    return sorted(out)


def test_one_folder_bundle_named_opsconductor_with_a_console_command(spec: Recorded) -> None:
    assert spec.scripts == [str(PACKAGING / "entry.py")]
    (console,) = spec.exes
    assert console["name"] == "opsconductor"
    assert console["console"] is True
    assert console["exclude_binaries"] is True  # one-folder: binaries go to COLLECT
    assert spec.collect["name"] == "opsconductor"


def test_windows_and_macos_also_get_a_windowed_executable() -> None:
    for platform in ("win32", "darwin"):
        names = {e["name"]: e["console"] for e in run_spec(platform).exes}
        assert names == {"opsconductor": True, "opsconductor-gui": False}


def test_entry_script_runs_the_cli() -> None:
    text = (PACKAGING / "entry.py").read_text()
    assert "from opsconductor_desktop.cli import main" in text
    assert "sys.exit(main())" in text
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["opsconductor"] == "opsconductor_desktop.cli:main"


def test_every_asset_file_is_bundled_where_paths_looks(spec: Recorded) -> None:
    datas = set(spec.analysis["datas"])
    expected = {(str(p), p.relative_to(ROOT).parent.as_posix()) for p in asset_files()}
    assert expected == datas
    folders = {dest.split("/")[0] for _, dest in datas}
    assert folders == {"migrations", "ui", "resources"}
    assert (str(ROOT / "migrations" / "env.py"), "migrations") in datas
    assert (str(ROOT / "resources" / "demo" / "estate.toml"), "resources/demo") in datas


def test_hidden_imports_cover_what_is_loaded_at_run_time(spec: Recorded) -> None:
    hidden = set(spec.analysis["hiddenimports"])
    for name in (
        "opsconductor_desktop.cli",
        "opsconductor_desktop.drivers.snmp_stack",  # imported with importlib
        "opsconductor_desktop.store.types",  # used by the migration scripts
        "alembic.context",
        "alembic.op",
        "alembic.ddl.sqlite",
        "alembic.ddl.postgresql",
        "sqlalchemy.dialects.sqlite.aiosqlite",
        "sqlalchemy.dialects.postgresql.psycopg",
        "sqlalchemy.dialects.postgresql",
        "aiosqlite",
        "psycopg",
        "keyring.backends.SecretService",
        "qasync",
    ):
        assert name in hidden, name
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "opsconductor_desktop").rglob("*.py")
    }
    assert modules <= hidden  # the GUI, loaded lazily by the CLI, included


def test_hidden_imports_exist(spec: Recorded) -> None:
    importlib.import_module("psycopg")  # psycopg_binary refuses to be found before it
    missing = [
        name for name in spec.analysis["hiddenimports"] if importlib.util.find_spec(name) is None
    ]
    assert not missing


def test_excluded_modules_are_not_used_by_our_code(spec: Recorded) -> None:
    excludes = set(spec.analysis["excludes"])
    assert {"pysmi", "tkinter", "PyQt5", "PySide6.QtQuick", "PySide6.QtWebEngineCore"} <= excludes
    used = set()
    for path in (ROOT / "opsconductor_desktop").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text, re.MULTILINE))
        used |= {f"PySide6.{m}" for m in re.findall(r"from PySide6 import ([\w, ]+)", text)}
    clash = {name for name in used if name in excludes or name.split(".")[0] in excludes}
    assert not clash, f"the spec excludes modules the code imports: {clash}"


def test_make_package_builds_this_spec() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pyinstaller" in makefile
    assert "packaging/opsconductor.spec" in makefile
    assert "--distpath dist" in makefile


def test_desktop_entry_and_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / "opsconductor.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] == desktop["TryExec"] == "opsconductor"
    assert desktop["Icon"] == "opsconductor"
    assert desktop["Terminal"] == "false"
    assert desktop["Categories"].endswith(";")
    icon = ROOT / "resources" / "icons" / f"{desktop['Icon']}.svg"
    root = ET.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"
    validator = shutil.which("desktop-file-validate")
    if validator:
        done = subprocess.run(
            [validator, str(PACKAGING / "opsconductor.desktop")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_smoke_script_is_runnable_bash() -> None:
    smoke = PACKAGING / "smoke.sh"
    assert smoke.stat().st_mode & 0o111
    bash = shutil.which("bash")
    assert bash
    done = subprocess.run([bash, "-n", str(smoke)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
