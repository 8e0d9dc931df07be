"""Builds a realistic journal through the storage layer, for benchmarks, demos and tests.

Usage:
    python benchmarks/generate.py --data-dir DIR --reflections N [--seed S] [--postgres DSN] [--end YYYY-MM-DD]

Writes ``<DIR>/mirror_os.db`` (or into the PostgreSQL database named by ``--postgres``) with 2-3
identities, axes, tensions with monthly position histories, threads, N reflections of first-person
prose (20 to 1,500 words, most 150-400; see prose.py), mirrorbacks, engine runs, feedback,
integrations and evolution proposals/history/events: every spec table gets rows. Everything goes
through the repositories (validation included), in chunks of a few thousand reflections per
transaction. The same seed and end date give the same journal, ids included.

Cadence: about two reflections a day walking back from the end date, at least three years for small
journals. A 100,000-reflection journal at two a day would reach back 137 years, so the span is capped
at 15 years and the daily rate rises instead (about 18 a day: a stress size, not a person).

Importable: ``generate_journal(storage, n, seed=0, progress=None) -> dict``.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from prose import COMMON, TOPIC_NAMES, Prose  # noqa: E402

from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.enums import (  # noqa: E402
    ContentType,
    EngineMode,
    HistoryEventType,
    IntegrationStatus,
    IntegrationType,
    LifecycleEventType,
    ProposalStatus,
    ProposalType,
    Source,
    SyncMode,
    TensionOrigin,
    ThreadStatus,
    Visibility,
)

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
MIN_WORDS, MAX_WORDS = 20, 1500
MAX_SPAN_YEARS = 15
MIN_SPAN_YEARS = 3
CHUNK = 5000
BATCH = 1000

IDENTITIES = [
    ("Everyday me", "#5B8DEF", {t: 1.0 for t in TOPIC_NAMES}),
    ("At work", "#E0884B", {"work": 5, "decisions": 2, "money": 1.5, "creativity": 1, "sleep": 1, "friendship": 0.5}),
    ("As a parent", "#4BAE8A", {"family": 5, "sleep": 2, "health": 1.5, "joy": 2, "money": 1, "grief": 0.5}),
]
AXES = [
    ("Self and others", "How much room I give myself versus everyone else", "relational", "#C77DFF"),
    ("Security and change", "Holding on versus moving on", "life", "#4CC9F0"),
    ("Work and rest", "Effort, ambition and recovery", "energy", "#F9C74F"),
    ("Head and heart", "Deciding by thinking or by feeling", "decisions", "#F94144"),
    ("Past and future", "Memory, grief and hope", "time", "#90BE6D"),
]
TENSIONS = [  # name, pole a, pole b, axis index
    ("Ambition vs rest", "ambition", "rest", 2),
    ("Independence vs belonging", "independence", "belonging", 0),
    ("Stability vs adventure", "stability", "adventure", 1),
    ("Saving vs enjoying", "saving", "enjoying now", 1),
    ("Planning vs spontaneity", "planning", "spontaneity", 3),
    ("Duty vs desire", "duty", "desire", 3),
    ("Holding on vs letting go", "holding on", "letting go", 4),
    ("Privacy vs openness", "privacy", "openness", 0),
    ("Perfection vs done", "perfection", "done", 2),
    ("Caring for others vs caring for myself", "others", "myself", 0),
]
THREAD_TITLES = {
    "work": ["The reorganisation", "Should I ask for the promotion?", "Finding my feet in the new role", "Burnout watch"],
    "family": ["Mum's recovery", "The kids and school", "Holidays with the family", "Being a better parent"],
    "sleep": ["Sleep experiment", "The 4 a.m. wake-ups", "Trying to go to bed earlier"],
    "friendship": ["Reconnecting with Lena", "Friends I miss", "The falling out with Sam"],
    "decisions": ["The big decision", "Stay or go?", "Saying no more often"],
    "moving": ["The move", "Settling into the new flat", "Leaving the city"],
    "health": ["Running again", "Back pain diary", "Eating better"],
    "creativity": ["The novel", "One sketch a day", "Learning guitar"],
    "money": ["Getting out of debt", "Saving for the flat", "Money anxiety"],
    "grief": ["Missing Grandad", "A year without Dad", "Letters I won't send"],
    "joy": ["Good things", "Summer list", "Small joys"],
}
PATTERNS = ["self_criticism", "avoidance", "gratitude", "rumination", "boundary_setting", "future_worry",
            "people_pleasing", "rest_deficit", "connection_seeking", "meaning_making", "all_or_nothing"]
FEEDBACK_FLAGS = ["too_long", "too_generic", "missed_the_point", "felt_seen", "too_directive", "helpful_question"]
FEEDBACK_NOTES = ["That question stayed with me all day.", "A bit too long, but it landed.",
                  "It repeated what I said back without adding much.", "Exactly what I needed to hear.",
                  "Felt like advice, and I didn't want advice today."]
VISIBILITIES = ([Visibility.LOCAL_ONLY] * 70 + [Visibility.SYNC_SUMMARY] * 15 + [Visibility.SYNC_FULL_PRIVATE] * 10
                + [Visibility.SYNC_FULL_PUBLIC] * 5)
CONTENT_TYPES = [ContentType.MARKDOWN] * 85 + [ContentType.TEXT] * 12 + [ContentType.AUDIO_TRANSCRIPT] * 3
SOURCES = [Source.DIRECT] * 90 + [Source.IMPORT] * 8 + [Source.INTEGRATION] * 2
HOURS = [6, 7, 7, 8, 8, 12, 13, 17, 19, 20, 21, 21, 22, 22, 23, 23, 0]


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _timestamps(rng: random.Random, n: int, end: datetime) -> list[datetime]:
    """n creation times, oldest first, at a daily cadence walking back from ``end``."""
    days = max(MIN_SPAN_YEARS * 365, min(MAX_SPAN_YEARS * 365, math.ceil(n / 2.0)))
    rate = n / days / 0.9  # about one day in ten has no entry
    out: list[datetime] = []
    day = end.replace(hour=0, minute=0, second=0, microsecond=0)
    while len(out) < n:
        day -= timedelta(days=1)
        if rng.random() < 0.1:
            continue
        k = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
        if rate >= 1.5 and rng.random() < 0.3:
            k += rng.choice((-1, 1))
        stamps = []
        for _ in range(max(0, min(k, n - len(out)))):
            hour = rng.choice(HOURS)
            stamps.append(day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60),
                                          milliseconds=rng.randrange(1000)))
        out.extend(sorted(stamps, reverse=True))
    out.reverse()
    return out


def _words(rng: random.Random) -> int:
    """A reflection length in words: log-normal around 260 (most 150-400), a long tail to 1,500."""
    if rng.random() < 0.03:
        return rng.randint(600, MAX_WORDS - 50)
    if rng.random() < 0.05:
        return rng.randint(MIN_WORDS, 80)
    return max(MIN_WORDS, min(MAX_WORDS - 50, int(math.exp(rng.gauss(math.log(260), 0.45)))))


def _trim(text: str, limit: int) -> str:
    """Cut whole paragraphs (then sentences) until the text has at most ``limit`` words."""
    if len(text.split()) <= limit:
        return text
    paragraphs = text.split("\n\n")
    while len(paragraphs) > 1 and len("\n\n".join(paragraphs).split()) > limit:
        paragraphs.pop()
    text = "\n\n".join(paragraphs)
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]).rstrip(",;:") + "."


def generate_journal(storage: Any, n: int, seed: int = 0,
                     progress: Callable[[int, int, float], None] | None = None, *,
                     end: datetime | None = None, chunk: int = CHUNK) -> dict[str, Any]:
    """Fill ``storage`` (an open, migrated, empty journal) with a realistic journal of ``n`` reflections.

    Returns {"counts": rows per spec table, "seconds": total time, "reflections_per_s": ..., "words": ...}.
    """
    started = time.perf_counter()
    g = _Gen(seed)
    rng = g.rng
    prose = Prose(rng)
    end = end or DEFAULT_END
    stamps = _timestamps(rng, n, end) if n else []
    first = stamps[0] if stamps else end - timedelta(days=30)

    # -- identities, axes, tensions -----------------------------------------------------------
    n_ident = rng.choice((2, 3, 3))
    identities = []
    for name, color, _ in IDENTITIES[:n_ident]:
        created = first - timedelta(days=rng.randint(1, 20))
        identities.append(m.Identity(id=g.id(), created_at=created, updated_at=created,
                                     metadata={"name": name, "color": color}))
    axes = []
    for i, (name, desc, cat, color) in enumerate(AXES):
        owner = None if i < 2 else identities[i % n_ident].id
        axes.append(m.Axis(name=name, identity_id=owner, description=desc, category=cat, id=g.id(),
                           created_at=identities[0].created_at, metadata={"visual_color": color}))
    tensions_by_identity: dict[str | None, list[str]] = {None: []}
    tensions = []
    for ident in identities:
        tensions_by_identity[ident.id] = []
        for name, a, b, axis_i in rng.sample(TENSIONS, rng.randint(3, 5)):
            history, pos, inten = [], rng.uniform(-0.6, 0.6), rng.uniform(0.2, 0.8)
            month = ident.created_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            while month <= end:
                pos = max(-1.0, min(1.0, pos + rng.gauss(0, 0.12)))
                inten = max(0.0, min(1.0, inten + rng.gauss(0, 0.08)))
                history.append({"date": month.date().isoformat(), "position": round(pos, 3),
                                "intensity": round(inten, 3)})
                month = (month + timedelta(days=32)).replace(day=1)
            t = m.Tension(name=name, axis_a=a, axis_b=b, identity_id=ident.id, position=history[-1]["position"],
                          intensity=history[-1]["intensity"], origin=rng.choice(list(TensionOrigin)),
                          sync_mode=rng.choice([SyncMode.LOCAL_ONLY] * 3 + [SyncMode.SHARE_ANONYMIZED]),
                          id=g.id(), created_at=ident.created_at, updated_at=end,
                          metadata={"axis_id": axes[axis_i].id, "position_history": history})
            tensions.append(t)
            tensions_by_identity[ident.id].append(t.id)

    # -- who wrote what, and threads ---------------------------------------------------------------
    weights = [0.6, 0.25, 0.15][:n_ident]
    owner: list[int] = [-1 if rng.random() < 0.08 else rng.choices(range(n_ident), weights)[0] for _ in range(n)]
    topic_of: list[str | None] = [None] * n
    links: dict[int, tuple[int, int]] = {}  # reflection index -> (thread index, position)
    threads = []
    n_threads = max(3, min(1000, n // 100)) if n else 1
    for t_i in range(n_threads):
        who = rng.randrange(n_ident)
        topics, tw = zip(*IDENTITIES[who][2].items())
        topic = rng.choices(topics, tw)[0]
        members: list[int] = []
        if n:
            start = rng.randrange(n)
            window = min(n - start, rng.randint(30, 800))
            wanted = min(window, rng.randint(4, 30))
            members = sorted(i for i in rng.sample(range(start, start + window), wanted) if i not in links)
        for pos, i in enumerate(members):
            links[i] = (t_i, pos)
            owner[i] = who
            topic_of[i] = topic
        began = stamps[members[0]] if members else first
        last = stamps[members[-1]] if members else first
        age = (end - last).days
        status = ThreadStatus.ACTIVE if age < 60 else ThreadStatus.PAUSED if age < 365 else ThreadStatus.ARCHIVED
        threads.append(m.Thread(identity_id=identities[who].id, title=rng.choice(THREAD_TITLES[topic]), status=status,
                                id=g.id(), started_at=began, last_active=last,
                                metadata={"topic": topic, "color": IDENTITIES[who][1]}))

    with storage.transaction():
        storage.identities.create_many(identities)
        storage.axes.create_many(axes)
        storage.tensions.create_many(tensions)
        storage.threads.create_many(threads)

    # -- reflections and what hangs off them, chunk by chunk ---------------------------------------
    total_words = 0
    runs_made = 0
    for lo in range(0, n, chunk):
        refl, tr, mbs, runs, fbs = [], [], [], [], []
        for i in range(lo, min(n, lo + chunk)):
            who = owner[i]
            ident = identities[who] if who >= 0 else None
            if topic_of[i] is not None:
                main = topic_of[i]
            else:
                topics, tw = zip(*IDENTITIES[max(who, 0)][2].items())
                main = rng.choices(topics, tw)[0]
            topics_used = [main] if rng.random() < 0.6 else [main, rng.choice(TOPIC_NAMES)]
            text = _trim(prose.reflection(_words(rng), topics_used), MAX_WORDS)
            wc = len(text.split())
            total_words += wc
            tags = list(dict.fromkeys([main] + ([topics_used[-1]] if rng.random() < 0.5 else [])
                                      + ([rng.choice(COMMON["feel"])] if rng.random() < 0.3 else [])))
            if rng.random() < 0.2:
                tags = []
            created = stamps[i]
            r = m.Reflection(content=text, identity_id=ident.id if ident else None,
                             visibility=rng.choice(VISIBILITIES) if ident else Visibility.LOCAL_ONLY,
                             content_type=rng.choice(CONTENT_TYPES), source=rng.choice(SOURCES),
                             metadata={"tags": tags, "word_count": wc}, id=g.id(), created_at=created)
            refl.append(r)
            if i in links:
                t_i, pos = links[i]
                tr.append(m.ThreadReflection(threads[t_i].id, r.id, pos, created + timedelta(seconds=rng.randint(5, 600))))
            if rng.random() < 0.35:
                mode = rng.choice([EngineMode.MANUAL, EngineMode.MANUAL, EngineMode.LOCAL_LLM])
                mb_at = created + timedelta(seconds=rng.randint(2, 90))
                mb = m.Mirrorback(reflection_id=r.id, content=prose.mirrorback(topics_used),
                                  engine_version=rng.choice(["1.0.0", "1.1.0", "1.2.0"]), id=g.id(), created_at=mb_at,
                                  metadata={"engine_mode": mode.value, "topic": main})
                mbs.append(mb)
                surfaced = rng.sample(tensions_by_identity[r.identity_id], rng.randint(0, 2)) if r.identity_id else []
                sync_ok = rng.random() < 0.1
                run = m.EngineRun(config_version="1.0.0", engine_mode=mode, reflection_id=r.id,
                                  model_name=None if mode == EngineMode.MANUAL else rng.choice(["llama3.2:3b", "qwen2.5:7b"]),
                                  patterns=rng.sample(PATTERNS, rng.randint(0, 3)), tensions_surfaced=surfaced,
                                  mirrorback_length=len(mb.content),
                                  duration_ms=rng.randint(3, 60) if mode == EngineMode.MANUAL else rng.randint(800, 9000),
                                  flags={"safety": False, "crisis": False, "truncated": rng.random() < 0.02},
                                  sync_allowed=sync_ok, id=g.id(), timestamp=mb_at)
                runs.append(run)
                if rng.random() < 0.2:
                    rating = rng.choices([1, 2, 3, 4, 5, None], [2, 4, 14, 35, 35, 10])[0]
                    flags = rng.sample(FEEDBACK_FLAGS, rng.randint(0, 2)) if rng.random() < 0.4 else None
                    notes = rng.choice(FEEDBACK_NOTES) if rng.random() < 0.2 or (rating is None and not flags) else None
                    fbs.append(m.EngineFeedback(engine_run_id=run.id, rating=rating, flags=flags, notes=notes,
                                                sync_allowed=sync_ok, id=g.id(),
                                                timestamp=mb_at + timedelta(minutes=rng.randint(1, 300))))
        with storage.transaction():
            storage.reflections.create_many(refl, batch=BATCH)
            storage.thread_reflections.create_many(tr, batch=BATCH)
            storage.mirrorbacks.create_many(mbs, batch=BATCH)
            storage.engine_runs.create_many(runs, batch=BATCH)
            storage.engine_feedback.create_many(fbs, batch=BATCH)
        runs_made += len(runs)
        if progress is not None:
            progress(min(n, lo + chunk), n, time.perf_counter() - started)

    # -- integrations and the evolution tables --------------------------------------------------------
    _rest(g, storage, identities, first, end)
    seconds = time.perf_counter() - started
    return {"counts": storage.counts(), "seconds": seconds, "words": total_words,
            "reflections_per_s": n / seconds if seconds > 0 else 0.0, "identities": n_ident}


def _rest(g: _Gen, storage: Any, identities: list[m.Identity], first: datetime, end: datetime) -> None:
    rng = g.rng
    span = max(1, (end - first).days)

    def when(frac: float) -> datetime:
        return first + timedelta(days=int(span * frac), seconds=rng.randrange(86400))

    integrations = [
        m.Integration(IntegrationType.CALENDAR, {"provider": "caldav", "calendars": ["personal"]},
                      IntegrationStatus.ACTIVE, identities[0].id, when(0.9), {"label": "Calendar"}, g.id(), when(0.5)),
        m.Integration(IntegrationType.HEALTH, {"provider": "apple_health", "metrics": ["sleep", "steps"]},
                      IntegrationStatus.PAUSED, identities[-1].id, when(0.7), None, g.id(), when(0.6)),
        m.Integration(IntegrationType.NOTES, {"provider": "obsidian", "vault": "~/Notes"},
                      IntegrationStatus.DISCONNECTED, None, None, {"reason": "vault moved"}, g.id(), when(0.3)),
        m.Integration(IntegrationType.MUSIC, {"provider": "local_files"}, IntegrationStatus.ERROR,
                      identities[0].id, when(0.95), {"last_error": "folder not found"}, g.id(), when(0.8)),
    ]
    proposals, history = [], []
    plan = [
        (ProposalType.PROMPT_ADJUSTMENT, ProposalStatus.APPLIED, "Ask one question, not three",
         "Mirrorbacks end with a single open question.", "1.0.0", "1.1.0"),
        (ProposalType.PATTERN_DETECTION, ProposalStatus.APPLIED, "Notice rest deficits",
         "Detect repeated mentions of short sleep and long days.", "1.1.0", "1.2.0"),
        (ProposalType.TENSION_HEURISTIC, ProposalStatus.REJECTED, "Surface tensions after three mentions",
         "Raise a tension only after it appears in three reflections.", "1.2.0", "1.3.0"),
        (ProposalType.SAFETY_REFINEMENT, ProposalStatus.VOTING, "Gentler crisis wording",
         "Soften the wording used when crisis language is detected.", "1.2.0", "1.2.1"),
        (ProposalType.PERFORMANCE_OPTIMIZATION, ProposalStatus.TESTING, "Cache tension lookups",
         "Keep the tension list in memory between runs.", "1.2.0", "1.2.2"),
        (ProposalType.CONSTITUTIONAL_AMENDMENT, ProposalStatus.DRAFT, "Never summarise grief",
         "Mirrorbacks about loss reflect, they never summarise or advise.", None, None),
        (ProposalType.PROMPT_ADJUSTMENT, ProposalStatus.REVIEW, "Mirror the person's own words",
         "Quote one phrase the person used.", "1.2.0", "1.3.0"),
        (ProposalType.PATTERN_DETECTION, ProposalStatus.APPROVED, "Detect gratitude lists",
         "Recognise gratitude lists as a positive pattern.", "1.2.0", "1.2.3"),
    ]
    for k, (ptype, status, title, desc, fv, tv) in enumerate(plan):
        created = when(0.2 + 0.09 * k)
        approved = created + timedelta(days=rng.randint(3, 20)) if status in (ProposalStatus.APPROVED, ProposalStatus.APPLIED) else None
        applied = approved + timedelta(days=1) if status == ProposalStatus.APPLIED and approved else None
        p = m.EvolutionProposal(ptype, title, desc, {"prompt": {"before": "v" + (fv or "0.0.0"), "after": "v" + (tv or "0.0.1")}},
                                status, fv, tv, {"reflections_sampled": rng.randint(20, 200), "avg_rating": round(rng.uniform(3, 4.8), 2)},
                                {"passed": rng.randint(40, 50), "failed": rng.randint(0, 3)} if status != ProposalStatus.DRAFT else None,
                                {"yes": rng.randint(3, 9), "no": rng.randint(0, 3)} if status in (ProposalStatus.VOTING, ProposalStatus.APPROVED, ProposalStatus.APPLIED, ProposalStatus.REJECTED) else None,
                                approved, applied, {"author": "local"}, g.id(), created)
        proposals.append(p)
        if applied:
            history.append(m.EvolutionHistory(p.id, HistoryEventType.UPGRADE.value, True, fv, tv, "local", {"title": title},
                                              g.id(), applied))
    history.append(m.EvolutionHistory(proposals[1].id, HistoryEventType.HOTFIX.value, False, "1.2.0", "1.2.0", "local",
                                      {"note": "pattern threshold tuned"}, g.id(), (proposals[1].applied_at or end) + timedelta(days=2)))
    events = [m.EvolutionEvent(LifecycleEventType.INSTALLATION.value, {"platform": "linux", "app": "mirror-desktop"},
                               None, "1.0.0", None, False, g.id(), first - timedelta(days=21))]
    for h in history:
        if h.event_type == HistoryEventType.UPGRADE.value:
            events.append(m.EvolutionEvent(LifecycleEventType.UPGRADE.value, {"proposal": h.evolution_id},
                                           h.from_version, h.to_version, None, True, g.id(), h.applied_at))
    for integ in integrations:
        events.append(m.EvolutionEvent(LifecycleEventType.INTEGRATION_ADD.value, {"integration_type": integ.integration_type.value},
                                       None, None, None, False, g.id(), integ.connected_at))
    for k in range(3):
        events.append(m.EvolutionEvent(LifecycleEventType.EXPORT.value, {"format": "mirror-bundle", "encrypted": True},
                                       None, None, None, False, g.id(), when(0.3 + 0.3 * k)))
    events.append(m.EvolutionEvent(LifecycleEventType.CONFIG_CHANGE.value, {"setting": "engine_mode", "value": "local_llm"},
                                   None, None, None, False, g.id(), when(0.85)))
    with storage.transaction():
        storage.integrations.create_many(integrations)
        storage.evolution_proposals.create_many(proposals)
        storage.evolution_history.create_many(history)
        storage.evolution_events.create_many(events)


# -- command line -----------------------------------------------------------------------------------
def _open(args: argparse.Namespace) -> Any:
    from mirror_desktop.storage.journal import PostgresStorage, SQLiteStorage

    if args.postgres:
        return PostgresStorage(args.postgres)
    if not args.data_dir:
        raise SystemExit("Give --data-dir DIR (or --postgres DSN) to say where the journal goes.")
    return SQLiteStorage(Path(args.data_dir) / "mirror_os.db")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", help="folder for mirror_os.db (created if missing)")
    ap.add_argument("--reflections", type=int, default=10_000, help="how many reflections (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--postgres", metavar="DSN", help="write into this PostgreSQL database instead")
    ap.add_argument("--end", help="date of the newest reflection, YYYY-MM-DD or 'today' (default 2026-11-01)")
    args = ap.parse_args(argv)
    if args.reflections < 0:
        ap.error("--reflections must be 0 or more")
    end = None
    if args.end:
        end = (datetime.now(UTC) if args.end == "today"
               else datetime.fromisoformat(args.end).replace(tzinfo=UTC))
    from mirror_desktop.core.errors import MirrorError

    try:
        storage = _open(args)
    except MirrorError as exc:
        print(exc, file=sys.stderr)
        return 1
    with storage:
        existing = storage.reflections.count()
        if existing:
            print(f"{storage.location} already holds {existing} reflections; point --data-dir at an empty folder.",
                  file=sys.stderr)
            return 1

        def progress(done: int, total: int, elapsed: float) -> None:
            print(f"  {done:>8,} / {total:,} reflections  {elapsed:7.1f} s  ({done / elapsed:,.0f}/s)", file=sys.stderr,
                  flush=True)

        print(f"Generating {args.reflections:,} reflections (seed {args.seed}) into {storage.location}", file=sys.stderr)
        result = generate_journal(storage, args.reflections, seed=args.seed, progress=progress, end=end)
    print(f"Done in {result['seconds']:.1f} s: {result['reflections_per_s']:,.0f} reflections/s, "
          f"{result['words']:,} words ({result['words'] / max(1, args.reflections):.0f} per reflection).")
    width = max(len(t) for t in result["counts"])
    for table, count in result["counts"].items():
        print(f"  {table:<{width}}  {count:>9,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
