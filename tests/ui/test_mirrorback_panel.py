"""MirrorbackPanel with a real executor on a real journal: reflect, notes, feedback, regenerate, browse."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from mirror_desktop.core.services import JournalService  # noqa: E402
from mirror_desktop.core.tensions import TensionService  # noqa: E402
from mirror_desktop.engine import EngineConfig, MirrorCore  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.ui.mirrorback.panel import MirrorbackPanel  # noqa: E402
from mirror_desktop.workers.executor import DatabaseExecutor  # noqa: E402
from mirror_desktop.workers.mirrorbacks import MirrorbacksClient  # noqa: E402

ENTRY = ("I have to finish the report tonight. Part of me wants to quit, but part of me loves the work. "
         "I want freedom but I also need security, and I keep controlling every detail.")


@pytest.fixture
def journal(tmp_path):
    db = tmp_path / "mirror_os.db"
    s = SQLiteStorage(db)
    TensionService(s).ensure_seeds()
    rid = JournalService(s).save_reflection(ENTRY).id
    s.close()
    return db, rid


@pytest.fixture
def panel(qtbot, journal):
    db, _ = journal
    ex = DatabaseExecutor(lambda: SQLiteStorage(db))
    ex.start()
    p = MirrorbackPanel(MirrorbacksClient(ex))
    qtbot.addWidget(p)
    p.resize(700, 400)
    p.show()
    yield p
    p.shutdown()
    ex.shutdown()


def read(db, fn):
    s = SQLiteStorage(db)
    try:
        return fn(s)
    finally:
        s.close()


def reflect(qtbot, panel):
    with qtbot.waitSignal(panel.mirrorback_generated, timeout=10000) as blocker:
        panel.reflect_requested()
    return blocker.args[0]


def test_reflect_shows_the_reply_and_notes(qtbot, panel, journal):
    db, rid = journal
    panel.set_reflection(rid)
    assert panel.hint.isVisible() and not panel.card.isVisible()
    with qtbot.waitSignal(panel.busy_changed, timeout=5000) as busy:
        panel.reflect_requested()
    assert busy.args == [True] and panel.status_label.text() == "Reflecting…"
    assert not panel.reflect_button.isEnabled()
    qtbot.waitUntil(lambda: panel.current is not None and not panel.busy, timeout=10000)
    stored = read(db, lambda s: s.mirrorbacks.list(reflection_id=rid))
    assert panel.reply.text() == stored[0].content
    labels = [n.label.text() for n in panel.notes.items]
    assert "two pulls at once" in labels
    assert any(t.startswith("touches ") for t in labels)
    assert "new tension? Freedom vs Security" in labels
    assert all("not a diagnosis" in n.label.toolTip() for n in panel.notes.items if ":p:" in n.key)
    assert panel.regenerate_button.isVisible() and not panel.reflect_button.isVisible()


def test_notes_are_dismissible(qtbot, panel, journal):
    _, rid = journal
    panel.set_reflection(rid)
    reflect(qtbot, panel)
    first = panel.notes.items[0]
    qtbot.mouseClick(first.close_button, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.MouseButton.LeftButton)
    assert first.isHidden()
    panel._render()   # a re-render keeps it hidden
    assert first.key not in [n.key for n in panel.notes.items]


def test_feedback_is_saved(qtbot, panel, journal):
    db, rid = journal
    panel.set_reflection(rid)
    run_id = reflect(qtbot, panel)
    panel.feedback_toggle.setChecked(True)
    assert panel.feedback_box.isVisible()
    panel.rating_buttons[3].setChecked(True)
    panel.rating_buttons[1].setChecked(True)       # one rating at a time
    assert panel.selected_rating() == 2
    panel.flag_buttons["too_generic"].setChecked(True)
    panel.flag_buttons["actually_helpful"].setChecked(True)
    panel.notes_edit.setText("kept here")
    with qtbot.waitSignal(panel.feedback_saved, timeout=5000) as blocker:
        panel.save_feedback_button.click()
    assert blocker.args == [run_id]
    fb = read(db, lambda s: s.engine_feedback.list(engine_run_id=run_id))
    assert [(f.rating, f.flags, f.notes, f.sync_allowed) for f in fb] == [(2, ["too_generic", "actually_helpful"], "kept here", False)]
    assert panel.selected_rating() is None and not panel.selected_flags()


def test_empty_feedback_is_not_sent(qtbot, panel, journal):
    db, rid = journal
    panel.set_reflection(rid)
    reflect(qtbot, panel)
    panel.feedback_toggle.setChecked(True)
    panel.save_feedback_button.click()
    assert "Choose a rating" in panel.feedback_status.text()
    qtbot.wait(100)
    assert read(db, lambda s: s.engine_feedback.count()) == 0


def test_regenerate_and_browse(qtbot, panel, journal):
    db, rid = journal
    panel.set_reflection(rid)
    reflect(qtbot, panel)
    with qtbot.waitSignal(panel.mirrorback_generated, timeout=10000):
        panel.regenerate_button.click()
    assert len(panel.entries) == 2 and panel.index == 1
    assert panel.position_label.text() == "2 of 2"
    second = panel.reply.text()
    panel.show_previous()
    assert panel.position_label.text() == "1 of 2" and panel.reply.text() != second
    assert not panel.prev_button.isEnabled() and panel.next_button.isEnabled()
    assert read(db, lambda s: s.mirrorbacks.count(reflection_id=rid)) == 2


def test_switching_reflections_loads_their_mirrorbacks(qtbot, panel, journal):
    db, rid = journal
    panel.set_reflection(rid)
    reflect(qtbot, panel)
    other = read(db, lambda s: JournalService(s).save_reflection("A quiet walk by the river.").id)
    panel.set_reflection(other)
    assert panel.current is None and panel.hint.isVisible()
    panel.set_reflection(rid)
    qtbot.waitUntil(lambda: panel.current is not None, timeout=5000)
    panel.set_reflection(None)
    panel.reflect_requested()
    assert "Write something first" in panel.error.text()


def test_a_failing_engine_still_gives_a_mirrorback_and_says_so(qtbot, panel, journal):
    _, rid = journal

    def unreachable():
        return MirrorCore(EngineConfig(mode="local_llm", kind="ollama", base_url="http://127.0.0.1:9", model="m", timeout_s=1))

    panel.set_engine_factory(unreachable)
    panel.set_reflection(rid)
    reflect(qtbot, panel)
    assert panel.notice.isVisible() and "built-in offline engine" in panel.notice.text()
    assert panel.reply.text().strip()


def test_unknown_reflection_is_one_sentence(qtbot, panel):
    panel.set_reflection("00000000-0000-0000-0000-000000000000")
    panel.reflect_requested()
    qtbot.waitUntil(lambda: bool(panel.error.text()), timeout=5000)
    assert panel.error.text().startswith("No ") and not panel.busy


# -- the engine settings dialog --------------------------------------------------------------------

import json  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from mirror_desktop.core.engine_settings import EngineSettingsStore  # noqa: E402
from mirror_desktop.ui.mirrorback.engine_settings import EngineSettingsDialog  # noqa: E402


@pytest.fixture
def dialog(qtbot, tmp_path):
    store = EngineSettingsStore(tmp_path / "config")
    d = EngineSettingsDialog(store)
    qtbot.addWidget(d)
    d.show()
    yield d
    d.shutdown()


def choose(d, kind, url="", model="llama3"):
    d.kind.setCurrentIndex(d.kind.findData(kind))
    d.url.setText(url)
    d.model.setEditText(model)


def test_rules_is_the_default_and_disables_server_fields(dialog):
    assert dialog.selected_kind == "rules"
    assert not dialog.url.isEnabled() and not dialog.test_button.isEnabled()


def test_remote_address_needs_the_opt_in_which_names_the_text(qtbot, dialog, tmp_path):
    choose(dialog, "openai", "https://llm.example.com/v1", "m")
    assert dialog.remote_opt_in.isVisible()
    assert "text of that reflection" in dialog.remote_note.text() and "llm.example.com" in dialog.remote_note.text()
    dialog.save()
    assert "leave the device" in dialog.status.text()
    assert not (tmp_path / "config" / "engine.json").exists()
    dialog.remote_opt_in.setChecked(True)
    with qtbot.waitSignal(dialog.settings_saved, timeout=5000):
        dialog.save()
    saved = json.loads((tmp_path / "config" / "engine.json").read_text())
    assert saved["kind"] == "openai" and saved["remote_opt_in"] is True


def test_loopback_needs_no_opt_in_and_the_key_goes_to_the_keychain(qtbot, dialog, tmp_path, memory_keyring):
    choose(dialog, "ollama", "http://127.0.0.1:11434")
    assert not dialog.remote_opt_in.isVisible()
    dialog.api_key.setText("sk-planted-5e6f")
    with qtbot.waitSignal(dialog.settings_saved, timeout=5000):
        dialog.save()
    assert "sk-planted" not in (tmp_path / "config" / "engine.json").read_text()
    assert "sk-planted-5e6f" in memory_keyring.store.values()


def test_no_keychain_offers_this_session_only(qtbot, tmp_path):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = EngineSettingsStore(tmp_path / "config")
        d = EngineSettingsDialog(store)
        qtbot.addWidget(d)
        d.show()
        qtbot.waitUntil(lambda: bool(d.keychain_note.text()), timeout=5000)
        choose(d, "openai", "http://127.0.0.1:8080", "m")
        assert d.session_only.isChecked() and not d.session_only.isEnabled() and d.keychain_note.isVisible()
        d.api_key.setText("sk-planted-0a0b")
        with qtbot.waitSignal(d.settings_saved, timeout=5000):
            d.save()
        assert store.api_key("openai") == "sk-planted-0a0b"
        assert not any("sk-planted" in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())
        d.shutdown()
    finally:
        keyring.set_keyring(previous)


class Tags:
    def __enter__(self):
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = json.dumps({"models": [{"name": "llama3:latest"}, {"name": "qwen2:7b"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_test_connection_runs_in_the_background(qtbot, dialog):
    with Tags() as server:
        choose(dialog, "ollama", server.url, "llama3")
        with qtbot.waitSignal(dialog.connection_tested, timeout=10000) as blocker:
            dialog.test_button.click()
            assert dialog.status.text() == "Testing…"   # the click returned before the answer
    assert blocker.args[0] is True and "ready" in blocker.args[1]
    assert dialog.model.findText("qwen2:7b") >= 0


def test_test_connection_to_nothing_is_one_sentence(qtbot, dialog):
    choose(dialog, "ollama", "http://127.0.0.1:9", "llama3")
    with qtbot.waitSignal(dialog.connection_tested, timeout=10000) as blocker:
        dialog.test_button.click()
    assert blocker.args[0] is False and "did not answer" in blocker.args[1]


@pytest.mark.parametrize("yes", [False, True])
def test_a_local_only_reflection_asks_before_going_to_a_remote_engine(qtbot, panel, journal, yes):
    """Issue 11: the window asks for this reflection; without a yes the built-in engine answers and says why."""
    from mirror_desktop.engine import EngineConfig, MirrorCore

    db, rid = journal
    remote = EngineConfig(mode="remote_llm", kind="ollama", base_url="http://192.0.2.1:9", model="llama3",
                          timeout_s=1, remote_opt_in=True)
    panel.set_engine_factory(lambda: MirrorCore(remote))
    asked: list[str] = []

    def answer(host, reply):  # type: ignore[no-untyped-def]
        asked.append(host)
        reply(yes)

    panel.ask_remote_consent = answer
    panel.set_reflection(rid)
    reflect(qtbot, panel)
    assert asked == ["192.0.2.1"]
    run = read(db, lambda s: s.engine_runs.list(reflection_id=rid))[-1]
    reason = (run.flags or {})["fallback"]["reason"]
    if yes:
        assert reason == "connection_error"  # it was sent (the stand-in address answers nothing, so it fell back)
    else:
        assert reason == "local_only"
        assert "local only" in panel.notice.text() and panel.notice.isVisible()


def test_help_lines_follow_the_country_chosen_in_the_settings(qtbot, dialog, tmp_path):
    """Issue 13: the crisis reply's help lines are configurable by country, in the window too."""
    from mirror_desktop.core.engine_settings import crisis_countries

    assert "DE" in crisis_countries() and dialog.country.currentData() is None  # international by default
    dialog.country.setCurrentIndex(dialog.country.findData("DE"))
    with qtbot.waitSignal(dialog.settings_saved, timeout=5000):
        dialog.save()
    store = EngineSettingsStore(tmp_path / "config")
    assert store.load().config.crisis_country == "DE"
    dialog.country.setCurrentIndex(0)
    dialog._load(store.load())  # what a new dialog shows
    assert dialog.country.currentData() == "DE"
    reply = store.engine_factory()().generate("I have written the letters and I know where I will go tonight. "
                                            "Everyone will be better off without me.").text
    assert "0800 111 0 111" in reply or "Telefonseelsorge" in reply


def test_two_engine_settings_dialogs_close_cleanly_with_their_checks_in_flight(qtbot, tmp_path):
    """A dialog torn down right after it opened (its keychain check just delivered or still on its way) must not
    crash the app: a delivery object parented to the dialog was once deleted twice, a segfault at teardown."""
    store = EngineSettingsStore(tmp_path / "config")
    first, second = EngineSettingsDialog(store), EngineSettingsDialog(store)
    for d in (first, second):
        qtbot.addWidget(d)
    first.show()
    assert second.shutdown()  # waits for its check, then both are deleted by qtbot while events are pending
    assert first.shutdown()
