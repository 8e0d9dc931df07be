"""Import: round trip, replace with rollback, merge, bad input, hostile databases, fault injection."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_export import PASS, populate, read_zip  # noqa: E402

from mirror_desktop.bundle import age, export as export_mod, importer  # noqa: E402
from mirror_desktop.bundle.errors import (  # noqa: E402
    BundleError, BundleSchemaTooNew, DamagedBundle, HostileDatabase, NotABundle, PassphraseRequired,
    SlowPassphraseCheck,
)
from mirror_desktop.bundle.export import export_bundle  # noqa: E402
from mirror_desktop.bundle.importer import import_bundle  # noqa: E402
from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.errors import MirrorError  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.database import sqlite_module  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.storage.migrations import load_migrations  # noqa: E402

TABLES = ("identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "tensions", "axes",
          "engine_runs", "engine_feedback", "evolution_proposals", "evolution_history", "evolution_events",
          "integrations", "schema_version")


@pytest.fixture(autouse=True)
def _low_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)


def dump(db: Path) -> dict[str, list[tuple]]:
    con = sqlite_module().connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: sorted(map(tuple, con.execute(f"SELECT * FROM {t}").fetchall()), key=repr) for t in TABLES}
    finally:
        con.close()


@pytest.fixture
def source(tmp_path: Path) -> tuple[AppPaths, Path]:
    """A populated journal and an unencrypted and an encrypted bundle of it."""
    paths = AppPaths.resolve(tmp_path / "src")
    s = SQLiteStorage(paths.database)
    populate(s)
    (paths.config_dir).mkdir(parents=True, exist_ok=True)
    (paths.config_dir / "config.json").write_text(json.dumps({"theme": "dark", "api_token": "nope"}))
    plain = export_bundle(s, tmp_path, paths=paths, filename="plain.zip").path
    sealed = export_bundle(s, tmp_path, paths=paths, passphrase=PASS, filename="sealed.zip.age").path
    s.close()
    return paths, plain, sealed


def fresh_paths(tmp_path: Path, name: str = "dst") -> AppPaths:
    return AppPaths.resolve(tmp_path / name)


def live_journal(paths: AppPaths, n: int = 5) -> set[str]:
    s = SQLiteStorage(paths.database)
    try:
        s.reflections.create_many([m.Reflection(content=f"already here {i}") for i in range(n)])
        return {r.id for r in s.reflections.list()}
    finally:
        s.close()


def reflection_ids(paths: AppPaths) -> set[str]:
    s = SQLiteStorage(paths.database, migrate=False, create=False)
    try:
        return {r.id for r in s.reflections.list()}
    finally:
        s.close()


def test_import_into_empty_dir_is_an_exact_copy(source, tmp_path: Path) -> None:
    src_paths, plain, sealed = source
    for bundle, pw in ((plain, None), (sealed, PASS)):
        dst = fresh_paths(tmp_path, "dst-" + bundle.name)
        result = import_bundle(bundle, dst, passphrase=pw)
        assert result.mode == "replace" and result.rollback_file is None
        zf = read_zip(bundle, pw)
        bundled = tmp_path / f"{bundle.name}.db"
        bundled.write_bytes(zf.read("mirror_os.db"))
        want, got = dump(bundled), dump(dst.database)
        for table in TABLES:
            if table == "evolution_events":
                extra = [r for r in got[table] if r not in want[table]]
                assert len(extra) == 1 and extra[0][1] == "import"
            else:
                assert got[table] == want[table], table
        # constitution restored, config restored without secrets, integrations disconnected until re-entered
        assert sorted(p.name for p in (dst.data_dir / "constitution").iterdir()) == sorted(
            n.split("/", 1)[1] for n in zf.namelist() if n.startswith("constitution/"))
        assert json.loads((dst.config_dir / "config.json").read_text()) == {"theme": "dark"}
        s = SQLiteStorage(dst.database)
        (integ,) = s.integrations.list()
        assert str(integ.status) == "disconnected" and integ.metadata["needs_reauthorization"] is True
        assert s.search("week")  # full-text index rebuilt
        s.close()


def test_replace_keeps_the_old_journal_as_rollback(source, tmp_path: Path) -> None:
    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    old_ids = live_journal(dst)
    result = import_bundle(plain, dst, mode="replace")
    assert result.rollback_file is not None and result.rollback_file.parent == dst.database.parent
    old = SQLiteStorage(result.rollback_file, migrate=False, create=False)
    assert {r.id for r in old.reflections.list()} == old_ids
    old.close()
    assert reflection_ids(dst).isdisjoint(old_ids)
    assert not Path(f"{dst.database}-wal").exists() or Path(f"{dst.database}-wal").stat().st_size == 0


def test_merge_counts_duplicates_and_reports_conflicts(source, tmp_path: Path) -> None:
    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    old_ids = live_journal(dst)
    import_bundle(plain, dst, mode="merge")
    # change one imported reflection locally, then merge the same bundle again
    s = SQLiteStorage(dst.database)
    target = next(r for r in s.reflections.list() if r.content.startswith("reflection number 2 "))
    from dataclasses import replace
    s.reflections.update(replace(target, content="edited here"))
    s.close()
    result = import_bundle(plain, dst, mode="merge")
    assert sum(result.inserted.values()) == 0
    assert result.duplicates["reflections"] == 19
    assert result.conflicts["reflections"] == [target.id]
    ids = reflection_ids(dst)
    assert old_ids <= ids and len(ids) == len(old_ids) + 20
    s = SQLiteStorage(dst.database)
    assert s.reflections.get(target.id).content == "edited here"  # the live row is kept
    events = [e for e in s.evolution_events.list() if e.event_type == "import"]
    assert [e.event_data["mode"] for e in events] == ["merge", "merge"]
    assert events[-1].event_data["conflicts"] == 1
    s.close()


def test_wrong_passphrases_all_refused(source, tmp_path: Path) -> None:
    _, _, sealed = source
    dst = fresh_paths(tmp_path)
    old = live_journal(dst)
    rng = random.Random(5)
    for _ in range(5):
        wrong = "".join(rng.choice("abcdefgh ✓") for _ in range(rng.randint(1, 30)))
        with pytest.raises(BundleError, match="Wrong passphrase"):
            import_bundle(sealed, dst, passphrase=wrong)
    with pytest.raises(PassphraseRequired):
        import_bundle(sealed, dst)
    assert reflection_ids(dst) == old
    assert not list((dst.data_dir / ".staging").iterdir())


def _refused(bundle: bytes, tmp_path: Path, dst: AppPaths, pw: str | None = PASS) -> BundleError:
    f = tmp_path / "bad.zip.age"
    f.write_bytes(bundle)
    with pytest.raises(BundleError) as info:
        import_bundle(f, dst, passphrase=pw)
    return info.value


def test_flipped_truncated_extended_files_refused(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "src")
    s = SQLiteStorage(paths.database)
    populate(s)
    s.reflections.create_many([m.Reflection(content=os.urandom(3000).hex()) for _ in range(60)])
    sealed = export_bundle(s, tmp_path, paths=paths, passphrase=PASS, filename="big.zip.age").path
    s.close()
    blob = sealed.read_bytes()
    assert len(blob) > 3 * age.ENC_CHUNK_SIZE
    dst = fresh_paths(tmp_path)
    old = live_journal(dst)
    header_len = blob.index(b"\n---") + 48
    rng = random.Random(1)
    offsets = sorted({rng.randrange(len(blob)) for _ in range(12)} | {0, 30, header_len + 5, len(blob) - 1})
    messages = set()
    for off in offsets:
        bad = bytearray(blob)
        bad[off] ^= 0x40
        messages.add(str(_refused(bytes(bad), tmp_path, dst)).split(" ")[2])
    for k in range(1, len(blob) // age.ENC_CHUNK_SIZE + 1):
        cut = header_len + 16 + k * age.ENC_CHUNK_SIZE
        for end in (cut - 1, cut, cut + 1):
            if end < len(blob):
                _refused(blob[:end], tmp_path, dst)
    err = _refused(blob + b"\x00", tmp_path, dst)
    assert "changed or cut short" in str(err) and "byte 0 " not in str(err)
    err = _refused(blob[:len(blob) - 100], tmp_path, dst)
    assert "incomplete" in str(err) or "changed or cut short" in str(err)
    bad = bytearray(blob)
    bad[header_len + 16 + age.ENC_CHUNK_SIZE + 100] ^= 1
    second_chunk = blob.index(b"\n--- ") + 5 + 43 + 1 + 16 + age.ENC_CHUNK_SIZE
    assert f"starts at byte {second_chunk:,}" in str(_refused(bytes(bad), tmp_path, dst))
    assert reflection_ids(dst) == old


def test_hostile_work_factor_refused_at_once(source, tmp_path: Path) -> None:
    _, _, sealed = source
    blob = sealed.read_bytes()
    lines = blob.split(b"\n")
    args = lines[1].split(b" ")
    args[-1] = b"23"
    lines[1] = b" ".join(args)
    dst = fresh_paths(tmp_path)
    err = _refused(b"\n".join(lines), tmp_path, dst)
    assert "work factor of 23" in str(err)


@pytest.mark.parametrize("content", [b"", b"hello world", os.urandom(5000), b"%PDF-1.4 not a bundle"])
def test_random_bytes_are_not_a_bundle(content: bytes, tmp_path: Path) -> None:
    f = tmp_path / "x.zip"
    f.write_bytes(content)
    with pytest.raises(NotABundle, match="not a Mirror bundle"):
        import_bundle(f, fresh_paths(tmp_path))


def test_a_zip_that_is_not_a_bundle(tmp_path: Path) -> None:
    f = tmp_path / "photos.zip"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("config.json", "{}")
    with pytest.raises(NotABundle, match="no MANIFEST.json"):
        import_bundle(f, fresh_paths(tmp_path))


# -- hand-made bundles --------------------------------------------------------------------------

def make_bundle(path: Path, db: Path | bytes, *, extra: dict[str, bytes] | None = None,
                manifest: dict[str, Any] | None = None) -> Path:
    """A zip with a manifest that correctly hashes whatever members it is given."""
    data = db.read_bytes() if isinstance(db, Path) else db
    members = {"mirror_os.db": data, "config.json": b"{}", "integrations/configs.json": b"[]", **(extra or {})}
    man = {"version": "1.0", "exported_at": "2026-01-01T00:00:00Z", "mirror_version": "0.1.0",
           "schema_version": "1.2.0", "database_type": "sqlite", "database_size_bytes": len(data),
           "record_counts": {}, "includes": {}, "privacy": {"sanitized": False, "encryption": "none"},
           "members": {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in members.items()}}
    man.update(manifest or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
        zf.writestr("MANIFEST.json", json.dumps(man))
    return path


def raw_journal(path: Path, *, version: str | None = None) -> Path:
    s = SQLiteStorage(path, migrate=False)
    s.runner.migrate(target=version)
    s.reflections.create(m.Reflection(content="a plain reflection"))
    s.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


def sql(path: Path, *statements: str) -> Path:
    con = sqlite_module().connect(path)
    for st in statements:
        con.execute(st)
    con.commit()
    con.close()
    return path


def test_older_schema_is_migrated_in_staging(tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "old.db", version="1.0.0")
    bundle = make_bundle(tmp_path / "old.zip", db, manifest={"schema_version": "1.0.0"})
    dst = fresh_paths(tmp_path)
    result = import_bundle(bundle, dst)
    assert result.migrated_from == "1.0.0"
    s = SQLiteStorage(dst.database)
    assert s.schema_version() == load_migrations("sqlite")[-1].version and s.reflections.count() == 1
    s.close()


def test_newer_schema_is_refused_naming_the_version(tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "new.db")
    sql(db, "INSERT INTO schema_version (version, applied_at) VALUES ('9.0.0', '2030-01-01T00:00:00.000Z')")
    dst = fresh_paths(tmp_path)
    old = live_journal(dst)
    for man in ({"schema_version": "9.0.0"}, {}):
        bundle = make_bundle(tmp_path / "new.zip", db, manifest=man)
        with pytest.raises(BundleSchemaTooNew, match="schema 9.0.0"):
            import_bundle(bundle, dst)
    assert reflection_ids(dst) == old


@pytest.mark.parametrize("attack", [
    "CREATE TRIGGER evil AFTER INSERT ON reflections BEGIN INSERT INTO axes (id, name, created_at) "
    "VALUES ('pwned', 'pwned', '2020-01-01T00:00:00.000Z'); END",
    "CREATE VIEW peek AS SELECT content FROM reflections",
    "CREATE TABLE smuggled (x)",
    "CREATE INDEX idx_extra ON reflections (content)",
    "DROP INDEX idx_reflections_created",
])
def test_hostile_schema_refused_and_no_trigger_fires(attack: str, tmp_path: Path) -> None:
    db = sql(raw_journal(tmp_path / "h.db"), attack)
    bundle = make_bundle(tmp_path / "h.zip", db)
    dst = fresh_paths(tmp_path)
    old = live_journal(dst)
    with pytest.raises(HostileDatabase, match="schema differs"):
        import_bundle(bundle, dst)
    s = SQLiteStorage(dst.database)
    assert s.axes.find("pwned") is None and {r.id for r in s.reflections.list()} == old
    s.close()


def test_corrupt_pages_refused(tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "c.db")
    s = SQLiteStorage(db)
    s.reflections.create_many([m.Reflection(content=f"filler text {i} " * 20) for i in range(300)])
    s.close()
    sql(db, "PRAGMA journal_mode=DELETE")
    data = bytearray(db.read_bytes())
    page = 4096
    for n in range(3, len(data) // page, 3):  # b-tree page headers: type, freeblock, cell count
        for off in range(n * page, n * page + 8):
            data[off] = 0x7F
    bundle = make_bundle(tmp_path / "c.zip", bytes(data))
    with pytest.raises(HostileDatabase):
        import_bundle(bundle, fresh_paths(tmp_path))


def test_rows_breaking_the_rules_are_refused(tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "r.db")
    # written without CHECKs: a connection that ignores them (as a hostile tool would)
    con = sqlite_module().connect(db)
    con.execute("PRAGMA ignore_check_constraints=ON")
    con.execute("INSERT INTO reflections (id, content, visibility, created_at) VALUES ('x', 'y', 'everyone', 'now')")
    con.commit()
    con.close()
    with pytest.raises(HostileDatabase, match="breaks the journal's rules"):
        import_bundle(make_bundle(tmp_path / "r.zip", db), fresh_paths(tmp_path))


def test_not_a_database_refused(tmp_path: Path) -> None:
    with pytest.raises(HostileDatabase, match="not an SQLite database"):
        import_bundle(make_bundle(tmp_path / "n.zip", b"hello"), fresh_paths(tmp_path))


def test_manifest_hash_mismatch_refused(source, tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "m.db")
    bundle = make_bundle(tmp_path / "m.zip", db, manifest={})
    zf = zipfile.ZipFile(bundle)
    man = json.loads(zf.read("MANIFEST.json"))
    man["members"]["config.json"]["sha256"] = "0" * 64
    bad = tmp_path / "m2.zip"
    with zipfile.ZipFile(bad, "w") as out:
        for n in zf.namelist():
            out.writestr(n, json.dumps(man) if n == "MANIFEST.json" else zf.read(n))
    with pytest.raises(DamagedBundle, match="does not match the hash"):
        import_bundle(bad, fresh_paths(tmp_path))


def test_manifest_with_duplicate_keys_or_nan_refused(tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "d.db")
    bundle = make_bundle(tmp_path / "d.zip", db)
    zf = zipfile.ZipFile(bundle)
    text = zf.read("MANIFEST.json").decode()
    for bad_text in (text[:-1] + ', "version": "1.0"}', text.replace('"database_size_bytes": ', '"database_size_bytes": NaN, "x": ')):
        bad = tmp_path / "d2.zip"
        with zipfile.ZipFile(bad, "w") as out:
            for n in zf.namelist():
                out.writestr(n, bad_text if n == "MANIFEST.json" else zf.read(n))
        with pytest.raises(DamagedBundle, match="not valid JSON"):
            import_bundle(bad, fresh_paths(tmp_path))


# -- fault injection: the live journal is old or new, never a mix ------------------------------------

IMPORT_STEPS = ["decrypted", "verified", "inspected", "staged", "migrated", "constitution-staged", "config-staged",
                "staged-ready", "rollback-kept", "constitution-aside", "constitution-swapped", "config-swapped",
                "swapped", "merge-before-commit"]
REPLACE_LEFTOVERS = (".constitution.new-*", ".constitution.old-*", "*.tmp")


def old_side_files(paths: AppPaths) -> None:
    """A constitution and a config.json of the person's own, different from the bundle's."""
    (paths.data_dir / "constitution").mkdir(parents=True)
    (paths.data_dir / "constitution" / "mine.md").write_text("my own words")
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    (paths.config_dir / "config.json").write_text('{"theme": "light", "mine": true}')


def live_state(paths: AppPaths) -> tuple[frozenset[str], dict[str, bytes], bytes | None]:
    """What the person sees: the journal's reflections, the constitution folder, config.json."""
    const = paths.data_dir / "constitution"
    files = {p.name: p.read_bytes() for p in const.iterdir()} if const.is_dir() else {}
    config = paths.config_dir / "config.json"
    return frozenset(reflection_ids(paths)), files, config.read_bytes() if config.exists() else None


