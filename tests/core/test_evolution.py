"""EvolutionService and lifecycle events on a real SQLite journal (issue 17, items 1–6)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mirror_desktop.core import lifecycle
from mirror_desktop.core.errors import JobCancelled
from mirror_desktop.core.evolution import EvolutionError, EvolutionService
from mirror_desktop.core.mirrorbacks import MirrorbackService
from mirror_desktop.core.outbound import sync_summary
from mirror_desktop.core.services import JournalService
from mirror_desktop.core.tensions import TensionService
from mirror_desktop.storage.journal import SQLiteStorage

ENTRY = "My flatmate leaves dishes in the sink and I keep quiet about it."


@pytest.fixture
def storage(tmp_path: Path):
    s = SQLiteStorage(tmp_path / "j" / "mirror_os.db")
    TensionService(s).ensure_seeds()
    yield s
    s.close()


def reflect(storage, text: str = ENTRY):
    r = JournalService(storage).save_reflection(text)
    return MirrorbackService(storage).reflect(r.id)


def through(svc: EvolutionService, changes: dict, ptype: str = "pattern_detection"):
    p = svc.propose(ptype, "A change", "Why it helps.", changes)
    svc.test(p.id)
    svc.approve(p.id)
    return svc.apply(p.id)


def phrase(value: str) -> dict:
    return {"type": "pattern_detection", "expected_impact": "",
            "patch": [{"op": "add", "path": "/patterns/absolute_thinking/phrases/-", "value": value}]}


def test_installation_is_recorded_once_signed_and_without_content(storage, tmp_path: Path) -> None:
    """The suite's keyring is a safe in-memory one: the private key goes there, never to a file."""
    TensionService(storage).ensure_seeds()
    lifecycle.ensure_installation(storage)
    installs = [e for e in storage.evolution_events.list(event_type="installation") if "platform" in e.event_data]
    assert len(installs) == 1
    data = installs[0].event_data
    assert {"platform", "python_version", "initial_mode"} <= set(data)
    assert installs[0].sync_allowed is False
    assert installs[0].mirror_signature.count(":") == 3   # the event that introduces the journal's key
    assert not (tmp_path / "j" / "config" / "keys").exists()
    assert lifecycle.verify(storage).ok


