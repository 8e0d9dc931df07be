"""Issue 11, item 6: one minimum passphrase length for a new bundle, whatever the passphrase's source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.bundle.errors import BundleError
from mirror_desktop.bundle.export import MIN_PASSPHRASE_LENGTH, export_bundle
from mirror_desktop.core import models as m
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage


@pytest.fixture(autouse=True)
def _env(cli_env: None) -> None:
    """Every test here runs the command as a script would (tests/bundle/conftest.py)."""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    s = SQLiteStorage(d / "mirror_os.db")
    s.reflections.create(m.Reflection(content="a line worth keeping"))
    s.close()
    return d


def _bundles(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith("mirror_bundle_") or p.name.startswith(".mirror_bundle")]


@pytest.mark.parametrize("source", ["file", "env", "prompt"])
def test_a_short_passphrase_is_refused_from_every_source(source: str, data_dir: Path, tmp_path: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv = ["--data-dir", str(data_dir), "export", "--out", str(out_dir)]
    if source == "file":
        pf = tmp_path / "pw.txt"
        pf.write_text("abc\n")
        argv += ["--passphrase-file", str(pf)]
    elif source == "env":
        monkeypatch.setenv("MIRROR_PASSPHRASE", "abc")
    else:
        monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
        answers = iter(["abc", "abc"])
        monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code = cli.main(argv)
    _, err = capsys.readouterr()
    assert code != 0
    assert err.startswith("mirror: ") and err.count("\n") == 1 and "Traceback" not in err
    assert f"shorter than {MIN_PASSPHRASE_LENGTH} characters" in err
    assert _bundles(out_dir) == []


def test_the_rule_lives_in_the_export_itself(data_dir: Path, tmp_path: Path) -> None:
    # The window calls export_bundle directly: the same rule holds there.
    storage = SQLiteStorage(data_dir / "mirror_os.db")
    try:
        with pytest.raises(BundleError, match="shorter than 8 characters"):
            export_bundle(storage, tmp_path, paths=AppPaths.resolve(data_dir), passphrase="1234567")
        assert _bundles(tmp_path) == []
        done = export_bundle(storage, tmp_path, paths=AppPaths.resolve(data_dir), passphrase="12345678")
        assert done.encrypted and done.path.exists()
    finally:
        storage.close()


def test_import_takes_a_short_passphrase(data_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    # Opening is not choosing: a bundle someone made with `age -p` and a short passphrase still opens.
    from mirror_desktop.bundle import age

    storage = SQLiteStorage(data_dir / "mirror_os.db")
    try:
        plain = export_bundle(storage, tmp_path, paths=AppPaths.resolve(data_dir))
    finally:
        storage.close()
    sealed = tmp_path / "short.zip.age"
    age.encrypt_file(plain.path, sealed, "abc", log2_n=2)
    monkeypatch.setenv("MIRROR_PASSPHRASE", "abc")
    code = cli.main(["--data-dir", str(tmp_path / "new"), "import", str(sealed)])
    _, err = capsys.readouterr()
    assert code == 0, err
