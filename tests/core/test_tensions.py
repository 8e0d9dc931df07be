"""TensionService: seeds, moves with history, undo, validation, editing and suggestions (no Qt)."""

from __future__ import annotations

import math
import time

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import EngineMode, SyncMode, TensionOrigin
from mirror_desktop.core.errors import NotFoundError, ValidationError
from mirror_desktop.core.tensions import (
    TensionService,
    axis_color,
    axis_id_of,
    load_seed_data,
    suggestion_status,
)
from mirror_desktop.storage.journal import SQLiteStorage


@pytest.fixture()
def storage(tmp_path):
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    yield s
    s.close()


@pytest.fixture()
def svc(storage):
    service = TensionService(storage)
    service.ensure_seeds()
    return service


def seed(svc: TensionService, name: str) -> m.Tension:
    return next(t for t in svc.list_tensions() if t.name == name)


# -- seeds -------------------------------------------------------------------------------
def test_seed_file_has_at_least_eight_tensions_with_axes():
    data = load_seed_data()
    tensions = [t for a in data["axes"] for t in a["tensions"]]
    assert len(tensions) >= 8
    names = {t["name"] for t in tensions}
    for wanted in ("Control vs Surrender", "Stability vs Risk", "Autonomy vs Connection", "Self vs Others",
                   "Rest vs Achievement", "Certainty vs Openness"):
        assert wanted in names
    for a in data["axes"]:
        assert a["description"] and a["category"] and a["color"].startswith("#")
    assert {"relational", "temporal", "existential"} <= {a["category"] for a in data["axes"]}


def test_seeds_are_global_grouped_and_idempotent(storage):
    svc = TensionService(storage)
    created = svc.ensure_seeds()
    assert created > 0
    assert svc.ensure_seeds() == 0
    tensions = storage.tensions.list()
    axes = storage.axes.list()
    assert len(tensions) >= 8 and len(axes) >= 3
    assert all(t.identity_id is None and t.origin == TensionOrigin.SYSTEM_SEED for t in tensions)
    assert all(t.position == 0.0 and t.intensity == 0.5 for t in tensions)
    axis_ids = {a.id for a in axes}
    assert all(axis_id_of(t) in axis_ids for t in tensions)
    assert all(axis_color(a).startswith("#") and a.category and a.description for a in axes)
    data = svc.map_data()
    assert [g.axis.name for g in data.groups if g.axis] == [a["name"] for a in load_seed_data()["axes"]]


def test_deleted_seed_is_not_recreated(svc, storage):
    t = seed(svc, "Control vs Surrender")
    svc.delete_tension(t.id)
    assert svc.ensure_seeds() == 0
    assert all(x.name != "Control vs Surrender" for x in storage.tensions.list())


def test_seeds_show_for_every_identity_and_own_tensions_stay_private(svc, storage):
    work = storage.identities.create(m.Identity(metadata={"name": "Work"}))
    home = storage.identities.create(m.Identity(metadata={"name": "Home"}))
    mine = svc.create_tension("Deadlines vs Craft", "Deadlines", "Craft", identity_id=work.id)
    seeds = len(svc.list_tensions(anonymous=True))
    assert len(svc.list_tensions(work.id)) == seeds + 1
    assert mine.id not in {t.id for t in svc.list_tensions(home.id)}
    assert mine.id not in {t.id for t in svc.list_tensions(anonymous=True)}
    assert mine.id in {t.id for t in svc.list_tensions()}  # "all identities"


# -- moving ------------------------------------------------------------------------------
def test_move_sets_values_updated_at_and_appends_history(svc, storage):
    t = seed(svc, "Stability vs Risk")
    time.sleep(0.002)
    r = svc.move_tension(t.id, position=-0.35)
    stored = storage.tensions.get(t.id)
    assert stored.position == -0.35 and stored.intensity == 0.5
    assert stored.updated_at > t.updated_at
    hist = stored.metadata["position_history"]
    assert len(hist) == 1 and hist[0]["position"] == -0.35 and hist[0]["intensity"] == 0.5
    assert set(hist[0]) == {"date", "position", "intensity"}
    assert r.changed and r.before.position == 0.0

    svc.move_tension(t.id, intensity=0.9)
    svc.move_tension(t.id, position=0.2, intensity=0.1)
    points = svc.history(t.id)
    assert [(p.position, p.intensity) for p in points] == [(-0.35, 0.5), (-0.35, 0.9), (0.2, 0.1)]
    assert points == sorted(points, key=lambda p: p.when)


