"""Interoperability of bundle.age with other age implementations: pyrage (rage) and the `age` CLI.

The `age` CLI reads passphrases only from a terminal, so it is driven through a pseudo-terminal.
Without the binary the CLI tests skip, except under MIRROR_CI=1, where a missing tool is a failure.
"""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import signal
import time
from pathlib import Path

import pytest

from mirror_desktop.bundle import age

pyrage = pytest.importorskip("pyrage")

# No "passphrase" in it: the pty driver counts prompts by that word.
PASSPHRASE = "mirror interop ✓ horse"
DATA = os.urandom(2 * age.CHUNK_SIZE + 1234)
AGE_BIN = shutil.which("age") or (
    "/usr/bin/age" if os.path.exists("/usr/bin/age") else None
)


def _ours_encrypt(data: bytes, log2_n: int | None) -> bytes:
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(data), out, PASSPHRASE, log2_n=log2_n)
    return out.getvalue()


def _ours_decrypt(blob: bytes, *, allow_slow: bool = False) -> bytes:
    out = io.BytesIO()
    age.decrypt_stream(io.BytesIO(blob), out, PASSPHRASE, allow_slow=allow_slow)
    return out.getvalue()


# --- pyrage ---


def test_pyrage_decrypts_ours() -> None:
    assert pyrage.passphrase.decrypt(_ours_encrypt(DATA, log2_n=10), PASSPHRASE) == DATA


def test_pyrage_decrypts_ours_at_the_default_work_factor() -> None:
    blob = _ours_encrypt(b"default work factor", log2_n=None)
    assert int(age.parse_header(io.BytesIO(blob)).stanzas[0].args[2]) >= 18
    assert pyrage.passphrase.decrypt(blob, PASSPHRASE) == b"default work factor"


def test_we_decrypt_pyrage() -> None:
    # rage calibrates its own work factor (19 on the reference machine), so this costs seconds;
    # above Mirror's own factor that needs the person's yes (issue 11, item 5).
    blob = pyrage.passphrase.encrypt(DATA, PASSPHRASE)
    assert _ours_decrypt(blob, allow_slow=True) == DATA


# --- the age CLI through a pseudo-terminal ---


def _need_age() -> str:
    if AGE_BIN is None:
        if os.environ.get("MIRROR_CI") == "1":
            pytest.fail("the `age` CLI is required when MIRROR_CI=1 (apt install age)")
        pytest.skip(
            "the `age` CLI is not installed (apt install age); interop not checked"
        )
    return AGE_BIN


def _run_in_tty(
    argv: list[str], passphrase: str, prompts: int, timeout: float = 120.0
) -> tuple[int, str]:
    """Run argv with a pty as its controlling terminal; answer `prompts` passphrase prompts."""
    pid, fd = pty.fork()
    if (
        pid == 0
    ):  # child: the pty is now its controlling terminal, where age asks for passphrases
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    transcript = b""
    answered = 0
    deadline = (
        time.monotonic() + timeout
    )  # a safety net against a hung child, not an assertion
    try:
        while True:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"age did not finish; transcript: {transcript!r}")
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            transcript += data
            # age prompts "Enter passphrase..." and, when encrypting, "Confirm passphrase:".
            if (
                answered < prompts
                and transcript.lower().count(b"passphrase") > answered
            ):
                os.write(fd, passphrase.encode("utf-8") + b"\n")
                answered += 1
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), transcript.decode("utf-8", "replace")


def test_age_cli_decrypts_ours(tmp_path: Path) -> None:
    age_bin = _need_age()
    sealed = tmp_path / "ours.age"
    sealed.write_bytes(_ours_encrypt(DATA, log2_n=None))  # the real default, EXPORT_LOG2_N
    out = tmp_path / "plain"
    code, transcript = _run_in_tty(
        [age_bin, "-d", "-o", str(out), str(sealed)], PASSPHRASE, 1
    )
    assert code == 0, transcript
    assert out.read_bytes() == DATA


@pytest.mark.parametrize("size", [0, age.CHUNK_SIZE, 3 * age.CHUNK_SIZE + 7])
def test_age_cli_decrypts_ours_at_low_work_factor(size: int, tmp_path: Path) -> None:
    age_bin = _need_age()
    data = DATA[:size] if size <= len(DATA) else os.urandom(size)
    sealed = tmp_path / "ours.age"
    sealed.write_bytes(_ours_encrypt(data, log2_n=10))
    out = tmp_path / "plain"
    code, transcript = _run_in_tty(
        [age_bin, "-d", "-o", str(out), str(sealed)], PASSPHRASE, 1
    )
    assert code == 0, transcript
    # age opens its output lazily, on the first byte, so an empty payload creates no file.
    assert (out.read_bytes() if out.exists() else b"") == data


def test_we_decrypt_age_cli(tmp_path: Path) -> None:
    age_bin = _need_age()
    plain = tmp_path / "plain"
    plain.write_bytes(DATA)
    sealed = tmp_path / "theirs.age"
    code, transcript = _run_in_tty(
        [age_bin, "-p", "-o", str(sealed), str(plain)], PASSPHRASE, 2
    )
    assert code == 0, transcript
    restored = tmp_path / "restored"
    age.decrypt_file(sealed, restored, PASSPHRASE, allow_slow=True)  # age -p calibrates (often above 18)
    assert restored.read_bytes() == DATA


def test_we_decrypt_age_cli_armored(tmp_path: Path) -> None:
    age_bin = _need_age()
    plain = tmp_path / "plain"
    plain.write_bytes(b"armored by age -a")
    sealed = tmp_path / "theirs.age.asc"
    code, transcript = _run_in_tty(
        [age_bin, "-p", "-a", "-o", str(sealed), str(plain)], PASSPHRASE, 2
    )
    assert code == 0, transcript
    assert sealed.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    restored = tmp_path / "restored"
    age.decrypt_file(sealed, restored, PASSPHRASE, allow_slow=True)  # age -p calibrates (often above 18)
    assert restored.read_bytes() == b"armored by age -a"
