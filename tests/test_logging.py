"""Logs never hold what people wrote (issue 7, item 5), they rotate, and crashes log types and frames only.

The marker test drives the real paths at DEBUG — services and storage, the offline engine, drafts,
search, the `mirror` CLI in a subprocess — and then reads every file in the log folder.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from collections.abc import Iterator

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.services import JournalService
from mirror_desktop.logging_setup import (ContentGuard, LoggingSetup, install_excepthook, setup_logging)
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage


@pytest.fixture
def marker() -> str:
    return f"MARKER{uuid.uuid4().hex[:12]}"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "journal")


@pytest.fixture
def debug_logging(paths: AppPaths) -> Iterator[LoggingSetup]:
    setup = setup_logging(paths, "mirror-test", level="DEBUG", console_level=None)
    yield setup
    setup.close()


def log_text(paths: AppPaths) -> str:
    files = [p for p in paths.log_dir.rglob("*") if p.is_file()]
    assert files, "nothing was logged at all; the test would prove nothing"
    return "\n".join(p.read_bytes().decode("utf-8", errors="replace") for p in files)


def prose(marker: str) -> str:
    return (f"Tonight I walked by the river and thought about {marker} and the way work keeps "
            f"pulling me back.\nI should probably rest, but part of me wants to keep going.")


def run_cli(paths: AppPaths, *args: str) -> subprocess.CompletedProcess[str]:
    """`mirror …` in a subprocess with DEBUG file logging (how the CLI is wired: setup_logging, then main)."""
    code = ("import sys\n"
            "from mirror_desktop.paths import AppPaths\n"
            "from mirror_desktop.logging_setup import setup_logging\n"
            "from mirror_desktop import cli\n"
            f"setup_logging(AppPaths.resolve({str(paths.data_dir)!r}), 'mirror-cli', level='DEBUG')\n"
            "sys.exit(cli.main(sys.argv[1:]))\n")
    return subprocess.run([sys.executable, "-c", code, "--data-dir", str(paths.data_dir), *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MIRROR_LOG_LEVEL": "DEBUG"})


def test_a_planted_marker_never_reaches_the_log_folder(paths: AppPaths, debug_logging: LoggingSetup,
                                                        marker: str) -> None:
    from mirror_desktop.engine.core import MirrorCore

    with SQLiteStorage(paths.database) as storage:
        svc = JournalService(storage)
        ident = svc.create_identity("Personal")
        long_one = svc.save_reflection(prose(marker), identity_id=ident.id, tags=["river"])
        svc.save_reflection(marker)  # a one-word reflection: the guard cannot catch it, the code must not log it
        svc.save_draft(f"draft about {marker}")
        svc.save_reflection(prose(marker) + " again", reflection_id=long_one.id, identity_id=ident.id)
        assert [h.reflection.id for h in svc.search(marker)]
        generation = MirrorCore().generate(prose(marker))
        storage.mirrorbacks.create(m.Mirrorback(long_one.id, generation.text, generation.engine_version))
        svc.search(f'"{marker}" river')
        svc.delete_reflection(long_one.id)

    r = run_cli(paths, "search", marker)
    assert r.returncode == 0, r.stderr
    assert marker in r.stdout  # the CLI found it, so the text went through the logged code path
    plain = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(paths.data_dir),
                            "search", marker], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr

    text = log_text(paths)
    assert (paths.log_dir / "mirror-cli.log").exists()
    assert marker not in text
    assert marker.lower() not in text.lower()


def test_the_guard_withholds_prose_in_arguments_messages_and_third_party_records(
        paths: AppPaths, debug_logging: LoggingSetup, marker: str) -> None:
    lg = logging.getLogger("mirror_desktop.test")
    lg.debug("reflection %s saved (%d words)", "0f3a9c", 27)
    lg.info("saved %s", prose(marker))
    lg.info("mapping %(body)s", {"body": prose(marker)})
    lg.info(f"an f-string that pastes the text: {prose(marker)}")
    lg.warning("failed: %s", ValueError(prose(marker)))
    logging.getLogger("thirdparty").info(("INSERT INTO reflection VALUES (?)", [prose(marker)]))
    logging.getLogger("peewee").debug(("INSERT INTO reflection VALUES (?)", [marker]))
    text = log_text(paths)
    assert marker not in text
    assert "reflection 0f3a9c saved (27 words)" in text  # ids and counts are kept
    assert text.count("<text withheld:") >= 5
    assert "ValueError(<text withheld:" in text


def test_exceptions_are_logged_by_type_and_frames_without_their_message(
        paths: AppPaths, debug_logging: LoggingSetup, marker: str) -> None:
    def failing_parse() -> None:
        raise ValueError(f"cannot parse {marker}")

    try:
        try:
            failing_parse()
        except ValueError as exc:
            raise RuntimeError(marker) from exc
    except RuntimeError:
        logging.getLogger("mirror_desktop.test").exception("job %s failed", "j42")

    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook
    try:
        install_excepthook(chain=False)
        try:
            raise KeyError(marker)
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        t = threading.Thread(target=failing_parse, name="worker-7")
        t.start()
        t.join()
    finally:
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook

    text = log_text(paths)
    assert marker not in text
    assert "job j42 failed" in text
    assert "RuntimeError" in text and "caused by:" in text and "in failing_parse" in text
    assert "uncaught exception: KeyError" in text
    assert "uncaught exception in thread worker-7: ValueError" in text


def test_logs_rotate_and_stay_bounded(paths: AppPaths) -> None:
    setup = setup_logging(paths, "mirror-desktop", level="DEBUG", console_level=None, max_bytes=4_000,
                          backup_count=3)
    try:
        lg = logging.getLogger("mirror_desktop.test")
        for i in range(2_000):
            lg.info("autosave of reflection %08d took %d ms", i, i % 17)
    finally:
        setup.close()
    files = sorted(p.name for p in paths.log_dir.iterdir())
    assert files == ["mirror-desktop.log", "mirror-desktop.log.1", "mirror-desktop.log.2", "mirror-desktop.log.3"]
    assert all((paths.log_dir / f).stat().st_size <= 4_000 for f in files)
    assert "reflection 00001999" in (paths.log_dir / "mirror-desktop.log").read_text()


def test_setup_twice_replaces_its_handlers_and_close_removes_them(paths: AppPaths) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    a = setup_logging(paths, "one", console_level=None)
    b = setup_logging(paths, "two", console_level=None)
    mine = [h for h in root.handlers if h not in before]
    assert len(mine) == 1 and all(isinstance(f, ContentGuard) for f in mine[0].filters)
    b.close()
    a.close()
    assert [h for h in root.handlers if h not in before] == []


def test_an_unwritable_log_folder_does_not_stop_the_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    paths = AppPaths(tmp_path, tmp_path, blocker / "logs")  # a file where the folder should be
    setup = setup_logging(paths, console_level=None)
    setup.close()
    assert "logging to the terminal only" in capsys.readouterr().err


def test_qt_messages_are_routed_into_the_log_through_the_guard(paths: AppPaths, debug_logging: LoggingSetup,
                                                               marker: str) -> None:
    qt_core = pytest.importorskip("PySide6.QtCore")
    from mirror_desktop.logging_setup import install_qt_message_handler

    previous = install_qt_message_handler()
    try:
        qt_core.qWarning("QFont::setPointSize: Point size <= 0 (-1), must be greater than 0")
        qt_core.qWarning(prose(marker))
    finally:
        qt_core.qInstallMessageHandler(previous)
    text = log_text(paths)
    assert "qt [MainThread] [default] QFont::setPointSize: Point size <= 0 (-1)" in text
    assert marker not in text
