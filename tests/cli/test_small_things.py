"""Issue 11, item 14 (the parts outside the window): small things a person notices at the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.bundle import age, export as export_mod
from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.core import models as m
from mirror_desktop.core.safe_io import StrictJSONError, loads_strict
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage

PW = "small things horse staple"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_sentence(err: str) -> None:
    assert err.startswith("mirror: ") and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    s = SQLiteStorage(d / "mirror_os.db")
    try:
        s.reflections.create(m.Reflection(content="the garden at work was tiring"))
        s.reflections.create(m.Reflection(content="a slow walk in the garden"))
        # Words that do not compress, so the bundle spans several 64 KiB chunks.
        s.reflections.create_many([m.Reflection(content=os.urandom(800).hex()) for _ in range(150)])
    finally:
        s.close()
    return d


def _bundle(data: Path, out: Path, **kw: object) -> Path:
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        return export_bundle(s, out, paths=AppPaths.resolve(data), **kw).path  # type: ignore[arg-type]
    finally:
        s.close()


# -- bundles ----------------------------------------------------------------------------------------

def test_a_changed_byte_is_placed_where_it_is(data: Path, tmp_path: Path, capsys) -> None:
    sealed = _bundle(data, tmp_path, passphrase=PW)
    blob = sealed.read_bytes()
    header = blob.index(b"\n--- ") + len(b"\n--- ") + 43 + 1
    second_chunk = header + 16 + age.ENC_CHUNK_SIZE
    assert len(blob) > second_chunk + age.ENC_CHUNK_SIZE // 2, "the bundle must span several chunks"
    flipped = bytearray(blob)
    flipped[second_chunk + 100] ^= 0x01
    bad = tmp_path / "flipped.zip.age"
    bad.write_bytes(bytes(flipped))
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "new"), "import", str(bad))
    assert code != 0
    one_sentence(err)
    assert f"byte {second_chunk:,} of {len(blob):,}" in err
    assert "byte 0" not in err
    assert not (tmp_path / "new" / "mirror_os.db").exists()


def test_an_age_file_with_something_else_inside(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(3000))
    sealed = tmp_path / "junk.zip.age"
    age.encrypt_file(junk, sealed, PW, log2_n=2)
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "new"), "import", str(sealed))
    assert code != 0
    one_sentence(err)
    assert "passphrase was right" in err and "not a zip or an age file" not in err


def test_deep_json_says_nested_too_deeply(tmp_path: Path, capsys) -> None:
    with pytest.raises(StrictJSONError, match="nested too deeply"):
        loads_strict(b"[" * 100_000)
    bundle = tmp_path / "deep.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("MANIFEST.json", "[" * 100_000 + "]" * 100_000)
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "new"), "import", str(bundle))
    assert code != 0
    one_sentence(err)
    assert "nested too deeply" in err and "recursion" not in err


def test_a_deep_config_json_does_not_stop_an_export(data: Path, tmp_path: Path) -> None:
    paths = AppPaths.resolve(data)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    (paths.config_dir / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    assert _bundle(data, tmp_path).exists()


def test_export_out_naming_a_file(data: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "a-file.txt"
    target.write_text("keep me")
    code, _, err = run(capsys, "--data-dir", str(data), "export", "--out", str(target), "--no-encrypt")
    assert code != 0
    one_sentence(err)
    assert "is a file, not a folder" in err and "does not exist" not in err
    assert target.read_text() == "keep me"


def test_import_summary_is_in_words(data: Path, tmp_path: Path, capsys) -> None:
    plain = _bundle(data, tmp_path)
    code, out, err = run(capsys, "--data-dir", str(data), "import", str(plain), "--merge")
    assert code == 0, err
    assert "Nothing in the bundle was new" in out and "152 reflections" not in out and "rows" not in out
    new = tmp_path / "fresh"
    code, out, err = run(capsys, "--data-dir", str(new), "import", str(plain))
    assert code == 0, err
    assert out.startswith("Restored 152 reflections") and "rows" not in out


# -- search -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["garden", "-work"], ["a slow walk in the [garden]"]),
    (["garden -work"], ["a slow walk in the [garden]"]),
    (["-work", "garden"], ["a slow walk in the [garden]"]),
    (["--limit", "5", "garden", "-tiring"], ["a slow walk in the [garden]"]),
])
def test_search_exclusions_as_the_readme_shows(argv: list[str], expected: list[str], data: Path, capsys) -> None:
    code, out, err = run(capsys, "--data-dir", str(data), "search", "--json", *argv)
    assert code == 0, err
    assert sorted(h["snippet"] for h in json.loads(out)) == expected


def test_search_for_only_an_exclusion_is_one_sentence(data: Path, capsys) -> None:
    code, _, err = run(capsys, "--data-dir", str(data), "search", "-word")
    assert code != 0
    one_sentence(err)
    assert "usage:" not in err


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_search_is_refused(query: str, data: Path, capsys) -> None:
    code, out, err = run(capsys, "--data-dir", str(data), "search", query)
    assert code != 0 and out == ""
    one_sentence(err)
    assert "words to search for" in err


# -- tensions ---------------------------------------------------------------------------------------

def test_a_tension_needs_two_different_poles_and_its_own_name(tmp_path: Path, capsys) -> None:
    d = str(tmp_path / "t")
    code, _, err = run(capsys, "--data-dir", d, "tension", "add", "Same", "--poles", "Rest", "rest")
    assert code != 0
    one_sentence(err)
    assert "two different poles" in err
    code, _, err = run(capsys, "--data-dir", d, "tension", "add", "Rest vs drive", "--poles", "rest", "drive")
    assert code == 0, err
    before = (tmp_path / "t" / "mirror_os.db").stat().st_size
    code, _, err = run(capsys, "--data-dir", d, "tension", "add", "rest VS drive", "--poles", "a", "b")
    assert code != 0
    one_sentence(err)
    assert "already on the map" in err
    s = SQLiteStorage(tmp_path / "t" / "mirror_os.db")
    try:
        assert [t.name for t in s.tensions.list() if t.name.casefold() == "rest vs drive"] == ["Rest vs drive"]
    finally:
        s.close()
    assert before > 0


# -- the file system --------------------------------------------------------------------------------

def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here ({r.stderr.strip() or 'not root'})")


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "small"
    _mount_tmpfs(where, "1m")  # a new journal (every migration applied) takes ~0.4 MB
    try:
        yield where
    finally:
        _umount(where)


def mirror(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("MIRROR_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "mirror_desktop.cli", *argv], input=stdin, capture_output=True,
                          text=True, timeout=120, env=env)


def test_a_full_disk_says_so(small_disk: Path) -> None:
    d = str(small_disk / "d")
    assert mirror("--data-dir", d, "db", "status").returncode == 0
    big = "word " * 60_000
    results = [mirror("--data-dir", d, "reflect", "-", stdin=big) for _ in range(3)]
    failed = [r for r in results if r.returncode != 0]
    assert failed, "the disk never filled"
    for r in failed:
        assert "Traceback" not in r.stderr and "no transaction is active" not in r.stderr, r.stderr
        assert "disk is full" in r.stderr, r.stderr


@pytest.fixture
def read_only_journal(tmp_path: Path) -> Iterator[Path]:
    """A journal whose file cannot be written: chmod for a normal user, a read-only mount for root."""
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        assert mirror("--data-dir", str(d), "reflect", "the garden in spring was lovely").returncode == 0
        (d / "mirror_os.db").chmod(0o444)
        yield d
        (d / "mirror_os.db").chmod(0o644)
        return
    where = tmp_path / "rofs"
    _mount_tmpfs(where, "8m")
    try:
        d = where / "d"
        assert mirror("--data-dir", str(d), "reflect", "the garden in spring was lovely").returncode == 0
        r = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"the tmpfs cannot be made read-only here ({r.stderr.strip()})")
        yield d
    finally:
        _umount(where)


def test_a_read_only_journal_can_still_be_searched(read_only_journal: Path) -> None:
    db = read_only_journal / "mirror_os.db"
    before = db.read_bytes()
    r = mirror("--data-dir", str(read_only_journal), "search", "garden")
    assert r.returncode == 0, r.stderr
    assert "[garden]" in r.stdout
    r = mirror("--data-dir", str(read_only_journal), "tension", "list", "--json")
    assert r.returncode == 0, r.stderr
    # Writing is still refused in one sentence, and nothing changed.
    r = mirror("--data-dir", str(read_only_journal), "reflect", "more words")
    assert r.returncode != 0 and "read-only" in r.stderr and "Traceback" not in r.stderr
    assert db.read_bytes() == before
