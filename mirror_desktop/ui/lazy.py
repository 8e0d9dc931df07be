"""Parts of the window built on first read (issue 12: start-up builds only what the first paint shows)."""

from __future__ import annotations

from typing import Any


class BuiltOnFirstRead:
    """An attribute that ``owner.<builder>()`` builds the first time it is read.

    The builder assigns the attribute on the instance; from then on the instance's own attribute shadows this
    descriptor (it defines no ``__set__``), so reading it costs nothing. ``is_built(obj, name)`` asks without
    building.
    """

    def __init__(self, builder: str) -> None:
        self.builder = builder
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        getattr(obj, self.builder)()
        return obj.__dict__[self.name]


def is_built(obj: Any, name: str) -> bool:
    """Whether the BuiltOnFirstRead attribute ``name`` of ``obj`` exists yet (reading it would build it)."""
    return name in obj.__dict__
