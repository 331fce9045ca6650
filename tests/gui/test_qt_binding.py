"""The Qt binding must not leak references to None (PySide6 6.12.0 did, on Python 3.11).

qasync calls a void Qt method for every asyncio callback; a binding that drops a reference
to None on each such call aborts the process ("Fatal Python error: none_dealloc") after
enough of them. pyproject.toml keeps that version out; this test keeps it out for good.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer


def test_void_calls_keep_none_refcount() -> None:
    obj, timer = QObject(), QTimer()
    before = sys.getrefcount(None)
    for _ in range(2000):
        obj.setObjectName("x")
        timer.stop()
    assert before - sys.getrefcount(None) < 100
