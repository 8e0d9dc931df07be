"""Light and dark themes: the Fusion style, a calm palette and a small style sheet from resources/styles."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

W = TypeVar("W", bound=QObject)


def named(widget: W, name: str) -> W:
    """Give a widget the object name the style sheets select on, and return it.

    Qt accepts ``objectName=`` as a constructor keyword, but PySide6's type stubs do not know it, and mypy
    checks ui/ too (issue 10): one setter here instead of a per-module ignore.
    """
    widget.setObjectName(name)
    return widget

PALETTES = {
    "light": {
        "Window": "#f6f5f2", "WindowText": "#24292f", "Base": "#ffffff", "AlternateBase": "#f2f1ed",
        "Text": "#24292f", "Button": "#f0efeb", "ButtonText": "#24292f", "Highlight": "#4c7fd9",
        "HighlightedText": "#ffffff", "PlaceholderText": "#7a7f87", "Mid": "#d3d1cb", "Midlight": "#e6e4df",
        "Dark": "#b5b2aa", "ToolTipBase": "#ffffff", "ToolTipText": "#24292f", "Link": "#3465c4",
        "Light": "#ffffff", "Shadow": "#8f8c85", "BrightText": "#ffffff", "LinkVisited": "#6a4fb3",
    },
    "dark": {
        "Window": "#1f2124", "WindowText": "#e4e6ea", "Base": "#26282c", "AlternateBase": "#2b2e32",
        "Text": "#e4e6ea", "Button": "#2d3035", "ButtonText": "#e4e6ea", "Highlight": "#5b8def",
        "HighlightedText": "#ffffff", "PlaceholderText": "#9096a0", "Mid": "#45484e", "Midlight": "#3a3d42",
        "Dark": "#16171a", "ToolTipBase": "#2d3035", "ToolTipText": "#e4e6ea", "Link": "#8ab4ff",
        "Light": "#4a4d53", "Shadow": "#0c0d0f", "BrightText": "#ffffff", "LinkVisited": "#b9a3ff",
    },
}


def _stylesheet(theme: str) -> str:
    from mirror_desktop.resources import resource

    try:
        return resource("styles", f"{theme}.qss").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return ""


def apply_theme(theme: str, app: QApplication | None = None) -> None:
    app = app or QApplication.instance()  # type: ignore[assignment]
    if app is None:
        return
    theme = theme if theme in PALETTES else "light"
    if app.style().objectName().lower() != "fusion":
        app.setStyle(QStyleFactory.create("Fusion"))
    # Every role from Fusion's own palette, then ours: a role left to the desktop's palette (a dark desktop
    # theme) painted a black scrollbar groove in the light theme (issue 11).
    pal = QPalette(app.style().standardPalette())
    for role, color in PALETTES[theme].items():
        c = QColor(color)
        pal.setColor(getattr(QPalette.ColorRole, role), c)
        if role in ("Text", "WindowText", "ButtonText"):
            dim = QColor(c)
            dim.setAlphaF(0.45)
            pal.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role), dim)
    app.setPalette(pal)
    app.setStyleSheet(_stylesheet(theme))
    app.setProperty("mirror_theme", theme)
