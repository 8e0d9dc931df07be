"""Import: a bundle (zip or age-sealed zip) back into a journal, refusing anything hostile.

``prepare_import`` does every check and builds the new journal in a private staging folder; it
never touches the live journal, so Cancel or any failure leaves nothing changed. ``commit_import``
then either **replaces** the live journal, constitution and config.json all or nothing (each old one
kept next to it as a rollback file, the new ones staged completely, then renamed in; a failure undoes
the renames) or **merges** into it (by id, in one transaction).

Order of checks (issue 5 and shared/RELIABILITY.md, Bundles):
decrypt completely (to staging) → validate the whole zip directory → read MANIFEST.json strictly →
the members must be exactly those the manifest lists → each member read through a byte-capped
stream and compared with the manifest's size and SHA-256 → schema compatibility → the bundled
database checked as hostile → rows copied into a fresh staging journal → older schemas migrated.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, Literal
from collections.abc import Callable

from mirror_desktop.bundle import age
from mirror_desktop.bundle import manifest as mf
from mirror_desktop.bundle.errors import (
    BundleError,
    BundleSchemaTooNew,
    DamagedBundle,
    HostileDatabase,
    NotABundle,
    NotEnoughSpace,
    OperationCancelled,
    PassphraseRequired,
    SlowPassphraseCheck,
    UnsafeArchive,
)
from mirror_desktop.bundle.export import STALE_AFTER_S, _record_event
from mirror_desktop.core.progress import JobState, Phase, QuietState, check
from mirror_desktop.bundle.safezip import Limits, loads_strict, open_safely
from mirror_desktop.bundle.sanitize import NEEDS_REAUTH
from mirror_desktop.core import staging
from mirror_desktop.core.enums import IntegrationStatus
from mirror_desktop.core.errors import MigrationError, MirrorError, StorageError
from mirror_desktop.core.safe_io import fsync_dir, private_dir, sweep_stale, write_bytes_atomically, write_new_file_durably
from mirror_desktop.core.staging import Stage
from mirror_desktop.paths import AppPaths

Mode = Literal["replace", "merge"]
AGE_MAGIC = b"age-encryption.org/v1"
ARMOR_MAGIC = b"-----BEGIN AGE ENCRYPTED FILE-----"
ZIP_MAGIC = b"PK\x03\x04"

# Tests set this to a callable that raises at a named step ("fault injected at each step").
FAULT_HOOK: Callable[[str], None] | None = None


def _fault(step: str) -> None:
    if FAULT_HOOK is not None:
        FAULT_HOOK(step)


@dataclass
class PreparedImport:
    """A verified bundle turned into a staged journal, ready to commit."""

    staging: Path
    journal: Path
    manifest: mf.Manifest
    schema_version: str
    migrated_from: str | None
    counts: dict[str, int]
    encrypted: bool
    constitution: dict[str, bytes] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    owner: Stage | None = None  # this process's claim on ``staging``: a sweep elsewhere leaves it alone
    evolution: dict[str, bytes] = field(default_factory=dict)   # evolution/proposals|history/*.json (issue 17 merge)

    def discard(self) -> None:
        if self.owner is not None:
            self.owner.release()
        else:
            shutil.rmtree(self.staging, ignore_errors=True)


@dataclass
class ImportResult:
    """The summary shown at the end: counts only."""

    mode: Mode
    journal: Path | str
    counts: dict[str, int]
    inserted: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    rollback_file: Path | None = None
    migrated_from: str | None = None
    encrypted: bool = False
    constitution_restored: int = 0

    @property
    def total_duplicates(self) -> int:
        return sum(self.duplicates.values())

    @property
    def total_conflicts(self) -> int:
        return sum(len(v) for v in self.conflicts.values())

    def summary(self) -> str:
        """What happened, in the words a person uses (issue 11, item 14); the window shows it too."""
        if self.mode == "replace":
            text = f"Restored {_things(self.counts)} from the bundle; this is now your journal."
            if self.rollback_file:
                text += f" The previous journal is kept as {Path(self.rollback_file).name}."
        else:
            added = sum(self.inserted.values())
            text = (f"Added {_things(self.inserted)} from the bundle." if added
                    else "Nothing in the bundle was new to this journal.")
            if self.total_duplicates:
                n = self.total_duplicates
                text += f" {n:,} {'entry was' if n == 1 else 'entries were'} already here."
            if self.total_conflicts:
                n = self.total_conflicts
                text += (f" {n:,} {'entry differs' if n == 1 else 'entries differ'} from yours and "
                         f"{'was' if n == 1 else 'were'} left as you have {'it' if n == 1 else 'them'}.")
        if self.constitution_restored:
            n = self.constitution_restored
            text += (f" {n} {'page' if n == 1 else 'pages'} of Mirror's constitution (the rules its mirrorbacks "
                     f"follow) that you did not have {'was' if n == 1 else 'were'} added.")
        if self.migrated_from:
            text += f" The bundle came from an older Mirror (schema {self.migrated_from}) and was brought up to date."
        return text


# How a person names what a journal holds; everything else is counted as "other entries".
_NAMED = (("reflections", "reflection", "reflections"), ("mirrorbacks", "mirrorback", "mirrorbacks"),
          ("threads", "thread", "threads"), ("tensions", "tension", "tensions"),
          ("identities", "identity", "identities"))


def _things(counts: dict[str, int]) -> str:
    parts = [f"{counts[t]:,} {one if counts[t] == 1 else many}" for t, one, many in _NAMED if counts.get(t)]
    named = {t for t, _, _ in _NAMED}
    other = sum(v for t, v in counts.items() if t not in named and t != "schema_version")
    if other:
        parts.append(f"{other:,} other {'entry' if other == 1 else 'entries'}")
    if not parts:
        return "an empty journal"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def detect_kind(path: Path) -> Literal["age", "zip"]:
    """Which kind of file ``path`` is; NotABundle for anything else (random bytes, a PDF ...)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except FileNotFoundError:
        raise BundleError(f"There is no file at {path}; check the path.") from None
    except IsADirectoryError:
        raise BundleError(f"{path} is a folder; choose a mirror_bundle_….zip or ….zip.age file.") from None
    if head.startswith(AGE_MAGIC) or head.lstrip().startswith(ARMOR_MAGIC):
        return "age"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    raise NotABundle("This file is not a Mirror bundle (it is neither a zip nor an age-encrypted file); "
                     "choose a mirror_bundle_….zip or ….zip.age file.")


