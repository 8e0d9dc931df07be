"""Streaming age v1 encryption with the scrypt passphrase recipient, built on `cryptography`.

Implements the file format of https://age-encryption.org/v1 (C2SP) so that a Mirror bundle stays
readable with the standard `age` tool: a textual header of recipient stanzas authenticated by an
HMAC, then a STREAM payload of 64 KiB ChaCha20-Poly1305 chunks. Only the scrypt (passphrase)
recipient is implemented; the lower layers (`parse_header`, `verify_header_mac`,
`decrypt_payload`) are public so conformance vectors for other recipients can exercise them with a
known file key. ASCII armor is accepted on input (auto-detected) and never produced.

Memory stays constant in the size of the file: at most two chunks are held at a time and the
header is capped at `MAX_HEADER_BYTES`. No Qt here (STYLE.md: bundle/ is Qt-free).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mirror_desktop.core.safe_io import write_atomically

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_MAX_LOG2_N",
    "EXPORT_LOG2_N",
    "AgeError",
    "Cancelled",
    "CorruptFile",
    "Header",
    "NotEnoughMemory",
    "SlowWorkFactor",
    "Stanza",
    "TruncatedFile",
    "UnsupportedRecipient",
    "WorkFactorTooHigh",
    "WrongPassphrase",
    "calibrate_log2_n",
    "decrypt_file",
    "decrypt_payload",
    "decrypt_stream",
    "encrypt_file",
    "encrypt_stream",
    "open_age_stream",
    "available_memory",
    "check_work_factor",
    "parse_header",
    "scrypt_memory",
    "scrypt_work_factor",
    "unwrap_scrypt_file_key",
    "verify_header_mac",
]

# --- format constants (age v1 spec sections "Header", "Payload", "scrypt recipient stanza") ---

VERSION_LINE = b"age-encryption.org/v1"
STANZA_PREFIX = b"-> "
MAC_PREFIX = b"---"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
TAG_SIZE = 16
CHUNK_SIZE = 64 * 1024
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
BODY_COLUMNS = 64

# Decrypting refuses scrypt work factors above this: 2**22 * 1 KiB = 4 GiB of memory and many
# seconds of CPU, which a hostile file must not be able to demand (RELIABILITY.md "Bundles").
DEFAULT_MAX_LOG2_N = 22
MIN_CALIBRATED_LOG2_N = 18
MAX_CALIBRATED_LOG2_N = 22
# What Mirror writes (issue 11, item 5): 2**18 needs 256 MiB and about a second, which a modest
# machine gives; a calibrated factor made on a fast desktop (up to 22: 4 GiB) could not be opened on
# a small laptop. A file asking for more than this is opened only after the person says yes
# (``allow_slow``), and never when the machine lacks the memory.
EXPORT_LOG2_N = 18
SCRYPT_R = 8
# scrypt needs 128 * r * N bytes for its V array, plus a little; keep this much free besides.
MEMORY_HEADROOM = 64 * 1024 * 1024

# The spec sets no header limit; a real passphrase header is ~140 bytes and multi-recipient headers
# a few KiB. A cap keeps a hostile header from growing memory without bound.
MAX_HEADER_BYTES = 1024 * 1024

ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
ARMOR_COLUMNS = 64
_ARMOR_WHITESPACE = b" \t\r\n\v\f"

_B64_NOPAD = re.compile(rb"[A-Za-z0-9+/]*")
_B64_PADDED = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_DECIMAL = re.compile(rb"[1-9][0-9]*")
_CHUNK_FAILED = (
    "a part of the contents failed its integrity check: it was altered or cut short"
)


# --- errors: one sentence each, for people (STYLE.md habit 9) ---


class AgeError(Exception):
    """Base class: the encrypted file could not be processed; str() is a one-sentence message."""


class WrongPassphrase(AgeError):
    """The passphrase did not unlock the file key."""

    def __init__(self) -> None:
        super().__init__("wrong passphrase (or damaged header)")


class WorkFactorTooHigh(AgeError):
    """The file demands more scrypt work than we are willing to spend."""

    def __init__(self, log2_n: int, limit: int) -> None:
        self.log2_n = log2_n
        self.limit = limit
        super().__init__(
            f"the file asks for a passphrase work factor of {log2_n}, above the limit of {limit}, "
            "so it was not opened to protect this computer; it was not made by Mirror"
        )


class SlowWorkFactor(AgeError):
    """The file asks for more scrypt work than Mirror's own bundles; open it only on a yes."""

    def __init__(self, log2_n: int, needed: int) -> None:
        self.log2_n = log2_n
        self.needed = needed
        super().__init__(
            f"the file asks for a slower passphrase check than Mirror's own bundles (work factor {log2_n}, "
            f"about {_size(needed)} of memory and a longer wait), so open it only if you trust where it came from"
        )


