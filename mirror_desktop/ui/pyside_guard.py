"""Guard against a PySide6 6.12 binding bug on CPython < 3.12: void methods drop a reference to None.

Measured here (PySide6-Essentials 6.12.0, CPython 3.11.7): every call of a C++ method that returns
void (QPainter.fillRect, QLabel.setText, QTimer.start ...) decrements None's reference count once
without the matching increment. None is immortal from CPython 3.12 on, but on 3.11 its count reaches
zero after some thousands of calls and the interpreter aborts ("none_dealloc: deallocating None") —
a window that paints for a few minutes would crash and take unsaved typing with it.

Until the binding is fixed (or the app requires Python >= 3.12), give None a reference count so large
that the leak can never exhaust it (2**60 calls). This touches only None's counter, once, at start-up.
"""

from __future__ import annotations

import ctypes
import sys

_applied = False


def needs_guard() -> bool:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    try:
        import PySide6
    except ImportError:
        return False
    return PySide6.__version__.startswith("6.12")


def apply() -> bool:
    """Raise the singletons' reference counts out of reach of the leak; returns whether it was needed."""
    global _applied
    if _applied or not needs_guard():
        return _applied
    for singleton in (None, True, False):  # bool-returning methods drop True/False the same way
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 60
    _applied = True
    return True
