"""`mirror integration …`: the issue's contract (commands, flags, JSON fields), exit codes, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.cli import main

ROOT = Path(__file__).resolve().parents[2]
ICS = ROOT / "tests" / "data" / "ics"
pytest.importorskip("icalendar")


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "integration", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_sync_items_pause_resume_remove(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "journal"
    cal = tmp_path / "holidays.ics"
    shutil.copy(ICS / "example.ics", cal)
    code, out, _ = run(capsys, data, "add", "calendar", "--provider", "ics_file", "--path", str(cal),
                       "--look-back-days", "20000", "--every", "hourly")
    assert code == 0
    iid = out.strip()

    code, out, _ = run(capsys, data, "list", "--json")
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    for key in ("id", "integration_type", "status", "config", "last_sync", "items", "last_error"):
        assert key in row
    assert row["id"] == iid and row["integration_type"] == "calendar" and row["status"] == "active"
    assert row["config"]["provider"] == "ics_file" and row["last_sync"] is None and row["items"] == 0

    code, out, err = run(capsys, data, "sync", iid)
    assert code == 0, err
    code, out, _ = run(capsys, data, "items", iid, "--json")
    items = json.loads(out)
    assert [i["title"] for i in items] == ["New Year's Day", "Orthodox Christmas", "International Women's Day"]
    for key in ("title", "starts_at", "ends_at", "external_id", "kind"):
        assert key in items[0]
    assert items[0]["kind"] == "event" and items[0]["starts_at"] == "2022-01-01T00:00:00Z"
    code, out, _ = run(capsys, data, "items", iid, "--since", "2022-03-01", "--json")
    assert [i["title"] for i in json.loads(out)] == ["International Women's Day"]

    code, out, _ = run(capsys, data, "list", "--json")
    assert json.loads(out)[0]["items"] == 3 and json.loads(out)[0]["last_sync"]

    assert run(capsys, data, "pause", iid)[0] == 0
    code, _, err = run(capsys, data, "sync", iid)
    assert code != 0 and "paused" in err + _
    assert run(capsys, data, "resume", iid)[0] == 0
    assert run(capsys, data, "sync", "--all")[0] == 0
    assert run(capsys, data, "remove", iid)[0] == 0
    code, out, _ = run(capsys, data, "list", "--json")
    assert json.loads(out) == []


def test_failing_sync_exits_non_zero_with_one_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "journal"
    cal = tmp_path / "broken.ics"
    shutil.copy(ICS / "parsing_error.ics", cal)
    _, out, _ = run(capsys, data, "add", "calendar", "--provider", "ics_file", "--path", str(cal))
    iid = out.strip()
    code, out, err = run(capsys, data, "sync", iid)
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "broken EXDATE" in lines[0] and "Traceback" not in err
    code, out, _ = run(capsys, data, "list", "--json")
    row = json.loads(out)[0]
    assert row["status"] == "error" and "broken EXDATE" in row["last_error"] and row["last_sync"] is None


@pytest.mark.parametrize("args, needle", [
    (["add", "calendar", "--provider", "nope"], "no connector for the provider"),
    (["add", "calendar", "--provider", "ics_file"], "--path"),
    (["add", "calendar", "--provider", "ics_url", "--url", "file:///etc/passwd"], "http://"),
    (["add", "calendar", "--provider", "caldav", "--url", "http://127.0.0.1:1/"], "--username"),
    (["add", "calendar", "--provider", "ics_file", "--path", "/x.ics", "--look-back-days", "-3"], "--look-back-days"),
    (["add", "calendar", "--provider", "ics_file", "--path", "/x.ics", "--every", "weekly"], "--every"),
    (["add", "spaceship", "--provider", "ics_file", "--path", "/x.ics"], "not an integration type"),
    (["items", "no-such-id"], "no-such-id"),
    (["sync"], "--all"),
])
def test_bad_input_one_sentence_nothing_written(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                args: list[str], needle: str) -> None:
    data = tmp_path / "journal"
    code, out, err = run(capsys, data, *args)
    assert code != 0 and needle in err and "Traceback" not in err
    code, out, _ = run(capsys, data, "list", "--json")
    assert json.loads(out) == []


def test_headless_cli_keeps_password_file_path_and_never_the_password(tmp_path: Path) -> None:
    """A real `mirror` process with no usable keychain (keyring's fail backend), as on a server."""
    pw = tmp_path / "cal.pw"
    pw.write_text("hunter2-very-secret\n")
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    data = tmp_path / "journal"

    def mirror(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "integration", *args],
                              capture_output=True, text=True, env=env, timeout=120)

    r = mirror("add", "calendar", "--provider", "ics_url", "--url", "http://127.0.0.1:9/cal.ics", "--username", "ana",
               "--password-file", str(pw))
    assert r.returncode == 0, r.stderr
    r = mirror("list", "--json")
    row: dict[str, Any] = json.loads(r.stdout)[0]
    assert row["credentials"] == "password_file" and "password_file" not in row["config"]
    r = mirror("sync", "--all")
    assert r.returncode == 1 and "cannot be reached" in r.stderr
    for f in data.rglob("*"):
        if f.is_file():
            assert b"hunter2" not in f.read_bytes(), f


def test_identity_is_a_name_or_an_id_as_in_every_other_command(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    data = tmp_path / "journal"
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "2024-01-02.md").write_text("A note.\n")
    assert main(["--data-dir", str(data), "identity", "add", "Work"]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, data, "add", "notes", "--provider", "obsidian", "--path", str(vault),
                         "--identity", "Nobody")
    assert code == 2 and "No identity is named or has the id 'Nobody'; the identities are: Work, Anonymous." in err
    assert json.loads(run(capsys, data, "list", "--json")[1]) == []
    code, out, err = run(capsys, data, "add", "notes", "--provider", "obsidian", "--path", str(vault),
                         "--identity", "work", "--json")
    assert code == 0, err
    work = json.loads(out)["identity_id"]
    assert main(["--data-dir", str(data), "identity", "list", "--json"]) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out) if i.get("name") == "Work"] == [work]
