"""The sync key and the sealing of rows (issue 18, item 3).

The passphrase goes through scrypt with the bundles' work-factor rules (bundle.age: Mirror writes
2**18, refuses what the machine's memory cannot give, and more than it writes only on a yes) and a
per-account salt kept on the server. The 32-byte key stays on the device (keychain); HKDF splits
it into a sealing key and an identity-key secret.

Every row is bound to ``account | entity | row id | version | kind | format`` as associated data:
sealed rows are ChaCha20-Poly1305 ciphertext; clear rows (public reflections, anonymised
tensions, the summary) and tombstones carry a tag over their bytes. So the server can read only
what the policy let out in clear, and cannot alter, swap (another id), or replay (another
version) a row without the pulling device noticing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mirror_desktop.bundle import age
from mirror_desktop.sync.errors import SyncUserError
from mirror_desktop.sync.state import FORMAT

KEY_CHECK_TEXT = b"mirror-sync key check v1"
NONCE = 12
# Tests lower this; None means bundle.age.EXPORT_LOG2_N, the factor Mirror's bundles use.
default_log2_n: int | None = None


class TamperedRow(Exception):
    """A row's tag does not verify: altered, swapped, replayed under another version, or not ours."""


def new_kdf() -> dict[str, Any]:
    log2_n = default_log2_n if default_log2_n is not None else age.EXPORT_LOG2_N
    return {"alg": "scrypt", "log2_n": log2_n, "r": age.SCRYPT_R, "p": 1, "salt": os.urandom(16).hex()}


def derive_key(passphrase: str, kdf: dict[str, Any]) -> bytes:
    """The account key from the passphrase (seconds of work, by design)."""
    try:
        log2_n, r, p, salt = int(kdf["log2_n"]), int(kdf["r"]), int(kdf["p"]), bytes.fromhex(kdf["salt"])
    except (KeyError, TypeError, ValueError):
        raise SyncUserError("The sync account on this server has damaged key settings; "
                            "it cannot be joined, ask its owner to set it up again.") from None
    if kdf.get("alg") != "scrypt" or r != age.SCRYPT_R or p != 1:
        raise SyncUserError("The sync account on this server uses key settings this Mirror does not know; update Mirror.")
    try:
        age.check_work_factor(log2_n, allow_slow=log2_n <= age.MAX_CALIBRATED_LOG2_N)
    except age.AgeError as exc:
        raise SyncUserError(f"The sync key cannot be made on this computer ({exc}).") from None
    return Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _subkey(key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mirror-sync/" + label).derive(key)


class RowSealer:
    """Seals and opens rows of one account with one key."""

    def __init__(self, key: bytes, account: str) -> None:
        self.account = account
        self._aead = ChaCha20Poly1305(_subkey(key, b"rows"))
        self._ident = _subkey(key, b"identity")

    def _ad(self, entity: str, row_id: str, version: int, kind: str, fmt: int, payload: bytes | None) -> bytes:
        head = f"mirror-sync/{fmt}|{self.account}|{entity}|{row_id}|{version}|{kind}".encode()
        digest = hashlib.sha256(payload).digest() if payload is not None else b"-"
        return head + b"|" + digest

    def seal(self, entity: str, row_id: str, version: int, kind: str, plaintext: bytes | None,
             fmt: int = FORMAT) -> tuple[bytes | None, bytes]:
        """``(payload, tag)`` as stored on the server."""
        nonce = os.urandom(NONCE)
        if kind == "sealed":
            assert plaintext is not None
            ct = self._aead.encrypt(nonce, plaintext, self._ad(entity, row_id, version, kind, fmt, None))
            return nonce + ct, b"\x01"
        tag = nonce + self._aead.encrypt(nonce, b"", self._ad(entity, row_id, version, kind, fmt, plaintext))
        return plaintext, tag

    def open(self, entity: str, row_id: str, version: int, kind: str, fmt: int,
             payload: bytes | None, tag: bytes) -> bytes | None:
        """The plaintext (None for a tombstone), or TamperedRow."""
        try:
            if kind == "sealed":
                if payload is None or len(payload) < NONCE + 16:
                    raise TamperedRow(row_id)
                return self._aead.decrypt(payload[:NONCE], payload[NONCE:],
                                          self._ad(entity, row_id, version, kind, fmt, None))
            if len(tag) < NONCE + 16:
                raise TamperedRow(row_id)
            self._aead.decrypt(tag[:NONCE], tag[NONCE:], self._ad(entity, row_id, version, kind, fmt, payload))
            return payload
        except InvalidTag:
            raise TamperedRow(row_id) from None

    def key_check(self) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, KEY_CHECK_TEXT, f"key-check|{self.account}".encode())

    def verify_key_check(self, record: bytes) -> bool:
        try:
            return self._aead.decrypt(record[:NONCE], record[NONCE:], f"key-check|{self.account}".encode()) == KEY_CHECK_TEXT
        except (InvalidTag, ValueError):
            return False

    def identity_key(self, identity_id: str) -> str:
        """The opaque key an identity travels as: the same on every device of the account, meaningless to the server."""
        return hmac.new(self._ident, identity_id.encode(), hashlib.sha256).hexdigest()[:32]
