"""Where things live: the user's folders, and the assets in every install shape.

Assets (``migrations/``, ``ui/``, ``resources/``) must be found from a source checkout, an
installed wheel (``<prefix>/share/opsconductor-desktop``) and a PyInstaller bundle
(``sys._MEIPASS``). The wheel case is tested for real: build the wheel, install it into a
fresh virtual environment and run the installed console script against a new database.
The bundle case is covered by monkeypatching here and by ``packaging/smoke.sh`` for real.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from opsconductor_desktop import paths
from opsconductor_desktop.paths import AppPaths

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ("migrations", "ui", "resources")
SHARE = "share/opsconductor-desktop"


def asset_files() -> list[str]:
    """Every asset file of the checkout, as a POSIX path relative to the repository."""
    found = []
    for name in ASSETS:
        for path in sorted((ROOT / name).rglob("*")):
            rel = path.relative_to(ROOT)
            skipped = any(p == "__pycache__" or p.startswith(".") for p in rel.parts)
            if path.is_file() and not skipped and path.suffix != ".pyc":
                found.append(rel.as_posix())
    return found


# ---- the user's folders ------------------------------------------------------------------------


def test_home_puts_everything_under_one_folder(tmp_path: Path) -> None:
    app = AppPaths.resolve(tmp_path / "portable").ensure()
    assert app.config_dir == tmp_path / "portable" / "config"
    assert app.data_dir == tmp_path / "portable" / "data"
    assert app.log_dir == tmp_path / "portable" / "logs"
    assert app.default_database.parent == app.data_dir
    assert app.settings_file.parent == app.config_dir
    assert sorted(p.name for p in (tmp_path / "portable").iterdir()) == ["config", "data", "logs"]


def test_environment_variable_and_explicit_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "from-env"))
    assert AppPaths.resolve().data_dir == tmp_path / "from-env" / "data"
    assert AppPaths.resolve(tmp_path / "given").data_dir == tmp_path / "given" / "data"
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert AppPaths.resolve("~/opsc").config_dir == tmp_path / "user" / "opsc" / "config"


def test_without_home_the_platform_folders_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.HOME_ENV, "")  # empty means unset
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    app = AppPaths.resolve()
    for folder in (app.config_dir, app.data_dir, app.log_dir):
        assert folder.is_relative_to(tmp_path)
        assert paths.APP_NAME in folder.parts


def test_test_suite_is_isolated() -> None:
    # conftest's autouse fixture points OPSCONDUCTOR_HOME at the test's temp folder
    assert AppPaths.resolve().data_dir.parent == Path(os.environ[paths.HOME_ENV]).resolve()


# ---- assets: checkout, bundle, installed prefix -------------------------------------------------


@pytest.mark.parametrize("name", ASSETS)
def test_assets_found_in_the_source_checkout(name: str) -> None:
    assert paths.asset_dir(name) == ROOT / name
    assert any((ROOT / name).iterdir())  # each folder has at least a README in git


def test_named_helpers() -> None:
    assert (paths.migrations_dir() / "env.py").is_file()
    assert paths.ui_dir().name == "ui"
    assert (paths.resources_dir() / "demo" / "estate.toml").is_file()
    assert (paths.resources_dir() / "icons" / "opsconductor.svg").is_file()


def test_a_bundle_wins_over_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "migrations").mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.asset_dir("migrations") == tmp_path / "migrations"
    assert paths.asset_dir("ui") == ROOT / "ui"  # absent from the bundle: next root


def test_installed_prefix_is_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "share" / "opsconductor-desktop" / "ui").mkdir(parents=True)
    site = tmp_path / "site-packages" / "opsconductor_desktop"
    monkeypatch.setattr(paths, "__file__", str(site / "paths.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert paths.asset_dir("ui") == tmp_path / "share" / "opsconductor-desktop" / "ui"
    with pytest.raises(FileNotFoundError, match="resources/ folder is missing") as err:
        paths.asset_dir("resources")
    assert str(tmp_path / "share" / "opsconductor-desktop" / "resources") in str(err.value)


# ---- the wheel ---------------------------------------------------------------------------------


def test_pyproject_ships_every_asset_file() -> None:
    """Data files keep no tree: a new folder or file type needs its own glob in pyproject."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data_files: dict[str, list[str]] = table["data-files"]
    missing = []
    for rel in asset_files():
        globs = data_files.get(f"{SHARE}/{Path(rel).parent.as_posix()}", [])
        if not any(fnmatch.fnmatchcase(rel, g) for g in globs):
            missing.append(rel)
    assert not missing, f"add globs to [tool.setuptools.data-files] for: {missing}"


@pytest.mark.slow
def test_installed_wheel_finds_its_assets(tmp_path: Path) -> None:
    src = tmp_path / "src"  # build from a copy: no build/ or egg-info in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("opsconductor_desktop", *ASSETS):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(src)])
    (wheel,) = (tmp_path / "dist").glob("opsconductor_desktop-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n.split(f"/data/{SHARE}/", 1)[1] for n in archive.namelist() if SHARE in n}
    assert set(asset_files()) <= shipped

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    )
    # The dependencies come from the test's own environment (appended to sys.path, after
    # the fresh site-packages); the package itself only from the installed wheel.
    (purelib / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])

    env = {k: v for k, v in os.environ.items() if k != paths.HOME_ENV}
    where = run(
        [str(python), "-c", "from opsconductor_desktop import paths, services;"
         "print(paths.migrations_dir()); print(paths.ui_dir()); print(paths.resources_dir());"
         "print(services.__file__)"],
        cwd=tmp_path, env=env,
    ).splitlines()  # fmt: skip
    share = venv.resolve() / SHARE
    assert where[:3] == [str(share / "migrations"), str(share / "ui"), str(share / "resources")]
    assert Path(where[3]).is_relative_to(venv.resolve())  # not the editable checkout

    console = venv / "bin" / "opsconductor"
    home = ["--home", str(tmp_path / "home")]
    assert "upgraded" in run([str(console), *home, "db", "upgrade"], cwd=tmp_path, env=env)
    assert "up to date" in run([str(console), *home, "db", "current"], cwd=tmp_path, env=env)
    demo = "from opsconductor_desktop.services import demo; print(len(demo.generate(30)))"
    assert run([str(python), "-c", demo], cwd=tmp_path, env=env) == "30"


def run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()
