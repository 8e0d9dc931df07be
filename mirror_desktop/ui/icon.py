"""The application icon, in a module of its own so that start-up does not load a dialog to set it (issue 12)."""

from __future__ import annotations

from PySide6.QtGui import QIcon


def app_icon() -> QIcon:
    """The Mirror icon from resources/icons (empty if the resources are missing)."""
    from mirror_desktop.resources import resource

    icon = QIcon()
    icons = resource("icons")
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = icons / f"mirror-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    return icon
