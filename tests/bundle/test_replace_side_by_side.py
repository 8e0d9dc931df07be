"""Issue 11, item 1: ``import --replace`` while other processes open the journal.

shared/RELIABILITY.md, "Files at rest and processes side by side": a process that opens the journal
at every step of a replace is either refused or sees the old journal or the new one, never a mix;
integrity_check stays ok; no -wal/-shm is left beside the swapped file; a reflection saved while
the swap is under way never ends up only in the rollback copy. Real processes, real files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mirror_desktop.bundle import export as export_mod, importer  # noqa: E402
from mirror_desktop.bundle.export import export_bundle  # noqa: E402
from mirror_desktop.bundle.importer import commit_import, import_bundle, prepare_import  # noqa: E402
from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.errors import MirrorError  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage import journal_lock  # noqa: E402
from mirror_desktop.storage.database import sqlite_module  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402

# One open-write-close by another process; prints what happened as one JSON line.
OPEN_AND_WRITE = textwrap.dedent("""
    import json, sys
    from mirror_desktop.storage import journal_lock
    journal_lock.OPEN_WAIT_S = 0  # refused at once rather than after waiting for the swap to end
    from mirror_desktop.core import models as m
    from mirror_desktop.core.errors import MirrorError
    from mirror_desktop.storage.journal import SQLiteStorage
    try:
        s = SQLiteStorage(sys.argv[1], migrate=False, create=False)
    except MirrorError as exc:
        print(json.dumps({"refused": str(exc)}))
        sys.exit(0)
    r = s.reflections.create(m.Reflection(content="written by another process at " + sys.argv[2]))
    s.close()
    print(json.dumps({"saved": r.id}))
""")

# Opens, writes one row, reads every reflection and quick_check, closes; again and again until killed.
LOOP = textwrap.dedent("""
    import json, sys, time
    from mirror_desktop.core import models as m
    from mirror_desktop.core.errors import MirrorError
    from mirror_desktop.storage.journal import SQLiteStorage
    i = 0
    while True:
        i += 1
        try:
            s = SQLiteStorage(sys.argv[1], migrate=False, create=False)
        except MirrorError as exc:
            print(json.dumps({"refused": str(exc)}), flush=True)
            time.sleep(0.01)
            continue
        try:
            s.reflections.create(m.Reflection(content=f"loop {i}"))
            contents = [r.content for r in s.reflections.list()]
            ok = s.db.execute_sql("PRAGMA quick_check").fetchone()[0]
        finally:
            s.close()
        print(json.dumps({"contents": contents, "quick_check": ok}), flush=True)
        time.sleep(0.02)
