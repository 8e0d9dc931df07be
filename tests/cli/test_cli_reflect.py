"""`mirror reflect` and `mirror feedback` as a person runs them: a subprocess, stdin, --json, bad input."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ENTRY = "I have to finish the report tonight. Part of me wants to quit, but part of me loves the work."
JSON_KEYS = {"reflection_id", "mirrorback", "patterns", "tensions_surfaced", "flags", "engine_mode",
             "model_name", "duration_ms", "run_id"}


def mirror(data_dir, *argv, stdin: bytes | None = None, timeout=120):
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("MIRROR_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data_dir), *argv],
                          input=stdin if stdin is not None else b"", capture_output=True, timeout=timeout, env=env)


def rows(data_dir, sql):
    con = sqlite3.connect(data_dir / "mirror_os.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def assert_clean_error(r, code=2):
    err = r.stderr.decode()
    assert r.returncode == code, (r.returncode, err)
    assert "Traceback" not in err
    assert err.startswith("mirror: ") and err.count("\n") <= 2, err


def test_reflect_prints_the_mirrorback_and_saves_everything(tmp_path):
    r = mirror(tmp_path, "reflect", ENTRY)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "“" in out and "you should" not in out.lower()
    assert rows(tmp_path, "SELECT content FROM reflections") == [(ENTRY,)]
    assert rows(tmp_path, "SELECT count(*) FROM mirrorbacks")[0][0] == 1
    assert rows(tmp_path, "SELECT engine_mode, duration_ms > 0 FROM engine_runs") == [("manual", 1)]


def test_reflect_json_has_the_issue_keys(tmp_path):
    r = mirror(tmp_path, "reflect", "--json", ENTRY)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert JSON_KEYS <= set(data)
    assert data["engine_mode"] == "manual" and data["model_name"] is None and data["duration_ms"] > 0
    assert "internal_tension" in data["patterns"]
    assert rows(tmp_path, "SELECT id, reflection_id FROM engine_runs") == [(data["run_id"], data["reflection_id"])]


@pytest.mark.parametrize("how", [[], ["-"]])
def test_reflect_reads_stdin(tmp_path, how):
    r = mirror(tmp_path, "reflect", "--json", *how, stdin=ENTRY.encode())
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path, "SELECT content FROM reflections") == [(ENTRY,)]


def test_feedback_on_a_run(tmp_path):
    run_id = json.loads(mirror(tmp_path, "reflect", "--json", ENTRY).stdout)["run_id"]
    r = mirror(tmp_path, "feedback", run_id, "--rating", "4", "--flag", "too_generic", "--flag", "too_long", "--notes", "fine")
    assert r.returncode == 0, r.stderr
    [(run, rating, flags, notes, shared)] = rows(tmp_path, "SELECT engine_run_id, rating, flags, notes, sync_allowed FROM engine_feedback")
    assert (run, rating, json.loads(flags), notes, shared) == (run_id, 4, ["too_generic", "too_long"], "fine", 0)


@pytest.mark.parametrize("argv", [
    ["--rating", "6"], ["--rating", "three"], ["--flag", "brilliant"], [],
])
def test_bad_feedback_is_refused(tmp_path, argv):
    run_id = json.loads(mirror(tmp_path, "reflect", "--json", ENTRY).stdout)["run_id"]
    assert_clean_error(mirror(tmp_path, "feedback", run_id, *argv))
    assert rows(tmp_path, "SELECT count(*) FROM engine_feedback")[0][0] == 0


def test_feedback_for_unknown_run(tmp_path):
    assert_clean_error(mirror(tmp_path, "feedback", "no-such-run", "--rating", "3"))


# -- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv,stdin", [(["   "], None), ([], b""), ([], b"\n\t \n")])
def test_empty_text_is_refused_and_nothing_saved(tmp_path, argv, stdin):
    r = mirror(tmp_path, "reflect", *argv, stdin=stdin)
    assert_clean_error(r)
    assert "empty" in r.stderr.decode()
    assert not (tmp_path / "mirror_os.db").exists() or rows(tmp_path, "SELECT count(*) FROM reflections")[0][0] == 0


@pytest.mark.parametrize("junk", [bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
                                  b"fine text" + b"\x00\x01\x02" * 50])
def test_binary_junk_on_stdin_is_refused(tmp_path, junk):
    r = mirror(tmp_path, "reflect", stdin=junk)
    assert_clean_error(r)
    assert "binary" in r.stderr.decode()


def test_invalid_utf8_argument_is_refused(tmp_path):
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(tmp_path), "reflect",
                        b"caf\xe9 \xff\xfe"], capture_output=True, timeout=120, env=env)
    assert_clean_error(r)


def test_hundred_thousand_words_are_saved_whole_and_read_in_part(tmp_path):
    text = " ".join(["I keep turning the same thought over, again and again."] * 10_000)  # 100,000 words
    r = mirror(tmp_path, "reflect", "--json", stdin=text.encode())
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["flags"]["input_truncated"]["total_words"] == 100_000
    assert "saved in full" in r.stderr.decode()
    assert rows(tmp_path, "SELECT length(content) FROM reflections") == [(len(text),)]


@pytest.mark.parametrize("text", ["Ich muss immer arbeiten, aber ein Teil von mir will frei sein.",
                                  "今日は仕事がとても忙しかった。少し休みたい。", "Я всегда должна быть сильной.", "🙂🌧️"])
def test_non_english_text(tmp_path, text):
    r = mirror(tmp_path, "reflect", "--json", text)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mirrorback"].strip()
    assert rows(tmp_path, "SELECT content FROM reflections") == [(text,)]


def test_unknown_identity_is_refused(tmp_path):
    assert_clean_error(mirror(tmp_path, "reflect", "--identity", "nobody", ENTRY))
    assert rows(tmp_path, "SELECT count(*) FROM reflections")[0][0] == 0


# -- LLM servers that are not there or misbehave ----------------------------------------------------

def write_engine(tmp_path, **cfg):
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "engine.json").write_text(json.dumps(cfg))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_llm_server_saves_and_exits_non_zero(tmp_path):
    write_engine(tmp_path, kind="ollama", base_url=f"http://127.0.0.1:{free_port()}", model="llama3", timeout_s=3)
    r = mirror(tmp_path, "reflect", "--json", ENTRY)
    assert_clean_error(r, code=1)
    assert "could not be reached" in r.stderr.decode()
    data = json.loads(r.stdout)
    assert data["flags"]["fallback"] == {"from": "ollama", "reason": "connection_error"}
    assert rows(tmp_path, "SELECT content FROM reflections") == [(ENTRY,)]
    assert rows(tmp_path, "SELECT count(*) FROM mirrorbacks")[0][0] == 1


class Garbage:
    """An OpenAI-compatible stand-in that answers every chat with non-JSON."""

    def __enter__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                body = b"<html>oops</html>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_misbehaving_llm_server(tmp_path):
    with Garbage() as server:
        write_engine(tmp_path, kind="openai", base_url=server.url, model="m", timeout_s=5)
        r = mirror(tmp_path, "reflect", ENTRY)
    assert_clean_error(r, code=1)
    assert "unexpected format" in r.stderr.decode()
    assert "“" in r.stdout.decode()
    assert rows(tmp_path, "SELECT count(*) FROM reflections")[0][0] == 1


def test_damaged_engine_settings(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "engine.json").write_bytes(b'{"kind": ')
    r = mirror(tmp_path, "reflect", ENTRY)
    assert_clean_error(r, code=1)
    assert "damaged" in r.stderr.decode()
    assert rows(tmp_path, "SELECT count(*) FROM mirrorbacks")[0][0] == 1