class NotEnoughMemory(AgeError):
    """The file's work factor needs more memory than this computer has free."""

    def __init__(self, log2_n: int, needed: int, available: int) -> None:
        self.log2_n = log2_n
        self.needed = needed
        self.available = available
        super().__init__(
            f"the file's passphrase check (work factor {log2_n}) needs about {_size(needed)} of memory but "
            f"this computer has {_size(available)} free, so it was not opened; close other programs or "
            "open it on a computer with more memory"
        )


class CorruptFile(AgeError):
    """The file is damaged or is not an age file.

    ``chunk``: the payload chunk that failed its check (set by decrypt_payload); ``offset``: where
    that chunk starts in the binary file (set by decrypt_stream, which knows the header's length).
    """

    chunk: int | None = None
    offset: int | None = None

    def __init__(self, detail: str, *, chunk: int | None = None) -> None:
        self.detail = detail
        self.chunk = chunk
        super().__init__(f"the encrypted file is damaged ({detail}); use another copy")


class TruncatedFile(CorruptFile):
    """The file ends early: it is incomplete."""

    def __init__(self, detail: str = "it ends too early") -> None:
        self.detail = detail
        AgeError.__init__(
            self, f"the encrypted file is incomplete ({detail}); use a complete copy"
        )


class UnsupportedRecipient(AgeError):
    """The file was encrypted to something other than a passphrase."""

    def __init__(self, types: list[str]) -> None:
        self.types = types
        super().__init__(
            "the file was not encrypted with a passphrase (it uses "
            f"{', '.join(types) or 'no recipients'}), so a passphrase cannot open it"
        )


class Cancelled(AgeError):
    """The caller cancelled the operation."""

    def __init__(self) -> None:
        super().__init__("the operation was cancelled; nothing was saved")


# --- header model ---


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its arguments (the first is the type) and its decoded body."""

    args: tuple[str, ...]
    body: bytes

    @property
    def type(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Header:
    """A parsed header; `mac_input` is the exact bytes the header MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes


# --- small helpers ---


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    return f"{max(n // 1024**2, 1)} MB"


def scrypt_memory(log2_n: int) -> int:
    """Bytes scrypt needs for a work factor: its 128 * r * N array and OpenSSL's working space."""
    return 128 * SCRYPT_R * (1 << log2_n) + 128 * SCRYPT_R * 2


def _cgroup_free() -> int | None:
    # A container's memory limit (cgroup v2) can be far below what /proc/meminfo shows.
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory this process can still use, or None when the platform does not say."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            pass
    for limited in (_cgroup_free(), _address_space_free()):
        if limited is not None:
            found.append(limited)
    return min(found) if found else None


def _address_space_free() -> int | None:
    # ulimit -v (RLIMIT_AS) caps this process's address space whatever the machine has.
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return max(soft - int(line.split()[1]) * 1024, 0)
        return soft
    except (ImportError, OSError, ValueError, IndexError):
        return None


