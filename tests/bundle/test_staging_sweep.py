"""Issue 11, item 2: plaintext a killed import or export left in ``.staging`` is gone at the next start.

shared/RELIABILITY.md: kill -9 at any point, run any command: ``.staging`` holds no file. A staging
folder a live process still uses is left alone (it holds a lock on it; the kernel drops that lock
when the process dies, however it dies).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.bundle import export as export_mod
from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.core import models as m
from mirror_desktop.core.staging import new_stage, staging_root, sweep_staging
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage

PASSPHRASE = "a long enough passphrase for the tests"

# Runs an import or an export that stops at ``step`` (prints it, then waits to be killed).
PAUSED = textwrap.dedent("""
    import sys, time
    from mirror_desktop.bundle import export as export_mod, importer
    from mirror_desktop.paths import AppPaths
    kind, step, data, arg = sys.argv[1:5]
    def pause(at):
        if at == step:
            print(at, flush=True)
            time.sleep(600)
    export_mod.default_log2_n = 2
    paths = AppPaths.resolve(data)
    if kind == "import":
        importer.FAULT_HOOK = pause
        importer.import_bundle(arg, paths, passphrase=sys.argv[5], mode="replace")
    else:
        from mirror_desktop.storage.journal import SQLiteStorage
        export_mod.FAULT_HOOK = pause
        s = SQLiteStorage(paths.database, migrate=False)
        export_mod.export_bundle(s, arg, paths=paths, passphrase=sys.argv[5])
    print("finished without pausing", flush=True)
""")


@pytest.fixture(scope="module")
def sealed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundle")
    paths = AppPaths.resolve(root / "src")
    s = SQLiteStorage(paths.database)
    s.reflections.create_many([m.Reflection(content=f"something private {i}") for i in range(10)])
    saved = export_mod.default_log2_n
    export_mod.default_log2_n = 2
    try:
        return export_bundle(s, root, paths=paths, passphrase=PASSPHRASE, filename="sealed.zip.age").path
    finally:
        export_mod.default_log2_n = saved
        s.close()


def files_in_staging(data: Path) -> list[Path]:
    root = staging_root(data)
    return [p for p in root.rglob("*") if not p.is_dir()] if root.exists() else []


def kill_at(kind: str, step: str, data: Path, arg: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", PAUSED, kind, step, str(data), str(arg), PASSPHRASE],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == step, (line, child.stderr.read() if child.poll() is not None and child.stderr else "")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=60)


IMPORT_STEPS = ["decrypted", "verified", "inspected", "staged", "migrated", "locked", "rollback-kept"]
EXPORT_STEPS = ["snapshot", "zipped", "temp-written"]


@pytest.mark.parametrize(("kind", "step"), [("import", s) for s in IMPORT_STEPS] + [("export", s) for s in EXPORT_STEPS])
def test_killed_import_or_export_leaves_no_file_in_staging_after_any_command(
        kind: str, step: str, tmp_path: Path, sealed_bundle: Path) -> None:
    data = tmp_path / "journal"
    s = SQLiteStorage(AppPaths.resolve(data).database)
    s.reflections.create(m.Reflection(content="already here"))
    s.close()
    out = tmp_path / "out"
    out.mkdir()
    kill_at(kind, step, data, sealed_bundle if kind == "import" else out)
    assert files_in_staging(data), "the killed run left nothing behind: the step did not stage anything"
    assert cli.main(["--data-dir", str(data), "db", "status"]) == 0  # any command
    assert files_in_staging(data) == []
    # The journal itself is whole and is the old one (the kill came before the swap).
    s = SQLiteStorage(AppPaths.resolve(data).database, migrate=False, create=False)
    try:
        assert [r.content for r in s.reflections.list()] == ["already here"]
        assert s.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        s.close()


def test_a_staging_folder_a_live_process_uses_is_left_alone(tmp_path: Path) -> None:
    root = staging_root(tmp_path)
    owner = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from mirror_desktop.core.staging import new_stage
        stage = new_stage(Path(sys.argv[1]), "import-")
        (stage.path / "bundle.zip").write_bytes(b"plaintext in use")
        print(stage.path, flush=True)
        time.sleep(600)
    """), str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        in_use = Path(owner.stdout.readline().strip())
        mine = new_stage(root, "export-")  # this process's own stage is in use too
        (mine.path / "x").write_bytes(b"mine")
        leftover = root / "import-leftover"
        leftover.mkdir()
        (leftover / "bundled.db").write_bytes(b"left by a killed run a second ago")
        assert sweep_staging(root) == 1
        assert (in_use / "bundle.zip").exists() and (mine.path / "x").exists() and not leftover.exists()
        mine.release()
        assert not mine.path.exists()
    finally:
        os.kill(owner.pid, signal.SIGKILL)
        owner.communicate(timeout=60)
    # Its owner is dead: the next sweep removes it.
    assert sweep_staging(root) == 1
    assert list(root.iterdir()) == []
