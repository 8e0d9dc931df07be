"""Integration fixtures: a real Radicale CalDAV server and a stand-in HTTP calendar server on 127.0.0.1.

Radicale runs as its own process (pip ``radicale``) with a temporary folder and htpasswd auth on a
free loopback port. The stand-in HTTP server answers like a calendar feed: ETag and 304, 401, 500,
a hang (to prove timeouts) and an oversized body.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "ics"
SHARED_VAULT = ROOT.parent / "shared" / "testdata" / "imports" / "obsidian" / "vault"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Radicale:
    url: str
    username: str
    password: str
    password_file: Path
    folder: Path
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        import caldav

        return caldav.DAVClient(url=self.url, username=self.username, password=self.password, timeout=10)


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    pytest.importorskip("radicale")
    base = tmp_path_factory.mktemp("radicale")
    users = base / "users"
    users.write_text("alice:correct horse battery\n")
    pw = base / "alice.pw"
    pw.write_text("correct horse battery\n")
    os.chmod(pw, 0o600)
    port = free_port()
    cmd = [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
           "--storage-filesystem-folder", str(base / "collections"), "--auth-type", "htpasswd",
           "--auth-htpasswd-filename", str(users), "--auth-htpasswd-encryption", "plain",
           "--logging-level", "warning", "--config", ""]
    log = open(base / "radicale.log", "wb")  # noqa: SIM115 - the server writes to it until the end of the session
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("Radicale did not start: " + (base / "radicale.log").read_text())
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("Radicale did not open its port within 30 s")
    server = Radicale(f"http://127.0.0.1:{port}/", "alice", "correct horse battery", pw, base, proc)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def radicale(radicale_server: Radicale) -> Iterator[Radicale]:
    """The server with an empty principal for each test (collections removed between tests)."""
    yield radicale_server
    shutil.rmtree(radicale_server.folder / "collections" / "collection-root" / radicale_server.username,
                  ignore_errors=True)


@dataclass
class Feed:
    """What the stand-in server serves; tests change it between requests."""

    body: bytes = b""
    etag: str | None = '"v1"'
    status: int = 200
    hang_s: float = 0.0
    username: str | None = None
    password: str | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    content_length: int | None = None


class _Handler(http.server.BaseHTTPRequestHandler):
    feed: Feed

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        feed = self.server.feed  # type: ignore[attr-defined]
        feed.requests.append({k.lower(): v for k, v in self.headers.items()})
        if feed.hang_s:
            time.sleep(feed.hang_s)
            return
        if feed.username is not None:
            import base64

            expected = "Basic " + base64.b64encode(f"{feed.username}:{feed.password}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="cal"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if feed.status != 200:
            self.send_response(feed.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if feed.etag and self.headers.get("If-None-Match") == feed.etag:
            self.send_response(304)
            self.send_header("ETag", feed.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        if feed.etag:
            self.send_header("ETag", feed.etag)
        self.send_header("Content-Length", str(feed.content_length if feed.content_length is not None else len(feed.body)))
        self.end_headers()
        try:
            self.wfile.write(feed.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # A CalDAV client speaks PROPFIND and REPORT: the stand-in answers them like GET (status, hang, 401).
    do_PROPFIND = do_GET  # noqa: N815
    do_REPORT = do_GET  # noqa: N815
    do_OPTIONS = do_GET  # noqa: N815


@dataclass
class FeedServer:
    url: str
    feed: Feed


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    feed = Feed()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.feed = feed  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FeedServer(f"http://127.0.0.1:{server.server_address[1]}/cal.ics", feed)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shared_vault() -> Path:
    if not SHARED_VAULT.is_dir():
        if os.environ.get("MIRROR_CI") == "1":
            pytest.fail(f"The Obsidian sample vault is missing at {SHARED_VAULT} (MIRROR_CI=1 requires it).")
        pytest.skip(f"the Obsidian sample vault is not at {SHARED_VAULT} (../shared is absent)")
    return SHARED_VAULT


@pytest.fixture
def sqlite_storage(tmp_path: Path) -> Iterator[Any]:
    from mirror_desktop.storage.journal import SQLiteStorage

    s = SQLiteStorage(tmp_path / "mirror_os.db")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(params=["sqlite", "postgres"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The same sync test bodies on a real SQLite file and a real PostgreSQL server."""
    from mirror_desktop.storage.journal import open_storage

    if request.param == "postgres":
        s = open_storage(postgres_dsn=request.getfixturevalue("postgres_dsn"))
    else:
        s = open_storage(sqlite_path=tmp_path / "mirror_os.db")
    try:
        yield s
    finally:
        s.close()
