"""The database itself enforces the spec's rules, in both dialects: one refused and one accepted row each.

Rows go in through raw SQL, bypassing the core validation, so these tests prove the migrations'
CHECK constraints, foreign keys and triggers — not the Python checks.
"""

from __future__ import annotations

import itertools
from typing import Any

import peewee
import pytest

from mirror_desktop.core.enums import PROPOSAL_TRANSITIONS, ProposalStatus

TS = "2025-12-08T15:30:00.000Z"


def insert(storage: Any, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    marks = ", ".join([storage.db.param] * len(row))
    with storage.transaction():
        storage.db.execute_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))


def refused(storage: Any, table: str, row: dict[str, Any]) -> bool:
    try:
        insert(storage, table, row)
    except Exception:  # noqa: BLE001 - any refusal by the database counts
        return True
    return False


def base_rows() -> dict[str, dict[str, Any]]:
    return {
        "identities": {"id": "id-1", "created_at": TS, "updated_at": TS, "metadata": '{"name": "Work"}'},
        "reflections": {"id": "r-1", "identity_id": "id-1", "content": "I walked by the river.", "content_type": "markdown",
                        "visibility": "local_only", "created_at": TS, "source": "direct", "metadata": '{"tags": ["x"]}'},
        "mirrorbacks": {"id": "m-1", "reflection_id": "r-1", "content": "It sounds like the river mattered.",
                        "engine_version": "1.0.0", "created_at": TS, "metadata": "{}"},
        "threads": {"id": "t-1", "identity_id": "id-1", "title": "Rivers", "started_at": TS, "last_active": TS,
                    "status": "active", "metadata": "{}"},
        "thread_reflections": {"thread_id": "t-1", "reflection_id": "r-1", "position": 0, "added_at": TS},
        "tensions": {"id": "te-1", "identity_id": "id-1", "name": "Control vs Surrender", "axis_a": "Control",
                     "axis_b": "Surrender", "position": 0.2, "intensity": 0.5, "origin": "user_created",
                     "sync_mode": "local_only", "created_at": TS, "updated_at": TS, "metadata": "{}"},
        "axes": {"id": "a-1", "identity_id": "id-1", "name": "Agency", "description": "d", "category": "existential",
                 "created_at": TS, "metadata": "{}"},
        "engine_runs": {"id": "e-1", "reflection_id": "r-1", "config_version": "1.0.0", "engine_mode": "manual",
                        "model_name": None, "patterns": '["obligation_language"]', "tensions_surfaced": "[]",
                        "mirrorback_length": 10, "duration_ms": 3, "flags": "{}", "timestamp": TS, "sync_allowed": False},
        "engine_feedback": {"id": "f-1", "engine_run_id": "e-1", "rating": 4, "flags": None, "notes": None,
                            "timestamp": TS, "sync_allowed": False},
        "evolution_proposals": {"id": "p-1", "proposal_type": "prompt_adjustment", "status": "draft", "title": "t",
                                "description": "d", "changes": '{"diff": 1}', "created_at": TS},
        "evolution_history": {"id": "h-1", "evolution_id": "p-1", "event_type": "upgrade", "applied_at": TS,
                              "reversible": True, "metadata": "{}"},
        "evolution_events": {"id": "ev-1", "event_type": "installation", "event_data": '{"install_type": "fresh"}',
                             "timestamp": TS, "sync_allowed": False},
        "integrations": {"id": "i-1", "identity_id": "id-1", "integration_type": "calendar", "status": "paused",
                         "config": '{"provider": "ics"}', "connected_at": TS},
        "schema_version": {"version": "9.9.9", "description": "test row", "applied_at": TS, "checksum": "x"},
    }


PARENTS = ["identities", "reflections", "threads", "engine_runs"]


def with_parents(storage: Any, table: str) -> None:
    rows = base_rows()
    for parent in PARENTS:
        if parent != table and PARENTS.index(parent) < (PARENTS.index(table) if table in PARENTS else 99):
            insert(storage, parent, rows[parent])


