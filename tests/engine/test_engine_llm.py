"""LLM adapters against stand-in Ollama and OpenAI-compatible servers on 127.0.0.1."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mirror_desktop.engine import (
    EngineConfig,
    EngineConfigError,
    MirrorCore,
    OllamaEngine,
    OpenAICompatibleEngine,
    RemoteEngineRefused,
    TensionRef,
    constitution_text,
)

GOOD = "It sounds like “the report tonight” is sitting heavily with you. What feels most alive in this right now?"
ADVICE = "You should rest more. Try to sleep early, and it might help to take a walk."
ENTRY = "I have to finish the report tonight. Part of me wants to quit, but part of me loves the work."


class StandIn:
    """A tiny server speaking one API; ``replies`` are served in order, the last one repeats."""

    def __init__(self, api: str, replies=(GOOD,), *, status=200, delay=0.0, models=("llama3:latest",)):
        self.api, self.replies, self.status, self.delay, self.models = api, list(replies), status, delay, models
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                stand_in.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                if self.path == "/api/tags" and stand_in.api == "ollama":
                    self._send(200, {"models": [{"name": m} for m in stand_in.models]})
                elif self.path == "/v1/models" and stand_in.api == "openai":
                    self._send(200, {"object": "list", "data": [{"id": m} for m in stand_in.models]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
                if stand_in.delay:
                    time.sleep(stand_in.delay)
                if stand_in.status != 200:
                    self._send(stand_in.status, {"error": "boom"})
                    return
                n = sum(1 for r in stand_in.requests if r["method"] == "POST")
                content = stand_in.replies[min(n, len(stand_in.replies)) - 1]
                if stand_in.api == "ollama" and self.path == "/api/chat":
                    self._send(200, {"model": body["model"], "message": {"role": "assistant", "content": content}, "done": True})
                elif stand_in.api == "openai" and self.path == "/v1/chat/completions":
                    self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})
                else:
                    self._send(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def posts(self):
        return [r for r in self.requests if r["method"] == "POST"]


def config(api, url, **kw):
    return EngineConfig(mode="local_llm", kind=api, base_url=url, model="llama3", **kw)


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_normal_reply_passes_through(api):
    with StandIn(api) as server:
        g = MirrorCore(config(api, server.url, timeout_s=5)).generate(ENTRY)
    assert g.text == GOOD
    assert g.engine_mode == "local_llm"
    assert g.model_name == "llama3"
    assert g.engine_kind == api
    assert g.attempts == 1
    assert "fallback" not in g.flags
    assert "internal_tension" in g.patterns  # telemetry still comes from the rules' analysis
    assert g.duration_ms > 0
    post = server.posts[0]
    assert post["path"] == ("/api/chat" if api == "ollama" else "/v1/chat/completions")
    assert post["body"]["model"] == "llama3"
    assert post["body"]["stream"] is False
    assert [m["role"] for m in post["body"]["messages"]] == ["system", "user"]


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_system_prompt_carries_the_constitution(api):
    with StandIn(api) as server:
        MirrorCore(config(api, server.url, timeout_s=5)).generate(ENTRY)
    messages = server.posts[0]["body"]["messages"]
    assert constitution_text() in messages[0]["content"]
    assert messages[1]["content"].startswith(ENTRY)


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_slow_server_times_out_and_falls_back(api):
    with StandIn(api, delay=1.0) as server:
        g = MirrorCore(config(api, server.url, timeout_s=0.2)).generate(ENTRY)
    assert g.flags["fallback"] == {"from": api, "reason": "timeout"}
    assert g.engine_mode == "manual" and g.model_name is None and g.engine_kind == "rules"
    assert g.attempts == 2
    assert "“" in g.text  # the rules engine's reply, quoting the writer


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_failing_server_falls_back_after_two_attempts(api):
    with StandIn(api, status=500) as server:
        g = MirrorCore(config(api, server.url, timeout_s=5)).generate(ENTRY)
    assert len(server.posts) == 2
    assert g.flags["fallback"] == {"from": api, "reason": "http_500"}
    assert g.text == MirrorCore().generate(ENTRY).text


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_advice_is_regenerated_with_a_stronger_instruction(api):
    with StandIn(api, replies=[ADVICE, GOOD]) as server:
        g = MirrorCore(config(api, server.url, timeout_s=5)).generate(ENTRY)
    assert g.text == GOOD
    assert g.attempts == 2 and g.flags.get("regenerated") is True
    first, second = (p["body"]["messages"][0]["content"] for p in server.posts)
    assert "explicit_advice" not in first
    assert "broke the constitution (explicit_advice" in second


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_advice_twice_falls_back_to_rules(api):
    with StandIn(api, replies=[ADVICE]) as server:
        g = MirrorCore(config(api, server.url, timeout_s=5)).generate(ENTRY)
    assert len(server.posts) == 2
    assert g.flags["fallback"] == {"from": api, "reason": "explicit_advice"}
    assert "you should" not in g.text.lower()
    assert "explicit_advice" not in g.flags


def test_too_many_questions_also_regenerates():
    with StandIn("ollama", replies=["What is it? What now?", GOOD]) as server:
        g = MirrorCore(config("ollama", server.url, timeout_s=5)).generate(ENTRY)
    assert g.text == GOOD and g.attempts == 2


def test_unreachable_server_falls_back():
    with StandIn("ollama") as server:
        url = server.url
    g = MirrorCore(config("ollama", url, timeout_s=1)).generate(ENTRY)
    assert g.flags["fallback"] == {"from": "ollama", "reason": "connection_error"}


def test_crisis_never_goes_to_the_model():
    with StandIn("ollama") as server:
        g = MirrorCore(config("ollama", server.url, timeout_s=5)).generate("I want to end it all.")
    assert server.posts == []
    assert g.flags["crisis_language"] is True


def test_openai_sends_the_bearer_key_and_accepts_v1_base_url():
    with StandIn("openai") as server:
        engine = OpenAICompatibleEngine(config("openai", server.url + "/v1", timeout_s=5), api_key="sk-test-123")
        engine.generate(ENTRY)
        assert engine.health_check().ok
    assert server.posts[0]["headers"]["Authorization"] == "Bearer sk-test-123"
    assert server.posts[0]["path"] == "/v1/chat/completions"


def test_no_authorization_header_without_a_key():
    with StandIn("openai") as server:
        OpenAICompatibleEngine(config("openai", server.url, timeout_s=5)).generate(ENTRY)
    assert "Authorization" not in server.posts[0]["headers"]


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_health_check(api):
    with StandIn(api) as server:
        ok = MirrorCore(config(api, server.url, timeout_s=5)).health_check()
        missing = MirrorCore(EngineConfig(mode="local_llm", kind=api, base_url=server.url, model="mistral")).health_check()
        assert server.requests[0]["path"] == ("/api/tags" if api == "ollama" else "/v1/models")
    assert ok.ok and ok.models == ("llama3:latest",)
    assert not missing.ok and "mistral" in missing.message
    down = MirrorCore(config(api, server.url, timeout_s=1)).health_check()
    assert not down.ok and "built-in engine" in down.message


def test_health_check_times_out():
    # A listening socket that never answers: the connection is accepted, the read times out.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        health = OllamaEngine(config("ollama", url, timeout_s=0.2)).health_check()
    finally:
        sock.close()
    assert not health.ok and "timeout" in health.message


def test_remote_engine_needs_explicit_opt_in():
    remote = EngineConfig(mode="remote_llm", kind="openai", base_url="https://api.example.com", model="gpt")
    with pytest.raises(RemoteEngineRefused, match="leave the device"):
        MirrorCore(remote)
    # A remote host labelled local is still remote: consent follows where the text goes.
    mislabelled = EngineConfig(mode="local_llm", kind="ollama", base_url="http://192.168.1.20:11434", model="x")
    with pytest.raises(RemoteEngineRefused):
        MirrorCore(mislabelled)
    allowed = MirrorCore(EngineConfig(mode="remote_llm", kind="openai", base_url="https://api.example.com",
                                      model="gpt", remote_opt_in=True))
    assert allowed.config.effective_mode == "remote_llm"


@pytest.mark.parametrize(
    "bad",
    [
        EngineConfig(mode="local_llm", kind="rules"),
        EngineConfig(mode="manual", kind="ollama", model="x"),
        EngineConfig(mode="local_llm", kind="ollama"),
        EngineConfig(mode="local_llm", kind="ollama", model="x", timeout_s=0),
        EngineConfig(version="1.0"),
    ],
)
def test_invalid_configs_are_refused(bad):
    with pytest.raises(EngineConfigError):
        MirrorCore(bad)


def test_llm_telemetry_has_no_reflection_text():
    marker = "Quillivant"
    text = f"I have to call {marker} but part of me wants to hide from {marker}."
    for replies, status in (([GOOD], 200), ([ADVICE], 200), ([GOOD], 500)):
        with StandIn("ollama", replies=replies, status=status) as server:
            g = MirrorCore(config("ollama", server.url, timeout_s=5)).generate(text, [TensionRef("t1", "Hiding vs Being seen", "Hiding", "Being seen")])
        telemetry = json.dumps([g.patterns, g.tensions_surfaced, g.flags, g.model_name, g.metadata(),
                                [s.__dict__ for s in g.suggested_tensions]])
        assert marker.lower() not in telemetry.lower()
