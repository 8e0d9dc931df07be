"""Notes folders: the real sample vault, incremental re-sync, edits on both sides, deletions, hostile notes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.core.services import JournalService
from mirror_desktop.integrations.sync import sync_integration

pytest.importorskip("frontmatter")


def _add(storage: Any, vault: Path) -> str:
    return IntegrationService(storage).add("notes", "obsidian", path=str(vault)).id


def _reflections(storage: Any) -> dict[str, Any]:
    return {r.metadata["integration"]["external_id"]: r for r in storage.reflections.list()
            if (r.metadata or {}).get("integration")}


def test_sample_vault(sqlite_storage: Any, shared_vault: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(shared_vault, vault)
    for p in vault.rglob("*"):
        p.chmod(0o700 if p.is_dir() else 0o600)
    iid = _add(sqlite_storage, vault)
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "ok" and report.added == 2  # .obsidian/, test.png, plaintext.txt skipped
    refl = _reflections(sqlite_storage)
    assert set(refl) == {"Sample note.md", "folder/Second sample note.md"}
    sample = refl["Sample note.md"]
    assert str(sample.source) == "integration" and str(sample.visibility) == "local_only"
    assert sample.tags == ["another-tag-obsidian", "frontmatter-tag-obsidian", "inline-tag-obsidian"]
    assert "header" not in sample.tags  # "# header" is a heading, not a tag
    assert sample.metadata["integration"]["id"] == iid
    assert "link with [[Second sample note|alias]]" in sample.content and "aliases:" not in sample.content
    again = sync_integration(sqlite_storage, iid)
    assert again.outcome == "ok" and again.unchanged == 2 and again.added == again.updated == 0
    assert sqlite_storage.reflections.count() == 2


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "notes"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "app.json").write_text("{}")
    (vault / "2025-03-14.md").write_text("---\ntags: [daily, pi]\n---\nA walk by the river. #calm\n")
    (vault / "ideas.md").write_text("Ideas about #work/projects and `#notatag` here.\n")
    (vault / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    return vault


def test_daily_note_date_and_tags(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    sync_integration(sqlite_storage, iid)
    refl = _reflections(sqlite_storage)
    daily = refl["2025-03-14.md"]
    assert daily.created_at.astimezone().date().isoformat() == "2025-03-14"
    assert daily.tags == ["calm", "daily", "pi"]
    assert refl["ideas.md"].tags == ["work/projects"]
    items = {i.external_id: i for i in sqlite_storage.integration_items.for_integration(iid)}
    assert set(items) == {"2025-03-14.md", "ideas.md"} and items["ideas.md"].kind == "note"


def test_upstream_edit_updates_unless_edited_in_mirror(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    sync_integration(sqlite_storage, iid)
    ideas = _reflections(sqlite_storage)["ideas.md"]

    (vault / "ideas.md").write_text("Ideas, revised upstream. #work/projects\n")
    report = sync_integration(sqlite_storage, iid)
    assert report.updated == 1 and report.conflict_copies == 0
    assert sqlite_storage.reflections.get(ideas.id).content == "Ideas, revised upstream. #work/projects"

    # Edited in Mirror, then upstream again: nothing typed in Mirror is overwritten.
    JournalService(sqlite_storage).save_reflection("My own words in Mirror.", reflection_id=ideas.id, tags=["mine"])
    (vault / "ideas.md").write_text("Upstream changed it once more.\n")
    report = sync_integration(sqlite_storage, iid)
    assert report.conflict_copies == 1
    kept = sqlite_storage.reflections.get(ideas.id)
    assert kept.content == "My own words in Mirror."
    copies = [r for r in sqlite_storage.reflections.list()
              if (r.metadata or {}).get("integration", {}).get("linked_reflection_id") == ideas.id]
    assert len(copies) == 1 and copies[0].content == "Upstream changed it once more."
    item = sqlite_storage.integration_items.find_pair(iid, "ideas.md")
    assert item.reflection_id == copies[0].id
    assert sqlite_storage.integration_items.count(integration_id=iid) == 2  # never duplicated


def test_upstream_deletion_is_shown_not_applied(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    sync_integration(sqlite_storage, iid)
    ideas = _reflections(sqlite_storage)["ideas.md"]
    saved = (vault / "ideas.md").read_bytes()
    (vault / "ideas.md").unlink()
    report = sync_integration(sqlite_storage, iid)
    assert report.deleted_upstream == 1
    kept = sqlite_storage.reflections.get(ideas.id)
    assert kept.content == ideas.content and kept.metadata["integration"]["upstream_deleted"] is True
    assert sqlite_storage.integration_items.find_pair(iid, "ideas.md").state == "deleted_upstream"
    (vault / "ideas.md").write_bytes(saved)  # back again
    sync_integration(sqlite_storage, iid)
    assert "upstream_deleted" not in sqlite_storage.reflections.get(ideas.id).metadata["integration"]
    assert sqlite_storage.integration_items.find_pair(iid, "ideas.md").state == "present"


def test_note_deleted_in_mirror_is_not_brought_back(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    sync_integration(sqlite_storage, iid)
    ideas = _reflections(sqlite_storage)["ideas.md"]
    sqlite_storage.reflections.delete(ideas.id)
    (vault / "ideas.md").write_text("changed upstream\n")
    sync_integration(sqlite_storage, iid)
    assert "ideas.md" not in _reflections(sqlite_storage)


HOSTILE = {
    "billion laughs": "---\na: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
                      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                      "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n---\nhello\n",
    "python object": "---\nx: !!python/object/apply:os.system ['touch /tmp/mirror-pwned']\n---\nhello\n",
    "broken yaml": "---\ntags: [unclosed\n---\nhello\n",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_yaml_stops_the_sync_whole(sqlite_storage: Any, tmp_path: Path, kind: str) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    sync_integration(sqlite_storage, iid)
    before = sqlite_storage.db.execute_sql("SELECT id, content, metadata FROM reflections ORDER BY id").fetchall()
    (vault / "ideas.md").write_text("edited upstream, should not land\n")
    (vault / "zz-hostile.md").write_text(HOSTILE[kind])
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "zz-hostile.md" in report.message
    assert "front matter" in report.message
    # one transaction: the good edit read before the hostile note did not land either
    assert sqlite_storage.db.execute_sql("SELECT id, content, metadata FROM reflections ORDER BY id").fetchall() == before
    assert not Path("/tmp/mirror-pwned").exists()
    assert str(sqlite_storage.integrations.get(iid).status) == "error"


def test_non_utf8_and_oversized_notes(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    (vault / "latin.md").write_bytes("caf\xe9".encode("latin-1"))
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "latin.md is not UTF-8" in report.message
    assert sqlite_storage.reflections.count() == 0
    (vault / "latin.md").unlink()
    (vault / "big.md").write_bytes(b"x" * (2 * 1024 * 1024))
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "big.md is 2.0 MB" in report.message


def test_symlink_loop_and_outside_links_are_skipped(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    (vault / "sub").mkdir()
    (vault / "sub" / "n.md").write_text("nested\n")
    os.symlink(vault, vault / "sub" / "loop")          # a loop back to the root
    os.symlink(vault / "sub", vault / "sub" / "self")   # a loop onto itself
    os.symlink(tmp_path / "nowhere", vault / "dangling.md")
    iid = _add(sqlite_storage, vault)
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "ok", report.message
    assert set(_reflections(sqlite_storage)) == {"2025-03-14.md", "ideas.md", "sub/n.md"}


def test_missing_folder_is_an_error(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    shutil.rmtree(vault)
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "is not there" in report.message


def test_first_sync_after_import_adopts_instead_of_duplicating(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = _add(sqlite_storage, vault)
    sync_integration(sqlite_storage, iid)
    # A bundle carries reflections but no integration_items: simulate that arrival.
    sqlite_storage.db.execute_sql("DELETE FROM integration_items")
    report = sync_integration(sqlite_storage, iid)
    assert report.added == 0 and sqlite_storage.reflections.count() == 2
    assert sqlite_storage.integration_items.count(integration_id=iid) == 2
