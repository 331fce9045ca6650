"""Numbers and durations as the console and the CLI print them."""

from __future__ import annotations

import pytest

from opsconductor_desktop.domain.display import number_text, seconds_text


@pytest.mark.parametrize(
    ("value", "text"),
    [(45, "45s"), (300, "5m"), (5400, "1h30m"), (7200, "2h"), (90, "90s"), (2.5, "2.5s")],
)
def test_seconds(value: float, text: str) -> None:
    assert seconds_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (90, "90"),
        (0.5, "0.5"),
        (5000, "5000"),
        (8e9, "8G"),
        (1.5e6, "1.5M"),
        (-2e4, "-20k"),
        (25_000, "25k"),
    ],
)
def test_numbers(value: float, text: str) -> None:
    assert number_text(value) == text
