"""The mirrorback feature of the window."""
