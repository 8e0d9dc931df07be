"""The tensions feature of the window."""
