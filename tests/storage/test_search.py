"""Search on both backends: the user's syntax, ranking, snippets, filters, and an index kept in step."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, UTC
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.search_query import HL_END, HL_START, SNIPPET_LENGTH, SearchSyntaxError
from mirror_desktop.core.services import JournalService

DAY = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def journal(storage: Any) -> dict[str, Any]:
    work = storage.identities.create(m.Identity(metadata={"name": "Work"}))
    home = storage.identities.create(m.Identity(metadata={"name": "Home"}))
    texts = {
        "lake": ("I walked around the lake with my mother and we talked about the garden.", home.id, 0),
        "walking": ("Walking to the office, I kept thinking about the deadline and the meeting.", work.id, 1),
        "deadline": ("The deadline again. Deadline after deadline; the project never ends.", work.id, 2),
        "garden": ("The garden needs water. My mother planted tomatoes there years ago.", None, 3),
        "mother": ("Called my mother tonight. She sounded tired but kind.", home.id, 40),
    }
    out = {}
    for key, (text, ident, days) in texts.items():
        r = m.Reflection(text, identity_id=ident, created_at=DAY + timedelta(days=days),
                         visibility="sync_full_private" if key == "mother" else "local_only")
        out[key] = storage.reflections.create(r)
    out["work"], out["home"] = work, home
    return out


def ids(hits: list[Any]) -> set[str]:
    return {h.reflection.id for h in hits}


def test_words_are_anded_and_stemmed(storage: Any, journal: dict[str, Any]) -> None:
    assert ids(storage.search("mother garden")) == {journal["lake"].id, journal["garden"].id}
    assert ids(storage.search("walk")) >= {journal["lake"].id, journal["walking"].id}


def test_phrase_matches_words_in_order(storage: Any, journal: dict[str, Any]) -> None:
    assert ids(storage.search('"my mother"')) == {journal["lake"].id, journal["garden"].id, journal["mother"].id}
    assert ids(storage.search('"mother planted"')) == {journal["garden"].id}
    assert ids(storage.search('"planted mother"')) == set()


def test_prefix(storage: Any, journal: dict[str, Any]) -> None:
    assert ids(storage.search("tomat*")) == {journal["garden"].id}
    assert ids(storage.search("dead*")) == {journal["walking"].id, journal["deadline"].id}


def test_exclusion(storage: Any, journal: dict[str, Any]) -> None:
    assert ids(storage.search("mother -garden")) == {journal["mother"].id}
    with pytest.raises(SearchSyntaxError):
        storage.search("-garden")


def test_ranking_prefers_more_matches(storage: Any, journal: dict[str, Any]) -> None:
    hits = storage.search("deadline")
    assert hits[0].reflection.id == journal["deadline"].id
    assert len(hits) == 2


def test_snippets_mark_matches(storage: Any, journal: dict[str, Any]) -> None:
    hit = storage.search("tomatoes")[0]
    assert f"{HL_START}tomatoes{HL_END}" in hit.snippet


def test_a_long_entry_shows_the_sentence_its_match_is_in(storage: Any) -> None:
    filler = "Nothing much happened at work, which was fine. The bus was late again and I read on my phone. "
    text = filler * 12 + "Then Ana brought me a typewriter from the flea market. " + filler * 12
    storage.reflections.create(m.Reflection(text, created_at=DAY))
    snippet = storage.search("typewriter")[0].snippet
    assert f"{HL_START}typewriter{HL_END}" in snippet and len(snippet) < 300 < len(text)
    if storage.dialect == "sqlite":  # cut from highlight() (cut_snippet); PostgreSQL's ts_headline chooses its own
        assert snippet.startswith(f"…Then Ana brought me a {HL_START}typewriter{HL_END} from the flea market. ")
        assert snippet.endswith("…")


def test_filters(storage: Any, journal: dict[str, Any]) -> None:
    assert ids(storage.search("mother", SearchFilters(identity_id=journal["home"].id))) == {journal["lake"].id, journal["mother"].id}
    assert ids(storage.search("mother", SearchFilters(anonymous_only=True))) == {journal["garden"].id}
    assert ids(storage.search("mother", SearchFilters(since=DAY + timedelta(days=10)))) == {journal["mother"].id}
    assert ids(storage.search("mother", SearchFilters(until=DAY + timedelta(days=1)))) == {journal["lake"].id}
    assert ids(storage.search("mother", SearchFilters(visibility="sync_full_private"))) == {journal["mother"].id}
    svc = JournalService(storage)
    t = svc.create_thread("Family")
    svc.add_to_threads(journal["garden"].id, [t.id])
    assert ids(storage.search("mother", SearchFilters(thread_id=t.id))) == {journal["garden"].id}


def test_index_follows_updates_and_deletes(storage: Any, journal: dict[str, Any]) -> None:
    svc = JournalService(storage)
    r = journal["lake"]
    svc.save_reflection("Now this entry is about kayaks only.", reflection_id=r.id, identity_id=r.identity_id)
    assert ids(storage.search("kayaks")) == {r.id}
    assert r.id not in ids(storage.search("lake"))
    svc.delete_reflection(r.id)
    assert storage.search("kayaks") == []


def test_hostile_query_text_is_never_syntax(storage: Any, journal: dict[str, Any]) -> None:
    for q in ['NEAR(', 'mother OR', '"unterminated', "a:b", "*", "(((", "mother AND NOT", "'; DROP TABLE reflections; --"]:
        storage.search(q)  # no exception from the engine's own syntax
    assert storage.counts()["reflections"] == 5


def test_empty_query_returns_nothing(storage: Any, journal: dict[str, Any]) -> None:
    assert storage.search("   ") == []


def test_common_terms_rank_within_recent_window(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A term with more matches than RANK_WINDOW is ranked among its most recent matches only."""
    from mirror_desktop.storage import journal as journal_module

    monkeypatch.setattr(journal_module, "RANK_WINDOW", 3)
    other = storage.identities.create(m.Identity(metadata={"name": "Other"}))
    mine = storage.identities.create(m.Identity(metadata={"name": "Mine"}))
    old = storage.reflections.create(m.Reflection("river river river river river, and a heron",
                                                  identity_id=mine.id, created_at=DAY))
    recent = [storage.reflections.create(m.Reflection(f"a walk by the river, day {i}", identity_id=other.id,
                                                      created_at=DAY + timedelta(days=10 + i))) for i in range(5)]
    hits = storage.search("river", limit=10)
    assert old.id not in ids(hits)  # outside the window of the 3 most recent matches
    assert ids(hits) <= {r.id for r in recent} and len(hits) == 3
    # Filters that leave the recent window empty fall back to ranking every match.
    assert ids(storage.search("river", SearchFilters(identity_id=mine.id))) == {old.id}
    # A rare term is ranked across the whole journal.
    assert ids(storage.search("heron")) == {old.id}