# (table, changes, must be refused?, description)
CASES: list[tuple[str, dict[str, Any], bool, str]] = [
    ("identities", {}, False, "valid identity"),
    ("identities", {"metadata": "{not json"}, True, "metadata must be valid JSON"),
    ("identities", {"metadata": "[1, 2]"}, True, "metadata must be a JSON object"),
    ("identities", {"created_at": "soon"}, True, "created_at must be ISO 8601"),
    ("identities", {"created_at": "infinity"}, True, "created_at must be a finite instant"),
    ("identities", {"created_at": "2025-13-40T00:00:00Z"}, True, "created_at must be a real date"),
    ("reflections", {}, False, "valid reflection"),
    ("reflections", {"content": ""}, True, "content cannot be empty"),
    ("reflections", {"content": " \n\t "}, True, "content cannot be blank"),
    ("reflections", {"content": None}, True, "content cannot be null"),
    ("reflections", {"visibility": "public"}, True, "visibility must be a known value"),
    ("reflections", {"identity_id": None, "visibility": "sync_full_public"}, True, "anonymous must be local_only"),
    ("reflections", {"identity_id": None, "visibility": "sync_summary"}, True, "anonymous must be local_only"),
    ("reflections", {"identity_id": None, "visibility": "local_only"}, False, "anonymous local_only is fine"),
    ("reflections", {"visibility": "sync_full_public"}, False, "an identity may share"),
    ("reflections", {"identity_id": "nobody"}, True, "identity_id must exist"),
    ("reflections", {"content_type": "video"}, True, "content_type must be a known value"),
    ("reflections", {"source": "telepathy"}, True, "source must be a known value"),
    ("reflections", {"metadata": "{'tags': 1}"}, True, "metadata must be valid JSON"),
    ("mirrorbacks", {}, False, "valid mirrorback"),
    ("mirrorbacks", {"reflection_id": "missing"}, True, "reflection_id must exist"),
    ("mirrorbacks", {"content": ""}, True, "content cannot be empty"),
    ("mirrorbacks", {"content": None}, True, "content cannot be null"),
    ("threads", {}, False, "valid thread"),
    ("threads", {"status": "done"}, True, "status must be a known value"),
    ("threads", {"identity_id": "nobody"}, True, "identity_id must exist"),
    ("tensions", {}, False, "valid tension"),
    ("tensions", {"position": 1.5}, True, "position at most 1"),
    ("tensions", {"position": -1.01}, True, "position at least -1"),
    ("tensions", {"position": -1.0}, False, "position -1 is allowed"),
    ("tensions", {"position": 1.0}, False, "position 1 is allowed"),
    ("tensions", {"position": None, "intensity": None}, False, "position and intensity are optional"),
    ("tensions", {"intensity": 1.2}, True, "intensity at most 1"),
    ("tensions", {"intensity": -0.1}, True, "intensity at least 0"),
    ("tensions", {"intensity": 0.0}, False, "intensity 0 is allowed"),
    ("tensions", {"name": "x" * 101}, True, "name at most 100 characters"),
    ("tensions", {"name": "x" * 100}, False, "name of 100 characters is allowed"),
    ("tensions", {"origin": "dream"}, True, "origin must be a known value"),
    ("tensions", {"sync_mode": "share_everything"}, True, "sync_mode must be a known value"),
    ("tensions", {"axis_a": ""}, True, "axis_a cannot be empty"),
    ("axes", {}, False, "valid axis"),
    ("axes", {"name": ""}, True, "name cannot be empty"),
    ("axes", {"metadata": "nope"}, True, "metadata must be valid JSON"),
    ("engine_runs", {}, False, "valid engine run"),
    ("engine_runs", {"duration_ms": 0}, True, "duration_ms must be positive"),
    ("engine_runs", {"duration_ms": -5}, True, "duration_ms must be positive"),
    ("engine_runs", {"duration_ms": None}, False, "duration_ms is optional"),
    ("engine_runs", {"config_version": "1.2"}, True, "config_version needs three parts"),
    ("engine_runs", {"config_version": "v1.2.0"}, True, "config_version is digits and dots"),
    ("engine_runs", {"config_version": "1.2.0.1"}, True, "config_version has exactly three parts"),
    ("engine_runs", {"config_version": "1..2"}, True, "config_version parts cannot be empty"),
    ("engine_runs", {"config_version": "1.2."}, True, "config_version cannot end with a dot"),
    ("engine_runs", {"config_version": "10.20.30"}, False, "multi-digit versions are fine"),
    ("engine_runs", {"engine_mode": "auto"}, True, "engine_mode must be a known value"),
    ("engine_runs", {"patterns": '{"a": 1}'}, True, "patterns must be a JSON array"),
    ("engine_runs", {"flags": "nope"}, True, "flags must be valid JSON"),
    ("engine_runs", {"reflection_id": "missing"}, True, "reflection_id must exist"),
    ("engine_feedback", {}, False, "valid feedback"),
    ("engine_feedback", {"rating": 0}, True, "rating at least 1"),
    ("engine_feedback", {"rating": 6}, True, "rating at most 5"),
    ("engine_feedback", {"rating": 1}, False, "rating 1 is allowed"),
    ("engine_feedback", {"rating": None}, True, "needs rating, flags or notes"),
    ("engine_feedback", {"rating": None, "flags": "[]"}, True, "empty flags do not count"),
    ("engine_feedback", {"rating": None, "notes": "  "}, True, "blank notes do not count"),
    ("engine_feedback", {"rating": None, "notes": "felt heard"}, False, "notes alone are enough"),
    ("engine_feedback", {"rating": None, "flags": '["too_long"]'}, False, "flags alone are enough"),
    ("engine_feedback", {"engine_run_id": "missing"}, True, "engine_run_id must exist"),
    ("evolution_proposals", {}, False, "valid proposal"),
    ("evolution_proposals", {"proposal_type": "vibes"}, True, "proposal_type must be a known value"),
    ("evolution_proposals", {"status": "pending"}, True, "status must be a known value"),
    ("evolution_proposals", {"changes": "{oops"}, True, "changes must be valid JSON"),
    ("evolution_proposals", {"changes": None}, True, "changes is required"),
    ("evolution_history", {}, False, "valid history row"),
    ("evolution_history", {"event_type": "party"}, True, "event_type must be a known value"),
    ("evolution_events", {}, False, "valid event"),
    ("evolution_events", {"event_type": "party"}, True, "event_type must be a known value"),
    ("evolution_events", {"event_data": "not json"}, True, "event_data must be valid JSON"),
    ("evolution_events", {"event_data": None}, True, "event_data is required"),
    ("integrations", {}, False, "valid integration"),
    ("integrations", {"integration_type": "fax"}, True, "integration_type must be a known value"),
    ("integrations", {"status": "sleeping"}, True, "status must be a known value"),
    ("integrations", {"config": "{"}, True, "config must be valid JSON"),
    ("schema_version", {}, False, "valid version row"),
    ("schema_version", {"version": "one"}, True, "version must be MAJOR.MINOR.PATCH"),
]


