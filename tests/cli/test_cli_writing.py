"""Issue 16, item 8: the terminal writer's commands as a person (or a sync script) runs them.

`reflect` with --date/--tag/--visibility/--template and $EDITOR, `list`, `show`, `edit`, `delete`,
`on-this-day`, `stats`, `template` and `identity`; every bad input is one sentence, exit 2, and
nothing stored changes.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirror_desktop import cli


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    # The editor's temporary files land here, where the tests can see them.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp_path / "data"


def run(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--data-dir", str(data), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def js(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> object:
    code, out, err = run(capsys, data, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def count(data: Path, table: str = "reflections") -> int:
    con = sqlite3.connect(data / "mirror_os.db")
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def refused(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("mirror: ") and err.count("\n") == 1 and "Traceback" not in err, err


def test_identity_list_add_rename(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    work = js(capsys, data, "identity", "add", "Work")
    assert isinstance(work, dict) and work["name"] == "Work" and work["reflections"] == 0
    refused(*run(capsys, data, "identity", "add", " work ")[0::2])
    refused(*run(capsys, data, "identity", "add", "Anonymous")[0::2])
    renamed = js(capsys, data, "identity", "rename", work["id"][:6], "Job")
    assert isinstance(renamed, dict) and (renamed["id"], renamed["name"]) == (work["id"], "Job")
    js(capsys, data, "identity", "add", "Home")
    refused(*run(capsys, data, "identity", "rename", "Job", "home")[0::2])
    listed = js(capsys, data, "identity", "list")
    assert isinstance(listed, list) and [i["name"] for i in listed] == ["Home", "Job"]
    refused(*run(capsys, data, "identity", "rename", "nobody", "X")[0::2])
    assert count(data, "identities") == 2


def test_reflect_with_date_tags_visibility_then_list_show_edit_delete(capsys: pytest.CaptureFixture[str],
                                                                      data: Path) -> None:
    work = js(capsys, data, "identity", "add", "Work")
    assert isinstance(work, dict)
    out = js(capsys, data, "reflect", "--identity", "Work", "--visibility", "sync_full_private", "--tag", "sleep",
             "--tag", "#🌙", "--date", "2024-03-15 21:30", "The night was long and I could not sleep")
    assert isinstance(out, dict) and out["visibility"] == "sync_full_private" and out["identity_id"] == work["id"]
    assert out["tags"] == ["sleep", "🌙"] and out["created_at"].startswith("2024-03-15T21:30")
    rid = out["reflection_id"]
    js(capsys, data, "reflect", "--date", "2025-03-15", "Another fifteenth of March")
    js(capsys, data, "reflect", "Written today")

    everything = js(capsys, data, "list")
    assert isinstance(everything, list) and [r["content"] for r in everything][-1].startswith("The night")
    assert len(js(capsys, data, "list", "-n", "2")) == 2  # type: ignore[arg-type]
    tagged = js(capsys, data, "list", "--tag", "SLEEP")
    assert isinstance(tagged, list) and [r["id"] for r in tagged] == [rid]
    ranged = js(capsys, data, "list", "--since", "2024-03-15", "--until", "2025-03-15")
    assert isinstance(ranged, list) and len(ranged) == 2
    assert [r["id"] for r in js(capsys, data, "list", "--identity", "Work")] == [rid]  # type: ignore[union-attr]
    assert len(js(capsys, data, "list", "--identity", "Anonymous")) == 2  # type: ignore[arg-type]

    shown = js(capsys, data, "show", rid[:8])
    assert isinstance(shown, dict) and shown["content"].startswith("The night") and len(shown["mirrorbacks"]) == 1
    code, text, _ = run(capsys, data, "show", rid)
    assert code == 0 and "#sleep" in text and "The night was long" in text

    edited = js(capsys, data, "edit", rid, "The night was long; the morning came anyway")
    assert isinstance(edited, dict) and edited["content"].endswith("anyway") and edited["tags"] == ["sleep", "🌙"]
    assert edited["visibility"] == "sync_full_private" and edited["created_at"] == shown["created_at"]
    code, text, err = run(capsys, data, "delete", rid)
    assert code == 0 and "deleted" in text, err
    refused(*run(capsys, data, "show", rid)[0::2])
    assert count(data) == 2


def test_on_this_day_and_stats(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    for when in ("2022-07-04 09:00", "2023-07-04 21:00", "2023-07-05 08:00"):
        js(capsys, data, "reflect", "--date", when, "--tag", "summer", f"Written {when}")
    found = js(capsys, data, "on-this-day", "--date", "2024-07-04")
    assert isinstance(found, list) and [(e["years_ago"], e["date"]) for e in found] == [(1, "2023-07-04"), (2, "2022-07-04")]
    assert js(capsys, data, "on-this-day", "--date", "2024-01-01") == []
    code, text, _ = run(capsys, data, "on-this-day", "--date", "2024-07-04")
    assert code == 0 and "1 year ago" in text and "2 years ago" in text
    stats = js(capsys, data, "stats")
    assert isinstance(stats, dict)
    assert {"current_streak", "longest_streak", "reflections", "words", "by_month", "top_tags"} <= set(stats)
    assert (stats["reflections"], stats["longest_streak"], stats["words"]) == (3, 2, 9)
    assert stats["by_month"] == {"2022-07": 1, "2023-07": 2} and stats["top_tags"] == [{"tag": "summer", "count": 3}]
    code, text, _ = run(capsys, data, "stats")
    assert code == 0 and "longest: 2" in text
    refused(*run(capsys, data, "on-this-day", "--date", "July 4th")[0::2])


def test_templates_from_the_command_line(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    listed = js(capsys, data, "template", "list")
    assert isinstance(listed, list) and [t["name"] for t in listed][:4] == [
        "evening review", "gratitude", "weekly review", "a tension I noticed"]
    code, body, _ = run(capsys, data, "template", "show", "Gratitude")
    assert code == 0 and "grateful" in body
    mine = tmp_path / "mine.md"
    mine.write_text("What surprised me today?\n", encoding="utf-8")
    assert run(capsys, data, "template", "add", "surprise", "--file", str(mine))[0] == 0
    out = js(capsys, data, "reflect", "--template", "surprise", "The rain, mostly")
    assert isinstance(out, dict) and out["template"] == "surprise"
    shown = js(capsys, data, "show", out["reflection_id"])
    assert isinstance(shown, dict) and shown["content"] == "What surprised me today?\n\nThe rain, mostly"
    assert run(capsys, data, "template", "remove", "surprise")[0] == 0
    assert count(data, "templates") == 0

    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    huge = tmp_path / "huge.md"
    huge.write_bytes(b"a" * (10 * 1024 * 1024))
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    for f in (empty, huge, binary, tmp_path / "missing.md"):
        refused(*run(capsys, data, "template", "add", "bad", "--file", str(f))[0::2])
    refused(*run(capsys, data, "template", "remove", "gratitude")[0::2])
    refused(*run(capsys, data, "template", "show", "nothing-like-it")[0::2])
    refused(*run(capsys, data, "reflect", "--template", "nothing-like-it", "text")[0::2])
    assert count(data, "templates") == 0 and count(data) == 1


def test_bad_input_is_one_sentence_and_saves_nothing(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    js(capsys, data, "reflect", "first")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    for argv in (["--date", tomorrow], ["--date", "1850-06-01"], ["--date", "2024-02-30"], ["--date", "2024-03-15 25:61"],
                 ["--tag", "two words"], ["--tag", "a#b"], ["--visibility", "sync_full_public"],
                 ["--visibility", "everyone"], ["--identity", "nobody"]):
        refused(*run(capsys, data, "reflect", *argv, "some text")[0::2])
    refused(*run(capsys, data, "list", "--since", "2024-05-01", "--until", "2024-04-01")[0::2])
    refused(*run(capsys, data, "list", "-n", "many")[0::2])
    refused(*run(capsys, data, "edit", "zzzz", "text")[0::2])
    refused(*run(capsys, data, "delete", "zz")[0::2])
    assert count(data) == 1


def test_an_id_too_short_to_pick_a_reflection_says_so(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    rid = str(js(capsys, data, "reflect", "first")["reflection_id"])  # type: ignore[index]
    code, _, err = run(capsys, data, "show", rid[:2])
    refused(code, err)
    assert "too short" in err and "at least 4 characters" in err
    code, _, err = run(capsys, data, "show", "zz" if not rid.startswith("zz") else "yy")
    refused(code, err)
    assert "No reflection has the id" in err
    code, out, _ = run(capsys, data, "show", rid[:4])
    assert code == 0 and rid in out


def _editor(tmp_path: Path, body: str, code: int = 0) -> str:
    script = tmp_path / f"editor{code}.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{body}' >> \"$1\"\nexit {code}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_reflect_without_text_on_a_terminal_opens_the_editor(capsys: pytest.CaptureFixture[str], data: Path,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mirror_desktop.cli.reflect.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("mirror_desktop.cli.writing.stdin_is_terminal", lambda: True)
    tmp = Path(tempfile.tempdir or "")
    refused(*run(capsys, data, "reflect")[0::2])  # no $EDITOR: one sentence
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "Written in my editor"))
    out = js(capsys, data, "reflect", "--template", "gratitude")
    assert isinstance(out, dict)
    shown = js(capsys, data, "show", out["reflection_id"])
    assert isinstance(shown, dict) and "grateful" in shown["content"] and shown["content"].endswith("Written in my editor")
    assert list(tmp.iterdir()) == []  # the temporary file is gone

    # $VISUAL wins over $EDITOR; one that fails keeps the text and says where.
    monkeypatch.setenv("VISUAL", _editor(tmp_path, "half a thought", code=3))
    code, _, err = run(capsys, data, "reflect")
    refused(code, err)
    kept = list(tmp.iterdir())
    assert len(kept) == 1 and str(kept[0]) in err and kept[0].read_text(encoding="utf-8") == "half a thought"
    assert oct(kept[0].stat().st_mode & 0o777) == "0o600"
    assert count(data) == 1

    # An editor left empty saves nothing; edit opens the reflection's own text.
    monkeypatch.setenv("VISUAL", _editor(tmp_path, "", code=0))
    kept[0].unlink()
    refused(*run(capsys, data, "reflect")[0::2])
    monkeypatch.setenv("VISUAL", _editor(tmp_path, " and a second thought"))
    edited = js(capsys, data, "edit", out["reflection_id"])
    assert isinstance(edited, dict) and edited["content"].endswith("Written in my editor and a second thought")
    assert list(tmp.iterdir()) == []
