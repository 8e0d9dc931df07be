"""`mirror encrypt | decrypt | rekey` and `mirror --journal-passphrase-file F COMMAND` (issue 19, item 2)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mirror_desktop.cli.main import main
from mirror_desktop.storage import cipher

from enc_helpers import CANARY, make_journal


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(cipher, "FAILURE_DELAY_S", 0.01)


def _pf(tmp_path: Path, text: str, name: str = "pass.txt") -> str:
    f = tmp_path / name
    f.write_text(text + "\n")
    return str(f)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    cipher.forget()  # each command is a new process as far as keys go
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_encrypt_search_rekey_decrypt_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    make_journal(data / "mirror_os.db")
    one, two = _pf(tmp_path, "first passphrase", "one"), _pf(tmp_path, "second passphrase", "two")
    code, out, err = _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", one)
    assert code == 0, err
    assert "Encrypted" in out and "SSD" in out
    assert CANARY.encode() not in (data / "mirror_os.db").read_bytes()
    # Without a key, one sentence and exit 2.
    code, out, err = _run(capsys, "--data-dir", str(data), "search", CANARY)
    assert code == 2 and "is encrypted and no passphrase was given" in err and len(err.strip().splitlines()) == 1
    code, out, err = _run(capsys, "--data-dir", str(data), "--journal-passphrase-file", one, "search", CANARY, "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 5
    code, out, err = _run(capsys, "--data-dir", str(data), "rekey", "--passphrase-file", two, "--journal-passphrase-file", one)
    assert code == 0, err
    # Each command says what it did: only encrypt overwrote a plaintext journal (issue 19).
    assert "Re-keyed" in out and "old passphrase" in out and "plaintext" not in out
    code, out, err = _run(capsys, "--data-dir", str(data), "--journal-passphrase-file", one, "search", CANARY)
    assert code == 2 and "does not open the journal" in err
    code, out, err = _run(capsys, "--data-dir", str(data), "decrypt", "--journal-passphrase-file", two)
    assert code == 0, err
    assert "Decrypted" in out and "plain SQLite files again" in out and "overwrote" not in out
    assert (data / "mirror_os.db").read_bytes()[:16] == b"SQLite format 3\x00"
    code, out, err = _run(capsys, "--data-dir", str(data), "search", CANARY, "--json")
    assert code == 0 and len(json.loads(out)) == 5


def test_wrong_and_empty_passphrases_change_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    make_journal(data / "mirror_os.db")
    code, _, err = _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", _pf(tmp_path, "", "empty"))
    assert code == 2 and "empty passphrase" in err
    assert (data / "mirror_os.db").read_bytes()[:16] == b"SQLite format 3\x00"
    assert _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", _pf(tmp_path, "right"))[0] == 0
    before = digest(data)
    for command in (["decrypt", "--journal-passphrase-file", _pf(tmp_path, "wrong", "w")],
                    ["rekey", "--passphrase-file", _pf(tmp_path, "new", "n"), "--journal-passphrase-file", _pf(tmp_path, "wrong", "w")]):
        code, _, err = _run(capsys, "--data-dir", str(data), *command)
        assert code == 2 and "does not open the journal" in err, err
        assert len(err.strip().splitlines()) == 1
    assert digest(data) == before


def test_repeated_failures_wait_longer_each_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = make_journal(tmp_path / "j.db")
    from mirror_desktop.storage.cipher_convert import convert_journal

    convert_journal(journal, old_key=None, new_key=cipher.new_key("right"))
    waits: list[float] = []
    monkeypatch.setattr(cipher.time, "sleep", waits.append)
    for _ in range(4):
        with pytest.raises(cipher.WrongPassphrase):
            cipher.unlock(journal, "wrong")
    assert waits == sorted(waits) and len(waits) == 3 and waits[0] < waits[-1]
    cipher.unlock(journal, "right")
    assert cipher._failures == 0


def test_keep_in_keychain_unlocks_at_login_and_a_hanging_keychain_is_one_sentence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    make_journal(data / "mirror_os.db")
    code, out, err = _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", _pf(tmp_path, "kept"), "--keep-in-keychain")
    assert code == 0, err
    assert "keychain" in out
    code, out, err = _run(capsys, "--data-dir", str(data), "search", CANARY, "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 5

    import threading

    import keyring
    from keyring_backends import MemoryKeyring

    release = threading.Event()

    class Hanging(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            release.wait()
            return None

    class Refusing(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("locked")

    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(Hanging())
        code, out, err = _run(capsys, "--data-dir", str(data), "search", CANARY)
        assert code == 2
        assert "keychain did not answer" in err and len(err.strip().splitlines()) == 1, err
        keyring.set_keyring(Refusing())
        code, out, err = _run(capsys, "--data-dir", str(data), "search", CANARY)
        assert code == 2
        assert "keychain refused" in err and len(err.strip().splitlines()) == 1, err
    finally:
        release.set()
        keyring.set_keyring(previous)


def test_encrypt_converts_plaintext_backups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mirror_desktop.storage import backups
    from mirror_desktop.storage.journal import SQLiteStorage

    data = tmp_path / "data"
    journal = make_journal(data / "mirror_os.db")
    s = SQLiteStorage(journal)
    try:
        copy = s.backup_to(backups.new_backup_file(journal, "1.0.0"))
    finally:
        s.close()
    assert CANARY.encode() in copy.read_bytes()
    code, out, err = _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", _pf(tmp_path, "pp"))
    assert code == 0, err
    assert "1 older copies converted" in out
    assert CANARY.encode() not in copy.read_bytes()
    assert copy.read_bytes()[:16] == journal.read_bytes()[:16]


KILL_POINTS = ["exported", "verified", "linked", "swapped"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_during_encrypt_leaves_old_or_new_journal_complete(tmp_path: Path, point: str) -> None:
    data = tmp_path / "data"
    journal = make_journal(data / "mirror_os.db", n=40)
    pf = _pf(tmp_path, "kill me not")
    env = {**os.environ, "MIRROR_TEST_KILL_AT": point}
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "encrypt", "--passphrase-file", pf],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    # The next command finishes what was left; the journal is the old one or the new one, whole.
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "--journal-passphrase-file", pf,
                        "search", "garden", "--json", "--limit", "100"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 40
    expected_plain = point in ("exported", "verified", "linked")
    assert (journal.read_bytes()[:16] == b"SQLite format 3\x00") == expected_plain
    leftovers = [p.name for p in data.iterdir() if ".converting-" in p.name or ".replaced-" in p.name]
    assert leftovers == []
    if not expected_plain:
        for p in data.rglob("*"):
            if p.is_file():
                assert CANARY.encode() not in p.read_bytes(), p


def test_kill_9_during_decrypt_leaves_a_complete_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    journal = make_journal(data / "mirror_os.db", n=10)
    pf = _pf(tmp_path, "the passphrase")
    from mirror_desktop.storage.cipher_convert import convert_journal

    key = cipher.new_key("the passphrase")
    convert_journal(journal, old_key=None, new_key=key)
    env = {**os.environ, "MIRROR_TEST_KILL_AT": "verified"}
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "decrypt", "--journal-passphrase-file", pf],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "--journal-passphrase-file", pf,
                        "search", "garden", "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 10
    # The half-made plaintext copy was overwritten and removed before anything else opened the journal.
    for p in data.rglob("*"):
        if p.is_file():
            assert CANARY.encode() not in p.read_bytes(), p


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 4 MiB tmpfs: a real full disk (needs root, as CI has; skipped elsewhere)."""
    mount = tmp_path / "small"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip()}); the full-disk test needs root")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_during_encrypt_is_one_sentence_and_changes_nothing(small_disk: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = small_disk / "data"
    journal = make_journal(data / "mirror_os.db", n=40, word=CANARY + " " + "x" * 3000)
    size = journal.stat().st_size
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "filler").write_bytes(b"\0" * max(free - size // 2, 0))  # room for half a copy
    before = digest(data)
    pf = small_disk.parent / "pass.txt"
    pf.write_text("full disk passphrase")
    code, out, err = _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", str(pf))
    assert code == 2, err
    assert "disk is full" in err and len(err.strip().splitlines()) == 1, err
    assert digest(data) == before
    assert [p.name for p in data.iterdir() if ".converting-" in p.name] == []


def test_kill_9_during_rekey_leaves_the_old_or_the_new_passphrase_working(tmp_path: Path) -> None:
    from mirror_desktop.storage.cipher_convert import convert_journal

    data = tmp_path / "data"
    journal = make_journal(data / "mirror_os.db", n=10)
    old, new = _pf(tmp_path, "the old passphrase", "old"), _pf(tmp_path, "the new passphrase", "new")
    convert_journal(journal, old_key=None, new_key=cipher.new_key("the old passphrase"))
    env = {**os.environ, "MIRROR_TEST_KILL_AT": "linked"}
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "rekey", "--passphrase-file", new,
                        "--journal-passphrase-file", old], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    # Killed after the link, before the rename: the old passphrase still opens the whole journal.
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "--journal-passphrase-file", old,
                        "search", "garden", "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 10
    assert [p.name for p in data.iterdir() if ".converting-" in p.name or ".replaced-" in p.name] == []


def test_encrypt_on_a_new_data_folder_makes_the_journal_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "new"
    code, out, err = _run(capsys, "--data-dir", str(data), "encrypt", "--passphrase-file", _pf(tmp_path, "fresh start"))
    assert code == 0, err
    assert cipher.file_kind(data / "mirror_os.db") == "mirror"
    code, out, err = _run(capsys, "--data-dir", str(data), "--journal-passphrase-file", _pf(tmp_path, "fresh start"),
                          "db", "status", "--json")
    assert code == 0, err
    assert json.loads(out)["current_version"]


def test_no_passphrase_and_no_terminal_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    make_journal(data / "mirror_os.db")
    code, _, err = _run(capsys, "--data-dir", str(data), "encrypt")
    assert code == 2 and "No new passphrase was given" in err and len(err.strip().splitlines()) == 1
    assert cipher.file_kind(data / "mirror_os.db") == "plain"


def test_a_terminal_prompt_unlocks_and_a_wrong_answer_is_asked_again(tmp_path: Path) -> None:
    """A real pseudo-terminal: getpass asks on it; one wrong answer, then the right one."""
    import fcntl
    import pty
    import termios

    from mirror_desktop.storage.cipher_convert import convert_journal

    data = tmp_path / "data"
    journal = make_journal(data / "mirror_os.db", n=3)
    convert_journal(journal, old_key=None, new_key=cipher.new_key("typed at the prompt"))
    master, slave = pty.openpty()

    def controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(data), "search", "garden", "--json"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=slave, preexec_fn=controlling_tty)
    os.close(slave)
    seen = b""

    def read_until(needle: bytes, times: int = 1) -> None:
        nonlocal seen
        while seen.count(needle) < times:
            chunk = os.read(master, 1024)
            assert chunk, seen
            seen += chunk

    # getpass flushes pending input when it asks, so each answer waits for its own prompt.
    read_until(b"Passphrase for")
    os.write(master, b"not it\n")
    read_until(b"try again")
    read_until(b"Passphrase for", 2)
    os.write(master, b"typed at the prompt\n")
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
        os.close(master)
    assert proc.returncode == 0, seen
    assert len(json.loads(out)) == 3
