"""The writing feature of the window (issue 16)."""
