"""A small logistic model over hashed words of the writer's voice, for patterns the rules miss.

Trained by ``benchmarks/train_pattern_model.py`` on the dev split of tests/engine/corpus (never the
test split); the weights ship in resources/engine/ (``pattern_model.bin``, float32, about 1.4 MB,
and ``pattern_model.json``, its shape and per-pattern thresholds). Pure Python at run time: no
numpy, no network, no weights fetched; loaded once, on first use, and deterministic.

The model never adds obligation_language or absolute_thinking (threshold 1.1): those are word-level
patterns whose exclusions are the rules' whole point.

Features: canonical word unigrams and bigrams of each sentence in the writer's voice (quoted and
reported words already removed by ``structure.read``), words in a negation's scope marked, and
the text's language. Each feature is hashed (CRC-32) into a fixed number of buckets.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from mirror_desktop.engine.structure import Reading

log = logging.getLogger(__name__)
_NEGATORS = frozenset({"not", "no", "never", "nicht", "kein", "keine", "nunca", "nie"})
FEATURE_VERSION = 1


def features(reading: Reading) -> list[str]:
    """The model's features for one reflection (strings; hashed by ``Model``)."""
    out = [f"lang={reading.language}"]
    for sent in reading.sentences:
        words = [w for w in sent.canon.replace(" , ", " ").split(" ") if w not in ("_", "|", ",", "")]
        neg_left = 0
        prev = "<s>"
        for w in words:
            tag = "~" if neg_left > 0 else ""
            out.append(tag + w)
            out.append(f"{prev}_{w}")
            neg_left = 3 if (w in _NEGATORS or w.endswith("n't")) else neg_left - 1
            prev = w
        if sent.question:
            out.append("<question>")
    return out


def bucket(feature: str, n: int) -> int:
    """The bucket of ``feature`` (CRC-32 is the same on every machine and Python)."""
    return zlib.crc32(feature.encode("utf-8")) % n


@dataclass
class Model:
    """Per-pattern logistic regressions sharing one hashed feature space."""

    patterns: tuple[str, ...]
    n_buckets: int
    weights: array              # n_buckets * len(patterns), row-major by bucket
    bias: tuple[float, ...]
    thresholds: dict[str, float]

    def probabilities(self, reading: Reading, only: Iterable[str] | None = None) -> dict[str, float]:
        """Each pattern's probability for ``reading`` (just the ``only`` ones, if given)."""
        k = len(self.patterns)
        wanted = [i for i, name in enumerate(self.patterns) if only is None or name in set(only)]
        scores = {i: self.bias[i] for i in wanted}
        w = self.weights
        for idx in {bucket(f, self.n_buckets) for f in features(reading)}:
            base = idx * k
            for i in wanted:
                scores[i] += w[base + i]
        return {self.patterns[i]: 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, s)))) for i, s in scores.items()}

    def predict(self, reading: Reading, ruled: Iterable[str] = ()) -> list[str]:
        """Patterns whose probability reaches their threshold (``ruled`` ones are already found)."""
        if not reading.reads:
            return []
        skip = set(ruled)
        # Only patterns the model may add and the rules have not already found are worth scoring.
        todo = [p for p in self.patterns if p not in skip and self.thresholds.get(p, 1.1) <= 1.0]
        if not todo:
            return []
        probs = self.probabilities(reading, todo)
        return [p for p in todo if probs[p] >= self.thresholds[p]]


@lru_cache(maxsize=1)
def default_model() -> Model | None:
    """The model shipped in resources/engine/, loaded once; None (rules alone) if it cannot be read.

    A missing or damaged weights file must never cost the writer a mirrorback: the rules still run.
    """
    try:
        return load_model()
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        log.warning("The pattern model could not be loaded (%s); the rules work alone.", exc)
        return None


def load_model() -> Model:
    """Read the model from resources/engine/ (raises if it is missing or does not fit its description)."""
    from mirror_desktop.resources import resource

    meta = json.loads(resource("engine", "pattern_model.json").read_text("utf-8"))
    if meta["feature_version"] != FEATURE_VERSION:
        raise RuntimeError("resources/engine/pattern_model.bin was trained for other features; retrain it.")
    weights = array("f")
    weights.frombytes(resource("engine", "pattern_model.bin").read_bytes())
    if sys.byteorder == "big":
        weights.byteswap()   # stored little-endian
    patterns = tuple(meta["patterns"])
    if len(weights) != meta["n_buckets"] * len(patterns):
        raise RuntimeError("resources/engine/pattern_model.bin does not match its .json; retrain it.")
    return Model(patterns, int(meta["n_buckets"]), weights, tuple(meta["bias"]), dict(meta["thresholds"]))
