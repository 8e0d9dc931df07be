"""Reads a reflection's structure: language, sentences and clauses, typo-tolerant word forms, whose voice.

The pattern and crisis detectors match on this, not on raw text, so that a cue word counts only
when the writer says it in their own voice: quoted and reported speech (``my mum says I should``),
films and books, and questions are marked, and each clause knows its negations and hedges.

Every sentence becomes a *canonical string*: lower-case word forms (typos and chat spellings
mended: ``evryone`` -> ``everyone``, ``im`` -> ``i'm``) separated by single spaces, commas kept as
``,`` and clause boundaries written as ``|``. Words outside the writer's voice become ``_``, so a
rule written as a regular expression over the canonical string cannot match them. Each canonical
word maps back to its span in the original text, so a hit can still be quoted verbatim.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+")
# Sentence ends (and line breaks: entries are often lists without full stops).
_SENT_END_RE = re.compile(r"[.!?…]+[\"”’)]*|\n+")
_CLAUSE_PUNCT = frozenset(",;:—–()")

# Chat spellings and common misspellings, mapped to the form the rules are written for.
_FIXED: dict[str, str] = {
    "im": "i'm", "ive": "i've", "id": "i'd", "dont": "don't", "cant": "can't", "wont": "won't",
    "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't", "wasnt": "wasn't", "arent": "aren't",
    "werent": "weren't", "shouldnt": "shouldn't", "couldnt": "couldn't", "wouldnt": "wouldn't",
    "havent": "haven't", "hasnt": "hasn't", "shes": "she's", "thats": "that's", "theyre": "they're",
    "youre": "you're", "whats": "what's", "theres": "there's",
    "gonna": "going to", "gona": "going to", "wanna": "want to", "wana": "want to", "gota": "gotta",
    "hafta": "have to", "shud": "should", "shoud": "should", "shld": "should",
    "hav": "have", "hve": "have", "u": "you", "ur": "your", "r": "are", "tho": "though", "thru": "through",
    "tmrw": "tomorrow", "tomoro": "tomorrow", "tonite": "tonight", "bc": "because", "cuz": "because",
    "coz": "because", "prob": "probably", "ruind": "ruined", "iddiot": "idiot", "idot": "idiot",
    "nevr": "never", "alwys": "always", "nothin": "nothing", "evrytime": "every time", "def": "definitely",
    "rly": "really", "realy": "really",
    "nobdy": "nobody", "noone": "nobody", "evry": "every", "evrything": "everything",
    "evryone": "everyone", "everytime": "every time", "allways": "always", "alway": "always",
    "thye": "they", "teh": "the", "hapens": "happens", "happend": "happened", "becuase": "because", "beacuse": "because", "falt": "fault",
    "definately": "definitely", "definatly": "definitely", "definitly": "definitely",
    "q": "que", "xq": "porque", "pq": "porque", "tb": "también", "kiero": "quiero", "aki": "aquí",
}
# Words the rules and crisis lists key on; a misspelling one edit away is mended to them.
_CUE_WORDS = (
    "always", "never", "everyone", "everybody", "everything", "nobody", "nothing", "forever",
    "completely", "totally", "impossible", "should", "really", "supposed", "obliged", "definitely",
    "probably", "failure", "idiot", "loser", "useless", "worthless", "pathetic", "stupid", "hopeless",
    "disgusting", "disappointment", "coward", "fraud", "burden", "unlovable", "terrible", "horrible",
    "fault", "blame", "because", "ruined", "disaster", "nightmare", "catastrophe", "unbearable",
    "thinks", "think", "judging", "hates", "laughing", "annoyed", "disappointed", "boring", "clingy",
    "weird", "single", "going", "happens", "happen", "tomorrow", "tonight", "finish", "finances",
    "before", "pregnant", "scholarship", "suicide", "suicidal", "myself", "kill", "die", "dying",
    "alive", "anymore", "disappear", "goodbye", "pills", "tablets", "better", "without",
    "siempre", "nunca", "nadie", "todo", "nada", "todos", "culpa", "tengo", "debería", "suicidio",
    "morirme", "immer", "niemand", "alles", "nichts", "schuld", "sollte", "selbstmord", "sterben",
    "niemals", "part", "torn", "mixed", "childhood",
)
_MAX_EDITS_LEN = 6   # mend only words this long or longer, to cue words as long: short words collide

# Stop words that identify a language (function words only: they occur in any topic).
_LANG_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and i to of a in is it that was my me you for on with but have not this be so just at".split()),
    "es": frozenset("el la de que y en los las un una por con no me mi es lo se pero para muy más ya yo soy estoy "
                    "está del al como nadie siempre".split()),
    "de": frozenset("der die das und ich nicht ist zu ein eine mit auf den mich mir es sie war aber wie noch habe dass "
                    "im bin sich auch nur sehr wenn mein meine".split()),
    "fr": frozenset("le la les et je de un une est pas que qui ne mon ma avec pour dans ce suis mais très".split()),
    "it": frozenset("il lo la e di che non un una sono mi per con ma ho anche molto questo della più".split()),
    "pt": frozenset("o os a as e de que não um uma com para eu meu minha mas muito foi é estou também".split()),
    "nl": frozenset("de het een en ik niet is dat van op te mijn met maar zijn ook heb was nog wel".split()),
}
READ_LANGUAGES = ("en", "es", "de")
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "de": "German", "fr": "French", "it": "Italian",
                  "pt": "Portuguese", "nl": "Dutch"}

# Someone else speaking: "<not I> said/says/told me…", "according to", "apparently".
_SPEECH_VERBS = frozenset({
    "said", "says", "say", "told", "tells", "tell", "texted", "texts", "wrote", "writes", "asked",
    "asks", "insists", "insisted", "reckons", "reckoned", "claims", "claimed", "warned", "warns",
    "saying", "telling", "replied", "answered", "joked", "jokes", "complained", "complains", "admitted", "mentioned",
    "explained", "promised", "suggested", "shouted", "yelled", "screamed", "messaged", "emailed", "announced",
    "dice", "dijo", "dicen", "decía", "insiste", "contó", "cuenta",
    "sagt", "sagte", "meint", "meinte", "gesagt", "behauptet", "fragte",
})
_BEFORE_SPEECH = frozenset({
    "never", "keeps", "kept", "always", "just", "once", "then", "also", "has", "had", "have", "hat", "habe", "hab",
    "me", "te", "le", "nos", "les", "se", "i've", "i'd", "can", "could", "will", "would", "should", "might", "may",
    "still", "really", "ever", "often", "sometimes", "usually",
})
_SPEECH_LEADS = ("according to", "apparently", "según", "laut", "angeblich", "anscheinend")
_WRITER = frozenset({"i", "we", "yo", "ich", "wir", "nosotros", "nosotras"})
# "…, and she's right, I have to": the writer takes the reported words as their own again.
_ADOPT_RE = re.compile(r"\b(?:and|but)\s+(?:she|he|they|you|mum|mom|dad)(?:'s|'re| is| are| was| were)\s+(?:right|not wrong)\b")
_FICTION_NOUNS = frozenset({
    "film", "movie", "book", "novel", "series", "show", "episode", "song", "story", "play", "poem",
    "documentary", "game", "película", "libro", "novela", "serie", "canción", "buch", "roman",
    "lied", "folge", "geschichte",
})
_FICTION_LINK = frozenset({"where", "about", "in", "which", "whose", "sobre", "donde", "über", "wo"})

_CLAUSE_WORDS = frozenset({"but", "yet", "although", "though", "because", "while", "whereas", "pero",
                           "aunque", "porque", "aber", "obwohl", "weil", "sondern"})


@dataclass
class Sentence:
    """One sentence: its canonical string, the original span of each canonical word, and marks."""

    start: int
    end: int
    canon: str
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)  # canon start/end, text start/end
    question: bool = False
    voiced: bool = True            # False when nothing in it is in the writer's voice
    plain: str = ""                # every word, canonical, except what a film or book tells (for safety)

    def text_span(self, c_start: int, c_end: int) -> tuple[int, int]:
        """The original text span of the canonical characters ``c_start:c_end``."""
        if not self.spans:
            return self.start, self.end
        starts = [s[0] for s in self.spans]
        i = max(0, bisect_right(starts, c_start) - 1)
        j = max(i, bisect_right(starts, max(c_start, c_end - 1)) - 1)
        return self.spans[i][2], self.spans[j][3]


@dataclass
class Reading:
    """A reflection as the detectors read it."""

    text: str
    language: str
    sentences: list[Sentence]

    @property
    def reads(self) -> bool:
        """Whether the engine reads this language (English, Spanish, German)."""
        return self.language in READ_LANGUAGES


@lru_cache(maxsize=1)
def _cue_set() -> frozenset[str]:
    return frozenset(w for w in _CUE_WORDS if len(w) >= _MAX_EDITS_LEN)


@lru_cache(maxsize=1)
def _deletes_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for w in _cue_set():
        for i in range(len(w)):
            index.setdefault(w[:i] + w[i + 1 :], w)
    return index


@lru_cache(maxsize=16384)
def canonical(word: str, lang: str = "en") -> str:
    """The form of ``word`` the rules expect: lower case, straight apostrophe, typos mended."""
    w = word.lower().replace("’", "'")
    fixed = _FIXED.get(w)
    if fixed is not None:
        return fixed
    if lang == "de" and w in ("im", "hab", "nich", "nix"):
        return {"im": "im", "hab": "habe", "nich": "nicht", "nix": "nichts"}[w]
    if len(w) < _MAX_EDITS_LEN or "'" in w or lang not in READ_LANGUAGES:
        return w   # no mending in languages the cue words are not from ("morire" is not "morirme")
    cues = _cue_set()
    if w in cues:
        return w
    index = _deletes_index()
    if w in index:
        return index[w]       # one letter missing: "evryone", "scholarsip"
    for i in range(len(w)):
        shorter = w[:i] + w[i + 1 :]
        if shorter in cues:
            return shorter    # one letter extra: "failiure", "borring"
        if i + 1 < len(w):
            swapped = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            if swapped in cues:
                return swapped   # two letters swapped: "singel", "alwyas"
    return w


@lru_cache(maxsize=1)
def _lang_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for lang, stop in _LANG_WORDS.items():
        for w in stop:
            index.setdefault(w, []).append(lang)
    return {w: tuple(langs) for w, langs in index.items()}


def detect_language(text: str) -> str:
    """The language code of ``text`` by function words ("en" when too short to tell)."""
    counts = dict.fromkeys(_LANG_WORDS, 0)
    index = _lang_index()
    for n, m in enumerate(WORD_RE.finditer(text)):
        if n >= 300:
            break
        for lang in index.get(m.group().lower(), ()):
            counts[lang] += 1
    best = max(counts, key=lambda k: (counts[k], k == "en"))
    return best if counts[best] >= 2 and counts[best] > counts["en"] else "en"


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for m in _SENT_END_RE.finditer(text):
        if text[pos : m.end()].strip():
            out.append((pos, m.end()))
        pos = m.end()
    if text[pos:].strip():
        out.append((pos, len(text)))
    return out


def _quoted_ranges(text: str) -> list[tuple[int, int]]:
    """Spans inside double quotes (straight or curly); single quotes are too often apostrophes."""
    out = []
    for m in re.finditer(r"“[^”\n]*”?|\"[^\"\n]*\"?|„[^“”\n]*[“”]?|«[^»\n]*»?", text):
        out.append((m.start(), m.end()))
    return out


def read(text: str) -> Reading:
    """The structure of ``text``: language, sentences with canonical strings and voice marks."""
    language = detect_language(text)
    quoted = _quoted_ranges(text)
    sentences = []
    for s_start, s_end in _sentence_bounds(text):
        sentences.append(_read_sentence(text, s_start, s_end, quoted, language))
    return Reading(text, language, sentences)


def _in_ranges(pos: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in ranges)


def _read_sentence(text: str, s_start: int, s_end: int, quoted: list[tuple[int, int]], lang: str) -> Sentence:
    seg = text[s_start:s_end]
    words: list[tuple[str, int, int]] = []   # canonical form, text start, text end
    marks: list[str] = []                     # punctuation between words, as seen before each word
    last = 0
    for m in WORD_RE.finditer(seg):
        gap = seg[last : m.start()]
        if gap == " " or not gap:
            marks.append("")   # the common case, kept fast
        else:
            marks.append("|" if any(c in _CLAUSE_PUNCT for c in gap if c != ",") else ("," if "," in gap else ""))
        words.append((canonical(m.group(), lang), s_start + m.start(), s_start + m.end()))
        last = m.end()
    question = seg.rstrip().rstrip("\"”’)").endswith("?")
    voiced = [not _in_ranges(ws, quoted) for _, ws, _ in words] if quoted else [True] * len(words)
    forms = [w for w, _, _ in words]
    story = [True] * len(forms)
    _mark_fiction(forms, [""] * len(forms), story)
    plain = " ".join(f for f, keep in zip(forms, story, strict=True) if keep)
    _mark_reported(forms, marks, voiced)
    _mark_fiction(forms, marks, voiced)
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    pos = 0
    for i, (form, ws, we) in enumerate(words):
        if i and marks[i]:
            parts.append(marks[i])
            pos += len(marks[i]) + 1
        if i and forms[i] in _CLAUSE_WORDS and marks[i] != "|":
            parts.append("|")
            pos += 2
        shown = form if voiced[i] else "_"
        parts.append(shown)
        spans.append((pos, pos + len(shown), ws, we))
        pos += len(shown) + 1
    return Sentence(s_start, s_end, " ".join(parts), spans, question, any(voiced), plain)


def _mark_reported(forms: list[str], marks: list[str], voiced: list[bool]) -> None:
    """Unvoice what follows a speech verb whose subject is not the writer, up to the sentence end.

    "…, and she's right" hands the rest back to the writer.
    """
    n = len(forms)
    joined = " ".join(forms)
    if any(f" {lead} " in f" {joined} " for lead in _SPEECH_LEADS):
        # "According to Tom, nobody…", "…, apparently": the whole sentence is someone else's.
        for j in range(n):
            voiced[j] = False
        return
    for i, w in enumerate(forms):
        if w not in _SPEECH_VERBS or i == 0:
            continue
        if w in ("saying", "telling") and forms[i - 1] not in ("keeps", "kept", "keep", "is", "was", "are", "were", "always"):
            continue   # "stop saying yes to everything" is the writer's own
        subj = forms[i - 1]
        if subj in ("never", "always", "just", "keeps", "kept", "also", "once", "then") and i < 2:
            continue   # "Never say never": an imperative, nobody is reported
        # The speaker is the word before the verb, past adverbs, auxiliaries and clitics ("I can never say no").
        k = i - 1
        while k > 0 and i - k <= 3 and forms[k] in _BEFORE_SPEECH:
            k -= 1
        subj = "i" if forms[k] in ("i've", "i'd") else forms[k]
        if subj in _WRITER or subj in ("it", "who", "that", "to", "not", "n't") or subj.endswith("n't"):
            continue
        # The rest of the sentence is the other person's, until the writer takes it back.
        rest = " ".join(forms[i + 1 :])
        m = _ADOPT_RE.search(rest)
        stop = n if m is None else i + 1 + len(rest[: m.end()].split())
        for j in range(i, stop):
            voiced[j] = False


def _clause_end(marks: list[str], k: int) -> int:
    for j in range(k + 1, len(marks)):
        if marks[j]:
            return j
    return len(marks)


def _mark_fiction(forms: list[str], marks: list[str], voiced: list[bool]) -> None:
    """Unvoice the clause that tells what happens in a film, book or song ("a film where the dad never…")."""
    for i, w in enumerate(forms[:-1]):
        if w in _FICTION_NOUNS and forms[i + 1] in _FICTION_LINK:
            end = _clause_end(marks, i + 1)
            for j in range(i + 1, end):
                voiced[j] = False
        elif w in ("in", "en", "im") and i + 2 < len(forms) and forms[i + 2] in _FICTION_NOUNS:
            end = _clause_end(marks, i + 2)
            for j in range(i, end):
                voiced[j] = False