def is_encrypted(path: Path) -> bool:
    return detect_kind(Path(path)) == "age"


def _age_error(exc: age.AgeError, offset: int | None, size: int | None = None) -> MirrorError:
    if isinstance(exc, age.WrongPassphrase):
        return BundleError("Wrong passphrase (or a damaged header); check the passphrase and try again. Nothing changed.")
    if isinstance(exc, age.TruncatedFile):
        return BundleError("The file is incomplete (it ends too early); use a complete copy of the bundle. Nothing changed.")
    if isinstance(exc, age.SlowWorkFactor):
        text = str(exc).replace("the file", "This bundle", 1)
        return SlowPassphraseCheck(exc.log2_n, exc.needed, f"{text}. Nothing changed.")
    if isinstance(exc, (age.WorkFactorTooHigh, age.NotEnoughMemory)):
        return BundleError(f"{str(exc)[0].upper()}{str(exc)[1:]}. Nothing changed.")
    if isinstance(exc, age.UnsupportedRecipient):
        return BundleError(f"{str(exc)[0].upper()}{str(exc)[1:]}. Nothing changed.")
    if isinstance(exc, age.Cancelled):
        return OperationCancelled()
    if offset is not None:
        of = f" of {size:,}" if size is not None else ""
        return BundleError(f"The file was changed or cut short in the part that starts at byte {offset:,}{of}; "
                           "use another copy. Nothing changed.")
    return BundleError(f"The file is damaged ({getattr(exc, 'detail', exc)}); use another copy. Nothing changed.")


def _decrypt(src: Path, dst: Path, passphrase: str, phase: Phase, state: JobState,
             allow_slow: bool = False) -> None:
    total = max(src.stat().st_size, 1)
    with open(src, "rb") as fh, open(dst, "xb") as out:
        try:
            age.decrypt_stream(fh, out, passphrase, progress=lambda n: phase.update(n, total),
                               is_cancelled=state.is_cancelled, allow_slow=allow_slow)
        except age.AgeError as exc:
            # Where the failing chunk starts (the file position is past the read-ahead buffer, so it
            # would say "byte 0" for any small bundle).
            offset = exc.offset if isinstance(exc, age.CorruptFile) else None
            raise _age_error(exc, offset, src.stat().st_size) from None


def _staging_dir(paths: AppPaths) -> Stage:
    root = staging.staging_root(paths.data_dir)
    try:
        private_dir(root)
        staging.sweep_staging(root)  # plaintext left by a killed import or export, whatever its age
        stage = staging.new_stage(root, "import-")
        from mirror_desktop.storage import cipher

        stage.wipe = cipher.is_encrypted(paths.database)  # plaintext intermediates of an encrypted journal (issue 19)
        return stage
    except OSError as exc:
        raise BundleError(f"Cannot use the data folder {paths.data_dir} ({exc.strerror}); "
                          "choose a folder you can write to. Nothing changed.") from None


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise NotEnoughSpace(f"There is not enough free disk space to import this bundle (about {needed // (1024 * 1024) + 1} MB "
                             "is needed); free some space and try again. Nothing changed.")


