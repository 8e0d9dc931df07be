"""A notes sync as a sorted streaming merge, staged before it writes, and a Cancel that writes nothing.

Issue 14 (items 4 and 9, gaps after the first build): the folder walk and the stored items are both
read in external-id order and merged a page at a time; the rows are staged off the write lane; a
cancelled sync rolls back. Real folders and real journals (SQLite, and PostgreSQL where its
collation matters); nothing here asserts how long anything takes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.integrations import sync as sync_mod
from mirror_desktop.integrations.base import QuietSyncState
from mirror_desktop.integrations.obsidian import walk_notes
from mirror_desktop.integrations.sync import apply, fetch, prepare, stage, sync_integration
from mirror_desktop.storage.repositories import IntegrationItemRepository

# Names whose folder-by-folder order differs from plain string order ("a-b.md" < "a/x.md" because
# "-" < "/"), upper before lower case, and non-ASCII after ASCII (UTF-8 byte order).
NAMES = ["a.md", "a-b.md", "a/x.md", "a/y/z.md", "a0.md", "B.md", "b.md", "é.md", "z/q.md", "zz.md",
         "ü/ä.md", "Zeta/n.md", "a b.md", "a/.hidden.md"]


def _write(vault: Path, rel: str, text: str) -> None:
    path = vault / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    for n, rel in enumerate(NAMES):
        _write(vault, rel, f"Note {n} about {rel} #tag{n % 3}\n")
    (vault / "a" / "pic.png").write_bytes(b"\x89PNG")
    return vault


def test_the_walk_lists_notes_in_string_order(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    rels = [rel for rel, _p, _st in walk_notes(vault)]
    visible = [n for n in NAMES if "/." not in n and not n.startswith(".")]
    assert rels == sorted(visible)
    assert sorted(rels, key=lambda r: r.encode("utf-8")) == rels  # byte order, as the databases sort


def test_a_merge_a_page_at_a_time_adds_updates_and_marks_deletions(journal: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 3 rows, so every kind of change falls on a page boundary somewhere; the stored versions
    are never loaded whole (``versions`` is what the sync used before)."""
    monkeypatch.setattr(sync_mod.SortedKnown, "PAGE", 3)

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a notes sync read every stored version at once")

    monkeypatch.setattr(IntegrationItemRepository, "versions", refuse)
    vault = _vault(tmp_path)
    count = len([n for n in NAMES if "/." not in n])
    iid = IntegrationService(journal).add("notes", "obsidian", path=str(vault)).id
    first = sync_integration(journal, iid)
    assert (first.outcome, first.added) == ("ok", count)
    again = sync_integration(journal, iid)
    assert (again.added, again.updated, again.unchanged, again.deleted_upstream) == (0, 0, count, 0)

    (vault / "a" / "x.md").unlink()
    (vault / "zz.md").unlink()
    _write(vault, "a/w.md", "A new note in a.")
    _write(vault, "0.md", "The first of all.")
    _write(vault, "b.md", "b, edited upstream, longer than before.")
    third = sync_integration(journal, iid)
    assert (third.added, third.updated, third.deleted_upstream, third.unchanged) == (2, 1, 2, count - 3)
    assert journal.integration_items.count(integration_id=iid) == count + 2  # deletions are kept, marked
    fourth = sync_integration(journal, iid)
    assert (fourth.added, fourth.updated, fourth.deleted_upstream, fourth.unchanged) == (0, 0, 0, count)

    _write(vault, "zz.md", "Back again.")
    fifth = sync_integration(journal, iid)
    assert (fifth.added, fifth.updated) == (0, 1)
    states = {ext: state for ext, _v, state, _k in journal.integration_items.version_page(iid, None, 100)}
    assert states["zz.md"] == "present" and states["a/x.md"] == "deleted_upstream"


def test_staging_reads_only_and_apply_writes_it_in_one_go(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    iid = IntegrationService(sqlite_storage).add("notes", "obsidian", path=str(vault)).id
    plan = prepare(sqlite_storage, iid)
    fetched = stage(sqlite_storage, plan, fetch(plan))
    assert fetched.error is None and fetched.staged is not None and fetched.staged.count == len(NAMES) - 1
    assert sqlite_storage.reflections.count() == 0 and sqlite_storage.integration_items.count() == 0
    report = apply(sqlite_storage, plan, fetched)
    assert report.added == len(NAMES) - 1 and sqlite_storage.reflections.count() == len(NAMES) - 1


class _CancelAfter(QuietSyncState):
    """Not cancelled for the first ``calls`` checks, cancelled from then on (a Cancel pressed mid-write)."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls = calls

    def is_cancelled(self) -> bool:
        self.calls -= 1
        return self.calls < 0


def test_a_cancel_during_the_write_rolls_everything_back(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = tmp_path / "big"
    vault.mkdir()
    for n in range(1200):
        (vault / f"{n:05d}.md").write_text(f"Note {n}.\n", encoding="utf-8")
    iid = IntegrationService(sqlite_storage).add("notes", "obsidian", path=str(vault)).id
    plan = prepare(sqlite_storage, iid)
    fetched = stage(sqlite_storage, plan, fetch(plan))
    assert fetched.staged is not None and fetched.staged.count == 1200
    report = apply(sqlite_storage, plan, fetched, _CancelAfter(1))  # past the first check, then cancelled
    assert report.outcome == "cancelled" and "nothing was changed" in report.message
    assert sqlite_storage.reflections.count() == 0 and sqlite_storage.integration_items.count() == 0
    integ = sqlite_storage.integrations.get(iid)
    assert integ.last_sync is None and "last_error" not in (integ.metadata or {}) and str(integ.status) == "active"
    assert sync_integration(sqlite_storage, iid).added == 1200  # the next sync starts from nothing


def test_a_sync_that_ended_elsewhere_meanwhile_is_not_written_twice(sqlite_storage: Any, tmp_path: Path) -> None:
    """Staged against one state of the journal, applied after another sync (the CLI beside the window)
    finished: this one writes nothing rather than duplicating the other's rows."""
    vault = _vault(tmp_path)
    iid = IntegrationService(sqlite_storage).add("notes", "obsidian", path=str(vault)).id
    plan = prepare(sqlite_storage, iid)
    fetched = stage(sqlite_storage, plan, fetch(plan))
    assert sync_integration(sqlite_storage, iid).added == len(NAMES) - 1
    report = apply(sqlite_storage, plan, fetched)
    assert report.outcome == "skipped" and "nothing was written" in report.message
    assert sqlite_storage.reflections.count() == len(NAMES) - 1


def test_the_spool_is_never_a_file_anyone_can_open(sqlite_storage: Any, tmp_path: Path) -> None:
    """The staged rows (note text) live in an unlinked temporary file: no path on disk to find."""
    vault = _vault(tmp_path)
    iid = IntegrationService(sqlite_storage).add("notes", "obsidian", path=str(vault)).id
    plan = prepare(sqlite_storage, iid)
    fetched = stage(sqlite_storage, plan, fetch(plan))
    assert fetched.staged is not None
    fd = fetched.staged._fh.fileno()
    target = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else "(deleted)"
    assert "(deleted)" in target or not os.path.exists(target)
    fetched.staged.close()
