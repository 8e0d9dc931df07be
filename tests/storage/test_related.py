"""Related reflections of a tension (issue 12): newest pole matches and recent engine runs, no ranking.

On both backends. The reference is the implementation issue 12 replaced (one ranked search per pole,
then the engine runs), kept here as ``per_tension_search``: on a small journal, where every match
fits in the list, the new reads must give exactly its answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta, UTC
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import EngineMode
from mirror_desktop.core.errors import JobCancelled
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.tensions import RelatedReflection, TensionService

DAY = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def per_tension_search(storage: Any, tension_id: str, limit: int = 20) -> list[RelatedReflection]:
    """The pre-issue-12 related_reflections: a ranked search per pole, then sort by date."""
    t = storage.tensions.get(tension_id)
    found: dict[str, dict[str, bool]] = {}
    for run in storage.engine_runs.list(limit=5000, order_by=["-timestamp"]):
        if run.reflection_id and tension_id in (run.tensions_surfaced or []):
            found.setdefault(run.reflection_id, {"surfaced": False, "mentioned": False})["surfaced"] = True
    filters = SearchFilters(identity_id=t.identity_id) if t.identity_id else None
    for pole in {t.axis_a.strip(), t.axis_b.strip()}:
        for hit in storage.search('"' + pole.replace('"', " ") + '"', filters, limit=limit):
            found.setdefault(hit.reflection.id, {"surfaced": False, "mentioned": False})["mentioned"] = True
    out = []
    for rid, how in found.items():
        r = storage.reflections.get(rid)
        excerpt = " ".join(r.content.split())
        if len(excerpt) > 160:
            excerpt = excerpt[:159].rstrip() + "…"
        out.append(RelatedReflection(rid, r.created_at, excerpt, how["surfaced"], how["mentioned"]))
    out.sort(key=lambda x: x.created_at, reverse=True)
    return out[:limit]


@pytest.fixture
def journal(storage: Any) -> dict[str, Any]:
    svc = TensionService(storage)
    work = storage.identities.create(m.Identity(metadata={"name": "Work"}))
    home = storage.identities.create(m.Identity(metadata={"name": "Home"}))
    t_work = svc.create_tension("Ambition vs rest", "ambition", "rest", identity_id=work.id)
    t_home = svc.create_tension("Holding on vs letting go", "holding on", "letting go", identity_id=home.id)
    t_all = svc.create_tension("Duty vs desire", "duty", "desire")
    texts = [
        ("Ambition kept me at the desk until nine; no rest again.", work.id),
        ("I need rest. Resting is not quitting.", work.id),
        ("My ambitions feel like someone else's.", home.id),
        ("Letting go of the old flat was harder than holding on to it.", home.id),
        ("Holding onto grudges; holding on to hope.", home.id),
        ("The letting go meditation at work helped.", work.id),
        ("Duty first, then desire, or so I was taught.", None),
        ("A desire for a quiet weekend, and a sense of duty to visit.", home.id),
        ("Nothing to do with any of it: the garden, the rain.", work.id),
        ("Rest day. Slept, read, walked. No ambition at all.", work.id),
    ]
    refl = [storage.reflections.create(m.Reflection(text, identity_id=ident, created_at=DAY + timedelta(days=i)))
            for i, (text, ident) in enumerate(texts)]
    for r, tensions in ((refl[8], [t_work.id]), (refl[3], [t_home.id, t_all.id]), (refl[0], [t_work.id])):
        storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                               reflection_id=r.id, tensions_surfaced=tensions, duration_ms=2))
    storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                           tensions_surfaced=[t_work.id], duration_ms=2))  # no reflection
    return {"svc": svc, "refl": refl, "work": t_work, "home": t_home, "all": t_all}


@pytest.mark.parametrize("which", ["work", "home", "all"])
def test_same_answer_as_the_per_tension_search_on_a_small_journal(storage: Any, journal: dict[str, Any],
                                                                  which: str) -> None:
    t = journal[which]
    assert journal["svc"].related_reflections(t.id) == per_tension_search(storage, t.id)


def test_many_at_once_equals_one_at_a_time(storage: Any, journal: dict[str, Any]) -> None:
    svc = journal["svc"]
    ids = [journal[k].id for k in ("work", "home", "all")]
    many = svc.related_reflections_many(ids, chunk=2)
    assert many == {tid: svc.related_reflections(tid) for tid in ids}
    refl = journal["refl"]
    work = {x.reflection_id: x for x in many[journal["work"].id]}
    # Surfaced in a run, mentioned (stemmed: "Resting", "rest"), the identity filter keeps home's out.
    assert work[refl[8].id].surfaced and not work[refl[8].id].mentioned
    assert work[refl[0].id].surfaced and work[refl[0].id].mentioned
    assert refl[1].id in work and refl[9].id in work
    assert refl[2].id not in work
    home = [x.reflection_id for x in many[journal["home"].id]]
    assert home == [refl[4].id, refl[3].id]  # newest first; "holding onto" is not the phrase, "holding on" is
    assert refl[5].id not in home  # "letting go" at work: another identity


def test_newest_matches_win_when_there_are_more_than_the_limit(storage: Any) -> None:
    svc = TensionService(storage)
    t = svc.create_tension("Saving vs enjoying", "saving", "enjoying now")
    rows = [storage.reflections.create(m.Reflection(f"Saving again, week {i}.", created_at=DAY + timedelta(days=i)))
            for i in range(30)]
    related = svc.related_reflections(t.id, limit=5)
    assert [x.reflection_id for x in related] == [r.id for r in reversed(rows[-5:])]
    assert all(x.mentioned and not x.surfaced for x in related)


def test_recent_mentions_reads_only_the_scan_window(storage: Any) -> None:
    old = storage.reflections.create(m.Reflection("Sextant lessons, the old one.", created_at=DAY))
    newer = [storage.reflections.create(m.Reflection("Sextant practice on the pier.", created_at=DAY + timedelta(days=i)))
             for i in range(1, 4)]
    assert storage.recent_mentions([("sextant", None)], limit=10, scan=3) == [[r.id for r in reversed(newer)]]
    assert old.id in storage.recent_mentions([("sextant", None)], limit=10, scan=10)[0]
    # Unusable or empty queries answer with an empty list in their place.
    assert storage.recent_mentions([("", None), ("-sextant", None), ("sextant", None)], limit=1) == \
        [[], [], [newer[-1].id]]


def test_cancel_stops_between_steps(storage: Any, journal: dict[str, Any]) -> None:
    asked: list[int] = []

    def cancel_on_second_ask() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(JobCancelled):
        journal["svc"].related_reflections(journal["work"].id, cancel=cancel_on_second_ask)
    assert len(asked) == 2
    assert journal["svc"].related_reflections(journal["work"].id, cancel=lambda: False)
