"""Without a display the console says so in one line instead of Qt aborting."""

from __future__ import annotations

import sys

import pytest

from opsconductor_desktop.cli import main


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland check")
def test_no_display_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, capsys: object) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert main(["gui"]) == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.startswith("error: no display to open the console on")
    assert len(err.strip().splitlines()) == 1
