"""The bundle feature of the window."""
