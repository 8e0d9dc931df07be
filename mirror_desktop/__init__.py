"""Mirror: a local-first desktop app for reflective journaling."""

__version__ = "0.1.0"
