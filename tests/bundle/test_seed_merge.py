"""Issue 11, item 8: restoring a bundle into a new journal does not double the tension map.

Seeded tensions and axes match by ``seed_key`` on merge; a journal holding nothing but its seeds
counts as empty, so it takes a bundle as a restore (replace) without asking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mirror_desktop import cli
from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.bundle.importer import commit_import, import_bundle, prepare_import
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import EngineMode
from mirror_desktop.core.services import JournalService, journal_is_empty
from mirror_desktop.core.tensions import TensionService, seed_key_of
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage

MOVED = "control_vs_surrender"


@pytest.fixture(autouse=True)
def _env(cli_env: None) -> None:
    """Every test here runs the command as a script would (tests/bundle/conftest.py)."""


def by_key(storage: Any) -> dict[str, m.Tension]:
    return {k: t for t in storage.tensions.list() if (k := seed_key_of(t))}


def seeded_journal(paths: AppPaths) -> SQLiteStorage:
    s = SQLiteStorage(paths.database)
    TensionService(s).ensure_seeds()
    return s


@pytest.fixture
def bundle(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A journal that was used: a seed moved twice, a tension of its own on a seeded axis, a run."""
    paths = AppPaths.resolve(tmp_path / "src")
    s = seeded_journal(paths)
    try:
        svc = TensionService(s)
        assert MOVED in by_key(s), sorted(by_key(s))
        moved = by_key(s)[MOVED]
        svc.move_tension(moved.id, position=0.6, intensity=0.9)
        svc.move_tension(moved.id, position=0.7)
        axis_id = (moved.metadata or {}).get("axis_id")
        own = svc.create_tension("Rest vs drive", "rest", "drive", axis_id=axis_id)
        r = JournalService(s).save_reflection("I keep wanting control over the week.")
        s.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                         reflection_id=r.id, tensions_surfaced=[moved.id]))
        made = export_bundle(s, tmp_path, paths=paths, filename="used.zip").path
        facts = {"tensions": s.tensions.count(), "axes": s.axes.count(), "own": own.id, "axis": axis_id,
                 "moved": moved.id}
    finally:
        s.close()
    return made, facts


def test_a_journal_with_only_its_seeds_is_empty(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "new")
    s = seeded_journal(paths)
    try:
        assert s.tensions.count() > 0 and journal_is_empty(s)
        svc = TensionService(s)
        svc.move_tension(by_key(s)[MOVED].id, position=0.2)
        assert not journal_is_empty(s)  # a moved default is the person's own
    finally:
        s.close()
    for make in (lambda s: s.identities.create(m.Identity(metadata={"name": "Work"})),
                 lambda s: s.drafts.create(m.Draft(content="half a thought")),
                 lambda s: TensionService(s).create_tension("Mine", "a", "b")):
        other = AppPaths.resolve(tmp_path / f"j{id(make)}")
        s = seeded_journal(other)
        try:
            make(s)
            assert not journal_is_empty(s)
        finally:
            s.close()


def test_merge_matches_seeds_by_key_and_keeps_the_bundles_moves(bundle, tmp_path: Path) -> None:
    made, facts = bundle
    dst = AppPaths.resolve(tmp_path / "dst")
    live = seeded_journal(dst)
    try:
        live_ids = {k: t.id for k, t in by_key(live).items()}
        live_axes = {a.id for a in live.axes.list()}
        result = commit_import(prepare_import(made, dst), dst, mode="merge", storage=live)
        # 11 seeds + 1 own: not 11 + 11 + 1.
        assert live.tensions.count() == facts["tensions"]
        assert live.axes.count() == facts["axes"]
        assert {a.id for a in live.axes.list()} == live_axes
        moved = by_key(live)[MOVED]
        assert moved.id == live_ids[MOVED]  # the live default took the bundle's history, under its own id
        assert (moved.position, moved.intensity) == (0.7, 0.9)
        assert len((moved.metadata or {}).get("position_history") or []) == 2
        own = live.tensions.get(facts["own"])
        assert (own.metadata or {}).get("axis_id") == (moved.metadata or {}).get("axis_id") in live_axes
        run = next(r for r in live.engine_runs.list() if r.tensions_surfaced)
        assert run.tensions_surfaced == [moved.id]
        assert result.total_conflicts == 0
        # Twice: nothing new, the seeds are duplicates.
        again = commit_import(prepare_import(made, dst), dst, mode="merge", storage=live)
        assert again.inserted.get("tensions", 0) == 0 and live.tensions.count() == facts["tensions"]
        assert again.duplicates.get("tensions", 0) >= facts["tensions"]
    finally:
        live.close()


