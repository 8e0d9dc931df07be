"""Issue 16, item 4: the person's templates travel in bundles (replace and merge, SQLite and PostgreSQL),
and a template of the same name already in the journal is kept, not overwritten."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_export import populate  # noqa: E402

from mirror_desktop.bundle import export as export_mod  # noqa: E402
from mirror_desktop.bundle.export import export_bundle  # noqa: E402
from mirror_desktop.bundle.importer import import_bundle  # noqa: E402
from mirror_desktop.core.templates import TemplateService  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402


@pytest.fixture(autouse=True)
def _low_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)


def own_templates(paths: AppPaths) -> dict[str, str]:
    s = SQLiteStorage(paths.database)
    try:
        return {t.name: t.body for t in s.templates.list()}
    finally:
        s.close()


def bundle_with_templates(tmp_path: Path) -> Path:
    src = AppPaths.resolve(tmp_path / "src")
    s = SQLiteStorage(src.database)
    try:
        populate(s, n=3)
        ts = TemplateService(s)
        ts.save("Morning", "What woke me?\n")
        ts.save("Evening", "What stayed with me?\n")
        (tmp_path / "out").mkdir()
        return export_bundle(s, tmp_path / "out", paths=src).path
    finally:
        s.close()


def test_templates_restore_and_merge_keeping_the_persons_own(tmp_path: Path) -> None:
    bundle = bundle_with_templates(tmp_path)
    restored = AppPaths.resolve(tmp_path / "restored")
    import_bundle(bundle, restored, mode="replace")
    assert own_templates(restored) == {"Evening": "What stayed with me?\n", "Morning": "What woke me?\n"}

    mine = AppPaths.resolve(tmp_path / "mine")
    s = SQLiteStorage(mine.database)
    try:
        TemplateService(s).save("morning", "My own morning questions.\n")
    finally:
        s.close()
    result = import_bundle(bundle, mine, mode="merge")
    assert own_templates(mine) == {"morning": "My own morning questions.\n", "Evening": "What stayed with me?\n"}
    assert result.inserted["templates"] == 1
    again = import_bundle(bundle, mine, mode="merge")
    assert again.inserted["templates"] == 0 and again.duplicates["templates"] == 1


@pytest.mark.postgres
def test_templates_leave_and_enter_a_postgres_journal(tmp_path: Path, postgres_dsn: str) -> None:
    from mirror_desktop.storage.journal import PostgresStorage

    bundle = bundle_with_templates(tmp_path)
    pg = PostgresStorage(postgres_dsn)
    try:
        TemplateService(pg).save("Evening", "Mine, not the bundle's.\n")
        import_bundle(bundle, AppPaths.resolve(tmp_path / "pgpaths"), mode="merge", storage=pg)
        assert {t.name: t.body for t in pg.templates.list()} == {"Evening": "Mine, not the bundle's.\n",
                                                                 "Morning": "What woke me?\n"}
        (tmp_path / "pgout").mkdir()
        out = export_bundle(pg, tmp_path / "pgout", staging_root=tmp_path).path
    finally:
        pg.close()
    back = AppPaths.resolve(tmp_path / "back")
    import_bundle(out, back, mode="replace")
    assert own_templates(back) == {"Evening": "Mine, not the bundle's.\n", "Morning": "What woke me?\n"}
