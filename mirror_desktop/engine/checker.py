"""The constitution checker: counts directives outside the writer's quoted words and raises spec flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mirror_desktop.engine._data import RuleSet, default_rules
from mirror_desktop.engine.text import QUOTED_RE, normalize

# Stands in for a quoted span so sentence starts stay where they were; it is not counted as a word.
_PLACEHOLDER = "qqquotedqq"
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_SENTENCE_RE = re.compile(r"[^.!?\n;:]+")
# A sentence that starts with a verb from the list is still not an imperative when the next word
# shows the verb is a noun or subject ("Rest seems far away", "Work was long").
_NOT_IMPERATIVE_NEXT = frozenset(
    "is was seems seemed feels felt has had can could would will sounds sounded might may "
    "of and or are were isn't wasn't doesn't keeps kept".split()
)
_QUESTION_AUX = frozenset({"do", "don't"})
# Claims about the journal's past: the engine sees one reflection (and the writer's tension names),
# so it cannot know what the writer "has been tracking" or said "last time" (issue 13).
_HISTORY_RE = re.compile(
    r"\b(?:you(?:'ve| have) been (?:tracking|noticing|writing about|coming back to|working on)|that you have been tracking|"
    r"as you (?:said|mentioned|wrote|noted) (?:before|earlier|last time)|last time you|"
    r"in your (?:earlier|previous|past) (?:entries|reflections)|"
    r"you (?:often|keep coming back to|keep returning to|have often)|once again|as before|like last time|again and again)\b")
_WORD4_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "you really should" wins over "you should" at the same place.
    ordered = sorted(set(phrases), key=len, reverse=True)
    parts = [r"\s+".join(re.escape(w) for w in p.split()) for p in ordered]
    return re.compile(r"(?<![\w'])(?:" + "|".join(parts) + r")(?![\w'])")


def _banned_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Banned entries are prefixes ("diagnos" catches "diagnosis"), so only the start is anchored.
    parts = []
    for p in sorted(set(phrases), key=len, reverse=True):
        body = r"\s+".join(re.escape(w) for w in p.split())
        parts.append((r"(?<![\w'])" if p[0].isalnum() else "") + body)
    return re.compile("|".join(parts))


def _squash(text: str) -> str:
    return " ".join(normalize(text).split())


@dataclass(frozen=True)
class CheckResult:
    """What the checker found in one reply."""

    directive_count: int
    total_words: int
    threshold: float
    explicit_advice: list[str] = field(default_factory=list)
    banned_phrases: list[str] = field(default_factory=list)
    question_marks: int = 0
    exclamation_marks: int = 0
    history_claims: list[str] = field(default_factory=list)
    repeated_phrase: str | None = None     # a 4-word sequence said twice, if any

    @property
    def ratio(self) -> float:
        """Directives per word of Mirror's own text (0.0 for an empty reply)."""
        return self.directive_count / self.total_words if self.total_words else 0.0

    @property
    def threshold_exceeded(self) -> bool:
        return self.ratio > self.threshold

    @property
    def violations(self) -> list[str]:
        """Reason codes a reply must be rewritten for; the threshold alone is a warning, not one."""
        found = []
        if self.explicit_advice:
            found.append("explicit_advice")
        if self.banned_phrases:
            found.append("banned_phrase")
        if self.question_marks > 1:
            found.append("too_many_questions")
        if self.exclamation_marks:
            found.append("exclamation_mark")
        if self.history_claims:
            found.append("invented_history")
        if self.repeated_phrase:
            found.append("repeated_phrase")
        return found

    def flags(self) -> dict:
        """The spec's flag structures (section 8), present only when raised."""
        out: dict = {}
        if self.threshold_exceeded:
            out["directive_threshold_exceeded"] = {
                "ratio": round(self.ratio, 4),
                "threshold": self.threshold,
                "directive_count": self.directive_count,
                "total_words": self.total_words,
            }
        if self.explicit_advice:
            out["explicit_advice"] = list(self.explicit_advice)
        if self.banned_phrases:
            out["banned_phrases"] = list(self.banned_phrases)
        return out


