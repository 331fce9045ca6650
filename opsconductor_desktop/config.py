"""Settings: database, pool size, theme, alert notifications; read from TOML, overridable per run.

The database URL comes from ``--db URL``, else ``$OPSCONDUCTOR_DB_URL``, else the settings
file, else an SQLite file in the data folder — first run needs no set-up.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from datetime import time
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
    notify_sound: bool = True  # a sound for new critical and major alerts
    notify_muted: bool = False  # the console's mute toggle (sound only; messages still show)
    notify_repeat_s: int = 60  # repeat the sound while they are unacknowledged (0: never)
    quiet_hours_start: str | None = None  # "22:00", local time: no sound from then…
    quiet_hours_end: str | None = None  # …until then ("07:00"); the tray message still shows
    samples_keep_days: float = 7.0  # raw samples
    rollups_keep_days: float = 400.0  # five-minute rollups
    poll_concurrency: int = 200  # checks in flight at once
    poll_in_console: bool = True  # the console runs the dispatcher (else only `agent` does)

    def validated(self) -> Settings:
        if not 1 <= self.pool_size <= 100:
            raise ValidationError("pool_size must be between 1 and 100", field="pool_size")
        if self.theme not in THEMES:
            raise ValidationError(f"theme must be one of {', '.join(THEMES)}", field="theme")
        if not 0 <= self.notify_repeat_s <= 86_400:
            raise ValidationError(
                "notify_repeat_s must be between 0 (never) and 86400 seconds",
                field="notify_repeat_s",
            )
        self.quiet_hours()
        if not 0 < self.samples_keep_days <= 3650 or not 0 < self.rollups_keep_days <= 3650:
            raise ValidationError("keep periods must be between 0 and 3650 days")
        if not 1 <= self.poll_concurrency <= 5000:
            raise ValidationError(
                "poll_concurrency must be between 1 and 5000", field="poll_concurrency"
            )
        return self

    def quiet_hours(self) -> tuple[time, time] | None:
        """The quiet hours (start, end) in local time, or None; both or neither are set."""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if not start and not end:
            return None
        if not start or not end:
            raise ValidationError(
                "quiet hours need both a start and an end (HH:MM)", field="quiet_hours_start"
            )
        return parse_clock(start, "quiet_hours_start"), parse_clock(end, "quiet_hours_end")


def parse_clock(text: str, field: str = "time") -> time:
    """``"22:00"`` → ``time(22, 0)``; a ``ValidationError`` naming ``field`` otherwise."""
    try:
        value = time.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{field} must be a time of day like 22:00", field=field) from None
    return value.replace(second=0, microsecond=0)


def in_quiet_hours(hours: tuple[time, time] | None, now: time) -> bool:
    """Whether the local time ``now`` falls in the quiet hours (which may span midnight)."""
    if hours is None:
        return False
    start, end = hours
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


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
    if isinstance(value, int | float):
        return repr(value)
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
