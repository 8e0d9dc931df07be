"""Engine evaluation: per-pattern precision/recall on the labelled probe set, the checker's catch rate,
and the rules engine's latency for 50-2,000-word reflections (issue 6, item 8).

    python benchmarks/bench_engine_eval.py [--runs N]

Goal: median under 20 ms at 500 words. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from mirror_desktop.engine import ConstitutionChecker, MirrorCore
from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternDetector

PROBES = Path(__file__).resolve().parent.parent / "tests" / "engine" / "probes.json"
FRAGMENTS = [
    "I have to finish the report tonight.", "Part of me wants to quit, but part of me loves the work.",
    "I always end up staying late.", "We walked by the river and the light was soft.",
    "My sister called and I didn't pick up.", "I want freedom but I also need security.",
    "They probably think I'm lazy.", "It is not always like this.", "What if it all goes wrong?",
    "When I was a kid my mother used to go quiet for days.", "The garden needs water and I keep forgetting.",
    "I felt calm for once, reading on the balcony.", "Nobody ever asks how I am.",
    "I keep controlling every detail and I can't let go.", "Made soup, read two chapters, slept early.",
]


def load_probes(path: Path = PROBES) -> dict:
    return json.loads(path.read_text("utf-8"))


def pattern_scores(probes: dict) -> dict[str, dict[str, float]]:
    """Precision, recall and support per pattern over the labelled sentences."""
    det = PatternDetector()
    tp = {p: 0 for p in PATTERN_NAMES}
    fp = dict(tp)
    fn = dict(tp)
    for s in probes["sentences"]:
        got, want = set(det.detect(s["text"])), set(s["patterns"])
        for p in PATTERN_NAMES:
            tp[p] += p in got and p in want
            fp[p] += p in got and p not in want
            fn[p] += p in want and p not in got
    out = {}
    for p in PATTERN_NAMES:
        support = tp[p] + fn[p]
        out[p] = {
            "precision": tp[p] / (tp[p] + fp[p]) if tp[p] + fp[p] else 1.0,
            "recall": tp[p] / support if support else 1.0,
            "support": support,
        }
    return out


def checker_scores(probes: dict) -> dict[str, float]:
    checker = ConstitutionChecker()
    caught = sum(bool(checker.check(r).explicit_advice) for r in probes["advice_replies"])
    false = sum(bool(checker.check(r).explicit_advice) for r in probes["reflective_replies"])
    return {"catch_rate": caught / len(probes["advice_replies"]), "advice_replies": len(probes["advice_replies"]),
            "false_alarms": false, "reflective_replies": len(probes["reflective_replies"])}


def reflection(words: int, seed: int) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while sum(len(f.split()) for f in out) < words:
        out.append(rng.choice(FRAGMENTS))
    return " ".join(" ".join(out).split()[:words])


def latency(sizes=(50, 500, 1000, 2000), runs: int = 40) -> dict[int, dict[str, float]]:
    core = MirrorCore()
    core.generate(reflection(100, 0))  # warm the caches
    out = {}
    for n in sizes:
        times = []
        for i in range(runs):
            text = reflection(n, i)
            t0 = time.perf_counter()
            core.generate(text)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[n] = {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40, help="reflections per size")
    args = ap.parse_args()
    probes = load_probes()
    print(f"Probe set: {len(probes['sentences'])} sentences, {len(probes['advice_replies'])} advice replies, "
          f"{len(probes['reflective_replies'])} reflective replies")
    print(f"{'pattern':24} {'precision':>9} {'recall':>7} {'support':>7}")
    for p, s in pattern_scores(probes).items():
        print(f"{p:24} {s['precision']:9.2f} {s['recall']:7.2f} {s['support']:7d}")
    c = checker_scores(probes)
    print(f"checker: caught {c['catch_rate']:.0%} of {c['advice_replies']} advice-bearing replies; "
          f"{c['false_alarms']} false alarms on {c['reflective_replies']} reflective replies")
    print(f"{'words':>6} {'median ms':>10} {'p95 ms':>8}   (rules engine, {args.runs} reflections each)")
    for n, s in latency(runs=args.runs).items():
        print(f"{n:6d} {s['median_ms']:10.2f} {s['p95_ms']:8.2f}")


if __name__ == "__main__":
    main()
