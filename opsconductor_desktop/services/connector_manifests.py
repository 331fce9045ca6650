"""Connector manifest files: YAML loading with file/line/field errors, and the bundled set.

Every problem raises ``ValidationError`` naming the file, the line and the field, like the
monitoring files (``services/monitoring.py``)::

    zabbix.yaml:41: mapping.severity.map.6: one of clear, info, warning, ..., not 'urgent'

Bundled manifests live in ``resources/connectors/*.yaml`` (found in a checkout, a wheel
and a PyInstaller bundle alike); ``find_manifest`` takes a file path or a bundled id.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from opsconductor_desktop import paths
from opsconductor_desktop.domain.connectors import Manifest, parse_manifest
from opsconductor_desktop.domain.errors import NotFoundError, ValidationError
from opsconductor_desktop.runtime.connectors.mapping import check_manifest

MAX_MANIFEST_BYTES = 1 << 20
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _tokens(field: str) -> list[str | int]:
    out: list[str | int] = []
    for name, index in _TOKEN.findall(field):
        out.append(int(index) if index else name)
    return out


def line_of(node: yaml.Node | None, field: str | None) -> int | None:
    """The line (1-based) of a dotted field path in the composed YAML; the nearest found."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for token in _tokens(field or ""):
        if isinstance(node, yaml.MappingNode):
            found = next(
                ((k, v) for k, v in node.value if str(k.value) == str(token)),
                None,
            )
            if found is None:
                return line
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(token, int):
            if token >= len(node.value):
                return line
            node = node.value[token]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def load_manifest(text: str, source: str = "<manifest>") -> Manifest:
    """Validate one manifest document (see the module docstring)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValidationError(f"{where}: YAML error: {problem}") from None
    except (ValueError, RecursionError, OverflowError) as exc:  # e.g. 2026-13-45 as a date
        raise ValidationError(f"{source}: YAML error: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{source}: a manifest is a mapping (id, name, version, kind, ...)")
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{source}: values must be plain JSON (text, numbers, lists, mappings): "
            "quote dates and times, no NaN or infinity"
        ) from None
    except RecursionError:
        raise ValidationError(f"{source}: nested too deeply") from None
    try:
        manifest = parse_manifest(data)
        check_manifest(manifest)
    except ValidationError as exc:
        line = line_of(node, exc.field)
        where = f"{source}:{line}" if line else source
        prefix = f"{exc.field}: " if exc.field else ""
        raise ValidationError(f"{where}: {prefix}{exc}", field=exc.field) from None
    return manifest


def load_manifest_file(path: Path) -> Manifest:
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ValidationError(f"{path}: {size} bytes is too large for a manifest")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: not UTF-8 text") from None
    return load_manifest(text, str(path))


def bundled_dir() -> Path:
    return paths.resources_dir() / "connectors"


@cache
def _bundled(folder: Path) -> tuple[Manifest, ...]:
    found = [load_manifest_file(p) for p in sorted(folder.glob("*.yaml"))]
    return tuple(sorted(found, key=lambda m: m.id))


def bundled_manifests() -> list[Manifest]:
    """The manifests shipped in ``resources/connectors``, by id."""
    return list(_bundled(bundled_dir()))


def find_manifest(ref: str) -> Manifest:
    """A manifest file (path) or the id of a bundled manifest."""
    path = Path(ref).expanduser()
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        return load_manifest_file(path)
    for manifest in bundled_manifests():
        if manifest.id == ref:
            return manifest
    ids = ", ".join(m.id for m in bundled_manifests())
    raise NotFoundError(f"no manifest file or bundled manifest {ref!r} (bundled: {ids})")
