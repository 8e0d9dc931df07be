"""The labelled probe set (probes.json): per-pattern precision/recall floors and the checker's catch rate.

Floors are set just under what the rules engine achieves today (see benchmarks/bench_engine_eval.py),
so a change that makes detection worse fails here; raise them when the engine gets better.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirror_desktop.engine import ConstitutionChecker
from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternDetector

PROBES = json.loads((Path(__file__).parent / "probes.json").read_text("utf-8"))

# (precision, recall) floors; achieved at the time of writing in the comment (94 sentences).
# The set now includes the misses and false positives fixed with these floors; a perfect score
# on it means it needs harder cases, not that detection is solved.
FLOORS = {
    "internal_tension": (0.95, 0.95),       # 1.00 / 1.00
    "obligation_language": (0.95, 0.95),    # 1.00 / 1.00
    # Since the sweeping-vs-literal model (absolutes.py, trained on the corpus's dev texts, not on these
    # probes) decides, "Growing up, nobody talked about feelings" and "No one called all weekend" are read
    # as plain accounts of one time (the corpus guide's literal facts); 1.00 / 0.89.
    "absolute_thinking": (0.95, 0.85),
    # "When I was a kid the house was always loud" is not read as harm by the structural rules (the
    # corpus guide asks for a harm named); 1.00 / 0.83 since issue 13.
    "past_trauma_reference": (0.95, 0.80),
    "catastrophizing": (0.95, 0.95),        # 1.00 / 1.00
    "mind_reading": (0.95, 0.95),           # 1.00 / 1.00
    "fortune_telling": (0.95, 0.95),        # 1.00 / 1.00
    "labeling": (0.95, 0.95),               # 1.00 / 1.00
    "personalization": (0.95, 0.95),        # 1.00 / 1.00
    # The pattern model (issue 13) also reads "I feel like I owe everyone an answer" as a feeling taken
    # for a fact; 0.80 / 1.00.
    "emotional_reasoning": (0.75, 0.95),
    "overgeneralization": (0.95, 0.95),     # 1.00 / 1.00
}


def scores() -> dict[str, tuple[float, float, int]]:
    det = PatternDetector()
    counts = {p: [0, 0, 0] for p in PATTERN_NAMES}  # tp, fp, fn
    for s in PROBES["sentences"]:
        got, want = set(det.detect(s["text"])), set(s["patterns"])
        for p in PATTERN_NAMES:
            counts[p][0] += p in got and p in want
            counts[p][1] += p in got and p not in want
            counts[p][2] += p in want and p not in got
    out = {}
    for p, (tp, fp, fn) in counts.items():
        out[p] = (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp + fn)
    return out


def test_probe_set_is_well_formed():
    names = set(PATTERN_NAMES)
    assert all(set(s["patterns"]) <= names for s in PROBES["sentences"])
    for p in PATTERN_NAMES:
        assert sum(p in s["patterns"] for s in PROBES["sentences"]) >= 4, p
    assert sum(not s["patterns"] for s in PROBES["sentences"]) >= 10   # negatives, hedged ones included
    assert len(PROBES["advice_replies"]) >= 20 and len(PROBES["reflective_replies"]) >= 10


@pytest.mark.parametrize("pattern", PATTERN_NAMES)
def test_pattern_precision_and_recall(pattern):
    precision, recall, support = scores()[pattern]
    floor_p, floor_r = FLOORS[pattern]
    assert precision >= floor_p, f"{pattern}: precision {precision:.2f} < {floor_p}"
    assert recall >= floor_r, f"{pattern}: recall {recall:.2f} < {floor_r} (support {support})"


@pytest.mark.parametrize("text", ["It is not always like this.", "I almost never cry at films.",
                                  "The mornings aren't always hard.", "Work isn't everything to me.",
                                  "Never mind, the evening turned out fine."])
def test_hedged_and_negated_absolutes_are_not_absolute(text):
    assert "absolute_thinking" not in PatternDetector().detect(text)


@pytest.mark.parametrize("reply", PROBES["advice_replies"])
def test_checker_catches_every_advice_bearing_reply(reply):
    assert ConstitutionChecker().check(reply).explicit_advice, reply


@pytest.mark.parametrize("reply", PROBES["reflective_replies"])
def test_checker_lets_reflective_replies_through(reply):
    source = " ".join(s["text"] for s in PROBES["sentences"]) + " I should rest. try again"
    result = ConstitutionChecker().check(reply, source=source)
    assert not result.explicit_advice and not result.violations, (reply, result)