def test_without_a_keychain_the_key_is_a_private_file(tmp_path: Path, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    s = SQLiteStorage(tmp_path / "k" / "mirror_os.db")
    try:
        ev = lifecycle.record_event(s, "export", {"counts": {}})
        key_files = list((tmp_path / "k" / "config" / "keys").glob("*.key"))
        assert len(key_files) == 1 and stat.S_IMODE(key_files[0].stat().st_mode) == 0o600
        assert ev.mirror_signature and lifecycle.verify(s).ok
    finally:
        s.close()
    again = SQLiteStorage(tmp_path / "k" / "mirror_os.db")   # a new session finds the same key
    try:
        lifecycle.record_event(again, "export", {"counts": {}})
        assert len(lifecycle.known_keys(again)) == 1 and lifecycle.verify(again).ok
    finally:
        again.close()


def test_a_changed_event_fails_verification(storage) -> None:
    ev = lifecycle.record_event(storage, "config_change", {"change": "crisis_country", "to": "GB"})
    assert lifecycle.verify(storage).ok
    storage.db.execute_sql("UPDATE evolution_events SET event_data = ? WHERE id = ?",
                           (json.dumps({"change": "crisis_country", "to": "DE"}), ev.id))
    report = lifecycle.verify(storage)
    assert [f["id"] for f in report.failures] == [ev.id]


def test_consent_per_record_and_globally_and_what_would_be_shared(storage) -> None:
    res = reflect(storage)
    assert sync_summary(storage)["engine_runs"]["count"] == 0
    lifecycle.set_sync_allowed(storage, "engine_runs", res.run.id, True)
    shared = sync_summary(storage)
    assert shared["engine_runs"]["count"] == 1
    assert shared["engine_runs"]["patterns"] == {p: 1 for p in res.run.patterns}
    assert "flatmate" not in json.dumps(shared)
    assert lifecycle.record_event(storage, "export", {"counts": {}}).sync_allowed is False
    lifecycle.set_telemetry_consent(storage, True)
    assert lifecycle.record_event(storage, "export", {"counts": {}}).sync_allowed is True
    assert sync_summary(storage)["evolution_events"]["types"]["export"] == 1
    with pytest.raises(Exception, match="per engine run"):
        lifecycle.set_sync_allowed(storage, "reflections", res.reflection_id, True)


def test_apply_bumps_minor_and_every_run_carries_the_version(storage) -> None:
    svc = EvolutionService(storage)
    assert reflect(storage).run.config_version == "1.0.0"
    row = through(svc, phrase("keep quiet"))
    assert (row.from_version, row.to_version, row.reversible) == ("1.0.0", "1.1.0", True)
    res = reflect(storage)
    assert res.run.config_version == "1.1.0" and res.mirrorback.engine_version == "1.1.0"
    assert "absolute_thinking" in res.run.patterns
    assert [e.to_version for e in storage.evolution_events.list(event_type="upgrade")] == ["1.1.0"]


def test_rollback_restores_the_previous_document_exactly(storage) -> None:
    svc = EvolutionService(storage)
    through(svc, {"type": "prompt_adjustment", "expected_impact": "",
                  "patch": [{"op": "replace", "path": "/reply/max_sentences", "value": 3}]}, "prompt_adjustment")
    middle = svc.document()
    through(svc, phrase("keep quiet"))
    svc.rollback()
    assert svc.document() == middle


def test_a_constitutional_amendment_bumps_major_writes_the_file_and_rolls_back(storage, tmp_path: Path) -> None:
    svc = EvolutionService(storage)
    before = svc.constitution_text("02_reflection.md")
    after = before + "- Never compare the writer with anyone else.\n"
    row = through(svc, {"type": "constitutional_amendment", "file": "02_reflection.md", "before": before,
                        "after": after, "expected_impact": "No comparisons."}, "constitutional_amendment")
    assert row.to_version == "2.0.0"
    live = tmp_path / "j" / "constitution" / "02_reflection.md"
    assert live.read_text("utf-8") == after
    svc.rollback()
    assert live.read_text("utf-8") == before and svc.version() == "1.0.0"


def test_an_amendment_that_removes_a_principle_cannot_be_approved(storage) -> None:
    svc = EvolutionService(storage)
    before = svc.constitution_text("02_reflection.md")
    principle = next(ln for ln in before.splitlines() if ln.startswith("- Keep it short"))
    p = svc.propose("constitutional_amendment", "Shorter", "Drop a rule.",
                    {"type": "constitutional_amendment", "file": "02_reflection.md", "before": before,
                     "after": before.replace(principle + "\n", "")})
    svc.test(p.id)
    with pytest.raises(EvolutionError, match="removes a principle"):
        svc.approve(p.id)
    assert str(svc.get(p.id).status) == "review"


def test_the_journals_own_constitution_is_enforced(storage, tmp_path: Path) -> None:
    folder = tmp_path / "j" / "constitution"
    folder.mkdir()
    rules = json.loads(EvolutionService(storage).constitution_text("rules.json"))
    rules["advice_phrases"].append("it sounds like")   # this journal's constitution forbids the phrase
    (folder / "rules.json").write_text(json.dumps(rules))
    res = reflect(storage, "I have to be the strong one again and I never get a rest.")
    assert "it sounds like" not in res.text.lower()


def test_sandbox_is_cancellable_and_writes_nothing(storage) -> None:
    reflect(storage)
    svc = EvolutionService(storage)
    p = svc.propose("pattern_detection", "t", "d", phrase("keep quiet"))
    with pytest.raises(JobCancelled):
        svc.test(p.id, cancel=lambda: True)
    assert str(svc.get(p.id).status) == "draft" and svc.get(p.id).test_results is None


def test_the_test_shows_advice_getting_through_and_approval_is_refused(storage) -> None:
    svc = EvolutionService(storage)
    rules = json.loads(svc.constitution_text("rules.json"))
    p = svc.propose("constitutional_amendment", "Allow suggestions", "Fewer advice phrases.",
                    {"type": "constitutional_amendment", "file": "rules.json",
                     "before": svc.constitution_text("rules.json"),
                     "after": json.dumps({**rules, "advice_phrases": rules["advice_phrases"][:1]}, indent=2)})
    tested = svc.test(p.id)
    assert tested.test_results["checker"]["advice_through_after"] > 0
    with pytest.raises(EvolutionError):
        svc.approve(p.id)


def test_repeated_flags_draft_a_proposal_with_evidence_and_no_content(storage) -> None:
    service = MirrorbackService(storage)
    runs = [reflect(storage).run.id for _ in range(3)]
    for run_id in runs:
        service.record_feedback(run_id, flags=["too_long"], notes="far too long about my flatmate")
    drafts = EvolutionService(storage).draft_from_feedback()
    assert len(drafts) == 1 and str(drafts[0].status) == "draft"
    assert drafts[0].evidence["count"] == 3 and sorted(drafts[0].evidence["run_ids"]) == sorted(runs)
    assert "flatmate" not in json.dumps(drafts[0].evidence)
    assert drafts[0].changes["patch"][0]["path"] == "/reply/max_sentences"
    assert EvolutionService(storage).draft_from_feedback() == []   # one open draft per flag


def test_fork_and_merge_write_history(storage, tmp_path: Path) -> None:
    svc = EvolutionService(storage)
    through(svc, phrase("keep quiet"))
    row, variant = svc.fork("quiet-variant", tmp_path / "fork.json")
    assert str(row.event_type) == "fork" and variant["config"]["config_version"] == "1.1.0"
    assert json.loads((tmp_path / "fork.json").read_text())["fork_name"] == "quiet-variant"
    assert storage.evolution_events.list(event_type="fork")[0].event_data["fork_name"] == "quiet-variant"

    other = SQLiteStorage(tmp_path / "other" / "mirror_os.db")
    try:
        theirs = EvolutionService(other).propose("pattern_detection", "Theirs", "From elsewhere.", phrase("bottle it up"))
        exported = json.loads(json.dumps(theirs.__dict__, default=str))
    finally:
        other.close()
    adopted = svc.merge([exported], "bundle.age")
    assert len(adopted) == 1 and str(adopted[0].status) == "draft"
    assert svc.merge([exported], "bundle.age") == []   # adopted once
    assert [str(h.event_type) for h in svc.history()][-1] == "merge"


def test_regression_after_an_apply_is_recorded_once(storage) -> None:
    svc = EvolutionService(storage)
    service = MirrorbackService(storage)
    for _ in range(3):
        service.record_feedback(reflect(storage).run.id, rating=5)
    through(svc, phrase("keep quiet"))
    for _ in range(5):
        service.record_feedback(reflect(storage).run.id, rating=1, flags=["too_directive"])
    found = svc.check_regression()
    assert found is not None and found.version == "1.1.0"
    assert len(storage.evolution_events.list(event_type="regression")) == 1
    assert svc.check_regression() is None


def test_an_llm_engine_is_told_the_journals_own_constitution(storage, tmp_path: Path) -> None:
    from mirror_desktop.engine import EngineConfig, MirrorCore

    svc = EvolutionService(storage)
    before = svc.constitution_text("01_sovereignty.md")
    through(svc, {"type": "constitutional_amendment", "file": "01_sovereignty.md", "before": before,
                  "after": before + "- Never mention the weather.\n", "expected_impact": ""},
            "constitutional_amendment")
    core = MirrorCore(EngineConfig(mode="local_llm", kind="ollama", base_url="http://127.0.0.1:9", model="m"))
    tuned = core.tuned(svc.tuning())
    llm = tuned._llm
    messages = llm.messages("A day.", tuned.rules.analyze("A day."))
    assert "Never mention the weather." in messages[0]["content"]
    assert tuned.config.version == "2.0.0"
