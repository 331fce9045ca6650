"""Where things live: the user's folders (platformdirs) and the app's own assets.

``AppPaths(home=DIR)`` (``--home`` or ``OPSCONDUCTOR_HOME``) puts config, data, logs and
known-hosts under one folder — for tests and portable (USB) use; without it the
platform's conventional folders are used. Assets (``migrations/``, ``ui/``,
``resources/``) are found in a source checkout, an installed wheel and a PyInstaller
bundle alike (qutebrowser's ``standarddir`` idea).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "opsconductor"
APP_AUTHOR = "OpsConductor"
HOME_ENV = "OPSCONDUCTOR_HOME"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The per-user folders of one installation."""

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> AppPaths:
        """From ``home`` if given, else ``$OPSCONDUCTOR_HOME``, else the platform's folders."""
        chosen = home if home is not None else os.environ.get(HOME_ENV) or None
        if chosen is not None:
            root = Path(chosen).expanduser().resolve()
            return cls(root / "config", root / "data", root / "logs")
        dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
        return cls(Path(dirs.user_config_dir), Path(dirs.user_data_dir), Path(dirs.user_log_dir))

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def default_database(self) -> Path:
        return self.data_dir / "opsconductor.db"

    @property
    def known_hosts(self) -> Path:
        return self.data_dir / "known_hosts"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "opsconductor.jsonl"

    def ensure(self) -> AppPaths:
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def _asset_roots() -> list[Path]:
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # PyInstaller one-folder or one-file bundle
        roots.append(Path(bundle))
    roots.append(Path(__file__).resolve().parent.parent)  # source checkout
    roots.append(Path(sys.prefix) / "share" / "opsconductor-desktop")  # installed wheel
    return roots


def asset_dir(name: str) -> Path:
    """The folder of a bundled asset kind (``migrations``, ``ui``, ``resources``)."""
    for root in _asset_roots():
        candidate = root / name
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(r / name) for r in _asset_roots())
    raise FileNotFoundError(f"OpsConductor's {name}/ folder is missing (looked in {searched})")


def migrations_dir() -> Path:
    return asset_dir("migrations")


def ui_dir() -> Path:
    return asset_dir("ui")


def resources_dir() -> Path:
    return asset_dir("resources")
