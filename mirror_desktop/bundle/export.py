"""Export: the spec's bundle (zip), optionally sealed with age, written so it is never torn.

Steps (issue 5, shared/RELIABILITY.md Bundles):

1. Stage privately (a 0700 folder beside the journal, never the destination, which may be a synced
   or removable folder): a consistent copy of the journal made with ``VACUUM INTO`` (or, for
   ``--share`` and for PostgreSQL, a fresh SQLite journal filled through repositories), integration
   secrets removed, drafts emptied, the file rebuilt so no freed page keeps old text.
2. Zip it with the side files and MANIFEST.json (spec fields plus each member's size and SHA-256).
3. Write the output to a temp file *in the destination folder*, encrypting on the fly when a
   passphrase is given; fsync; ``os.replace``; fsync the folder.
4. Re-read the written file (decrypting it) and compare its hash with the zip's before saying done.
5. Record an ``export`` evolution event (counts only, never content).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, BinaryIO
from collections.abc import Callable, Iterator

from mirror_desktop import __version__
from mirror_desktop.bundle import age
from mirror_desktop.bundle import manifest as mf
from mirror_desktop.bundle.errors import BundleError, NotEnoughSpace, OperationCancelled
from mirror_desktop.core.progress import JobState, Phase, QuietState, check
from mirror_desktop.bundle.sanitize import sanitize_integration, strip_secrets
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import IntegrationStatus, LifecycleEventType
from mirror_desktop.core.outbound import outbound_rows
from mirror_desktop.core import staging
from mirror_desktop.core.validation import MIN_PASSPHRASE_LENGTH
from mirror_desktop.core.safe_io import StrictJSONError, loads_strict, private_dir, sweep_stale, write_atomically
from mirror_desktop.paths import AppPaths

# Spec tables counted in the manifest (schema_version is bookkeeping, drafts never travel).
COUNTED = ("identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "tensions", "axes",
           "engine_runs", "engine_feedback", "evolution_proposals", "evolution_history", "evolution_events",
           "integrations")
CHUNK = 1024 * 1024
ZIP_LEVEL = 6

# Tests set this to a callable that raises at a named step, to prove a torn export is impossible.
FAULT_HOOK: Callable[[str], None] | None = None
# The scrypt work factor for new bundles; None means age.EXPORT_LOG2_N (a fixed, modest cost that
# any machine can open: issue 11, item 5). Tests lower it.
default_log2_n: int | None = None
# One rule for every source of a new bundle's passphrase (MIN_PASSPHRASE_LENGTH): the window, a prompt,
# --passphrase-file, MIRROR_PASSPHRASE (issue 11, item 6). Opening a bundle takes any passphrase.


def check_new_passphrase(passphrase: str, source: str = "The passphrase") -> None:
    """Refuse a passphrase too short to protect a bundle; ``source`` names where it came from."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise BundleError(f"{source} is shorter than {MIN_PASSPHRASE_LENGTH} characters; choose a longer "
                          "passphrase (several unrelated words are strong and easy to remember). No bundle was written.")


def _fault(step: str) -> None:
    if FAULT_HOOK is not None:
        FAULT_HOOK(step)


@dataclass
class ExportResult:
    """What the window's summary and the CLI print."""

    path: Path
    size_bytes: int
    encrypted: bool
    sanitized: bool
    record_counts: dict[str, int]
    manifest: dict[str, Any] = field(default_factory=dict)


def bundle_name(now: datetime, encrypted: bool) -> str:
    return f"mirror_bundle_{now:%Y%m%d_%H%M%S}.zip" + (".age" if encrypted else "")


def _unique_target(folder: Path, name: str) -> Path:
    target = folder / name
    n = 2
    while target.exists():
        stem, dot, rest = name.partition(".")
        target = folder / f"{stem}_{n}{dot}{rest}"
        n += 1
    return target


# Leftovers of a killed export or import older than this are removed at the next one.
STALE_AFTER_S = 6 * 3600


