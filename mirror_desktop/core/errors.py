"""Errors for people: each says in one sentence what happened and what to do (STYLE.md, habit 9)."""

from __future__ import annotations


class MirrorError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the sentence shown to them."""


class ValidationError(MirrorError):
    """A value breaks one of the spec's validation rules; names the field and the rule."""

    def __init__(self, entity: str, field: str, rule: str, message: str | None = None) -> None:
        self.entity = entity
        self.field = field
        self.rule = rule
        super().__init__(message or f"{entity}.{field} {rule}.")


class NotFoundError(MirrorError):
    """A row asked for by id does not exist."""

    def __init__(self, entity: str, id_: str) -> None:
        self.entity = entity
        self.id = id_
        super().__init__(f"No {entity} with id {id_} exists; check the id and try again.")


class ConstraintError(MirrorError):
    """The database refused a write because it breaks a constraint."""


class JobCancelled(MirrorError):
    """A long read or task stopped because its ``cancel`` callable said so (a newer request won)."""

    def __init__(self) -> None:
        super().__init__("Stopped before it finished; nothing was changed.")


class StorageError(MirrorError):
    """The journal cannot be opened or written (environment problem, not a bug)."""


class MigrationError(StorageError):
    """A migration cannot be applied, verified or rolled back."""


class SchemaTooNewError(MigrationError):
    """The database was written by a newer Mirror."""


class ChecksumMismatchError(MigrationError):
    """An applied migration file changed after it was applied."""


class OperationCancelled(MirrorError):
    """The person pressed Cancel; the task stopped at a safe point with nothing changed."""

    def __init__(self) -> None:
        super().__init__("Cancelled; nothing was changed.")
