"""MirrorbackService: records per generation, no content in telemetry, feedback rules, fallback, settings."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keyring
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import fail

from mirror_desktop.core.engine_settings import EngineSettings, EngineSettingsStore, make_config
from mirror_desktop.core.errors import NotFoundError, ValidationError
from mirror_desktop.core.mirrorbacks import (
    FEEDBACK_FLAGS,
    MAX_ENGINE_WORDS,
    MirrorbackService,
    ReflectionEmpty,
    engine_text,
)
from mirror_desktop.core.services import JournalService
from mirror_desktop.core.tensions import TensionService, suggestion_status
from mirror_desktop.engine import EngineConfig, MirrorCore
from mirror_desktop.storage.journal import SQLiteStorage

ENTRY = ("I have to finish the report tonight. Part of me wants to quit, but part of me loves the work. "
         "I want freedom but I also need security, and I keep controlling every detail.")


@pytest.fixture
def storage(tmp_path):
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    TensionService(s).ensure_seeds()
    yield s
    s.close()


def save(storage, text=ENTRY, identity_id=None):
    return JournalService(storage).save_reflection(text, identity_id=identity_id)


class StandIn:
    """A stand-in Ollama server on 127.0.0.1 that fails (HTTP 500) or replies with ``reply``."""

    def __init__(self, *, status=200, reply="It sounds like “the report tonight” is heavy."):
        self.posts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts += 1
                body = json.dumps({"message": {"role": "assistant", "content": reply}} if status == 200 else {"error": "boom"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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


def ollama(url, **kw):
    return lambda: MirrorCore(EngineConfig(mode="local_llm", kind="ollama", base_url=url, model="llama3", timeout_s=5, **kw))


# -- records ------------------------------------------------------------------------------------

def test_reflect_writes_a_mirrorback_and_an_engine_run(storage):
    r = save(storage)
    res = MirrorbackService(storage).reflect(r.id)
    mb = storage.mirrorbacks.get(res.mirrorback.id)
    run = storage.engine_runs.get(res.run_id)
    assert mb.reflection_id == r.id and mb.content == res.text and mb.content.strip()
    assert mb.engine_version == run.config_version == "1.0.0"
    for key in ("model", "engine_mode", "duration_ms", "patterns_detected", "tensions_surfaced",
                "directive_score", "constitutional_flags"):
        assert key in mb.metadata
    assert mb.metadata["engine_run_id"] == run.id
    assert run.engine_mode == "manual" and run.model_name is None
    assert run.reflection_id == r.id
    assert "internal_tension" in run.patterns and "obligation_language" in run.patterns
    assert run.mirrorback_length == len(mb.content)
    assert run.duration_ms > 0
    assert run.sync_allowed is False
    assert isinstance(run.flags, dict)


def test_tensions_surfaced_are_the_writers_ids_and_suggestions_are_pending(storage):
    r = save(storage)
    res = MirrorbackService(storage).reflect(r.id)
    ids = {t.id for t in storage.tensions.list()}
    assert res.run.tensions_surfaced and set(res.run.tensions_surfaced) <= ids
    control = next(t for t in storage.tensions.list() if t.axis_a == "Control")
    assert control.id in res.run.tensions_surfaced
    sugg = [t for t in storage.tensions.list() if t.origin == "llm_suggested"]
    assert [t.name for t in sugg] == ["Freedom vs Security"]
    assert suggestion_status(sugg[0]) == "pending"
    assert sugg[0].metadata["discovered_in_reflection"] == r.id


def test_suggestions_are_deduplicated_by_name_across_runs(storage):
    svc = MirrorbackService(storage)
    for _ in range(3):
        svc.reflect(save(storage).id)
    r = save(storage)
    svc.regenerate(r.id)
    names = [t.name for t in storage.tensions.list() if t.origin == "llm_suggested"]
    assert names.count("Freedom vs Security") == 1


def test_several_mirrorbacks_per_reflection(storage):
    r = save(storage)
    svc = MirrorbackService(storage)
    first = svc.reflect(r.id)
    second = svc.regenerate(r.id)
    third = svc.regenerate(r.id)
    entries = svc.mirrorbacks_for(r.id)
    assert [e.mirrorback.id for e in entries] == [first.mirrorback.id, second.mirrorback.id, third.mirrorback.id]
    assert [e.mirrorback.metadata["variant"] for e in entries] == [0, 1, 2]
    assert [e.run.id for e in entries] == [first.run_id, second.run_id, third.run_id]
    assert storage.engine_runs.count(reflection_id=r.id) == 3
    assert len({e.mirrorback.content for e in entries}) >= 2  # regenerate changes the phrasing
    assert all(e.tension_names for e in entries)


def test_same_input_and_variant_give_the_same_reply(storage):
    a, b = save(storage), save(storage)
    svc = MirrorbackService(storage)
    assert svc.reflect(a.id).text == svc.reflect(b.id).text


def test_reflection_of_an_identity_sees_its_tensions(storage):
    ident = JournalService(storage).create_identity("Work self")
    own = TensionService(storage).create_tension("Deadline vs Craft", "Deadline", "Craft", identity_id=ident.id)
    other = JournalService(storage).create_identity("Home self")
    theirs = TensionService(storage).create_tension("Deadline vs Rest", "Deadline", "Rest", identity_id=other.id)
    r = save(storage, "The deadline is eating the craft.", identity_id=ident.id)
    res = MirrorbackService(storage).reflect(r.id)
    assert own.id in res.run.tensions_surfaced and theirs.id not in res.run.tensions_surfaced


def test_empty_reflection_is_refused_and_nothing_is_written(storage):
    with pytest.raises(ValidationError):
        save(storage, " \n\t ")
    assert storage.reflections.count() == 0
    assert issubclass(ReflectionEmpty, ValidationError)   # the service refuses one too, should it exist
    assert storage.engine_runs.count() == 0 and storage.mirrorbacks.count() == 0


def test_unknown_reflection_is_a_clear_error(storage):
    with pytest.raises(NotFoundError):
        MirrorbackService(storage).reflect("00000000-0000-0000-0000-000000000000")


def test_long_reflection_is_read_up_to_the_cap_and_kept_whole(storage):
    text = ("I have to keep going. " * 20_000).strip()   # 100,000 words
    r = save(storage, text)
    res = MirrorbackService(storage).reflect(r.id)
    assert storage.reflections.get(r.id).content == text
    assert res.run.flags["input_truncated"] == {"words_read": MAX_ENGINE_WORDS, "total_words": 100_000}
    assert "first 3,000 of 100,000 words" in res.notice


def test_crisis_language_past_the_cap_still_takes_the_crisis_path(storage):
    text = "The weather was grey. " * 2000 + "Sometimes I think everyone would be better off without me."
    res = MirrorbackService(storage).reflect(save(storage, text).id)
    assert res.run.flags.get("crisis_language") is True


def test_engine_text_cuts_at_a_word_end():
    assert engine_text("one two  three four", 2) == ("one two", 2, 4)
    assert engine_text("one two", 5) == ("one two", 2, 2)


def test_non_english_text_gets_a_mirrorback(storage):
    for text in ("Ich muss immer arbeiten, aber ein Teil von mir will frei sein.", "仕事が忙しくて、少し疲れた。",
                 "أشعر بالتعب من العمل", "🙂🙂🙂"):
        res = MirrorbackService(storage).reflect(save(storage, text).id)
        assert res.text.strip() and res.run.duration_ms > 0


# -- privacy: no content in telemetry -----------------------------------------------------------

def _all_cells(storage, table):
    cur = storage.db.execute_sql(f"SELECT * FROM {table}")
    return [str(v) for row in cur.fetchall() for v in row if v is not None]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fragments=st.lists(st.sampled_from([
    "I have to", "part of me wants", "but part of me", "I always", "nobody ever", "what if it fails",
    "when I was a kid", "it's my fault", "I feel like a failure, so", "freedom", "security", "control",
]), min_size=1, max_size=6))
def test_markers_in_reflections_never_reach_engine_runs_or_feedback(storage, fragments):
    marker = "zq" + secrets.token_hex(6)
    text = f"{marker} " + f" {marker}. ".join(fragments) + f" {marker}"
    r = save(storage, text)
    svc = MirrorbackService(storage, share_telemetry=True)
    res = svc.reflect(r.id)
    svc.regenerate(r.id)
    svc.record_feedback(res.run_id, rating=3, flags=["too_generic"])
    for table in ("engine_runs", "engine_feedback"):
        for cell in _all_cells(storage, table):
            assert marker not in cell, (table, cell)
            assert res.text not in cell


def test_markers_never_reach_telemetry_even_when_the_engine_falls_back(storage):
    marker = "zq" + secrets.token_hex(6)
    r = save(storage, f"{marker} I have to {marker} and part of me wants to stop {marker}.")
    with StandIn(status=500) as server:
        res = MirrorbackService(storage, ollama(server.url)).reflect(r.id)
    assert res.fell_back
    for table in ("engine_runs", "engine_feedback"):
        assert not any(marker in c for c in _all_cells(storage, table))


# -- engines: fallback, refusal ------------------------------------------------------------------

def test_failing_server_falls_back_and_the_fallback_is_recorded(storage):
    r = save(storage)
    with StandIn(status=500) as server:
        res = MirrorbackService(storage, ollama(server.url)).reflect(r.id)
    assert server.posts == 2
    assert res.run.flags["fallback"] == {"from": "ollama", "reason": "http_500"}
    assert res.run.engine_mode == "manual" and res.run.model_name is None
    assert "fallback" in res.mirrorback.metadata["constitutional_flags"]
    assert "built-in offline engine" in res.notice
    assert storage.reflections.get(r.id).content == ENTRY
    assert res.text == MirrorbackService(storage).reflect(r.id).text


def test_unreachable_server_falls_back(storage, tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again: nothing listens there
    res = MirrorbackService(storage, ollama(f"http://127.0.0.1:{port}")).reflect(save(storage).id)
    assert res.run.flags["fallback"]["reason"] == "connection_error"
    assert "could not be reached" in res.notice


def test_working_server_records_local_llm(storage):
    with StandIn() as server:
        res = MirrorbackService(storage, ollama(server.url)).reflect(save(storage).id)
    assert res.run.engine_mode == "local_llm" and res.run.model_name == "llama3"
    assert res.text == "It sounds like “the report tonight” is heavy."
    assert res.mirrorback.metadata["engine_kind"] == "ollama"
    assert res.notice is None


def test_refused_configuration_falls_back_without_sending_anything(storage):
    def remote():
        return MirrorCore(EngineConfig(mode="remote_llm", kind="openai", base_url="https://llm.example.com", model="m"))
    res = MirrorbackService(storage, remote).reflect(save(storage).id)
    assert res.run.flags["fallback"] == {"from": "settings", "reason": "config_refused"}


def test_an_engine_bug_does_not_cost_the_mirrorback(storage):
    class Broken(MirrorCore):
        def generate(self, *a, **kw):
            raise RuntimeError("bug")
    res = MirrorbackService(storage, Broken).reflect(save(storage).id)
    assert res.run.flags["fallback"]["reason"] == "engine_error" and res.text.strip()


def test_reflection_is_saved_even_when_recording_fails(storage):
    r = save(storage)

    class Exploding(MirrorCore):
        def generate(self, *a, **kw):
            raise KeyboardInterrupt  # not an engine failure: it propagates
    with pytest.raises(KeyboardInterrupt):
        MirrorbackService(storage, Exploding).reflect(r.id)
    assert storage.reflections.get(r.id).content == ENTRY
    assert storage.engine_runs.count() == 0 and storage.mirrorbacks.count() == 0


# -- feedback (spec 9) ---------------------------------------------------------------------------

def test_feedback_is_saved_with_the_spec_rules(storage):
    svc = MirrorbackService(storage)
    res = svc.reflect(save(storage).id)
    fb = svc.record_feedback(res.run_id, rating=5, flags=["actually_helpful", "actually_helpful", "too_long"], notes="  ok  ")
    stored = storage.engine_feedback.get(fb.id)
    assert stored.rating == 5 and stored.flags == ["actually_helpful", "too_long"] and stored.notes == "ok"
    assert stored.sync_allowed is False
    assert svc.mirrorbacks_for(res.reflection_id)[0].feedback[0].id == fb.id
    assert svc.record_feedback(res.run_id, flags=["too_directive"]).rating is None  # several per run


@pytest.mark.parametrize("kwargs", [
    {}, {"notes": "   "}, {"flags": []}, {"rating": 0}, {"rating": 6}, {"rating": True}, {"rating": 2.5},
    {"flags": ["not_a_flag"]}, {"notes": "x" * 5000},
])
def test_bad_feedback_is_refused_and_nothing_written(storage, kwargs):
    svc = MirrorbackService(storage)
    res = svc.reflect(save(storage).id)
    with pytest.raises(ValidationError):
        svc.record_feedback(res.run_id, **kwargs)
    assert storage.engine_feedback.count() == 0


def test_feedback_for_an_unknown_run_is_refused(storage):
    with pytest.raises(NotFoundError):
        MirrorbackService(storage).record_feedback("00000000-0000-0000-0000-000000000000", rating=3)


def test_every_spec_flag_is_accepted(storage):
    svc = MirrorbackService(storage)
    res = svc.reflect(save(storage).id)
    assert svc.record_feedback(res.run_id, flags=list(FEEDBACK_FLAGS)).flags == list(FEEDBACK_FLAGS)


def test_sharing_opt_in_marks_runs_and_note_free_feedback(storage):
    svc = MirrorbackService(storage, share_telemetry=True)
    res = svc.reflect(save(storage).id)
    assert res.run.sync_allowed is True
    assert svc.record_feedback(res.run_id, rating=4).sync_allowed is True
    assert svc.record_feedback(res.run_id, rating=4, notes="my own words").sync_allowed is False


# -- engine settings ------------------------------------------------------------------------------

class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.items = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def test_settings_round_trip_without_secrets(tmp_path, memory_keyring):
    store = EngineSettingsStore(tmp_path)
    assert store.load() == EngineSettings() and store.problem is None
    cfg = make_config("openai", base_url="http://127.0.0.1:8080", model="qwen", timeout_s=12, api_key_name="openai")
    store.save(EngineSettings(cfg, share_telemetry=True))
    assert store.set_api_key("openai", "sk-planted-7f3a") == "keychain"
    again = EngineSettingsStore(tmp_path).load()
    assert again.config == cfg and again.share_telemetry is True
    assert cfg.mode == "local_llm"
    assert "sk-planted-7f3a" not in (tmp_path / "engine.json").read_text()
    assert EngineSettingsStore(tmp_path).api_key("openai") == "sk-planted-7f3a"
    assert list(tmp_path.iterdir()) == [tmp_path / "engine.json"]   # no temp file left behind


def test_remote_settings_need_the_opt_in(tmp_path):
    store = EngineSettingsStore(tmp_path)
    with pytest.raises(Exception, match="leave the device"):
        store.save(EngineSettings(make_config("ollama", base_url="http://10.0.0.5:11434", model="m")))
    assert not (tmp_path / "engine.json").exists()
    store.save(EngineSettings(make_config("ollama", base_url="http://10.0.0.5:11434", model="m", remote_opt_in=True)))
    assert store.load().config.mode == "remote_llm"


@pytest.mark.parametrize("content", [b"{", b"[]", b'{"kind": "telepathy"}', b'{"kind": "rules", "kind": "ollama"}',
                                     b'{"timeout_s": NaN}', b"\xff\xfe", b'{"kind": "ollama", "base_url": "http://8.8.8.8", "model": "m"}'])
def test_damaged_settings_mean_the_rules_engine_and_a_sentence(tmp_path, content):
    (tmp_path / "engine.json").write_bytes(content)
    store = EngineSettingsStore(tmp_path)
    assert store.load() == EngineSettings()
    assert store.problem and store.problem.endswith(".")
    assert store.make_engine().config.kind == "rules"


def test_without_a_keychain_keys_stay_in_this_session_only(tmp_path):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = EngineSettingsStore(tmp_path)
        assert store.keychain_available() is False
        from mirror_desktop.keychain import KeychainUnavailable
        with pytest.raises(KeychainUnavailable):
            store.set_api_key("openai", "sk-planted-9c1d")
        assert store.set_api_key("openai", "sk-planted-9c1d", session_only=True) == "session"
        assert store.api_key("openai") == "sk-planted-9c1d"
        assert EngineSettingsStore(tmp_path).api_key("openai") is None
        assert not any("sk-planted" in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())
    finally:
        keyring.set_keyring(previous)


def test_factory_follows_saved_settings(tmp_path, storage):
    store = EngineSettingsStore(tmp_path / "config")
    svc = MirrorbackService(storage, store.engine_factory())
    assert svc.reflect(save(storage).id).run.sync_allowed is False
    store.save(EngineSettings(share_telemetry=True))
    assert svc.reflect(save(storage).id).run.sync_allowed is True
