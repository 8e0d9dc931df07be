"""Create, read, update, delete and list for every entity, on both backends, returning dataclasses."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, UTC
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import ProposalStatus, Visibility
from mirror_desktop.core.errors import ConstraintError, NotFoundError, ValidationError
from mirror_desktop.core.services import JournalService


def make_all(storage: Any) -> dict[str, Any]:
    ident = storage.identities.create(m.Identity(metadata={"name": "Work", "color": "#4A90E2"}))
    refl = storage.reflections.create(m.Reflection("A long day.", identity_id=ident.id, metadata={"tags": ["work"]}))
    run = storage.engine_runs.create(m.EngineRun("1.0.0", "manual", reflection_id=refl.id, patterns=["absolute_thinking"],
                                                 tensions_surfaced=[], duration_ms=4, flags={"explicit_advice": []}))
    return {
        "identities": ident,
        "reflections": refl,
        "mirrorbacks": storage.mirrorbacks.create(m.Mirrorback(refl.id, "It sounds long.", "1.0.0", metadata={"engine_mode": "manual"})),
        "threads": storage.threads.create(m.Thread(identity_id=ident.id, title="Work")),
        "tensions": storage.tensions.create(m.Tension("Control vs Surrender", "Control", "Surrender", identity_id=ident.id,
                                                      metadata={"position_history": [{"date": "2025-12-01", "position": -0.3}]})),
        "axes": storage.axes.create(m.Axis("Agency", identity_id=ident.id, metadata={"visual_color": "#123456"})),
        "engine_runs": run,
        "engine_feedback": storage.engine_feedback.create(m.EngineFeedback(run.id, rating=4, flags=["too_long"])),
        "evolution_proposals": storage.evolution_proposals.create(m.EvolutionProposal(
            "prompt_adjustment", "Softer openings", "Fewer questions.", {"diff": {"before": "a", "after": "b"}})),
        "evolution_history": storage.evolution_history.create(m.EvolutionHistory("p-1", "upgrade", to_version="1.0.1")),
        "evolution_events": storage.evolution_events.create(m.EvolutionEvent("installation", {"install_type": "fresh"})),
        "integrations": storage.integrations.create(m.Integration("calendar", {"provider": "ics", "calendar_ids": ["a"]})),
    }


def test_round_trip_every_entity(storage: Any) -> None:
    made = make_all(storage)
    for table, obj in made.items():
        repo = getattr(storage, table)
        got = repo.get(obj.id)
        assert got == obj, table
        assert repo.count() == 1
        assert repo.list() == [obj]
    refl = storage.reflections.get(made["reflections"].id)
    assert isinstance(refl.visibility, Visibility) and refl.metadata == {"tags": ["work"]}
    assert refl.created_at.tzinfo is not None


def test_update_and_delete_every_mutable_entity(storage: Any) -> None:
    made = make_all(storage)
    changes = {
        "identities": {"metadata": {"name": "Renamed"}},
        "reflections": {"content": "A shorter day."},
        "mirrorbacks": {"content": "It sounds shorter."},
        "threads": {"title": "Work, again"},
        "tensions": {"position": 0.4, "intensity": 0.9},
        "axes": {"description": "Who decides"},
        "engine_runs": {"duration_ms": 7},
        "engine_feedback": {"notes": "fine"},
        "evolution_proposals": {"status": ProposalStatus.TESTING},
        "evolution_events": {"sync_allowed": True},
        "integrations": {"status": "active"},
    }
    for table, change in changes.items():
        repo = getattr(storage, table)
        updated = replace(made[table], **change)
        repo.update(updated)
        assert repo.get(updated.id) == updated, table
    for table in ["engine_feedback", "mirrorbacks", "axes", "tensions", "threads", "integrations", "evolution_events",
                  "evolution_proposals"]:
        repo = getattr(storage, table)
        assert repo.delete(made[table].id) is True
        assert repo.find(made[table].id) is None
        with pytest.raises(NotFoundError):
            repo.get(made[table].id)


def test_history_is_immutable_through_the_repository(storage: Any) -> None:
    h = make_all(storage)["evolution_history"]
    with pytest.raises(ValidationError):
        storage.evolution_history.update(replace(h, applied_by="me"))
    with pytest.raises(ValidationError):
        storage.evolution_history.delete(h.id)
    assert storage.evolution_history.get(h.id) == h


def test_proposal_flow_checked_in_core(storage: Any) -> None:
    p = make_all(storage)["evolution_proposals"]
    with pytest.raises(ValidationError, match="cannot move from draft to applied"):
        storage.evolution_proposals.update(replace(p, status=ProposalStatus.APPLIED))
    assert storage.evolution_proposals.get(p.id).status == ProposalStatus.DRAFT


def test_validation_names_field_and_rule(storage: Any) -> None:
    cases = [
        (m.Reflection("", identity_id=None), "content", "cannot be empty"),
        (m.Reflection("x", visibility="sync_full_public"), "visibility", "must be local_only when anonymous"),
        (m.Tension("t", "a", "b", position=1.5), "position", "must be between -1.0 and 1.0"),
        (m.Tension("t", "a", "b", intensity=-0.5), "intensity", "must be between 0.0 and 1.0"),
        (m.Tension("x" * 101, "a", "b"), "name", "must be at most 100 characters"),
        (m.EngineRun("1.2", "manual"), "config_version", "must be a version in MAJOR.MINOR.PATCH form"),
        (m.EngineRun("1.2.0", "manual", duration_ms=0), "duration_ms", "must be positive"),
        (m.EngineRun("1.2.0", "turbo"), "engine_mode", "must be one of local_llm, remote_llm, manual"),
        (m.EngineFeedback("x", rating=9), "rating", "must be 1-5"),
        (m.EngineFeedback("x"), "rating", "or flags or notes must be provided"),
        (m.Integration("calendar", {"token": "x"}), "config.provider", "is required"),
        (m.Identity(metadata={"bad": float("nan")}), "metadata", "must be valid JSON"),
    ]
    for obj, fld, rule in cases:
        with pytest.raises(ValidationError) as info:
            getattr(storage, {m.Reflection: "reflections", m.Tension: "tensions", m.EngineRun: "engine_runs",
                              m.EngineFeedback: "engine_feedback", m.Integration: "integrations",
                              m.Identity: "identities"}[type(obj)]).create(obj)
        assert info.value.field == fld and info.value.rule == rule, (fld, rule, str(info.value))
    assert storage.counts()["reflections"] == 0


def test_constraint_errors_are_sentences(storage: Any) -> None:
    with pytest.raises(ConstraintError, match="nothing was saved"):
        storage.reflections.create(m.Reflection("x", identity_id="no-such-identity"))


def test_paging_is_newest_first_and_complete(storage: Any) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    made = [m.Reflection(f"entry {i}", created_at=base.replace(day=1 + i % 28, hour=i % 24)) for i in range(120)]
    storage.reflections.create_many(made)
    seen, after = [], None
    while True:
        page = storage.reflections.page(after=after, limit=25)
        seen += page
        if len(page) < 25:
            break
        after = (page[-1].created_at, page[-1].id)
    assert len(seen) == 120 == len({r.id for r in seen})
    keys = [(r.created_at, r.id) for r in seen]
    assert keys == sorted(keys, reverse=True)


def test_delete_identity_keeps_reflections_as_anonymous(storage: Any) -> None:
    svc = JournalService(storage)
    ident = svc.create_identity("Work")
    r = svc.save_reflection("shared thought", identity_id=ident.id, visibility="sync_full_public")
    assert svc.delete_identity(ident.id) == 1
    kept = storage.reflections.get(r.id)
    assert kept.identity_id is None and kept.visibility == Visibility.LOCAL_ONLY


def test_thread_membership_and_dates(storage: Any) -> None:
    svc = JournalService(storage)
    early = svc.storage.reflections.create(m.Reflection("first", created_at=datetime(2023, 5, 1, tzinfo=UTC)))
    late = svc.storage.reflections.create(m.Reflection("second", created_at=datetime(2024, 5, 1, tzinfo=UTC)))
    t = svc.create_thread("Moving")
    svc.add_to_threads(late.id, [t.id])
    svc.add_to_threads(early.id, [t.id])
    thread = storage.threads.get(t.id)
    assert thread.started_at == early.created_at
    assert thread.last_active >= late.created_at
    assert [r.id for _, r in svc.thread_timeline(t.id)] == [late.id, early.id]
    svc.reorder_thread(t.id, [early.id, late.id])
    assert [link.position for link, _ in svc.thread_timeline(t.id)] == [0, 1]
    assert [r.id for _, r in svc.thread_timeline(t.id)] == [early.id, late.id]
    with pytest.raises(ValidationError):
        svc.reorder_thread(t.id, [early.id])
    svc.remove_from_thread(t.id, early.id)
    assert [(link.position, r.id) for link, r in svc.thread_timeline(t.id)] == [(0, late.id)]
    assert storage.threads.get(t.id).started_at == late.created_at
