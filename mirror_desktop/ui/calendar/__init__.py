"""The calendar feature of the window (issue 16)."""
