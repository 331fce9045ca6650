"""Architecture and typing are part of the suite: a broken layer or type fails the build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_import_layers_hold() -> None:
    """import-linter contracts from pyproject.toml (STYLE.md's layering)."""
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_on_core() -> None:
    result = _run(
        str(BIN / "mypy"),
        "opsconductor_desktop/domain",
        "opsconductor_desktop/drivers",
        "opsconductor_desktop/store",
        "opsconductor_desktop/runtime",
        "opsconductor_desktop/services",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_bare_except_in_package() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "opsconductor_desktop").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip().startswith("except:")
    ]
    assert offenders == []


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    """``opsconductor --help`` and the inventory commands must start fast: Qt, the GUI,
    pysnmp and paramiko load only inside the commands that use them."""
    probe = (
        "import sys, opsconductor_desktop.cli as c; c.build_parser(); "
        "print(','.join(sorted(m for m in ('PySide6', 'pysnmp', 'paramiko', "
        "'opsconductor_desktop.gui', 'pyqtgraph', 'numpy') if m in sys.modules)))"
    )
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"loaded at start-up: {result.stdout.strip()}"
