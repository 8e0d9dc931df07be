"""Suite-wide fixtures: offscreen Qt, an in-memory keyring, and Qt warnings that fail Qt tests.

Qt itself is imported lazily (only by Qt tests), so the core/storage/engine suites keep proving
that their modules load without PySide6.
"""

from __future__ import annotations

import os

import pytest

# A throwaway PostgreSQL server and per-test databases, for every suite that needs one.
pytest_plugins = ["postgres_fixtures"]

# Must be set before any Qt import: the tests run headless and never touch a real display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

# Messages the offscreen platform prints about itself; they say nothing about Mirror's code.
_PLATFORM_NOISE = ("This plugin does not support", "propagateSizeHints")


@pytest.fixture(autouse=True)
def usual_umask():  # type: ignore[no-untyped-def]
    """Every test starts under the usual umask 022 (RELIABILITY.md, files at rest), whatever an
    in-process `mirror` command set before (the CLI makes its own process umask 077)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture(autouse=True)
def memory_keyring():  # type: ignore[no-untyped-def]
    """RELIABILITY.md: tests never touch the real keychain."""
    import keyring
    from keyring_backends import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _is_qt_test(request: pytest.FixtureRequest) -> bool:
    path = str(request.node.path)
    return "qtbot" in request.fixturenames or f"{os.sep}ui{os.sep}" in path or f"{os.sep}workers{os.sep}" in path


@pytest.fixture(autouse=True)
def fail_on_qt_warnings(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Any Qt warning, critical or fatal message during a Qt test fails it (qutebrowser's rule)."""
    if not _is_qt_test(request):
        yield []
        return
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    caught: list[str] = []

    def handler(mode, context, message):  # type: ignore[no-untyped-def]
        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            if not any(n in message for n in _PLATFORM_NOISE):
                caught.append(f"{mode.name}: {message}")

    previous = qInstallMessageHandler(handler)
    yield caught
    qInstallMessageHandler(previous)
    if caught:
        pytest.fail("Qt warnings during the test:\n" + "\n".join(caught), pytrace=False)


class GatedCalendar:
    """A calendar source that lists one event, then waits at a gate before the rest: a slow sync, for the tests
    of Cancel and of writes landing mid-sync (the poller's and the window's)."""

    integration_type = "calendar"
    needs_secret = False
    sorted_ids = False
    description = "a test source that waits at a gate"

    def __init__(self, provider: str) -> None:
        import threading

        self.provider = provider
        self.entered = threading.Event()
        self.gate = threading.Event()

    def validate(self, config: object) -> list[str]:
        return []

    def location(self, config: object) -> str:
        return "gate"

    def fetch(self, config: object, secret: object, ctx: object) -> object:
        from datetime import UTC, datetime

        from mirror_desktop.integrations.base import FetchResult, Item

        def items() -> object:
            for n in range(3):
                if n == 1:
                    self.entered.set()
                    self.gate.wait(30)
                    ctx.check()  # type: ignore[attr-defined]
                yield Item(external_id=f"e{n}", kind="event", version="1", title=f"Event {n}",
                           starts_at=datetime(2026, 12, 1, 9 + n, tzinfo=UTC))
        return FetchResult(items=items())  # type: ignore[arg-type]


@pytest.fixture
def gated_calendar():  # type: ignore[no-untyped-def]
    """``gated_calendar(provider)``: a GatedCalendar registered as a connector under that provider name."""
    from mirror_desktop.integrations.base import register

    def make(provider: str) -> GatedCalendar:
        source = GatedCalendar(provider)
        register(source)  # type: ignore[arg-type]
        return source

    return make
