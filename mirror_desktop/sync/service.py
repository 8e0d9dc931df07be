"""The sync protocol: set up, push, pull, resolve, leave (issue 18). The CLI and the window's worker run it.

One sync, under a lock file beside the journal (two syncs of one journal never interleave):

1. **pull**: rows with ``seq`` above this device's cursor go into the journal's inbox, and the cursor
   moves, in one SQLite transaction per batch;
2. **apply**: inbox rows are verified (a tampered, swapped or replayed row is refused and counted),
   opened and written to the journal, in transactions during which the change triggers are quiet;
   a row from a newer Mirror (``format``) or whose reflection has not arrived waits in the inbox;
3. **push**: changed rows pass core/outbound.py's policy (the only way out), get their hybrid logical
   clock and next version, are sealed, recorded as an attempt, and written to the server only if the
   server's version is still the one this device last saw (else it is a conflict: pull, resolve, push).

Every step commits on its own, so a sync killed at any moment (SIGKILL) leaves the journal as it was
after the last step, and the next run continues: the inbox and cursor survive, a push whose answer
was lost is recognised by its recorded clock, and versions make a row applied twice apply once.

Conflicts: a reflection edited on two devices keeps both texts, the later edit (by clock) in place and
the other as a new reflection linked by ``metadata.conflict_of``; other rows take the later edit. A
deletion is a tombstone; an edit beats a concurrent deletion (nothing typed is lost).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import platform
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.outbound import SUMMARY_ENTITY, SYNC_ENTITIES, sync_outbound, sync_summary_outbound
from mirror_desktop.core.validation import MIN_PASSPHRASE_LENGTH
from mirror_desktop.keychain import PassphraseStore
from mirror_desktop.storage.sync_journal import InboxRow, Known, SyncJournal
from mirror_desktop.sync import crypto
from mirror_desktop.sync.errors import SyncBusy, SyncError, SyncUserError, WrongSyncPassphrase
from mirror_desktop.sync.hlc import SKEW_WARN_MS, Clock, Stamp
from mirror_desktop.sync.server import SyncServer, has_password, safe_dsn, where
from mirror_desktop.sync.state import local_status

PULL_BATCH = 2000
APPLY_BATCH = 500
PUSH_BATCH = 1000
MAX_ROUNDS = 4
CONFLICT_NS = uuid.UUID("5b0e1c52-6a53-4f43-9d0e-2f1f6f1a7c18")
_REPOS = {"reflections": "reflections", "tensions": "tensions", "mirrorbacks": "mirrorbacks",
          "engine_runs": "engine_runs", "engine_feedback": "engine_feedback", "evolution_events": "evolution_events"}
_DATACLASSES: dict[str, type] = {"reflections": m.Reflection, "tensions": m.Tension, "mirrorbacks": m.Mirrorback,
                                 "engine_runs": m.EngineRun, "engine_feedback": m.EngineFeedback,
                                 "evolution_events": m.EvolutionEvent}
_TIME_FIELDS = {"created_at", "updated_at", "timestamp"}
# Tests set this to a callable raising at a named step, to prove an interrupted sync loses nothing.
FAULT_HOOK: Callable[[str], None] | None = None


def _fault(step: str) -> None:
    if FAULT_HOOK is not None:
        FAULT_HOOK(step)


def key_user(device_id: str) -> str:
    return f"sync-key:{device_id}"


def dsn_user(device_id: str) -> str:
    return f"sync-dsn:{device_id}"


def read_passphrase_file(name: str) -> str:
    try:
        with open(name, encoding="utf-8") as fh:
            line = fh.readline()
    except FileNotFoundError:
        raise SyncUserError(f"The passphrase file {name} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SyncUserError(f"The passphrase file {name} cannot be read ({exc}); check it.") from None
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise SyncUserError(f"The passphrase file {name} is empty; put the passphrase on its first line.")
    return passphrase


@dataclass
class SyncReport:
    """What one sync did: counts for ``mirror sync now --json`` and the window, and warnings in words."""

    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    sent: dict[str, int] = field(default_factory=dict)       # by kind: sealed, clear, anonymized, summary, tombstone
    received: dict[str, int] = field(default_factory=dict)   # by entity (tombstones as "deleted")
    refused: int = 0          # tampered or replayed rows
    waiting: int = 0          # rows left in the inbox (newer Mirror, or their reflection not here yet)
    warnings: list[str] = field(default_factory=list)
    # Identities made here this sync for other devices' identity keys no one linked yet (asked once, issue 18 item 4).
    new_identities: list[dict[str, Any]] = field(default_factory=list)
    # Rows that landed this sync under keys the person has not answered for: key -> {"reflections": n, "tensions": n}.
    unlinked: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        text = f"{self.pushed} sent, {self.pulled} received, {self.conflicts} conflicts"
        return text + ("" if not self.warnings else "; " + " ".join(self.warnings))

    def warn(self, sentence: str) -> None:
        if sentence not in self.warnings:
            self.warnings.append(sentence)


def _parse_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


class SyncService:
    """Sync for one journal (an open SQLite storage)."""

    def __init__(self, storage: Any, *, passphrases: PassphraseStore | None = None) -> None:
        self.storage = storage
        self.journal = SyncJournal(storage)
        self.passphrases = passphrases or PassphraseStore()
        self._own_keys: dict[str, str] = {}

    # -- lock ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        import fcntl

        from mirror_desktop.core.safe_io import try_flock

        path = Path(str(self.storage.location) + ".sync-lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not try_flock(fd, fcntl.LOCK_EX):
                raise SyncBusy()
            yield
        finally:
            os.close(fd)

    # -- state ---------------------------------------------------------------------------------
    def is_set_up(self) -> bool:
        return self.journal.state().get("enabled") == "1"

    def _dsn(self, state: dict[str, str]) -> str:
        if state.get("dsn_in_keychain") == "1":
            full = self.passphrases.load(user=dsn_user(state["device_id"]))
            if not full:
                raise SyncUserError("The sync server's password is no longer in this computer's keychain; "
                                    "run `mirror sync setup` again.")
            return full
        return state["server"]

    def _key(self, state: dict[str, str], server: SyncServer) -> bytes:
        stored = self.passphrases.load(user=key_user(state["device_id"]))
        if stored:
            return base64.b64decode(stored)
        if state.get("passphrase_file"):
            record = server.account_record()
            if record is None:
                raise SyncError(f"The sync account is gone from {where(server.dsn)}; run `mirror sync setup` again.")
            return crypto.derive_key(read_passphrase_file(state["passphrase_file"]), record[0])
        raise SyncUserError("This device's sync key is not in its keychain any more; "
                            "run `mirror sync setup` again with the sync passphrase.")

    def status(self) -> dict[str, Any]:
        return local_status(self.storage)

    # -- setup and leave -----------------------------------------------------------------------
    def setup(self, dsn: str, passphrase: str, *, device_name: str | None = None,
              passphrase_file: str | None = None, session_ok: bool = False) -> dict[str, Any]:
        """Join (or create) this role's sync account on the server; refuses a wrong passphrase, writing nothing.

        ``session_ok`` (the window): without a keychain the key may stay in memory for this session only.
        """
        if getattr(self.storage, "dialect", "") != "sqlite":
            raise SyncUserError("Only an SQLite journal can sync between devices; each device keeps its own journal file.")
        state = self.journal.state()
        if state.get("enabled") == "1":
            raise SyncUserError(f"This journal already syncs with {state.get('server')}; "
                                "run `mirror sync leave` first to set up another server.")
        with self._lock(), SyncServer(dsn) as server:
            server.migrate()
            record = server.account_record()
            created = False
            if record is None:
                if len(passphrase) < MIN_PASSPHRASE_LENGTH:
                    raise SyncUserError(f"The sync passphrase is shorter than {MIN_PASSPHRASE_LENGTH} characters; "
                                        "choose a longer one (several unrelated words). Nothing was set up.")
                kdf = crypto.new_kdf()
                key = crypto.derive_key(passphrase, kdf)
                created = server.create_account(kdf, crypto.RowSealer(key, server.account).key_check())
                if not created:  # another device of this account got there first: join it instead
                    record = server.account_record()
            if record is not None:
                key = crypto.derive_key(passphrase, record[0])
                if not crypto.RowSealer(key, server.account).verify_key_check(record[1]):
                    raise WrongSyncPassphrase()
            device_id = uuid.uuid4().hex[:16]
            where_key = self.passphrases.save(base64.b64encode(key).decode(), user=key_user(device_id))
            if where_key != "keychain" and not passphrase_file and not session_ok:
                self.passphrases.forget(user=key_user(device_id))
                raise SyncUserError("No secure keychain is available to keep the sync key on this computer; "
                                    "run setup with --passphrase-file F (Mirror reads it at each sync). Nothing was set up.")
            if where_key != "keychain" and passphrase_file:
                self.passphrases.forget(user=key_user(device_id))
            shown = safe_dsn(dsn)
            dsn_in_keychain = has_password(dsn)
            if dsn_in_keychain and self.passphrases.save(dsn, user=dsn_user(device_id)) != "keychain":
                self.passphrases.forget(user=dsn_user(device_id))
                raise SyncUserError("The server address holds a password and no secure keychain can keep it; "
                                    "put the password in ~/.pgpass instead and give the address without it.")
            self.journal.enable(
                device_id=device_id, device_name=(device_name or platform.node() or "this device").strip()[:100],
                server=shown if dsn_in_keychain else dsn, account=server.account, cursor=0,
                clock=str(Stamp(0, 0, device_id)), dsn_in_keychain="1" if dsn_in_keychain else None,
                passphrase_file=str(Path(passphrase_file).resolve()) if passphrase_file and where_key != "keychain" else None,
                key_kept="keychain" if where_key == "keychain" else "passphrase_file" if passphrase_file else "session")
        return {"server": shown, "account": server.account, "device_id": device_id,
                "device": self.journal.state().get("device_name"), "created_account": created,
                "pending_changes": self.journal.pending_count()}

    def leave(self) -> dict[str, Any]:
        """This device stops syncing: its books and key are forgotten; its journal stays."""
        state = self.journal.state()
        if state.get("enabled") != "1":
            raise SyncUserError("This journal does not sync; there is nothing to leave.")
        with self._lock():
            self.journal.disable()
        if state.get("device_id"):
            self.passphrases.forget(user=key_user(state["device_id"]))
            self.passphrases.forget(user=dsn_user(state["device_id"]))
        return {"left": state.get("server"), "device": state.get("device_name")}

    # -- identity links ------------------------------------------------------------------------
    def _identity_key(self, identity_id: str) -> str:
        for key, local in self._links.items():
            if local == identity_id:
                return key
        return self._sealer.identity_key(identity_id)

    def _is_own(self, key: str) -> bool:
        if not self._own_keys:
            self._own_keys = {self._sealer.identity_key(i.id): i.id for i in self.storage.identities.list()}
        return key in self._own_keys

    def _identity_for(self, key: str | None, entity: str, new_row: bool, report: SyncReport) -> str | None:
        """The local identity a row carrying another device's identity ``key`` lands in.

        A key no one linked yet lands in an identity made here for it ("From another device"): nothing
        waits unseen, and the window asks once, at the first sync the person starts, where it should go
        (answering moves what landed). Counts per key feed that question and ``mirror sync identities``.
        """
        if not key:
            return None
        if self._is_own(key) and key not in self._links:
            return self._own_keys[key]
        if new_row:
            self._key_counts[(key, entity)] = self._key_counts.get((key, entity), 0) + 1
        local = self._links.get(key)
        if local is None or self.storage.identities.find(local) is None:
            from mirror_desktop.core.services import JournalService

            names = {i.name for i in self.storage.identities.list()}
            name, n = "From another device", 1
            while name in names:
                n += 1
                name = f"From another device {n}"
            ident = JournalService(self.storage).create_identity(name)
            self.journal.link(key, ident.id)
            self.journal.note_identity_key(key, made_identity=ident.id)
            self._links[key] = local = ident.id
            report.new_identities.append({"identity_key": key, "identity_id": ident.id, "name": name})
        if key not in self._answered:
            got = report.unlinked.setdefault(key, {"reflections": 0, "tensions": 0})
            got[entity] = got.get(entity, 0) + 1
        return local

    def resolve_identity_key(self, text: str) -> str:
        """Another device's identity key from its full text or a unique beginning (at least 4 characters)."""
        key = text.strip()
        keys = set(self.journal.identity_keys())
        if key in keys:
            return key
        found = [k for k in keys if len(key) >= 4 and k.startswith(key)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise SyncUserError(f"{len(found)} identities from other devices begin with {key!r}; give more of the key "
                                "(`mirror sync identities` lists them). Nothing was changed.")
        raise SyncUserError(f"No identity from another device has the key {key!r} here; `mirror sync identities` lists "
                            "the keys this device received. Nothing was changed.")

    def identity_keys(self) -> list[dict[str, Any]]:
        """Other devices' identity keys seen here: counts received, the local identity each goes to, answered or not."""
        out = []
        for key, info in sorted(self.journal.identity_keys().items()):
            ident = self.storage.identities.find(info.identity_id) if info.identity_id else None
            out.append({"identity_key": key, "reflections": info.reflections, "tensions": info.tensions,
                        "identity_id": ident.id if ident else None, "name": ident.name if ident else None,
                        "answered": info.answered})
        return out

    def identity_links(self) -> list[dict[str, Any]]:
        """The other devices' identities that landed here, and the local identity each went to."""
        out = []
        for key, local in sorted(self.journal.links().items()):
            ident = self.storage.identities.find(local)
            out.append({"identity_key": key, "identity_id": local, "name": ident.name if ident else None})
        return out

    def incoming_identities(self) -> list[dict[str, Any]]:
        """Pull (into the inbox, applying nothing) and say which identity keys wait for the person's answer.

        The window calls this before a sync the person started: a key this device has never been told
        about, whether its rows already landed in an identity made for it or still wait in the inbox, is
        listed with how many reflections and tensions it carries. Answered keys are not listed again.
        """
        state = self.journal.state()
        if state.get("enabled") != "1":
            raise SyncUserError("This journal is not set up to sync; run `mirror sync setup --postgres DSN` first.")
        waiting: dict[str, dict[str, set[str]]] = {}
        with self._lock(), SyncServer(self._dsn(state)) as server:
            self._open(server, state)
            self._pull(server, SyncReport())
            order = self.journal.inbox_order(crypto.FORMAT)
            for i in range(0, len(order), APPLY_BATCH):
                rows = [r for r in self.journal.inbox_rows(order[i:i + APPLY_BATCH])
                        if r.entity in ("reflections", "tensions") and r.kind not in ("tombstone", "anonymized")]
                known = self.journal.known_many([(r.entity, r.row_id) for r in rows])
                for r in rows:
                    if (r.entity, r.row_id) in known:
                        continue  # received before: counted then
                    try:
                        data = json.loads(self._sealer.open(r.entity, r.row_id, r.version, r.kind, r.format,
                                                            r.payload, r.tag) or b"{}")
                    except (crypto.TamperedRow, ValueError):
                        continue  # the sync itself refuses and counts it
                    key = data.get("identity_key") if isinstance(data, dict) else None
                    if key and not self._is_own(key):
                        waiting.setdefault(key, {"reflections": set(), "tensions": set()})[r.entity].add(r.row_id)
        out = []
        keys = self.journal.identity_keys()
        for key in sorted(set(keys) | set(waiting)):
            info = keys.get(key)
            if info is not None and info.answered:
                continue
            ident = self.storage.identities.find(info.identity_id) if info is not None and info.identity_id else None
            w = waiting.get(key, {})
            out.append({"identity_key": key,
                        "reflections": (info.reflections if info else 0) + len(w.get("reflections", ())),
                        "tensions": (info.tensions if info else 0) + len(w.get("tensions", ())),
                        "identity_id": ident.id if ident else None, "name": ident.name if ident else None})
        return out

    def link_identity(self, identity_key: str, identity_id: str) -> int:
        """Send another device's identity to a local one (moving what already landed); returns rows moved.

        The person's answer: the key is never asked about again. An identity sync made for the key goes
        when nothing is left in it; an identity the person made is never removed.
        """
        self.storage.identities.get(identity_id)
        info = self.journal.identity_keys().get(identity_key)
        links = self.journal.links()
        # The move files rows already here under another local identity; their content and their identity key are
        # what the account has, so nothing is queued to send (sent, a row another device deleted came back).
        with self.journal.applying():
            moved = 0
            old = links.get(identity_key)
            if old and old != identity_id:
                moved = self.journal.move_identity(old, identity_id)
            self.journal.link(identity_key, identity_id)
            self.journal.answer_identity(identity_key)
            made = info.made_identity if info is not None else None
            if made and made != identity_id and made not in self.journal.links().values() \
                    and self.storage.identities.find(made) is not None \
                    and not self.storage.reflections.count_filtered(SearchFilters(identity_id=made)):
                self.storage.identities.delete(made)
        self._links = self.journal.links()
        return moved

    def new_identity(self, identity_key: str, name: str) -> dict[str, Any]:
        """Another device's identity goes to a new local identity called ``name`` (the one sync made, renamed)."""
        from mirror_desktop.core.services import JournalService

        journal = JournalService(self.storage)
        info = self.journal.identity_keys().get(identity_key)
        made = info.made_identity if info is not None else None
        with self.storage.transaction():
            if made and info is not None and info.identity_id == made and self.storage.identities.find(made) is not None:
                ident = journal.update_identity(made, name=name)
                self.journal.answer_identity(identity_key)
                moved = 0
            else:
                ident = journal.create_identity(name)
                moved = self.link_identity(identity_key, ident.id)
        self._links = self.journal.links()
        return {"identity_key": identity_key, "identity_id": ident.id, "name": ident.name, "moved": moved}

    def answer_identities(self, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The window's answers at once: each ``{"identity_key", "identity_id"}`` or ``{"identity_key", "name"}``.

        Every new name is checked first, so a bad one changes nothing.
        """
        from mirror_desktop.core.errors import ValidationError
        from mirror_desktop.core.services import JournalService

        journal = JournalService(self.storage)
        seen: set[str] = set()
        for a in answers:
            if a.get("identity_id"):
                self.storage.identities.get(a["identity_id"])
                continue
            info = self.journal.identity_keys().get(a["identity_key"])
            own = info.made_identity if info is not None and info.identity_id == info.made_identity else None
            name = journal._identity_name(str(a.get("name") or ""), own)
            folded = " ".join(name.split()).casefold()
            if folded in seen:
                raise ValidationError("identity", "metadata.name", "must be unique",
                                      f"Two new identities are called “{name}”; give each its own name.")
            seen.add(folded)
        out = []
        with self.storage.transaction():
            for a in answers:
                if a.get("identity_id"):
                    moved = self.link_identity(a["identity_key"], a["identity_id"])
                    ident = self.storage.identities.get(a["identity_id"])
                    out.append({"identity_key": a["identity_key"], "identity_id": ident.id, "name": ident.name,
                                "moved": moved})
                else:
                    out.append(self.new_identity(a["identity_key"], str(a["name"])))
        return out

    # -- one sync ------------------------------------------------------------------------------
    def sync_now(self) -> SyncReport:
        state = self.journal.state()
        if state.get("enabled") != "1":
            raise SyncUserError("This journal is not set up to sync; run `mirror sync setup --postgres DSN` first.")
        report = SyncReport()
        with self._lock():
            try:
                self._sync(state, report)
            except SyncError as exc:
                self.journal.set_state(last_error=str(exc))
                raise
            now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            self.journal.set_state(last_sync=now, last_error=None, last_result=report.summary())
        return report

    def _open(self, server: SyncServer, state: dict[str, str]) -> None:
        """Check the account and this device's key against the server; ready the sealer and the books."""
        server.migrate()
        record = server.account_record()
        if record is None:
            raise SyncError(f"The sync account is gone from {where(server.dsn)}; run `mirror sync leave`, "
                            "then `mirror sync setup` again. Nothing was lost here.")
        key = self._key(state, server)
        self._sealer = crypto.RowSealer(key, server.account)
        if not self._sealer.verify_key_check(record[1]):
            raise SyncUserError("This device's sync key no longer matches the account on the server "
                                "(was it set up again with another passphrase?); run `mirror sync leave`, then setup. "
                                "Nothing was sent.")
        self.device = state["device_id"]
        self.clock = Clock(self.device, state.get("clock"))
        self._links = self.journal.links()
        self._answered = {k for k, v in self.journal.identity_keys().items() if v.answered}
        self._own_keys = {}

    def _sync(self, state: dict[str, str], report: SyncReport) -> None:
        with SyncServer(self._dsn(state)) as server:
            self._open(server, state)
            self._own_max = 0
            self._summary_dirty = False
            for _round in range(MAX_ROUNDS):
                self._pull(server, report)
                self._apply_inbox(report)
                if not self._push(server, report):
                    break
            # What other devices pushed while this one pushed; after it, no row of another device below this
            # device's last seq is still unseen (pushes are serialised per account), so the cursor may pass
            # this device's own rows and the next sync starts there.
            cursor = self._pull(server, report)
            self._apply_inbox(report)
            if self._own_max > cursor:
                self.journal.set_state(cursor=self._own_max)
            waiting, newer = self.journal.inbox_counts(crypto.FORMAT)
            report.waiting = waiting
            if newer:
                report.warn(f"{newer} changes come from a newer Mirror (row format {self.journal.newest_format()}); "
                            "update Mirror on this device to receive them, they wait here until then.")
            self._warn_unlinked(report)
            if report.refused:
                report.warn(f"{report.refused} rows on the server failed their integrity check or were older copies "
                            "(altered or replayed); they were ignored and nothing here changed.")

    def _warn_unlinked(self, report: SyncReport) -> None:
        """One sentence on where rows of identities no one linked yet went (they are never held back)."""
        if not report.unlinked:
            return
        n_ref = sum(c.get("reflections", 0) for c in report.unlinked.values())
        n_ten = sum(c.get("tensions", 0) for c in report.unlinked.values())
        what = " and ".join(p for p in (f"{n_ref} reflection{'s' if n_ref != 1 else ''}" if n_ref else "",
                                          f"{n_ten} tension{'s' if n_ten != 1 else ''}" if n_ten else "") if p)
        names = sorted({f"“{i.name}”" for key in report.unlinked
                        if (i := self.storage.identities.find(self._links.get(key, ""))) is not None})
        keys = len(report.unlinked)
        report.warn(f"{what} of {keys} identit{'ies' if keys != 1 else 'y'} from your other devices that you have not "
                    f"linked here landed in {', '.join(names)}; `mirror sync identities` lists them and "
                    "`mirror sync link KEY NAME` (or File → Sync…) sends them to one of yours.")

    # -- pull ----------------------------------------------------------------------------------
    def _pull(self, server: SyncServer, report: SyncReport) -> int:
        """Other devices' rows after the cursor into the inbox; returns the cursor."""
        cursor = int(self.journal.state().get("cursor") or 0)
        while True:
            rows = server.pull(cursor, PULL_BATCH, self.device)
            if not rows:
                return cursor
            _fault("pull")
            cursor = rows[-1].seq
            self.journal.add_to_inbox(rows, cursor)

    def _apply_inbox(self, report: SyncReport) -> None:
        order = self.journal.inbox_order(crypto.FORMAT)
        for i in range(0, len(order), APPLY_BATCH):
            rows = self.journal.inbox_rows(order[i:i + APPLY_BATCH])
            keys = [(r.entity, r.row_id) for r in rows]
            self._known = self.journal.known_many(keys)
            self._changes = self.journal.changes_many(keys)
            self._existing = {e: set(getattr(self.storage, _REPOS[e]).find_many([k[1] for k in keys if k[0] == e]))
                              for e in {k[0] for k in keys} if e in _REPOS}
            self._creates: dict[str, dict[str, Any]] = {}
            self._key_counts: dict[tuple[str, str], int] = {}
            with self.journal.applying():
                done = [r.seq for r in rows if self._apply_one(r, report)]
                self._flush_creates()
                self.journal.count_identity_rows(self._key_counts)
                self.journal.remove_from_inbox(done)
                self.journal.set_state(clock=self.clock.state)
                _fault("apply")
        if report.received.get("deleted") and getattr(self.storage, "purge_deleted", None):
            self.storage.purge_deleted()  # deleted text leaves the WAL too

    def _flush_creates(self) -> None:
        """New rows of this batch in a few statements, reflections before what refers to them."""
        for entity in SYNC_ENTITIES:
            objs = list(self._creates.get(entity, {}).values())
            if objs:
                getattr(self.storage, _REPOS[entity]).create_many(objs)
                self._existing.setdefault(entity, set()).update(o.id for o in objs)
        self._creates = {}

    def _exists(self, entity: str, row_id: str) -> bool:
        if row_id in self._creates.get(entity, {}) or row_id in self._existing.get(entity, set()):
            return True
        if self.journal.exists(entity, row_id):
            self._existing.setdefault(entity, set()).add(row_id)
            return True
        return False

    def _set_known(self, row: InboxRow, deleted: bool) -> None:
        self.journal.set_known(row.entity, row.row_id, row.version, row.hlc, deleted)
        self._known[(row.entity, row.row_id)] = Known(row.version, row.hlc, deleted)

    def _drop_change(self, entity: str, row_id: str) -> None:
        self.journal.drop_changes([(entity, row_id)])
        self._changes.pop((entity, row_id), None)

    def _apply_one(self, row: InboxRow, report: SyncReport) -> bool:
        """Apply one pulled row; False leaves it in the inbox for a later sync."""
        known = self._known.get((row.entity, row.row_id))
        if known is not None and row.version <= known.version:
            if row.version < known.version:
                report.refused += 1  # an older copy than one this device already holds: a replay
            return True
        try:
            plaintext = self._sealer.open(row.entity, row.row_id, row.version, row.kind, row.format, row.payload, row.tag)
            stamp = Stamp.parse(row.hlc)
            data = json.loads(plaintext) if plaintext is not None and row.kind != "tombstone" else None
        except (crypto.TamperedRow, ValueError):
            report.refused += 1
            return True
        ahead = self.clock.receive(stamp)
        if ahead > SKEW_WARN_MS and row.device != self.device:
            report.warn(f"Another device's clock is about {round(ahead / 3_600_000)} hours ahead of this one; sync goes on, "
                        "but set both clocks right so the later edit wins conflicts.")
        deleted = row.kind == "tombstone"
        if row.entity not in SYNC_ENTITIES or row.kind in ("anonymized", "summary"):
            # Aggregates and anonymised rows are for the server's eyes; nothing of them lands in a journal.
            self._set_known(row, deleted)
            return True
        change = self._changes.get((row.entity, row.row_id))
        if change is not None and row.device == self.device and change.attempt_hlc == row.hlc:
            # This device's own push, whose answer was lost (a crash or a dropped connection): adopt it.
            self._set_known(row, deleted)
            if change.edits == change.attempt_edits:
                self._drop_change(row.entity, row.row_id)
            return True
        if change is None:
            if not self._write(row.entity, row.row_id, data, report):
                return False
        elif not self._resolve(row, data, change, stamp, report):
            return False
        self._set_known(row, deleted)
        return True

    def _resolve(self, row: InboxRow, data: dict[str, Any] | None, change: Any, remote: Stamp,
                 report: SyncReport) -> bool:
        """Both this device and another changed the row since they last agreed."""
        if data is None:  # deleted there, edited here: the edit wins and is sent again
            if change.deleted:
                self._drop_change(row.entity, row.row_id)
            return True
        if change.deleted:  # deleted here, edited there: nothing typed is lost, the edit comes back
            self._drop_change(row.entity, row.row_id)
            return self._write(row.entity, row.row_id, data, report)
        local_stamp = (Stamp.parse(change.attempt_hlc) if change.attempt_hlc and change.attempt_edits == change.edits
                       else Stamp(change.changed_ms, 0, self.device))
        remote_later = remote > local_stamp
        if row.entity == "reflections":
            local = self.storage.reflections.find(row.row_id)
            if local is None:
                self._drop_change(row.entity, row.row_id)
                return self._write(row.entity, row.row_id, data, report)
            if local.content != data.get("content"):
                loser_text = local.content if remote_later else str(data.get("content"))
                copy_id = str(uuid.uuid5(CONFLICT_NS, f"{row.row_id}|{row.hlc}|{local_stamp}"))
                if self.storage.reflections.find(copy_id) is None:
                    meta = dict(local.metadata or {})
                    meta.update({"conflict_of": row.row_id, "conflict_at": datetime.now(UTC).isoformat()})
                    meta.pop("word_count", None)
                    copy = dataclasses.replace(local, id=copy_id, content=loser_text, metadata=meta)
                    self.storage.reflections.create(copy)
                    self.journal.mark_changed("reflections", copy_id)
                    report.conflicts += 1
        if remote_later:
            self._drop_change(row.entity, row.row_id)
            return self._write(row.entity, row.row_id, data, report)
        return True  # this device's edit is later: it stays in place and goes out on this sync's push

    def _write(self, entity: str, row_id: str, data: dict[str, Any] | None, report: SyncReport) -> bool:
        repo = getattr(self.storage, _REPOS[entity])
        pending = self._creates.setdefault(entity, {})
        existing = self._existing.setdefault(entity, set())
        if data is None:
            pending.pop(row_id, None)
            if row_id in existing:
                repo.delete(row_id)
                existing.discard(row_id)
            report.pulled += 1
            report.received["deleted"] = report.received.get("deleted", 0) + 1
            return True
        dc = _DATACLASSES[entity]
        names = {f.name for f in dataclasses.fields(dc)}
        values = {k: (_parse_time(v) if k in _TIME_FIELDS else v) for k, v in data.items() if k in names}
        values["id"] = row_id
        if entity in ("reflections", "tensions"):
            new_row = row_id not in existing and row_id not in pending
            values["identity_id"] = self._identity_for(data.get("identity_key"), entity, new_row, report)
        if entity == "mirrorbacks" and not self._exists("reflections", str(values.get("reflection_id", ""))):
            return False  # its reflection has not arrived yet: wait in the inbox
        if entity == "engine_feedback" and not self._exists("engine_runs", str(values.get("engine_run_id", ""))):
            return False
        if entity == "engine_runs" and values.get("reflection_id") and \
                not self._exists("reflections", str(values["reflection_id"])):
            values["reflection_id"] = None
        obj = dc(**values)
        if row_id in existing and row_id not in pending:
            repo.update(obj)
        else:
            pending[row_id] = obj  # inserted with the batch's other new rows
        report.pulled += 1
        report.received[entity] = report.received.get(entity, 0) + 1
        return True

    # -- push ----------------------------------------------------------------------------------
    def _push(self, server: SyncServer, report: SyncReport) -> int:
        """Send every pending change; returns how many the server refused as stale (conflicts to pull)."""
        stale = 0
        after = ("", "")
        while True:
            changes = self.journal.pending(PUSH_BATCH, after)
            if not changes:
                break
            after = (changes[-1].entity, changes[-1].row_id)
            known = self.journal.known_many([(c.entity, c.row_id) for c in changes])
            rows: dict[str, dict[str, Any]] = {
                e: getattr(self.storage, _REPOS[e]).find_many([c.row_id for c in changes if c.entity == e and not c.deleted])
                for e in {c.entity for c in changes} if e in _REPOS}
            reflections = dict(rows.get("reflections", {}))
            parents = [o.reflection_id for e in ("mirrorbacks", "engine_runs") for o in rows.get(e, {}).values()
                       if o.reflection_id and o.reflection_id not in reflections]
            reflections.update(self.storage.reflections.find_many(parents))
            out: list[tuple[str, str, int, str, str, bytes | None, bytes]] = []
            attempts: list[tuple[str, str, str, int]] = []
            drops: list[tuple[str, str]] = []
            for c in changes:
                if c.entity in ("reflections", "engine_runs"):
                    self._summary_dirty = True
                if c.entity not in SYNC_ENTITIES:
                    drops.append((c.entity, c.row_id))
                    continue
                k = known.get((c.entity, c.row_id))
                obj = None if c.deleted else rows.get(c.entity, {}).get(c.row_id)
                decision = None if obj is None else sync_outbound(self.storage, c.entity, obj, self._identity_key,
                                                                  reflections)
                if decision is None:
                    if k is None or k.deleted:
                        drops.append((c.entity, c.row_id))  # never left this device: nothing to take back
                        continue
                    kind, plaintext = "tombstone", None  # deleted, or no longer allowed to leave: take it back
                else:
                    kind = decision.kind
                    plaintext = json.dumps(decision.fields, sort_keys=True, ensure_ascii=False).encode()
                version = (k.version if k else 0) + 1
                hlc = (c.attempt_hlc if c.attempt_hlc and c.attempt_edits == c.edits
                       else str(self.clock.send(c.changed_ms)))
                payload, tag = self._sealer.seal(c.entity, c.row_id, version, kind, plaintext)
                out.append((c.entity, c.row_id, version, hlc, kind, payload, tag))
                attempts.append((c.entity, c.row_id, hlc, c.edits))
            with self.storage.transaction():
                self.journal.drop_changes(drops)
                self.journal.mark_attempts(attempts)
                self.journal.set_state(clock=self.clock.state)
            _fault("before-push")
            accepted = server.push(self.device, out, crypto.FORMAT)
            _fault("after-push")
            sent = [(e, i, v, h, kind == "tombstone") for (e, i, v, h, kind, _p, _t) in out if (e, i) in accepted]
            self.journal.mark_sent(sent)
            self._own_max = max([self._own_max, *accepted.values()])
            for (e, i, _v, _h, kind, _p, _t) in out:
                if (e, i) in accepted:
                    report.pushed += 1
                    report.sent[kind] = report.sent.get(kind, 0) + 1
            refused = [(e, i) for (e, i, *_rest) in out if (e, i) not in accepted]
            if refused:
                # Changed on the server since this device last saw them (another device, or this device's own
                # push whose answer was lost): fetch them now; the next round resolves them.
                self.journal.add_to_inbox(server.fetch(refused), None)
            stale += len(refused)
        return stale + self._push_summary(server, report)

    def _push_summary(self, server: SyncServer, report: SyncReport) -> int:
        """The one aggregate row ``sync_summary`` allows, sent when it changed."""
        if not self._summary_dirty and "summary_digest" in self.journal.state():
            return 0  # no reflection or engine run changed since the last one was sent
        self._summary_dirty = False
        decision = sync_summary_outbound(self.storage)
        k = self.journal.known(SUMMARY_ENTITY, self.device)
        if decision is None and (k is None or k.deleted):
            # Remembered, so the next sync skips this until a reflection or engine run changes.
            self.journal.set_state(summary_digest="none")
            return 0
        plaintext = None if decision is None else json.dumps(decision.fields, sort_keys=True).encode()
        digest = "none" if plaintext is None else base64.b64encode(__import__("hashlib").sha256(plaintext).digest()).decode()
        state = self.journal.state()
        if state.get("summary_digest") == digest and k is not None:
            return 0
        kind = "tombstone" if decision is None else "summary"
        version = (k.version if k else 0) + 1
        hlc = str(self.clock.send())
        payload, tag = self._sealer.seal(SUMMARY_ENTITY, self.device, version, kind, plaintext)
        accepted = server.push(self.device, [(SUMMARY_ENTITY, self.device, version, hlc, kind, payload, tag)], crypto.FORMAT)
        if not accepted:
            self.journal.add_to_inbox(server.fetch([(SUMMARY_ENTITY, self.device)]), None)
            return 1
        self._own_max = max([self._own_max, *accepted.values()])
        with self.storage.transaction():
            self.journal.set_known(SUMMARY_ENTITY, self.device, version, hlc, decision is None)
            self.journal.set_state(summary_digest=digest, clock=self.clock.state)
        report.pushed += 1
        report.sent[kind] = report.sent.get(kind, 0) + 1
        return 0


def open_service(path: str | Path) -> SyncService:
    """A SyncService on its own connection to the journal file (the window's sync thread)."""
    from mirror_desktop.storage.journal import SQLiteStorage

    return SyncService(SQLiteStorage(path, migrate=False, create=False))
