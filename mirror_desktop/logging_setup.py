"""Logging to the platform's log folder with rotation, and a policy that keeps what people wrote out of it.

Where: ``AppPaths.log_dir`` (platformdirs' user log folder, or ``<data-dir>/logs`` with ``--data-dir``),
one rotating file per program (``mirror-desktop.log``, ``mirror-cli.log``) so the window and the CLI
never rotate each other's file; 1 MB × 5 backups by default, so the folder stays bounded (~6 MB each).

What never reaches a log (issue 7, PRODUCT.md "telemetry ... never content"): reflection text,
mirrorback text, search queries, draft text. The design has three layers, from most to least important:

1. **Convention at the call site.** Modules log ids, counts, timings, exception *types* and paths,
   never a ``content`` or a ``text`` value. ``tests/test_logging.py`` drives the real code paths
   (services, storage, engine, CLI search) at DEBUG with a planted marker and greps every log file,
   so a call site that breaks the convention fails CI.
2. **Exceptions are logged by type and frames only.** :class:`ContentSafeFormatter` renders
   ``exc_info`` as the exception types of the chain plus ``file:line in function`` for each frame; it
   never renders an exception's message (the commonest accidental carrier of user data: a
   ``ValueError`` quoting the value it rejected) and never locals. :func:`install_excepthook` sends
   uncaught exceptions, on any thread, through that formatter.
3. **A guard on every handler.** :class:`ContentGuard` withholds anything that *looks like prose*:
   each argument is rendered, and one that spans lines or holds ``PROSE_WORDS`` or more words is
   replaced by ``<text withheld: N chars>``; a message without arguments (an f-string, or a
   third-party record such as peewee's ``(sql, params)`` tuples) is checked the same way as a whole,
   with a longer allowance for a format string we wrote. Ids, counts, paths, type names and short
   technical messages pass unchanged. The record is *redacted, not dropped*, so the log still shows
   that something happened, where and when. The guard is a net, not the rule: a two-word reflection
   passed as an argument would get through it, which is why layer 1 is tested.

Third-party loggers that log SQL parameters (peewee at DEBUG) are capped at INFO, since parameters are
journal text. Qt's own messages can be routed here with :func:`install_qt_message_handler` (PySide6 is
imported only inside it, so this module stays importable by the Qt-free CLI).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from collections.abc import Callable

from mirror_desktop.core.safe_io import private_dir
from mirror_desktop.paths import AppPaths

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
# An argument with this many words or more is treated as prose; ids, paths and counts have a few.
PROSE_WORDS = 8
# A format string (written by us) gets more room before it is treated as prose (an f-string with text).
MESSAGE_PROSE_WORDS = 24
# Loggers whose DEBUG records carry journal text (SQL parameters); never below INFO.
TEXT_BEARING_LOGGERS = ("peewee", "psycopg")
LEVEL_ENV = "MIRROR_LOG_LEVEL"

log = logging.getLogger(__name__)


def _withheld(text: str) -> str:
    return f"<text withheld: {len(text)} chars>"


def looks_like_prose(text: str, words: int = PROSE_WORDS) -> bool:
    """True for free text: anything spanning lines, or holding ``words`` or more whitespace-separated words."""
    return "\n" in text.strip() or len(text.split()) >= words


class ContentGuard(logging.Filter):
    """Redacts record arguments and messages that look like prose; see the module docstring (layer 3).

    Attached to handlers (not loggers) so it sees records from every logger, ours and third parties'.
    It mutates the record, so every handler after it, in any order, sees the redacted form.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_mirror_guarded", False):
            return True
        record._mirror_guarded = True  # type: ignore[attr-defined]
        try:
            self._redact(record)
        except Exception:  # a guard that fails must fail closed: keep the event, drop its text
            record.msg, record.args = "<log record withheld: could not be checked>", None
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        if not isinstance(record.msg, str):
            rendered = record.getMessage()
            record.msg = _withheld(rendered) if looks_like_prose(rendered) else rendered
            record.args = None
            return
        if looks_like_prose(record.msg, MESSAGE_PROSE_WORDS):
            record.msg, record.args = _withheld(record.getMessage()), None
            return
        args = record.args
        if isinstance(args, Mapping):
            record.args = {k: self._arg(v) for k, v in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(self._arg(a) for a in args)

    @staticmethod
    def _arg(value: Any) -> Any:
        if isinstance(value, (int, float, bool, type(None), Path)):
            return value
        if isinstance(value, BaseException):
            text = str(value)
            return f"{type(value).__name__}({_withheld(text)})" if looks_like_prose(text) else value
        text = value if isinstance(value, str) else repr(value) if isinstance(value, (bytes, tuple, list, dict, set)) else str(value)
        return _withheld(text) if looks_like_prose(text) else value


def describe_exception(exc_type: type[BaseException] | None, exc: BaseException | None,
                       tb: TracebackType | None) -> str:
    """An exception as types and frames only: no message, no source lines, no locals (layer 2).

    Follows the ``__cause__`` / ``__context__`` chain like Python's own traceback, innermost last.
    """
    blocks: list[str] = []
    seen: set[int] = set()
    intro = ""
    t, e, frames = exc_type, exc, tb
    while t is not None:
        module = getattr(t, "__module__", "")
        name = t.__qualname__ if module in ("builtins", "") else f"{module}.{t.__qualname__}"
        lines = [f"{intro}Traceback (types and frames only; the message is not logged): {name}"]
        lines += [f"  {fs.filename}:{fs.lineno} in {fs.name}" for fs in traceback.extract_tb(frames)]
        blocks.append("\n".join(lines))
        if e is None:
            break
        seen.add(id(e))
        nxt = e.__cause__ if e.__cause__ is not None else (None if e.__suppress_context__ else e.__context__)
        if nxt is None or id(nxt) in seen:
            break
        intro = "caused by: " if e.__cause__ is not None else "while handling: "
        t, e, frames = type(nxt), nxt, nxt.__traceback__
    return "\n".join(blocks)


class ContentSafeFormatter(logging.Formatter):
    """The standard line format; exceptions rendered by :func:`describe_exception`."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's API
        return describe_exception(*ei)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's API
        # stack_info is frames plus source lines of our own code: no user text, keep it.
        return stack_info

    def format(self, record: logging.LogRecord) -> str:
        # logging caches the rendered exception (with its message) on the record; never reuse a
        # cache another formatter filled.
        record.exc_text = None
        text = super().format(record)
        record.exc_text = None
        return text


@dataclass
class LoggingSetup:
    """What :func:`setup_logging` installed; ``close()`` removes it again (tests, reopen)."""

    log_file: Path
    handlers: list[logging.Handler] = field(default_factory=list)
    previous_root_level: int = logging.WARNING
    previous_levels: dict[str, int] = field(default_factory=dict)

    def close(self) -> None:
        root = logging.getLogger()
        for h in self.handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(self.previous_root_level)
        for name, level in self.previous_levels.items():
            logging.getLogger(name).setLevel(level)
        self.handlers.clear()


def resolve_level(level: int | str | None) -> int:
    """``level`` if given, else ``$MIRROR_LOG_LEVEL`` (DEBUG, INFO …), else INFO."""
    value = level if level is not None else os.environ.get(LEVEL_ENV, "INFO")
    if isinstance(value, int):
        return value
    resolved = logging.getLevelName(value.strip().upper())
    return resolved if isinstance(resolved, int) else logging.INFO


class PrivateRotatingFileHandler(logging.FileHandler):
    """A log that rotates at ``max_bytes`` into ``.1`` … ``.backup_count``, whose files are 0600 whatever the umask:
    ids and counts are still the person's.

    What logging.handlers.RotatingFileHandler does, without importing logging.handlers, which brings socket and
    pickle with it: about 8 ms of the window's first paint (issue 12).
    """

    def __init__(self, filename: Path, max_bytes: int, backup_count: int) -> None:
        super().__init__(filename, mode="a", encoding="utf-8", delay=True)
        self.max_bytes = max_bytes
        self.backup_count = backup_count

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.chmod(self.baseFilename, 0o600)  # a log an older version left readable
        except OSError:
            pass
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.max_bytes > 0 and os.path.exists(self.baseFilename):
                size = os.path.getsize(self.baseFilename)
                if size and size + len(self.format(record)) + 1 > self.max_bytes:
                    self._rotate()
        except Exception:  # noqa: BLE001 - logging's own rule: a failing handler reports and carries on
            self.handleError(record)
            return
        super().emit(record)

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        for i in range(self.backup_count - 1, 0, -1):
            older = f"{self.baseFilename}.{i}"
            if os.path.exists(older):
                os.replace(older, f"{self.baseFilename}.{i + 1}")
        if self.backup_count > 0:
            os.replace(self.baseFilename, f"{self.baseFilename}.1")
        else:
            os.truncate(self.baseFilename, 0)


def setup_logging(paths: AppPaths, program: str = "mirror-desktop", *, level: int | str | None = None,
                  console_level: int | None = logging.WARNING, max_bytes: int = MAX_BYTES,
                  backup_count: int = BACKUP_COUNT) -> LoggingSetup:
    """Log to ``paths.log_dir/<program>.log`` (rotating) and, at ``console_level`` and above, to stderr.

    Replaces any handler a previous call installed. If the log folder cannot be created (read-only
    home, full disk) Mirror still runs and logs to stderr only: a log is never a reason not to start.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_mirror_handler", False):
            root.removeHandler(h)
            h.close()
    file_level = resolve_level(level)
    formatter = ContentSafeFormatter(LOG_FORMAT)
    guard = ContentGuard()
    log_file = paths.log_dir / f"{program}.log"
    setup = LoggingSetup(log_file=log_file, previous_root_level=root.level)
    handlers: list[logging.Handler] = []
    try:
        private_dir(paths.log_dir)
        fh = PrivateRotatingFileHandler(log_file, max_bytes, backup_count)
        fh.setLevel(file_level)
        handlers.append(fh)
    except OSError as exc:
        print(f"{program}: cannot write logs to {paths.log_dir} ({exc.strerror or type(exc).__name__}); "
              "logging to the terminal only.", file=sys.stderr)
    if console_level is not None and sys.stderr is not None:  # windowed builds have no stderr
        sh = logging.StreamHandler(sys.stderr)
        sh.setLevel(console_level)
        handlers.append(sh)
    for h in handlers:
        h.setFormatter(formatter)
        h.addFilter(guard)
        h._mirror_handler = True  # type: ignore[attr-defined]
        root.addHandler(h)
    # Guard handlers someone else installed too (logging.basicConfig before us, a test harness).
    for h in root.handlers:
        if not any(isinstance(f, ContentGuard) for f in h.filters):
            h.addFilter(guard)
    root.setLevel(min([h.level for h in handlers] or [logging.WARNING]))
    for name in TEXT_BEARING_LOGGERS:
        lg = logging.getLogger(name)
        setup.previous_levels[name] = lg.level
        if lg.getEffectiveLevel() < logging.INFO or lg.level == logging.NOTSET:
            lg.setLevel(logging.INFO)
    setup.handlers = handlers
    log.info("logging started: program=%s pid=%d level=%s", program, os.getpid(), logging.getLevelName(file_level))
    return setup


def unexpected_error_sentence(exc_type: type[BaseException]) -> str:
    """What the window says about a bug: what happened, that the writing is safe, where the details are."""
    return (f"Something went wrong inside Mirror ({exc_type.__name__}); what you wrote is saved. The details are in "
            "the log (Help → About → Open logs); please try again.")


def install_excepthook(logger: logging.Logger | None = None, *,
                       chain: bool = True, notify: Callable[[str], None] | None = None) -> Callable[..., None]:
    """Log uncaught exceptions (main thread and other threads) by type and frames; returns the old hook.

    With ``chain`` the previous hook still runs afterwards (it prints the full traceback to the
    terminal, which is not persisted) unless there is no terminal (a windowed build). ``notify`` gets
    one sentence for the person for an exception on the main thread (the window shows it: an error in
    a menu action was only logged before, issue 11); it never holds the exception's text, only its type.
    """
    lg = logger or logging.getLogger("mirror_desktop.uncaught")
    previous = sys.excepthook
    previous_thread = threading.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        lg.critical("uncaught exception: %s", exc_type.__name__, exc_info=(exc_type, exc, tb))
        if chain and sys.stderr is not None:
            previous(exc_type, exc, tb)
        if notify is not None:
            notify(unexpected_error_sentence(exc_type))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        lg.critical("uncaught exception in thread %s: %s", getattr(args.thread, "name", "?"),
                    args.exc_type.__name__, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        if chain and sys.stderr is not None:
            previous_thread(args)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return previous


def install_qt_message_handler(logger: logging.Logger | None = None) -> Any:
    """Route Qt's own warnings (qWarning, QML, plugin loading) into the log; returns the previous handler.

    Call once after :func:`setup_logging`, in the window's process only. Qt messages pass through
    the same :class:`ContentGuard` as everything else, with a format string's allowance.
    """
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    lg = logger or logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: Any, context: Any, message: str) -> None:
        category = getattr(context, "category", None) or "default"
        # Qt's messages are written by Qt, like our format strings, so they get the format string's
        # allowance (MESSAGE_PROSE_WORDS) rather than an argument's: "QFont::setPointSize: Point
        # size <= 0 (-1), must be greater than 0" stays readable, a pasted paragraph does not.
        lg.log(levels.get(kind, logging.WARNING), f"[{category}] " + message.replace("%", "%%"))

    return qInstallMessageHandler(handler)