def test_one_letter_prefix_is_refused(storage: Any) -> None:
    with pytest.raises(SearchSyntaxError, match="two letters"):
        storage.search("w*")


def test_rare_phrase_among_common_words_is_found(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL looks for a phrase inside the recent entries holding its words first; an older lone
    phrase match is still found when that window holds too few."""
    from mirror_desktop.storage import journal as journal_module

    monkeypatch.setattr(journal_module, "RANK_WINDOW", 3)
    old = storage.reflections.create(m.Reflection("Yesterday I went for a run by the canal.", created_at=DAY))
    for i in range(6):
        storage.reflections.create(m.Reflection(f"I went home early, and later the long run of bad days went on ({i}).",
                                                created_at=DAY + timedelta(days=5 + i)))
    assert ids(storage.search('"went for a run"')) == {old.id}
    assert len(storage.search("went run")) == 3  # the plain words are ranked within the window


def test_filtered_pages_do_not_overlap_and_cover_every_match(storage: Any) -> None:
    """Issue 12 reworked SQLite's ranking passes (a filtered window first, then a walk back): with
    fewer matches than the window, paging with an offset returns each filtered match exactly once."""
    mine = storage.identities.create(m.Identity(metadata={"name": "Mine"}))
    other = storage.identities.create(m.Identity(metadata={"name": "Other"}))
    wanted = set()
    for i in range(14):
        ident = mine.id if i % 2 == 0 else other.id
        r = storage.reflections.create(m.Reflection("river " * (1 + i % 3) + f"note {i}", identity_id=ident,
                                                    created_at=DAY + timedelta(days=i)))
        if ident == mine.id:
            wanted.add(r.id)
    f = SearchFilters(identity_id=mine.id)
    pages = [storage.search("river", f, limit=3, offset=o) for o in (0, 3, 6)]
    seen = [h.reflection.id for page in pages for h in page]
    assert sorted(seen) == sorted(wanted)  # 7 matches: pages of 3, 3 and 1, none twice
    ranks = [h.rank for page in pages for h in page]
    assert ranks == sorted(ranks, reverse=storage.dialect == "postgres")  # best first across pages


def test_a_date_range_with_no_entries_finds_nothing(storage: Any, journal: dict[str, Any]) -> None:
    far = DAY - timedelta(days=4000)
    assert storage.search("mother", SearchFilters(since=far, until=far + timedelta(days=1))) == []
    assert ids(storage.search("mother", SearchFilters(since=DAY, until=DAY + timedelta(days=1)))) == {journal["lake"].id}


def test_tags_are_searchable(storage: Any, journal: dict[str, Any]) -> None:
    """Issue 11: tags went in and never came out; ``#tag`` and ``tag:x`` find them, alone or with words."""
    def write(text: str, days: int, tags: list[str] | None = None) -> m.Reflection:
        meta = {"tags": tags} if tags is not None else None
        return storage.reflections.create(m.Reflection(text, created_at=DAY + timedelta(days=days), metadata=meta))

    tagged = write("Slept badly before the review.", 50, ["Sleep", "work"])
    other = write("Slept well by the lake.", 51, ["sleep"])
    write("No tags here, only sleep as a word.", 52)
    assert ids(storage.search("#sleep")) == {tagged.id, other.id}
    assert ids(storage.search("tag:SLEEP #work")) == {tagged.id}
    assert ids(storage.search("#sleep lake")) == {other.id}
    assert ids(storage.search("#sleep slept -lake")) == {tagged.id}
    with pytest.raises(SearchSyntaxError, match="besides the tags"):
        storage.search("#sleep -lake")
    assert [h.reflection.id for h in storage.search("#sleep")] == [other.id, tagged.id]  # newest first
    assert storage.search("#sleep")[0].snippet == "Slept well by the lake."
    assert ids(storage.search("#nothing")) == set()
    assert ids(storage.search("#work", SearchFilters(identity_id=journal["work"].id))) == set()


def test_identity_filter_finds_a_phrase_rare_in_its_identity(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 / migration 008: the identity filter narrows the match itself, so a phrase found in many
    recent entries of another identity still finds the old entries of the identity asked for."""
    from mirror_desktop.storage import journal as journal_module

    monkeypatch.setattr(journal_module, "RANK_WINDOW", 4)
    mine = storage.identities.create(m.Identity(metadata={"name": "Mine"}))
    other = storage.identities.create(m.Identity(metadata={"name": "Other"}))
    old = [storage.reflections.create(m.Reflection(f"the quarterly plan, draft {i}", identity_id=mine.id,
                                                   created_at=DAY + timedelta(days=i))) for i in range(2)]
    anon = storage.reflections.create(m.Reflection("the quarterly plan without a name", created_at=DAY))
    for i in range(12):
        storage.reflections.create(m.Reflection(f"the quarterly plan again ({i})", identity_id=other.id,
                                                created_at=DAY + timedelta(days=10 + i)))
    assert ids(storage.search('"quarterly plan"', SearchFilters(identity_id=mine.id))) == {r.id for r in old}
    assert ids(storage.search('"quarterly plan"', SearchFilters(anonymous_only=True))) == {anon.id}
    got = storage.search('"quarterly plan"', SearchFilters(identity_id=other.id), limit=50)
    assert got and all(h.reflection.identity_id == other.id for h in got)


def test_identity_tokens_never_match_the_persons_words(storage: Any) -> None:
    """The identity column of the index is never searched by the person's words ("an*" would otherwise
    match every anonymous entry's token)."""
    storage.reflections.create(m.Reflection("Nothing but tea today."))
    mine = storage.identities.create(m.Identity(metadata={"name": "Mine"}))
    storage.reflections.create(m.Reflection("Coffee instead.", identity_id=mine.id))
    assert storage.search("an*") == []
    assert storage.search("anonymous") == [] and storage.search("i0*") == []
    assert storage.search(mine.id.split("-")[0]) == []


def test_identity_filter_follows_an_identity_change(storage: Any) -> None:
    """An entry moved to another identity, or made anonymous (as when its identity is removed), is found
    under its new identity only (the index's identity token follows the row)."""
    a = storage.identities.create(m.Identity(metadata={"name": "A"}))
    b = storage.identities.create(m.Identity(metadata={"name": "B"}))
    r = storage.reflections.create(m.Reflection("A heron by the weir.", identity_id=a.id))
    storage.reflections.update(replace(r, identity_id=b.id))
    assert ids(storage.search("heron", SearchFilters(identity_id=a.id))) == set()
    assert ids(storage.search("heron", SearchFilters(identity_id=b.id))) == {r.id}
    storage.reflections.make_anonymous(b.id)
    assert ids(storage.search("heron", SearchFilters(identity_id=b.id))) == set()
    assert ids(storage.search("heron", SearchFilters(anonymous_only=True))) == {r.id}


def test_migration_008_rebuilds_the_index_both_ways(tmp_path: Any) -> None:
    """Migration 008 (SQLite) rebuilds the full-text index of a journal that already holds entries, with
    identities; rolling it back rebuilds the old index, and migrating again finds them by identity."""
    from mirror_desktop.storage.journal import SQLiteStorage
    from mirror_desktop.storage.migrations import load_migrations

    names = [mig.name for mig in load_migrations("sqlite")]
    before = load_migrations("sqlite")[names.index("008_search.sql") - 1].version
    s = SQLiteStorage(tmp_path / "j.db", migrate=False)
    try:
        s.runner.migrate(target=before)
        mine = s.identities.create(m.Identity(metadata={"name": "Mine"}))
        r1 = s.reflections.create(m.Reflection("The heron came back to the weir.", identity_id=mine.id))
        r2 = s.reflections.create(m.Reflection("A heron, and no name."))
        s.runner.migrate()
        assert ids(s.search("heron", SearchFilters(identity_id=mine.id))) == {r1.id}
        assert ids(s.search("heron", SearchFilters(anonymous_only=True))) == {r2.id}
        s.db.execute_sql("INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('integrity-check', 1)")
        s.runner.rollback(before)
        hits = s.db.execute_sql("SELECT rowid FROM reflections_fts WHERE reflections_fts MATCH 'heron'").fetchall()
        assert len(hits) == 2
        s.db.execute_sql("INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('integrity-check', 1)")
        s.runner.migrate()
        assert ids(s.search("heron", SearchFilters(identity_id=mine.id))) == {r1.id}
    finally:
        s.close()


@pytest.mark.parametrize("strategy", ["always", "fallback", "never"])
def test_every_identity_strategy_finds_the_same_entries(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                        strategy: str) -> None:
    """The three places an identity filter can run (SQLite, migration 008) answer alike; the benchmark
    compares their speed, the app uses "always"."""
    from mirror_desktop.storage import journal as journal_module
    from mirror_desktop.storage.journal import SQLiteStorage

    monkeypatch.setattr(journal_module, "RANK_WINDOW", 4)
    s = SQLiteStorage(tmp_path / "j.db")
    try:
        s.identity_in_match = strategy
        mine = s.identities.create(m.Identity(metadata={"name": "Mine"}))
        other = s.identities.create(m.Identity(metadata={"name": "Other"}))
        old = {s.reflections.create(m.Reflection(f"the quarterly plan, draft {i}", identity_id=mine.id,
                                                 created_at=DAY + timedelta(days=i))).id for i in range(2)}
        anon = s.reflections.create(m.Reflection("the quarterly plan without a name", created_at=DAY)).id
        for i in range(12):
            s.reflections.create(m.Reflection(f"the quarterly plan again ({i})", identity_id=other.id,
                                              created_at=DAY + timedelta(days=10 + i)))
        assert ids(s.search('"quarterly plan"', SearchFilters(identity_id=mine.id))) == old
        assert ids(s.search("quarter*", SearchFilters(identity_id=mine.id))) == old
        assert ids(s.search("plan -again", SearchFilters(anonymous_only=True))) == {anon}
    finally:
        s.close()


def test_without_ranks_the_same_hits_in_the_same_order(storage: Any, journal: dict[str, Any]) -> None:
    """The window asks without ranks (it shows none): the same reflections, order and snippets, rank None."""
    for query in ("deadline", '"my mother"', "garden -tomatoes", "walk*", "#none"):
        ranked = storage.search(query)
        bare = storage.search(query, ranks=False)
        assert [(h.reflection.id, h.snippet) for h in bare] == [(h.reflection.id, h.snippet) for h in ranked]
        assert all(h.rank is None for h in bare) and all(isinstance(h.rank, float) for h in ranked)


def test_a_hit_lists_its_reflection_and_holds_all_of_it(journal_location: dict[str, object]) -> None:
    """A results list reads a hit's id, date, identity and text; the whole reflection (metadata, enums) is
    the stored one, also when first asked for after the journal has closed (as `mirror search` prints)."""
    from mirror_desktop.storage.journal import open_storage

    s = open_storage(**journal_location)  # type: ignore[arg-type]
    try:
        ident = s.identities.create(m.Identity(metadata={"name": "Home"}))
        stored = {r.id: r for r in (
            s.reflections.create(m.Reflection("A heron stood in the reeds.", identity_id=ident.id,
                                              visibility="sync_full_private", metadata={"tags": ["birds"]},
                                              created_at=DAY)),
            s.reflections.create(m.Reflection("Another heron, grey and still.", content_type="text",
                                              created_at=DAY + timedelta(days=3))))}
        asked = (("heron", True), ("heron", False), ('"grey and still"', False), ("#birds", False))
        found = {a: s.search(a[0], ranks=a[1]) for a in asked}
        assert s.search("heron") == found[("heron", True)]  # hits are equal by value
    finally:
        s.close()
    assert [len(found[a]) for a in asked] == [2, 2, 1, 1]
    for hits in found.values():
        for hit in hits:
            r = stored[hit.reflection_id]
            assert (hit.created_at, hit.identity_id, hit.content) == (r.created_at, r.identity_id, r.content)
            assert hit.reflection == r
    assert found[("heron", True)] != found[("heron", False)]  # the same reflections and snippets, not the ranks


def test_a_search_of_tags_alone_shows_each_entrys_opening(storage: Any) -> None:
    text = "Slept badly again.\nThe heater clicked all night " + "and I counted the clicks " * 20 + "until six."
    storage.reflections.create(m.Reflection(text, created_at=DAY, metadata={"tags": ["sleep"]}))
    snippet = storage.search("#sleep")[0].snippet
    assert snippet.startswith("Slept badly again.\nThe heater clicked") and snippet.endswith("…")
    assert len(snippet) <= SNIPPET_LENGTH + 1 and text.startswith(snippet[:-1])  # cut between words
    assert text[len(snippet) - 1] == " "
