"""Share export: only rows whose visibility / sync_mode / sync_allowed let them leave (RELIABILITY.md, Privacy).

A hypothesis property plants unique markers in every kind of row that must stay home, exports with
--share, and greps every byte: the bundle file, every decompressed member, the SQLite file's pages.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from test_export import read_zip  # noqa: E402

from mirror_desktop.bundle import export as export_mod  # noqa: E402
from mirror_desktop.bundle.export import export_bundle  # noqa: E402
from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.enums import (  # noqa: E402
    EngineMode, IntegrationType, ProposalType, SyncMode, Visibility,
)
from mirror_desktop.core.outbound import outbound_rows  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402

_counter = itertools.count()


def marker() -> str:
    # lower-case, ending in a digit: survives FTS tokenising and porter stemming unchanged
    return f"zqmark{next(_counter):06d}x7"


def plant(storage: SQLiteStorage, spec: dict[str, int]) -> tuple[list[str], list[str]]:
    """Rows that must stay (with markers) and rows that may leave; returns (markers, public texts)."""
    secret: list[str] = []
    public: list[str] = []

    def mk() -> str:
        secret.append(marker())
        return secret[-1]

    me = storage.identities.create(m.Identity(metadata={"name": mk(), "bio": mk()}))
    other = storage.identities.create(m.Identity(metadata={"name": mk()}))
    for _ in range(spec["local"]):
        r = storage.reflections.create(m.Reflection(content=f"private {mk()}", identity_id=me.id,
                                                    metadata={"tags": [mk()]}))
        storage.mirrorbacks.create(m.Mirrorback(reflection_id=r.id, content=f"said {mk()}", engine_version="1.0.0"))
        run = storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                                     reflection_id=r.id, model_name=mk(), flags={"k": mk()}))
        storage.engine_feedback.create(m.EngineFeedback(engine_run_id=run.id, notes=mk()))
        th = storage.threads.create(m.Thread(identity_id=me.id, title=mk()))
        storage.thread_reflections.append(th.id, r.id)
    for _ in range(spec["anonymous"]):
        storage.reflections.create(m.Reflection(content=f"anon {mk()}"))
    for _ in range(spec["summary"]):
        storage.reflections.create(m.Reflection(content=f"summary-only {mk()}", identity_id=other.id,
                                                visibility=Visibility.SYNC_SUMMARY))
    for i in range(spec["public"]):
        text = f"shared words number {i}"
        public.append(text)
        vis = Visibility.SYNC_FULL_PUBLIC if i % 2 else Visibility.SYNC_FULL_PRIVATE
        r = storage.reflections.create(m.Reflection(content=text, identity_id=me.id, visibility=vis))
        run = storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                                     reflection_id=r.id, sync_allowed=True))
        storage.engine_feedback.create(m.EngineFeedback(engine_run_id=run.id, rating=5, sync_allowed=True))
        # a private run on a public reflection stays home too
        storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                               reflection_id=r.id, model_name=mk()))
    for _ in range(spec["tensions"]):
        storage.tensions.create(m.Tension(name=mk()[:90], axis_a=mk(), axis_b=mk(), identity_id=me.id,
                                          metadata={"why": mk()}))
        storage.tensions.create(m.Tension(name="Open vs closed", axis_a="open", axis_b="closed", identity_id=me.id,
                                          sync_mode=SyncMode.SHARE_ANONYMIZED, metadata={"why": mk()}))
        storage.tensions.create(m.Tension(name="Fast vs slow", axis_a="fast", axis_b="slow", identity_id=me.id,
                                          sync_mode=SyncMode.SHARE_FULL, metadata={"why": "public reason"}))
    storage.axes.create(m.Axis(name=mk(), description=mk()))
    storage.evolution_events.create(m.EvolutionEvent(event_type="config_change", event_data={"v": mk()}))
    storage.evolution_events.create(m.EvolutionEvent(event_type="upgrade", event_data={"v": "ok"}, sync_allowed=True))
    prop = storage.evolution_proposals.create(m.EvolutionProposal(
        proposal_type=ProposalType.PROMPT_ADJUSTMENT, title="Public proposal", description="d", changes={}))
    storage.evolution_history.create(m.EvolutionHistory(evolution_id=prop.id, event_type="upgrade",
                                                        metadata={"reason": mk()}))
    storage.integrations.create(m.Integration(integration_type=IntegrationType.NOTES,
                                              config={"provider": "obsidian", "vault": mk(), "token": mk()}, metadata={"x": mk()}))
    storage.drafts.create(m.Draft(content=f"draft {mk()}"))
    # text typed, saved, then deleted: must not survive in any page either
    gone = storage.reflections.create(m.Reflection(content=f"deleted {mk()}", identity_id=me.id,
                                                   visibility=Visibility.SYNC_FULL_PUBLIC))
    storage.reflections.delete(gone.id)
    return secret, public


def every_byte(bundle: Path, passphrase: str | None, tmp: Path) -> list[tuple[str, bytes]]:
    blobs = [("file", bundle.read_bytes())]
    zf = read_zip(bundle, passphrase)
    for name in zf.namelist():
        blobs.append((name, zf.read(name)))
    db = tmp / f"{bundle.name}.db"
    db.write_bytes(zf.read("mirror_os.db"))
    blobs.append(("db-file", db.read_bytes()))
    # and every text value as SQLite returns it (FTS segments compress terms; the rows do not)
    s = SQLiteStorage(db, migrate=False, create=False)
    try:
        for (table,) in s.db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            rows = s.db.execute_sql(f'SELECT * FROM "{table}"').fetchall()
            blobs.append((f"rows:{table}", repr(rows).encode()))
        vocab = s.db.execute_sql("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, reflections_fts, 'row')")
        terms = s.db.execute_sql("SELECT term FROM temp.v").fetchall()
        blobs.append(("fts-terms", " ".join(t for (t,) in terms).encode()))
    finally:
        s.close()
    return blobs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.fixed_dictionaries({
    "local": st.integers(0, 4), "anonymous": st.integers(0, 2), "summary": st.integers(0, 2),
    "public": st.integers(0, 4), "tensions": st.integers(0, 2)}))
def test_no_local_only_marker_leaves_in_a_share_bundle(spec: dict[str, int], tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("share")
    paths = AppPaths.resolve(tmp / "data")
    storage = SQLiteStorage(paths.database)
    try:
        secret, public = plant(storage, spec)
        result = export_bundle(storage, tmp, paths=paths, share=True)
    finally:
        storage.close()
    blobs = every_byte(result.path, None, tmp)
    for where, data in blobs:
        for mark in secret:
            assert mark.encode() not in data, f"{mark} leaked in {where}"
    members = dict(blobs)
    man = json.loads(members["MANIFEST.json"])
    assert man["privacy"]["sanitized"] is True
    assert man["record_counts"]["reflections"] == spec["public"]
    rows = members["rows:reflections"]
    assert all(text.encode() in rows for text in public)


def test_encrypted_share_bundle_holds_no_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    paths = AppPaths.resolve(tmp_path / "data")
    storage = SQLiteStorage(paths.database)
    secret, public = plant(storage, {"local": 3, "anonymous": 1, "summary": 1, "public": 3, "tensions": 1})
    result = export_bundle(storage, tmp_path, paths=paths, share=True, passphrase="share pass")
    storage.close()
    for where, data in every_byte(result.path, "share pass", tmp_path):
        assert not any(mk.encode() in data for mk in secret), where
    zf = read_zip(result.path, "share pass")
    assert json.loads(zf.read("integrations/configs.json")) == []
    assert json.loads(zf.read("config.json")) == {}
    assert not [n for n in zf.namelist() if n.startswith("evolution/history/")]


def test_share_bundle_keeps_foreign_keys_and_anonymises_tensions(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "data")
    storage = SQLiteStorage(paths.database)
    plant(storage, {"local": 1, "anonymous": 0, "summary": 0, "public": 2, "tensions": 1})
    result = export_bundle(storage, tmp_path, paths=paths, share=True)
    storage.close()
    db = tmp_path / "s.db"
    db.write_bytes(read_zip(result.path).read("mirror_os.db"))
    s = SQLiteStorage(db, migrate=False, create=False)
    try:
        assert s.db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
        (ident,) = s.identities.list()
        assert ident.metadata is None
        by_name = {t.name: t for t in s.tensions.list()}
        assert set(by_name) == {"Open vs closed", "Fast vs slow"}
        assert by_name["Open vs closed"].metadata is None and by_name["Open vs closed"].identity_id is None
        assert by_name["Fast vs slow"].metadata == {"why": "public reason"}
        assert s.drafts.count() == 0 and s.integrations.count() == 0 and s.threads.count() == 0
        assert s.evolution_history.count() == 0 and s.axes.count() == 0
    finally:
        s.close()


def test_telemetry_purpose_reads_only_opted_in_rows(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "t.db")
    secret, _ = plant(storage, {"local": 2, "anonymous": 0, "summary": 0, "public": 2, "tensions": 1})
    out = dict(outbound_rows(storage, "telemetry"))
    storage.close()
    assert set(out) == {"engine_runs", "engine_feedback", "evolution_events"}
    assert all(r.sync_allowed for rows in out.values() for r in rows)
    assert all(r.reflection_id is None for r in out["engine_runs"])
    text = repr(out)
    assert not any(mk in text for mk in secret)
    with pytest.raises(ValueError):
        list(outbound_rows(storage, "everything"))  # type: ignore[arg-type]