def test_a_default_both_sides_moved_is_a_conflict_and_the_live_one_stays(bundle, tmp_path: Path) -> None:
    made, facts = bundle
    dst = AppPaths.resolve(tmp_path / "dst")
    live = seeded_journal(dst)
    try:
        mine = by_key(live)[MOVED]
        TensionService(live).move_tension(mine.id, position=-0.8)
        result = commit_import(prepare_import(made, dst), dst, mode="merge", storage=live)
        assert live.tensions.count() == facts["tensions"]
        assert live.tensions.get(mine.id).position == -0.8
        assert mine.id in result.conflicts.get("tensions", [])
    finally:
        live.close()


@pytest.mark.postgres
def test_merge_into_postgres_matches_seeds_too(bundle, tmp_path: Path, postgres_dsn: str) -> None:
    from mirror_desktop.storage.journal import PostgresStorage

    made, facts = bundle
    dst = AppPaths.resolve(tmp_path / "pg")
    pg = PostgresStorage(postgres_dsn)
    try:
        TensionService(pg).ensure_seeds()
        import_bundle(made, dst, mode="merge", storage=pg)
        assert pg.tensions.count() == facts["tensions"]
        assert by_key(pg)[MOVED].position == 0.7
    finally:
        pg.close()


def test_cli_restores_into_a_seeds_only_journal_without_asking(bundle, tmp_path: Path, capsys) -> None:
    made, facts = bundle
    data = tmp_path / "new"
    assert cli.main(["--data-dir", str(data), "tension", "list"]) == 0  # the journal gets its seeds
    capsys.readouterr()
    code = cli.main(["--data-dir", str(data), "import", str(made)])
    _, err = capsys.readouterr()
    assert code == 0, err
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        assert s.tensions.count() == facts["tensions"]
        assert s.tensions.find(facts["moved"]) is not None  # the bundle's own journal, restored
    finally:
        s.close()


def test_cli_asks_when_the_journal_has_an_identity_but_no_reflections(bundle, tmp_path: Path, capsys) -> None:
    made, _ = bundle
    paths = AppPaths.resolve(tmp_path / "mine")
    s = seeded_journal(paths)
    try:
        JournalService(s).create_identity("Work self")
    finally:
        s.close()
    before = paths.database.read_bytes()
    code = cli.main(["--data-dir", str(paths.data_dir), "import", str(made)])
    _, err = capsys.readouterr()
    assert code != 0
    assert err.startswith("mirror: ") and err.count("\n") == 1
    assert "--merge" in err and "--replace" in err
    assert paths.database.read_bytes() == before


@pytest.mark.postgres
def test_cli_restores_into_a_seeds_only_postgres_journal(bundle, tmp_path: Path, postgres_dsn: str, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from mirror_desktop.storage.journal import PostgresStorage

    made, facts = bundle
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path / "pg-data"))
    assert cli.main(["--postgres", postgres_dsn, "tension", "list"]) == 0  # the journal gets its seeds
    capsys.readouterr()
    code = cli.main(["--postgres", postgres_dsn, "import", str(made)])
    _, err = capsys.readouterr()
    assert code == 0, err
    pg = PostgresStorage(postgres_dsn)
    try:
        assert pg.tensions.count() == facts["tensions"] and pg.reflections.count() == 1
        assert by_key(pg)[MOVED].position == 0.7
    finally:
        pg.close()