def staging_root_for(storage: Any, paths: AppPaths | None) -> Path:
    """A private folder on the same device as the journal for plaintext intermediates."""
    if paths is not None:
        root = staging.staging_root(paths.data_dir)
    elif getattr(storage, "path", None) is not None:
        root = staging.staging_root(Path(storage.path).parent)
    else:
        root = staging.temp_staging_root()
    private_dir(root)
    staging.sweep_staging(root)  # plaintext left by a killed export or import, whatever its age
    return root


class _HashingWriter:
    """A write-only sink that hashes (and counts) what passes through to ``dst`` (or nowhere)."""

    def __init__(self, dst: BinaryIO | None = None) -> None:
        self.dst = dst
        self.h = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.h.update(data)
        self.size += len(data)
        if self.dst is not None:
            self.dst.write(data)
        return len(data)

    def flush(self) -> None:
        if self.dst is not None:
            self.dst.flush()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# -- the database copy -----------------------------------------------------------------------

def _copy_all_rows(source: Any, target: Any, state: JobState) -> None:
    """PostgreSQL → SQLite: every spec row through the repositories, in foreign-key order."""
    batch = 1000
    for table in (*COUNTED, "templates"):  # templates: migration 005, issue 16
        src, dst = getattr(source, table), getattr(target, table)
        order = src.key_columns
        offset = 0
        while True:
            check(state)
            rows = src.list(limit=batch, offset=offset, order_by=order)
            if rows:
                dst.create_many(rows)
            if len(rows) < batch:
                break
            offset += batch
    _copy_attachment_rows(source, target, state)


def _fill_share_journal(source: Any, target: Any, state: JobState) -> None:
    for table, rows in outbound_rows(source, "share"):
        check(state)
        if rows:
            getattr(target, table).create_many(rows)
    _copy_attachment_rows(source, target, state, only_shared=True)


def _copy_attachment_rows(source: Any, target: Any, state: JobState, *, only_shared: bool = False) -> None:
    """Issue 15: the attachment rows of the reflections the target holds (adapter table, migration 004).

    A share export's target holds only the reflections that consented to leave (outbound_rows), so
    their attachments go with them and no other's do; ``only_shared`` says so for the reader.
    """
    ids = [r.id for r in target.reflections.iter_all()]
    for i in range(0, len(ids), 500):
        check(state)
        rows = [a for found in source.attachments.for_reflections(ids[i:i + 500]).values() for a in found]
        if rows:
            target.attachments.create_many(rows)


@dataclass
class _Staged:
    db: Path
    counts: dict[str, int]
    schema_version: str
    proposals: list[m.EvolutionProposal]
    history: list[m.EvolutionHistory]
    integrations: list[m.Integration]
    attachments: list[str] = field(default_factory=list)  # sha256 of every file the staged rows name


def _stage_database(storage: Any, stage: Path, share: bool, state: JobState) -> _Staged:
    from mirror_desktop.storage.bundle_db import finalize_bundle_db, table_counts
    from mirror_desktop.storage.journal import SQLiteStorage

    db = stage / mf.DATABASE
    if share:
        target = SQLiteStorage(db)
        try:
            _fill_share_journal(storage, target, state)
        finally:
            target.close()
    elif getattr(storage, "dialect", "") == "sqlite":
        storage.plain_copy_to(db)  # VACUUM INTO (or sqlcipher_export when encrypted): a consistent snapshot
    else:
        target = SQLiteStorage(db)
        try:
            _copy_all_rows(storage, target, state)
        finally:
            target.close()
    _fault("snapshot")
    check(state)
    copy = SQLiteStorage(db, migrate=False, create=False)
    try:
        integrations = []
        for integ in copy.integrations.list():
            config, meta = sanitize_integration(integ.config, integ.metadata)
            clean = replace(integ, config=config, metadata=meta, status=IntegrationStatus.DISCONNECTED)
            copy.integrations.update(clean)
            integrations.append(clean)
        proposals = copy.evolution_proposals.list()
        history = copy.evolution_history.list()
        version = copy.schema_version()
        shas = sorted(copy.attachments.all_shas())
    finally:
        copy.close()
    finalize_bundle_db(db)  # drafts gone, freed pages gone, one self-contained file
    return _Staged(db, table_counts(db, COUNTED), version, proposals, history, integrations, shas)


