"""EvolutionClient: the Evolution window's road to proposals, the sandbox and the history (issue 17, item 7).

Reads go to the read lane; the sandbox runs on the background lane (its own reading connection, so
the window and every write carry on while it works) and can be cancelled; its results, votes,
applies and rollbacks are writes on the serial write lane, each announced in the past tense.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from mirror_desktop.workers.base import FeatureClient, OnError, OnResult
from mirror_desktop.workers.executor import DatabaseExecutor, Job


def _service(storage: Any) -> Any:
    from mirror_desktop.core.evolution import EvolutionService  # loads with the first evolution job

    return EvolutionService(storage)


class EvolutionClient(FeatureClient):
    """Evolution use cases on the executor.

    Signals:
        changed(): a proposal, the configuration or the history changed (reload the lists).
        tested(object): payload is the proposal with its new test_results.
        drafted(int): payload is how many proposals repeated feedback flags just drafted.
        regression_found(object): payload is a RegressionFinding (offer the rollback).
    """

    changed = Signal()
    tested = Signal(object)
    drafted = Signal(int)
    regression_found = Signal(object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, _service, parent)
        self._cancel: threading.Event | None = None

    # -- reads ----------------------------------------------------------------------------------
    def load(self, on_result: OnResult, on_error: OnError = None) -> Job:
        """An EvolutionSnapshot: proposals, history, the current document, rows in effect, consent."""
        return self.query(lambda svc: svc.snapshot(), on_result, on_error)

    def diff(self, proposal: Any, on_result: OnResult) -> Job:
        """(where, before, after) rows for a proposal's change."""
        return self.query(lambda svc: svc.diff_rows(proposal), on_result)

    def shared_summary(self, on_result: OnResult) -> Job:
        """Exactly what telemetry would send (core.outbound.sync_summary)."""
        from mirror_desktop.core.outbound import sync_summary

        return self.query(lambda svc: sync_summary(svc.storage), on_result)

    # -- the sandbox ----------------------------------------------------------------------------------
    def test(self, proposal_id: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        """Run the sandbox off the GUI thread (background lane), then store its results (write lane)."""
        self.cancel_test()
        cancel = self._cancel = threading.Event()

        def stored(proposal: Any) -> None:
            self.tested.emit(proposal)
            self.changed.emit()
            if on_result is not None:
                on_result(proposal)

        def ran(results: dict[str, Any]) -> None:
            if not cancel.is_set():
                self.call(lambda svc: svc.store_test(proposal_id, results), stored, on_error)

        return self.call(lambda svc: svc.sandbox(svc.get(proposal_id), cancel=cancel.is_set), ran, on_error,
                         lane="background")

    def cancel_test(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    # -- writes -----------------------------------------------------------------------------------------
    def _write(self, use_case: Callable[[Any], Any], on_result: OnResult, on_error: OnError) -> Job:
        return self.call(use_case, self._changed(on_result), on_error)

    def _changed(self, on_result: OnResult) -> Callable[[Any], None]:
        def done(result: Any) -> None:
            self.changed.emit()
            if on_result is not None:
                on_result(result)
        return done

    def approve(self, proposal_id: str, note: str | None = None, on_result: OnResult = None,
                on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.approve(proposal_id, note), on_result, on_error)

    def reject(self, proposal_id: str, note: str | None = None, on_result: OnResult = None,
               on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.reject(proposal_id, note), on_result, on_error)

    def apply(self, proposal_id: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.apply(proposal_id), on_result, on_error)

    def rollback(self, to_version: str | None = None, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self._write(lambda svc: svc.rollback(to_version), on_result, on_error)

    def set_consent(self, share: bool, on_result: OnResult = None) -> Job:
        from mirror_desktop.core.lifecycle import set_telemetry_consent

        return self._write(lambda svc: set_telemetry_consent(svc.storage, share), on_result, None)

    def record_event(self, event_type: str, data: dict[str, Any]) -> Job:
        """A signed lifecycle event (core.lifecycle.record_event), e.g. ``config_change`` after engine settings."""
        from mirror_desktop.core.lifecycle import record_event

        return self.call(lambda svc: record_event(svc.storage, event_type, data), None)

    def draft_from_feedback(self, on_result: OnResult = None) -> Job:
        """Repeated feedback flags become drafts (the feedback form calls this after each save)."""
        def done(made: list[Any]) -> None:
            if made:
                self.drafted.emit(len(made))
                self.changed.emit()
            if on_result is not None:
                on_result(made)
        return self.call(lambda svc: svc.draft_from_feedback(), done)

    def check_regression(self, on_result: OnResult = None) -> Job:
        def done(found: Any) -> None:
            if found is not None:
                self.regression_found.emit(found)
            if on_result is not None:
                on_result(found)
        return self.call(lambda svc: svc.check_regression(), done)