def prepare_import(bundle: Path | str, paths: AppPaths, *, passphrase: str | None = None,
                   state: JobState | None = None, limits: Limits = Limits(),
                   allow_slow_passphrase: bool = False) -> PreparedImport:
    """Verify ``bundle`` completely and build the journal it holds in staging (nothing live changes).

    An encrypted bundle whose work factor is above what Mirror writes raises SlowPassphraseCheck
    unless ``allow_slow_passphrase`` (the person said yes); one the machine lacks memory for is refused.
    """
    from mirror_desktop.storage import bundle_db
    from mirror_desktop.storage.journal import SQLiteStorage
    from mirror_desktop.storage.migrations import load_migrations, parse_version

    state = state or QuietState()
    bundle = Path(bundle).expanduser()
    kind = detect_kind(bundle)
    if kind == "age" and not passphrase:
        raise PassphraseRequired()
    owner = _staging_dir(paths)
    stage = owner.path
    try:
        check(state)
        _check_space(stage, bundle.stat().st_size * 2 + 16 * 1024 * 1024)
        zip_path = bundle
        if kind == "age":
            zip_path = stage / "bundle.zip"
            _decrypt(bundle, zip_path, passphrase or "", Phase(state, 0.0, 0.3, "Decrypting"), state,
                     allow_slow_passphrase)
            _fault("decrypted")
            with open(zip_path, "rb") as fh:
                if fh.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
                    raise NotABundle("The passphrase was right, but this age file holds something other than a "
                                     "Mirror bundle (it is not a zip inside); choose a bundle Mirror exported. "
                                     "Nothing changed.")
        check(state)
        state.set_progress(0.3, "Checking the bundle")
        with open_safely(zip_path, allowed=mf.is_layout_member, allowed_dirs=mf.DIRS, size_cap=mf.member_cap,
                         limits=limits) as archive:
            if mf.MANIFEST not in archive.members:
                raise NotABundle("This zip is not a Mirror bundle (it has no MANIFEST.json); choose a bundle Mirror exported.")
            raw, _ = archive.read_member(mf.MANIFEST, cap=mf.MANIFEST_CAP)
            manifest = mf.Manifest.from_json(loads_strict(raw, "MANIFEST.json"))
            shipped = [m.version for m in load_migrations("sqlite")]
            try:
                too_new = parse_version(manifest.schema_version) > parse_version(shipped[-1])
            except MigrationError:
                raise DamagedBundle(f"the manifest's schema version {manifest.schema_version!r} is not a version") from None
            if too_new:
                raise BundleSchemaTooNew(manifest.schema_version, shipped[-1])
            present = set(archive.members) - {mf.MANIFEST}
            listed = set(manifest.members)
            if present - listed:
                raise UnsafeArchive(f"it contains {sorted(present - listed)[0]!r}, which the manifest does not list")
            if listed - present:
                raise DamagedBundle(f"{sorted(listed - present)[0]} is missing")
            db_info = manifest.members[mf.DATABASE]
            _check_space(stage, db_info.size * 3 + 16 * 1024 * 1024)
            bundled_path = stage / "bundled.db"
            phase = Phase(state, 0.3, 0.55, "Verifying the bundle")
            total = sum(i.size for i in manifest.members.values()) or 1
            done = 0
            side: dict[str, bytes] = {}
            for name in sorted(listed):
                check(state)
                info = manifest.members[name]
                if name == mf.DATABASE:
                    digest = archive.copy_member(name, bundled_path, expected_size=info.size, is_cancelled=state.is_cancelled)
                elif mf.is_attachment_member(name):
                    digest = _extract_attachment(archive, name, info.size, stage, state)
                else:
                    data, digest = archive.read_member(name, expected_size=info.size, cap=mf.SMALL_MEMBER_CAP)
                    side[name] = data
                if digest != info.sha256:
                    raise DamagedBundle(f"{name} does not match the hash in its manifest (it was modified)")
                done += info.size
                phase.update(done, total)
        _fault("verified")
        if kind == "age":
            zip_path.unlink()
        # Side files are JSON or Markdown; JSON must parse strictly (duplicate keys, NaN, nesting).
        config: dict[str, Any] = {}
        for name, data in side.items():
            if name.endswith(".json"):
                value = loads_strict(data, name)
                if name == mf.CONFIG:
                    if not isinstance(value, dict):
                        raise DamagedBundle("config.json is not an object")
                    config = value
            elif name.endswith(".md"):
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    raise DamagedBundle(f"{name} is not UTF-8 text") from None
        constitution = {n[len(mf.CONSTITUTION_DIR):]: d for n, d in side.items() if n.startswith(mf.CONSTITUTION_DIR)}
        check(state)
        state.set_progress(0.55, "Checking the journal inside")
        try:
            info_db = bundle_db.inspect_bundled_db(bundled_path)
        except bundle_db.BundledSchemaTooNew as exc:
            raise BundleSchemaTooNew(exc.version, exc.app_version) from None
        except bundle_db.BundledDbRefused as exc:
            raise HostileDatabase(exc.detail) from None
        _fault("inspected")
        check(state)
        journal = stage / "journal.db"
        phase = Phase(state, 0.6, 0.9, "Copying the journal")
        try:
            copied = bundle_db.build_staging_journal(info_db, journal, on_table=lambda t, i, n: phase.update(i, n))
        except bundle_db.BundledDbRefused as exc:
            raise HostileDatabase(exc.detail) from None
        bundled_path.unlink()
        _fault("staged")
        for table, expected in manifest.record_counts.items():
            if table in copied and copied[table] != expected:
                raise DamagedBundle(f"the manifest promises {expected} {table} but the journal holds {copied[table]}")
        check(state)
        state.set_progress(0.9, "Updating the journal's schema")
        try:
            staged = SQLiteStorage(journal, migrate=True, create=False)
        except MigrationError as exc:
            raise HostileDatabase(f"its migration history does not match this Mirror ({exc})") from None
        try:
            migrated_from = info_db.schema_version if staged.schema_version() != info_db.schema_version else None
            # Integrations come back disconnected and marked for re-authorisation until the person
            # enters their credentials again (spec Import Process, 8; issue 14).
            for integ in staged.integrations.list():
                meta = dict(integ.metadata or {})
                meta[NEEDS_REAUTH] = True
                if integ.status != IntegrationStatus.DISCONNECTED or integ.metadata != meta:
                    staged.integrations.update(replace(integ, status=IntegrationStatus.DISCONNECTED, metadata=meta))
            counts = staged.counts()
            counts.pop("schema_version", None)
            version = staged.schema_version()
            _check_attachments(staged, stage)
        finally:
            staged.close()
        _fault("migrated")
        state.set_progress(0.95, "Ready")
        return PreparedImport(stage, journal, manifest, version, migrated_from, counts, kind == "age",
                              constitution, config, owner,
                              {n: d for n, d in side.items() if n.startswith("evolution/")})
    except OSError as exc:
        owner.release()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NotEnoughSpace("The disk is full; free some space and try the import again. Nothing changed.") from None
        raise
    except BaseException:
        owner.release()
        raise