# -- side files --------------------------------------------------------------------------------

def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default,
                      allow_nan=False).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _row_json(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(obj)


def constitution_files(paths: AppPaths | None) -> list[tuple[str, bytes]]:
    """The person's constitution (data_dir/constitution) or, failing that, the shipped one."""
    found: list[tuple[str, bytes]] = []
    user_dir = paths.data_dir / "constitution" if paths is not None else None
    if user_dir is not None and user_dir.is_dir() and any(user_dir.iterdir()):
        entries: Iterator[Any] = iter(sorted(user_dir.iterdir()))
    else:
        try:
            from mirror_desktop.resources import resource

            folder = resource("constitution")
            entries = iter(sorted(folder.iterdir(), key=lambda f: f.name)) if folder.is_dir() else iter(())
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, OSError):
            entries = iter(())
    for entry in entries:
        name = mf.CONSTITUTION_DIR + entry.name
        if entry.is_file() and mf.is_layout_member(name):
            found.append((name, entry.read_bytes()))
    return found


def _config_json(paths: AppPaths | None, share: bool) -> dict[str, Any]:
    if share or paths is None:
        return {}
    source = paths.config_dir / "config.json"
    if not source.is_file():
        return {}
    try:
        # Strict: a hostile or broken config.json (100k levels deep) must not end the export in a traceback.
        data = loads_strict(source.read_bytes())
    except (OSError, StrictJSONError):
        return {}
    return strip_secrets(data) if isinstance(data, dict) else {}


# -- the zip -------------------------------------------------------------------------------------

