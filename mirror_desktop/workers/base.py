"""FeatureClient: what every feature's worker client shares — a service on the executor, failures as sentences.

A client is the window's one road to the database for its feature (issue 10): it submits use cases of a
core service to the serial DatabaseExecutor and announces each landed write with a past-tense signal
(Anki's operations: every write reports what changed). Widgets never submit jobs or call services.
"""

from __future__ import annotations

import logging
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.workers.executor import DatabaseExecutor, Job

log = logging.getLogger(__name__)

OnResult = Callable[[Any], None] | None
OnError = Callable[[BaseException], None] | None


def sentence(exc: BaseException) -> str:
    """The one sentence a person sees for a failure (MirrorError carries its own)."""
    if isinstance(exc, MirrorError):
        return str(exc)
    log.error("unexpected database failure: %r", exc)
    return "Mirror could not reach the journal just now; your text is kept and will be saved when you retry."


class FeatureClient(QObject):
    """Base of the feature clients.

    Signals:
        operation_failed(str): a write failed; payload is the one sentence to show.
    """

    operation_failed = Signal(str)

    def __init__(self, executor: DatabaseExecutor, service: Callable[[Any], Any],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.executor = executor
        self._service = service

    def call(self, use_case: Callable[[Any], Any], on_result: OnResult = None, on_error: OnError = None,
             *, lane: str = "write") -> Job:
        """Run ``use_case(service(storage))`` on an executor lane; callbacks on the GUI thread."""
        service = self._service
        return self.executor.submit(lambda storage: use_case(service(storage)), on_result,
                                    on_error if on_error is not None else self._failed, lane=lane)

    def query(self, use_case: Callable[[Any], Any], on_result: OnResult, on_error: OnError = None) -> Job:
        """A read the person is waiting for: on the read lane, never behind background work (issue 12)."""
        return self.call(use_case, on_result, on_error, lane="read")

    def _failed(self, exc: BaseException) -> None:
        self.operation_failed.emit(sentence(exc))

    def _then(self, signal: Any, on_result: OnResult, *payload: Any) -> Callable[[Any], None]:
        """A result callback that announces ``signal`` (with ``payload``, or the result) and then answers."""
        def done(result: Any) -> None:
            signal.emit(*(payload or (result,)))
            if on_result is not None:
                on_result(result)
        return done