def test_move_to_same_values_writes_nothing(svc, storage):
    t = seed(svc, "Stability vs Risk")
    r = svc.move_tension(t.id, position=0.0, intensity=0.5)
    assert not r.changed
    assert storage.tensions.get(t.id).metadata["position_history"] == []


def test_move_rounds_float_noise(svc):
    t = seed(svc, "Rest vs Achievement")
    after = svc.move_tension(t.id, position=0.1 + 0.05).after
    assert after.position == 0.15


@pytest.mark.parametrize("kwargs, field", [
    ({"position": 1.5}, "position"), ({"position": -1.0001}, "position"), ({"intensity": -0.1}, "intensity"),
    ({"intensity": 2}, "intensity"), ({"position": math.nan}, "position"), ({"position": math.inf}, "position"),
    ({"position": True}, "position"), ({}, "position"),
])
def test_invalid_moves_raise_and_change_nothing(svc, storage, kwargs, field):
    t = seed(svc, "Self vs Others")
    with pytest.raises(ValidationError) as err:
        svc.move_tension(t.id, **kwargs)
    assert err.value.field == field
    assert str(err.value).endswith(".") and "\n" not in str(err.value)
    assert storage.tensions.get(t.id) == t


def test_move_unknown_tension_is_not_found(svc):
    with pytest.raises(NotFoundError):
        svc.move_tension("no-such-id", position=0.1)


def test_edges_are_allowed(svc):
    t = seed(svc, "Self vs Others")
    assert svc.move_tension(t.id, position=-1, intensity=0).after.position == -1.0
    assert svc.move_tension(t.id, position=1, intensity=1).after.intensity == 1.0


# -- undo --------------------------------------------------------------------------------
def test_restore_undoes_a_move_exactly(svc, storage):
    t = seed(svc, "Control vs Surrender")
    first = svc.move_tension(t.id, position=0.4)
    second = svc.move_tension(t.id, position=-0.6, intensity=0.8)
    svc.restore_tension(second.before)
    back = storage.tensions.get(t.id)
    assert (back.position, back.intensity) == (0.4, 0.5)
    assert back.updated_at == first.after.updated_at
    assert len(back.metadata["position_history"]) == 1
    svc.restore_tension(first.before)
    assert storage.tensions.get(t.id) == t


def test_restore_keeps_other_metadata(svc, storage):
    t = seed(svc, "Control vs Surrender")
    r = svc.move_tension(t.id, position=0.4)
    svc.update_tension(t.id, notes="Busier at work")
    svc.restore_tension(r.before)
    assert storage.tensions.get(t.id).metadata["notes"] == "Busier at work"


# -- editing -----------------------------------------------------------------------------
def test_create_edit_delete_tension_and_axis(svc, storage):
    axis = svc.create_axis("Body", description="How the body pulls", category="somatic", color="#336699")
    assert axis_color(axis) == "#336699"
    t = svc.create_tension("Hunger vs Restraint", "Hunger", "Restraint", axis_id=axis.id,
                           sync_mode=SyncMode.SHARE_ANONYMIZED)
    assert t.origin == TensionOrigin.USER_CREATED and axis_id_of(t) == axis.id
    group = next(g for g in svc.map_data().groups if g.axis and g.axis.id == axis.id)
    assert [x.id for x in group.tensions] == [t.id]

    edited = svc.update_tension(t.id, name="Appetite vs Restraint", axis_a="Appetite", sync_mode="share_full")
    assert (edited.name, edited.axis_a, edited.sync_mode) == ("Appetite vs Restraint", "Appetite", SyncMode.SHARE_FULL)
    assert edited.updated_at == t.updated_at  # spec 6: only position/intensity changes touch it

    svc.update_axis(axis.id, name="The body", color="#aa0000", category=None)
    a2 = storage.axes.get(axis.id)
    assert (a2.name, a2.category, axis_color(a2)) == ("The body", None, "#AA0000")

    assert svc.delete_axis(axis.id) == 1
    assert axis_id_of(storage.tensions.get(t.id)) is None
    assert svc.map_data().groups[-1].axis is None  # "Unsorted"
    svc.delete_tension(t.id)
    assert storage.tensions.find(t.id) is None


