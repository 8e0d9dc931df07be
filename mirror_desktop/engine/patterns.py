"""Detects the spec's reflection patterns and common cognitive distortions in a writer's text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mirror_desktop.engine._data import Lexicon, default_lexicon
from mirror_desktop.engine.text import normalize

# Order is the order patterns are reported in, and the priority the composer gives them.
PATTERN_NAMES = (
    "internal_tension",
    "obligation_language",
    "absolute_thinking",
    "past_trauma_reference",
    "catastrophizing",
    "mind_reading",
    "fortune_telling",
    "labeling",
    "personalization",
    "emotional_reasoning",
    "overgeneralization",
)

_S = r"[^.!?\n]"  # stays inside one sentence
# A bounded run inside one sentence: "X … but Y" within 200 characters. Unbounded ("*"), a long
# unpunctuated entry made these regexes quadratic (seconds for 25,000 words with no full stop).
_SS = _S + "{0,200}"
_NEG = r"(?<!not )(?<!n't )(?<!never )"

_REGEXES: dict[str, list[re.Pattern[str]]] = {
    "obligation_language": [
        re.compile(r"\b(?:i|we)\s+(?:(?:really|just|still|always|also|now|actually|constantly|even|kind of|sort of)\s+)?(?:should|must|ought to|have to|has to|need to|gotta)\b(?! be\b| have been\b)"),
        # "I've got to", "I have got to", "we've gotta"; a bare "I got to see her" is a chance, not a duty.
        re.compile(r"\b(?:i|we)(?:'ve|\s+have)\s+(?:(?:really|just|still|also|now)\s+)?(?:got to|gotta)\b"),
        re.compile(r"\b(?:i|we)\s+(?:(?:still|really|just|also)\s+)?owe\b"),
        re.compile(r"\b(?:i'm|i am|we're|we are)\s+(?:supposed to|expected to|obliged to)\b"),
        re.compile(r"\bi should(?:n't| not)?(?: have)?\b"),
        re.compile(r"\b(?:i|we)\s+(?:had to|needed to)\b"),
    ],
    "internal_tension": [
        re.compile(rf"\bpart of me\b{_SS}\b(?:but|yet|while|and (?:another|the other) part|part of me)\b"),
        re.compile(r"\b(?:another|the other) part of me\b"),
        re.compile(rf"\bi (?:want|wanted|need|love|like)\b{_SS}\bbut\b{_SS}\b(?:i also|also i|at the same time|i (?:also )?(?:want|need|don't want|can't|fear|love|hate|worry)|i(?:'m| am) (?:also )?(?:scared|afraid|terrified))\b"),
        # "I want the promotion and I dread the hours": a wish and a dread in one sentence.
        re.compile(
            rf"\bi (?:really )?(?:want|wanted|need|love|like)\b{_SS}\b"
            rf"(?:and|but) (?:i (?:also |still )?(?:dread|fear|hate|resent)|i(?:'m| am) (?:also )?(?:scared|afraid|terrified) of)\b"),
        re.compile(r"\bon (?:the )?one hand\b"),
        re.compile(r"\btorn between\b"),
        re.compile(r"\bmixed feelings\b"),
        re.compile(r"\bboth want\b|\bwant both\b"),
    ],
    "past_trauma_reference": [
        re.compile(r"\bwhen i was (?:a kid|a child|little|young|younger|small|a teenager|\d{1,2})\b"),
        re.compile(r"\b(?:growing up|as a (?:kid|child|teenager)|my childhood|in childhood)\b"),
        re.compile(r"\b(?:trauma|traumatic|traumatized|abuse|abused|abusive|assault|assaulted|neglected|bullied)\b"),
        re.compile(r"\b(?:flashbacks?|still haunts|haunts me|never got over|never really got over)\b"),
        re.compile(r"\bmy (?:father|mother|dad|mum|mom|parents|stepfather|stepmother) used to\b"),
    ],
    "catastrophizing": [
        re.compile(r"\b(?:disaster|disastrous|catastroph\w*|nightmare|unbearable|the end of the world|ruined|ruin everything)\b"),
        re.compile(r"\b(?:the worst (?:thing|possible|case)|worst-case|everything (?:is|will) (?:fall|falling) apart|fall(?:ing)? apart)\b"),
        re.compile(rf"\bwhat if\b{_SS}\b(?:fail|fails|lose|loses|wrong|falls apart|never|worst|dies|die)\b"),
        re.compile(r"\bi (?:can't|cannot|won't be able to) (?:handle|survive|cope)\b"),
    ],
    "mind_reading": [
        re.compile(r"\b(?:they|he|she|everyone|everybody|people|my \w+) (?:probably |must |all )?(?:think|thinks|thought|believe|believes|see|sees) (?:i'm|i am|that i|of me|me as)\b"),
        re.compile(r"\bi (?:just )?know (?:that )?(?:he|she|they|everyone|people) (?:think|thinks|hate|hates|don't like|doesn't like|are judging|is judging|blame|blames)\b"),
        re.compile(r"\b(?:judging me|(?:he|she|they) must (?:hate|think)|(?:he|she|they)(?:'re| are|'s| is) (?:so |really )?(?:annoyed|disappointed|angry|upset|mad|fed up) (?:with|in|at) me)\b"),
        re.compile(
            r"\bi (?:just |already )?know (?:that )?(?:he|she|they|everyone|people)"
            r"(?:'re| are|'s| is) (?:laughing at|talking about|judging|avoiding) me\b"),
    ],
    "fortune_telling": [
        re.compile(r"\b(?:it|this|things|that|nothing)(?:'ll| will| is going to|'s going to) (?:never|not) (?:work|change|get better|improve)\b"),
        re.compile(r"\bi(?:'ll| will| am going to|'m going to) (?:never|always|fail|end up|be alone|mess)\b"),
        re.compile(r"\b(?:is|are|it's) (?:going to|bound to|sure to) (?:fail|go wrong|be a disaster|end badly|hate)\b"),
        # "I just know it will go badly", "I already know they'll say no" — but not "I just know she
        # hates my cooking", which is a guess about a mind (mind_reading), not about the future.
        re.compile(r"\bi (?:just|already) know (?:that )?(?:it|this)\b(?! was\b)"),
        re.compile(
            r"\bi (?:just|already) know (?:that )?(?:it|this|that|things|they|he|she|we)(?:'ll| will|"
            r" won't| is going to|'s going to| are going to|'re going to| isn't going to| aren't going to| is never| are never)\b"),
        re.compile(r"\bno point (?:in )?(?:trying|even)\b"),
        re.compile(r"\b(?:it's|it is|this is|things are|nothing is|that's|he's|she's|they're) (?:never|not ever|not) (?:going to|gonna) (?:change|work|get better|improve|happen|end|stop|love|come back)\b"),
    ],
    "personalization": [
        re.compile(r"\b(?:it's|it is|it was|that's|that was|this is) (?:all |entirely |completely )?my fault\b"),
        re.compile(r"\b(?:it|this|that) (?:must|has to|had to|must have|has got to) (?:be|been) (?:all |entirely |completely )?my fault\b"),
        re.compile(r"\b(?:because of me|i(?:'m| am) to blame|i blame myself|blame myself|i caused (?:this|it|that)|i ruined)\b"),
        re.compile(r"\b(?:if only i had|if i had(?:n't| not)|should have seen it coming)\b"),
    ],
    "emotional_reasoning": [
        re.compile(rf"\bi feel\b{_SS}\b(?:so|therefore|which means|that means|so it must|it must)\b{_SS}\b(?:i am|i'm|i must|it must|it is|it's|must be)\b"),
        re.compile(rf"\b(?:because|since) i feel\b{_SS}\b(?:i am|i'm|it is|it's|must)\b"),
        re.compile(rf"\bif i feel\b{_SS}\b(?:then|it must|must be)\b"),
        re.compile(r"\bi feel (?:like )?(?:a|an) (?:failure|fraud|idiot|burden)(?:,)? so\b"),
    ],
    "overgeneralization": [
        re.compile(r"\b(?:this|it|that) always happens\b|\balways happens to me\b"),
        re.compile(r"\bevery (?:single )?time i\b"),
        re.compile(r"\b(?:nothing|no one|nobody) ever\b"),
        re.compile(r"\bi (?:always|never) (?:get|mess|fail|ruin|screw|do anything right|say the wrong)\b"),
        re.compile(r"\b(?:everyone|everybody) always\b"),
    ],
}

_ABSOLUTE_NEXT_EXCEPTIONS = {"never": {"mind"}}
# "They probably think I'm lazy": the label is someone else's (imagined) word, so it is
# mind_reading, not the writer labelling themselves. "I think I'm a failure" still counts.
_OTHERS_THINK_RE = re.compile(
    r"\b(?:they|he|she|you|everyone|everybody|people|others|nobody|no one|my \w+)\s+"
    r"(?:\w+\s+){0,2}?(?:think|thinks|thought|believe|believes|believed|say|says|said|see|sees|saw|"
    r"call|calls|called|assume|assumes|assumed|find|finds|found|must think|consider|considers)\s+(?:that\s+|me\s+)?$"
)


@dataclass(frozen=True)
class PatternHit:
    """A detected pattern and where it was found, so the composer can quote near it."""

    name: str
    start: int
    end: int


class PatternDetector:
    """Finds pattern names in text; hedged or negated absolutes ("not always") do not count."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()
        absolutes = sorted(self.lexicon.absolute_words, key=len, reverse=True)
        self._absolute_re = re.compile(
            r"(?<![\w'])(" + "|".join(r"\s+".join(re.escape(w) for w in a.split()) for a in absolutes) + r")(?![\w'])"
        )
        labels = "|".join(re.escape(w) for w in self.lexicon.self_labels)
        self._label_re = re.compile(
            rf"\bi(?:'m| am|'ve always been| have always been| was)\s+(?:such\s+|so\s+|just\s+|a\s+total\s+|a\s+complete\s+|an\s+utter\s+|totally\s+|completely\s+)?(?:an?\s+)?(?:total\s+|complete\s+|utter\s+|absolute\s+)?(?:{labels})\b"
        )
        self._word_before_re = re.compile(r"([\w']+)[\s,]*$")

    def hits(self, text: str) -> list[PatternHit]:
        """Every pattern occurrence, in text order (offsets are into ``text``, same length)."""
        low = normalize(text)
        found: list[PatternHit] = []
        for name, regexes in _REGEXES.items():
            for rx in regexes:
                found.extend(PatternHit(name, m.start(), m.end()) for m in rx.finditer(low))
        found.extend(
            PatternHit("labeling", m.start(), m.end())
            for m in self._label_re.finditer(low)
            if not _OTHERS_THINK_RE.search(re.split(r"[.!?;\n]", low[max(0, m.start() - 60) : m.start()])[-1])
        )
        found.extend(self._absolutes(low))
        found.sort(key=lambda h: (h.start, PATTERN_NAMES.index(h.name)))
        return found

    def detect(self, text: str) -> list[str]:
        """The names of patterns present in ``text``, in PATTERN_NAMES order."""
        present = {h.name for h in self.hits(text)}
        return [name for name in PATTERN_NAMES if name in present]

    def _absolutes(self, low: str) -> list[PatternHit]:
        out = []
        for m in self._absolute_re.finditer(low):
            word = " ".join(m.group(1).split())
            before = low[max(0, m.start() - 40) : m.start()]
            prev = self._previous_words(before, 2)
            # "not always", "almost never", "doesn't always", "isn't everything": hedged, not absolute.
            if any(p in self.lexicon.hedges or p.endswith("n't") for p in prev):
                continue
            after = re.findall(r"[\w']+", low[m.end() : m.end() + 12])
            if after and after[0] in _ABSOLUTE_NEXT_EXCEPTIONS.get(word, set()):
                continue
            out.append(PatternHit("absolute_thinking", m.start(), m.end()))
        return out

    @staticmethod
    def _previous_words(before: str, n: int) -> list[str]:
        # Only look back within the same clause.
        clause = re.split(r"[.!?;\n]", before)[-1]
        return re.findall(r"[\w']+", clause)[-n:]
