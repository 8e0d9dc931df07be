"""Sync between one person's devices through a PostgreSQL server, end-to-end encrypted (issue 18).

``crypto`` turns the sync passphrase into the key and seals rows; ``hlc`` is the hybrid logical
clock every row carries; ``server`` talks to the server's own ``mirror_sync`` schema; ``service``
is the protocol (push, pull, conflicts, tombstones) that the CLI and the window's worker run.
What may leave is decided by core/outbound.py alone. Qt-free.
"""