# -- commit -------------------------------------------------------------------------------------

def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")


def _restore_constitution(prepared: PreparedImport, paths: AppPaths) -> int:
    """merge: add the bundle's constitution files the person does not have (theirs are kept)."""
    live = paths.data_dir / "constitution"
    n = 0
    for name, data in prepared.constitution.items():
        if not (live / name).exists():
            private_dir(live)
            write_bytes_atomically(live / name, data)
            n += 1
    return n


def _stage_constitution(prepared: PreparedImport) -> Path | None:
    """replace: the bundle's constitution folder written completely and durably inside the import's
    private staging (data_dir/.staging, so the same device as data_dir: the swap is a rename)."""
    if not prepared.constitution:
        return None
    folder = prepared.staging / "constitution"
    folder.mkdir(mode=0o700)
    for name, data in prepared.constitution.items():
        write_new_file_durably(folder / name, data)
    fsync_dir(folder)
    return folder


def _stage_config(prepared: PreparedImport, paths: AppPaths) -> Path | None:
    """replace: config.json written completely as a temp file beside its target.

    Beside the target rather than in data_dir's staging: the config folder can be on another
    device (platform defaults put it under ~/.config), and only a rename within one folder is atomic.
    """
    if not prepared.config:
        return None
    private_dir(paths.config_dir)
    tmp = paths.config_dir / f".config.json.{secrets.token_hex(4)}.tmp"
    write_new_file_durably(tmp, json.dumps(prepared.config, ensure_ascii=False, indent=2).encode("utf-8"))
    return tmp


def _keep_rollback(live: Path, rollback: Path) -> None:
    """``rollback`` becomes a durable second name (or copy) of ``live``; ``live`` never goes missing."""
    from mirror_desktop.storage import bundle_db

    try:
        os.link(live, rollback)  # no copy, no window where the old file is missing
    except OSError:
        shutil.copy2(live, rollback)
        bundle_db.fsync_file(rollback)
    fsync_dir(live.parent)


def _sweep_replace_leftovers(paths: AppPaths) -> None:
    """Leftovers of a killed replace: staged constitution folders (older versions staged them in
    data_dir as .constitution.new-*) and config.json temp files. Only stale ones (another import
    may be running). The old constitution is never parked under a hidden name: it goes straight
    to constitution.rollback-<stamp>, which is kept on purpose."""
    sweep_stale(paths.data_dir, ".constitution.new-*", STALE_AFTER_S)
    sweep_stale(paths.config_dir, ".config.json.*.tmp", STALE_AFTER_S)