class ConstitutionChecker:
    """Counts directives in a reply; text quoted from the writer is theirs, so it is never counted."""

    def __init__(self, rules: RuleSet | None = None, threshold: float | None = None) -> None:
        self.rules = rules or default_rules()
        self.threshold = self.rules.directive_threshold if threshold is None else threshold
        self._advice_re = _phrase_regex(self.rules.advice_phrases)
        self._banned_re = _banned_regex(self.rules.banned_phrases)

    def _own_text(self, reply: str, source: str | None) -> str:
        """``reply`` lower-cased with writer quotes replaced by a placeholder."""
        squashed_source = _squash(source) if source is not None else None

        def replace(match: re.Match[str]) -> str:
            inner = _squash(match.group(0)[1:-1])
            # Without a source every quote is trusted; with one, only words the writer really wrote.
            if squashed_source is None or (inner and inner in squashed_source):
                return f" {_PLACEHOLDER} "
            return match.group(0)

        return normalize(QUOTED_RE.sub(replace, reply))

    def check(self, reply: str, source: str | None = None) -> CheckResult:
        """Check ``reply``; ``source`` is the writer's text, so quotes from it are recognised."""
        own = self._own_text(reply, source)
        advice: list[str] = []
        count = 0
        spans: list[tuple[int, int]] = []
        for m in self._advice_re.finditer(own):
            count += 1
            spans.append(m.span())
            phrase = " ".join(m.group(0).split())
            if phrase not in advice:
                advice.append(phrase)
        for s in _SENTENCE_RE.finditer(own):
            verb = self._imperative(s.group(0), s.start(), spans)
            if verb:
                count += 1
                if verb not in advice:
                    advice.append(verb)
        banned = []
        for m in self._banned_re.finditer(own):
            phrase = " ".join(m.group(0).split())
            if phrase not in banned:
                banned.append(phrase)
        tokens = [t for t in _TOKEN_RE.findall(own) if t != _PLACEHOLDER]
        return CheckResult(
            directive_count=count,
            total_words=len(tokens),
            threshold=self.threshold,
            explicit_advice=advice,
            banned_phrases=banned,
            question_marks=own.count("?"),
            exclamation_marks=own.count("!"),
            history_claims=sorted({" ".join(m.group(0).split()) for m in _HISTORY_RE.finditer(own)}),
            repeated_phrase=_repeated_4gram(reply),
        )

    def _imperative(self, sentence: str, offset: int, phrase_spans: list[tuple[int, int]]) -> str | None:
        tokens = list(_TOKEN_RE.finditer(sentence))
        i = 0
        # Skip list markers and up to two soft lead-ins ("Just try…", "So, maybe take…").
        while i < len(tokens) and i < 2 and tokens[i].group(0) in self.rules.imperative_lead_ins:
            i += 1
        if i >= len(tokens):
            return None
        first = tokens[i]
        verb = first.group(0)
        if verb not in self.rules.imperative_verbs:
            return None
        nxt = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        if nxt in _NOT_IMPERATIVE_NEXT or (verb in _QUESTION_AUX and nxt in ("you", "i", "we", "they")):
            return None
        start = offset + first.start()
        if any(a <= start < b for a, b in phrase_spans):
            return None  # already counted as a phrase ("Make sure…")
        return verb

    def advice_sentences(self, reply: str, source: str | None = None) -> list[str]:
        """The sentences of ``reply`` that contain explicit advice (the rules engine drops them)."""
        return [s for s in split_reply(reply) if self.check(s, source).explicit_advice]


def _repeated_4gram(reply: str) -> str | None:
    """The first 4-word sequence that occurs twice in ``reply`` (quotes included), or None."""
    words = [w for w in _WORD4_RE.findall(normalize(reply))]
    seen: set[tuple[str, ...]] = set()
    for j in range(len(words) - 3):
        gram = tuple(words[j : j + 4])
        if gram in seen:
            return " ".join(gram)
        seen.add(gram)
    return None


def split_reply(reply: str) -> list[str]:
    """A reply's sentences, keeping quoted spans whole even when they contain full stops."""
    out, buf, in_quote = [], [], False
    for ch in reply:
        buf.append(ch)
        if ch in "“”\"":
            in_quote = (ch == "“") or (ch == '"' and not in_quote)
        elif ch in ".?!" and not in_quote:
            out.append("".join(buf).strip())
            buf = []
    if "".join(buf).strip():
        out.append("".join(buf).strip())
    return [s for s in out if s]
