"""Thin Qt models over JournalService results: rows plus a cache, never a query in data()."""
