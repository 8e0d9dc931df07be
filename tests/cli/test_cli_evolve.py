"""`mirror evolve` end to end through the real CLI (issue 17, item 8 and "Bad input").

A phrase added under /patterns/absolute_thinking/phrases is detected by `mirror reflect --json`
after the proposal is tested, approved and applied, and is gone after `mirror evolve rollback`;
every refusal is one sentence, exit 2, with the configuration and history as they were.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = "My flatmate leaves dishes in the sink and I keep quiet about it."
PHRASE_PATCH = {"type": "pattern_detection", "expected_impact": "Keeping quiet is noticed.",
                "patch": [{"op": "add", "path": "/patterns/absolute_thinking/phrases/-", "value": "keep quiet"}]}


def mirror(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("MIRROR_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), *argv],
                          capture_output=True, text=True, timeout=180, env=env)


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stderr
    return r.stdout


def refused(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def patterns(data: Path) -> list[str]:
    return json.loads(ok(mirror(data, "reflect", "--json", ENTRY)))["patterns"]


def state(data: Path) -> tuple[str, str]:
    """The configuration document and the history, as the CLI prints them."""
    return ok(mirror(data, "evolve", "config", "--json")), ok(mirror(data, "evolve", "history", "--json"))


def propose(data: Path, changes: object, ptype: str = "pattern_detection") -> subprocess.CompletedProcess[str]:
    f = data.parent / f"changes-{abs(hash(json.dumps(changes, sort_keys=True)))}.json"
    f.write_text(json.dumps(changes))
    return mirror(data, "evolve", "propose", "--type", ptype, "--title", "Keep quiet", "--description",
                  "Keeping quiet sounds total to me.", "--changes", str(f), "--json")


def test_apply_makes_reflect_detect_the_phrase_and_rollback_removes_it(tmp_path: Path) -> None:
    data = tmp_path / "j"
    assert "absolute_thinking" not in patterns(data)
    pid = json.loads(ok(propose(data, PHRASE_PATCH)))["id"]
    listed = json.loads(ok(mirror(data, "evolve", "list", "--json")))
    assert [(p["id"], p["status"]) for p in listed] == [(pid, "draft")]

    results = json.loads(ok(mirror(data, "evolve", "test", pid, "--json")))
    assert results["config_version_before"] == "1.0.0" and results["config_version_after"] == "1.1.0"
    assert results["checker"]["catch_rate_after"] == 1.0 and results["checker"]["advice_through_after"] == 0
    assert results["journal"]["mirrorbacks_considered"] == 1 and results["journal"]["would_change"] == 1
    assert "absolute_thinking" in results["patterns"]
    # Nothing of the person's words in the results (proposals are public by default).
    assert "flatmate" not in json.dumps(results)
    assert json.loads(ok(mirror(data, "evolve", "show", pid, "--json")))["status"] == "review"

    ok(mirror(data, "evolve", "approve", pid, "--note", "yes"))
    shown = json.loads(ok(mirror(data, "evolve", "show", pid, "--json")))
    assert shown["status"] == "approved" and shown["vote_results"]["eligible_voters"] == 1
    ok(mirror(data, "evolve", "apply", pid))
    config = json.loads(ok(mirror(data, "evolve", "config", "--json")))
    assert config["config_version"] == "1.1.0"
    assert config["patterns"]["absolute_thinking"]["phrases"] == ["keep quiet"]

    after = json.loads(ok(mirror(data, "reflect", "--json", ENTRY)))
    assert "absolute_thinking" in after["patterns"]
    con = sqlite3.connect(data / "mirror_os.db")
    try:
        run = con.execute("SELECT config_version FROM engine_runs WHERE id = ?", (after["run_id"],)).fetchone()
        mb = con.execute("SELECT engine_version FROM mirrorbacks WHERE id = ?", (after["mirrorback_id"],)).fetchone()
        applied = con.execute("SELECT status, applied_at, to_version FROM evolution_proposals").fetchone()
        events = [r[0] for r in con.execute("SELECT event_type FROM evolution_events ORDER BY timestamp")]
    finally:
        con.close()
    assert run == ("1.1.0",) and mb == ("1.1.0",)
    assert applied[0] == "applied" and applied[1] and applied[2] == "1.1.0"
    assert "upgrade" in events and "installation" in events

    history = json.loads(ok(mirror(data, "evolve", "history", "--json")))
    assert [(h["event_type"], h["evolution_id"], h["reversible"]) for h in history] == [("upgrade", pid, True)]

    ok(mirror(data, "evolve", "rollback"))
    assert "absolute_thinking" not in patterns(data)
    config = json.loads(ok(mirror(data, "evolve", "config", "--json")))
    assert config["config_version"] == "1.0.0" and config["patterns"]["absolute_thinking"]["phrases"] == []
    history = json.loads(ok(mirror(data, "evolve", "history", "--json")))
    assert [h["event_type"] for h in history] == ["upgrade", "rollback"]
    con = sqlite3.connect(data / "mirror_os.db")
    try:
        assert con.execute("SELECT count(*) FROM evolution_events WHERE event_type = 'downgrade'").fetchone() == (1,)
    finally:
        con.close()
    r = mirror(data, "evolve", "verify", "--json")
    assert json.loads(ok(r))["failures"] == []


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    data = tmp_path / "j"
    ok(mirror(data, "reflect", ENTRY))
    return data


@pytest.mark.parametrize("changes, needle", [
    ({"type": "pattern_detection", "patch": [{"op": "add", "path": "/patterns/no_such/phrases/-", "value": "x"}]},
     "does not fit"),
    ({"type": "pattern_detection", "patch": [{"op": "replace", "path": "/checker/directive_threshold", "value": "high"}]},
     "directive_threshold"),
    ({"type": "pattern_detection", "patch": [{"op": "add", "path": "/patterns/absolute_thinking/phrases/-", "value": "LOUD"}]},
     "lowercase"),
    ({"type": "pattern_detection", "patch": [{"op": "remove", "path": "/reply"}]}, "reply"),
    ({"type": "pattern_detection", "patch": [{"op": "jump", "path": "/reply"}]}, "not a valid JSON Patch"),
    ({"type": "pattern_detection", "patch": "add a phrase"}, "patch"),
])
def test_an_invalid_patch_is_refused_and_nothing_changes(journal: Path, changes: dict, needle: str) -> None:
    before = state(journal)
    refused(propose(journal, changes), needle)
    assert state(journal) == before
    assert json.loads(ok(mirror(journal, "evolve", "list", "--json"))) == []


def test_unknown_type_big_file_and_out_of_order_are_refused(journal: Path, tmp_path: Path) -> None:
    before = state(journal)
    refused(propose(journal, PHRASE_PATCH, ptype="vibes"), "not a proposal type")
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    refused(mirror(journal, "evolve", "propose", "--type", "pattern_detection", "--title", "t", "--description", "d",
                   "--changes", str(big)), "MB")
    assert state(journal) == before
    pid = json.loads(ok(propose(journal, PHRASE_PATCH)))["id"]
    refused(mirror(journal, "evolve", "apply", pid), "draft", "test it first")
    refused(mirror(journal, "evolve", "approve", pid), "draft")
    refused(mirror(journal, "evolve", "reject", pid), "draft")
    refused(mirror(journal, "evolve", "show", "nope"), "No proposal")
    assert state(journal) == before


def test_a_threshold_above_the_ceiling_cannot_be_approved(journal: Path) -> None:
    raise_it = {"type": "safety_refinement", "expected_impact": "More directive replies pass.",
                "patch": [{"op": "replace", "path": "/checker/directive_threshold", "value": 0.4}]}
    pid = json.loads(ok(propose(journal, raise_it, ptype="safety_refinement")))["id"]
    ok(mirror(journal, "evolve", "test", pid))
    refused(mirror(journal, "evolve", "approve", pid), "ceiling")
    ok(mirror(journal, "evolve", "reject", pid, "--note", "no"))
    assert json.loads(ok(mirror(journal, "evolve", "show", pid, "--json")))["status"] == "rejected"
    refused(mirror(journal, "evolve", "apply", pid), "rejected")


def test_a_tampered_history_row_and_a_forged_signature_are_named(journal: Path) -> None:
    pid = json.loads(ok(propose(journal, PHRASE_PATCH)))["id"]
    for step in ("test", "approve", "apply"):
        ok(mirror(journal, "evolve", step, pid))
    assert ok(mirror(journal, "evolve", "verify"))
    con = sqlite3.connect(journal / "mirror_os.db")
    try:
        con.execute("DROP TRIGGER evolution_history_no_update")
        row_id, meta = con.execute("SELECT id, metadata FROM evolution_history").fetchone()
        doc = json.loads(meta)
        doc["config"]["checker"]["directive_threshold"] = 0.9   # a quieter checker, slipped in by hand
        con.execute("UPDATE evolution_history SET metadata = ? WHERE id = ?", (json.dumps(doc), row_id))
        ev_id, sig = con.execute("SELECT id, mirror_signature FROM evolution_events WHERE event_type = 'upgrade'").fetchone()
        forged = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
        con.execute("UPDATE evolution_events SET mirror_signature = ? WHERE id = ?", (forged, ev_id))
        con.commit()
    finally:
        con.close()
    r = mirror(journal, "evolve", "verify")
    assert r.returncode == 2 and row_id in r.stderr and ev_id in r.stderr and "Traceback" not in r.stderr
    # The tampered row is not trusted: the engine falls back to the built-in configuration ...
    config = json.loads(ok(mirror(journal, "evolve", "config", "--json")))
    assert config["config_version"] == "1.0.0" and config["checker"]["directive_threshold"] == 0.15
    # ... and nothing more is applied or rolled back on top of it.
    before = ok(mirror(journal, "evolve", "history", "--json"))
    refused(mirror(journal, "evolve", "rollback"), row_id, "signature")
    assert ok(mirror(journal, "evolve", "history", "--json")) == before


def test_rollback_to_a_named_version_is_a_downgrade(journal: Path) -> None:
    ids = []
    for phrase in ("keep quiet", "hold my tongue"):
        changes = {"type": "pattern_detection", "expected_impact": "",
                   "patch": [{"op": "add", "path": "/patterns/absolute_thinking/phrases/-", "value": phrase}]}
        pid = json.loads(ok(propose(journal, changes)))["id"]
        for step in ("test", "approve", "apply"):
            ok(mirror(journal, "evolve", step, pid))
        ids.append(pid)
    assert json.loads(ok(mirror(journal, "evolve", "config", "--json")))["config_version"] == "1.2.0"
    refused(mirror(journal, "evolve", "rollback", "--to", "9.9.9"), "not in this journal's line")
    ok(mirror(journal, "evolve", "rollback", "--to", "1.0.0"))
    config = json.loads(ok(mirror(journal, "evolve", "config", "--json")))
    assert config["config_version"] == "1.0.0" and config["patterns"]["absolute_thinking"]["phrases"] == []
    assert json.loads(ok(mirror(journal, "evolve", "history", "--json")))[-1]["event_type"] == "downgrade"
    refused(mirror(journal, "evolve", "rollback"), "nothing to roll back")


def test_merge_adopts_another_journals_proposals_from_its_bundle(tmp_path: Path) -> None:
    theirs, ours, out = tmp_path / "theirs", tmp_path / "ours", tmp_path / "out"
    out.mkdir()
    pid = json.loads(ok(propose(theirs, PHRASE_PATCH)))["id"]
    ok(mirror(theirs, "export", "--out", str(out), "--no-encrypt"))
    bundle = next(out.iterdir())
    adopted = json.loads(ok(mirror(ours, "evolve", "merge", str(bundle), "--json")))
    assert len(adopted) == 1 and adopted[0]["id"] != pid
    shown = json.loads(ok(mirror(ours, "evolve", "show", adopted[0]["id"], "--json")))
    assert shown["status"] == "draft" and shown["metadata"]["merged_from"] == pid
    assert [h["event_type"] for h in json.loads(ok(mirror(ours, "evolve", "history", "--json")))] == ["merge"]
    ok(mirror(ours, "evolve", "fork", "quiet", "--out", str(tmp_path / "fork.json")))
    assert json.loads((tmp_path / "fork.json").read_text())["config"]["config_version"] == "1.0.0"
    assert ok(mirror(ours, "evolve", "verify"))


def test_what_would_be_shared_follows_consent(journal: Path) -> None:
    assert json.loads(ok(mirror(journal, "evolve", "would-share")))["engine_runs"]["count"] == 0
    con = sqlite3.connect(journal / "mirror_os.db")
    try:
        run_id = con.execute("SELECT id FROM engine_runs").fetchone()[0]
    finally:
        con.close()
    ok(mirror(journal, "evolve", "consent", "on", "--table", "engine_runs", "--id", run_id))
    shared = json.loads(ok(mirror(journal, "evolve", "would-share")))
    assert shared["engine_runs"]["count"] == 1 and "flatmate" not in json.dumps(shared)
    refused(mirror(journal, "evolve", "consent", "on", "--table", "engine_runs"), "--table and --id")
