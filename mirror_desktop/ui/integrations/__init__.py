"""The integrations feature of the window: File → Integrations… and the day's calendar beside the editor."""
