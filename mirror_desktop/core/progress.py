"""The small state object long tasks take (bundles, imports, syncs, sandbox tests) (STYLE.md: plain functions, Orange3 style).

The window's worker implements it with signals; the CLI and tests use ``QuietState``. A task calls
``check`` between steps, so Cancel stops it at the next safe point with nothing changed.
"""

from __future__ import annotations

from typing import Protocol

from mirror_desktop.core.errors import OperationCancelled


class JobState(Protocol):
    def set_progress(self, fraction: float, message: str = "") -> None:
        """``fraction`` in 0..1 of the whole task; ``message`` names the current step."""

    def is_cancelled(self) -> bool:
        """True once the person asked to stop."""


class QuietState:
    """No progress shown, never cancelled (CLI, tests); records the steps it saw."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.fraction = 0.0

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.fraction = fraction
        if message and (not self.messages or self.messages[-1] != message):
            self.messages.append(message)

    def is_cancelled(self) -> bool:
        return False


class Phase:
    """Maps the progress of one step onto its share [start, end) of the whole task."""

    def __init__(self, state: JobState, start: float, end: float, message: str) -> None:
        self.state, self.start, self.end, self.message = state, start, end, message
        state.set_progress(start, message)

    def update(self, done: float, total: float) -> None:
        part = 0.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
        self.state.set_progress(self.start + (self.end - self.start) * part, self.message)


def check(state: JobState) -> None:
    if state.is_cancelled():
        raise OperationCancelled()