def _zip_info(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = (0o100644 << 16)
    return info


def _zip_attachments(zf: zipfile.ZipFile, storage: Any, staged: _Staged, manifest: mf.Manifest, when: datetime,
                     state: JobState) -> None:
    """Issue 15: each attachment's bytes as attachments/<sha256>, streamed, its checksum in the manifest."""
    from mirror_desktop.core.attachments import blob_path, read_blob

    for sha in staged.attachments:
        check(state)
        info = _zip_info(mf.ATTACHMENTS_DIR + sha, when)
        info.compress_type = zipfile.ZIP_STORED  # pictures are compressed already
        h, size = hashlib.sha256(), 0
        path = blob_path(storage, sha)
        with zf.open(info, "w", force_zip64=True) as dst:
            if path is not None:
                with open(path, "rb") as src:
                    for chunk in iter(lambda: src.read(CHUNK), b""):
                        h.update(chunk)
                        dst.write(chunk)
                        size += len(chunk)
            else:  # PostgreSQL keeps the bytes in the database
                data = read_blob(storage, sha)
                h.update(data)
                dst.write(data)
                size = len(data)
        if h.hexdigest() != sha:
            raise BundleError("An attachment's file no longer matches its checksum (the attachments folder was "
                              "changed by hand); no bundle was written.")
        manifest.members[mf.ATTACHMENTS_DIR + sha] = mf.MemberInfo(size, sha)


def _write_zip(zip_path: Path, staged: _Staged, side: list[tuple[str, bytes]], manifest: mf.Manifest,
               when: datetime, phase: Phase, state: JobState, storage: Any = None) -> None:
    db_size = staged.db.stat().st_size
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zf:
        h = hashlib.sha256()
        done = 0
        with open(staged.db, "rb") as src, zf.open(_zip_info(mf.DATABASE, when), "w", force_zip64=True) as dst:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                check(state)
                h.update(chunk)
                dst.write(chunk)
                done += len(chunk)
                phase.update(done, db_size)
        manifest.members[mf.DATABASE] = mf.MemberInfo(done, h.hexdigest())
        for name, data in side:
            zf.writestr(_zip_info(name, when), data)
            manifest.members[name] = mf.MemberInfo(len(data), hashlib.sha256(data).hexdigest())
        if staged.attachments:
            _zip_attachments(zf, storage, staged, manifest, when, state)
        zf.writestr(_zip_info(mf.MANIFEST, when), _json_bytes(manifest.to_json()))


# -- writing the output safely ----------------------------------------------------------------------

def _write_output(zip_path: Path, target: Path, passphrase: str | None, log2_n: int | None,
                  phase: Phase, state: JobState) -> None:
    """Temp file in the destination folder → fsync → os.replace → fsync folder."""
    total = zip_path.stat().st_size

    def produce(out: BinaryIO) -> None:
        with open(zip_path, "rb") as src:
            if passphrase:
                age.encrypt_stream(src, out, passphrase, log2_n=log2_n,
                                   progress=lambda n: phase.update(n, total), is_cancelled=state.is_cancelled)
                return
            done = 0
            for chunk in iter(lambda: src.read(CHUNK), b""):
                check(state)
                out.write(chunk)
                done += len(chunk)
                phase.update(done, total)

    write_atomically(target, produce, after_temp=lambda: _fault("temp-written"))
    _fault("replaced")
    _fault("folder-synced")


def _verify_output(target: Path, passphrase: str | None, expected_sha256: str, expected_size: int,
                   phase: Phase, state: JobState) -> None:
    sink = _HashingWriter()
    if passphrase:
        with open(target, "rb") as fh:
            # allow_slow: this file is ours, its work factor was chosen by the caller a moment ago.
            age.decrypt_stream(fh, sink, passphrase, progress=lambda n: phase.update(n, expected_size),  # type: ignore[arg-type]
                               is_cancelled=state.is_cancelled, allow_slow=True)
    else:
        with open(target, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                sink.write(chunk)
    if sink.h.hexdigest() != expected_sha256 or sink.size != expected_size:
        raise BundleError(f"The bundle written to {target} does not read back correctly; the disk may be failing. "
                          "Choose another folder and export again.")


# -- the use case ------------------------------------------------------------------------------------

def export_journal_file(paths: AppPaths, out_dir: Path, *, passphrase: str | None, share: bool,
                        state: JobState | None = None) -> ExportResult:
    """Export the SQLite journal of ``paths`` on a connection of the caller's own thread (WAL lets the
    window keep writing meanwhile): the window's export task, which must not share the executor's connection."""
    from mirror_desktop.storage.journal import SQLiteStorage

    storage = SQLiteStorage(paths.database, migrate=False, create=False)
    try:
        return export_bundle(storage, out_dir, paths=paths, passphrase=passphrase, share=share, state=state)
    finally:
        storage.close()


def export_bundle(storage: Any, out_dir: Path | str, *, paths: AppPaths | None = None,
                  passphrase: str | None = None, share: bool = False, log2_n: int | None = None,
                  state: JobState | None = None, filename: str | None = None,
                  now: datetime | None = None, staging_root: Path | None = None) -> ExportResult:
    """Export ``storage`` into ``out_dir``; returns where the bundle went and what it holds.

    ``passphrase`` None or empty writes a plain zip. ``filename`` overrides the default
    ``mirror_bundle_YYYYMMDD_HHMMSS.zip[.age]`` (an existing file of that name is replaced atomically).
    """
    state = state or QuietState()
    now = now or datetime.now(UTC)
    if passphrase:
        check_new_passphrase(passphrase)
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise BundleError(f"{out} is a file, not a folder; choose the folder to write the bundle into.")
    if not out.is_dir():
        raise BundleError(f"The folder {out} does not exist; choose an existing folder to export into.")
    if not os.access(out, os.W_OK | os.X_OK):
        raise BundleError(f"The folder {out} is not writable; choose a folder you can write to.")
    encrypted = bool(passphrase)
    sweep_stale(out, ".mirror_bundle_*.tmp", STALE_AFTER_S)  # half-written bundles of a killed export
    target = out / filename if filename else _unique_target(out, bundle_name(now, encrypted))
    root = staging_root or staging_root_for(storage, paths)
    owner = staging.new_stage(root, "export-")  # owned until released: no sweep removes it meanwhile
    owner.wipe = getattr(storage, "key", None) is not None  # an encrypted journal's plaintext copies (issue 19)
    stage = owner.path
    try:
        check(state)
        staged = _stage_database(storage, stage, share, state)
        state.set_progress(0.15, "Copying the journal")
        check(state)
        side: list[tuple[str, bytes]] = [(mf.CONFIG, _json_bytes(_config_json(paths, share)))]
        constitution = constitution_files(paths)
        side.extend(constitution)
        for p in staged.proposals:
            side.append((mf.evolution_member(mf.PROPOSALS_DIR, p.id), _json_bytes(_row_json(p))))
        for hrow in staged.history:
            side.append((mf.evolution_member(mf.HISTORY_DIR, hrow.id), _json_bytes(_row_json(hrow))))
        side.append((mf.INTEGRATIONS, _json_bytes([_row_json(i) for i in staged.integrations])))
        manifest = mf.Manifest(
            exported_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            mirror_version=__version__,
            schema_version=staged.schema_version,
            database_size_bytes=staged.db.stat().st_size,
            record_counts=staged.counts,
            includes={"constitution": bool(constitution), "evolution_history": not share,
                      "integration_configs": not share},
            sanitized=share,
            encryption="age-scrypt" if encrypted else "none",
            source_database_type=getattr(storage, "dialect", "sqlite") or "sqlite",
        )
        zip_path = stage / "bundle.zip"
        _write_zip(zip_path, staged, side, manifest, now, Phase(state, 0.2, 0.5, "Packing the bundle"), state,
                   storage)
        if owner.wipe:
            from mirror_desktop.storage.cipher_convert import overwrite_and_remove

            overwrite_and_remove(staged.db)  # the plaintext copy is no longer needed
        else:
            staged.db.unlink()  # the plaintext copy is no longer needed
        _fault("zipped")
        zip_sha, zip_size = _file_sha256(zip_path), zip_path.stat().st_size
        effective_log2_n = log2_n if log2_n is not None else (default_log2_n or age.EXPORT_LOG2_N)
        _write_output(zip_path, target, passphrase or None, effective_log2_n,
                      Phase(state, 0.5, 0.8, "Encrypting" if encrypted else "Writing"), state)
        _verify_output(target, passphrase or None, zip_sha, zip_size, Phase(state, 0.8, 0.98, "Verifying"), state)
        _fault("verified")
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NotEnoughSpace("The disk is full; free some space or choose another folder. No bundle was written.") from None
        raise
    except age.Cancelled:
        raise OperationCancelled() from None
    except age.NotEnoughMemory as exc:
        raise BundleError(f"Encrypting the bundle needs about {exc.needed >> 20} MB of memory but this computer has "
                          f"{exc.available >> 20} MB free; close other programs and export again. "
                          "No bundle was written.") from None
    finally:
        owner.release()
    size = target.stat().st_size
    _record_event(storage, "export", {"counts": staged.counts, "encrypted": encrypted, "share": share,
                                      "size_bytes": size, "schema_version": staged.schema_version})
    state.set_progress(1.0, "Done")
    return ExportResult(target, size, encrypted, share, staged.counts, manifest.to_json())


def _record_event(storage: Any, kind: str, data: dict[str, Any]) -> None:
    """An evolution_events row: counts and flags only, never content (spec 12)."""
    from mirror_desktop.core.lifecycle import record_event

    event_type = LifecycleEventType.EXPORT if kind == "export" else LifecycleEventType.IMPORT
    record_event(storage, event_type, data, to_version=__version__, sync_allowed=False)   # signed (issue 17)
