"""File → Sync…: sync between the person's devices (issue 18)."""
