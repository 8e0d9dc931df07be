"""The import-from-another-app feature of the window: File → Import from another app… (issue 15)."""
