"""`mirror export-to` (issue 15, items 4 and 6): Markdown, Day One JSON, HTML and PDF of one identity only."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.core import attachments as att
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import Visibility
from mirror_desktop.exports.markdown import restore_links
from mirror_desktop.storage.journal import SQLiteStorage

sys.path.insert(0, str(Path(__file__).parents[1] / "attachments"))
from attachment_samples import png_bytes  # noqa: E402

CANARY = "CANARY-home-7f3a"


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Two identities: Work (three reflections over three days, one with a picture) and Home (the canary)."""
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    data = tmp_path / "data"
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        work = s.identities.create(m.Identity(metadata={"name": "Work"}))
        home = s.identities.create(m.Identity(metadata={"name": "Home"}))
        made = []
        for day, text, tags in [(1, "Monday: a *plan* and <script>alert(1)</script> & more.", ["plans"]),
                                (2, "Tuesday in Arabic: مرحبا بالعالم — and 日本語 too.", []),
                                (3, "Wednesday with the sea.", ["sea", "trip"])]:
            made.append(s.reflections.create(m.Reflection(
                content=text, identity_id=work.id, visibility=Visibility.LOCAL_ONLY,
                created_at=datetime(2026, 3, day, 9, 30, tzinfo=UTC), metadata={"tags": tags})))
        pic = att.add_attachment(s, made[2].id, png_bytes(40, 30), filename="sea.png")
        s.reflections.update(m.Reflection(**{**made[2].__dict__,
                                             "content": f"Wednesday with the sea.\n\n{att.reference(pic)}\n\nWhat a day."}))
        s.reflections.create(m.Reflection(content=f"{CANARY} private home things", identity_id=home.id,
                                          created_at=datetime(2026, 3, 2, 10, tzinfo=UTC)))
    finally:
        s.close()
    return {"data": data, "work": work.id, "pic": pic}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def all_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def test_markdown_is_read_back_by_mirrors_obsidian_reader(journal, tmp_path, capsys) -> None:
    from mirror_desktop.integrations.obsidian import ObsidianConnector, split_note, walk_notes

    out = tmp_path / "md"
    code, stdout, err = run(capsys, "--data-dir", str(journal["data"]), "export-to", "markdown", "--out", str(out),
                            "--identity", "Work")
    assert (code, err) == (0, ""), err
    assert "Exported 3 reflections and 1 attachment of Work as markdown" in stdout
    s = SQLiteStorage(journal["data"] / "mirror_os.db")
    try:
        originals = {r.id: r for r in s.reflections.list() if r.identity_id == journal["work"]}
    finally:
        s.close()
    notes = list(walk_notes(out))
    assert len(notes) == 3
    for rel, path, st in notes:
        item = ObsidianConnector().read_note(rel, path, st, "k")
        meta, _body = split_note(Path(path).read_text("utf-8"), rel)
        r = originals[meta["id"]]
        assert restore_links(item.content) == r.content.strip()
        assert list(item.tags) == r.tags
        assert item.day == r.created_at.date()
        assert meta["created_at"] == r.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    pic = journal["pic"]
    copied = out / "attachments" / f"{pic.sha256}.png"
    assert hashlib.sha256(copied.read_bytes()).hexdigest() == pic.sha256
    assert f"](attachments/{pic.sha256}.png)" in all_text(out)  # Obsidian finds the picture beside the note
    assert CANARY not in all_text(out)


def test_day_one_json_has_day_ones_shape_and_photos(journal, tmp_path, capsys) -> None:
    out = tmp_path / "dayone"
    code, _o, err = run(capsys, "--data-dir", str(journal["data"]), "export-to", "json", "--out", str(out),
                        "--identity", journal["work"])
    assert code == 0, err
    doc = json.loads((out / "Work.json").read_text("utf-8"))
    assert doc["metadata"] == {"version": "1.0"} and len(doc["entries"]) == 3
    first, _, third = doc["entries"]
    assert first["creationDate"] == "2026-03-01T09:30:00Z" and first["tags"] == ["plans"]
    assert len(first["uuid"]) == 32 and first["uuid"] == first["uuid"].upper()
    photo = third["photos"][0]
    assert f"![](dayone-moment://{photo['identifier']})" in third["text"] and "attachment:" not in third["text"]
    data = (out / "photos" / f"{photo['md5']}.png").read_bytes()
    assert hashlib.md5(data).hexdigest() == photo["md5"] and photo["type"] == "png"
    with zipfile.ZipFile(out / "Work.zip") as zf:
        assert sorted(zf.namelist()) == ["Work.json", f"photos/{photo['md5']}.png"]
    assert CANARY not in all_text(out)


