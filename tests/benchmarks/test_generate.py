"""The journal generator (benchmarks/generate.py): every spec table filled, sane lengths, real prose, deterministic."""

from __future__ import annotations

import re
import sys
from datetime import datetime, UTC
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

from mirror_desktop.core.enums import Visibility  # noqa: E402
from mirror_desktop.storage.journal import SPEC_TABLES, SQLiteStorage  # noqa: E402

N = 200
END = datetime(2026, 1, 1, tzinfo=UTC)


def _build(folder: Path, seed: int = 7):
    storage = SQLiteStorage(folder / "mirror_os.db")
    result = generate.generate_journal(storage, N, seed=seed, end=END)
    return storage, result


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory):
    storage, result = _build(tmp_path_factory.mktemp("gen-a"))
    yield storage, result
    storage.close()


def test_every_spec_table_has_rows(journal) -> None:
    storage, result = journal
    counts = storage.counts()
    assert set(counts) == set(SPEC_TABLES)
    assert counts["reflections"] == N
    assert all(c > 0 for c in counts.values()), counts
    assert result["counts"] == counts
    assert 2 <= counts["identities"] <= 3


def test_reflection_lengths_and_metadata(journal) -> None:
    storage, _ = journal
    reflections = storage.reflections.list()
    lengths = [len(r.content.split()) for r in reflections]
    assert all(20 <= n <= 1500 for n in lengths), (min(lengths), max(lengths))
    assert all(r.metadata["word_count"] == n for r, n in zip(reflections, lengths))
    typical = sum(150 <= n <= 400 for n in lengths) / len(lengths)
    assert typical > 0.4, typical
    # some anonymous (always local_only), several visibilities, dates over more than one year
    anonymous = [r for r in reflections if r.identity_id is None]
    assert anonymous and all(r.visibility == Visibility.LOCAL_ONLY for r in anonymous)
    assert len({r.visibility for r in reflections}) >= 3
    stamps = sorted(r.created_at for r in reflections)
    assert (stamps[-1] - stamps[0]).days > 365 and stamps[-1] <= END
    assert any(r.tags for r in reflections)


def test_prose_reads_like_a_journal_not_lorem(journal) -> None:
    storage, _ = journal
    text = " ".join(r.content for r in storage.reflections.list())
    words = re.findall(r"[A-Za-z']+", text)
    lower = [w.lower() for w in words]
    assert "lorem" not in lower and "ipsum" not in lower
    for function_word in ("the", "and", "to", "of", "was", "my", "it"):
        assert lower.count(function_word) > 50, function_word
    assert words.count("I") / len(words) > 0.02  # first person
    assert len(set(lower)) > 500  # a real vocabulary, not a few repeated tokens


def test_threads_tensions_and_runs_are_linked(journal) -> None:
    storage, _ = journal
    links = storage.thread_reflections.list()
    by_thread: dict[str, list[int]] = {}
    for link in links:
        by_thread.setdefault(link.thread_id, []).append(link.position)
    assert all(sorted(p) == list(range(len(p))) for p in by_thread.values())
    tension_ids = {t.id for t in storage.tensions.list()}
    axis_ids = {a.id for a in storage.axes.list()}
    for t in storage.tensions.list():
        assert t.metadata["axis_id"] in axis_ids
        assert len(t.metadata["position_history"]) > 6
    for run in storage.engine_runs.list():
        assert set(run.tensions_surfaced or []) <= tension_ids
        assert run.duration_ms > 0 and run.config_version == "1.0.0"
    assert all(i.config["provider"] for i in storage.integrations.list())


def test_search_finds_the_benchmark_vocabulary(journal) -> None:
    storage, _ = journal
    for query in ("today", '"my mother"', "tir*"):
        assert storage.search(query, limit=5), query


def test_same_seed_same_journal(journal, tmp_path: Path) -> None:
    storage, _ = journal
    again, _ = _build(tmp_path / "b")
    other, _ = _build(tmp_path / "c", seed=8)
    try:
        def snapshot(s):
            return [(r.id, r.created_at, r.identity_id, r.content) for r in s.reflections.list()]

        assert snapshot(again) == snapshot(storage)
        assert snapshot(other) != snapshot(storage)
        assert again.counts() == storage.counts()
    finally:
        again.close()
        other.close()
