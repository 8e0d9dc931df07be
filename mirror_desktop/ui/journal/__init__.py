"""The journal feature of the window."""
