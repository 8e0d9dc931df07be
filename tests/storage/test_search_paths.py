"""SQLite search on a generated journal against the plain ranked FTS5 query (issue 12, item 4).

Mirror's search takes one of two paths: a query with fewer matches than RANK_WINDOW is ranked across
the whole journal, a commoner one among its most recent matches. Whatever the path, every hit must be
a match that passes the filters, with the rank and snippet FTS5 gives that entry, best first, and a
query with fewer matches than the window must show the plain ranked query's page (entries of equal
rank may come in another order: the window's passes put the newer first, FTS5 the older). Every
query class of benchmarks/bench_search.py runs with each filter, with a window small enough that
both paths are taken on a small journal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, UTC
from pathlib import Path
from types import SimpleNamespace

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.search_query import HL_END, HL_START, cut_snippet, parse_query
from mirror_desktop.storage import journal as journal_module
from mirror_desktop.storage.journal import SQLiteStorage, _fts_match

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
from prose import QUERY_WORDS  # noqa: E402

WINDOW = 80
END = datetime(2026, 1, 1, tzinfo=UTC)
QUERIES = [
    *QUERY_WORDS["common"], *QUERY_WORDS["rare"][:8], *(f'"{p}"' for p in QUERY_WORDS["phrase"]),
    *QUERY_WORDS["prefix"], "today -think", "felt -tired", '"my mother" -today', "the old", "sleep* -tired",
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStorage]:
    storage = SQLiteStorage(tmp_path_factory.mktemp("paths") / "mirror_os.db")
    generate.generate_journal(storage, 700, seed=5, end=END)
    yield storage
    storage.close()


def filter_sets(storage: SQLiteStorage) -> list[SearchFilters | None]:
    idents = storage.identities.list()
    newest = storage.reflections.page(limit=1)[0].created_at
    return [None, *(SearchFilters(identity_id=i.id) for i in idents), SearchFilters(anonymous_only=True),
            SearchFilters(since=newest - timedelta(days=400), until=newest - timedelta(days=100))]


def expected(storage: SQLiteStorage, query: str, filters: SearchFilters | None) -> list[tuple[str, float, str]]:
    """Every match passing the filters as (id, rank, snippet), best first: the plain ranked FTS5 query, its
    snippet cut from FTS5's highlight() of the entry."""
    where, params = storage._filter_sql(filters)
    rows = storage.db.execute_sql(
        "SELECT r.id, reflections_fts.rank, highlight(reflections_fts, 0, ?, ?) "
        "FROM reflections_fts CROSS JOIN reflections r ON r.rowid = reflections_fts.rowid "
        f"WHERE reflections_fts MATCH ?{where} ORDER BY reflections_fts.rank",
        [HL_START, HL_END, _fts_match(parse_query(query)), *params]).fetchall()
    return [(rid, float(rank), cut_snippet(marked)) for rid, rank, marked in rows]


def total_matches(storage: SQLiteStorage, query: str) -> int:
    return int(storage.db.execute_sql("SELECT count(*) FROM reflections_fts WHERE reflections_fts MATCH ?",
                                      [_fts_match(parse_query(query))]).fetchone()[0])


def test_the_generated_journal_takes_both_paths(generated: SQLiteStorage) -> None:
    counts = {q: total_matches(generated, q) for q in QUERIES}
    assert any(n >= WINDOW for n in counts.values()) and any(0 < n < WINDOW for n in counts.values())
    # A phrase whose words are in more entries than the window while the phrase itself is in fewer.
    loose = generated.db.execute_sql("SELECT count(*) FROM reflections_fts WHERE reflections_fts MATCH ?",
                                     ['"the" "old" "house"']).fetchone()[0]
    assert loose >= WINDOW > counts['"the old house"'] > 0


@pytest.mark.parametrize("query", QUERIES)
def test_every_class_and_filter_matches_the_plain_ranked_query(generated: SQLiteStorage, query: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "RANK_WINDOW", WINDOW)
    few = total_matches(generated, query) < WINDOW
    for filters in filter_sets(generated):
        want = expected(generated, query, filters)
        truth = {rid: (rank, snip) for rid, rank, snip in want}
        for offset in (0, 10):
            hits = generated.search(query, filters, limit=10, offset=offset)
            got = [(h.reflection.id, h.rank, h.snippet) for h in hits]
            assert len({rid for rid, _, _ in got}) == len(got)
            for rid, rank, snip in got:  # each hit a filtered match, with FTS5's rank and snippet for it
                assert truth[rid] == (rank, snip), (query, filters)
            ranks = [rank for _, rank, _ in got]
            assert ranks == sorted(ranks)
            if few:  # ranked across the whole journal: the plain ranked query's page (equal ranks in either order)
                page = want[offset:offset + 10]
                assert ranks == [rank for _, rank, _ in page], (query, filters, offset)
                assert {rid for rid, rank, _ in got if rank != ranks[-1]} == \
                    {rid for rid, rank, _ in page if rank != ranks[-1]}, (query, filters, offset)
            elif offset == 0 and want:
                assert got, (query, filters)
            for h in hits:
                assert h.reflection == generated.reflections.get(h.reflection.id)
            unranked = generated.search(query, filters, limit=10, offset=offset, ranks=False)  # as the window asks
            assert [(h.reflection.id, h.snippet) for h in unranked] == [(rid, snip) for rid, _, snip in got]
            assert all(h.rank is None for h in unranked)


