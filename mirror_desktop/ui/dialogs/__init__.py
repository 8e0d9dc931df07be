"""Dialogs: settings, the journal-cannot-open choice."""