@pytest.mark.parametrize("mode", ["replace", "merge"])
@pytest.mark.parametrize("step", IMPORT_STEPS)
def test_fault_at_each_step_leaves_old_or_new(source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              step: str, mode: str) -> None:
    _, _, sealed = source
    # the complete new state, from an import without faults into an identical data dir
    ref = fresh_paths(tmp_path, "ref")
    live_journal(ref)
    old_side_files(ref)
    dst = fresh_paths(tmp_path)
    old = live_journal(dst)
    old_side_files(dst)
    old_state = live_state(dst)
    if mode == "replace":
        import_bundle(sealed, ref, passphrase=PASS, mode="replace")
        new_state = live_state(ref)
        assert new_state[1] != old_state[1] and new_state[2] != old_state[2]  # every piece changes
    bundle_ids = {r[0] for r in dump_reflections_of(sealed, tmp_path)}
    new = bundle_ids if mode == "replace" else old | bundle_ids
    fired: list[str] = []

    def fault(at: str) -> None:
        if at == step:
            fired.append(at)
            raise RuntimeError(f"injected at {step}")

    monkeypatch.setattr(importer, "FAULT_HOOK", fault)
    try:
        import_bundle(sealed, dst, passphrase=PASS, mode=mode)  # type: ignore[arg-type]
    except RuntimeError:
        pass
    assert fired or mode == "merge" or step == "merge-before-commit"  # every replace step is reached
    ids = reflection_ids(dst)
    assert ids in (old, new)
    s = SQLiteStorage(dst.database)
    assert s.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    s.close()
    assert not list((dst.data_dir / ".staging").iterdir())
    if mode == "replace":
        state = live_state(dst)
        assert state in (old_state, new_state), "the journal, constitution and config.json are one set"
        for folder in (dst.data_dir, dst.config_dir):
            for pattern in REPLACE_LEFTOVERS:
                assert not list(folder.glob(pattern)), (folder, pattern)
        rollbacks = sorted(p.name.split(".rollback-")[0] for folder in (dst.data_dir, dst.config_dir)
                           for p in folder.glob("*.rollback-*"))
        if state == old_state:
            assert fired and rollbacks == []  # undone: no rollback copies of the still-live files
        else:
            assert rollbacks == ["config.json", "constitution", "mirror_os.db"]