@pytest.mark.parametrize("table,changes,must_refuse,why", CASES, ids=[f"{c[0]}:{c[3]}" for c in CASES])
def test_database_enforces_rule(storage: Any, table: str, changes: dict[str, Any], must_refuse: bool, why: str) -> None:
    with_parents(storage, table)
    row = {**base_rows()[table], **changes}
    before = storage.counts().get(table, 0)
    assert refused(storage, table, row) is must_refuse, why
    after = storage.counts().get(table, 0)
    assert after == before + (0 if must_refuse else 1)


def test_thread_position_unique_within_thread(storage: Any) -> None:
    rows = base_rows()
    with_parents(storage, "thread_reflections")  # identity, reflection r-1, thread t-1, engine run
    insert(storage, "threads", {**rows["threads"], "id": "t-2"})
    insert(storage, "reflections", {**rows["reflections"], "id": "r-2"})
    insert(storage, "thread_reflections", rows["thread_reflections"])
    # same position in the same thread: refused
    assert refused(storage, "thread_reflections", {**rows["thread_reflections"], "reflection_id": "r-2"})
    # negative position: refused
    assert refused(storage, "thread_reflections", {**rows["thread_reflections"], "reflection_id": "r-2", "position": -1})
    # same position in another thread: accepted
    assert not refused(storage, "thread_reflections", {**rows["thread_reflections"], "thread_id": "t-2"})
    # same pair twice: refused (primary key)
    assert refused(storage, "thread_reflections", {**rows["thread_reflections"], "position": 5})
    # thread and reflection must exist
    assert refused(storage, "thread_reflections", {**rows["thread_reflections"], "thread_id": "nope", "position": 7})


