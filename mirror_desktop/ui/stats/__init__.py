"""The stats feature of the window (issue 16)."""