def check_work_factor(log2_n: int, *, allow_slow: bool = False, trusted_log2_n: int | None = None,
                      memory: Callable[[], int | None] | None = None) -> None:
    """Before any scrypt work: refuse what the machine cannot give, ask above what Mirror writes.

    Raises NotEnoughMemory (always), or SlowWorkFactor when ``log2_n`` is above ``trusted_log2_n``
    (default EXPORT_LOG2_N, read at call time) and the person has not said yes (``allow_slow``).
    """
    if trusted_log2_n is None:
        trusted_log2_n = EXPORT_LOG2_N
    needed = scrypt_memory(log2_n)
    free = (memory or available_memory)()
    if free is not None and needed + MEMORY_HEADROOM > free:
        raise NotEnoughMemory(log2_n, needed, free)
    if log2_n > trusted_log2_n and not allow_slow:
        raise SlowWorkFactor(log2_n, needed)


def _b64_decode_strict(data: bytes) -> bytes:
    """Decode unpadded standard base64, refusing anything that is not the canonical encoding."""
    if not _B64_NOPAD.fullmatch(data) or len(data) % 4 == 1:
        raise CorruptFile("invalid base64 in the header")
    decoded = base64.b64decode(data + b"=" * (-len(data) % 4))
    # Re-encoding catches non-zero trailing bits, which the spec forbids (canonical encoding).
    if base64.b64encode(decoded).rstrip(b"=") != data:
        raise CorruptFile("non-canonical base64 in the header")
    return decoded


def _b64_encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _read_exact(src: BinaryIO, n: int) -> bytes:
    """Read up to n bytes, looping over short reads; fewer than n only at end of file."""
    first = src.read(n)
    if first is None:
        first = b""
    if len(first) == n or not first:
        return bytes(first)
    parts = [first]
    got = len(first)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _check_cancel(is_cancelled: Callable[[], bool] | None) -> None:
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()


def _scrypt(passphrase: bytes, salt: bytes, log2_n: int) -> bytes:
    # cryptography sizes OpenSSL's maxmem from n, r and p itself, so 2**18..2**22 need no knob.
    return Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=1 << log2_n, r=SCRYPT_R, p=1).derive(
        passphrase
    )


def _nonce(counter: int, last: bool) -> bytes:
    # STREAM nonce: 11-byte big-endian chunk counter, then 0x01 for the last chunk else 0x00.
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


# --- ASCII armor (spec section "ASCII armor") ---


class _PrefixedReader(io.RawIOBase):
    """Replays bytes already read (for format sniffing), then continues with the source."""

    def __init__(self, prefix: bytes, src: BinaryIO) -> None:
        self._prefix = prefix
        self._src = src

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._src.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        return len(data)


