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


class _MemoryKeyring:
    """Lazily built keyring backend that keeps secrets in a dict (never the real keychain)."""

    @staticmethod
    def make():  # type: ignore[no-untyped-def]
        from keyring.backend import KeyringBackend

        class MemoryKeyring(KeyringBackend):
            priority = 1  # type: ignore[assignment]

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service: str, username: str) -> str | None:
                return self.store.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                self.store[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                import keyring.errors

                if self.store.pop((service, username), None) is None:
                    raise keyring.errors.PasswordDeleteError(username)

        return MemoryKeyring()


@pytest.fixture(autouse=True)
def memory_keyring():  # type: ignore[no-untyped-def]
    """RELIABILITY.md: tests never touch the real keychain."""
    import keyring

    previous = keyring.get_keyring()
    backend = _MemoryKeyring.make()
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
