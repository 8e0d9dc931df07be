"""Consent is enforced in one place: canaries planted in every field that must not leave never reach the server.

Every statement and parameter sent to the server is captured (``server.trace``), and every table of
the sync schema is read back as the server's owner; neither holds a canary in any form.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from mirror_desktop.core import models as m
from mirror_desktop.sync import server as server_mod

from .conftest import PASSPHRASE, Device


def _canaries(d: Device) -> tuple[list[str], dict[str, str]]:
    """Plant a distinct canary in every field that may not leave; returns them and the ids of what may."""
    planted: list[str] = []

    def c(name: str) -> str:
        planted.append(f"CANARY{name.upper()}XYZ")
        return planted[-1]

    s, j = d.storage, d.journal
    me = j.create_identity(c("identityname"), color="#123456")
    j.update_identity(me.id, name=c("identityrenamed"))
    local = j.save_reflection(c("localonly"), identity_id=me.id, visibility="local_only", tags=[c("localtag")])
    summary = j.save_reflection(c("summarytext"), identity_id=me.id, visibility="sync_summary", tags=[c("summarytag")])
    j.save_reflection(c("anonymous"), identity_id=None)
    private = j.save_reflection(c("privatetext"), identity_id=me.id, visibility="sync_full_private",
                                tags=[c("privatetag")])
    public = j.save_reflection("PUBLICWORDSOK", identity_id=me.id, visibility="sync_full_public")
    s.mirrorbacks.create(m.Mirrorback(reflection_id=local.id, content=c("mirrorbacklocal"), engine_version="1.0.0"))
    s.mirrorbacks.create(m.Mirrorback(reflection_id=summary.id, content=c("mirrorbacksummary"), engine_version="1.0.0"))
    s.mirrorbacks.create(m.Mirrorback(reflection_id=private.id, content=c("mirrorbackprivate"), engine_version="1.0.0"))
    thread = j.create_thread(c("threadtitle"), identity_id=me.id)
    j.add_to_threads(private.id, [thread.id])
    s.axes.create(m.Axis(name=c("axisname"), description=c("axisdescription"), identity_id=me.id))
    s.integrations.create(m.Integration(integration_type="notes", config={"provider": "obsidian", "path": c("integrationpath")},
                                        identity_id=me.id))
    j.save_draft(c("drafttext"), identity_id=me.id)
    s.tensions.create(m.Tension(name=c("tensionlocal"), axis_a=c("polea"), axis_b=c("poleb"), identity_id=me.id))
    s.tensions.create(m.Tension(name=c("tensionanon"), axis_a=c("anonpolea"), axis_b=c("anonpoleb"), identity_id=me.id,
                                sync_mode="share_anonymized", metadata={"note": c("tensionmeta")}, position=0.25))
    s.tensions.create(m.Tension(name=c("tensionfull"), axis_a="x", axis_b="y", identity_id=me.id, sync_mode="share_full"))
    run_local = m.EngineRun(config_version="1.0.0", engine_mode="manual", reflection_id=local.id,
                            model_name=c("runmodel"), patterns=[c("runpattern")])
    s.engine_runs.create(run_local)
    s.engine_feedback.create(m.EngineFeedback(engine_run_id=run_local.id, rating=4, notes=c("feedbacknotes")))
    run_ok = m.EngineRun(config_version="1.0.0", engine_mode="manual", reflection_id=local.id, sync_allowed=True,
                         model_name="runmodelok")
    s.engine_runs.create(run_ok)
    s.engine_feedback.create(m.EngineFeedback(engine_run_id=run_ok.id, rating=5, notes=c("allowedfeedbacknotes"),
                                              sync_allowed=True))
    s.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode="manual", reflection_id=summary.id,
                                     patterns=["growth", "growth", "rest"]))
    s.evolution_events.create(m.EvolutionEvent(event_type="config_change", event_data={"secret": c("eventdata")}))
    s.evolution_events.create(m.EvolutionEvent(event_type="config_change", event_data={"ok": "EVENTOK"},
                                               sync_allowed=True))
    return planted, {"private": private.id, "public": public.id, "local": local.id, "run_ok": run_ok.id}


def _forms(text: str) -> list[bytes]:
    raw = text.encode()
    return [raw, raw.lower(), text.encode("utf-16-le"), base64.b64encode(raw)[:12], raw.hex().encode()]


def test_no_canary_reaches_the_server(alice: str, sync_server: str, devices: Callable[[str], Device],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = devices("a"), devices("b")
    planted, ids = _canaries(a)
    sent: list[Any] = []
    monkeypatch.setattr(server_mod, "trace", lambda sql, params: sent.append((sql, params)))
    a.sync.setup(alice, PASSPHRASE)
    report = a.sync.sync_now()
    b.sync.setup(alice, PASSPHRASE)
    b.sync.sync_now()
    # what was sent, byte for byte, and everything the server keeps (read as its owner, past RLS)
    wire = repr(sent).encode()
    with psycopg.connect(sync_server) as con:
        stored = repr([con.execute(f"SELECT * FROM mirror_sync.{t}").fetchall()
                       for t in ("rows", "accounts", "schema_version")]).encode()
    for canary in planted:
        for form in _forms(canary):
            assert form not in wire, f"{canary} was sent to the server"
            assert form not in stored, f"{canary} is stored on the server"
    # the scan can see: what is allowed in clear is there
    assert b"PUBLICWORDSOK" in stored and b"PUBLICWORDSOK" in wire
    assert b'"growth": 2' in stored  # sync_summary: pattern counts only
    # what went, by kind: private and full-share rows sealed; anonymised tension; summary; nothing else
    assert report.sent == {"sealed": 6, "clear": 1, "anonymized": 1, "summary": 1}
    with psycopg.connect(sync_server) as con:
        kinds = dict(con.execute("SELECT row_id, kind FROM mirror_sync.rows").fetchall())
        anon = con.execute("SELECT payload FROM mirror_sync.rows WHERE kind = 'anonymized'").fetchone()[0]
    assert kinds[ids["private"]] == "sealed" and kinds[ids["public"]] == "clear" and ids["local"] not in kinds
    assert bytes(anon) == b'{"intensity": 0.5, "position": 0.25}'
    # the other device received exactly what may travel to it
    assert b.texts() == {"CANARYPRIVATETEXTXYZ", "PUBLICWORDSOK"}
    assert [mb.content for mb in b.storage.mirrorbacks.list()] == ["CANARYMIRRORBACKPRIVATEXYZ"]
    assert [t.name for t in b.storage.tensions.list() if t.name.startswith("CANARY")] == ["CANARYTENSIONFULLXYZ"]
    run = b.storage.engine_runs.get(ids["run_ok"])
    assert run.reflection_id is None  # its reflection stays home, so the reference does not travel
    assert [f.notes for f in b.storage.engine_feedback.list()] == [None]
    assert not b.storage.threads.list() and not b.storage.axes.list() and not b.storage.integrations.list()


def test_a_visibility_lowered_to_local_only_is_taken_back(alice: str, devices: Callable[[str], Device]) -> None:
    a, b = devices("a"), devices("b")
    me = a.identity("Me")
    rid = a.write("first shared, then private to this laptop", me)
    for d in (a, b):
        d.sync.setup(alice, PASSPHRASE)
        d.sync.sync_now()
    assert b.storage.reflections.find(rid) is not None
    a.journal.save_reflection("first shared, then private to this laptop", reflection_id=rid, identity_id=me,
                              visibility="local_only")
    assert a.sync.sync_now().sent == {"tombstone": 1}
    b.sync.sync_now()
    assert b.storage.reflections.find(rid) is None
    assert a.storage.reflections.get(rid).visibility == "local_only"