def test_a_hit_is_the_stored_reflection(tmp_path: Path) -> None:
    """Search builds its reflections from raw rows: every field must equal what the repository reads,
    including metadata written with spaces and a timestamp stored with an offset by an older Mirror."""
    s = SQLiteStorage(tmp_path / "j.db")
    try:
        ident = s.identities.create(m.Identity(metadata={"name": "Me"}))
        a = s.reflections.create(m.Reflection("a heron by the weir", identity_id=ident.id,
                                              metadata={"tags": ["birds"], "mood": "calm"}))
        b = s.reflections.create(m.Reflection("another heron, grey", metadata=None))
        s.db.execute_sql("UPDATE reflections SET metadata = ' { \"tags\" : [\"x\"] } ', "
                         "created_at = '2024-05-01T10:00:00.000+02:00' WHERE id = ?", [b.id])
        hits = {h.reflection.id: h.reflection for h in s.search("heron")}
        assert hits[a.id] == s.reflections.get(a.id)
        assert hits[b.id] == s.reflections.get(b.id)
        assert hits[b.id].metadata == {"tags": ["x"]}
        assert hits[b.id].created_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    finally:
        s.close()


def test_the_rarity_answer_follows_writes_of_this_and_other_connections(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a query has RANK_WINDOW matches is kept between searches until the index changes: a word
    that becomes common through this connection is ranked among its most recent matches at once. Another
    connection's commit (a reader while the writer saves) is asked about at most every PROBE_RECHECK_S:
    until then the reader's search still finds every new entry, ranked among all matches; after it, among
    the most recent ones."""
    monkeypatch.setattr(journal_module, "RANK_WINDOW", 3)
    clock = [1000.0]
    monkeypatch.setattr(journal_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    writer = SQLiteStorage(tmp_path / "j.db")
    reader = writer.open_reader()
    try:
        old = writer.reflections.create(m.Reflection("river river river river, and a heron",
                                                     created_at=END - timedelta(days=400)))
        assert {h.reflection.id for h in reader.search("river")} == {old.id}
        assert {h.reflection.id for h in writer.search("river")} == {old.id}
        recent = {writer.reflections.create(m.Reflection(f"a walk by the river, day {i}",
                                                         created_at=END - timedelta(days=10 - i))).id
                  for i in range(4)}
        assert {h.reflection.id for h in writer.search("river")} <= recent  # old is outside the 3 newest
        assert {h.reflection.id for h in reader.search("river")} == recent | {old.id}  # the count is a second old
        clock[0] += journal_module.PROBE_RECHECK_S
        assert {h.reflection.id for h in reader.search("river")} <= recent
        assert len(reader.search("river")) == 3
    finally:
        reader.close()
        writer.close()


def test_a_repeated_search_asks_the_rarity_once(generated: SQLiteStorage) -> None:
    statements: list[str] = []
    con = generated.db.connection()
    con.set_trace_callback(statements.append)
    try:
        for _ in range(3):
            generated.search('"the old house"')
            generated.search('"the old house"', SearchFilters(anonymous_only=True))
    finally:
        con.set_trace_callback(None)
    probes = [s for s in statements if "SELECT count(*)" in s]
    assert len(probes) <= 1  # the first search may find the answer kept by an earlier test
    assert sum("ORDER BY reflections_fts.rank" in s for s in statements) == 6


def test_equal_ranks_come_in_one_order_whatever_the_page_size(tmp_path: Path) -> None:
    """A query with no more matches than the page is sorted by SQLite, a larger one by FTS5: entries of
    equal rank come older first either way, so pages of any size agree."""
    s = SQLiteStorage(tmp_path / "j.db")
    try:
        made = [s.reflections.create(m.Reflection("a heron by the weir", created_at=END - timedelta(days=30 - i))).id
                for i in range(6)]
        whole = [h.reflection.id for h in s.search("heron", limit=6)]
        paged = [h.reflection.id for o in (0, 3) for h in s.search("heron", limit=3, offset=o)]
        assert whole == paged == made
        assert len({h.rank for h in s.search("heron", limit=6)}) == 1
    finally:
        s.close()
