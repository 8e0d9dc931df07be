"""WritingClient: the window's road to the nightly writer's habits — WritingService use cases on the executor.

Calendar months, a day's reflections, On This Day, statistics and tag counts are reads the person is
waiting for (the read lane, off the GUI thread: a month is one aggregate query). Renaming or merging a
tag, templates and the writing settings are writes on the serial lane, each
announced in the past tense so every view decides whether to refresh (STYLE.md habit 6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core.templates import TemplateService
from mirror_desktop.core.writing import Scope, WritingService
from mirror_desktop.workers.base import FeatureClient, OnError, OnResult
from mirror_desktop.workers.executor import DatabaseExecutor, Job


def scope_of(identity_id: str | None, anonymous: bool) -> Scope:
    return Scope(identity_id=None if anonymous else identity_id, anonymous_only=anonymous)


class WritingClient(FeatureClient):
    """Submits WritingService use cases to the executor and re-emits what happened.

    Signals:
        tags_changed(int): a tag was renamed or merged; payload is how many reflections changed.
        templates_changed(): a template was added, edited or deleted.
        settings_saved(object): the writing settings were stored; payload is the WritingSettings.
        operation_failed(str): (inherited) a write failed; payload is the one sentence to show.
    """

    tags_changed = Signal(int)
    templates_changed = Signal()
    settings_saved = Signal(object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, WritingService, parent)

    # -- reads ---------------------------------------------------------------------------------
    def month_counts(self, year: int, month: int, scope: Scope, on_result: OnResult, on_error: OnError = None) -> Job:
        """One month's reflections per local day (MonthCounts): one aggregate query, on the read lane."""
        return self.query(lambda s: s.month_counts(year, month, scope), on_result, on_error or (lambda _e: None))

    def day_reflections(self, day: date, scope: Scope, on_result: OnResult, on_error: OnError = None) -> Job:
        return self.query(lambda s: s.day_reflections(day, scope), on_result, on_error)

    def on_this_day(self, scope: Scope, on_result: OnResult, on_error: OnError = None) -> Job:
        return self.query(lambda s: s.on_this_day(None, scope, limit=20), on_result, on_error or (lambda _e: None))

    def stats(self, scope: Scope, on_result: OnResult, on_error: OnError = None) -> Job:
        return self.query(lambda s: s.stats(scope), on_result, on_error)

    def tag_counts(self, scope: Scope, on_result: OnResult, on_error: OnError = None) -> Job:
        return self.query(lambda s: s.tag_counts(scope), on_result, on_error or (lambda _e: None))

    def settings(self, on_result: OnResult, on_error: OnError = None) -> Job:
        return self.query(lambda s: s.settings(), on_result, on_error)

    def reminder_due(self, now: datetime, on_result: OnResult, on_error: OnError = None) -> Job:
        """The service's ReminderDecision at ``now`` (the caller's clock, so tests can drive it)."""
        return self.query(lambda s: s.reminder_due(now=now), on_result, on_error)

    def templates(self, on_result: OnResult, on_error: OnError = None) -> Job:
        """Built-ins first, then the person's own (TemplateInfo)."""
        return self.executor.submit(lambda storage: TemplateService(storage).list(), on_result,
                                    on_error or self._failed, lane="read")

    # -- writes ----------------------------------------------------------------------------------
    def rename_tag(self, old: str, new: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self.call(lambda s: s.rename_tag(old, new), self._then(self.tags_changed, on_result), on_error)

    def merge_tags(self, sources: Sequence[str], into: str, on_result: OnResult = None,
                   on_error: OnError = None) -> Job:
        src = list(sources)
        return self.call(lambda s: s.merge_tags(src, into), self._then(self.tags_changed, on_result), on_error)

    def mark_reminder_fired(self, day: date, on_result: OnResult = None) -> Job:
        return self.call(lambda s: s.mark_reminder_fired(day), on_result)

    def save_settings(self, settings: Any, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self.call(lambda s: s.save_settings(settings), self._then(self.settings_saved, on_result), on_error)

    def save_template(self, old_name: str | None, name: str, body: str, on_result: OnResult = None,
                      on_error: OnError = None) -> Job:
        """Add or edit one of the person's templates; a new name for an old one replaces it."""
        def write(storage: Any) -> Any:
            svc = TemplateService(storage)
            saved = svc.save(name, body)
            if old_name and old_name.strip().casefold() != saved.name.casefold():
                svc.remove(old_name)
            return saved
        return self.executor.submit(write, self._announce_templates(on_result), on_error or self._failed)

    def delete_template(self, name: str, on_result: OnResult = None, on_error: OnError = None) -> Job:
        return self.executor.submit(lambda storage: TemplateService(storage).remove(name),
                                    self._announce_templates(on_result), on_error or self._failed)

    def _announce_templates(self, on_result: OnResult) -> Callable[[Any], None]:
        def done(result: Any) -> None:
            self.templates_changed.emit()
            if on_result is not None:
                on_result(result)
        return done
