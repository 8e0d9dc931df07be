"""The bundle's layout and MANIFEST.json (spec "Export/Import Format"), plus per-member size and SHA-256.

The manifest lives inside the encryption. Besides the spec's fields it lists every member with its
size and hash, so an import can verify each byte it reads; readers that only know the spec's fields
ignore the extra key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from mirror_desktop.bundle.errors import DamagedBundle, UnsafeArchive

FORMAT_VERSION = "1.0"
MANIFEST = "MANIFEST.json"
DATABASE = "mirror_os.db"
CONFIG = "config.json"
INTEGRATIONS = "integrations/configs.json"
CONSTITUTION_DIR = "constitution/"
PROPOSALS_DIR = "evolution/proposals/"
HISTORY_DIR = "evolution/history/"
# Issue 15: each attachment's bytes as attachments/<sha256>; the name is the checksum, verified on import.
ATTACHMENTS_DIR = "attachments/"
DIRS = frozenset({CONSTITUTION_DIR, "evolution/", PROPOSALS_DIR, HISTORY_DIR, "integrations/", ATTACHMENTS_DIR})
FIXED_MEMBERS = frozenset({MANIFEST, DATABASE, CONFIG, INTEGRATIONS})

_CONSTITUTION_RE = re.compile(r"constitution/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.(md|json)")
_EVOLUTION_RE = re.compile(r"evolution/(proposals|history)/[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.json")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")

MANIFEST_CAP = 16 * 1024 * 1024
SMALL_MEMBER_CAP = 16 * 1024 * 1024
DATABASE_CAP = 64 * 1024 * 1024 * 1024
ATTACHMENT_CAP = 2 * 1024 * 1024 * 1024  # above any attachment cap a person sets; each is hashed on import
_ATTACHMENT_RE = re.compile(r"attachments/[0-9a-f]{64}")


def is_layout_member(name: str) -> bool:
    """Whether ``name`` is a file the bundle layout allows (anything else is refused)."""
    return name in FIXED_MEMBERS or bool(_CONSTITUTION_RE.fullmatch(name) or _EVOLUTION_RE.fullmatch(name)
                                         or _ATTACHMENT_RE.fullmatch(name))


def is_attachment_member(name: str) -> bool:
    return bool(_ATTACHMENT_RE.fullmatch(name))


def member_cap(name: str) -> int:
    if is_attachment_member(name):
        return ATTACHMENT_CAP
    return DATABASE_CAP if name == DATABASE else (MANIFEST_CAP if name == MANIFEST else SMALL_MEMBER_CAP)


def evolution_member(folder: str, row_id: str) -> str:
    """The file name for one proposal or history row; ids that are not file-safe are hashed."""
    stem = row_id if _SAFE_ID.fullmatch(row_id) else "id-" + hashlib.sha256(row_id.encode()).hexdigest()[:40]
    return f"{folder}{stem}.json"


@dataclass(frozen=True)
class MemberInfo:
    size: int
    sha256: str


@dataclass
class Manifest:
    """MANIFEST.json: the spec's fields plus ``members``."""

    exported_at: str
    mirror_version: str
    schema_version: str
    database_size_bytes: int
    record_counts: dict[str, int]
    includes: dict[str, bool]
    sanitized: bool
    encryption: str
    members: dict[str, MemberInfo] = field(default_factory=dict)
    version: str = FORMAT_VERSION
    database_type: str = "sqlite"
    source_database_type: str = "sqlite"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "exported_at": self.exported_at,
            "mirror_version": self.mirror_version,
            "schema_version": self.schema_version,
            "database_type": self.database_type,
            "database_size_bytes": self.database_size_bytes,
            "record_counts": dict(self.record_counts),
            "includes": dict(self.includes),
            "privacy": {"sanitized": self.sanitized, "encryption": self.encryption},
            "source_database_type": self.source_database_type,
            "members": {n: {"size": m.size, "sha256": m.sha256} for n, m in sorted(self.members.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Validate a parsed MANIFEST.json; every problem is one sentence."""
        def need(obj: Any, key: str, kind: type | tuple[type, ...], where: str = "MANIFEST.json") -> Any:
            if not isinstance(obj, dict) or key not in obj:
                raise DamagedBundle(f"{where} has no {key!r}")
            value = obj[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise DamagedBundle(f"{where} field {key!r} has the wrong type")
            return value

        if not isinstance(data, dict):
            raise DamagedBundle("MANIFEST.json is not an object")
        version = need(data, "version", str)
        major = version.split(".")[0]
        if major != FORMAT_VERSION.split(".")[0]:
            raise DamagedBundle(f"the bundle format {version} is not one this Mirror reads (it reads {FORMAT_VERSION}); "
                                "install a newer Mirror")
        database_type = need(data, "database_type", str)
        if database_type != "sqlite":
            raise DamagedBundle(f"the bundle holds a {database_type} database; only sqlite bundles can be imported")
        counts = need(data, "record_counts", dict)
        if not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in counts.items()):
            raise DamagedBundle("MANIFEST.json record_counts are not all counts")
        includes = need(data, "includes", dict)
        privacy = need(data, "privacy", dict)
        raw_members = need(data, "members", dict)
        members: dict[str, MemberInfo] = {}
        for name, info in raw_members.items():
            if name == MANIFEST or not is_layout_member(name):
                raise UnsafeArchive(f"the manifest lists an unexpected member {name!r}")
            size = need(info, "size", int, f"the manifest entry for {name}")
            digest = need(info, "sha256", str, f"the manifest entry for {name}")
            if size < 0 or not _SHA256.fullmatch(digest):
                raise DamagedBundle(f"the manifest entry for {name} is malformed")
            members[name] = MemberInfo(size, digest)
        if DATABASE not in members:
            raise DamagedBundle("the manifest lists no mirror_os.db")
        return cls(
            exported_at=need(data, "exported_at", str),
            mirror_version=need(data, "mirror_version", str),
            schema_version=need(data, "schema_version", str),
            database_size_bytes=need(data, "database_size_bytes", int),
            record_counts=dict(counts),
            includes={str(k): bool(v) for k, v in includes.items()},
            sanitized=bool(need(privacy, "sanitized", bool, "MANIFEST.json privacy")),
            encryption=str(privacy.get("encryption", "none")),
            members=members,
            version=version,
            database_type=database_type,
            source_database_type=str(data.get("source_database_type", "sqlite")),
        )
