"""Importers (issue 15, items 1-2): the real exports of the shared test data (imports/), files the real jrnl writes,
and what every import promises: source "import", local_only, the entry's date, tags in metadata.tags, the app
and its id in metadata, empty entries skipped and counted, nothing added twice, one transaction or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core.errors import MirrorError, OperationCancelled
from mirror_desktop.core.importing import ImportService
from mirror_desktop.core.services import JournalService
from mirror_desktop.integrations.rednotebook import txt2tags_to_markdown
from tests.testdata import shared_testdata

from .importing_helpers import JPEG, Jrnl, dayone_entry, make_dayone, snapshot


def imported(storage: Any, app: str | None = None) -> list[Any]:
    rows = [r for r in storage.reflections.list() if str(r.source) == "import"]
    return [r for r in rows if app is None or r.metadata["import"]["app"] == app]


# -- the real exports ------------------------------------------------------------------------------

def test_jrnl_json_export_sample(journal: Any) -> None:
    path = shared_testdata("imports", "jrnl", "myjournal.json")
    report = ImportService(journal).run("jrnl", path)
    assert (report.imported, report.skipped, report.already_present) == (5, 0, 0)
    rows = sorted(imported(journal, "jrnl"), key=lambda r: (r.created_at, r.content))
    assert [r.content.splitlines()[0] for r in rows][:2] == ["Best day of my life.", "Called in sick."]
    beach = next(r for r in rows if "@beach" in r.content)
    assert beach.metadata["tags"] == ["anna", "beach", "tom"]
    assert beach.created_at == datetime(2024, 6, 17, 18, 5).astimezone().astimezone(UTC)
    stars = [r.metadata["import"]["starred"] for r in rows]
    assert stars == [True, False, False, False, True]
    for r in rows:
        assert str(r.visibility) == "local_only" and str(r.source) == "import" and r.created_at.tzinfo is not None
        assert r.metadata["import"]["app"] == "jrnl" and len(r.metadata["import"]["id"]) == 40
    again = ImportService(journal).run("jrnl", path)
    assert (again.imported, again.already_present) == (0, 5)
    assert len(imported(journal)) == 5


def test_dayone_zip_sample(journal: Any) -> None:
    path = shared_testdata("imports", "dayone", "dayone-to-obsidian.zip")
    report = ImportService(journal).run("dayone", path)
    assert (report.imported, report.skipped, report.already_present) == (1, 0, 0)
    assert report.attachments_not_imported == 4  # a photo, a video, an audio file and a PDF
    (r,) = imported(journal, "dayone")
    assert r.content == "test text"
    assert r.created_at == datetime(2018, 4, 21, 17, 57, 4, tzinfo=UTC)
    meta = r.metadata["import"]
    assert meta["id"] == "5BA8A0499775E5B7AB050CE5A5A32F87" and meta["time_zone"] == "Europe/London"
    assert meta["created_local"] == "2018-04-21T18:57:04+01:00"
    assert meta["location"]["placeName"] == "221B Baker Street" and meta["weather"]["temperatureCelsius"] == 11
    assert {m["kind"] for m in meta["media"]} == {"photo", "video", "audio", "pdf"}
    photo = next(m for m in meta["media"] if m["kind"] == "photo")
    assert photo["path"] == "photos/6e8f17a1cd2fd963d5843aca794e2287.jpeg" and photo["identifier"] == "E334B96B75800C44A03B34E72E5F4282"
    assert ImportService(journal).run("dayone", path).already_present == 1


def test_obsidian_vault_sample(journal: Any) -> None:
    vault = shared_testdata("imports", "obsidian", "vault")
    report = ImportService(journal).run("obsidian", vault)
    assert (report.imported, report.skipped) == (2, 0)
    rows = {r.metadata["import"]["id"]: r for r in imported(journal, "obsidian")}
    assert set(rows) == {"Sample note.md", "folder/Second sample note.md"}
    sample = rows["Sample note.md"]
    assert {"frontmatter-tag-obsidian", "another-tag-obsidian", "inline-tag-obsidian"} <= set(sample.metadata["tags"])
    assert not sample.content.startswith("---")  # front matter is metadata, not text
    assert report.attachments_imported == 2  # test.png, embedded in both notes; ![[plaintext.txt]] is no picture
    assert "![markdown image](attachment:" in sample.content
    assert report.attachments_not_imported == 1 and report.attachment_problems[0]["path"] == "plaintext.txt"
    assert ImportService(journal).run("obsidian", vault).already_present == 2


def test_rednotebook_month_files_and_backup_zip(journal: Any) -> None:
    data = shared_testdata("imports", "rednotebook", "data")
    report = ImportService(journal).run("rednotebook", data)
    assert (report.imported, report.skipped) == (6, 0)  # 2023-08.txt is an empty month ({})
    rows = {r.metadata["import"]["id"]: r for r in imported(journal, "rednotebook")}
    note = rows["2024-09-15"].content
    assert note.startswith("# Test note") and "## second level title" in note and "- Zweites *Objekt*" in note
    assert "[Sample link](http://kicker.de)" in note and "~~strikethrough~~" in note and "`Objekt`" in note
    assert rows["2026-06-14"].metadata["tags"] == ["anothersampletag", "sampletag"]  # !!python/unicode read as text
    assert rows["2023-06-08"].created_at.date().isoformat() == "2023-06-08"
    backup = shared_testdata("imports", "rednotebook", "RedNotebook-Backup-2024-09-15.zip")
    again = ImportService(journal).run("rednotebook", backup)
    assert (again.imported, again.already_present) == (0, 4)


def test_txt2tags_markup_becomes_markdown() -> None:
    text = "= Title =\n== Sub ==\n**b** //i// __u__ --s-- ``m``\n+ one\n+ two\n[a link \"\"https://x.org\"\"]\n" \
           "visit http://example.org//path\n" + "=" * 20
    md = txt2tags_to_markdown(text)
    assert md.splitlines() == ["# Title", "## Sub", "**b** *i* <u>u</u> ~~s~~ `m`", "1. one", "1. two",
                               "[a link](https://x.org)", "visit http://example.org//path", "---"]


# -- files the real jrnl writes -------------------------------------------------------------------

def test_real_jrnl_plain_text_and_its_json_export_are_the_same_entries(journal: Any, tmp_path: Path) -> None:
    j = Jrnl(tmp_path / "jrnl")
    j.write("2024-06-16 09:00: Called in sick. Used the time to clean @Work.")
    j.write("2024-06-17 18:05: Had a wonderful day at the @beach with @Tom *")
    j.write("2024-06-18 07:30: Third entry.\nWith a second line\n\nand a paragraph.")
    report = ImportService(journal).run("jrnl", j.journal)
    assert (report.imported, report.skipped, report.already_present) == (3, 0, 0)
    rows = sorted(imported(journal), key=lambda r: r.created_at)
    assert rows[0].content == "Called in sick.\nUsed the time to clean @Work."
    assert rows[0].metadata["tags"] == ["work"]
    assert rows[1].metadata["import"]["starred"] is True and rows[1].metadata["tags"] == ["beach", "tom"]
    assert rows[1].content == "Had a wonderful day at the @beach with @Tom"
    assert "and a paragraph." in rows[2].content
    assert rows[2].created_at == datetime(2024, 6, 18, 7, 30).astimezone().astimezone(UTC)
    exported = j.export_json(tmp_path / "export.json")
    again = ImportService(journal).run("jrnl", exported)
    assert (again.imported, again.already_present) == (0, 3)
    assert len(imported(journal)) == 3


def test_real_jrnl_with_another_time_format_is_detected_or_given(journal: Any, tmp_path: Path) -> None:
    j = Jrnl(tmp_path / "jrnl", timeformat="%d.%m.%Y %I:%M %p")
    j.write("2024-06-16 21:15: Late entry in twelve-hour time.")
    assert j.journal.read_text().startswith("[16.06.2024 09:15 PM]")
    report = ImportService(journal).run("jrnl", j.journal, dry_run=True)
    assert report.imported == 1 and imported(journal) == []
    ImportService(journal).run("jrnl", j.journal, time_format="%d.%m.%Y %I:%M %p")
    (row,) = imported(journal)
    assert row.created_at == datetime(2024, 6, 16, 21, 15).astimezone().astimezone(UTC)


def test_a_jrnl_file_in_another_time_format_than_given_is_refused(journal: Any, tmp_path: Path) -> None:
    j = Jrnl(tmp_path / "jrnl", timeformat="%d.%m.%Y %H:%M")
    j.write("2024-06-16 09:00: An entry.")
    before = snapshot(journal)
    with pytest.raises(MirrorError, match=r"not in the time format %Y-%m-%d %H:%M.*--time-format"):
        ImportService(journal).run("jrnl", j.journal, time_format="%Y-%m-%d %H:%M")
    assert snapshot(journal) == before


def test_unknown_time_format_asks_for_it(journal: Any, tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_text("[9h15 16-VI-2024] An entry\nbody\n")
    with pytest.raises(MirrorError, match="--time-format"):
        ImportService(journal).run("jrnl", path)
    assert imported(journal) == []


def test_any_script_and_direction_round_trips(journal: Any, tmp_path: Path) -> None:
    texts = ["مرحبا بالعالم، هذا يوم جميل", "שלום עולם, יום טוב", "今日は良い日でした。你好，世界",
             "Emoji 🎉👩‍👩‍👧 and a flag 🇪🇸", "Mixed ‏RTL‎ marks \u202eoverride\u202c and combining é"]
    j = Jrnl(tmp_path / "jrnl")
    for n, text in enumerate(texts):
        j.write(f"2024-01-0{n + 1} 10:00: {text}")
    ImportService(journal).run("jrnl", j.journal)
    # jrnl itself puts the first sentence on the title line (after "。" too): its line break is jrnl's.
    assert sorted(r.content.replace("\n", "") for r in imported(journal)) == sorted(texts)
    export = make_dayone(tmp_path / "d1", [dayone_entry(f"U{n}", t) for n, t in enumerate(texts)])
    ImportService(journal).run("dayone", export)
    assert sorted(r.content for r in imported(journal, "dayone")) == sorted(texts)


# -- what every import promises ---------------------------------------------------------------------

def test_empty_entries_are_skipped_and_counted_with_reasons(journal: Any, tmp_path: Path) -> None:
    entries = [dayone_entry("A", "kept"), dayone_entry("B", ""), dayone_entry("C", "  \n "),
               dayone_entry("D", "", photos=[{"identifier": "P1", "md5": "abc", "type": "jpeg"}])]
    report = ImportService(journal).run("dayone", make_dayone(tmp_path, entries))
    assert (report.imported, report.skipped) == (1, 3)
    reasons = {s.id: s.reason for s in report.skipped_entries}
    assert reasons["B"] == "empty text" and "none of its media could be attached" in reasons["D"]
    assert report.attachments_not_imported == 1 and "not in the export" in report.attachment_problems[0]["reason"]
    assert report.to_json()["skipped_entries"][0] == {"id": "B", "date": "2021-03-04T10:20:30Z", "title": None,
                                                      "reason": "empty text"}


def test_an_entry_with_an_identity_photos_as_attachments_and_moment_links(journal: Any, tmp_path: Path) -> None:
    from mirror_desktop.core import attachments as att

    ident = JournalService(journal).create_identity("Work self")
    text = "Look:\n\n![](dayone-moment://P1)\n\nNice."
    entry = dayone_entry("A", text, tags=["walk", "Sun"], starred=True,
                         photos=[{"identifier": "P1", "md5": "aa11", "type": "jpeg"}])
    only_photo = dayone_entry("B", "", photos=[{"identifier": "P2", "md5": "bb22", "type": "jpeg"}])
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 80
    export = make_dayone(tmp_path, [entry, only_photo], {"photos/aa11.jpeg": JPEG, "photos/bb22.jpeg": png})
    report = ImportService(journal).run("dayone", export, identity_id=ident.id)
    assert (report.imported, report.skipped, report.attachments_imported, report.attachments_not_imported) == (2, 0, 2, 0)
    rows = {r.metadata["import"]["id"]: r for r in imported(journal)}
    a, b = rows["A"], rows["B"]
    assert a.identity_id == ident.id and str(a.visibility) == "local_only"
    assert a.metadata["tags"] == ["Sun", "walk"] and a.metadata["import"]["starred"] is True
    (stored,) = att.attachments_of(journal, a.id)
    assert stored.mime_type == "image/jpeg" and stored.metadata["identifier"] == "P1"
    assert "dayone-moment" not in a.content and f"![photo](attachment:{stored.sha256})" in a.content
    assert att.read_blob(journal, stored.sha256) == JPEG
    (pic,) = att.attachments_of(journal, b.id)
    assert b.content == f"![photo](attachment:{pic.sha256})" and pic.mime_type == "image/png"
    again = ImportService(journal).run("dayone", export, identity_id=ident.id)
    assert (again.imported, again.already_present, again.attachments_imported) == (0, 2, 0)
    assert len(att.attachments_of(journal, a.id)) == 1


def test_a_rolled_back_import_leaves_no_attachment_files(journal: Any, tmp_path: Path) -> None:
    from mirror_desktop.core import attachments as att

    entries = [dayone_entry("A", "with a photo", photos=[{"identifier": "P1", "md5": "aa11", "type": "jpeg"}]),
               dayone_entry("B", "bad date", when="2021-02-30T10:00:00Z")]
    export = make_dayone(tmp_path, entries, {"photos/aa11.jpeg": JPEG})
    before = snapshot(journal)
    with pytest.raises(MirrorError, match="not a real date"):
        ImportService(journal).run("dayone", export)
    assert snapshot(journal) == before
    folder = att.blob_folder(journal)
    if folder is not None:  # SQLite: bytes live beside the journal
        assert not [p for p in folder.rglob("*") if p.is_file()]


def test_one_bad_entry_half_way_leaves_the_journal_as_it_was(journal: Any, tmp_path: Path) -> None:
    JournalService(journal).save_reflection("Already here.")
    before = snapshot(journal)
    entries = [dayone_entry(f"E{n}", f"entry {n}") for n in range(1200)]
    entries[1100]["creationDate"] = "99999-01-01T00:00:00Z"
    with pytest.raises(MirrorError, match="Entry 1101 of Journal.json has the date '99999-01-01T00:00:00Z'"):
        ImportService(journal).run("dayone", make_dayone(tmp_path, entries))
    assert snapshot(journal) == before  # the first 1,100 (two batches written) were rolled back


class CancelAfter:
    def __init__(self, checks: int) -> None:
        self.left = checks

    def set_progress(self, fraction: float, message: str = "") -> None:
        pass

    def is_cancelled(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_cancel_writes_nothing(journal: Any, tmp_path: Path) -> None:
    export = make_dayone(tmp_path, [dayone_entry(f"E{n}", f"entry {n}") for n in range(1500)])
    with pytest.raises(OperationCancelled):
        ImportService(journal).run("dayone", export, state=CancelAfter(10))
    assert imported(journal) == []


def test_dry_run_writes_nothing_and_reports_the_same(journal: Any, tmp_path: Path) -> None:
    export = make_dayone(tmp_path, [dayone_entry("A", "one"), dayone_entry("B", "")])
    before = snapshot(journal)
    dry = ImportService(journal).run("dayone", export, dry_run=True)
    assert snapshot(journal) == before
    real = ImportService(journal).run("dayone", export)
    assert (dry.imported, dry.skipped) == (real.imported, real.skipped) == (1, 1)
    assert dry.dry_run and "nothing was written" in dry.summary()


def test_a_journal_integration_polls_the_same_reader(sqlite_storage: Any, tmp_path: Path) -> None:
    from mirror_desktop.core.integrations import IntegrationService

    path = tmp_path / "journal.txt"
    path.write_text("[2024-06-16 09:00] First.\nbody @tag\n\n[2024-06-17 10:00] Second.\n")
    storage = sqlite_storage
    svc = IntegrationService(storage)
    integ = svc.add("journal", "jrnl", path=str(path), every="manual")
    report = svc.sync(integ.id)
    assert report.ok and report.added == 2
    rows = [r for r in storage.reflections.list() if str(r.source) == "integration"]
    assert sorted(r.content for r in rows) == ["First.\nbody @tag", "Second."]
    assert svc.sync(integ.id).unchanged == 2


def test_dayone_folder_and_its_json_file(journal: Any, tmp_path: Path) -> None:
    entry = dayone_entry("A", "![](dayone-moment://P1)", photos=[{"identifier": "P1", "md5": "aa11", "type": "jpeg"}])
    folder = make_dayone(tmp_path, [entry], {"photos/aa11.jpeg": JPEG}, as_zip=False)
    report = ImportService(journal).run("dayone", folder / "Journal.json", dry_run=True)
    assert (report.imported, report.attachments_imported) == (1, 1)
    report = ImportService(journal).run("dayone", folder)
    assert (report.imported, report.attachments_imported) == (1, 1)
    (r,) = imported(journal)
    assert r.content.startswith("![photo](attachment:")


def test_a_markdown_folder_in_mirrors_own_export_shape_reads_back(journal: Any, tmp_path: Path) -> None:
    """Front matter with created_at (UTC) and attachments beside: the same date to the second, the same picture."""
    import hashlib

    from mirror_desktop.core import attachments as att

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 80
    sha = hashlib.sha256(png).hexdigest()
    vault = tmp_path / "export"
    (vault / "attachments").mkdir(parents=True)
    (vault / "attachments" / f"{sha}.png").write_bytes(png)
    (vault / "2024-06-16 0930 abcd1234.md").write_text(
        "---\nid: abcd1234-0000\ncreated_at: '2024-06-16T07:30:15Z'\ndate: '2024-06-16'\ntags:\n- garden\n---\n\n"
        f"Planted the beans.\n\n![beans](attachments/{sha}.png)\n", encoding="utf-8")
    (vault / "escape.md").write_text("![x](../outside.png)\n", encoding="utf-8")
    (tmp_path / "outside.png").write_bytes(png)
    report = ImportService(journal).run("obsidian", vault)
    assert report.imported == 2 and report.attachments_imported == 1
    r = next(r for r in imported(journal) if "beans" in r.content)
    assert r.created_at == datetime(2024, 6, 16, 7, 30, 15, tzinfo=UTC)
    assert r.content == f"Planted the beans.\n\n![beans](attachment:{sha})" and r.metadata["tags"] == ["garden"]
    assert [a.sha256 for a in att.attachments_of(journal, r.id)] == [sha]
    other = next(r for r in imported(journal) if "outside" in r.content)
    assert other.content == "![x](../outside.png)"  # a link out of the folder is never followed
