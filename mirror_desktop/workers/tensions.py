"""TensionsClient: the tension map's road to the journal — TensionService use cases on the executor.

Reads answer the asker; writes announce what changed in the past tense, so the map, the mirrorback
panel's notes and the CLI-visible state stay in step (issue 10: one road to the database).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core import models as m
from mirror_desktop.core.tensions import TensionService
from mirror_desktop.workers.base import FeatureClient, OnError, OnResult
from mirror_desktop.workers.executor import DatabaseExecutor, Job


class TensionsClient(FeatureClient):
    """Submits TensionService use cases to the executor and re-emits what happened.

    Signals:
        tension_moved(object): a tension was moved or restored; payload is the stored Tension.
        tensions_changed(object): a tension or axis was created, edited, deleted, or a suggestion
            accepted or dismissed; payload is what the service returned (a Tension for creations).
        operation_failed(str): (inherited) a write failed; payload is the one sentence to show.
    """

    tension_moved = Signal(object)
    tensions_changed = Signal(object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, TensionService, parent)

    # -- reads -------------------------------------------------------------------------------
    def load_map(self, identity_id: str | None, anonymous: bool, *, seed: bool, on_result: OnResult,
                 on_error: OnError = None) -> Job:
        """The map's groups, axes and suggestions; ``seed`` first plants the global seeds of a new journal."""
        def read(svc: TensionService) -> Any:
            if seed:
                svc.ensure_seeds()
            return svc.map_data(identity_id, anonymous=anonymous)
        return self.call(read, on_result, on_error, lane="write" if seed else "read")

    def ensure_seeds(self, initial_mode: str = "manual") -> Job:
        """Plant the global seed tensions of a new journal (a no-op once planted), without loading the map.

        ``initial_mode``: the chosen engine's mode, for a new journal's installation event."""
        return self.call(lambda svc: svc.ensure_seeds(initial_mode), None, None)

    def load_details(self, tension_id: str, on_result: OnResult, on_error: OnError = None) -> Job:
        """(history points, related reflections) of one tension: background work, never ahead of a search."""
        return self.call(lambda svc: (svc.history(tension_id), svc.related_reflections(tension_id)), on_result, on_error,
                         lane="background")

    # -- writes ------------------------------------------------------------------------------
    def move(self, tension_id: str, position: float, intensity: float, on_result: OnResult = None,
             on_error: OnError = None) -> Job:
        """Store one drag; answers the MoveResult (before/after), announces the stored Tension."""
        def done(result: Any) -> None:
            if result.changed:
                self.tension_moved.emit(result.after)
            if on_result is not None:
                on_result(result)
        return self.call(lambda svc: svc.move_tension(tension_id, position=position, intensity=intensity),
                         done, on_error)

    def restore(self, state: m.Tension, on_result: OnResult = None, on_error: OnError = None) -> Job:
        """Undo/redo of a move: put the tension back exactly as ``state``."""
        return self.call(lambda svc: svc.restore_tension(state), self._then(self.tension_moved, on_result), on_error)

    def _write(self, use_case: Any, on_result: OnResult, on_error: OnError) -> Job:
        return self.call(use_case, self._then(self.tensions_changed, on_result), on_error)

    def create_tension(self, name: str, axis_a: str, axis_b: str, *, axis_id: str | None, identity_id: str | None,
                       sync_mode: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.create_tension(name, axis_a, axis_b, axis_id=axis_id, identity_id=identity_id,
                                                          sync_mode=sync_mode), on_result, on_error)

    def update_tension(self, tension_id: str, *, name: str, axis_a: str, axis_b: str, axis_id: str | None,
                       sync_mode: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.update_tension(tension_id, name=name, axis_a=axis_a, axis_b=axis_b,
                                                          axis_id=axis_id, sync_mode=sync_mode), on_result, on_error)

    def delete_tension(self, tension_id: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.delete_tension(tension_id), on_result, on_error)

    def create_axis(self, name: str, *, description: str | None, category: str | None, color: str | None,
                    identity_id: str | None, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.create_axis(name, description=description, category=category, color=color,
                                                       identity_id=identity_id), on_result, on_error)

    def update_axis(self, axis_id: str, *, name: str, description: str | None, category: str | None,
                    color: str | None, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.update_axis(axis_id, name=name, description=description, category=category,
                                                       color=color), on_result, on_error)

    def delete_axis(self, axis_id: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.delete_axis(axis_id), on_result, on_error)

    def accept_suggestion(self, tension_id: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.accept_suggestion(tension_id), on_result, on_error)

    def dismiss_suggestion(self, tension_id: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.dismiss_suggestion(tension_id), on_result, on_error)
