"""`mirror import-from dayone|jrnl|obsidian|rednotebook PATH [--identity ID] [--time-format FMT] [--dry-run] [--json]`:
the issue's contract, and its "Bad input" list: one sentence each, exit 2, the journal exactly as it was."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.cli import main
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage
from tests.integrations.importing_helpers import JPEG, Jrnl, dayone_entry, make_dayone, snapshot
from tests.testdata import shared_testdata


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "import-from", *args])
    out, err = capsys.readouterr()
    return code, out, err


def state(data: Path) -> Any:
    with SQLiteStorage(data / "mirror_os.db") as s:
        return snapshot(s)


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A journal that already holds one reflection (so "unchanged" means something)."""
    folder = tmp_path / "journal"
    assert main(["--data-dir", str(folder), "reflect", "A reflection that was here before."]) == 0
    capsys.readouterr()
    return folder


def test_report_json_dry_run_identity(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    path = str(shared_testdata("imports", "jrnl", "myjournal.json"))
    before = state(data)
    code, out, err = run(capsys, data, "jrnl", path, "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["imported"], report["skipped"], report["already_present"]) == (5, 0, 0)
    assert report["dry_run"] is True and report["skipped_entries"] == []
    assert state(data) == before
    with SQLiteStorage(data / "mirror_os.db") as s:
        ident = JournalService(s).create_identity("Work self")
    code, out, err = run(capsys, data, "jrnl", path, "--identity", "Work self")
    assert code == 0, err
    assert out.startswith("Imported 5 entries from jrnl; 0 skipped, 0 already present.")
    with SQLiteStorage(data / "mirror_os.db") as s:
        rows = [r for r in s.reflections.list() if str(r.source) == "import"]
    assert len(rows) == 5 and {r.identity_id for r in rows} == {ident.id}
    code, out, _ = run(capsys, data, "jrnl", path, "--json")
    assert json.loads(out)["already_present"] == 5 and json.loads(out)["imported"] == 0


def test_skipped_entries_are_listed_with_reasons(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    export = make_dayone(tmp_path, [dayone_entry("A", "kept"), dayone_entry("B", "   ")])
    code, out, _ = run(capsys, data, "dayone", str(export))
    assert code == 0
    assert "1 skipped" in out and "Skipped:" in out and "empty text" in out
    code, out, _ = run(capsys, data, "dayone", str(export), "--json")
    assert json.loads(out)["already_present"] == 1 and json.loads(out)["skipped_entries"][0]["reason"] == "empty text"


def test_unknown_identity_and_app(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    path = str(shared_testdata("imports", "jrnl", "myjournal.json"))
    before = state(data)
    code, _, err = run(capsys, data, "jrnl", path, "--identity", "Nobody")
    assert code == 2 and "Nobody" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):
        run(capsys, data, "evernote", path)
    code, _, err = run(capsys, data, "dayone", path, "--time-format", "%Y")
    assert code == 2 and "jrnl journals only" in err
    assert state(data) == before


# -- the "Bad input" list --------------------------------------------------------------------

def refused(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> str:
    before = state(data)
    code, out, err = run(capsys, data, *args)
    assert code == 2, (out, err)
    assert out == "" and err.startswith("mirror: ") and err.count("\n") == 1, err  # one sentence
    assert "Traceback" not in err
    assert state(data) == before
    return err


def test_a_zip_that_is_not_an_export_of_that_app(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    other = tmp_path / "notes.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "not a Day One export" in refused(capsys, data, "dayone", str(other))
    backup = shared_testdata("imports", "rednotebook", "RedNotebook-Backup-2024-09-15.zip")
    assert "not a Day One export" in refused(capsys, data, "dayone", str(backup))
    dayone = shared_testdata("imports", "dayone", "dayone-to-obsidian.zip")
    assert "not a RedNotebook backup" in refused(capsys, data, "rednotebook", str(dayone))
    assert "not a jrnl journal" in refused(capsys, data, "jrnl", str(dayone))


def test_a_truncated_zip(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    whole = shared_testdata("imports", "dayone", "dayone-to-obsidian.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    assert "damaged or cut short" in refused(capsys, data, "dayone", str(cut))


def test_zip_slip_names(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    evil = tmp_path / "slip.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("Journal.json", json.dumps({"entries": [dayone_entry("A", "x")]}))
        zf.writestr("photos/../../../../tmp/evil.jpeg", JPEG)
    err = refused(capsys, data, "dayone", str(evil))
    assert "path traversal" in err and not Path("/tmp/evil.jpeg").exists()


def test_a_zip_bomb(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("Journal.json", json.dumps({"entries": [dayone_entry("A", "x")]}))
        zf.writestr("photos/big.jpeg", b"\xff\xd8\xff" + bytes(40 * 1024 * 1024))
    assert os.path.getsize(bomb) < 200_000
    assert "zip bomb" in refused(capsys, data, "dayone", str(bomb))


@pytest.mark.parametrize("raw,why", [
    (b'{"metadata": {}, "entries": [], "entries": []}', "appears twice"),
    (b'{"entries": [{"uuid": "A", "text": "x", "creationDate": "2020-01-01T00:00:00Z", "lat": NaN}]}', "NaN"),
    (b'{"entries": ' + b"[" * 100 + b"]" * 100 + b"}", "nested too deeply"),
])
def test_json_with_duplicate_keys_nan_or_deep_nesting(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path,
                                                      raw: bytes, why: str) -> None:
    export = make_dayone(tmp_path / "d", [], raw_json=raw)
    assert why in refused(capsys, data, "dayone", str(export))
    jrnl_json = tmp_path / "export.json"
    jrnl_json.write_bytes(raw)
    assert why in refused(capsys, data, "jrnl", str(jrnl_json))


def test_a_2_gb_photo(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    export = make_dayone(tmp_path, [dayone_entry("A", "x", photos=[{"identifier": "P", "md5": "big", "type": "jpeg"}])],
                         {"photos/big.jpeg": JPEG}, as_zip=False)
    with open(export / "photos" / "big.jpeg", "r+b") as fh:
        fh.truncate(2 * 1024 ** 3)  # sparse: 2 GB declared, nothing written
    err = refused(capsys, data, "dayone", str(export))
    assert "2.0 GB" in err and "photos/big.jpeg" in err


def test_an_image_that_is_really_an_executable(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(120)
    export = make_dayone(tmp_path, [dayone_entry("A", "x", photos=[{"identifier": "P", "md5": "exe", "type": "jpeg"}])],
                         {"photos/exe.jpeg": elf})
    assert "not a photo but a Linux program" in refused(capsys, data, "dayone", str(export))


def test_dates_in_the_year_99999(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    export = make_dayone(tmp_path / "d", [dayone_entry("A", "x", when="99999-01-01T00:00:00Z")])
    assert "99999" in refused(capsys, data, "dayone", str(export))
    text = tmp_path / "journal.txt"
    text.write_text("[2024-01-01 10:00] Fine.\n\n[99999-01-01 10:00] Far future.\n")
    assert "beyond 9999" in refused(capsys, data, "jrnl", str(text))
    js = tmp_path / "export.json"
    js.write_text(json.dumps({"entries": [{"title": "t", "body": "", "date": "99999-01-01", "time": "10:00"}]}))
    assert "99999-01-01" in refused(capsys, data, "jrnl", str(js))
    month = tmp_path / "rn"
    month.mkdir()
    (month / "2024-02.txt").write_text("30: {text: no such day}\n")
    assert "does not have" in refused(capsys, data, "rednotebook", str(month))


def test_text_in_any_script_and_direction(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    texts = ["مرحبا بالعالم", "שלום עולם", "你好，世界", "🎉👩‍👩‍👧🇪🇸", "\u202eoverride\u202c é"]
    export = make_dayone(tmp_path, [dayone_entry(f"U{n}", t) for n, t in enumerate(texts)])
    code, _, err = run(capsys, data, "dayone", str(export))
    assert code == 0, err
    with SQLiteStorage(data / "mirror_os.db") as s:
        assert sorted(r.content for r in s.reflections.list() if str(r.source) == "import") == sorted(texts)
    broken = make_dayone(tmp_path / "b", [], raw_json=b'{"entries": [{"uuid": "X", "text": "lone \\ud800 half",'
                                                         b' "creationDate": "2020-01-01T00:00:00Z"}]}')
    assert "not valid Unicode" in refused(capsys, data, "dayone", str(broken))


def test_a_jrnl_file_in_another_time_format(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    j = Jrnl(tmp_path / "jrnl", timeformat="%d.%m.%Y %H:%M")
    j.write("2024-06-16 09:00: An entry.")
    err = refused(capsys, data, "jrnl", str(j.journal), "--time-format", "%Y-%m-%d %H:%M")
    assert "[16.06.2024 09:00]" in err and "--time-format" in err
    code, out, err = run(capsys, data, "jrnl", str(j.journal), "--time-format", "%d.%m.%Y %H:%M", "--json")
    assert code == 0 and json.loads(out)["imported"] == 1, err


def test_a_dry_run_leaves_every_file_of_the_data_folder_as_it_was(capsys: pytest.CaptureFixture[str], data: Path,
                                                                  tmp_path: Path) -> None:
    import hashlib

    def files() -> dict[str, str]:
        return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(data.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm", ".lock"))}

    entry = dayone_entry("A", "![](dayone-moment://P1)", photos=[{"identifier": "P1", "md5": "aa11", "type": "jpeg"}])
    export = make_dayone(tmp_path, [entry], {"photos/aa11.jpeg": JPEG})
    before = files()
    code, out, err = run(capsys, data, "dayone", str(export), "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["attachments_imported"] == 1
    assert files() == before and not list(data.glob("*.attachments"))
