"""Use cases of the tension map (spec sections 6 and 7): seeds, editing, moves with history, undo, suggestions.

The window, the CLI and the tests all drive this one service; it holds every rule about tensions so
widgets hold none (STYLE.md, habit 5). It runs on the caller's thread; the window calls it only from
its database executor.

Decisions, because the spec leaves them open:

* **Seeds are global.** The default tensions and axes (``resources/seeds/tensions.json``) are created
  once per journal with ``identity_id`` NULL, and every identity's map shows them next to the
  tensions made under that identity. A pull such as Control vs Surrender belongs to the person, not to
  one of their roles: copying seeds per identity would split one history into several, make the
  engine surface a different id depending on which role wrote, and multiply rows with every new
  identity. Someone who wants a role-specific tension creates it while that identity is selected.
  (The schema agrees: deleting an identity sets its tensions' identity_id to NULL, i.e. global.)
* **Seeding happens once.** ``ensure_seeds`` records what it created as an ``installation`` event in
  ``evolution_events`` (spec 12: lifecycle events) with the seed keys. A later call only adds keys
  never seeded before, so a seed the person deleted stays deleted, and a future seed file can add new
  ones.
* **Tension → axis link.** The spec has no column for it, so a tension stores the id of its axis in
  ``metadata["axis_id"]`` (absent or unknown: the tension shows under "Unsorted"). An axis keeps its
  colour in ``metadata["visual_color"]`` as the spec's suggested metadata does.
* **History.** Every move appends ``{"date", "position", "intensity"}`` to
  ``metadata["position_history"]``, where ``date`` is a full ISO 8601 UTC timestamp (the spec's example
  shows a day; a day alone cannot order two moves on one evening). ``updated_at`` is the time of the
  last position/intensity change (spec 6), so renaming a tension does not touch it.
* **Suggestions.** Tensions with origin ``llm_suggested`` carry ``metadata["suggestion_status"]``:
  ``pending`` (listed as a suggestion, not on the map), ``accepted`` (on the map; origin keeps saying how
  it was discovered) or ``dismissed`` (kept, hidden, so the same suggestion is not offered again).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import LifecycleEventType, SyncMode, TensionOrigin
from mirror_desktop.core.errors import JobCancelled, NotFoundError, ValidationError
from mirror_desktop.core.models import SearchFilters, utc_now
from mirror_desktop.core.validation import TENSION_NAME_MAX

SEED_EVENT_KIND = "tensions"
POSITION_MIN, POSITION_MAX = -1.0, 1.0
INTENSITY_MIN, INTENSITY_MAX = 0.0, 1.0
DEFAULT_AXIS_COLOR = "#8A94A6"
PENDING, ACCEPTED, DISMISSED = "pending", "accepted", "dismissed"
_ROUND = 4  # stored precision: keeps 0.15 from becoming 0.15000000000000002
_UNSET: Any = object()


def load_seed_data() -> dict[str, Any]:
    """The parsed ``resources/seeds/tensions.json``."""
    try:
        from mirror_desktop.resources import resource

        text = resource("seeds", "tensions.json").read_text(encoding="utf-8")
    except (ImportError, TypeError, FileNotFoundError):
        # In a source checkout the module mirror_desktop/resources.py shadows the data package of
        # the same name, so importlib.resources cannot find it; read the top-level folder instead.
        text = (Path(__file__).resolve().parents[2] / "resources" / "seeds" / "tensions.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def seed_key_of(row: m.Tension | m.Axis) -> str | None:
    """The ``seed_key`` of a seeded tension or axis (None for the person's own)."""
    key = (row.metadata or {}).get("seed_key")
    return str(key) if key else None


def _seed_tensions(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(tn["key"]): tn for ax in data.get("axes", []) for tn in ax.get("tensions", [])}


def is_untouched_seed(t: m.Tension, seeds: dict[str, Any] | None = None) -> bool:
    """Whether ``t`` is a default tension exactly as seeded: never moved, renamed or re-poled.

    A moved seed carries the person's own history, so it counts as something they made (issue 11, item 8).
    """
    key = seed_key_of(t)
    if key is None or str(t.origin) != TensionOrigin.SYSTEM_SEED.value:
        return False
    seed = _seed_tensions(seeds if seeds is not None else load_seed_data()).get(key)
    if seed is None:
        return False
    meta = t.metadata or {}
    return (not meta.get("position_history") and t.position == 0.0 and t.intensity == 0.5
            and (t.name, t.axis_a, t.axis_b) == (seed["name"], seed["axis_a"], seed["axis_b"]))


def history_stamp(when: datetime) -> str:
    """How a moment is written into position_history: ISO 8601, UTC, milliseconds."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_stamp(text: Any) -> datetime | None:
    """A position_history date back to an aware datetime (a bare day counts as its midnight UTC)."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def axis_id_of(tension: m.Tension) -> str | None:
    """The axis a tension belongs to (``metadata["axis_id"]``), if any."""
    value = (tension.metadata or {}).get("axis_id")
    return value if isinstance(value, str) and value else None


def axis_color(axis: m.Axis | None) -> str:
    """An axis's colour (``metadata["visual_color"]``) or a neutral grey."""
    value = ((axis.metadata if axis else None) or {}).get("visual_color")
    return value if isinstance(value, str) and value.startswith("#") else DEFAULT_AXIS_COLOR


def suggestion_status(tension: m.Tension) -> str | None:
    """``pending``/``accepted``/``dismissed`` for llm_suggested tensions, None for the others."""
    if tension.origin != TensionOrigin.LLM_SUGGESTED:
        return None
    status = (tension.metadata or {}).get("suggestion_status")
    return status if status in (ACCEPTED, DISMISSED) else PENDING


def on_map(tension: m.Tension) -> bool:
    """Whether a tension is drawn on the map (suggestions wait until accepted)."""
    return suggestion_status(tension) in (None, ACCEPTED)


@dataclass(frozen=True)
class HistoryPoint:
    """One entry of a tension's position history."""

    when: datetime
    position: float | None
    intensity: float | None


@dataclass(frozen=True)
class RelatedReflection:
    """A reflection in which a tension was surfaced by the engine or its pole words appear."""

    reflection_id: str
    created_at: datetime
    excerpt: str
    surfaced: bool
    mentioned: bool


@dataclass(frozen=True)
class MoveResult:
    """What a move did: the tension before and after (``before`` is what undo restores)."""

    before: m.Tension
    after: m.Tension

    @property
    def changed(self) -> bool:
        return (self.before.position, self.before.intensity) != (self.after.position, self.after.intensity)


@dataclass(frozen=True)
class AxisGroup:
    """One section of the map: an axis (None for "Unsorted") and its tensions in order."""

    axis: m.Axis | None
    tensions: list[m.Tension] = field(default_factory=list)


@dataclass(frozen=True)
class TensionMapData:
    """Everything the map view shows for one identity scope, read in one job."""

    groups: list[AxisGroup]
    axes: list[m.Axis]
    suggestions: list[m.Tension]


def _check_range(fld: str, value: Any, lo: float, hi: float) -> float:
    label = fld.capitalize()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        raise ValidationError("tension", fld, f"must be a number between {lo:g} and {hi:g}",
                              f"{label} must be a number between {lo:g} and {hi:g} (got {value!r}).")
    if not lo <= value <= hi:
        raise ValidationError("tension", fld, f"must be between {lo:g} and {hi:g}",
                              f"{label} must be between {lo:g} and {hi:g} (got {value:g}); nothing was changed.")
    return round(float(value), _ROUND) + 0.0  # + 0.0 turns -0.0 into 0.0


def _clean_text(entity: str, fld: str, label: str, value: str | None, max_len: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(entity, fld, "cannot be empty", f"{label} cannot be empty.")
    if max_len is not None and len(text) > max_len:
        raise ValidationError(entity, fld, f"must be at most {max_len} characters",
                              f"{label} must be at most {max_len} characters (it has {len(text)}).")
    return text


def _clean_color(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) != 7 or not text.startswith("#") or any(c not in "0123456789abcdefABCDEF" for c in text[1:]):
        raise ValidationError("axis", "metadata.visual_color", "must be a #RRGGBB colour",
                              f"An axis colour must look like #4A90E2 (got {value!r}).")
    return text.upper()


class TensionService:
    """Tensions and axes of one journal: the use cases behind the map, the CLI and the engine."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    # -- seeds ---------------------------------------------------------------------------
    def ensure_seeds(self, initial_mode: str = "manual") -> int:
        """Create the default axes and tensions not seeded before; returns how many rows were made.

        ``initial_mode``: the engine mode the person has chosen (``engine_mode``), which a new journal's
        ``installation`` event records.
        """
        data = load_seed_data()
        S = self.storage
        with S.transaction():
            seeded: set[str] = set()
            for ev in S.evolution_events.list(event_type=LifecycleEventType.INSTALLATION.value):
                if (ev.event_data or {}).get("seeds") == SEED_EVENT_KIND:
                    seeded.update(str(k) for k in ev.event_data.get("keys") or [])
            for t in S.tensions.list():
                if (t.metadata or {}).get("seed_key"):
                    seeded.add("tension:" + str(t.metadata["seed_key"]))
            axes_by_key = {str(a.metadata["seed_key"]): a for a in S.axes.list()
                           if (a.metadata or {}).get("seed_key")}
            for k in axes_by_key:
                seeded.add("axis:" + k)

            base = utc_now()
            tick = iter(range(10_000))  # distinct created_at values keep the file's order on the map
            made: list[str] = []
            for ax in data["axes"]:
                akey = "axis:" + ax["key"]
                axis = axes_by_key.get(ax["key"])
                if axis is None and akey not in seeded:
                    axis = S.axes.create(m.Axis(
                        name=ax["name"], description=ax.get("description"), category=ax.get("category"),
                        created_at=base + timedelta(milliseconds=next(tick)),
                        metadata={"seed_key": ax["key"], "visual_color": ax.get("color", DEFAULT_AXIS_COLOR),
                                  "examples": list(ax.get("examples") or []),
                                  "related_tensions": [t["key"] for t in ax.get("tensions", [])]}))
                    made.append(akey)
                for tn in ax.get("tensions", []):
                    tkey = "tension:" + tn["key"]
                    if tkey in seeded:
                        continue
                    meta: dict[str, Any] = {"seed_key": tn["key"], "position_history": []}
                    if axis is not None:
                        meta["axis_id"] = axis.id
                    if tn.get("description"):
                        meta["description"] = tn["description"]
                    stamp = base + timedelta(milliseconds=next(tick))
                    S.tensions.create(m.Tension(
                        name=tn["name"], axis_a=tn["axis_a"], axis_b=tn["axis_b"], position=0.0, intensity=0.5,
                        origin=TensionOrigin.SYSTEM_SEED, sync_mode=SyncMode.LOCAL_ONLY, metadata=meta,
                        created_at=stamp, updated_at=stamp))
                    made.append(tkey)
            if made:
                from mirror_desktop.core.lifecycle import ensure_installation, record_event

                ensure_installation(S, initial_mode)   # the journal's installation event and signing key (issue 17), once
                record_event(S, LifecycleEventType.INSTALLATION,
                             {"seeds": SEED_EVENT_KIND, "version": data.get("version", 1), "keys": made})
        return len(made)

    # -- reading -------------------------------------------------------------------------
    @staticmethod
    def _in_scope(identity_id: str | None, row_identity: str | None, anonymous: bool) -> bool:
        """Global rows show everywhere; an identity's rows show under it (and under "all")."""
        if row_identity is None:
            return True
        if anonymous:
            return False
        return identity_id is None or row_identity == identity_id

    def get(self, tension_id: str) -> m.Tension:
        return self.storage.tensions.get(tension_id)

    def list_axes(self, identity_id: str | None = None, *, anonymous: bool = False) -> list[m.Axis]:
        return [a for a in self.storage.axes.list() if self._in_scope(identity_id, a.identity_id, anonymous)]

    def list_tensions(self, identity_id: str | None = None, *, anonymous: bool = False,
                      include_suggestions: bool = False) -> list[m.Tension]:
        """Tensions in scope, oldest first; pending/dismissed suggestions only when asked."""
        return [t for t in self.storage.tensions.list()
                if self._in_scope(identity_id, t.identity_id, anonymous) and (include_suggestions or on_map(t))]

    def suggestions(self, identity_id: str | None = None, *, anonymous: bool = False) -> list[m.Tension]:
        """Pending llm_suggested tensions in scope, newest first."""
        rows = [t for t in self.storage.tensions.list(origin=TensionOrigin.LLM_SUGGESTED.value)
                if self._in_scope(identity_id, t.identity_id, anonymous) and suggestion_status(t) == PENDING]
        return sorted(rows, key=lambda t: t.created_at, reverse=True)

    def map_data(self, identity_id: str | None = None, *, anonymous: bool = False) -> TensionMapData:
        """The map grouped by axis (axes in creation order, "Unsorted" last) plus pending suggestions."""
        axes = self.list_axes(identity_id, anonymous=anonymous)
        by_axis: dict[str | None, list[m.Tension]] = {a.id: [] for a in axes}
        loose: list[m.Tension] = []
        for t in self.list_tensions(identity_id, anonymous=anonymous):
            aid = axis_id_of(t)
            (by_axis[aid] if aid in by_axis else loose).append(t)
        groups = [AxisGroup(a, by_axis[a.id]) for a in axes]
        if loose:
            groups.append(AxisGroup(None, loose))
        return TensionMapData(groups, axes, self.suggestions(identity_id, anonymous=anonymous))

    def history(self, tension_id: str) -> list[HistoryPoint]:
        """The tension's moves in time order; empty if it was never moved."""
        t = self.get(tension_id)
        points = []
        for entry in (t.metadata or {}).get("position_history") or []:
            if not isinstance(entry, dict):
                continue
            when = parse_stamp(entry.get("date"))
            if when is None:
                continue
            pos, inten = entry.get("position"), entry.get("intensity")
            points.append(HistoryPoint(when, float(pos) if isinstance(pos, (int, float)) else None,
                                       float(inten) if isinstance(inten, (int, float)) else None))
        return sorted(points, key=lambda p: p.when)

    def related_reflections(self, tension_id: str, limit: int = 20, *, scan_runs: int = 5000,
                            cancel: Callable[[], bool] | None = None) -> list[RelatedReflection]:
        """Reflections where the engine surfaced the tension (engine_runs.tensions_surfaced) or a pole is
        mentioned (each pole searched as a phrase, within the tension's identity), newest first.

        Only the ``scan_runs`` most recent engine runs are read, and for each pole its most recent
        matches (``recent_mentions``: no ranking), so the cost does not grow with the journal
        (issue 12: at 100,000 reflections ranking every match took 3-7 s per tension). ``cancel``
        is asked between steps; when it returns True the call raises JobCancelled.
        """
        return self.related_reflections_many([tension_id], limit, scan_runs=scan_runs, cancel=cancel)[tension_id]

    def related_reflections_many(self, tension_ids: Sequence[str], limit: int = 20, *, scan_runs: int = 5000,
                                 cancel: Callable[[], bool] | None = None,
                                 chunk: int = 16) -> dict[str, list[RelatedReflection]]:
        """``related_reflections`` for several tensions at once: one read of the engine runs and one
        full-text statement per ``chunk`` tensions (asking ``cancel`` between chunks)."""
        def check() -> None:
            if cancel is not None and cancel():
                raise JobCancelled()

        S = self.storage
        ids = list(dict.fromkeys(tension_ids))
        tensions = {tid: self.get(tid) for tid in ids}
        check()
        found: dict[str, dict[str, dict[str, bool]]] = {tid: {} for tid in ids}
        for tid, rids in S.surfaced_in(ids, scan_runs=scan_runs).items():
            for rid in rids:
                found[tid].setdefault(rid, {"surfaced": False, "mentioned": False})["surfaced"] = True
        for start in range(0, len(ids), max(1, chunk)):
            check()
            queries: list[tuple[str, SearchFilters | None]] = []
            owners: list[str] = []
            for tid in ids[start:start + max(1, chunk)]:
                t = tensions[tid]
                filters = SearchFilters(identity_id=t.identity_id) if t.identity_id else None
                for pole in dict.fromkeys((t.axis_a.strip(), t.axis_b.strip())):
                    if pole:
                        queries.append(('"' + pole.replace('"', " ") + '"', filters))
                        owners.append(tid)
            for tid, rids in zip(owners, S.recent_mentions(queries, limit=limit), strict=True):
                for rid in rids:
                    found[tid].setdefault(rid, {"surfaced": False, "mentioned": False})["mentioned"] = True
        check()
        rows = S.reflections.find_many([rid for how in found.values() for rid in how])
        result: dict[str, list[RelatedReflection]] = {}
        for tid in ids:
            out = []
            for rid, how in found[tid].items():
                r = rows.get(rid)
                if r is None:
                    continue
                excerpt = " ".join(r.content.split())
                if len(excerpt) > 160:
                    excerpt = excerpt[:159].rstrip() + "…"
                out.append(RelatedReflection(rid, r.created_at, excerpt, how["surfaced"], how["mentioned"]))
            out.sort(key=lambda x: x.created_at, reverse=True)
            result[tid] = out[:limit]
        return result

    # -- moving and undo -----------------------------------------------------------------
    def move_tension(self, tension_id: str, position: float | None = None,
                     intensity: float | None = None) -> MoveResult:
        """Set position and/or intensity, stamp updated_at and append to position_history, in one transaction.

        Out-of-range values raise ValidationError before anything is written. A move to the values the
        tension already has writes nothing.
        """
        if position is None and intensity is None:
            raise ValidationError("tension", "position", "or intensity must be given",
                                  "Give a position (-1 to 1) or an intensity (0 to 1) to move a tension.")
        new_pos = _check_range("position", position, POSITION_MIN, POSITION_MAX) if position is not None else None
        new_int = _check_range("intensity", intensity, INTENSITY_MIN, INTENSITY_MAX) if intensity is not None else None
        with self.storage.transaction():
            before = self.get(tension_id)
            pos = new_pos if new_pos is not None else before.position
            inten = new_int if new_int is not None else before.intensity
            if (pos, inten) == (before.position, before.intensity):
                return MoveResult(before, before)
            # Never earlier than the last change, even if the system clock stepped back: the
            # history's order is the order the person moved things in.
            now = max(utc_now(), before.updated_at + timedelta(milliseconds=1))
            meta = dict(before.metadata or {})
            history = list(meta.get("position_history") or [])
            history.append({"date": history_stamp(now), "position": pos, "intensity": inten})
            meta["position_history"] = history
            after = self.storage.tensions.update(replace(before, position=pos, intensity=inten,
                                                         updated_at=now, metadata=meta))
        return MoveResult(before, after)

    def restore_tension(self, previous: m.Tension) -> m.Tension:
        """Undo: put back position, intensity, updated_at and position_history as they were in ``previous``.

        Other metadata (notes, links the engine added since) keeps its current value.
        """
        with self.storage.transaction():
            current = self.get(previous.id)
            meta = dict(current.metadata or {})
            old_history = (previous.metadata or {}).get("position_history")
            meta["position_history"] = list(old_history or [])
            return self.storage.tensions.update(replace(
                current, position=previous.position, intensity=previous.intensity,
                updated_at=previous.updated_at, metadata=meta))

    # -- editing tensions ----------------------------------------------------------------
    def _check_axis(self, axis_id: str | None) -> None:
        if axis_id is not None and self.storage.axes.find(axis_id) is None:
            raise NotFoundError("axis", axis_id)

    @staticmethod
    def _check_poles(a: str, b: str) -> None:
        if a.casefold() == b.casefold():
            raise ValidationError("tension", "axis_b", "must differ from axis_a",
                                  f"A tension pulls between two different poles, but both are {a!r}; "
                                  "name the other side.")

    def _check_unique_name(self, name: str, identity_id: str | None, *, except_id: str | None = None) -> None:
        """No two tensions on one map share a name (issue 11, item 14): the map would show both."""
        wanted = name.casefold()
        for t in self.list_tensions(identity_id):
            if t.id != except_id and t.name.strip().casefold() == wanted:
                raise ValidationError("tension", "name", "must be unique on the map",
                                      f"A tension named {t.name!r} is already on the map; choose another name "
                                      "or move the one you have.")

    def create_tension(self, name: str, axis_a: str, axis_b: str, *, axis_id: str | None = None,
                       identity_id: str | None = None, sync_mode: str = SyncMode.LOCAL_ONLY,
                       position: float = 0.0, intensity: float = 0.5,
                       origin: str = TensionOrigin.USER_CREATED, notes: str | None = None) -> m.Tension:
        """A new tension (user_created unless told otherwise), centred unless a position is given."""
        name = _clean_text("tension", "name", "A tension's name", name, TENSION_NAME_MAX)
        a = _clean_text("tension", "axis_a", "The first pole", axis_a)
        b = _clean_text("tension", "axis_b", "The second pole", axis_b)
        pos = _check_range("position", position, POSITION_MIN, POSITION_MAX)
        inten = _check_range("intensity", intensity, INTENSITY_MIN, INTENSITY_MAX)
        self._check_poles(a, b)
        meta: dict[str, Any] = {"position_history": []}
        if axis_id:
            meta["axis_id"] = axis_id
        if notes and notes.strip():
            meta["notes"] = notes.strip()
        if TensionOrigin(origin) == TensionOrigin.LLM_SUGGESTED:
            meta["suggestion_status"] = PENDING
        with self.storage.transaction():
            self._check_axis(axis_id)
            if TensionOrigin(origin) != TensionOrigin.LLM_SUGGESTED:  # add_suggestion has its own rule
                self._check_unique_name(name, identity_id)
            return self.storage.tensions.create(m.Tension(
                name=name, axis_a=a, axis_b=b, identity_id=identity_id, position=pos, intensity=inten,
                origin=TensionOrigin(origin), sync_mode=SyncMode(sync_mode), metadata=meta))

    def update_tension(self, tension_id: str, *, name: str | None = None, axis_a: str | None = None,
                       axis_b: str | None = None, axis_id: Any = _UNSET, sync_mode: str | None = None,
                       notes: Any = _UNSET) -> m.Tension:
        """Edit the words, axis or sharing of a tension; ``axis_id=None`` moves it to Unsorted.

        updated_at is left alone: the spec keeps it for position/intensity changes.
        """
        with self.storage.transaction():
            t = self.get(tension_id)
            meta = dict(t.metadata or {})
            if name is not None:
                t = replace(t, name=_clean_text("tension", "name", "A tension's name", name, TENSION_NAME_MAX))
            if axis_a is not None:
                t = replace(t, axis_a=_clean_text("tension", "axis_a", "The first pole", axis_a))
            if axis_b is not None:
                t = replace(t, axis_b=_clean_text("tension", "axis_b", "The second pole", axis_b))
            if axis_a is not None or axis_b is not None:
                self._check_poles(t.axis_a, t.axis_b)
            if name is not None and on_map(t):
                self._check_unique_name(t.name, t.identity_id, except_id=t.id)
            if sync_mode is not None:
                try:
                    t = replace(t, sync_mode=SyncMode(sync_mode))
                except ValueError:
                    allowed = ", ".join(s.value for s in SyncMode)
                    raise ValidationError("tension", "sync_mode", f"must be one of {allowed}",
                                          f"Sharing must be one of {allowed} (got {sync_mode!r}).") from None
            if axis_id is not _UNSET:
                self._check_axis(axis_id)
                if axis_id:
                    meta["axis_id"] = axis_id
                else:
                    meta.pop("axis_id", None)
            if notes is not _UNSET:
                if notes and str(notes).strip():
                    meta["notes"] = str(notes).strip()
                else:
                    meta.pop("notes", None)
            return self.storage.tensions.update(replace(t, metadata=meta))

    def delete_tension(self, tension_id: str) -> m.Tension:
        """Delete a tension and its history; returns what was deleted."""
        with self.storage.transaction():
            t = self.get(tension_id)
            self.storage.tensions.delete(tension_id)
        return t

    # -- axes ----------------------------------------------------------------------------
    def create_axis(self, name: str, *, description: str | None = None, category: str | None = None,
                    color: str | None = None, identity_id: str | None = None) -> m.Axis:
        meta: dict[str, Any] = {"visual_color": _clean_color(color) or DEFAULT_AXIS_COLOR}
        return self.storage.axes.create(m.Axis(
            name=_clean_text("axis", "name", "An axis's name", name), identity_id=identity_id,
            description=(description or "").strip() or None, category=(category or "").strip() or None,
            metadata=meta))

    def update_axis(self, axis_id: str, *, name: str | None = None, description: Any = _UNSET,
                    category: Any = _UNSET, color: str | None = None) -> m.Axis:
        with self.storage.transaction():
            a = self.storage.axes.get(axis_id)
            meta = dict(a.metadata or {})
            if name is not None:
                a = replace(a, name=_clean_text("axis", "name", "An axis's name", name))
            if description is not _UNSET:
                a = replace(a, description=(description or "").strip() or None)
            if category is not _UNSET:
                a = replace(a, category=(category or "").strip() or None)
            if color is not None:
                meta["visual_color"] = _clean_color(color)
            return self.storage.axes.update(replace(a, metadata=meta))

    def delete_axis(self, axis_id: str) -> int:
        """Delete an axis; its tensions stay and move to Unsorted. Returns how many moved."""
        moved = 0
        with self.storage.transaction():
            self.storage.axes.get(axis_id)
            for t in self.storage.tensions.list():
                if axis_id_of(t) == axis_id:
                    meta = dict(t.metadata or {})
                    meta.pop("axis_id", None)
                    self.storage.tensions.update(replace(t, metadata=meta))
                    moved += 1
            self.storage.axes.delete(axis_id)
        return moved

    def find_axis(self, name: str, identity_id: str | None = None, *, anonymous: bool = False) -> m.Axis | None:
        """The axis with this name (case-insensitive) in scope, if any."""
        wanted = name.strip().casefold()
        return next((a for a in self.list_axes(identity_id, anonymous=anonymous) if a.name.casefold() == wanted), None)

    # -- suggestions ---------------------------------------------------------------------
    def add_suggestion(self, name: str, axis_a: str, axis_b: str, *, identity_id: str | None = None,
                       reflection_id: str | None = None) -> m.Tension | None:
        """Record an engine suggestion (origin llm_suggested, pending), unless a tension with the same
        name or the same two poles already exists in scope (pending, accepted or dismissed)."""
        def key(a: str, b: str) -> frozenset[str]:
            return frozenset((a.strip().casefold(), b.strip().casefold()))

        with self.storage.transaction():
            for t in self.list_tensions(identity_id, include_suggestions=True):
                if t.name.strip().casefold() == name.strip().casefold() or key(t.axis_a, t.axis_b) == key(axis_a, axis_b):
                    return None
            t = self.create_tension(name, axis_a, axis_b, identity_id=identity_id,
                                    origin=TensionOrigin.LLM_SUGGESTED)
            if reflection_id:
                meta = dict(t.metadata or {}, discovered_in_reflection=reflection_id,
                            related_reflections=[reflection_id])
                t = self.storage.tensions.update(replace(t, metadata=meta))
            return t

    def _set_status(self, tension_id: str, status: str, axis_id: Any = _UNSET) -> m.Tension:
        with self.storage.transaction():
            t = self.get(tension_id)
            if t.origin != TensionOrigin.LLM_SUGGESTED:
                raise ValidationError("tension", "origin", "must be llm_suggested",
                                      f"“{t.name}” is not a suggestion; only suggested tensions can be accepted or dismissed.")
            meta = dict(t.metadata or {}, suggestion_status=status)
            if axis_id is not _UNSET and axis_id:
                self._check_axis(axis_id)
                meta["axis_id"] = axis_id
            return self.storage.tensions.update(replace(t, metadata=meta))

    def accept_suggestion(self, tension_id: str, axis_id: str | None = None) -> m.Tension:
        """Put a suggested tension on the map (optionally under an axis)."""
        return self._set_status(tension_id, ACCEPTED, axis_id)

    def dismiss_suggestion(self, tension_id: str) -> m.Tension:
        """Hide a suggested tension; it is kept so the same suggestion is not offered again."""
        return self._set_status(tension_id, DISMISSED)


def tension_to_json(t: m.Tension) -> dict[str, Any]:
    """Every field of a tension as JSON-ready values (the CLI's ``tension list --json``)."""
    return {
        "id": t.id, "identity_id": t.identity_id, "name": t.name, "axis_a": t.axis_a, "axis_b": t.axis_b,
        "position": t.position, "intensity": t.intensity, "origin": str(t.origin), "sync_mode": str(t.sync_mode),
        "created_at": t.created_at.isoformat(), "updated_at": t.updated_at.isoformat(),
        "metadata": t.metadata or {},
    }


def axis_to_json(a: m.Axis) -> dict[str, Any]:
    return {"id": a.id, "identity_id": a.identity_id, "name": a.name, "description": a.description,
            "category": a.category, "created_at": a.created_at.isoformat(), "metadata": a.metadata or {}}


__all__ = [
    "TensionService", "TensionMapData", "AxisGroup", "MoveResult", "HistoryPoint", "RelatedReflection",
    "axis_id_of", "axis_color", "suggestion_status", "on_map", "tension_to_json", "axis_to_json", "load_seed_data",
    "seed_key_of", "is_untouched_seed",
]
