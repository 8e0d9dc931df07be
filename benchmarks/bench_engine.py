"""Measures the offline rules engine on generated journal entries and prints p50/p95 per length."""

from __future__ import annotations

import argparse
import random
import statistics
import time

from mirror_desktop.engine import MirrorCore, TensionRef

SENTENCES = [
    "I have to finish the quarterly report before the meeting on Thursday.",
    "Part of me wants to quit, but part of me still loves the work.",
    "We walked along the canal after dinner and the light was soft and orange.",
    "My sister called twice and I let it ring, which I always feel guilty about.",
    "They probably think I'm not pulling my weight on the project.",
    "It is not always like this, some weeks are lighter.",
    "When I was a kid my father used to go silent for days when he was angry.",
    "What if the whole plan falls apart and I lose the team's trust?",
    "I'm such a mess when I'm tired, I snap at people I love.",
    "It's my fault the evening went badly, I was distracted.",
    "I feel useless, so I must be failing at this.",
    "Nobody ever asks how I am doing, not really.",
    "I want freedom but I also need the security of a steady job.",
    "I keep controlling every small detail at home and I can't let go.",
    "The garden needs water and the tomatoes are finally turning red.",
    "I slept badly, woke at four, and lay there listening to the rain.",
    "Work is eating my weekends and I never rest properly.",
    "I felt calm for once, reading on the balcony with tea.",
    "Should I stay in this city or leave for somewhere quieter?",
    "I'm excited about the trip, and nervous about the flight.",
]
TENSIONS = [
    TensionRef("t1", "Control vs Surrender", "Control", "Surrender"),
    TensionRef("t2", "Stability vs Risk", "Stability", "Risk"),
    TensionRef("t3", "Work vs Family", "Work", "Family"),
]


def entry(rng: random.Random, words: int) -> str:
    out: list[str] = []
    count = 0
    while count < words:
        s = rng.choice(SENTENCES)
        out.append(s)
        count += len(s.split())
        if rng.random() < 0.2:
            out.append("\n\n")
    return " ".join(out)


def measure(core: MirrorCore, texts: list[str]) -> list[float]:
    timings = []
    for i, text in enumerate(texts):
        started = time.perf_counter()
        core.generate(text, TENSIONS, variant=i % 3)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    core = MirrorCore()
    core.generate("warm-up: load the constitution and compile the patterns")
    print(f"offline rules engine, {args.runs} runs per size")
    for words in (50, 300, 1500, 5000):
        timings = sorted(measure(core, [entry(rng, words) for _ in range(args.runs)]))
        p50 = statistics.median(timings)
        p95 = timings[int(0.95 * (len(timings) - 1))]
        print(f"{words:>5} words: p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {timings[-1]:6.2f} ms")


if __name__ == "__main__":
    main()