STATUSES = [s.value for s in ProposalStatus]


@pytest.mark.parametrize("old,new", list(itertools.permutations(STATUSES, 2)))
def test_proposal_status_flow(storage: Any, old: str, new: str) -> None:
    insert(storage, "evolution_proposals", {**base_rows()["evolution_proposals"], "status": old})
    allowed = ProposalStatus(new) in PROPOSAL_TRANSITIONS[ProposalStatus(old)]
    try:
        with storage.transaction():
            storage.db.execute_sql(f"UPDATE evolution_proposals SET status = {storage.db.param} WHERE id = 'p-1'", (new,))
        ok = True
    except Exception:  # noqa: BLE001
        ok = False
    assert ok is allowed
    status = storage.db.execute_sql("SELECT status FROM evolution_proposals WHERE id = 'p-1'").fetchone()[0]
    assert status == (new if allowed else old)


def test_allowed_flow_reaches_applied(storage: Any) -> None:
    insert(storage, "evolution_proposals", base_rows()["evolution_proposals"])
    for status in ["testing", "review", "voting", "approved", "applied"]:
        with storage.transaction():
            storage.db.execute_sql(f"UPDATE evolution_proposals SET status = {storage.db.param}", (status,))
    assert storage.db.execute_sql("SELECT status FROM evolution_proposals").fetchone()[0] == "applied"


def test_evolution_history_is_append_only(storage: Any) -> None:
    insert(storage, "evolution_history", base_rows()["evolution_history"])
    for sql in ["UPDATE evolution_history SET applied_by = 'me'", "DELETE FROM evolution_history"]:
        with pytest.raises(peewee.DatabaseError):
            with storage.transaction():
                storage.db.execute_sql(sql)
    if storage.dialect == "postgres":
        with pytest.raises(peewee.DatabaseError):
            with storage.transaction():
                storage.db.execute_sql("TRUNCATE evolution_history")
    row = storage.db.execute_sql("SELECT applied_by FROM evolution_history").fetchall()
    assert row == [(None,)]


def test_foreign_keys_cascade_and_restrict(storage: Any) -> None:
    rows = base_rows()
    for t in ["identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "engine_runs", "engine_feedback"]:
        insert(storage, t, rows[t])
    # An identity with reflections cannot vanish silently (the service moves them to Anonymous first).
    with pytest.raises(peewee.DatabaseError):
        with storage.transaction():
            storage.db.execute_sql("DELETE FROM identities WHERE id = 'id-1'")
    with storage.transaction():
        storage.db.execute_sql("DELETE FROM reflections WHERE id = 'r-1'")
    counts = storage.counts()
    assert counts["mirrorbacks"] == 0 and counts["thread_reflections"] == 0
    # engine runs keep their telemetry, detached from the deleted reflection
    assert storage.db.execute_sql("SELECT reflection_id FROM engine_runs").fetchall() == [(None,)]