@pytest.mark.parametrize("name, a, b", [("x" * 101, "A", "B"), ("  ", "A", "B"), ("Name", "", "B"), ("Name", "A", " ")])
def test_create_tension_rejects_bad_words(svc, storage, name, a, b):
    before = storage.tensions.count()
    with pytest.raises(ValidationError):
        svc.create_tension(name, a, b)
    assert storage.tensions.count() == before


def test_name_of_exactly_100_characters_is_fine(svc):
    assert len(svc.create_tension("n" * 100, "A", "B").name) == 100


def test_bad_axis_colour_and_unknown_axis(svc):
    with pytest.raises(ValidationError):
        svc.create_axis("Colour", color="blue")
    with pytest.raises(NotFoundError):
        svc.create_tension("A vs B", "A", "B", axis_id="missing-axis")
    with pytest.raises(ValidationError):
        svc.update_tension(seed(svc, "Self vs Others").id, sync_mode="everyone")


def test_find_axis_by_name(svc):
    assert svc.find_axis("relating").name == "Relating"
    assert svc.find_axis("nothing") is None


# -- suggestions -------------------------------------------------------------------------
def test_suggestions_accept_and_dismiss(svc, storage):
    s1 = svc.add_suggestion("Freedom vs Security", "Freedom", "Security")
    s2 = svc.add_suggestion("Work vs Play", "Work", "Play")
    assert s1.origin == TensionOrigin.LLM_SUGGESTED and suggestion_status(s1) == "pending"
    assert {t.id for t in svc.suggestions()} == {s1.id, s2.id}
    assert s1.id not in {t.id for t in svc.list_tensions()}  # not on the map yet

    axis = svc.find_axis("Security")
    accepted = svc.accept_suggestion(s1.id, axis_id=axis.id)
    assert suggestion_status(accepted) == "accepted" and axis_id_of(accepted) == axis.id
    assert accepted.origin == TensionOrigin.LLM_SUGGESTED
    assert s1.id in {t.id for t in svc.list_tensions()}

    svc.dismiss_suggestion(s2.id)
    assert svc.suggestions() == []
    assert s2.id not in {t.id for t in svc.list_tensions()}
    assert storage.tensions.find(s2.id) is not None  # kept, so it is not offered again
    assert svc.add_suggestion("Work vs Play", "Play", "Work") is None


def test_suggestion_duplicates_of_seeds_are_skipped(svc):
    assert svc.add_suggestion("Control vs Surrender", "Control", "Surrender") is None


def test_only_suggestions_can_be_accepted(svc):
    with pytest.raises(ValidationError):
        svc.accept_suggestion(seed(svc, "Self vs Others").id)


# -- related reflections -----------------------------------------------------------------
def test_related_reflections_surfaced_and_mentioned(svc, storage):
    t = seed(svc, "Control vs Surrender")
    r1 = storage.reflections.create(m.Reflection(content="I could not stop planning every minute of the trip."))
    r2 = storage.reflections.create(m.Reflection(content="Maybe surrender is not the same as giving up."))
    storage.reflections.create(m.Reflection(content="The garden needs water."))
    storage.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                           reflection_id=r1.id, tensions_surfaced=[t.id], duration_ms=3))
    related = {x.reflection_id: x for x in svc.related_reflections(t.id)}
    assert set(related) == {r1.id, r2.id}
    assert related[r1.id].surfaced and not related[r1.id].mentioned
    assert related[r2.id].mentioned and "surrender" in related[r2.id].excerpt
