"""The lock (issue 19): the lock screen, File → Encrypt journal…, and locking after an idle time."""