class _ArmorReader(io.RawIOBase):
    """Strictly decodes the PEM-like armor while streaming, one 64-column line at a time.

    Rules (C2SP age, "ASCII armor"): exact BEGIN/END lines, LF or CRLF line ends, every body line
    64 columns except a shorter non-empty last one, padded canonical base64, no headers or blank
    lines, and only whitespace before BEGIN (checked by the sniffer) or after END.
    """

    def __init__(self, src: io.BufferedIOBase) -> None:
        self._src = src
        self._pending = b""
        self._done = False
        self._saw_short = False
        begin = self._line()
        if begin != ARMOR_BEGIN:
            raise CorruptFile("invalid armor start line")

    def readable(self) -> bool:
        return True

    def _line(self) -> bytes:
        # 64 columns + CRLF, plus one byte so an over-long line is seen as such.
        raw = self._src.readline(ARMOR_COLUMNS + 3)
        if raw.endswith(b"\r\n"):
            return raw[:-2]
        if raw.endswith(b"\n"):
            return raw[:-1]
        if len(raw) > ARMOR_COLUMNS + 2:
            raise CorruptFile("an armor line is too long")
        # No end of line: the file ends here. Only the END line may end the file this way; any
        # other line is rejected when the missing END line is noticed on the next call.
        return raw

    def _next_block(self) -> bytes:
        line = self._line()
        if line == ARMOR_END:
            self._finish()
            return b""
        if not line:
            raise CorruptFile("an armor line is empty or the END line is missing")
        if self._saw_short:
            raise CorruptFile("armor data continues after its last line")
        if len(line) > ARMOR_COLUMNS:
            raise CorruptFile("an armor line is too long")
        if len(line) % 4 != 0 or not _B64_PADDED.fullmatch(line):
            raise CorruptFile("the armor contains invalid base64")
        # A short line ends the data, and so does padding: only END may follow either.
        if len(line) < ARMOR_COLUMNS or line.endswith(b"="):
            self._saw_short = True
        try:
            decoded = base64.b64decode(line, validate=True)
        except binascii.Error as exc:
            raise CorruptFile("the armor contains invalid base64") from exc
        if base64.b64encode(decoded) != line:
            raise CorruptFile("the armor contains non-canonical base64")
        return decoded

    def _finish(self) -> None:
        # Only whitespace may follow the END line; read it in bounded pieces.
        while True:
            rest = self._src.read(4096)
            if not rest:
                break
            if rest.strip(_ARMOR_WHITESPACE):
                raise CorruptFile("there is data after the armor END line")
        self._done = True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            self._pending = self._next_block()
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def open_age_stream(src: BinaryIO) -> BinaryIO:
    """Return a buffered reader of the binary age file in `src`, removing ASCII armor if present."""
    head = _read_exact(src, 256)
    stripped = head.lstrip(_ARMOR_WHITESPACE)
    reader = io.BufferedReader(_PrefixedReader(head, src), buffer_size=ENC_CHUNK_SIZE)
    if not stripped.startswith(b"-----BEGIN"):
        return reader
    # Skip the leading whitespace the armor format allows, then decode the armor strictly.
    skip = len(head) - len(stripped)
    reader.read(skip)
    armored = io.BufferedReader(_ArmorReader(reader), buffer_size=ENC_CHUNK_SIZE)
    return armored  # type: ignore[return-value]


# --- header ---


def _read_header_line(src: BinaryIO, budget: int) -> bytes:
    line = src.readline(budget + 1)
    if not line:
        raise TruncatedFile("the header ends early")
    if len(line) > budget:
        raise CorruptFile("the header is too large")
    if not line.endswith(b"\n"):
        raise TruncatedFile("the header ends early")
    return line


def _is_vchar_arg(arg: bytes) -> bool:
    return bool(arg) and all(0x21 <= b <= 0x7E for b in arg)


def parse_header(src: BinaryIO) -> Header:
    """Read and strictly validate an age v1 header from `src`, leaving it at the payload nonce.

    Does no cryptography: it checks the structure (version line, stanzas, canonical base64, body
    line lengths, MAC line). Raises CorruptFile / TruncatedFile.
    """
    consumed = 0

    def next_line() -> bytes:
        nonlocal consumed
        line = _read_header_line(src, MAX_HEADER_BYTES - consumed)
        consumed += len(line)
        return line

    first = next_line()
    if first != VERSION_LINE + b"\n":
        if first.startswith(b"age-encryption.org/"):
            raise CorruptFile("it uses an unsupported age version")
        raise CorruptFile("it is not an age encrypted file")
    mac_input = [first]
    stanzas: list[Stanza] = []
    line = next_line()
    while True:
        mac_input.append(line)
        if line.startswith(STANZA_PREFIX):
            fields = line[len(STANZA_PREFIX) : -1].split(b" ")
            if not all(_is_vchar_arg(f) for f in fields):
                raise CorruptFile("a header stanza has an invalid argument")
            body_parts: list[bytes] = []
            while True:
                body_line = next_line()
                mac_input.append(body_line)
                text = body_line[:-1]
                if len(text) > BODY_COLUMNS:
                    raise CorruptFile("a header stanza line is too long")
                body_parts.append(_b64_decode_strict(text))
                # A full 64-column line means more body follows; a shorter one (maybe empty) ends it.
                if len(text) < BODY_COLUMNS:
                    break
            stanzas.append(
                Stanza(tuple(f.decode("ascii") for f in fields), b"".join(body_parts))
            )
            line = next_line()
            continue
        if line.startswith(MAC_PREFIX):
            if not line.startswith(MAC_PREFIX + b" "):
                raise CorruptFile("the header MAC line is malformed")
            encoded = line[len(MAC_PREFIX) + 1 : -1]
            mac = _b64_decode_strict(encoded)
            if len(mac) != 32:
                raise CorruptFile("the header MAC has the wrong length")
            if not stanzas:
                raise CorruptFile("the header has no recipients")
            covered = b"".join(mac_input)[
                : -(len(encoded) + 2)
            ]  # up to and including "---"
            return Header(tuple(stanzas), mac, covered)
        raise CorruptFile("the header has an unexpected line")


