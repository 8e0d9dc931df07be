"""Integrations: connectors for calendars and notes behind one interface (base.py), and the poll logic (sync.py). No Qt."""
