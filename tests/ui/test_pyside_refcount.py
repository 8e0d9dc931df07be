"""The Qt binding must not leak references to None/True/False (PySide6 6.12.0 on CPython 3.11 does).

A leak there aborts the interpreter ("none_dealloc") after some thousands of paint calls, which
would crash a window mid-sentence; pyproject.toml pins PySide6 below 6.12 for that reason.
"""

from __future__ import annotations

import sys


def test_void_and_bool_qt_calls_keep_singleton_refcounts(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QLabel

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    label = QLabel()
    before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(500):
        painter.drawLine(0, 0, 5, 5)
        label.setText("x")
        label.isVisible()
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    painter.end()
    # Allow a little slack for unrelated objects created meanwhile; the bug loses 500+ each.
    assert all(a - b > -50 for a, b in zip(after, before, strict=True)), (before, after)
