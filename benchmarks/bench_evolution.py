"""The evolution sandbox: one proposal tested on the probe set plus the last 200 reflections (issue 17, item 9).

Usage:
    python benchmarks/bench_evolution.py [--journal /work/bench-data/j2000] [--runs 3]

The journal is copied first (bench-data is read-only). Reported, each as the median of ``--runs``:

* baseline: the offline engine writing one mirrorback for each of the same 200 reflections and the
  probe sentences, once (what a person waits for when Mirror reflects on them one by one);
* sandbox: ``EvolutionService.sandbox`` for a proposal that adds a phrase (two engines side by side,
  the checker on the advice probes), as the window runs it on its background lane; and for one that
  changes the reply's length (every reply composed under both configurations);
* the sandbox's CPU time, since this machine's 2 cores are shared and wall times vary with load;
* cancel: how long the sandbox takes to stop after ``cancel`` turns true half a second in.

Goal: the sandbox under 5 s on this machine; it never runs on the GUI thread (workers/evolution.py).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mirror_desktop.core.errors import JobCancelled  # noqa: E402
from mirror_desktop.core.evolution import EvolutionService  # noqa: E402
from mirror_desktop.core.sandbox import SANDBOX_WORDS, _clip, probes  # noqa: E402
from mirror_desktop.engine import MirrorCore  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402

GOAL_S = 5.0
LENGTH = {"type": "prompt_adjustment", "expected_impact": "",
          "patch": [{"op": "replace", "path": "/reply/max_sentences", "value": 3}]}
CHANGE = {"type": "pattern_detection", "expected_impact": "",
          "patch": [{"op": "add", "path": "/patterns/absolute_thinking/phrases/-", "value": "keep quiet"}]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--journal", default="/work/bench-data/j2000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-evolution-"))
    try:
        shutil.copy2(Path(args.journal) / "mirror_os.db", work / "mirror_os.db")
        storage = SQLiteStorage(work / "mirror_os.db")
        svc = EvolutionService(storage)
        p = svc.propose("pattern_detection", "bench", "bench", CHANGE)
        p_len = svc.propose("prompt_adjustment", "bench", "bench", LENGTH)
        sample = svc.journal_sample()
        words = [len(t.split()) for _, t in sample]
        print(f"journal {args.journal}: {len(sample)} reflections behind the last 200 mirrorbacks, "
              f"{statistics.mean(words):.0f} words on average (the sandbox reads the first {SANDBOX_WORDS})")
        engine = MirrorCore()
        texts = [s["text"] for s in probes()["sentences"]] + [_clip(t) for _, t in sample]
        engine.generate("warm up the engine and its model")

        base, sand, sand_len, cpu = [], [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for text in texts:
                engine.generate(text)
            base.append(time.perf_counter() - t0)
            t0, c0 = time.perf_counter(), time.process_time()
            results = svc.sandbox(p, sample=sample)
            sand.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            svc.sandbox(p_len, sample=sample)
            sand_len.append(time.perf_counter() - t0)
        stop = threading.Event()
        threading.Timer(0.5, stop.set).start()
        t0 = time.perf_counter()
        try:
            svc.sandbox(p, sample=sample, cancel=stop.is_set)
            cancel_s = float("nan")
        except JobCancelled:
            cancel_s = time.perf_counter() - t0 - 0.5
        storage.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    b, s = statistics.median(base), statistics.median(sand)
    import os

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print(f"baseline (one mirrorback per text, {len(texts)} texts): {b:.2f} s")
    print(f"sandbox (before and after, probes + {len(sample)} reflections): {s:.2f} s "
          f"= {s / b:.2f}x baseline; goal < {GOAL_S:.0f} s: {'met' if s < GOAL_S else 'NOT met'}")
    print(f"  its CPU time (what an idle machine's wall time comes close to): {statistics.median(cpu):.2f} s")
    sl = statistics.median(sand_len)
    print(f"sandbox for a reply-length change (every reply composed twice): {sl:.2f} s = {sl / b:.2f}x baseline; "
          f"goal < {GOAL_S:.0f} s: {'met' if sl < GOAL_S else 'NOT met'}")
    print(f"cancel: stopped {cancel_s * 1000:.0f} ms after cancel")
    print(f"would change: {results['journal']['would_change']} of {results['journal']['mirrorbacks_considered']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
