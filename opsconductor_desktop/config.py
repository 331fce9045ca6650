"""Settings: which database, pool size, theme; read from TOML, overridable per run.

The database URL comes from ``--db URL``, else ``$OPSCONDUCTOR_DB_URL``, else the settings
file, else an SQLite file in the data folder — first run needs no set-up.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.paths import AppPaths

DB_ENV = "OPSCONDUCTOR_DB_URL"
THEMES = ("system", "light", "dark")


@dataclass(frozen=True, slots=True)
class Settings:
    """What the settings file holds. Unknown keys are kept out, with a clear error."""

    db_url: str | None = None
    pool_size: int = 5
    theme: str = "system"
    log_level: str = "INFO"
    actor: str | None = None

    def validated(self) -> Settings:
        if not 1 <= self.pool_size <= 100:
            raise ValidationError("pool_size must be between 1 and 100", field="pool_size")
        if self.theme not in THEMES:
            raise ValidationError(f"theme must be one of {', '.join(THEMES)}", field="theme")
        return self


def load_settings(paths: AppPaths) -> Settings:
    """Read the settings file; a missing file means defaults."""
    path = paths.settings_file
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"settings file {path} is not valid TOML: {exc}") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(f"settings file {path}: unknown keys {', '.join(unknown)}")
    try:
        return Settings(**data).validated()
    except TypeError as exc:
        raise ValidationError(f"settings file {path}: {exc}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def save_settings(paths: AppPaths, settings: Settings) -> Path:
    """Write the settings file atomically (None values are left out)."""
    settings.validated()
    lines = [
        f"{f.name} = {_toml_value(getattr(settings, f.name))}"
        for f in fields(Settings)
        if getattr(settings, f.name) is not None
    ]
    path = paths.settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


@dataclass(frozen=True, slots=True)
class ResolvedDatabase:
    """The database URL chosen for this run, and where the choice came from."""

    url: str
    source: str  # "--db", "environment", "settings", "default"


def resolve_database(paths: AppPaths, settings: Settings, cli_url: str | None) -> ResolvedDatabase:
    if cli_url:
        return ResolvedDatabase(cli_url, "--db")
    env = os.environ.get(DB_ENV)
    if env:
        return ResolvedDatabase(env, "environment")
    if settings.db_url:
        return ResolvedDatabase(settings.db_url, "settings")
    return ResolvedDatabase(f"sqlite:///{paths.default_database}", "default")


def with_updates(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes).validated()


def default_actor(settings: Settings) -> str:
    """Who the audit log names: the settings' actor, else the OS user."""
    if settings.actor:
        return settings.actor
    for var in ("USER", "USERNAME", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    return Path.home().name or "operator"
