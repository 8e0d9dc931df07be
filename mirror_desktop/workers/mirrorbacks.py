"""MirrorbacksClient: the mirrorback panel's road to the journal and the engine.

One Reflect is three steps: ``prepare`` (executor: read the reflection and its tensions) → ``generate``
(a BackgroundTask: the engine, which may be a slow LLM, never holds the database thread, so autosave
keeps working while a model thinks) → ``record`` (executor: store the mirrorback and its telemetry).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core.mirrorbacks import MirrorbackService, consent_host
from mirror_desktop.workers.base import FeatureClient, OnError, OnResult
from mirror_desktop.workers.executor import DatabaseExecutor, Job
from mirror_desktop.workers.tasks import TaskRunner

EngineFactory = Callable[[], Any] | None
AskConsent = Callable[[str, Callable[[bool], None]], None]


class MirrorbacksClient(FeatureClient):
    """Submits MirrorbackService use cases; runs the engine off both the GUI and the database thread.

    Signals:
        mirrorback_recorded(object): a mirrorback was written and stored; payload is the ReflectResult.
        feedback_saved(object): feedback was stored in engine_feedback; payload is the Feedback row.
        operation_failed(str): (inherited) a write failed; payload is the one sentence to show.
    """

    mirrorback_recorded = Signal(object)
    feedback_saved = Signal(object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, MirrorbackService, parent)
        self.tasks = TaskRunner("mirror-engine", self)

    def load(self, reflection_id: str, on_result: OnResult, on_error: OnError = None) -> Job:
        """Every mirrorback of a reflection, oldest first, with its run, feedback and tension names."""
        return self.call(lambda svc: svc.mirrorbacks_for(reflection_id), on_result, on_error)

    def reflect(self, reflection_id: str, factory: EngineFactory, on_result: Callable[[Any], None],
                on_error: Callable[[BaseException], None], ask_consent: AskConsent | None = None) -> None:
        """Write the next mirrorback; answers (ReflectResult, the reflection's mirrorbacks).

        A local-only reflection goes to a remote engine only after ``ask_consent(host, answer)`` got the
        person's yes for it (issue 11); without one the offline engine answers and says why.
        """
        def prepare(storage: Any) -> Any:
            request = MirrorbackService(storage, factory).prepare(reflection_id, variant=None)
            full = storage.reflections.get(reflection_id).content if request.truncated else None
            return request, full

        def consent(prepared: Any) -> None:
            request, full = prepared
            # Resolving a *.localhost name can take a while: off the GUI thread, and never on a database lane.
            engine_config = lambda: MirrorbackService(None, factory).engine_factory().config  # noqa: E731
            self.tasks.run(lambda: consent_host(request.visibility, engine_config()),
                           lambda host: ask(host, request, full), on_error)

        def ask(host: str | None, request: Any, full: str | None) -> None:
            if host is None or ask_consent is None:
                generate(request, full)
            else:
                ask_consent(host, lambda yes: generate(replace(request, remote_consent=yes), full))

        def generate(request: Any, full: str | None) -> None:
            self.tasks.run(lambda: MirrorbackService(None, factory).generate(request, full_text=full),
                           lambda generation: record(request, generation), on_error)

        def record(request: Any, generation: Any) -> None:
            def store(storage: Any) -> Any:
                svc = MirrorbackService(storage, factory)
                return svc.record(request, generation), svc.mirrorbacks_for(reflection_id)

            def done(out: Any) -> None:
                self.mirrorback_recorded.emit(out[0])
                on_result(out)

            self.executor.submit(store, done, on_error)

        self.executor.submit(prepare, consent, on_error)

    def save_feedback(self, run_id: str, reflection_id: str, *, rating: int | None, flags: Sequence[str], notes: str,
                      factory: EngineFactory, on_result: OnResult, on_error: OnError = None) -> Job:
        """Store a rating/flags/notes; answers (Feedback, the reflection's mirrorbacks)."""
        flags = list(flags)

        def save(svc: MirrorbackService) -> Any:
            store = getattr(factory, "store", None)   # the settings say whether telemetry may be shared
            share = bool(store.load().share_telemetry) if store is not None else False
            svc = MirrorbackService(svc.storage, share_telemetry=share)
            fb = svc.record_feedback(run_id, rating=rating, flags=flags, notes=notes)
            return fb, svc.mirrorbacks_for(reflection_id)

        def done(out: Any) -> None:
            self.feedback_saved.emit(out[0])
            if on_result is not None:
                on_result(out)

        return self.call(save, done, on_error)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Wait for an engine call in flight (call before the executor shuts down)."""
        return self.tasks.shutdown(timeout_ms)
