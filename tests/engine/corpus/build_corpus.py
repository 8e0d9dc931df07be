"""Builds reflections.jsonl / crisis.jsonl from the hand-written sources and splits them into dev and test.

Run once, before any detector change (issue 13). The split is deterministic: within each stratum
(language x has-patterns for reflections, language x crisis for the crisis set) texts are ordered
by a BLAKE2 hash of their text and the first 60 % go to dev, the rest to test. Nobody tunes
against test: benchmarks/bench_engine_eval.py reads it only to report.

    python tests/engine/corpus/build_corpus.py SRC_DIR
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLIT_DATE = "2026-12-03"
CODES = {
    "IT": "internal_tension", "OB": "obligation_language", "AB": "absolute_thinking",
    "PT": "past_trauma_reference", "CA": "catastrophizing", "MR": "mind_reading",
    "FT": "fortune_telling", "LA": "labeling", "PE": "personalization",
    "ER": "emotional_reasoning", "OG": "overgeneralization",
}
LANG_OF_FILE = {"es": "es", "de": "de"}


def _h(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _split(rows: list[dict], key) -> None:
    strata: dict[tuple, list[dict]] = {}
    for r in rows:
        strata.setdefault(key(r), []).append(r)
    for group in strata.values():
        group.sort(key=lambda r: _h(r["text"]))
        n_dev = round(len(group) * 0.6)
        for i, r in enumerate(group):
            r["split"] = "dev" if i < n_dev else "test"


def main(src: Path) -> None:
    rows: list[dict] = []
    for path in sorted(src.glob("*.txt")):
        if path.stem == "crisis":
            continue
        lang = LANG_OF_FILE.get(path.stem, "en")
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            codes, tags, text = (p.strip() for p in line.split(" | ", 2))
            patterns = [] if codes == "-" else [CODES[c] for c in codes.split(",")]
            rows.append({"text": text, "language": lang, "patterns": sorted(set(patterns)),
                         "crisis": False, "tags": [] if tags == "-" else tags.split(",")})
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts)), "duplicate reflection"
    _split(rows, lambda r: (r["language"], bool(r["patterns"])))
    for i, r in enumerate(rows, 1):
        r["id"] = f"r{i:04d}"
    crisis: list[dict] = []
    for line in (src / "crisis.txt").read_text("utf-8").splitlines():
        if line.strip():
            flag, tags, lang, text = (p.strip() for p in line.split(" | ", 3))
            crisis.append({"text": text, "language": lang, "crisis": flag == "Y", "tags": tags.split(",")})
    _split(crisis, lambda r: (r["language"], r["crisis"]))
    for i, r in enumerate(crisis, 1):
        r["id"] = f"c{i:03d}"
    order = ("id", "split", "language", "patterns", "crisis", "tags", "text")
    with (HERE / "reflections.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({k: r[k] for k in order}, ensure_ascii=False) + "\n")
    with (HERE / "crisis.jsonl").open("w", encoding="utf-8") as f:
        for r in crisis:
            f.write(json.dumps({k: r[k] for k in order if k in r}, ensure_ascii=False) + "\n")
    (HERE / "SPLIT.json").write_text(json.dumps({
        "split_date": SPLIT_DATE, "rule": "per stratum, ordered by blake2b(text), first 60% dev",
        "reflections": {s: sum(r["split"] == s for r in rows) for s in ("dev", "test")},
        "crisis": {s: sum(r["split"] == s for r in crisis) for s in ("dev", "test")},
    }, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
