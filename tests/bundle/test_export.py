"""Export: layout, manifest, secrets removed, consistent snapshot, atomic write (issue 5).

Also holds the small journal builders the other bundle tests import (``populate``, ``journal``).
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import json
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.bundle import age, export as export_mod
from mirror_desktop.bundle.errors import BundleError, OperationCancelled
from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.bundle.sanitize import is_secret_key, sanitize_integration, strip_secrets
from mirror_desktop.core import models as m
from mirror_desktop.core.staging import new_stage
from mirror_desktop.core.enums import (
    EngineMode, IntegrationStatus, IntegrationType, ProposalType, SyncMode, Visibility,
)
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage

PASS = "correct horse battery staple"
LOW_N = 2  # scrypt work factor for tests that are not about the work factor


@pytest.fixture(autouse=True)
def _low_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", LOW_N)


def populate(storage: Any, n: int = 20, *, secret: str = "s3cr3t-oauth-value") -> dict[str, Any]:
    """A little of every table; returns some ids."""
    me = storage.identities.create(m.Identity(metadata={"name": "Work self"}))
    refs = [m.Reflection(content=f"reflection number {i} about the week", identity_id=me.id,
                         visibility=Visibility.SYNC_FULL_PUBLIC if i % 3 == 0 else Visibility.LOCAL_ONLY,
                         metadata={"tags": ["t"]}) for i in range(n)]
    storage.reflections.create_many(refs)
    storage.mirrorbacks.create(m.Mirrorback(reflection_id=refs[0].id, content="you said", engine_version="1.0.0"))
    th = storage.threads.create(m.Thread(identity_id=me.id, title="A thread"))
    storage.thread_reflections.append(th.id, refs[1].id)
    storage.tensions.create(m.Tension(name="Rest vs drive", axis_a="rest", axis_b="drive", identity_id=me.id,
                                      sync_mode=SyncMode.SHARE_ANONYMIZED))
    storage.axes.create(m.Axis(name="Energy"))
    run = storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                                 reflection_id=refs[0].id, sync_allowed=True))
    storage.engine_feedback.create(m.EngineFeedback(engine_run_id=run.id, rating=4))
    prop = storage.evolution_proposals.create(m.EvolutionProposal(
        proposal_type=ProposalType.PROMPT_ADJUSTMENT, title="Shorter", description="Be brief", changes={"x": 1}))
    storage.evolution_history.create(m.EvolutionHistory(evolution_id=prop.id, event_type="upgrade"))
    integ = storage.integrations.create(m.Integration(
        integration_type=IntegrationType.CALENDAR, status=IntegrationStatus.ACTIVE,
        config={"provider": "google_calendar", "calendar_ids": ["primary"], "oauth_token_encrypted": secret,
                "nested": {"client_secret": secret, "refresh_token": secret, "fine": "kept"},
                "endpoint": f"https://user:{secret}@example.org/cal?access_token={secret}&view=week",
                "headers": [{"Authorization": f"Bearer {secret}"}, f"Bearer {secret}"],
                "apiKey": secret, "PASSWORD": secret}))
    storage.drafts.create(m.Draft(content="half-typed draft text zzdraftmarker"))
    return {"identity": me.id, "reflections": [r.id for r in refs], "integration": integ.id, "proposal": prop.id}


@pytest.fixture
def journal(tmp_path: Path) -> tuple[AppPaths, SQLiteStorage]:
    paths = AppPaths.resolve(tmp_path / "data")
    storage = SQLiteStorage(paths.database)
    populate(storage)
    yield paths, storage
    storage.close()


def read_zip(path: Path, passphrase: str | None = None) -> zipfile.ZipFile:
    data = path.read_bytes()
    if passphrase:
        out = io.BytesIO()
        age.decrypt_stream(io.BytesIO(data), out, passphrase)
        data = out.getvalue()
    return zipfile.ZipFile(io.BytesIO(data))


def test_layout_and_manifest(journal, tmp_path: Path) -> None:
    paths, storage = journal
    out = tmp_path / "out"
    out.mkdir()
    result = export_bundle(storage, out, paths=paths)
    assert result.path.name.startswith("mirror_bundle_") and result.path.name.endswith(".zip")
    import re
    assert re.fullmatch(r"mirror_bundle_\d{8}_\d{6}\.zip", result.path.name)
    zf = read_zip(result.path)
    names = set(zf.namelist())
    assert {"MANIFEST.json", "mirror_os.db", "config.json", "integrations/configs.json"} <= names
    assert any(n.startswith("constitution/") and n.endswith(".md") for n in names)
    assert any(n.startswith("evolution/proposals/") for n in names)
    assert any(n.startswith("evolution/history/") for n in names)
    man = json.loads(zf.read("MANIFEST.json"))
    for key in ("version", "exported_at", "mirror_version", "schema_version", "database_type",
                "database_size_bytes", "record_counts", "includes", "privacy"):
        assert key in man
    assert man["privacy"] == {"sanitized": False, "encryption": "none"}
    assert set(man["members"]) == names - {"MANIFEST.json"}
    for name, info in man["members"].items():
        data = zf.read(name)
        assert info["size"] == len(data)
        assert info["sha256"] == hashlib.sha256(data).hexdigest()
    live = storage.counts()
    for table, count in man["record_counts"].items():
        expected = live[table] - (1 if table == "evolution_events" else 0)  # the export event came after
        assert count == expected, table
    assert man["database_size_bytes"] == man["members"]["mirror_os.db"]["size"]


def test_every_secret_removed_and_drafts_left_behind(journal, tmp_path: Path) -> None:
    paths, storage = journal
    secret = "s3cr3t-oauth-value"
    result = export_bundle(storage, tmp_path, paths=paths)
    zf = read_zip(result.path)
    for name in zf.namelist():
        data = zf.read(name)
        assert secret.encode() not in data, name
        assert b"zzdraftmarker" not in data, name
    configs = json.loads(zf.read("integrations/configs.json"))
    (integ,) = configs
    assert integ["status"] == "disconnected"
    assert integ["metadata"]["needs_reauthorization"] is True
    assert integ["config"]["provider"] == "google_calendar"
    assert integ["config"]["nested"] == {"fine": "kept"}
    assert integ["config"]["endpoint"] == "https://example.org/cal?view=week"
    assert "oauth_token_encrypted" in integ["metadata"]["removed_secret_fields"]
    # the live journal keeps its own config untouched
    assert storage.integrations.list()[0].config["oauth_token_encrypted"] == secret


@pytest.mark.parametrize("key", ["token", "access_token", "refreshToken", "client_secret", "password", "Passwd",
                                 "api_key", "apiKey", "API-KEY", "private_key", "oauth", "oauth_state", "oauth2",
                                 "authorization", "auth", "credentials", "cookie", "session_id", "bearer",
                                 "passphrase", "secret", "x-api-key", "signing_key", "dsn", "pin_code", "jwt"])
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)
    assert strip_secrets({key: "v", "provider": "p"}) == {"provider": "p"}


@pytest.mark.parametrize("value", ["Bearer abc.def", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig",
                                   "-----BEGIN RSA PRIVATE KEY-----\nMII", "ghp_abcdefghijklmnop1234",
                                   "sk-abcdefghijklmnop", "xoxb-1234567890-abc"])
def test_secret_values_are_recognised_anywhere(value: str) -> None:
    assert strip_secrets({"note": value, "list": [value, "ok"]}) == {"list": ["ok"]}


def test_sanitize_integration_marks_reauth() -> None:
    config, meta = sanitize_integration({"token": "x", "a": 1}, {"auto_reflect": True})
    assert config == {"a": 1} and meta["needs_reauthorization"] is True and meta["auto_reflect"] is True


def test_insert_then_export_at_once_counts_match(journal, tmp_path: Path) -> None:
    paths, storage = journal
    storage.reflections.create_many([m.Reflection(content=f"late {i}") for i in range(300)])
    before = storage.counts()
    result = export_bundle(storage, tmp_path, paths=paths)
    assert result.record_counts["reflections"] == before["reflections"]


def test_export_while_another_connection_writes_is_consistent(journal, tmp_path: Path) -> None:
    paths, storage = journal
    stop = threading.Event()

    def writer() -> None:
        w = SQLiteStorage(paths.database)
        try:
            while not stop.is_set():
                w.reflections.create(m.Reflection(content="written during the export"))
                # SQLite's busy handler is not fair: a writer that never pauses can starve the
                # export's own event insert past busy_timeout. A real editor pauses far longer.
                stop.wait(0.002)
        finally:
            w.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        results = [export_bundle(storage, tmp_path, paths=paths, filename=f"b{i}.zip") for i in range(3)]
    finally:
        stop.set()
        t.join()
    for result in results:
        zf = read_zip(result.path)
        db = tmp_path / f"{result.path.name}.db"
        db.write_bytes(zf.read("mirror_os.db"))
        copy = SQLiteStorage(db, migrate=False, create=False)
        try:
            assert copy.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts = copy.counts()
            assert all(counts[t] == n for t, n in result.record_counts.items())
        finally:
            copy.close()


def test_encrypted_export_is_age_and_verified(journal, tmp_path: Path) -> None:
    paths, storage = journal
    result = export_bundle(storage, tmp_path, paths=paths, passphrase=PASS)
    assert result.path.name.endswith(".zip.age") and result.encrypted
    assert result.path.read_bytes().startswith(b"age-encryption.org/v1\n-> scrypt ")
    zf = read_zip(result.path, PASS)
    assert json.loads(zf.read("MANIFEST.json"))["privacy"]["encryption"] == "age-scrypt"
    pyrage = pytest.importorskip("pyrage")
    plain = pyrage.passphrase.decrypt(result.path.read_bytes(), PASS)
    assert zipfile.ZipFile(io.BytesIO(plain)).testzip() is None


def test_age_cli_decrypts_our_bundle(journal, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_age_interop import _need_age, _run_in_tty

    age_bin = _need_age()
    paths, storage = journal
    pw = "interop horse battery"  # the pty driver counts prompts by the word "passphrase"
    result = export_bundle(storage, tmp_path, paths=paths, passphrase=pw, log2_n=10)
    out = tmp_path / "plain.zip"
    code, transcript = _run_in_tty([age_bin, "-d", "-o", str(out), str(result.path)], pw, 1)
    assert code == 0, transcript
    assert zipfile.ZipFile(out).testzip() is None
    assert "MANIFEST.json" in zipfile.ZipFile(out).namelist()


def test_export_records_an_event_with_counts_only(journal, tmp_path: Path) -> None:
    paths, storage = journal
    export_bundle(storage, tmp_path, paths=paths)
    (event,) = [e for e in storage.evolution_events.list() if e.event_type == "export"]
    assert event.event_data["counts"]["reflections"] == 20
    text = json.dumps(event.event_data)
    assert "reflection number" not in text and "Work self" not in text


STEPS = ["snapshot", "zipped", "temp-written", "replaced", "folder-synced", "verified"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("encrypted", [False, True])
def test_torn_export_leaves_old_or_new(journal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        step: str, encrypted: bool) -> None:
    paths, storage = journal
    name = "bundle.zip.age" if encrypted else "bundle.zip"
    pw = PASS if encrypted else None
    first = export_bundle(storage, tmp_path, paths=paths, passphrase=pw, filename=name)
    old = first.path.read_bytes()
    storage.reflections.create(m.Reflection(content="newer text"))

    def fault(at: str) -> None:
        if at == step:
            raise OSError(5, "injected fault")

    monkeypatch.setattr(export_mod, "FAULT_HOOK", fault)
    with pytest.raises(OSError):
        export_bundle(storage, tmp_path, paths=paths, passphrase=pw, filename=name)
    now = first.path.read_bytes()
    if now != old:  # complete new: it opens and verifies
        zf = read_zip(first.path, pw)
        assert zf.testzip() is None and "MANIFEST.json" in zf.namelist()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert not list((paths.data_dir / ".staging").iterdir())


def test_killed_export_leaves_old_or_new(journal, tmp_path: Path) -> None:
    """SIGKILL a CLI export at varying moments: the target is the complete old or complete new file."""
    paths, storage = journal
    storage.reflections.create_many([m.Reflection(content=("filler " * 200) + str(i)) for i in range(400)])
    out = tmp_path / "out"
    out.mkdir()
    target = out / "fixed.zip"
    first = export_bundle(storage, out, paths=paths, filename="fixed.zip")
    old = first.path.read_bytes()
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from mirror_desktop.paths import AppPaths
        from mirror_desktop.storage.journal import SQLiteStorage
        from mirror_desktop.bundle.export import export_bundle
        paths = AppPaths.resolve({str(paths.data_dir)!r})
        s = SQLiteStorage(paths.database)
        print("start", flush=True)
        export_bundle(s, Path({str(out)!r}), paths=paths, filename="fixed.zip")
        print("done", flush=True)
    """)
    for delay in (0.05, 0.15, 0.3, 0.6):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
        assert proc.stdout is not None
        proc.stdout.readline()  # "start": imports done
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        data = target.read_bytes()
        if data != old:
            zf = zipfile.ZipFile(io.BytesIO(data))
            assert zf.testzip() is None and "MANIFEST.json" in zf.namelist()
            old = data


