"""`mirror sync setup|now|status|leave`: the issue's contract (flags, JSON fields), exit codes, one sentence each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror_desktop.cli import main
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage

from .conftest import PASSPHRASE


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), "sync", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _journal(path: Path, *texts: str) -> None:
    s = SQLiteStorage(path)
    j = JournalService(s)
    me = j.create_identity("Me")
    for t in texts:
        j.save_reflection(t, identity_id=me.id, visibility="sync_full_private")
    s.close()


def test_setup_now_status_leave(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                make_role: Callable[[str], str]) -> None:
    dsn = make_role("alice")
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _journal(a, "one", "two")
    _journal(b, "three")
    code, out, err = run(capsys, a, "setup", "--postgres", dsn, "--passphrase-file", str(pf), "--device-name", "laptop")
    assert code == 0, err
    assert "laptop" in out and "password" not in out
    code, out, err = run(capsys, b, "setup", "--postgres", dsn, "--passphrase-file", str(pf), "--device-name", "desktop")
    assert code == 0, err

    code, out, _ = run(capsys, a, "status", "--json")
    status = json.loads(out)
    for key in ("last_sync", "server", "device", "pending_changes"):
        assert key in status
    assert status["last_sync"] is None and status["device"] == "laptop" and status["pending_changes"] == 2

    code, out, err = run(capsys, a, "now", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["pushed"], report["pulled"], report["conflicts"]) == (2, 0, 0)
    code, out, _ = run(capsys, b, "now", "--json")
    assert (json.loads(out)["pushed"], json.loads(out)["pulled"]) == (1, 2)
    code, out, _ = run(capsys, a, "now")
    assert code == 0 and out.startswith("0 sent, 1 received, 0 conflicts")

    code, out, _ = run(capsys, a, "status", "--json")
    status = json.loads(out)
    assert status["last_sync"] and status["pending_changes"] == 0 and "alice" in status["server"]

    code, out, _ = run(capsys, a, "leave")
    assert code == 0 and "journal stays" in out
    code, out, err = run(capsys, a, "now")
    assert code == 2 and "not set up" in err and len(err.strip().splitlines()) == 1
    s = SQLiteStorage(a)
    assert {r.content for r in s.reflections.iter_all()} == {"one", "two", "three"}
    s.close()


def test_wrong_passphrase_exits_2_in_one_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  make_role: Callable[[str], str]) -> None:
    dsn = make_role("alice")
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(PASSPHRASE)
    bad.write_text("something else entirely")
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _journal(a, "mine")
    _journal(b, "also mine")
    assert run(capsys, a, "setup", "--postgres", dsn, "--passphrase-file", str(good))[0] == 0
    code, out, err = run(capsys, b, "setup", "--postgres", dsn, "--passphrase-file", str(bad))
    assert code == 2 and "does not match" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, b, "status", "--json")
    assert json.loads(out)["pending_changes"] == 0 and json.loads(out)["server"] is None


def test_unreachable_server_is_one_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE)
    a = tmp_path / "a.db"
    _journal(a, "kept")
    code, out, err = run(capsys, a, "setup", "--postgres", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2",
                         "--passphrase-file", str(pf))
    assert code == 1 and "Could not reach the sync server 127.0.0.1:9" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_no_passphrase_given_is_a_user_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, make_role: Callable[[str], str]) -> None:
    monkeypatch.delenv("MIRROR_SYNC_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    code, _out, err = run(capsys, tmp_path / "a.db", "setup", "--postgres", make_role("alice"))
    assert code == 2 and "--passphrase-file" in err
