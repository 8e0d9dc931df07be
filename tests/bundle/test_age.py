"""Behaviour of bundle.age: round trips, tamper and truncation refusal, limits, atomic files, memory."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirror_desktop.bundle import age

# Tests use a tiny scrypt work factor for speed; the real default is exercised in the interop tests.
FAST = 4
PASSPHRASE = "correct horse battery staple"
CHUNK = age.CHUNK_SIZE


def _encrypt(data: bytes, passphrase: str = PASSPHRASE, log2_n: int = FAST) -> bytes:
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(data), out, passphrase, log2_n=log2_n)
    return out.getvalue()


def _decrypt(blob: bytes, passphrase: str = PASSPHRASE, **kwargs: object) -> bytes:
    out = io.BytesIO()
    age.decrypt_stream(io.BytesIO(blob), out, passphrase, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def _header_len(blob: bytes) -> int:
    return blob.index(b"\n---") + len(b"\n--- ") + 43 + 1


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- round trips and format ---


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_round_trip_at_chunk_edges(size: int) -> None:
    data = os.urandom(size)
    blob = _encrypt(data)
    assert _decrypt(blob) == data
    chunks = max(
        1, -(-size // CHUNK)
    )  # an empty payload still has one (empty, final) chunk
    assert len(blob) == _header_len(blob) + 16 + size + 16 * chunks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=3 * CHUNK + 10), passphrase=st.text(min_size=1, max_size=40)
)
def test_round_trip_random(data: bytes, passphrase: str) -> None:
    assert _decrypt(_encrypt(data, passphrase), passphrase) == data


def test_header_is_standard_scrypt_header() -> None:
    blob = _encrypt(b"hello", log2_n=7)
    lines = blob[: _header_len(blob)].split(b"\n")
    assert lines[0] == b"age-encryption.org/v1"
    assert re.fullmatch(rb"-> scrypt [A-Za-z0-9+/]{22} 7", lines[1])
    assert re.fullmatch(rb"[A-Za-z0-9+/]{43}", lines[2])
    assert re.fullmatch(rb"--- [A-Za-z0-9+/]{43}", lines[3])
    header = age.parse_header(io.BytesIO(blob))
    assert [s.args[0] for s in header.stanzas] == ["scrypt"]
    assert header.stanzas[0].args[2] == "7"


def test_each_encryption_is_fresh() -> None:
    assert _encrypt(b"same") != _encrypt(b"same")


def test_empty_passphrase_is_refused() -> None:
    with pytest.raises(ValueError):
        _encrypt(b"x", passphrase="")


# --- wrong passphrase ---


@settings(max_examples=40, deadline=None)
@given(wrong=st.text(min_size=1, max_size=30).filter(lambda s: s != PASSPHRASE))
def test_wrong_passphrases_are_refused(wrong: str) -> None:
    blob = _WRONG_PW_BLOB
    out = io.BytesIO()
    with pytest.raises(age.WrongPassphrase) as info:
        age.decrypt_stream(io.BytesIO(blob), out, wrong)
    assert str(info.value) == "wrong passphrase (or damaged header)"
    assert out.getvalue() == b""


_WRONG_PW_BLOB = _encrypt(b"secret journal " * 1000)


def test_wrong_passphrase_writes_nothing_and_keeps_existing_file(
    tmp_path: Path,
) -> None:
    src = tmp_path / "bundle.age"
    src.write_bytes(_WRONG_PW_BLOB)
    dst = tmp_path / "journal.zip"
    dst.write_bytes(b"the live data")
    with pytest.raises(age.WrongPassphrase):
        age.decrypt_file(src, dst, "not it")
    assert dst.read_bytes() == b"the live data"
    assert _leftovers(tmp_path) == ["bundle.age", "journal.zip"]


# --- tampering, truncation, extension ---

_TAMPER_DATA = os.urandom(3 * CHUNK + 100)
_TAMPER_BLOB = _encrypt(_TAMPER_DATA, log2_n=FAST)


def _tamper_offsets() -> list[int]:
    header_end = _header_len(_TAMPER_BLOB)
    offsets = set(range(header_end + 16))  # every header byte and every nonce byte
    payload = header_end + 16
    for k in range(4):
        start = payload + k * (CHUNK + 16)
        offsets.update(
            {start, start + 1, start + CHUNK - 1, start + CHUNK, start + CHUNK + 15}
        )
    offsets.update(range(payload, len(_TAMPER_BLOB), 4099))
    offsets.add(len(_TAMPER_BLOB) - 1)
    return sorted(o for o in offsets if o < len(_TAMPER_BLOB))


def test_flipped_bytes_are_always_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.age"
    dst = tmp_path / "out.bin"
    offsets = _tamper_offsets()
    assert len(offsets) > 200
    for offset in offsets:
        blob = bytearray(_TAMPER_BLOB)
        # Flipping the low bit keeps a digit a digit, so the work factor stays small and cheap.
        blob[offset] ^= 0x01
        src.write_bytes(bytes(blob))
        with pytest.raises(age.AgeError):
            age.decrypt_file(src, dst, PASSPHRASE)
        assert not dst.exists(), offset
    assert _leftovers(tmp_path) == ["in.age"]


def test_cut_at_every_chunk_boundary_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.age"
    dst = tmp_path / "out.bin"
    header_end = _header_len(_TAMPER_BLOB)
    cuts = {0, 1, header_end - 1, header_end, header_end + 8}
    for k in range(5):
        boundary = header_end + 16 + k * (CHUNK + 16)
        cuts.update({boundary - 1, boundary, boundary + 1})
    cuts.add(len(_TAMPER_BLOB) - 1)
    for cut in sorted(c for c in cuts if c < len(_TAMPER_BLOB)):
        src.write_bytes(_TAMPER_BLOB[:cut])
        with pytest.raises(age.CorruptFile) as info:  # TruncatedFile is a CorruptFile
            age.decrypt_file(src, dst, PASSPHRASE)
        assert "damaged" in str(info.value) or "incomplete" in str(info.value)
        assert not dst.exists(), cut


def test_cut_at_chunk_boundary_says_incomplete() -> None:
    boundary = _header_len(_TAMPER_BLOB) + 16 + (CHUNK + 16)
    with pytest.raises(age.TruncatedFile, match="incomplete"):
        _decrypt(_TAMPER_BLOB[:boundary])


@pytest.mark.parametrize(
    "extra",
    [b"\x00", b"\n", os.urandom(100), _TAMPER_BLOB[-CHUNK - 16 :]],
    ids=["nul", "newline", "junk", "chunk"],
)
def test_appended_bytes_are_refused(extra: bytes, tmp_path: Path) -> None:
    src = tmp_path / "in.age"
    dst = tmp_path / "out.bin"
    src.write_bytes(_TAMPER_BLOB + extra)
    with pytest.raises(age.CorruptFile, match="damaged"):
        age.decrypt_file(src, dst, PASSPHRASE)
    assert not dst.exists()


# --- work factor ---


def _with_work_factor(blob: bytes, log2_n: int) -> bytes:
    return re.sub(
        rb"^(-> scrypt \S+) \d+$",
        rb"\1 " + str(log2_n).encode(),
        blob,
        count=1,
        flags=re.MULTILINE,
    )


def test_work_factor_above_limit_is_refused_before_any_scrypt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_scrypt(*_args: object) -> bytes:
        raise AssertionError("scrypt must not run for a refused work factor")

    monkeypatch.setattr(age, "_scrypt", no_scrypt)
    hostile = _with_work_factor(_WRONG_PW_BLOB, 23)
    with pytest.raises(age.WorkFactorTooHigh) as info:
        _decrypt(hostile)
    assert info.value.log2_n == 23 and info.value.limit == 22
    assert "23" in str(info.value) and "22" in str(info.value)


def test_custom_work_factor_limit() -> None:
    blob = _encrypt(b"x", log2_n=9)
    with pytest.raises(age.WorkFactorTooHigh):
        _decrypt(blob, max_log2_n=8)
    assert _decrypt(blob, max_log2_n=9) == b"x"


@pytest.mark.parametrize("bad", [0, 23])
def test_encrypt_refuses_unusable_work_factor(bad: int) -> None:
    with pytest.raises(ValueError):
        _encrypt(b"x", log2_n=bad)


@pytest.mark.parametrize(
    ("probe_seconds", "expected"),
    [(0.5, 18), (0.02, 19), (0.004, 21), (0.003, 22), (0.0001, 22)],
)
def test_calibration_extrapolates_and_clamps(
    probe_seconds: float, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake clock makes the probe "take" probe_seconds, so no real timing is asserted.
    ticks = iter([100.0, 100.0 + probe_seconds])
    monkeypatch.setattr(age.time, "perf_counter", lambda: next(ticks))
    assert age.calibrate_log2_n(1.0) == expected


def test_calibration_on_this_machine_is_in_range() -> None:
    assert 18 <= age.calibrate_log2_n() <= 22


def test_default_encrypt_uses_the_fixed_export_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 11, item 5: not calibrated to this machine, so a modest one can open what we write.
    monkeypatch.setattr(age, "EXPORT_LOG2_N", 5)
    monkeypatch.setattr(age, "calibrate_log2_n", lambda target_seconds=1.0: 20)
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(b"d"), out, PASSPHRASE)
    assert age.parse_header(io.BytesIO(out.getvalue())).stanzas[0].args[2] == "5"


# --- recipients and errors ---


def test_non_passphrase_file_is_unsupported() -> None:
    blob = _WRONG_PW_BLOB.replace(b"-> scrypt", b"-> X25519", 1)
    with pytest.raises(
        age.UnsupportedRecipient, match="not encrypted with a passphrase"
    ):
        _decrypt(blob)


def test_not_an_age_file() -> None:
    with pytest.raises(age.CorruptFile, match="not an age encrypted file"):
        _decrypt(b"PK\x03\x04 a zip file\n")


def test_error_messages_are_single_sentences() -> None:
    errors: list[age.AgeError] = [
        age.WrongPassphrase(),
        age.WorkFactorTooHigh(23, 22),
        age.CorruptFile("a chunk failed"),
        age.TruncatedFile(),
        age.UnsupportedRecipient(["X25519"]),
        age.Cancelled(),
    ]
    for error in errors:
        text = str(error)
        assert text and "\n" not in text and text.count(". ") == 0
    assert issubclass(age.TruncatedFile, age.CorruptFile)


# --- progress, cancel, atomic files ---


def test_progress_reports_plaintext_bytes(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 5)
    seen_enc: list[int] = []
    seen_dec: list[int] = []
    blob = io.BytesIO()
    age.encrypt_stream(
        io.BytesIO(data), blob, PASSPHRASE, log2_n=FAST, progress=seen_enc.append
    )
    out = io.BytesIO()
    age.decrypt_stream(
        io.BytesIO(blob.getvalue()), out, PASSPHRASE, progress=seen_dec.append
    )
    assert seen_enc == seen_dec == [CHUNK, 2 * CHUNK, 2 * CHUNK + 5]


@pytest.mark.parametrize("operation", ["encrypt", "decrypt"])
def test_cancel_leaves_nothing_behind(operation: str, tmp_path: Path) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(4 * CHUNK))
    sealed = tmp_path / "sealed.age"
    age.encrypt_file(plain, sealed, PASSPHRASE, log2_n=FAST)
    target = tmp_path / "target"
    target.write_bytes(b"previous")
    calls = 0

    def cancel_on_third_check() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 3

    with pytest.raises(age.Cancelled):
        if operation == "encrypt":
            age.encrypt_file(
                plain,
                target,
                PASSPHRASE,
                log2_n=FAST,
                is_cancelled=cancel_on_third_check,
            )
        else:
            age.decrypt_file(
                sealed, target, PASSPHRASE, is_cancelled=cancel_on_third_check
            )
    assert target.read_bytes() == b"previous"
    assert _leftovers(tmp_path) == ["plain.bin", "sealed.age", "target"]


def test_file_round_trip_replaces_destination(tmp_path: Path) -> None:
    plain = tmp_path / "journal.zip"
    plain.write_bytes(b"zip bytes" * 10000)
    sealed = tmp_path / "journal.age"
    sealed.write_bytes(b"an older export")
    age.encrypt_file(plain, sealed, PASSPHRASE, log2_n=FAST)
    restored = tmp_path / "restored.zip"
    age.decrypt_file(sealed, restored, PASSPHRASE)
    assert restored.read_bytes() == plain.read_bytes()
    assert _leftovers(tmp_path) == ["journal.age", "journal.zip", "restored.zip"]


def test_armored_input_is_accepted() -> None:
    import base64

    blob = _encrypt(b"armored journal")
    encoded = base64.b64encode(blob)
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    armored = (
        b"-----BEGIN AGE ENCRYPTED FILE-----\n"
        + b"".join(line + b"\n" for line in lines)
        + b"-----END AGE ENCRYPTED FILE-----\n"
    )
    assert _decrypt(armored) == b"armored journal"


# --- constant memory ---


class _PatternSource(io.RawIOBase):
    """A generator-like file: `size` bytes of a repeating pattern, never held in memory at once."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = hashlib.sha256(b"pattern").digest() * 2048  # 64 KiB

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = min(len(buffer), self._left, len(self._block))
        buffer[:n] = self._block[:n]
        self._left -= n
        return n


class _HashSink(io.RawIOBase):
    """A write-only file that keeps only a running hash and a byte count."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def test_fifty_megabytes_in_constant_memory(tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    sealed = tmp_path / "big.age"
    expected = hashlib.sha256()
    source = _PatternSource(size)
    while block := source.read(1 << 20):
        expected.update(block)

    tracemalloc.start()
    try:
        with sealed.open("wb") as out:
            age.encrypt_stream(_PatternSource(size), out, PASSPHRASE, log2_n=FAST)
        _, encrypt_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        sink = _HashSink()
        with sealed.open("rb") as src:
            age.decrypt_stream(src, sink, PASSPHRASE)
        _, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sink.size == size and sink.hash.digest() == expected.digest()
    assert encrypt_peak < 2 * 1024 * 1024, encrypt_peak
    assert decrypt_peak < 2 * 1024 * 1024, decrypt_peak