def verify_header_mac(header: Header, file_key: bytes) -> None:
    """Check the header MAC with the unwrapped file key; raise CorruptFile if it does not match."""
    key = _hkdf(file_key, b"", b"header")
    expected = hmac.new(key, header.mac_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, header.mac):
        raise CorruptFile("the header was altered")


def _scrypt_params(header: Header, max_log2_n: int) -> tuple[Stanza, bytes, int]:
    scrypt = [s for s in header.stanzas if s.type == "scrypt"]
    if not scrypt:
        raise UnsupportedRecipient([s.type for s in header.stanzas])
    if len(header.stanzas) != 1:
        # Spec: an scrypt stanza must be alone, else a passphrase file could be silently re-keyed.
        raise CorruptFile("a passphrase file must have exactly one recipient")
    stanza = scrypt[0]
    if len(stanza.args) != 3:
        raise CorruptFile("the passphrase stanza has the wrong number of arguments")
    salt = _b64_decode_strict(stanza.args[1].encode("ascii"))
    if len(salt) != 16:
        raise CorruptFile("the passphrase salt has the wrong length")
    factor = stanza.args[2].encode("ascii")
    if not _DECIMAL.fullmatch(factor):
        raise CorruptFile("the passphrase work factor is malformed")
    log2_n = int(factor)
    if log2_n > max_log2_n:
        raise WorkFactorTooHigh(log2_n, max_log2_n)
    if len(stanza.body) != FILE_KEY_SIZE + TAG_SIZE:
        # Checked before any decryption so an oversized wrapped key is never processed.
        raise CorruptFile("the wrapped file key has the wrong length")
    return stanza, salt, log2_n


def scrypt_work_factor(header: Header) -> int:
    """The header's scrypt log2 N (validated), so a caller can ask before any work is done."""
    return _scrypt_params(header, 10**6)[2]


def unwrap_scrypt_file_key(
    header: Header, passphrase: str, *, max_log2_n: int = DEFAULT_MAX_LOG2_N,
    allow_slow: bool = False, memory: Callable[[], int | None] | None = None,
) -> bytes:
    """Return the file key from the header's scrypt stanza; the work factor is checked first.

    Above ``max_log2_n``: refused. Needing more memory than is free: refused. Above what Mirror
    writes (EXPORT_LOG2_N): SlowWorkFactor unless ``allow_slow`` (the person said yes).
    """
    stanza, salt, log2_n = _scrypt_params(header, max_log2_n)
    check_work_factor(log2_n, allow_slow=allow_slow, memory=memory)
    wrap_key = _scrypt(passphrase.encode("utf-8"), salt, log2_n)
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(b"\x00" * 12, stanza.body, None)
    except InvalidTag:
        raise WrongPassphrase() from None


# --- payload (STREAM) ---


