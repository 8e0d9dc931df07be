"""Small text tools for the engine: words, sentences, stemming, quoted spans and a stable hash."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Sentence ends, plus line breaks: journal entries are often lists without full stops.
SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*")
# Text between typographic or straight double quotes; the checker ignores these spans.
QUOTED_RE = re.compile(r"“[^”]*”|\"[^\"]*\"")

_SUFFIXES = (
    ("ility", "le"), ("fulness", ""), ("ations", ""), ("ation", ""), ("ities", ""), ("ity", ""),
    ("ness", ""), ("ments", ""), ("ment", ""), ("ingly", ""), ("ings", ""), ("ing", ""),
    ("edly", ""), ("ed", ""), ("ies", "y"), ("es", ""), ("s", ""), ("ly", ""), ("dom", ""),
    ("ful", ""),
)


def normalize(text: str) -> str:
    """Lower-case with curly apostrophes made straight, so phrase lists match either."""
    return text.replace("’", "'").replace("‘", "'").lower()


def words(text: str) -> list[str]:
    """The words of ``text`` in order (letters and digits, apostrophes inside words kept)."""
    return WORD_RE.findall(text)


def sentences(text: str) -> list[str]:
    """The sentences (or lines) of ``text``, stripped, empty ones dropped."""
    return [s.strip() for s in SENTENCE_RE.findall(text) if s.strip()]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude, consistent stem: "controlling", "controlled" and "control" all give "control"."""
    w = normalize(word).strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, replacement in _SUFFIXES:
        # "ss" words ("stress", "less") keep their s; three letters must remain.
        if suffix == "s" and w.endswith("ss"):
            continue
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + replacement
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeious":
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def stems(text: str) -> list[str]:
    """The stems of every word in ``text``."""
    return [stem(w) for w in words(text)]


def phrase_stems(phrase: str) -> tuple[str, ...]:
    """The stems of a (possibly multi-word) phrase, used to find it as a run of stems."""
    return tuple(stems(phrase))


def contains_run(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """Whether ``needle`` occurs as a contiguous run in ``haystack``."""
    n = len(needle)
    if n == 0:
        return False
    if n == 1:
        return needle[0] in haystack
    first = needle[0]
    return any(
        haystack[i] == first and tuple(haystack[i : i + n]) == tuple(needle)
        for i in range(len(haystack) - n + 1)
    )


def stable_int(*parts: object) -> int:
    """A hash that is the same in every process (unlike the salted built-in ``hash``)."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def choose(options: Sequence[T], *seed: object) -> T:
    """One of ``options``, picked by a stable hash of ``seed``."""
    return options[stable_int(*seed) % len(options)]


def strip_quoted(text: str) -> str:
    """``text`` with every quoted span replaced by a neutral placeholder word."""
    return QUOTED_RE.sub(" QUOTED ", text)
