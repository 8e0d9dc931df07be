"""The evolution sandbox: a proposed engine configuration against the current one, with nothing written.

Two offline engines, one per configuration, read the built-in probe set (labelled sentences,
advice-bearing and reflective replies, resources/engine/probes.json) and the person's recent
reflections. The results are numbers, pattern names and probe examples: per-pattern precision and
recall before/after, the checker's catch rate on advice-bearing replies, directive scores, how many
of the person's mirrorbacks would change (reflection ids and pattern names only, never their words).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mirror_desktop.core.errors import JobCancelled
from mirror_desktop.engine import EngineConfig, EngineTuning

SANDBOX_WORDS = 600       # long entries: the start is enough to tell whether a reply changes
EXAMPLES = 4


@lru_cache(maxsize=1)
def probes() -> dict[str, Any]:
    from mirror_desktop.resources import resource

    return json.loads(resource("engine", "probes.json").read_text("utf-8"))


def _engine(tuning: EngineTuning) -> Any:
    from mirror_desktop.engine import MirrorCore

    return MirrorCore(EngineConfig(version=tuning.version, tuning=tuning))


def _clip(text: str) -> str:
    words = text.split()
    return text if len(words) <= SANDBOX_WORDS else " ".join(words[:SANDBOX_WORDS])


@dataclass(frozen=True)
class _Out:
    text: str
    patterns: list[str]
    directive_score: float
    advice: bool


def _pair(engines: dict[str, Any], text: str, same_voice: bool) -> dict[str, _Out]:
    """Both configurations' replies; when the after side reads and speaks alike, its compose is skipped."""
    out: dict[str, _Out] = {}
    first = None
    for k, e in engines.items():
        analysis = e.rules.analyze(text)
        if first is not None and same_voice and analysis == first[0]:
            out[k] = out["before"]   # same hits, same templates, threshold and length: the same reply
            continue
        reply, result, flags = e.rules.compose(text, analysis)
        out[k] = _Out(reply, list(analysis.patterns), round(result.ratio, 4), bool(flags.get("explicit_advice")))
        first = first or (analysis,)
    return out


def _pr(counts: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    out = {}
    for name, (tp, fp, fn) in counts.items():
        out[name] = {"precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
                     "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0, "support": tp + fn}
    return out


def run_sandbox(before: EngineTuning, after: EngineTuning, sample: list[tuple[str, str]], *,
                cancel: Callable[[], bool] | None = None,
                progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """test_results for a proposal; raises JobCancelled (nothing written) when ``cancel`` says so."""
    from mirror_desktop.engine.patterns import PATTERN_NAMES

    started = time.perf_counter()
    data = probes()
    engines = {"before": _engine(before), "after": _engine(after)}
    if (before.extra_oppositions, before.rules_json) == (after.extra_oppositions, after.rules_json):
        # Both read alike: each text is read and run through the built-in detectors once, not twice.
        shared: dict = {}
        for e in engines.values():
            e.rules.shared_analysis = shared
    same_voice = (before.templates, before.max_sentences, before.directive_threshold, before.rules_json) == (
        after.templates, after.max_sentences, after.directive_threshold, after.rules_json)
    sentences = data["sentences"]
    total = len(sentences) + len(sample) + len(data["advice_replies"]) + 1
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if cancel is not None and cancel():
            raise JobCancelled()
        if progress is not None and done % 10 == 0:
            progress(min(1.0, done / total))

    counts = {k: {p: [0, 0, 0] for p in PATTERN_NAMES} for k in engines}
    directive: dict[str, list[float]] = {"before": [], "after": []}
    advice_in_replies = {"before": 0, "after": 0}
    examples: list[dict[str, Any]] = []
    probe_changed = 0
    for s in sentences:
        tick()
        want = set(s["patterns"])
        gens = _pair(engines, s["text"], same_voice)
        for k, g in gens.items():
            got = set(g.patterns)
            for p in PATTERN_NAMES:
                counts[k][p][0] += p in got and p in want
                counts[k][p][1] += p in got and p not in want
                counts[k][p][2] += p in want and p not in got
            directive[k].append(g.directive_score)
            advice_in_replies[k] += g.advice
        if gens["before"].text != gens["after"].text or gens["before"].patterns != gens["after"].patterns:
            probe_changed += 1
            if len(examples) < EXAMPLES:
                examples.append({"source": "probe", "text": s["text"], "expected": sorted(want),
                                 "before": gens["before"].text, "after": gens["after"].text,
                                 "patterns_before": gens["before"].patterns, "patterns_after": gens["after"].patterns})
    # The checker on replies that carry advice (must all be caught) and on reflective ones (must pass).
    caught = {"before": 0, "after": 0}
    false_alarms = {"before": 0, "after": 0}
    for reply in data["advice_replies"]:
        tick()
        for k, e in engines.items():
            r = e.check(reply)
            caught[k] += bool(r.explicit_advice or r.threshold_exceeded or r.violations)
    for reply in data["reflective_replies"]:
        for k, e in engines.items():
            r = e.check(reply)
            false_alarms[k] += bool(r.explicit_advice or r.threshold_exceeded)
    n_advice = len(data["advice_replies"])
    # The person's own recent reflections: what would change (ids and pattern names only).
    journal_changed = 0
    journal_examples: list[dict[str, Any]] = []
    for rid, text in sample:
        tick()
        clipped = _clip(text)
        gens = _pair(engines, clipped, same_voice)
        for k, g in gens.items():
            directive[k].append(g.directive_score)
            advice_in_replies[k] += g.advice
        if gens["before"].text != gens["after"].text or gens["before"].patterns != gens["after"].patterns:
            journal_changed += 1
            if len(journal_examples) < EXAMPLES:
                journal_examples.append({"reflection_id": rid, "patterns_before": gens["before"].patterns,
                                         "patterns_after": gens["after"].patterns,
                                         "length_before": len(gens["before"].text), "length_after": len(gens["after"].text)})
    pr_before, pr_after = _pr(counts["before"]), _pr(counts["after"])

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / len(xs), 4) if xs else 0.0

    if progress is not None:
        progress(1.0)
    return {
        "config_version_before": before.version,
        "config_version_after": after.version,
        "patterns": {p: {"before": pr_before[p], "after": pr_after[p]} for p in PATTERN_NAMES},
        "checker": {
            "advice_replies": n_advice,
            "catch_rate_before": round(caught["before"] / n_advice, 3) if n_advice else 1.0,
            "catch_rate_after": round(caught["after"] / n_advice, 3) if n_advice else 1.0,
            "advice_through_before": n_advice - caught["before"] + advice_in_replies["before"],
            "advice_through_after": n_advice - caught["after"] + advice_in_replies["after"],
            "false_alarms_before": false_alarms["before"],
            "false_alarms_after": false_alarms["after"],
            "threshold_before": before.directive_threshold,
            "threshold_after": after.directive_threshold,
        },
        "directive_scores": {"mean_before": mean(directive["before"]), "mean_after": mean(directive["after"]),
                             "max_before": max(directive["before"], default=0.0),
                             "max_after": max(directive["after"], default=0.0)},
        "probes": {"sentences": len(sentences), "changed": probe_changed},
        "journal": {"mirrorbacks_considered": len(sample), "would_change": journal_changed,
                    "changes": journal_examples},
        "examples": examples,
        "duration_ms": max(1, round((time.perf_counter() - started) * 1000)),
        "tested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
