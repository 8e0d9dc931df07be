"""Issue 13, items 1-3 on the corpus's dev split: the corpus is well formed, the detector's figures on dev
stay above floors, and every dev crisis text is flagged. The frozen test split is never read here
(benchmarks/bench_engine_eval.py reports it); floors sit just under what the engine achieves on dev."""

import json
from pathlib import Path

import pytest

from mirror_desktop.engine.crisis import CrisisDetector
from mirror_desktop.engine.model import default_model
from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternDetector

HERE = Path(__file__).parent / "corpus"
REFLECTIONS = [json.loads(line) for line in (HERE / "reflections.jsonl").read_text("utf-8").splitlines()]
CRISIS = [json.loads(line) for line in (HERE / "crisis.jsonl").read_text("utf-8").splitlines()]
SPLIT = json.loads((HERE / "SPLIT.json").read_text("utf-8"))
# Written after the split, without reading the test split's errors, to check absolute_thinking on plain facts,
# routines and hedges (dev only; see LABELLING.md, "Added after the split").
EXTRA = [json.loads(line) for line in (HERE / "dev_extra.jsonl").read_text("utf-8").splitlines()]
# The third batch (dev_extra2.jsonl, for the absolute-words model) is checked in test_engine_absolutes.py;
# its overgeneralization labels are not met by the rules (see BENCHMARKS.md), so these floors leave it out.
DEV = [r for r in REFLECTIONS if r["split"] == "dev"] + EXTRA


def test_corpus_is_large_varied_and_split():
    assert len(REFLECTIONS) >= 600 and len(CRISIS) >= 150
    assert {r["language"] for r in REFLECTIONS} >= {"en", "es", "de"}
    assert all(set(r["patterns"]) <= set(PATTERN_NAMES) for r in REFLECTIONS)
    for p in PATTERN_NAMES:
        assert sum(p in r["patterns"] for r in REFLECTIONS) >= 20, p
    tags = {t for r in REFLECTIONS for t in r["tags"]}
    assert {"reported", "quote", "negation", "hedge", "epistemic", "typo", "long"} <= tags
    crisis_tags = {t for r in CRISIS for t in r["tags"]}
    assert {"place", "means", "plan", "farewell", "affairs", "burden", "stop", "hard_negative"} <= crisis_tags
    assert sum(r["crisis"] for r in CRISIS) >= 70 and sum(not r["crisis"] for r in CRISIS) >= 70
    assert {r["split"] for r in REFLECTIONS + CRISIS} == {"dev", "test"}
    assert SPLIT["split_date"] == "2026-12-03"
    assert SPLIT["reflections"]["test"] == sum(r["split"] == "test" for r in REFLECTIONS)
    assert len({r["text"] for r in REFLECTIONS}) == len(REFLECTIONS)
    assert (HERE / "LABELLING.md").is_file()
    assert {r["split"] for r in EXTRA} == {"dev"} and not {r["text"] for r in EXTRA} & {r["text"] for r in REFLECTIONS}


def dev_scores():
    det = PatternDetector()
    counts = {p: [0, 0, 0] for p in PATTERN_NAMES}
    for r in DEV:
        got, want = set(det.detect(r["text"])), set(r["patterns"])
        for p in PATTERN_NAMES:
            counts[p][0] += p in got and p in want
            counts[p][1] += p in got and p not in want
            counts[p][2] += p in want and p not in got
    return counts


@pytest.fixture(scope="module")
def scores():
    return dev_scores()


def test_dev_micro_f1_and_per_pattern_precision(scores):
    tp = sum(c[0] for c in scores.values())
    fp = sum(c[1] for c in scores.values())
    fn = sum(c[2] for c in scores.values())
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert 2 * precision * recall / (precision + recall) >= 0.90
    for p, (tp_p, fp_p, fn_p) in scores.items():
        assert tp_p / (tp_p + fp_p) >= 0.80, p
        assert tp_p / (tp_p + fn_p) >= 0.60, p


def test_every_dev_crisis_text_is_flagged_and_false_alarms_are_few():
    det = CrisisDetector()
    dev = [r for r in CRISIS + REFLECTIONS if r["split"] == "dev"]
    missed = [r["id"] for r in dev if r["crisis"] and not det.detect(r["text"])]
    false = [r["id"] for r in dev if not r["crisis"] and det.detect(r["text"])]
    assert missed == []
    assert len(false) <= 3, false


def test_model_is_small_deterministic_and_loaded_once():
    from mirror_desktop.resources import resource

    size = len(resource("engine", "pattern_model.bin").read_bytes())
    assert size < 5 * 1024 * 1024
    model = default_model()
    assert model is not None and model is default_model()
    from mirror_desktop.engine.structure import read

    reading = read("Part of me is proud of him and part of me is scared he'll get hurt.")
    assert model.probabilities(reading) == model.probabilities(reading)


def test_a_missing_model_leaves_the_rules_working(monkeypatch):
    import mirror_desktop.engine.model as model_module

    def broken():
        raise FileNotFoundError("pattern_model.bin")

    monkeypatch.setattr(model_module, "load_model", broken)
    model_module.default_model.cache_clear()
    try:
        assert model_module.default_model() is None
        assert "obligation_language" in PatternDetector().detect("I have to call the bank.")
    finally:
        model_module.default_model.cache_clear()
