"""Issue 11, item 5: a hostile scrypt work factor costs no memory and no minute before its answer.

Memory is checked against what the machine (and this process's limits) can give before scrypt runs;
a factor above what Mirror writes needs the person's yes; Mirror writes a fixed, modest factor.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.bundle import age, export as export_mod
from mirror_desktop.bundle.errors import SlowPassphraseCheck
from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.bundle.importer import prepare_import
from mirror_desktop.core import models as m
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage

PW = "work factor horse staple"


def _seal(data: bytes, log2_n: int) -> bytes:
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(data), out, PW, log2_n=log2_n)
    return out.getvalue()


def _forge(blob: bytes, log2_n: int) -> bytes:
    return re.sub(rb"^(-> scrypt \S+) \d+$", rb"\1 " + str(log2_n).encode(), blob, count=1, flags=re.MULTILINE)


def _decrypt(blob: bytes, **kwargs: object) -> bytes:
    out = io.BytesIO()
    age.decrypt_stream(io.BytesIO(blob), out, PW, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def _no_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> bytes:
        raise AssertionError("scrypt must not run before the work factor is accepted")

    monkeypatch.setattr(age, "_scrypt", refuse)


def test_mirror_writes_a_modest_fixed_work_factor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", None)
    paths = AppPaths.resolve(tmp_path / "data")
    storage = SQLiteStorage(paths.database)
    try:
        storage.reflections.create(m.Reflection(content="a quiet evening"))
        done = export_bundle(storage, tmp_path, paths=paths, passphrase=PW)
    finally:
        storage.close()
    header = age.parse_header(age.open_age_stream(io.BytesIO(done.path.read_bytes())))
    assert int(header.stanzas[0].args[2]) == age.EXPORT_LOG2_N == 18
    # 256 MiB: what a modest machine gives without swapping.
    assert age.scrypt_memory(age.EXPORT_LOG2_N) <= 300 * 1024 * 1024


def test_a_factor_above_ours_needs_a_yes_and_costs_nothing_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(age, "EXPORT_LOG2_N", 4)
    blob = _seal(b"theirs", 5)
    with monkeypatch.context() as patch:
        _no_scrypt(patch)
        with pytest.raises(age.SlowWorkFactor) as info:
            _decrypt(blob)
    assert info.value.log2_n == 5
    assert "\n" not in str(info.value) and "trust" in str(info.value)
    assert _decrypt(blob, allow_slow=True) == b"theirs"


def test_a_factor_the_machine_cannot_hold_is_refused_even_with_a_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = _forge(_seal(b"x", 4), 22)
    _no_scrypt(monkeypatch)
    with pytest.raises(age.NotEnoughMemory) as info:
        age.unwrap_scrypt_file_key(age.parse_header(io.BytesIO(hostile)), PW, allow_slow=True,
                                   memory=lambda: 1024**3)
    assert info.value.needed >= 4 * 1024**3
    assert "4.0 GB" in str(info.value) and "1.0 GB" in str(info.value)


def test_a_forged_22_under_a_memory_limit_is_refused_in_one_sentence(tmp_path: Path) -> None:
    # The real thing: a process whose address space is capped at 1.5 GB above what it uses.
    forged = tmp_path / "forged.zip.age"
    forged.write_bytes(_forge(_seal(b"PK\x03\x04 not really", 4), 22))
    script = textwrap.dedent(f"""
        import resource, sys
        from mirror_desktop import cli
        with open("/proc/self/status") as fh:
            vm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:"))
        cap = vm + 1536 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        sys.exit(cli.main(["--data-dir", {str(tmp_path / "data")!r}, "import", {str(forged)!r},
                           "--allow-slow-passphrase"]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"MIRROR_PASSPHRASE": PW, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode != 0
    assert proc.stderr.startswith("mirror: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "memory" in proc.stderr and "4.0 GB" in proc.stderr


@pytest.fixture
def slow_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real bundle, sealed with a factor one above what this test says Mirror writes."""
    monkeypatch.setattr(age, "EXPORT_LOG2_N", 4)
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    monkeypatch.delenv("MIRROR_PASSPHRASE", raising=False)
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    paths = AppPaths.resolve(tmp_path / "src")
    storage = SQLiteStorage(paths.database)
    try:
        storage.reflections.create(m.Reflection(content="made elsewhere"))
        plain = export_bundle(storage, tmp_path, paths=paths)
    finally:
        storage.close()
    sealed = tmp_path / "slow.zip.age"
    age.encrypt_file(plain.path, sealed, PW, log2_n=5)
    return sealed


def test_import_asks_before_a_slow_passphrase_check(slow_bundle: Path, tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "dst")
    with pytest.raises(SlowPassphraseCheck) as info:
        prepare_import(slow_bundle, paths, passphrase=PW)
    assert info.value.log2_n == 5 and info.value.memory_bytes == age.scrypt_memory(5)
    assert not paths.database.exists()
    prepared = prepare_import(slow_bundle, paths, passphrase=PW, allow_slow_passphrase=True)
    try:
        assert prepared.counts["reflections"] == 1
    finally:
        prepared.discard()


def test_cli_refuses_a_slow_bundle_unless_allowed(slow_bundle: Path, tmp_path: Path, capsys,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRROR_PASSPHRASE", PW)
    data = tmp_path / "dst"
    code = cli.main(["--data-dir", str(data), "import", str(slow_bundle)])
    _, err = capsys.readouterr()
    assert code != 0
    assert err.startswith("mirror: ") and err.count("\n") == 1
    assert "--allow-slow-passphrase" in err
    assert not (data / "mirror_os.db").exists()
    code = cli.main(["--data-dir", str(data), "import", str(slow_bundle), "--allow-slow-passphrase"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (data / "mirror_os.db").exists()


def test_an_export_without_the_memory_says_so(tmp_path: Path) -> None:
    # A process capped at 128 MB above its size cannot give scrypt's 256 MB at log2 N 18.
    script = textwrap.dedent(f"""
        import resource, sys
        from mirror_desktop import cli
        from mirror_desktop.storage.journal import SQLiteStorage
        from mirror_desktop.core import models as m
        s = SQLiteStorage({str(tmp_path / "data" / "mirror_os.db")!r})
        s.reflections.create(m.Reflection(content="a quiet evening"))
        s.close()
        with open("/proc/self/status") as fh:
            vm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:"))
        cap = vm + 128 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        sys.exit(cli.main(["--data-dir", {str(tmp_path / "data")!r}, "export", "--out", {str(tmp_path)!r}]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"MIRROR_PASSPHRASE": PW, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode != 0
    assert proc.stderr.startswith("mirror: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "256 MB of memory" in proc.stderr and "No bundle was written" in proc.stderr
    assert not list(tmp_path.glob("mirror_bundle_*")) and not list(tmp_path.glob(".mirror_bundle_*"))
