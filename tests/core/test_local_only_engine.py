"""Issue 11, item 7: a remote engine never receives local-only text without the person's yes for it.

A real HTTP stand-in listens on this machine's non-loopback address, so Mirror sees it as a remote
engine (opted in for the device); every byte it receives is kept and searched for the reflection.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mirror_desktop.core.enums import Visibility
from mirror_desktop.core.mirrorbacks import MirrorbackService
from mirror_desktop.core.outbound import engine_may_read
from mirror_desktop.core.services import JournalService
from mirror_desktop.core.tensions import TensionService
from mirror_desktop.engine import EngineConfig, MirrorCore
from mirror_desktop.engine.config import RemoteEngineRefused, is_loopback
from mirror_desktop.storage.journal import SQLiteStorage

MARKER = "zqxmarker"
ENTRY = f"I keep {MARKER} everything to myself. Part of me wants to tell someone, part of me wants to hide."


def lan_address() -> str:
    # Connecting a UDP socket sends nothing; it only picks the interface a packet would leave by.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        address = ""
    finally:
        probe.close()
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address to stand in for a remote engine")
    return address


class RemoteStandIn:
    """An Ollama-like server on a non-loopback address that records every request body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                outer.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                body = json.dumps({"message": {"role": "assistant",
                                               "content": "It sounds like part of you wants to be heard."}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        host = lan_address()
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> RemoteStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def saw_marker(self) -> bool:
        return any(MARKER.encode() in b for b in self.bodies)


@pytest.fixture
def storage(tmp_path: Path):
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    TensionService(s).ensure_seeds()
    yield s
    s.close()


def remote(url: str):
    return lambda: MirrorCore(EngineConfig(mode="remote_llm", kind="ollama", base_url=url, model="llama3",
                                           timeout_s=5, remote_opt_in=True))


def test_the_gate_itself() -> None:
    assert engine_may_read(Visibility.LOCAL_ONLY, remote=False)
    assert not engine_may_read(Visibility.LOCAL_ONLY, remote=True)
    assert engine_may_read(Visibility.LOCAL_ONLY, remote=True, consent=True)
    assert engine_may_read(Visibility.SYNC_SUMMARY, remote=True)


def test_local_only_text_never_reaches_a_remote_engine_without_a_yes(storage) -> None:
    with RemoteStandIn() as server:
        svc = MirrorbackService(storage, remote(server.url))
        anonymous = JournalService(storage).save_reflection(ENTRY)  # Anonymous: always local only
        assert svc.remote_consent_needed(anonymous.id) == server.url.split("//")[1].split(":")[0]
        res = svc.reflect(anonymous.id)
        assert server.bodies == [] and not server.saw_marker()
        assert res.kept_local and res.run.engine_mode == "manual"
        assert res.notice and "local only" in res.notice and "\n" not in res.notice
        assert res.mirrorback.content.strip()
        assert MARKER not in json.dumps(res.run.flags)

        # The person says yes for this one reflection: it goes, and only then.
        yes = svc.regenerate(anonymous.id, allow_remote=True)
        assert server.saw_marker() and not yes.fell_back and yes.run.engine_mode == "remote_llm"


def test_a_reflection_that_may_leave_needs_no_question(storage) -> None:
    with RemoteStandIn() as server:
        me = JournalService(storage).create_identity("Work self")
        shared = JournalService(storage).save_reflection(ENTRY, identity_id=me.id,
                                                         visibility=Visibility.SYNC_FULL_PRIVATE)
        svc = MirrorbackService(storage, remote(server.url))
        assert svc.remote_consent_needed(shared.id) is None
        res = svc.reflect(shared.id)
        assert server.saw_marker() and not res.fell_back


def test_cli_reflect_keeps_local_only_text_home(tmp_path: Path) -> None:
    with RemoteStandIn() as server:
        config = tmp_path / "config"
        config.mkdir()
        (config / "engine.json").write_text(json.dumps({"kind": "ollama", "base_url": server.url, "model": "llama3",
                                                        "timeout_s": 5, "remote_opt_in": True}))
        env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        env.pop("MIRROR_DATA_DIR", None)
        r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(tmp_path), "reflect", ENTRY],
                           capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() and not server.saw_marker()
        assert r.stderr.startswith("mirror: ") and "local only" in r.stderr and "--allow-remote" in r.stderr
        r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(tmp_path), "reflect",
                            "--allow-remote", ENTRY], capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0, r.stderr
        assert server.saw_marker()


def test_localhost_names_count_as_local_only_when_they_resolve_to_loopback() -> None:
    assert is_loopback("http://127.0.0.1:11434") and is_loopback("http://[::1]:8080")
    assert is_loopback("http://localhost:11434")  # /etc/hosts maps it to 127.0.0.1
    # A *.localhost name that does not resolve to this machine is not "local" just by its spelling.
    try:
        addresses = {i[4][0] for i in socket.getaddrinfo("mirror-test-nowhere.localhost", None)}
    except OSError:
        addresses = set()
    if addresses and all(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip("this resolver maps every *.localhost name to loopback (RFC 6761), so none is remote here")
    assert not is_loopback("http://mirror-test-nowhere.localhost:11434")
    with pytest.raises(RemoteEngineRefused):
        MirrorCore(EngineConfig(mode="local_llm", kind="ollama", base_url="http://mirror-test-nowhere.localhost:11434",
                                model="m"))
