"""Issue 16 on a real SQLite file and a real PostgreSQL server: the calendar's month, On This Day,
streaks and statistics in the person's time zone, tags, backdating, reminders and templates.

The day summaries of migration 005 are kept by triggers; every test that changes reflections also
checks them against a count made directly from the reflections, so a trigger that misses a case fails.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import Visibility
from mirror_desktop.core.errors import MirrorError, ValidationError
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.services import JournalService
from mirror_desktop.core.templates import BUILTIN_TEMPLATES, TemplateService
from mirror_desktop.core.writing import (
    EVERYONE,
    ReminderSettings,
    Scope,
    WritingService,
    WritingSettings,
)
from mirror_desktop.storage.migrations import load_migrations


def at(y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def direct_days(storage: Any, ws: WritingService, scope: Scope = EVERYONE) -> dict[date, tuple[int, int]]:
    """Reflections and words per local day counted from the reflections themselves (no summary)."""
    s = ws.settings()
    out: dict[date, list[int]] = {}
    for r in storage.reflections.list():
        if scope.anonymous_only and r.identity_id is not None:
            continue
        if scope.identity_id is not None and r.identity_id != scope.identity_id:
            continue
        cell = out.setdefault(ws.local_day(r.created_at, s), [0, 0])
        cell[0] += 1
        cell[1] += int((r.metadata or {}).get("word_count") or 0)
    return {d: (n, w) for d, (n, w) in out.items()}


def summary_days(storage: Any, scope: Scope = EVERYONE) -> dict[date, tuple[int, int]]:
    return {d: (n, w) for d, n, w in storage.writing.days(scope.key)}


@pytest.fixture
def svc(storage: Any) -> tuple[Any, JournalService, WritingService]:
    return storage, JournalService(storage), WritingService(storage)


def test_month_counts_local_days_per_identity_and_summaries_follow_every_change(svc: Any) -> None:
    storage, js, ws = svc
    ws.save_settings(WritingSettings(time_zone="America/New_York"))
    work = js.create_identity("Work")
    # 02:30 UTC on 10 March is 21:30 on 9 March in New York (EST, UTC-5).
    a = js.save_reflection("late one night", identity_id=work.id, created_at=at(2024, 3, 10, 2, 30))
    js.save_reflection("morning pages here", created_at=at(2024, 3, 10, 14))
    c = js.save_reflection("another on the ninth", identity_id=work.id, created_at=at(2024, 3, 9, 15))
    month = ws.month_counts(2024, 3, now=at(2024, 3, 20))
    assert month.counts == {date(2024, 3, 9): 2, date(2024, 3, 10): 1}
    assert month.words == {date(2024, 3, 9): 7, date(2024, 3, 10): 3}
    assert month.today == date(2024, 3, 20)
    assert ws.month_counts(2024, 3, Scope(work.id)).counts == {date(2024, 3, 9): 2}
    assert ws.month_counts(2024, 3, Scope(anonymous_only=True)).counts == {date(2024, 3, 10): 1}
    assert ws.month_counts(2024, 2).counts == {}

    # Every kind of change keeps the summary equal to a direct count.
    js.save_reflection("late one night, rewritten at more length", reflection_id=a.id, identity_id=work.id,
                       tags=["night"])
    ws.set_date(c.id, at(2023, 12, 31, 23))
    storage.reflections.make_anonymous(work.id)
    js.delete_reflection(a.id)
    for scope in (EVERYONE, Scope(work.id), Scope(anonymous_only=True)):
        assert summary_days(storage, scope) == direct_days(storage, ws, scope)
    assert ws.month_counts(2023, 12).counts == {date(2023, 12, 31): 1}


def test_day_start_and_daylight_saving_place_entries_on_the_right_day(svc: Any) -> None:
    storage, js, ws = svc
    js.save_reflection("before the change", created_at=at(2024, 3, 30, 23, 30))  # 00:30 CET on the 31st
    js.save_reflection("after the change", created_at=at(2024, 3, 31, 22, 30))  # 00:30 CEST on 1 April
    js.save_reflection("small hours", created_at=at(2024, 4, 1, 23, 15))  # 01:15 CEST on the 2nd
    ws.save_settings(WritingSettings(time_zone="Europe/Berlin"))
    assert set(ws.month_counts(2024, 3).counts) == {date(2024, 3, 31)}
    assert set(ws.month_counts(2024, 4).counts) == {date(2024, 4, 1), date(2024, 4, 2)}
    assert ws.stats().by_hour[0] == 2 and ws.stats().by_hour[1] == 1
    # With the day starting at 4:00, writing after midnight counts for the evening before.
    ws.save_settings(WritingSettings(time_zone="Europe/Berlin", day_start_hour=4))
    assert set(ws.month_counts(2024, 3).counts) == {date(2024, 3, 30), date(2024, 3, 31)}
    assert set(ws.month_counts(2024, 4).counts) == {date(2024, 4, 1)}
    assert ws.stats().by_hour[0] == 2  # the hour of day is the clock's, not shifted by the day start
    assert summary_days(storage) == direct_days(storage, ws)
    assert [r.content for r in ws.day_reflections(date(2024, 3, 31))] == ["after the change"]


def test_a_reader_with_stale_summaries_counts_directly_and_agrees(svc: Any) -> None:
    storage, js, ws = svc
    for i in range(5):
        js.save_reflection(f"entry {i} with words", created_at=at(2024, 5, 1 + i, 23, 30), tags=["walk"])
    ws.save_settings(WritingSettings(time_zone="Asia/Kolkata"))  # UTC+5:30: 23:30 UTC is the next day
    expected = ws.month_counts(2024, 5).counts
    assert expected == {date(2024, 5, d): 1 for d in range(2, 7)}
    # Another device (or the system zone) changes the setting; only a writer can rebuild.
    storage.writing.set_setting("summary", {"zone": "UTC", "day_start_hour": 0})
    reader = storage.open_reader()
    try:
        rws = WritingService(reader)
        assert not rws.summary_current()
        assert rws.month_counts(2024, 5).counts == expected
        assert rws.stats(now=at(2024, 5, 6, 20)).current_streak == 5
    finally:
        reader.close()
    assert ws.prepare() is True and ws.summary_current()
    assert ws.month_counts(2024, 5).counts == expected


def test_on_this_day_earlier_years_per_identity_with_leap_days(svc: Any) -> None:
    storage, js, ws = svc
    home = js.create_identity("Home")
    js.save_reflection("two years back", identity_id=home.id, created_at=at(2022, 3, 15, 9))
    js.save_reflection("last year", created_at=at(2023, 3, 15, 20))
    js.save_reflection("today itself", created_at=at(2024, 3, 15, 8))
    js.save_reflection("the day after", created_at=at(2023, 3, 16, 8))
    js.save_reflection("leap day", created_at=at(2020, 2, 29, 10))
    found = ws.on_this_day(date(2024, 3, 15))
    assert [(e.reflection.content, e.years_ago) for e in found] == [("last year", 1), ("two years back", 2)]
    assert [e.reflection.content for e in ws.on_this_day(date(2024, 3, 15), Scope(home.id))] == ["two years back"]
    assert [e.reflection.content for e in ws.on_this_day(date(2023, 2, 28))] == ["leap day"]
    assert ws.on_this_day(date(2024, 2, 28)) == []  # 2024 has its own 29th
    assert [e.years_ago for e in ws.on_this_day(date(2024, 2, 29))] == [4]


def test_stats_streaks_words_months_tags_and_hours(svc: Any) -> None:
    storage, js, ws = svc
    for day in (1, 2, 3, 5, 6, 7, 8):  # a 3-day run, a gap, a 4-day run ending yesterday
        js.save_reflection("one two three four", created_at=at(2024, 6, day, 21), tags=["sleep", "Work"])
    js.save_reflection("five six", created_at=at(2024, 5, 20, 7), tags=["work"])
    stats = ws.stats(now=at(2024, 6, 9, 10))
    assert (stats.current_streak, stats.longest_streak, stats.longest_streak_end) == (4, 4, date(2024, 6, 8))
    assert not stats.written_today
    assert (stats.reflections, stats.words, stats.days_written) == (8, 30, 8)
    assert stats.by_month == {"2024-05": 1, "2024-06": 7}
    assert stats.words_by_month == {"2024-05": 2, "2024-06": 28}
    assert [(t.tag, t.count) for t in stats.top_tags] == [("work", 8), ("sleep", 7)]
    assert stats.by_hour[21] == 7 and stats.by_hour[7] == 1 and sum(stats.by_hour) == 8
    assert sum(stats.by_weekday) == 8 and stats.words_per_day == 30 / 8
    data = stats.to_json()
    assert {"current_streak", "longest_streak", "reflections", "words", "by_month", "top_tags"} <= set(data)
    assert data["top_tags"][0] == {"tag": "work", "count": 8}
    # A day without writing breaks the current streak; writing today extends it.
    assert ws.stats(now=at(2024, 6, 10, 10)).current_streak == 0
    js.save_reflection("today too", created_at=at(2024, 6, 9, 9))
    assert ws.stats(now=at(2024, 6, 9, 10)).current_streak == 5
    empty = WritingService(storage).stats(Scope("nobody"), now=at(2024, 6, 9))
    assert (empty.reflections, empty.current_streak, empty.first_day) == (0, 0, None)


def test_tags_rename_and_merge_every_reflection_in_one_transaction(svc: Any) -> None:
    storage, js, ws = svc
    a = js.save_reflection("a", tags=["Work", "sleep"])
    b = js.save_reflection("b", tags=["job"])
    c = js.save_reflection("c", tags=["work", "job"])
    storage.reflections.create(m.Reflection(content="old style", metadata={"tags": ["oddly peaceful"]}))
    assert [(t.tag, t.count) for t in ws.tag_counts()] == [("job", 2), ("work", 2), ("oddly peaceful", 1),
                                                           ("sleep", 1)]
    assert ws.merge_tags(["work", "#job"], "career") == 3
    assert storage.reflections.get(a.id).tags == ["career", "sleep"]
    assert storage.reflections.get(b.id).tags == ["career"]
    assert storage.reflections.get(c.id).tags == ["career"]
    assert ws.rename_tag("oddly peaceful", "oddly-peaceful") == 1
    assert [(t.tag, t.count) for t in ws.tag_counts()] == [("career", 3), ("oddly-peaceful", 1), ("sleep", 1)]
    # A bad new name changes nothing.
    with pytest.raises(ValidationError, match="spaces"):
        ws.rename_tag("career", "two words")
    assert storage.reflections.get(a.id).tags == ["career", "sleep"]
    # The list filter and search find tags without case.
    assert {r.id for r in js.reflections_page(SearchFilters(tags=("CAREER",)))} == {a.id, b.id, c.id}
    assert {h.reflection.id for h in js.search("#career")} == {a.id, b.id, c.id}
    assert {h.reflection.id for h in js.search("tag:sleep")} == {a.id}


def test_rename_rolls_back_as_a_whole(svc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    storage, js, ws = svc
    ids = [js.save_reflection(f"r{i}", tags=["walk"]).id for i in range(3)]
    real = storage.reflections.update
    calls = {"n": 0}

    def failing(obj: m.Reflection) -> m.Reflection:
        calls["n"] += 1
        if calls["n"] == 3:
            raise MirrorError("the disk is full")
        return real(obj)  # type: ignore[no-any-return]

    monkeypatch.setattr(storage.reflections, "update", failing)
    with pytest.raises(MirrorError):
        ws.rename_tag("walk", "stroll")
    assert [storage.reflections.get(i).tags for i in ids] == [["walk"]] * 3
    assert [(t.tag, t.count) for t in ws.tag_counts()] == [("walk", 3)]


def test_tag_rules_spaces_refused_emoji_allowed(svc: Any) -> None:
    storage, js, ws = svc
    saved = js.save_reflection("moon", tags=["🌙", "#late-night", "late-night"])
    assert saved.tags == ["late-night", "🌙"]
    for bad in ("two words", "a#b", 'say"x"', "x" * 65):
        with pytest.raises(ValidationError):
            js.save_reflection("refused", tags=[bad])
    assert storage.reflections.count() == 1
    # A reflection that already carries an old-style tag can still be saved with it.
    old = storage.reflections.create(m.Reflection(content="old", metadata={"tags": ["oddly peaceful"]}))
    assert js.save_reflection("old, edited", reflection_id=old.id, tags=old.tags).tags == ["oddly peaceful"]


def test_backdating_rules_and_nothing_changes_when_refused(svc: Any) -> None:
    storage, js, ws = svc
    now = at(2024, 6, 9, 12)
    r = js.save_reflection("to be moved", created_at=at(2024, 6, 1, 8))
    assert ws.set_date(r.id, at(2020, 1, 1, 8), now=now).created_at == at(2020, 1, 1, 8)
    assert ws.month_counts(2020, 1).counts == {date(2020, 1, 1): 1}
    for bad in (at(1899, 12, 31), now + timedelta(hours=1), datetime(2020, 1, 1, 8)):
        with pytest.raises(ValidationError):
            ws.set_date(r.id, bad, now=now)
    assert storage.reflections.get(r.id).created_at == at(2020, 1, 1, 8)
    assert ws.set_date(r.id, now + timedelta(minutes=4), now=now).created_at == now + timedelta(minutes=4)
    ws.save_settings(WritingSettings(time_zone="Europe/Berlin"))
    assert ws.parse_date("2024-03-15 21:30", now=now) == datetime(2024, 3, 15, 20, 30, tzinfo=UTC)
    assert ws.parse_date("2024-03-15", now=now) == datetime(2024, 3, 15, 11, 0, tzinfo=UTC)
    assert ws.parse_date("2024-06-09", now=now) == now  # today: now, never "in the future"
    for text in ("2024-02-30", "15.03.2024", "2024-03-15 25:61", "2030-01-01"):
        with pytest.raises(ValidationError):
            ws.parse_date(text, now=now)


def test_reminders_fire_once_a_day_even_when_the_clock_jumps(svc: Any) -> None:
    storage, js, ws = svc
    with pytest.raises(ValidationError, match="25:61"):
        ws.save_settings(WritingSettings(reminder=ReminderSettings(True, "25:61")))
    assert ws.settings() == WritingSettings()
    assert ws.reminder_due(now=at(2024, 6, 10, 22)).reason == "disabled"
    ws.save_settings(WritingSettings(time_zone="UTC", reminder=ReminderSettings(True, "21:00", (0, 1, 2, 3, 4))))
    assert ws.reminder_due(now=at(2024, 6, 10, 20, 59)).reason == "too_early"  # a Monday
    assert ws.reminder_due(now=at(2024, 6, 15, 22)).reason == "not_today"  # a Saturday
    due = ws.reminder_due(now=at(2024, 6, 10, 21, 0))
    assert due.due and due.day == date(2024, 6, 10)
    ws.mark_reminder_fired(due.day)
    assert ws.reminder_due(now=at(2024, 6, 10, 23)).reason == "already_fired"
    # The clock is set forward a day, then back again: the 10th never fires twice.
    assert ws.reminder_due(now=at(2024, 6, 11, 21, 30)).due
    ws.mark_reminder_fired(date(2024, 6, 11))
    assert ws.reminder_due(now=at(2024, 6, 10, 22)).reason == "already_fired"
    # Writing that day keeps it quiet.
    js.save_reflection("written before the reminder", created_at=at(2024, 6, 12, 9))
    assert ws.reminder_due(now=at(2024, 6, 12, 21, 5)).reason == "wrote_today"
    assert ws.wrote_on(date(2024, 6, 12)) and not ws.wrote_on(date(2024, 6, 13))


def test_templates_builtin_own_and_bad_bodies(svc: Any) -> None:
    storage, js, ws = svc
    ts = TemplateService(storage)
    assert [t.name for t in ts.list()] == [n for n, _ in BUILTIN_TEMPLATES]
    for _, body in BUILTIN_TEMPLATES:
        assert "?" in body and "should" not in body.lower() and "try " not in body.lower()
    ts.save("Morning", "What woke me?\n")
    ts.save("morning ", "What woke me up today?\n")  # the same name: an edit, not a second one
    ts.save("Gratitude", "Three things.\n")
    names = [(t.name, t.builtin, t.overrides_builtin) for t in ts.list()]
    assert ("Gratitude", False, True) in names and ("morning", False, False) in names  # the edit's spelling
    assert len(storage.templates.list()) == 2
    assert ts.get("MORNING").body == "What woke me up today?\n"
    with pytest.raises(ValidationError, match="empty"):
        ts.save("blank", "  \n ")
    with pytest.raises(ValidationError, match="64 KB"):
        ts.save("huge", "a" * (64 * 1024 + 1))
    with pytest.raises(ValidationError, match="built in"):
        ts.remove("weekly review")
    assert ts.remove("gratitude") is not None and ts.get("gratitude").builtin
    assert ts.remove("morning") is None
    with pytest.raises(MirrorError):
        ts.get("morning")
    assert len(storage.templates.list()) == 0
    r = js.save_reflection("from a template", template="gratitude")
    assert r.metadata and r.metadata["template"] == "gratitude"


def test_migration_005_fills_summaries_for_an_existing_journal_and_rolls_back(backend: str,
                                                                          journal_location: dict[str, Any]) -> None:
    from mirror_desktop.storage.journal import open_storage

    versions = [mig.version for mig in load_migrations(backend)]
    before = versions[versions.index("1.4.0") - 1]
    s = open_storage(**journal_location, migrate=False)
    try:
        s.runner.migrate(target=before)
        ident = m.Identity(metadata={"name": "Old"})
        s.identities.create(ident)
        s.reflections.create(m.Reflection(content="from an older Mirror", identity_id=ident.id,
                                          visibility=Visibility.LOCAL_ONLY, created_at=at(2021, 7, 4, 23, 59),
                                          metadata={"tags": ["Summer", "summer"], "word_count": 4}))
        s.reflections.create(m.Reflection(content="no count here at all", created_at=at(2021, 7, 5, 0, 1)))
        s.runner.migrate()
        ws = WritingService(s)
        assert s.writing.days(None) == [(date(2021, 7, 4), 1, 4), (date(2021, 7, 5), 1, 5)]
        assert s.writing.tags(None) == [("summer", 1)]
        assert ws.settings() == WritingSettings()
        s.runner.rollback(before)
        assert "writing_days" not in s.db.get_tables() and "templates" not in s.db.get_tables()
        s.reflections.create(m.Reflection(content="still writable after the rollback"))
        s.runner.migrate()
        assert len(s.writing.days(None)) == 3
    finally:
        s.close()


def test_visibility_identity_and_edit_keep_the_summary_exact(svc: Any) -> None:
    storage, js, ws = svc
    me = js.create_identity("Me")
    r = js.save_reflection("shared thought", identity_id=me.id, visibility="sync_full_private",
                           created_at=at(2024, 1, 2, 10))
    assert r.visibility == Visibility.SYNC_FULL_PRIVATE
    moved = replace(r, identity_id=None, visibility=Visibility.LOCAL_ONLY)
    storage.reflections.update(moved)
    assert summary_days(storage, Scope(me.id)) == {}
    assert summary_days(storage, Scope(anonymous_only=True)) == {date(2024, 1, 2): (1, 2)}


def test_search_finds_emoji_tags_and_older_tags_with_spaces(svc: Any) -> None:
    storage, js, ws = svc
    moon = js.save_reflection("a quiet night", tags=["🌙"])
    old = storage.reflections.create(m.Reflection(content="from an older journal", metadata={"tags": ["Oddly Peaceful"]}))
    assert [h.reflection.id for h in js.search("#🌙")] == [moon.id]
    assert [h.reflection.id for h in js.search('tag:"oddly  peaceful"')] == [old.id]
    assert [h.reflection.id for h in js.search('tag:"oddly peaceful" journal')] == [old.id]
    assert js.search("#oddly") == []


def test_a_journal_with_only_a_template_of_its_own_is_not_empty(svc: Any) -> None:
    storage, js, ws = svc
    assert js.is_empty()
    TemplateService(storage).save("mine", "What now?")
    assert not js.is_empty()


def test_statistics_from_the_summary_match_a_direct_count(svc: Any) -> None:
    storage, js, ws = svc
    ws.save_settings(WritingSettings(time_zone="America/New_York", day_start_hour=3))
    me = js.create_identity("Me")
    start = at(2023, 1, 1, 20)
    rows = [m.Reflection(content="a few words here", identity_id=me.id if i % 3 else None,
                         created_at=start + timedelta(days=i, hours=(i * 7) % 9),
                         metadata={"tags": ["walk"], "word_count": 4 + i % 5})
            for i in range(420) if i % 97 != 50]  # runs broken a few times
    storage.reflections.create_many(rows)
    js.save_reflection("four hundred days on", created_at=at(2024, 2, 24, 20))
    now = at(2024, 2, 25, 18)
    fast = {scope: ws.stats(scope, now=now) for scope in (EVERYONE, Scope(me.id), Scope(anonymous_only=True))}
    storage.writing.set_setting("summary", {"zone": "UTC", "day_start_hour": 0})  # stale: counted directly
    reader = storage.open_reader()
    try:
        slow = {scope: WritingService(reader).stats(scope, now=now) for scope in fast}
    finally:
        reader.close()
    for scope, f in fast.items():
        assert f == slow[scope], scope
    assert fast[EVERYONE].longest_streak > 90 and fast[EVERYONE].current_streak >= 1
    assert len(fast[EVERYONE].by_day) <= 371 and min(fast[EVERYONE].by_day) >= date(2023, 2, 20)
    assert sum(fast[EVERYONE].by_month.values()) == fast[EVERYONE].reflections == len(rows) + 1


def test_a_streak_longer_than_the_heat_map_is_counted_whole(svc: Any) -> None:
    storage, js, ws = svc
    storage.reflections.create_many([m.Reflection(content="daily", created_at=at(2023, 1, 1, 12) + timedelta(days=i),
                                                  metadata={"word_count": 1}) for i in range(400)])
    stats = ws.stats(now=at(2023, 1, 1, 12) + timedelta(days=400))  # the day after the last one
    assert (stats.current_streak, stats.longest_streak, stats.days_written) == (400, 400, 400)
    assert not stats.written_today and len(stats.by_day) == 370