def test_html_is_one_escaped_self_contained_page(journal, tmp_path, capsys) -> None:
    out = tmp_path / "html"
    assert run(capsys, "--data-dir", str(journal["data"]), "export-to", "html", "--out", str(out),
               "--identity", "work")[0] == 0
    assert [p.name for p in out.iterdir()] == ["journal.html"]
    page = (out / "journal.html").read_text("utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "data:image/png;base64," in page
    assert "مرحبا بالعالم" in page and page.index("Sunday, 1 March 2026") < page.index("Tuesday, 3 March 2026")
    assert CANARY not in page


def test_pdf_book_has_dates_pictures_and_only_this_identity(journal, tmp_path) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF back (test extra)")
    out = tmp_path / "pdf"
    env = {**os.environ, "TZ": "UTC", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(journal["data"]), "export-to",
                        "pdf", "--out", str(out), "--identity", "Work", "--since", "2026-03-02"],
                       capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "Exported 2 reflections" in r.stdout
    reader = pypdf.PdfReader(out / "journal.pdf")
    text = " ".join(p.extract_text() for p in reader.pages).replace("\t", " ")
    assert "March 2026" in text and "Monday, 2 March 2026" in text and "Tuesday, 3 March 2026" in text
    assert "Monday: a" not in text  # before --since
    assert CANARY not in text
    assert (out / "journal.pdf").read_bytes().count(b"/Subtype /Image") == 1  # the sea picture


def test_date_range_includes_both_days(journal, tmp_path, capsys) -> None:
    out = tmp_path / "range"
    code, stdout, _e = run(capsys, "--data-dir", str(journal["data"]), "export-to", "markdown", "--out", str(out),
                           "--identity", "Work", "--since", "2026-03-01", "--until", "2026-03-02")
    assert code == 0 and "Exported 2 reflections" in stdout
    assert sorted(p.name[:10] for p in out.glob("*.md")) == ["2026-03-01", "2026-03-02"]


@pytest.mark.parametrize(("extra", "says"), [
    (["--since", "2026-03-05", "--until", "2026-03-01"], "--since 2026-03-05 is after --until 2026-03-01"),
    (["--since", "yesterday"], "--since 'yesterday' is not a date"),
    (["--until", "99999-01-01"], "is not a date; write it as YYYY-MM-DD"),
    (["--since", "2026-02-30"], "is not a day of the calendar"),
    (["--identity", "Nobody"], "No identity is named or has the id 'Nobody'"),
    ([], "This journal has 2 identities (Home, Work, and Anonymous); choose the one to export with --identity"),
])
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(journal, tmp_path, capsys, extra, says) -> None:
    out = tmp_path / "never"
    before = (journal["data"] / "mirror_os.db").read_bytes()
    code, stdout, err = run(capsys, "--data-dir", str(journal["data"]), "export-to", "markdown", "--out", str(out),
                            *(["--identity", "Work"] if "--identity" not in extra and extra else []), *extra)
    assert code == 2 and stdout == ""
    assert says in err and err.count("\n") == 1
    assert not out.exists()
    assert (journal["data"] / "mirror_os.db").read_bytes() == before


def test_out_folder_must_be_new_or_empty_and_writable(journal, tmp_path, capsys) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    code, _o, err = run(capsys, "--data-dir", str(journal["data"]), "export-to", "html", "--out", str(busy),
                        "--identity", "Work")
    assert code == 2 and "already holds files; give --out a new or empty folder" in err
    assert [p.name for p in busy.iterdir()] == ["mine.txt"]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, _o, err = run(capsys, "--data-dir", str(journal["data"]), "export-to", "html", "--out", str(a_file),
                        "--identity", "Work")
    assert code == 2 and "is a file, not a folder" in err
    code, _o, err = run(capsys, "--data-dir", str(journal["data"]), "export-to", "html", "--out",
                        str(a_file / "inside"), "--identity", "Work")
    assert code == 2 and "cannot be created" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(capsys, "--data-dir", str(journal["data"]), "export-to", "html", "--out", str(empty),
               "--identity", "Work")[0] == 0


def test_default_identity_is_the_only_one_or_anonymous(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    data = tmp_path / "solo"
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        s.reflections.create(m.Reflection(content="anonymous words"))
    finally:
        s.close()
    code, stdout, _e = run(capsys, "--data-dir", str(data), "export-to", "json", "--out", str(tmp_path / "a"))
    assert code == 0 and "of Anonymous" in stdout
    assert "anonymous words" in (tmp_path / "a" / "Anonymous.json").read_text("utf-8")