def decrypt_payload(
    src: BinaryIO,
    dst: BinaryIO,
    file_key: bytes,
    *,
    progress: Callable[[int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> int:
    """Decrypt the payload that follows the header, writing each chunk once it is authenticated.

    Returns the plaintext size. On any error `dst` may hold a verified prefix of the plaintext,
    so callers must discard it (decrypt_file does). Raises CorruptFile / TruncatedFile / Cancelled.
    """
    nonce = _read_exact(src, NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise TruncatedFile("the payload nonce is missing")
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    counter = 0
    total = 0
    while True:
        _check_cancel(is_cancelled)
        chunk = _read_exact(src, ENC_CHUNK_SIZE)
        if len(chunk) < TAG_SIZE:
            raise TruncatedFile("the payload ends early")
        if counter >= 1 << 88:  # pragma: no cover - 2**88 chunks cannot be stored
            raise CorruptFile("the payload has too many chunks")
        last = len(chunk) < ENC_CHUNK_SIZE
        try:
            plain = aead.decrypt(_nonce(counter, last), chunk, None)
        except InvalidTag:
            if last:
                raise CorruptFile(_CHUNK_FAILED, chunk=counter) from None
            # A full-size chunk may still be the final one: retry with the last-chunk flag.
            try:
                plain = aead.decrypt(_nonce(counter, True), chunk, None)
            except InvalidTag:
                raise CorruptFile(_CHUNK_FAILED, chunk=counter) from None
            last = True
        if last and not plain and counter > 0:
            raise CorruptFile("the payload ends with an empty chunk", chunk=counter)
        dst.write(plain)
        total += len(plain)
        if progress is not None:
            progress(total)
        if last:
            if _read_exact(src, 1):
                raise CorruptFile("there is data after the end of the payload", chunk=counter + 1)
            return total
        counter += 1


def _encrypt_payload(
    src: BinaryIO,
    dst: BinaryIO,
    file_key: bytes,
    progress: Callable[[int], None] | None,
    is_cancelled: Callable[[], bool] | None,
) -> int:
    nonce = secrets.token_bytes(NONCE_SIZE)
    dst.write(nonce)
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    counter = 0
    total = 0
    _check_cancel(is_cancelled)
    current = _read_exact(src, CHUNK_SIZE)
    while True:
        _check_cancel(is_cancelled)
        # Read one chunk ahead to know whether this one is the last (spec: the final chunk carries
        # the flag and may be full; it is empty only when the whole payload is empty).
        following = _read_exact(src, CHUNK_SIZE) if len(current) == CHUNK_SIZE else b""
        last = not following
        dst.write(aead.encrypt(_nonce(counter, last), current, None))
        total += len(current)
        if progress is not None:
            progress(total)
        if last:
            return total
        current = following
        counter += 1


# --- public stream API ---


def _encode_stanza(args: list[bytes], body: bytes) -> bytes:
    encoded = _b64_encode(body)
    lines = [
        encoded[i : i + BODY_COLUMNS] for i in range(0, len(encoded), BODY_COLUMNS)
    ]
    if not lines or len(lines[-1]) == BODY_COLUMNS:
        lines.append(b"")  # the body must end with a short (possibly empty) line
    return (
        STANZA_PREFIX
        + b" ".join(args)
        + b"\n"
        + b"".join(line + b"\n" for line in lines)
    )


def calibrate_log2_n(target_seconds: float = 1.0) -> int:
    """Pick the scrypt work factor whose cost here is about `target_seconds`, within 18..22.

    Times one scrypt at 2**14 (~16 MiB) and extrapolates: scrypt's cost is linear in N. Not used
    for Mirror's bundles any more (they use EXPORT_LOG2_N, so a small machine can open them);
    kept for the benchmark that shows what a calibrating tool such as `age -p` would pick.
    """
    probe = 14
    start = time.perf_counter()
    _scrypt(b"calibration", b"\x00" * 16, probe)
    elapsed = max(time.perf_counter() - start, 1e-6)
    log2_n = probe
    while log2_n < MAX_CALIBRATED_LOG2_N and elapsed * 2 <= target_seconds:
        elapsed *= 2
        log2_n += 1
    return max(MIN_CALIBRATED_LOG2_N, min(MAX_CALIBRATED_LOG2_N, log2_n))


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    passphrase: str,
    *,
    log2_n: int | None = None,
    progress: Callable[[int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> None:
    """Encrypt `src` to `dst` as an age v1 file for `passphrase`, in constant memory.

    `log2_n` defaults to EXPORT_LOG2_N; `progress` receives the plaintext bytes done so far.
    """
    if not passphrase:
        raise ValueError("the passphrase must not be empty")
    if log2_n is None:
        log2_n = EXPORT_LOG2_N
    if not 1 <= log2_n <= DEFAULT_MAX_LOG2_N:
        # Above the decrypt limit we would write files we refuse to open ourselves.
        raise ValueError(f"log2_n must be between 1 and {DEFAULT_MAX_LOG2_N}")
    _check_cancel(is_cancelled)
    # Our own choice of factor needs no yes, but it still needs the memory (NotEnoughMemory, not a MemoryError).
    check_work_factor(log2_n, allow_slow=True)
    file_key = secrets.token_bytes(FILE_KEY_SIZE)
    salt = secrets.token_bytes(16)
    wrap_key = _scrypt(passphrase.encode("utf-8"), salt, log2_n)
    body = ChaCha20Poly1305(wrap_key).encrypt(b"\x00" * 12, file_key, None)
    header = (
        VERSION_LINE
        + b"\n"
        + _encode_stanza([b"scrypt", _b64_encode(salt), str(log2_n).encode()], body)
        + MAC_PREFIX
    )
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header, hashlib.sha256).digest()
    dst.write(header + b" " + _b64_encode(mac) + b"\n")
    _encrypt_payload(src, dst, file_key, progress, is_cancelled)


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    passphrase: str,
    *,
    max_log2_n: int = DEFAULT_MAX_LOG2_N,
    allow_slow: bool = False,
    progress: Callable[[int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> None:
    """Decrypt an age v1 passphrase file (binary or armored) from `src` to `dst`.

    The header is fully validated and the work factor checked (limit, free memory, and above
    Mirror's own factor only with ``allow_slow``) before any scrypt work. On error `dst` may hold a
    verified prefix of the plaintext; decrypt_file never exposes it.
    """
    _check_cancel(is_cancelled)
    reader = open_age_stream(src)
    header = parse_header(reader)
    file_key = unwrap_scrypt_file_key(header, passphrase, max_log2_n=max_log2_n, allow_slow=allow_slow)
    verify_header_mac(header, file_key)
    try:
        decrypt_payload(reader, dst, file_key, progress=progress, is_cancelled=is_cancelled)
    except CorruptFile as exc:
        if exc.chunk is not None:
            # The MAC line is "--- " + 43 base64 characters + "\n" after the bytes it covers.
            header_size = len(header.mac_input) + 1 + 43 + 1
            exc.offset = header_size + NONCE_SIZE + exc.chunk * ENC_CHUNK_SIZE
        raise


# --- atomic file helpers (RELIABILITY.md: temp in the same folder, fsync, replace, fsync folder) ---


def encrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    passphrase: str,
    *,
    log2_n: int | None = None,
    progress: Callable[[int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> None:
    """Encrypt a file; `dst_path` is replaced atomically and only once the output is complete."""
    with open(src_path, "rb") as src:
        write_atomically(
            Path(dst_path),
            lambda out: encrypt_stream(
                src,
                out,
                passphrase,
                log2_n=log2_n,
                progress=progress,
                is_cancelled=is_cancelled,
            ),
        )


def decrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    passphrase: str,
    *,
    max_log2_n: int = DEFAULT_MAX_LOG2_N,
    allow_slow: bool = False,
    progress: Callable[[int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> None:
    """Decrypt a file; `dst_path` appears only after the whole payload has been authenticated."""
    with open(src_path, "rb") as src:
        write_atomically(
            Path(dst_path),
            lambda out: decrypt_stream(
                src,
                out,
                passphrase,
                max_log2_n=max_log2_n,
                allow_slow=allow_slow,
                progress=progress,
                is_cancelled=is_cancelled,
            ),
        )