def test_cancel_writes_nothing(journal, tmp_path: Path) -> None:
    paths, storage = journal

    class Cancelling:
        calls = 0

        def set_progress(self, fraction: float, message: str = "") -> None:
            pass

        def is_cancelled(self) -> bool:
            self.calls += 1
            return self.calls > 3

    with pytest.raises(OperationCancelled):
        export_bundle(storage, tmp_path, paths=paths, passphrase=PASS, state=Cancelling())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("mirror_bundle", ".mirror_bundle"))]


def test_missing_folder_is_one_sentence(journal, tmp_path: Path) -> None:
    paths, storage = journal
    with pytest.raises(BundleError, match="does not exist"):
        export_bundle(storage, tmp_path / "nope", paths=paths)


def test_disk_full_is_one_sentence(journal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths, storage = journal
    import errno

    def full(step: str) -> None:
        if step == "temp-written":
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_mod, "FAULT_HOOK", full)
    with pytest.raises(BundleError, match="disk is full"):
        export_bundle(storage, tmp_path, paths=paths)
    assert not [p for p in tmp_path.iterdir() if "mirror_bundle" in p.name]


@pytest.mark.postgres
def test_postgres_journal_exports_as_sqlite(tmp_path: Path, postgres_dsn: str) -> None:
    from mirror_desktop.storage.journal import PostgresStorage

    pg = PostgresStorage(postgres_dsn)
    try:
        populate(pg)
        result = export_bundle(pg, tmp_path, staging_root=tmp_path)
        man = json.loads(read_zip(result.path).read("MANIFEST.json"))
        assert man["database_type"] == "sqlite" and man["source_database_type"] == "postgres"
    finally:
        pg.close()


def test_leftovers_of_a_killed_export_are_swept_at_the_next(journal, tmp_path: Path) -> None:
    """Temp bundles and plaintext staging folders from a killed run go; a run in progress keeps its own."""
    paths, storage = journal
    out = tmp_path / "out"
    out.mkdir()
    staging = paths.data_dir / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    old_tmp = out / ".mirror_bundle_20250101_000000.zip.age.dead.tmp"
    old_stage = staging / "export-dead"
    old_tmp.write_bytes(b"half a bundle")
    old_stage.mkdir()
    (old_stage / "mirror_os.db").write_bytes(b"plaintext journal copy")  # a killed run's, however recent
    running = new_stage(staging, "export-")  # held by a run in progress (here: this process)
    long_ago = time.time() - export_mod.STALE_AFTER_S - 60
    os.utime(old_tmp, (long_ago, long_ago))
    export_bundle(storage, out, paths=paths)
    assert not old_tmp.exists() and not old_stage.exists()
    assert running.path.exists()
    running.release()
