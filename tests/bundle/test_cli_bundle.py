"""`mirror export` / `mirror import`: paths printed, passphrase sources, one-sentence errors, nothing changed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_export import populate  # noqa: E402

from mirror_desktop import cli  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402

PW = "cli horse battery staple"


@pytest.fixture(autouse=True)
def _env(cli_env: None) -> None:
    """Every test here runs the command as a script would (tests/bundle/conftest.py)."""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    s = SQLiteStorage(d / "mirror_os.db")
    populate(s)
    s.close()
    return d


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def reflections(d: Path) -> int:
    s = SQLiteStorage(d / "mirror_os.db")
    try:
        return s.reflections.count()
    finally:
        s.close()


def test_export_plain_then_import_into_empty_dir(data_dir: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path), "--no-encrypt")
    assert code == 0, err
    bundle = Path(out.strip())
    assert bundle.exists() and bundle.name.endswith(".zip") and bundle.parent == tmp_path
    new = tmp_path / "new"
    code, out, err = run(capsys, "--data-dir", str(new), "import", str(bundle))
    assert code == 0, err
    assert "Restored 20 reflections" in out and reflections(new) == 20


def test_passphrase_file_and_env(data_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    pf = tmp_path / "pw.txt"
    pf.write_text(PW + "\n")
    code, out, err = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path), "--passphrase-file", str(pf))
    assert code == 0, err
    bundle = Path(out.strip())
    assert bundle.name.endswith(".zip.age")
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    code, out, err = run(capsys, "--data-dir", str(data_dir), "import", str(bundle), "--merge")
    assert code == 0, err
    assert "Nothing in the bundle was new to this journal" in out and "already here" in out


def test_prompt_when_a_tty(data_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    answers = iter([PW, PW, PW])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, out, err = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path))
    assert code == 0, err
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "fresh"), "import", out.strip())
    assert code == 0, err


def one_sentence(err: str) -> None:
    assert err.startswith("mirror: ") and "Traceback" not in err and err.count("\n") == 1


def test_wrong_passphrase_exits_non_zero_and_changes_nothing(data_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path))
    bundle = out.strip()
    before = (data_dir / "mirror_os.db").read_bytes()
    monkeypatch.setenv("MIRROR_PASSPHRASE", "not it at all")
    code, out, err = run(capsys, "--data-dir", str(data_dir), "import", bundle, "--replace")
    assert code != 0
    one_sentence(err)
    assert "Wrong passphrase" in err
    assert (data_dir / "mirror_os.db").read_bytes() == before


@pytest.mark.parametrize("argv, needle", [
    (["export", "--out", "{tmp}/missing"], "does not exist"),
    (["export", "--out", "{tmp}"], "passphrase is needed"),
    (["export", "--out", "{tmp}", "--passphrase-file", "{tmp}/nope.txt"], "does not exist"),
    (["import", "{tmp}/nothing.zip"], "no file"),
    (["import", "{tmp}/random.zip"], "not a Mirror bundle"),
])
def test_bad_input_is_one_sentence(argv, needle: str, data_dir: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "random.zip").write_bytes(b"\x00garbage" * 50)
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run(capsys, "--data-dir", str(data_dir), *args)
    assert code != 0
    one_sentence(err)
    assert needle in err


def test_encrypted_import_without_passphrase_and_no_tty(data_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path), "--share")
    monkeypatch.delenv("MIRROR_PASSPHRASE")
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "x"), "import", out.strip())
    assert code != 0
    one_sentence(err)
    assert "passphrase is needed" in err


def test_import_into_an_unreachable_postgres_leaves_no_staged_copy(data_dir: Path, tmp_path: Path, capsys,
                                                                   monkeypatch) -> None:
    # The staged journal is the bundle decrypted: it must not stay in the data folder when the
    # journal it was meant for cannot be opened.
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path))
    target = tmp_path / "pg-data"
    monkeypatch.setenv("MIRROR_DATA_DIR", str(target))
    code, _, err = run(capsys, "--postgres", "postgresql://nobody@127.0.0.1:1/mirror", "import", out.strip(), "--merge")
    assert code != 0
    one_sentence(err)
    assert "PostgreSQL" in err
    assert [p for p in target.rglob("*") if p.is_file()] == []


def test_import_into_a_journal_with_entries_asks_for_merge_or_replace(data_dir: Path, tmp_path: Path, capsys,
                                                                      monkeypatch) -> None:
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "export", "--out", str(tmp_path))
    before = (data_dir / "mirror_os.db").read_bytes()
    code, _, err = run(capsys, "--data-dir", str(data_dir), "import", out.strip())
    assert code != 0
    one_sentence(err)
    assert "--merge" in err and "--replace" in err
    assert (data_dir / "mirror_os.db").read_bytes() == before
    assert not list(data_dir.glob("*.rollback*"))