""")


@pytest.fixture(autouse=True)
def _low_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)


def bundle_of(tmp_path: Path, name: str, contents: list[str]) -> Path:
    paths = AppPaths.resolve(tmp_path / f"src-{name}")
    s = SQLiteStorage(paths.database)
    s.reflections.create_many([m.Reflection(content=c) for c in contents])
    out = export_bundle(s, tmp_path, paths=paths, filename=f"{name}.zip").path
    s.close()
    return out


def integrity(db: Path) -> str:
    con = sqlite_module().connect(str(db))
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def contents_of(db: Path) -> set[str]:
    con = sqlite_module().connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT content FROM reflections")}
    finally:
        con.close()


def test_a_process_opening_the_journal_at_every_step_of_a_replace(tmp_path: Path, monkeypatch) -> None:
    new_contents = [f"from the bundle {i}" for i in range(12)]
    bundle = bundle_of(tmp_path, "new", new_contents)
    paths = AppPaths.resolve(tmp_path / "live")
    s = SQLiteStorage(paths.database)
    s.reflections.create_many([m.Reflection(content=f"the old journal {i}") for i in range(7)])
    s.close()

    outcomes: dict[str, dict[str, str]] = {}

    def another_process_opens(step: str) -> None:
        r = subprocess.run([sys.executable, "-c", OPEN_AND_WRITE, str(paths.database), step],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outcomes[step] = json.loads(r.stdout.strip().splitlines()[-1])

    monkeypatch.setattr(importer, "FAULT_HOOK", another_process_opens)
    result = import_bundle(bundle, paths, mode="replace")
    monkeypatch.setattr(importer, "FAULT_HOOK", None)

    live = paths.database
    # Nothing beside the swapped file that SQLite would replay into it.
    assert not Path(f"{live}-wal").exists() and not Path(f"{live}-shm").exists()
    assert integrity(live) == "ok"
    assert result.rollback_file is not None and integrity(result.rollback_file) == "ok"

    swap_steps = [s for s in outcomes if list(outcomes).index(s) >= list(outcomes).index("locked")]
    assert {"locked", "rollback-kept", "swapped"} <= set(swap_steps), list(outcomes)
    for step in swap_steps:
        # From the lock to the end of the swap every opener is refused, in one sentence.
        assert outcomes[step] == {"refused": journal_lock.BEING_REPLACED}, (step, outcomes[step])
    # The new journal is the bundle's, exactly: nothing written by the other process leaked in.
    assert contents_of(live) == set(new_contents)
    # Saves made while the bundle was still being checked went into the old journal (kept whole).
    early = [s for s in outcomes if s not in swap_steps]
    assert early and all("saved" in outcomes[s] for s in early)
    old = contents_of(result.rollback_file)
    assert {c for c in old if c.startswith("written")} == {f"written by another process at {s}" for s in early}


def test_replace_is_refused_while_another_process_has_the_journal_open(tmp_path: Path) -> None:
    bundle = bundle_of(tmp_path, "new", ["one", "two"])
    paths = AppPaths.resolve(tmp_path / "live")
    s = SQLiteStorage(paths.database)
    s.reflections.create(m.Reflection(content="still mine"))
    s.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from mirror_desktop.storage.journal import SQLiteStorage
            s = SQLiteStorage(sys.argv[1], migrate=False, create=False)
            s.reflections.count()
            print("open", flush=True)
            sys.stdin.read()
            s.close()
        """), str(paths.database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        prepared = prepare_import(bundle, paths)
        with pytest.raises(MirrorError) as err:
            commit_import(prepared, paths, mode="replace")
        assert str(err.value) == journal_lock.IN_USE
        cli = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(paths.data_dir),
                              "import", str(bundle), "--replace"], capture_output=True, text=True, timeout=120)
        assert cli.returncode != 0 and cli.stderr == f"mirror: {journal_lock.IN_USE}\n"
        assert contents_of(paths.database) == {"still mine"}
        assert not list(paths.data_dir.glob("*.rollback-*"))
    finally:
        holder.communicate("", timeout=60)
    # Once the other process has closed the journal, the same replace goes through.
    import_bundle(bundle, paths, mode="replace")
    assert contents_of(paths.database) == {"one", "two"}


def test_replaces_while_another_process_writes_in_a_loop_never_mix(tmp_path: Path) -> None:
    """The issue's report: a writer in a loop and repeated replaces gave btree errors and mixed rows."""
    a = [f"alpha {i}" for i in range(30)]
    b = [f"beta {i}" for i in range(25)]
    bundles = [bundle_of(tmp_path, "a", a), bundle_of(tmp_path, "b", b)]
    paths = AppPaths.resolve(tmp_path / "live")
    import_bundle(bundles[0], paths, mode="replace")
    loop = subprocess.Popen([sys.executable, "-c", LOOP, str(paths.database)], stdout=subprocess.PIPE, text=True)
    done = refused = 0
    try:
        assert loop.stdout is not None
        loop.stdout.readline()  # the loop is running
        for i in range(8):
            prepared = prepare_import(bundles[(i + 1) % 2], paths)
            for _attempt in range(500):
                try:
                    commit_import(prepared, paths, mode="replace")
                    done += 1
                    break
                except MirrorError as exc:
                    assert str(exc) == journal_lock.IN_USE
                    refused += 1
                    prepared = prepare_import(bundles[(i + 1) % 2], paths)
                    time.sleep(0.005)
    finally:
        loop.kill()
        out, _ = loop.communicate(timeout=60)
    seen = [json.loads(line) for line in out.splitlines() if line.strip()]
    opened = [o for o in seen if "contents" in o]
    assert done == 8 and opened
    for o in opened:
        assert o["quick_check"] == "ok"
        theirs = {c for c in o["contents"] if not c.startswith("loop ")}
        assert theirs in (set(a), set(b)), sorted(theirs)[:5]
    for o in seen:
        if "refused" in o:
            assert o["refused"] == journal_lock.BEING_REPLACED
    assert integrity(paths.database) == "ok"
    final = {c for c in contents_of(paths.database) if not c.startswith("loop ")}
    assert final in (set(a), set(b))
