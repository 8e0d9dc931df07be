"""IntegrationsClient and the poller thread: the window's road to calendars and notes (issue 14, items 4 and 7).

The client submits IntegrationService use cases to the serial DatabaseExecutor and announces each
landed change in the past tense; "Test connection" runs on a TaskRunner thread (it reaches a server or
the disk, never the database). The poller is ``integrations.sync.Poller`` — the Qt-free loop the CLI's
``mirror integration sync`` shares — run on a QThread of its own: its database steps are jobs on the
executor, waited for on the poller's thread (never on the GUI thread), and quitting stops it promptly.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QObject, QThread, Signal, Slot

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.integrations import IntegrationService, IntegrationView
from mirror_desktop.core.safe_io import private_dir
from mirror_desktop.integrations import credentials
from mirror_desktop.integrations.base import ConfigError, SyncCancelled, connector_for
from mirror_desktop.integrations.sync import FREQUENCIES, Poller, SyncReport, check_connection, due_integrations
from mirror_desktop.workers.base import FeatureClient, OnError, OnResult, sentence
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.tasks import TaskRunner

log = logging.getLogger(__name__)

# The providers the window offers, in the order its form lists them: (provider, type, label).
PROVIDERS: tuple[tuple[str, str, str], ...] = (
    ("ics_file", "calendar", "Calendar file (.ics)"),
    ("ics_url", "calendar", "Calendar subscription (ICS URL)"),
    ("caldav", "calendar", "CalDAV calendar"),
    ("obsidian", "notes", "Obsidian vault (Markdown folder)"),
)


@dataclass(frozen=True)
class IntegrationForm:
    """What the add/edit form collected; ``password`` is typed text (kept in the keychain, never the database)."""

    provider: str
    path: str | None = None
    url: str | None = None
    username: str | None = None
    password: str | None = None
    password_file: str | None = None
    every: str = "daily"
    identity_id: str | None = None
    calendar: str | None = None
    look_back_days: int | None = None
    auto_reflect: bool | None = None  # calendars: each new event becomes a draft (None: leave as it is)

    @property
    def integration_type(self) -> str:
        return next((t for p, t, _ in PROVIDERS if p == self.provider), "calendar")

    def config(self) -> dict[str, Any]:
        """The connector config this form describes (for Test connection; the service builds the stored one)."""
        config: dict[str, Any] = {"provider": self.provider, "sync_frequency": self.every}
        if self.path:
            config["path"] = str(Path(self.path).expanduser())
        for key in ("url", "username", "calendar", "look_back_days"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        return config


# -- use cases the service lacks, composed here from its parts ------------------------------------------

def _with_password(form: IntegrationForm, secrets_dir: Path, run: Callable[[str | None], m.Integration]) -> m.Integration:
    """Run ``run(password_file)``: a typed password goes through a private file the service reads once.

    The service keeps the secret in the keychain; only when no keychain took it does the integration
    keep pointing at the file (headless machines, integrations/credentials.py), so the file stays then.
    """
    if form.password_file or not form.password:
        return run(form.password_file)
    folder = private_dir(secrets_dir)
    path = folder / f"password-{m.new_id()}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(form.password + "\n")
    try:
        integ = run(str(path))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if (integ.config or {}).get(credentials.PASSWORD_FILE) != str(path.resolve()):
        path.unlink(missing_ok=True)  # the keychain holds it
    return integ


def _window_problems(provider: str, form: IntegrationForm, config: dict[str, Any], has_secret: bool) -> list[str]:
    """The service's checks in the window's words (its own sentences name the CLI's flags)."""
    problems = []
    label = next((lab for p, _t, lab in PROVIDERS if p == provider), provider)
    if connector_for(provider).needs_secret and not (has_secret or form.password or form.password_file):
        problems.append(f"A {label} needs its password: type it, or give a file whose first line is the password.")
    path = config.get("path")
    if provider == "obsidian" and path and not Path(path).is_dir():
        problems.append(f"{path} is not a folder; choose the vault's folder.")
    if provider == "ics_file" and path and not Path(path).is_file():
        problems.append(f"{path} is not a file; choose the .ics file.")
    return problems


def add_integration(svc: IntegrationService, form: IntegrationForm, secrets_dir: Path) -> m.Integration:
    problems = _window_problems(form.provider, form, form.config(), has_secret=False)
    if problems:
        raise ConfigError(problems)

    def run(password_file: str | None) -> m.Integration:
        return svc.add(form.integration_type, form.provider, path=form.path, url=form.url,
                       username=form.username or None, password_file=password_file, every=form.every,
                       identity_id=form.identity_id, calendar=form.calendar or None,
                       look_back_days=form.look_back_days, auto_reflect=bool(form.auto_reflect))
    return _with_password(form, secrets_dir, run)


def update_integration(svc: IntegrationService, integration_id: str, form: IntegrationForm,
                       secrets_dir: Path) -> m.Integration:
    """Edit: where the source is, how often it syncs, whose it is; a new password if one was typed."""
    integ = svc.get(integration_id)
    config = dict(integ.config or {})
    provider = str(config.get("provider"))
    connector = connector_for(provider)
    config["sync_frequency"] = form.every
    if form.every not in FREQUENCIES:
        raise ConfigError([f"How often must be hourly, daily or manual (got {form.every!r})."])
    if form.path is not None:
        config["path"] = str(Path(form.path).expanduser().resolve())
    for key in ("url", "username", "calendar"):
        value = getattr(form, key)
        if value is not None:
            if value:
                config[key] = value.strip()
            else:
                config.pop(key, None)
    if form.look_back_days is not None:
        config["look_back_days"] = form.look_back_days
    problems = connector.validate(config) + _window_problems(
        provider, form, config, has_secret=credentials.credentials_kind(integ.config or {}) != "none")
    if problems:
        raise ConfigError(problems)
    metadata = dict(integ.metadata or {})
    if form.auto_reflect is not None:
        metadata["auto_reflect"] = bool(form.auto_reflect)
    with svc.storage.transaction():  # the new place and the new password land together, or neither
        svc.storage.integrations.update(replace(integ, config=config, identity_id=form.identity_id,
                                                metadata=metadata))
        if form.password or form.password_file:
            # Entering the credentials again is what Resume does (it also clears "needs reauthorization").
            def run(password_file: str | None) -> m.Integration:
                return svc.resume(integration_id, password_file=password_file)
            return _with_password(form, secrets_dir, run)
    return svc.get(integration_id)


# Day queries ask a day wider on each side, then keep what belongs to the day (items_by_day): an all-day
# event is stored as UTC midnights, which a local day away from UTC would otherwise miss.
SLACK = timedelta(days=1)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The person's local midnights around ``day`` (aware), the span whose items show beside that day."""
    start = datetime.combine(day, time()).astimezone()
    end = datetime.combine(day + timedelta(days=1), time()).astimezone()
    return start, end


def items_by_day(items: list[m.IntegrationItem], first: date, last: date) -> dict[date, list[m.IntegrationItem]]:
    """Each local day in [first, last] with the items overlapping it (an all-day or multi-day event on each)."""
    days: dict[date, list[m.IntegrationItem]] = {}
    for item in items:
        if item.starts_at is None:
            continue
        start = item.starts_at.astimezone()
        end = (item.ends_at or item.starts_at).astimezone()
        if item.all_day:
            # An all-day event is stored as UTC midnights: it belongs to those calendar dates, not to local shifts.
            d, stop = item.starts_at.date(), max((item.ends_at or item.starts_at).date() - timedelta(days=1),
                                                 item.starts_at.date())
        else:
            d, stop = start.date(), (end - timedelta(microseconds=1)).date() if end > start else start.date()
        while d <= stop:
            if first <= d <= last:
                days.setdefault(d, []).append(item)
            d += timedelta(days=1)
    for listed in days.values():
        listed.sort(key=lambda i: (not i.all_day, i.starts_at or datetime.min.astimezone(), i.title or ""))
    return days


class IntegrationsClient(FeatureClient):
    """Integrations for the window.

    Signals:
        integration_added(object): an integration was added; payload is the Integration.
        integration_updated(object): edited, paused or resumed; payload is the Integration.
        integration_removed(str): payload is the id of the integration removed (its items went with it).
        sync_started(str): the poller began syncing; payload is the integration id.
        sync_progressed(str, int, str): (integration id, percent 0..100 or -1 when unknown, step in words).
        sync_finished(object): a sync ended; payload is its SyncReport (``summary()`` is the sentence).
        operation_failed(str): a change failed; payload is the one sentence to show.
    """

    integration_added = Signal(object)
    integration_updated = Signal(object)
    integration_removed = Signal(str)
    sync_started = Signal(str)
    sync_progressed = Signal(str, int, str)
    sync_finished = Signal(object)

    def __init__(self, executor: DatabaseExecutor, secrets_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(executor, IntegrationService, parent)
        self.secrets_dir = secrets_dir
        self.tasks = TaskRunner("mirror-integration-test", self)
        self.poller = PollerThread(executor, self)
        self.poller.sync_started.connect(self.sync_started)
        self.poller.sync_progressed.connect(self.sync_progressed)
        self.poller.sync_finished.connect(self.sync_finished)

    # -- reading ---------------------------------------------------------------------------
    def load(self, on_result: Callable[[list[IntegrationView]], None], on_error: OnError = None) -> None:
        self.query(lambda svc: svc.list_integrations(), on_result, on_error)

    def identities(self, on_result: Callable[[list[m.Identity]], None]) -> None:
        """The identities an integration may belong to (its day items then follow the identity switcher)."""
        self.query(lambda svc: sorted(svc.storage.identities.list(), key=lambda i: i.name.casefold()), on_result)

    def day_items(self, day: date, identity_id: str | None, on_result: Callable[[list[m.IntegrationItem]], None]) -> None:
        """Calendar items of one local day (events only: notes are reflections already)."""
        start, end = local_day_bounds(day)

        def run(svc: IntegrationService) -> list[m.IntegrationItem]:
            found = svc.day_items(start - SLACK, end + SLACK, identity_id=identity_id)
            return items_by_day([i for i in found if i.kind == "event"], day, day).get(day, [])
        self.query(run, on_result)

    def days_items(self, first: date, last: date, identity_id: str | None,
                   on_result: Callable[[dict[date, list[m.IntegrationItem]]], None]) -> None:
        """Calendar items of every local day in [first, last], by day (a thread's timeline)."""
        start, end = local_day_bounds(first)[0], local_day_bounds(last)[1]

        def run(svc: IntegrationService) -> dict[date, list[m.IntegrationItem]]:
            found = svc.day_items(start - SLACK, end + SLACK, identity_id=identity_id)
            return items_by_day([i for i in found if i.kind == "event"], first, last)
        self.query(run, on_result)

    # -- changing --------------------------------------------------------------------------
    def add(self, form: IntegrationForm, on_result: OnResult = None, on_error: OnError = None) -> None:
        secrets = self.secrets_dir

        def added(integ: m.Integration) -> None:
            self.integration_added.emit(integ)
            self.poller.sync_now(integ.id)  # a new source shows its items without waiting for its schedule
            if on_result is not None:
                on_result(integ)
        self.call(lambda svc: add_integration(svc, form, secrets), added, on_error)

    def update(self, integration_id: str, form: IntegrationForm, on_result: OnResult = None,
               on_error: OnError = None) -> None:
        secrets = self.secrets_dir

        def updated(integ: m.Integration) -> None:
            self.integration_updated.emit(integ)
            if str(integ.status) == "active":
                self.poller.sync_now(integ.id)  # the edited source is read again at once
            if on_result is not None:
                on_result(integ)
        self.call(lambda svc: update_integration(svc, integration_id, form, secrets), updated, on_error)

    def pause(self, integration_id: str, on_error: OnError = None) -> None:
        self.call(lambda svc: svc.pause(integration_id), self._then(self.integration_updated, None), on_error)

    def resume(self, integration_id: str, on_error: OnError = None) -> None:
        def resumed(integ: m.Integration) -> None:
            self.integration_updated.emit(integ)
            self.poller.wake()
        self.call(lambda svc: svc.resume(integration_id), resumed, on_error)

    def remove(self, integration_id: str, on_error: OnError = None) -> None:
        secrets = self.secrets_dir

        def run(svc: IntegrationService) -> str:
            integ = svc.remove(integration_id)
            # A password file Mirror itself kept (no keychain) goes with the integration.
            kept = (integ.config or {}).get(credentials.PASSWORD_FILE)
            if kept and Path(kept).parent == secrets.resolve():
                Path(kept).unlink(missing_ok=True)
            return integ.id
        self.call(run, self._then(self.integration_removed, None), on_error)

    def sync_now(self, integration_id: str) -> None:
        """Sync this integration on the poller's thread now, whatever its schedule."""
        self.poller.sync_now(integration_id)

    def cancel_sync(self, integration_id: str) -> None:
        """Cancel this integration's sync (running or asked for): nothing is written, and the
        ``sync_finished`` report says so ("Sync cancelled; nothing was changed.")."""
        self.poller.cancel(integration_id)

    # -- Test connection: a fetch that writes nothing, off the GUI thread --------------------
    def test_connection(self, form: IntegrationForm, on_result: Callable[[str], None],
                        on_error: Callable[[str], None], stored: m.Integration | None = None) -> None:
        """Fetch once with what the form says (or, editing without a new password, the stored credentials)."""
        config = form.config()
        password = form.password
        password_file = form.password_file

        def probe() -> str:
            secret = password or None
            if secret is None and password_file:
                secret = credentials.read_password_file(password_file)
            if secret is None and stored is not None:
                secret = credentials.load_secret(stored.id, stored.config or {})
            return check_connection(form.provider, config, secret)

        self.tasks.run(probe, on_result, lambda exc: on_error(sentence(exc)))

    # -- lifetime --------------------------------------------------------------------------
    def start_polling(self) -> None:
        self.poller.start()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the poller (promptly: it abandons a fetch in flight) and any Test connection, and wait."""
        ok = self.poller.stop(timeout_ms)
        # A Test connection stuck on a silent server is abandoned after a moment, not waited for.
        return self.tasks.shutdown(min(timeout_ms, 2000)) and ok


# -- the poller on its own QThread ------------------------------------------------------------------

class _WindowPoller(Poller):
    """The Qt-free Poller with the window's hooks: database steps as executor jobs, a "Sync now" queue."""

    def __init__(self, executor: DatabaseExecutor, emit_progress: Callable[[str, float, str], None], **kw: Any) -> None:
        super().__init__(self._run_db, **kw)
        self.executor = executor
        self.requested: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.current = ""
        self.batch = (0, 1)  # (this sync's place in the round, the round's size)
        # Poller's own state only checks the stop; this one also reports progress (the status bar).
        self.state = cast(Any, _ProgressState(self._stop, lambda f, msg: emit_progress(self.current, f, msg),
                                              self._cancel))

    def _run_db(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(storage)`` as a job on the executor's write lane, waited for here, on the poller's thread.

        Once the poller is stopped, a job not yet started is skipped (SyncCancelled here) instead of
        waited for; one already running finishes (it checks the stop itself between items).
        """
        return self.executor.run_and_wait(fn, cancelled=lambda: self.stopped, cancelled_error=SyncCancelled)

    def sync_one(self, integration_id: str, now: datetime | None = None) -> SyncReport:
        self.current = integration_id
        n, total = self.batch
        # Progress over a round's integrations (a single sync shows as busy: -1).
        self.state.set_progress(n / total if total > 1 else -1.0, f"{n + 1} of {total}" if total > 1 else "")
        try:
            return super().sync_one(integration_id, now)
        except SyncCancelled as exc:
            report = SyncReport(integration_id, "cancelled", str(exc))
        except MirrorError as exc:
            report = SyncReport(integration_id, "error", str(exc))
        if self.on_report is not None:
            self.on_report(report)
        return report

    def round(self, now: datetime | None = None) -> list[SyncReport]:
        """"Sync now" requests first, then every due integration; one failing never stops the others."""
        now = now or datetime.now(UTC)
        asked: list[str] = []
        while True:
            try:
                asked.append(self.requested.get_nowait())
            except queue.Empty:
                break
        due = self.run_db(lambda storage: [i.id for i in due_integrations(storage, now)])
        order = list(dict.fromkeys(asked + due))
        reports: list[SyncReport] = []
        for n, iid in enumerate(order):
            if self.stopped:
                break
            self.batch = (n, len(order))
            reports.append(self.sync_one(iid, now))
        self.batch = (0, 1)
        self.forget_cancels()
        return reports


class _ProgressState:
    """The poller's SyncState: progress goes out as a signal; cancelled once the poller stops."""

    def __init__(self, stop: threading.Event, emit: Callable[[float, str], None],
                 cancel: threading.Event | None = None) -> None:
        self._stop = stop
        self._emit = emit
        self._cancel = cancel or threading.Event()

    def set_progress(self, fraction: float, message: str = "") -> None:
        self._emit(fraction, message)

    def is_cancelled(self) -> bool:
        return self._stop.is_set() or self._cancel.is_set()


class _PollerWorker(QObject):
    """Lives on the poller's QThread; ``run`` is the Poller's loop (it holds the thread until stopped)."""

    sync_started = Signal(str)
    sync_progressed = Signal(str, int, str)
    sync_finished = Signal(object)

    def __init__(self, executor: DatabaseExecutor, max_sleep_s: float) -> None:
        super().__init__()
        self.poller = _WindowPoller(executor, self._progress, max_sleep_s=max_sleep_s,
                                    on_report=self.sync_finished.emit, on_started=self.sync_started.emit)

    def _progress(self, integration_id: str, fraction: float, message: str) -> None:
        percent = -1 if fraction < 0 else int(round(min(fraction, 1.0) * 100))
        self.sync_progressed.emit(integration_id, percent, message)

    @Slot()
    def run(self) -> None:
        try:
            self.poller.run()
        except Exception:  # noqa: BLE001 - the poller must never take the window down
            log.exception("integrations poller stopped on an error")
        finally:
            self.thread().quit()


class PollerThread(QObject):
    """Owns the poller's QThread: started after the journal opens, stopped and waited for at quit.

    Signals (queued to the GUI thread):
        sync_started(str), sync_progressed(str, int, str), sync_finished(object): as IntegrationsClient's.
    """

    sync_started = Signal(str)
    sync_progressed = Signal(str, int, str)
    sync_finished = Signal(object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None, *, max_sleep_s: float = 300.0) -> None:
        super().__init__(parent)
        self.qthread = QThread()
        self.qthread.setObjectName("mirror-integrations")
        self.worker = _PollerWorker(executor, max_sleep_s)
        self.worker.moveToThread(self.qthread)
        self.qthread.started.connect(self.worker.run)
        self.worker.sync_started.connect(self.sync_started)
        self.worker.sync_progressed.connect(self.sync_progressed)
        self.worker.sync_finished.connect(self.sync_finished)
        self._started = False

    @property
    def running(self) -> bool:
        return self.qthread.isRunning()

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.qthread.start(QThread.Priority.LowPriority)

    def sync_now(self, integration_id: str) -> None:
        self.worker.poller.requested.put(integration_id)
        self.worker.poller.wake()

    def wake(self) -> None:
        self.worker.poller.wake()

    def cancel(self, integration_id: str) -> None:
        self.worker.poller.cancel(integration_id)

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Stop the loop and wait for its thread; a fetch in flight is abandoned (it writes nothing)."""
        self.worker.poller.stop()
        if not self._started:
            return True
        self.qthread.quit()
        return bool(self.qthread.wait(timeout_ms))
