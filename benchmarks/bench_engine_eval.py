"""Engine evaluation (issues 6 and 13): per-pattern precision/recall and micro-F1 on the corpus's frozen
test split, the crisis detector's recall and false alarms, the checker's catch rate on the probe set,
and the offline engine's latency (model included) for 50-2,000-word reflections.

    python benchmarks/bench_engine_eval.py [--split test|dev] [--runs N]

The test split (tests/engine/corpus, split 2026-12-03) is read here only, to report; nothing is tuned
against it. Goals: micro-F1 >= 0.85 and every pattern's precision >= 0.8 on test; crisis recall 1.0;
median under 20 ms at 500 words. Figures go to BENCHMARKS.md.
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
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "engine" / "corpus"
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


def load_split(name: str, split: str) -> list[dict]:
    rows = [json.loads(line) for line in (CORPUS / name).read_text("utf-8").splitlines() if line.strip()]
    if name == "reflections.jsonl" and split == "dev":  # texts added to dev after the split (LABELLING.md)
        for path in sorted(CORPUS.glob("dev_extra*.jsonl")):
            rows += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["split"] == split]


def corpus_scores(rows: list[dict], detect) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per-pattern and micro precision/recall/F1 of ``detect`` (text -> pattern names) on ``rows``."""
    tp = {p: 0 for p in PATTERN_NAMES}
    fp = dict(tp)
    fn = dict(tp)
    for r in rows:
        got, want = set(detect(r["text"])), set(r["patterns"])
        for p in PATTERN_NAMES:
            tp[p] += p in got and p in want
            fp[p] += p in got and p not in want
            fn[p] += p in want and p not in got

    def prf(t: int, f: int, n: int) -> dict[str, float]:
        prec = t / (t + f) if t + f else 1.0
        rec = t / (t + n) if t + n else 1.0
        return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
                "support": t + n}
    per = {p: prf(tp[p], fp[p], fn[p]) for p in PATTERN_NAMES}
    return per, prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))


def crisis_scores(split: str) -> dict[str, object]:
    from mirror_desktop.engine.crisis import CrisisDetector

    det = CrisisDetector()
    rows = load_split("crisis.jsonl", split) + load_split("reflections.jsonl", split)
    pos = [r for r in rows if r["crisis"]]
    neg = [r for r in rows if not r["crisis"]]
    hard = [r for r in neg if "hard_negative" in r.get("tags", [])]
    by_lang = {lang: (sum(det.detect(r["text"]) for r in pos if r["language"] == lang),
                      sum(r["language"] == lang for r in pos)) for lang in ("en", "es", "de")}
    return {"recall": sum(det.detect(r["text"]) for r in pos), "positives": len(pos),
            "false_alarms": sum(det.detect(r["text"]) for r in neg), "negatives": len(neg),
            "hard_false": sum(det.detect(r["text"]) for r in hard), "hard": len(hard), "by_language": by_lang}


def checker_scores(probes: dict) -> dict[str, float]:
    checker = ConstitutionChecker()
    caught = sum(bool(checker.check(r).explicit_advice) for r in probes["advice_replies"])
    false = sum(bool(checker.check(r).explicit_advice) for r in probes["reflective_replies"])
    return {"catch_rate": caught / len(probes["advice_replies"]), "advice_replies": len(probes["advice_replies"]),
            "false_alarms": false, "reflective_replies": len(probes["reflective_replies"])}


def reflection(words: int, seed: int) -> str:
    """A reflection of ``words`` words made of dev-split corpus entries (varied, realistic sentences)."""
    pool = [r["text"] for r in load_split("reflections.jsonl", "dev") if r["language"] == "en"] or FRAGMENTS
    rng = random.Random(seed)
    out: list[str] = []
    while sum(len(f.split()) for f in out) < words:
        out.append(rng.choice(pool))
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
    ap.add_argument("--split", choices=("test", "dev"), default="test", help="corpus split to report (default test)")
    args = ap.parse_args()
    rows = load_split("reflections.jsonl", args.split)
    det = PatternDetector()
    rules_only = PatternDetector(use_model=False)
    per, micro = corpus_scores(rows, det.detect)
    _, micro_rules = corpus_scores(rows, rules_only.detect)
    print(f"Corpus {args.split} split: {len(rows)} reflections "
          f"({', '.join(f'{n} {lang}' for lang, n in sorted(_count(rows, 'language').items()))})")
    print(f"{'pattern':24} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>7}")
    for p, sc in per.items():
        print(f"{p:24} {sc['precision']:9.2f} {sc['recall']:7.2f} {sc['f1']:6.2f} {sc['support']:7d}")
    print(f"micro: precision {micro['precision']:.3f}, recall {micro['recall']:.3f}, F1 {micro['f1']:.3f} "
          f"(rules alone: F1 {micro_rules['f1']:.3f})")
    for lang in ("en", "es", "de"):
        _, m = corpus_scores([r for r in rows if r["language"] == lang], det.detect)
        print(f"  {lang}: micro-F1 {m['f1']:.3f}")
    cs = crisis_scores(args.split)
    print(f"crisis: recall {cs['recall']}/{cs['positives']} "
          f"({', '.join(f'{k} {a}/{b}' for k, (a, b) in cs['by_language'].items())}); "
          f"false alarms {cs['false_alarms']}/{cs['negatives']} non-crisis texts "
          f"({cs['hard_false']}/{cs['hard']} of the hard negatives)")
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


def _count(rows: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[key]] = out.get(r[key], 0) + 1
    return out


if __name__ == "__main__":
    main()