def test_replace_keeps_old_constitution_and_config_under_one_stamp(source, tmp_path: Path) -> None:
    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    old_ids = live_journal(dst)
    old_side_files(dst)
    result = import_bundle(plain, dst, mode="replace")
    assert result.rollback_file is not None and result.constitution_restored > 0
    stamp = result.rollback_file.name.split(".rollback-")[1]
    assert (dst.data_dir / f"constitution.rollback-{stamp}" / "mine.md").read_text() == "my own words"
    assert json.loads((dst.config_dir / f"config.json.rollback-{stamp}").read_text()) == {"theme": "light", "mine": True}
    assert json.loads((dst.config_dir / "config.json").read_text()) == {"theme": "dark"}
    assert not (dst.data_dir / "constitution" / "mine.md").exists()
    old = SQLiteStorage(result.rollback_file, migrate=False, create=False)
    assert {r.id for r in old.reflections.list()} == old_ids
    old.close()


def test_a_failing_rename_during_replace_is_undone(source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only injected faults: an OSError from the journal rename itself puts everything back."""
    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    live_journal(dst)
    old_side_files(dst)
    before = live_state(dst)
    real_replace = os.replace

    def failing_replace(src: Any, target: Any) -> None:
        if Path(target) == dst.database:
            raise OSError(5, "Input/output error")
        real_replace(src, target)

    monkeypatch.setattr(importer.os, "replace", failing_replace)
    with pytest.raises(OSError, match="Input/output"):
        import_bundle(plain, dst, mode="replace")
    monkeypatch.setattr(importer.os, "replace", real_replace)
    assert live_state(dst) == before
    assert not list(dst.data_dir.glob("*.rollback-*")) and not list(dst.config_dir.glob("*.rollback-*"))


def test_stale_constitution_leftovers_are_swept(source, tmp_path: Path) -> None:
    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    live_journal(dst)
    left = dst.data_dir / ".constitution.new-deadbeef"
    left.mkdir()
    (left / "x.md").write_text("plaintext from a killed import")
    tmp = dst.config_dir / ".config.json.cafe0000.tmp"
    dst.config_dir.mkdir(parents=True, exist_ok=True)
    tmp.write_text("{}")
    for p in (left / "x.md", left, tmp):
        os.utime(p, (0, 0))
    import_bundle(plain, dst, mode="replace")
    assert not left.exists() and not tmp.exists()


def dump_reflections_of(bundle: Path, tmp_path: Path) -> list[tuple]:
    db = tmp_path / "peek.db"
    db.write_bytes(read_zip(bundle, PASS).read("mirror_os.db"))
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id FROM reflections").fetchall()
    finally:
        con.close()
        db.unlink()


def test_replace_refused_while_another_connection_holds_the_journal(source, tmp_path: Path) -> None:
    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    old = live_journal(dst)
    holder = SQLiteStorage(dst.database)
    holder.db.execute_sql("BEGIN")
    holder.db.execute_sql("SELECT count(*) FROM reflections").fetchone()
    try:
        with pytest.raises(MirrorError, match="in use"):
            import_bundle(plain, dst)
    finally:
        holder.db.execute_sql("COMMIT")
        holder.close()
    assert reflection_ids(dst) == old


def test_we_import_a_bundle_the_age_cli_encrypted(source, tmp_path: Path) -> None:
    from test_age_interop import _need_age, _run_in_tty

    age_bin = _need_age()
    _, plain, _ = source
    pw = "interop horse battery"
    sealed = tmp_path / "theirs.zip.age"
    code, transcript = _run_in_tty([age_bin, "-p", "-o", str(sealed), str(plain)], pw, 2)
    assert code == 0, transcript
    dst = fresh_paths(tmp_path)
    result = import_bundle(sealed, dst, passphrase=pw)
    assert result.counts["reflections"] == 20


def test_we_import_a_bundle_pyrage_encrypted(source, tmp_path: Path) -> None:
    pyrage = pytest.importorskip("pyrage")
    _, plain, _ = source
    sealed = tmp_path / "rage.zip.age"
    sealed.write_bytes(pyrage.passphrase.encrypt(plain.read_bytes(), "rage pass"))
    # rage calibrates its work factor to the machine; above Mirror's own it needs a yes (issue 11, item 5).
    with open(sealed, "rb") as fh:
        factor = int(age.parse_header(fh).stanzas[0].args[2])
    if factor > age.EXPORT_LOG2_N:
        with pytest.raises(SlowPassphraseCheck):
            import_bundle(sealed, fresh_paths(tmp_path), passphrase="rage pass")
    result = import_bundle(sealed, fresh_paths(tmp_path), passphrase="rage pass", allow_slow_passphrase=True)
    assert result.counts["reflections"] == 20


def test_rows_are_copied_in_batches_exactly_with_sparse_rowids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging copy pages through rowids (memory): every row arrives once, none is lost at the edges."""
    from mirror_desktop.storage import bundle_db

    db = raw_journal(tmp_path / "b.db")
    s = SQLiteStorage(db)
    s.reflections.create_many([m.Reflection(content=f"batched words {i}") for i in range(23)])
    s.close()
    # rowids at the extremes of the 64-bit range and far apart, as a hand-made file could have
    sql(db, "UPDATE reflections SET rowid = -9223372036854775808 WHERE content = 'batched words 0'",
        "UPDATE reflections SET rowid = 9223372036854775807 WHERE content = 'batched words 1'",
        "UPDATE reflections SET rowid = 4611686018427387904 WHERE content = 'batched words 2'",
        "INSERT INTO reflections_fts (reflections_fts) VALUES ('rebuild')", "PRAGMA journal_mode=DELETE")
    monkeypatch.setattr(bundle_db, "COPY_BATCH_ROWS", 4)
    dst = fresh_paths(tmp_path)
    import_bundle(make_bundle(tmp_path / "b.zip", db), dst)
    want = {r[0] for r in sqlite3.connect(db).execute("SELECT id FROM reflections")}
    assert len(want) == 24 and reflection_ids(dst) == want
    s = SQLiteStorage(dst.database)
    assert len(s.search("batched")) == 23  # the full-text index holds every row once, and only those
    s.db.execute_sql("INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('integrity-check', 1)")
    s.close()


@pytest.mark.postgres
def test_merge_into_a_postgres_journal(source, tmp_path: Path, postgres_dsn: str) -> None:
    from mirror_desktop.bundle.importer import commit_import, prepare_import
    from mirror_desktop.storage.journal import PostgresStorage

    _, plain, _ = source
    dst = fresh_paths(tmp_path)
    pg = PostgresStorage(postgres_dsn)
    try:
        for _ in range(2):
            result = commit_import(prepare_import(plain, dst), dst, mode="merge", storage=pg)
        assert result.duplicates["reflections"] == 20 and sum(result.inserted.values()) == 0
        assert pg.reflections.count() == 20
        assert len(pg.search("reflection")) > 0  # the tsvector column follows merged rows
        assert [e.event_data["mode"] for e in pg.evolution_events.list() if e.event_type == "import"] == ["merge", "merge"]
    finally:
        pg.close()
