"""The `mirror` command: one module per command group, the same services as the window, no Qt."""

from mirror_desktop.cli.main import main

__all__ = ["main"]