def _event_data(prepared: PreparedImport, mode: Mode, inserted: dict[str, int] | None = None,
                duplicates: int = 0, conflicts: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {"mode": mode, "counts": prepared.counts, "encrypted": prepared.encrypted,
                            "bundle_schema_version": prepared.manifest.schema_version,
                            "sanitized": prepared.manifest.sanitized}
    if inserted is not None:
        data.update(inserted=sum(inserted.values()), duplicates=duplicates, conflicts=conflicts)
    if prepared.migrated_from:
        data["migrated_from"] = prepared.migrated_from
    return data


def commit_import(prepared: PreparedImport, paths: AppPaths, *, mode: Mode = "replace",
                  storage: Any = None, state: JobState | None = None) -> ImportResult:
    """Make the staged journal live. The staging folder is removed afterwards in every case.

    replace: the live SQLite journal must not be open in this process (close it first); another
    process holding it open is refused. merge: ``storage`` is the live journal (SQLite or
    PostgreSQL); without it the SQLite journal at ``paths.database`` is opened.
    """
    state = state or QuietState()
    try:
        if mode == "replace":
            if storage is not None and getattr(storage, "dialect", "sqlite") != "sqlite":
                raise BundleError("Replacing a PostgreSQL journal is not supported; import with --merge instead.")
            return _replace(prepared, paths, state)
        if mode == "merge":
            return _merge(prepared, paths, storage, state)
        raise BundleError(f"Unknown import mode {mode!r}; use replace or merge.")
    finally:
        prepared.discard()


def _replace(prepared: PreparedImport, paths: AppPaths, state: JobState) -> ImportResult:
    """Swap the staged journal in while holding it exclusively (storage/journal_lock.py).

    The lock is held from the "is anyone else here?" check to the end of the swap: another
    window or command that has the journal open makes this refuse in one sentence, and one that
    opens it meanwhile is refused, so nothing is written into a file about to be set aside.
    """
    from mirror_desktop.storage.journal_lock import exclusive_journal_lock

    with exclusive_journal_lock(paths.database):
        _fault("locked")
        return _swap_in(prepared, paths, state)


def _encrypt_like_live(staged: Path, live: Path) -> None:
    """An encrypted journal stays encrypted when an import replaces it (issue 19): the staged journal
    is encrypted with the live one's key (unlocked in this process) before it is swapped in."""
    from mirror_desktop.storage import cipher
    from mirror_desktop.storage.cipher_convert import convert_file

    if not cipher.is_encrypted(live):
        return
    key = cipher.key_for(live)
    if key is None:
        raise StorageError(cipher.ENCRYPTED_NO_KEY.format(path=live))
    convert_file(staged, None, key)


def _swap_in(prepared: PreparedImport, paths: AppPaths, state: JobState) -> ImportResult:
    """Swap the staged journal, constitution and config.json in, all or nothing.

    Everything is staged completely first (journal fsynced, constitution folder and config.json
    written and fsynced). Then, for each piece, the old one is kept under a rollback name sharing
    one stamp (``mirror_os.db.rollback-…``, ``constitution.rollback-…``, ``config.json.rollback-…``)
    and the new one renamed in: constitution, then config.json, then the journal last. Any failure
    before the end undoes the steps done, in reverse, by renames only (no disk space needed), so
    the live data dir holds the complete old set or the complete new one.
    """
    from mirror_desktop.storage import backups, bundle_db, journal_lock
    from mirror_desktop.storage.journal import SQLiteStorage

    state.set_progress(0.96, "Replacing the journal")
    _sweep_replace_leftovers(paths)
    staged = SQLiteStorage(prepared.journal, migrate=False, create=False)
    try:
        _record_event(staged, "import", _event_data(prepared, "replace"))
    finally:
        staged.close()
    bundle_db.quiesce_sqlite(prepared.journal)
    _encrypt_like_live(prepared.journal, paths.database)
    bundle_db.fsync_file(prepared.journal)
    staged_constitution = _stage_constitution(prepared)
    _fault("constitution-staged")
    staged_config: Path | None = None
    undo: list[tuple[str, Callable[[], object]]] = []
    try:
        staged_config = _stage_config(prepared, paths)
        _fault("config-staged")
        _fault("staged-ready")
        _blobs_in(prepared, paths.database)  # extra files only: an undone swap leaves orphans, never a gap
        stamp = _stamp()
        live = paths.database
        private_dir(live.parent)
        rollback: Path | None = None
        if live.exists():
            bundle_db.quiesce_sqlite(live)  # the WAL folded in: the file alone is the whole old journal
            rollback = live.with_name(f"{live.name}.rollback-{stamp}")
            _keep_rollback(live, rollback)
            undo.append(("the rollback copy of the journal", lambda: rollback.unlink(missing_ok=True)))
        _fault("rollback-kept")

        if staged_constitution is not None:
            live_const = paths.data_dir / "constitution"
            if live_const.exists():
                const_rollback = paths.data_dir / f"constitution.rollback-{stamp}"
                live_const.rename(const_rollback)
                undo.append(("the constitution folder", lambda: const_rollback.rename(live_const)))
                _fault("constitution-aside")
            staged_constitution.rename(live_const)
            undo.append(("the imported constitution folder", lambda: live_const.rename(staged_constitution)))
            fsync_dir(paths.data_dir)
            _fault("constitution-swapped")

        if staged_config is not None:
            live_config = paths.config_dir / "config.json"
            if live_config.exists():
                config_rollback = paths.config_dir / f"config.json.rollback-{stamp}"
                _keep_rollback(live_config, config_rollback)
                undo.append(("the rollback copy of config.json", lambda: config_rollback.unlink(missing_ok=True)))
                os.replace(staged_config, live_config)
                undo.append(("config.json", lambda: os.replace(config_rollback, live_config)))
            else:
                os.replace(staged_config, live_config)
                undo.append(("config.json", live_config.unlink))
            fsync_dir(paths.config_dir)
            _fault("config-swapped")

        # The journal last: until here it was never touched. A -wal or -shm beside it now would be
        # replayed into the new file; only a program that ignores the lock can have made one.
        sidecars = [Path(f"{live}-wal"), Path(f"{live}-shm")]
        if rollback is not None and any(p.exists() for p in sidecars):
            raise StorageError(journal_lock.IN_USE)
        for stale in sidecars:  # no journal here: left by a journal deleted by hand; they fit no file
            stale.unlink(missing_ok=True)
        os.replace(prepared.journal, live)
        if rollback is not None:
            undo.append(("the journal", lambda: os.replace(rollback, live)))
        else:
            undo.append(("the journal", live.unlink))
        _fault("swapped")
        fsync_dir(live.parent)
    except BaseException as exc:
        _undo(undo, paths, exc)
        raise
    finally:
        if staged_config is not None:
            staged_config.unlink(missing_ok=True)
    # Each rollback copy is a whole journal: the newest KEEP_BACKUPS stay, like migration backups.
    backups.prune_rollback_copies(live)
    restored = len(prepared.constitution) if staged_constitution is not None else 0
    state.set_progress(1.0, "Done")
    return ImportResult("replace", live, prepared.counts, rollback_file=rollback,
                        migrated_from=prepared.migrated_from, encrypted=prepared.encrypted,
                        constitution_restored=restored)


def _undo(undo: list[tuple[str, Callable[[], object]]], paths: AppPaths, cause: BaseException) -> None:
    """Reverse the replace steps done so far; every step is a rename or an unlink of a second name."""
    failed: list[str] = []
    for what, step in reversed(undo):
        try:
            step()
        except OSError:
            failed.append(what)
    for folder in {paths.data_dir, paths.config_dir}:
        try:
            fsync_dir(folder)
        except OSError:
            pass
    if failed:
        raise BundleError(
            f"The import failed ({cause}) and could not put back {', '.join(failed)}; the previous files are "
            f"kept beside them as *.rollback-* files (in {paths.data_dir} and {paths.config_dir}); "
            "restore them by hand before using Mirror."
        ) from cause


@dataclass
class _SeedMatch:
    """What matching the default tensions and axes by seed_key did to the staged journal."""

    duplicates: dict[str, int] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    adopt: set[str] = field(default_factory=set)   # live tension ids that take the bundle's version


def _same_tension(a: Any, b: Any) -> bool:
    keep = ("name", "axis_a", "axis_b", "position", "intensity", "sync_mode")
    history = [(a.metadata or {}).get("position_history") or [], (b.metadata or {}).get("position_history") or []]
    return all(getattr(a, k) == getattr(b, k) for k in keep) and history[0] == history[1]


def _match_seeds(staged_path: Path, live: Any) -> _SeedMatch:
    """Give the staged journal's seeded axes and tensions the live journal's ids (issue 11, item 8).

    Every journal seeds the same defaults under its own ids, so a merge by id alone would put a
    second Control ↔ Surrender beside the first. A seeded row of the bundle whose ``seed_key`` the
    live journal already has is matched to it: the live row stays (a duplicate, or a conflict when
    both were changed), except that an untouched live default takes the bundle's moved version. The
    staged journal's references (a tension's axis, an engine run's surfaced tensions) follow.
    Only the private staged copy is written here; the live journal changes in the merge transaction.
    """
    from dataclasses import replace as dc_replace

    from mirror_desktop.core.tensions import is_untouched_seed, load_seed_data, seed_key_of
    from mirror_desktop.storage.journal import SQLiteStorage

    match = _SeedMatch()
    live_axes = {k: a for a in live.axes.list() if (k := seed_key_of(a))}
    live_tensions = {k: t for t in live.tensions.list() if (k := seed_key_of(t))}
    if not live_axes and not live_tensions:
        return match
    seeds = load_seed_data()
    staged = SQLiteStorage(staged_path, migrate=False, create=False)
    try:
        with staged.transaction():
            axis_ids: dict[str, str] = {}
            for a in staged.axes.list():
                other = live_axes.get(seed_key_of(a) or "")
                if other is None or other.id == a.id:
                    continue
                axis_ids[a.id] = other.id
                staged.axes.delete(a.id)
                if (a.name, a.description, a.category) == (other.name, other.description, other.category):
                    match.duplicates["axes"] = match.duplicates.get("axes", 0) + 1
                else:
                    match.conflicts.setdefault("axes", []).append(other.id)
            tension_ids: dict[str, str] = {}
            for t in staged.tensions.list():
                meta = dict(t.metadata or {})
                if meta.get("axis_id") in axis_ids:
                    meta["axis_id"] = axis_ids[meta["axis_id"]]
                fixed = dc_replace(t, metadata=meta)
                other = live_tensions.get(seed_key_of(t) or "")
                if other is None or other.id == t.id:
                    if fixed != t:
                        staged.tensions.update(fixed)
                    continue
                tension_ids[t.id] = other.id
                staged.tensions.delete(t.id)
                if is_untouched_seed(other, seeds) and not is_untouched_seed(t, seeds):
                    staged.tensions.create(dc_replace(fixed, id=other.id))
                    match.adopt.add(other.id)
                elif _same_tension(t, other):
                    match.duplicates["tensions"] = match.duplicates.get("tensions", 0) + 1
                else:
                    match.conflicts.setdefault("tensions", []).append(other.id)
            if tension_ids:
                for run in staged.engine_runs.list():
                    surfaced = run.tensions_surfaced or []
                    if any(i in tension_ids for i in surfaced):
                        staged.engine_runs.update(dc_replace(
                            run, tensions_surfaced=[tension_ids.get(i, i) for i in surfaced]))
    finally:
        staged.close()
    return match


def _merge(prepared: PreparedImport, paths: AppPaths, storage: Any, state: JobState) -> ImportResult:
    from mirror_desktop.storage import bundle_db
    from mirror_desktop.storage.journal import SQLiteStorage

    state.set_progress(0.96, "Merging")
    own = storage is None
    if own:
        if not paths.database.exists():
            return _replace(prepared, paths, state)  # nothing to merge with: the bundle becomes the journal
        storage = SQLiteStorage(paths.database)
    try:
        seeds = _match_seeds(prepared.journal, storage)
        if getattr(storage, "dialect", "") == "sqlite":
            if getattr(storage, "key", None) is None:
                _blobs_in(prepared, Path(storage.location))
            else:
                with storage.transaction():  # an encrypted journal keeps them inside (issue 19); a failed merge
                    _blobs_into_database(storage, prepared)  # below sweeps the ones no row names

            def record(rep: dict[str, Any]) -> None:
                # Inside the merge transaction: the event commits with the rows, or neither does.
                _fault("merge-before-commit")
                _add_seed_matches(rep, seeds)
                _record_event(storage, "import", _event_data(
                    prepared, "merge", {t: r.inserted for t, r in rep.items()},
                    sum(r.duplicates for r in rep.values()), sum(r.conflicts for r in rep.values())))

            try:
                report = bundle_db.merge_sqlite(storage.db, prepared.journal, before_commit=record,
                                                overwrite={"tensions": seeds.adopt})
            except BaseException:
                _sweep_quietly(storage)  # the files moved in above now belong to no row
                raise
        else:
            report = _merge_generic(storage, prepared, seeds)
    finally:
        if own:
            storage.close()
    restored = _restore_constitution(prepared, paths)
    state.set_progress(1.0, "Done")
    return ImportResult(
        "merge", getattr(storage, "location", str(paths.database)), prepared.counts,
        inserted={t: r.inserted for t, r in report.items()},
        duplicates={t: r.duplicates for t, r in report.items() if r.duplicates},
        conflicts={t: r.conflict_ids for t, r in report.items() if r.conflicts},
        migrated_from=prepared.migrated_from, encrypted=prepared.encrypted, constitution_restored=restored,
    )


def _add_seed_matches(report: dict[str, Any], seeds: _SeedMatch) -> None:
    """Count the seeded rows matched by seed_key with the merge's own duplicates and conflicts."""
    from mirror_desktop.storage.bundle_db import TableMerge

    for table in set(seeds.duplicates) | set(seeds.conflicts):
        tm = report.setdefault(table, TableMerge())
        tm.duplicates += seeds.duplicates.get(table, 0)
        ids = seeds.conflicts.get(table, [])
        tm.conflicts += len(ids)
        tm.conflict_ids.extend(ids[: max(50 - len(tm.conflict_ids), 0)])


def _merge_templates_generic(staged: Any, storage: Any) -> Any:
    """Issue 16: the bundle's templates new by id and by name join the journal's (as merge_sqlite does)."""
    from mirror_desktop.storage.bundle_db import TableMerge

    tm = TableMerge()
    mine = storage.templates.list()
    names = {" ".join(t.name.split()).casefold(): t for t in mine}
    ids = {t.id: t for t in mine}
    for row in staged.templates.list():
        same = ids.get(row.id) or names.get(" ".join(row.name.split()).casefold())
        if same is None:
            storage.templates.create(row)
            tm.inserted += 1
        elif (same.id, same.name, same.body) == (row.id, row.name, row.body):
            tm.duplicates += 1
        else:
            tm.conflicts += 1
    return tm


def _merge_generic(storage: Any, prepared: PreparedImport, seeds: _SeedMatch | None = None) -> dict[str, Any]:
    """Merge through repositories (PostgreSQL): same rules, one transaction."""
    from mirror_desktop.storage.bundle_db import COPY_ORDER, TableMerge
    from mirror_desktop.storage.journal import SQLiteStorage

    staged = SQLiteStorage(prepared.journal, migrate=False, create=False)
    report: dict[str, TableMerge] = {}
    try:
        with storage.transaction():
            _blobs_into_database(storage, prepared)
            for table in COPY_ORDER:
                src, dst = getattr(staged, table), getattr(storage, table)
                tm = TableMerge()
                fresh = []
                for row in src.list():
                    existing = (dst.find_pair(row.thread_id, row.reflection_id) if table == "thread_reflections"
                                else dst.find(row.id))
                    if existing is None:
                        fresh.append(row)
                    elif table == "tensions" and seeds is not None and row.id in seeds.adopt:
                        dst.update(row)  # an untouched default takes the bundle's moved version
                        tm.inserted += 1
                    elif existing == row:
                        tm.duplicates += 1
                    else:
                        tm.conflicts += 1
                        if len(tm.conflict_ids) < 50:
                            tm.conflict_ids.append(getattr(row, "id", None) or f"{row.thread_id}/{row.reflection_id}")
                if fresh:
                    dst.create_many(fresh)
                tm.inserted += len(fresh)
                report[table] = tm
            report["templates"] = _merge_templates_generic(staged, storage)
            if seeds is not None:
                _add_seed_matches(report, seeds)
            _record_event(storage, "import", _event_data(
                prepared, "merge", {t: r.inserted for t, r in report.items()},
                sum(r.duplicates for r in report.values()), sum(r.conflicts for r in report.values())))
    finally:
        staged.close()
    return report


# -- attachments (issue 15): attachments/<sha256> members, verified, beside the staged journal -----------

def _staged_blobs(stage: Path) -> Path:
    """The staged journal's attachment folder (stage/journal.db → stage/journal.attachments/)."""
    return stage / "journal.attachments"


def _extract_attachment(archive: Any, name: str, size: int, stage: Path, state: JobState) -> str:
    """Copy one attachment member into the staged folder; its name must be its own SHA-256."""
    sha = name[len(mf.ATTACHMENTS_DIR):]
    folder = private_dir(private_dir(_staged_blobs(stage)) / sha[:2])
    digest = str(archive.copy_member(name, folder / sha, expected_size=size, is_cancelled=state.is_cancelled))
    if digest != sha:
        raise DamagedBundle(f"{name} does not match its own checksum (it was modified)")
    return digest


def _check_attachments(staged: Any, stage: Path) -> None:
    """Every attachment row has its file, and every file is a picture, document, sound or film."""
    from mirror_desktop.core.attachments import SNIFF_BYTES, sniff_type

    folder = _staged_blobs(stage)
    for sha in sorted(staged.attachments.all_shas()):
        path = folder / sha[:2] / sha
        if not path.is_file():
            raise DamagedBundle(f"the file of attachment {sha[:12]}… is missing")
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        if sniff_type(head) is None:
            raise HostileDatabase(f"the attachment {sha[:12]}… is not a picture, document, sound or film")


def _blobs_in(prepared: PreparedImport, live_journal: Path) -> None:
    """Move the staged attachment files beside the live SQLite journal (files already there stay)."""
    src = _staged_blobs(prepared.staging)
    if not src.is_dir():
        return
    dst = live_journal.with_name(live_journal.stem + ".attachments")
    for path in sorted(src.glob("*/*")):
        target = private_dir(private_dir(dst) / path.parent.name) / path.name
        if not target.exists():
            shutil.move(str(path), str(target))
        fsync_dir(target.parent)


def _sweep_quietly(storage: Any) -> None:
    from mirror_desktop.core.attachments import sweep_orphans

    try:
        sweep_orphans(storage)
    except Exception:  # noqa: BLE001 - a leftover file is untidy, not harmful; the merge's own error is the news
        pass


def _blobs_into_database(storage: Any, prepared: PreparedImport) -> None:
    """PostgreSQL and an encrypted journal keep attachment bytes in attachment_blobs: in the merge's own transaction."""
    from mirror_desktop.core.attachments import blob_folder

    src = _staged_blobs(prepared.staging)
    if not src.is_dir() or blob_folder(storage) is not None:
        return
    for path in sorted(src.glob("*/*")):
        if not storage.attachments.has_blob(path.name):
            storage.attachments.put_blob(path.name, path.read_bytes())


def import_bundle(bundle: Path | str, paths: AppPaths, *, passphrase: str | None = None, mode: Mode = "replace",
                  storage: Any = None, state: JobState | None = None, limits: Limits = Limits(),
                  allow_slow_passphrase: bool = False) -> ImportResult:
    """prepare_import + commit_import: the CLI's and the tests' one call."""
    state = state or QuietState()
    prepared = prepare_import(bundle, paths, passphrase=passphrase, state=state, limits=limits,
                              allow_slow_passphrase=allow_slow_passphrase)
    return commit_import(prepared, paths, mode=mode, storage=storage, state=state)
