"""Composes a rules-engine mirrorback from reflective-listening moves, in tentative, quoted phrasing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mirror_desktop.engine._data import Lexicon, default_lexicon
from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternHit
from mirror_desktop.engine.tensions import SurfacedTension
from mirror_desktop.engine.text import choose, normalize
from mirror_desktop.engine.types import SuggestedTension

# Several phrasings per move so consecutive entries do not read alike (choice by stable hash).
OPENINGS = (
    "It sounds like “{q}” is close to the heart of this.",
    "You wrote “{q}”, and it seems to carry real weight.",
    "Those words, “{q}”, seem to hold a lot of what today was.",
    "It seems that “{q}” sits near the centre of what you are carrying.",
    "Something in “{q}” seems to stand out, as if it matters more than it first looks.",
    "There is a line here, “{q}”, that seems to say a great deal.",
    "It sounds as if “{q}” is where much of this lives for you.",
    "Reading “{q}”, it seems something important is moving in you.",
    "In your words, “{q}”, there seems to be something that wants to be heard.",
    "It seems a lot is held in “{q}”.",
)
OPENINGS_NO_QUOTE = (
    "It sounds like something is here that is still finding its words.",
    "It seems there is more here than the words on the page.",
    "It sounds like this is only the beginning of something.",
)
DOUBLE_QUOTES = (
    "Part of you seems to say “{a}”, while another part says “{b}”.",
    "It sounds like part of you is saying “{a}”, and another part answers “{b}”.",
    "Both seem true at once: part of you says “{a}”, and another part “{b}”.",
)
# For "part of me wants X, but part of me Y": the writer's verb phrases follow "part of you".
# Only when neither phrase has "I", "me" or "my" in it ("part of you “wants my old life back”"
# would switch voice mid-sentence); otherwise DOUBLE_WHOLE quotes both clauses entire.
DOUBLE_PARTS = (
    "It sounds like part of you “{a}”, and another part “{b}”.",
    "Part of you, in your words, “{a}”, and another part “{b}”.",
    "It seems both are true: part of you “{a}”, and another part “{b}”.",
)
DOUBLE_WHOLE = (
    "You wrote “{a}”, and also “{b}”, and it sounds like part of you is in each.",
    "Two things sit side by side here, “{a}” and “{b}”, and it sounds like part of you is in each.",
    "Both seem true at once, “{a}” and “{b}”, as if part of you is in each.",
)
DOUBLE_POLES = (
    "Part of you seems drawn toward {a}, and another part toward {b}.",
    "It sounds like part of you leans toward {a}, and another part toward {b}, and both seem real.",
    "It seems part of you reaches for {a} while another part reaches for {b}.",
)
DOUBLE_GENERIC = (
    "It sounds like part of you wants one thing, and another part wants something else, and both seem real.",
    "Part of you seems to pull one way, and another part the other.",
)
TENSION_SURFACED = (
    "This seems to touch your tension between {a} and {b}.",
    "It sounds like your tension between {a} and {b} is present here.",
    "Something here seems to sit on your line between {a} and {b}.",
)
TENSION_SUGGESTED = (
    "There may be a pull here between {a} and {b}.",
    "It sounds like {a} and {b} might both be asking for room.",
)
PATTERN_MOVES: dict[str, tuple[str, ...]] = {
    "obligation_language": (
        "The words “{w}” come up here, and it sounds like some of this is carried as something owed.",
        "It sounds like “{w}” is doing a lot of the talking in this.",
        "It seems “{w}” runs through this, and presses on you.",
    ),
    "absolute_thinking": (
        "Words like “{w}” seem to make it feel fixed and total.",
        "It seems that right now a word like “{w}” leaves little room in between.",
    ),
    "past_trauma_reference": (
        "It seems something from earlier in your life is present in this too.",
        "It sounds like the past is part of this, not only today.",
    ),
    "catastrophizing": (
        "It sounds like your mind is running ahead to how badly this could go.",
        "It seems the fear of the worst is taking up a lot of room.",
    ),
    "mind_reading": (
        "It sounds like you are carrying a guess about what others think of you.",
        "It seems part of the weight here is what you imagine others see.",
    ),
    "fortune_telling": (
        "It sounds like the ending already feels written, before it has happened.",
        "It seems the future looks settled from where you stand today.",
    ),
    "labeling": (
        "It sounds like you reached for a hard word for yourself there, “{w}”.",
        "It sounds like “{w}” is a heavy thing to say about yourself.",
    ),
    "personalization": (
        "It sounds like you are holding much of this as yours alone.",
        "It seems the weight of this has landed mostly on you.",
    ),
    "emotional_reasoning": (
        "It sounds like the feeling is strong enough to seem like proof.",
        "It seems the feeling and the facts are hard to tell apart right now.",
    ),
    "overgeneralization": (
        "It sounds like this moment feels like one of many that went the same way.",
        "It seems this feels less like one day and more like a pattern.",
    ),
}
QUESTIONS: dict[str, tuple[str, ...]] = {
    "generic": (
        "What feels most alive in this for you right now?",
        "What else is here that has not been said yet?",
        "What is it like to read this back?",
        "What sits underneath this for you?",
        "Which part of this stays with you most?",
    ),
    "ambivalence": (
        "What does each side want for you?",
        "What is it like to hold both at once?",
        "What would each part say if it had the floor?",
    ),
    "obligation_language": ("Whose voice does that sense of having to sound like?", "Where does that sense of having to come from?"),
    "absolute_thinking": ("What is it like when it feels that total?",),
    "past_trauma_reference": ("How does that earlier time show up in today?",),
    "catastrophizing": ("What feels most at stake for you here?",),
    "fortune_telling": ("What feels most at stake for you here?",),
    "mind_reading": ("What would it mean to you if that guess were true?",),
    "labeling": ("Where does that word for yourself come from?",),
    "labeling_other": ("What does that word hold for you?",),
    "personalization": ("How much of this feels like yours to carry?",),
    "emotional_reasoning": ("What is the feeling trying to tell you?",),
    "overgeneralization": ("What does this moment share with the others, and what is its own?",),
}
LABEL_OTHER_MOVES = (
    "It sounds like “{w}” holds a lot of what you feel about them right now.",
    "The words “{w}” seem to carry a strong feeling about someone.",
)
# A language the engine does not read: say so gently, then reflect only the writer's own words.
LANGUAGE_NOTES = (
    "Mirror does not read {lang} yet, so this can only reflect a little of what you wrote.",
    "This is written in {lang}, which Mirror does not read yet, so it can only hold up a few of your words.",
)

# Replies to Spanish and German writing, in their language (issue 13). Same moves, same tentative
# voice; the double-sided quote of "but" clauses is English-only, so those replies use DOUBLE_GENERIC.
LOCALES: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "OPENINGS": (
            "Parece que “{q}” está cerca del centro de todo esto.",
            "Escribiste “{q}”, y parece tener mucho peso.",
            "Esas palabras, “{q}”, parecen guardar mucho de lo que fue hoy.",
            "Suena como si “{q}” fuera donde vive gran parte de esto.",
            "Hay una frase aquí, “{q}”, que parece decir mucho.",
        ),
        "OPENINGS_NO_QUOTE": (
            "Parece que aquí hay algo que todavía está buscando sus palabras.",
            "Parece que aquí hay más de lo que dicen las palabras.",
        ),
        "DOUBLE_GENERIC": (
            "Suena como si una parte de ti quisiera una cosa y otra parte algo distinto, y ambas parecen reales.",
            "Parece que una parte de ti tira hacia un lado y otra hacia el otro.",
        ),
        "DOUBLE_POLES": ("Una parte de ti parece inclinarse hacia {a}, y otra hacia {b}.",),
        "TENSION_SURFACED": ("Esto parece tocar tu tensión entre {a} y {b}.",),
        "TENSION_SUGGESTED": ("Quizá haya aquí un tirón entre {a} y {b}.",),
        "LABEL_OTHER_MOVES": ("Parece que “{w}” guarda mucho de lo que sientes ahora por esa persona.",),
        "P:obligation_language": (
            "Las palabras “{w}” aparecen aquí, y suena como si parte de esto se cargara como una deuda.",
            "Parece que “{w}” habla mucho en todo esto.",
        ),
        "P:absolute_thinking": ("Palabras como “{w}” parecen hacerlo sentir fijo y total.",),
        "P:past_trauma_reference": ("Parece que algo de antes en tu vida también está presente aquí.",),
        "P:catastrophizing": ("Suena como si tu mente se adelantara a lo peor que podría pasar.",),
        "P:mind_reading": ("Suena como si cargaras con una suposición sobre lo que otros piensan de ti.",),
        "P:fortune_telling": ("Suena como si el final ya pareciera escrito antes de que ocurra.",),
        "P:labeling": ("Suena como si “{w}” fuera una palabra muy dura para decir de ti.",),
        "P:personalization": ("Suena como si sostuvieras gran parte de esto como si fuera solo tuyo.",),
        "P:emotional_reasoning": ("Parece que el sentimiento es tan fuerte que se siente como una prueba.",),
        "P:overgeneralization": ("Parece que este momento se siente como uno más de muchos que fueron iguales.",),
        "Q:generic": (
            "¿Qué se siente más vivo de todo esto para ti ahora mismo?",
            "¿Qué más hay aquí que todavía no se ha dicho?",
            "¿Cómo es leer esto de nuevo?",
            "¿Qué hay debajo de esto para ti?",
        ),
        "Q:ambivalence": ("¿Qué quiere cada parte para ti?", "¿Cómo es sostener las dos cosas a la vez?"),
        "Q:obligation_language": ("¿De dónde viene esa sensación de tener que hacerlo?",),
        "Q:absolute_thinking": ("¿Cómo es cuando se siente así de total?",),
        "Q:past_trauma_reference": ("¿Cómo aparece aquel tiempo en el día de hoy?",),
        "Q:catastrophizing": ("¿Qué sientes que está en juego aquí?",),
        "Q:fortune_telling": ("¿Qué sientes que está en juego aquí?",),
        "Q:mind_reading": ("¿Qué significaría para ti si esa suposición fuera cierta?",),
        "Q:labeling": ("¿De dónde viene esa palabra para ti?",),
        "Q:labeling_other": ("¿Qué guarda esa palabra para ti?",),
        "Q:personalization": ("¿Cuánto de esto sientes que te toca cargar a ti?",),
        "Q:emotional_reasoning": ("¿Qué intenta decirte ese sentimiento?",),
        "Q:overgeneralization": ("¿Qué comparte este momento con los otros, y qué tiene de propio?",),
    },
    "de": {
        "OPENINGS": (
            "Es klingt, als wäre “{q}” nah am Kern von all dem.",
            "Du hast “{q}” geschrieben, und es scheint viel Gewicht zu haben.",
            "Diese Worte, “{q}”, scheinen viel von diesem Tag zu tragen.",
            "Es scheint, als läge in “{q}” vieles von dem, was dich gerade beschäftigt.",
            "Da ist ein Satz, “{q}”, der viel zu sagen scheint.",
        ),
        "OPENINGS_NO_QUOTE": (
            "Es klingt, als wäre hier etwas, das noch nach Worten sucht.",
            "Es scheint, als wäre hier mehr als die Worte auf der Seite.",
        ),
        "DOUBLE_GENERIC": (
            "Es klingt, als wollte ein Teil von dir das eine und ein anderer Teil etwas anderes, und beides scheint echt.",
            "Ein Teil von dir scheint in die eine Richtung zu ziehen, ein anderer in die andere.",
        ),
        "DOUBLE_POLES": ("Ein Teil von dir scheint zu {a} zu neigen, ein anderer zu {b}.",),
        "TENSION_SURFACED": ("Das scheint deine Spannung zwischen {a} und {b} zu berühren.",),
        "TENSION_SUGGESTED": ("Vielleicht gibt es hier einen Zug zwischen {a} und {b}.",),
        "LABEL_OTHER_MOVES": ("Es klingt, als läge in “{w}” viel von dem, was du gerade über diese Person fühlst.",),
        "P:obligation_language": (
            "Die Worte “{w}” tauchen hier auf, und es klingt, als würde manches davon wie eine Schuld getragen.",
            "Es klingt, als spräche “{w}” hier sehr laut mit.",
        ),
        "P:absolute_thinking": ("Worte wie “{w}” scheinen es starr und endgültig wirken zu lassen.",),
        "P:past_trauma_reference": ("Es scheint, als wäre auch etwas aus einer früheren Zeit deines Lebens hier.",),
        "P:catastrophizing": ("Es klingt, als liefe dein Kopf voraus zu dem Schlimmsten, was passieren könnte.",),
        "P:mind_reading": ("Es klingt, als trügest du eine Vermutung darüber mit dir, was andere von dir denken.",),
        "P:fortune_telling": ("Es klingt, als wäre das Ende schon geschrieben, bevor es passiert ist.",),
        "P:labeling": ("Es klingt, als wäre “{w}” ein hartes Wort über dich selbst.",),
        "P:personalization": ("Es klingt, als würdest du vieles davon allein dir zuschreiben.",),
        "P:emotional_reasoning": ("Es scheint, als wäre das Gefühl so stark, dass es wie ein Beweis wirkt.",),
        "P:overgeneralization": ("Es scheint, als fühlte sich dieser Moment wie einer von vielen an, die gleich verliefen.",),
        "Q:generic": (
            "Was fühlt sich daran gerade am lebendigsten an?",
            "Was ist hier noch, das noch nicht gesagt wurde?",
            "Wie ist es, das noch einmal zu lesen?",
            "Was liegt für dich darunter?",
        ),
        "Q:ambivalence": ("Was will jede Seite für dich?", "Wie ist es, beides zugleich zu halten?"),
        "Q:obligation_language": ("Woher kommt dieses Gefühl, es tun zu müssen?",),
        "Q:absolute_thinking": ("Wie ist es, wenn es sich so total anfühlt?",),
        "Q:past_trauma_reference": ("Wie zeigt sich diese frühere Zeit im Heute?",),
        "Q:catastrophizing": ("Was steht hier für dich auf dem Spiel?",),
        "Q:fortune_telling": ("Was steht hier für dich auf dem Spiel?",),
        "Q:mind_reading": ("Was würde es für dich bedeuten, wenn diese Vermutung stimmte?",),
        "Q:labeling": ("Woher kommt dieses Wort für dich?",),
        "Q:labeling_other": ("Was steckt für dich in diesem Wort?",),
        "Q:personalization": ("Wie viel davon fühlt sich an, als müsstest du es tragen?",),
        "Q:emotional_reasoning": ("Was versucht dir das Gefühl zu sagen?",),
        "Q:overgeneralization": ("Was teilt dieser Moment mit den anderen, und was gehört nur ihm?",),
    },
}


def _is_other_label_move(move: str) -> bool:
    """Whether ``move`` is one of the label-for-someone-else phrasings, in any language."""
    stems = [t.split("{w}")[0] for t in LABEL_OTHER_MOVES + tuple(t for loc in LOCALES.values() for t in loc["LABEL_OTHER_MOVES"])]
    return any(st and move.startswith(st) for st in stems)


def _t(lang: str, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """The templates ``key`` in ``lang`` (English ``default`` when there is no translation)."""
    return LOCALES.get(lang, {}).get(key, default)

EMPTY_REPLY = "The page is quiet today. What is here, under the quiet?"
# Where a quote may end without cutting a clause in half: before one of these words.
_CLAUSE_STARTS = frozenset({
    "and", "but", "so", "because", "when", "which", "that", "then", "or", "while", "until", "if", "though",
    "although", "since", "after", "before", "where", "who", "y", "pero", "porque", "que", "cuando", "und",
    "aber", "weil", "dass", "wenn", "als", "oder",
})

_CLAUSE_RE = re.compile(r"[^.!?;:\n\"“”%,()\[\]{}—–*#>_`|]+")
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LEADING_SKIP = frozenset({"and", "but", "so", "because", "then", "or", "also", "yet", "just", "well"})
_FIRST_PERSON = frozenset({"i", "me", "my", "i'm", "i've", "i'd", "i'll", "myself"})
# Words that would switch voice inside "part of you “…”" (the writer's "I" read as "you").
_WRITER_WORDS = _FIRST_PERSON | {"mine", "we", "us", "our", "ours", "we're", "we've", "ourselves"}
MAX_QUOTE_WORDS = 12
MAX_SIDE_WORDS = 9
# Quotes must never carry characters the reply forbids or that would break the quote marks.
_FORBIDDEN_IN_QUOTE = set("!?\"“”%")
# What may be cut from the ends of a quote: a quote never ends in its own full stop or comma
# (the template supplies the punctuation, so no "?." or "..").
_QUOTE_EDGE = " \t.,;:…-–—"
_ARTICLE_QUOTE_RE = re.compile(r"\b([Aa])(n?)(\s+“)([^\W\d_]+)")
_SILENT_H = ("hour", "honest", "honour", "honor", "heir")
_YOU_SOUND = ("uni", "use", "usu", "usa", "uti", "ure", "eu", "ewe", "one", "once")


def starts_with_vowel_sound(word: str) -> bool:
    """A rough ear for "a" versus "an": "an “I have to”", "an hour", "a “useless”", "a “one-off”"."""
    w = normalize(word)
    if w.startswith(_SILENT_H):
        return True
    if w.startswith(_YOU_SOUND):
        return False
    return w[:1] in ("a", "e", "i", "o", "u")


def _agree(m: re.Match[str]) -> str:
    article = m.group(1) + ("n" if starts_with_vowel_sound(m.group(4)) else "")
    return article + m.group(3) + m.group(4)


def clean_quote(quote: str) -> str | None:
    """``quote`` without edge punctuation or spaces, or None if it cannot be quoted safely.

    The result is still a verbatim substring of the writer's text.
    """
    quote = quote.strip(_QUOTE_EDGE)
    if not quote or "\n" in quote or any(c in _FORBIDDEN_IN_QUOTE for c in quote):
        return None
    return quote if _unclosed_quote_mark(quote) is None else None


def fill(template: str, **quotes: str) -> str | None:
    """``template`` with each ``{name}`` replaced by a quote, read as one grammatical sentence.

    Quotes lose edge punctuation, an article before a quote agrees with the quote's first word,
    and the sentence starts with a capital. None if a quote cannot be used.
    """
    clean = {}
    for name, quote in quotes.items():
        q = clean_quote(quote)
        if q is None:
            return None
        clean[name] = q
    out = _ARTICLE_QUOTE_RE.sub(_agree, template.format(**clean))
    return out if out.startswith("“") else out[:1].upper() + out[1:]


def _unclosed_quote_mark(quote: str) -> int | None:
    """Where a single quotation mark opens in ``quote`` and never closes (‘so, 'so), or None."""
    opened: list[int] = []
    for i, c in enumerate(quote):
        if c not in "'‘’":
            continue
        before = quote[i - 1] if i else " "
        after = quote[i + 1] if i + 1 < len(quote) else " "
        if before.isalnum() and after.isalnum():
            continue  # an apostrophe: "don't", "I’m"
        if c == "‘" or (c == "'" and not before.isalnum() and after.isalnum()):
            opened.append(i)
        elif opened:
            opened.pop()
    return opened[0] if opened else None


def has_writer_words(quote: str) -> bool:
    """Whether ``quote`` speaks as the writer ("I", "me", "my", "we" …)."""
    return any(normalize(w) in _WRITER_WORDS for w in _WORD_RE.findall(quote))


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _word_spans(text: str, start: int, end: int) -> list[Span]:
    return [Span(start + m.start(), start + m.end()) for m in _WORD_RE.finditer(text[start:end])]


def _trim(text: str, spans: list[Span], limit: int, centre: int | None = None, from_end: bool = False) -> str | None:
    while spans and normalize(text[spans[0].start : spans[0].end]) in _LEADING_SKIP:
        spans = spans[1:]
    if not spans:
        return None
    if len(spans) > limit:
        window = _clause_window(text, spans, limit, centre, from_end)
        if window is None:
            return None
        spans = window
    quote = text[spans[0].start : spans[-1].end]
    stray = _unclosed_quote_mark(quote)
    if stray is not None:
        # Quote the words on the longer side of a quotation mark that never closes.
        cut = spans[0].start + stray
        before, after = [s for s in spans if s.end <= cut], [s for s in spans if s.start > cut]
        spans = after if len(after) >= len(before) else before
        if len(spans) < 2:
            return None
        quote = text[spans[0].start : spans[-1].end]
    return clean_quote(quote)


def _clause_window(text: str, spans: list[Span], limit: int, centre: int | None, from_end: bool) -> list[Span] | None:
    """At most ``limit`` words of a long clause, cut only where a new clause begins ("…, and", "because").

    The window starts at the clause's start or just after a clause word, and ends just before one,
    so a quote never stops in the middle of a clause ("I have to finish the" is never quoted).
    """
    low = [normalize(text[s.start : s.end]) for s in spans]
    starts = [0] + [i + 1 for i, w in enumerate(low) if w in _CLAUSE_STARTS and i + 1 < len(low)]
    ends = [i for i, w in enumerate(low) if w in _CLAUSE_STARTS and i > 0] + [len(low)]
    best: tuple[int, int] | None = None
    for a in (reversed(starts) if from_end else starts):
        for b in ends:
            if b <= a or b - a > limit or b - a < 3:
                continue
            if centre is not None and not (spans[a].start <= centre < spans[b - 1].end):
                continue
            if best is None or (b - a) > (best[1] - best[0]):
                best = (a, b)
        if best is not None and centre is None:
            break
    return spans[best[0] : best[1]] if best else None


def no_repeated_phrase(sentences: Sequence[str], n: int = 4) -> list[str]:
    """``sentences`` without any that would repeat an ``n``-word sequence already said in the reply.

    The last sentence (the question) is kept; an earlier one that repeats is dropped.
    """
    seen: set[tuple[str, ...]] = set()
    out: list[str] = []
    for i, sentence in enumerate(sentences):
        words = [normalize(w) for w in _WORD_RE.findall(sentence)]
        listed = [tuple(words[j : j + n]) for j in range(len(words) - n + 1)]
        grams = set(listed)
        repeats = grams & seen or len(grams) < len(listed)
        if repeats and i != len(sentences) - 1 and out:
            continue
        seen |= grams
        out.append(sentence)
    return out


def repeated_phrase(reply: str, n: int = 4) -> tuple[str, ...] | None:
    """The first ``n``-word sequence that occurs twice in ``reply``, or None."""
    words = [normalize(w) for w in _WORD_RE.findall(reply)]
    seen: set[tuple[str, ...]] = set()
    for j in range(len(words) - n + 1):
        gram = tuple(words[j : j + n])
        if gram in seen:
            return gram
        seen.add(gram)
    return None


class Composer:
    """Turns an analysis into 1–4 sentences: reflection, double-sided reflection, pattern, one question."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()

    def main_quote(
        self, text: str, hits: Sequence[PatternHit], pick: int = 0, exclude: tuple[int, int] | None = None
    ) -> str | None:
        """A short verbatim phrase from the clause that seems to carry the most feeling."""
        hit_starts = [h.start for h in hits]
        scored = []
        for m in _CLAUSE_RE.finditer(text):
            if exclude and exclude[0] <= m.start() < exclude[1]:
                continue  # already quoted by the double-sided reflection
            spans = _word_spans(text, m.start(), m.end())
            if not spans:
                continue
            lowered = [normalize(text[s.start : s.end]) for s in spans]
            score = 2 * sum(1 for w in lowered if w in self.lexicon.feeling_words)
            score += 3 * sum(1 for h in hit_starts if m.start() <= h < m.end())
            score += 1 if any(w in _FIRST_PERSON for w in lowered) else 0
            score += 1 if 3 <= len(spans) <= MAX_QUOTE_WORDS else 0
            score -= 2 if len(spans) < 2 else 0
            # A clause that must be cut to fit reads as a broken quote; prefer one that fits whole.
            score -= 3 if len(spans) > MAX_QUOTE_WORDS else 0
            scored.append((-score, m.start(), m.end(), spans))
            if len(scored) > 400:  # long entries: the first few hundred clauses are plenty
                break
        if not scored:
            return None
        scored.sort(key=lambda s: (s[0], s[1]))
        candidates = [s for s in scored[:2] if s[0] == scored[0][0]] or scored[:1]
        for _, start, _end, spans in candidates[pick % len(candidates) :] + candidates[: pick % len(candidates)]:
            centre = next((h for h in hit_starts if start <= h < _end), None)
            quote = _trim(text, spans, MAX_QUOTE_WORDS, centre)
            if quote:
                return quote
        return None

    def sides(self, text: str, hit: PatternHit) -> tuple[str, str, str, tuple[int, int]] | None:
        """The two clauses around "but" in an ambivalent sentence, each quoted verbatim.

        Also says how to frame them: "parts" when both began with "part of me" (then only the verb
        phrases are kept, to follow "part of you"), "whole" when they did but a verb phrase speaks
        as the writer ("wants my old life back"), else "quotes"; and the sentence's span, so the
        opening quotes something else.
        """
        sent_start, sent_end = sentence_span(text, hit.start)
        low = normalize(text[sent_start:sent_end])
        m = re.search(r",?\s+(?:but|yet|while)\s+", low)
        if not m:
            return None
        a_end, b_start = sent_start + m.start(), sent_start + m.end()
        a_spans = _word_spans(text, sent_start, a_end)
        b_spans = _word_spans(text, b_start, sent_end)
        a_rest, b_rest = _after_part_of_me(text, a_spans), _after_part_of_me(text, b_spans)
        kind = "quotes"
        if a_rest is not None and b_rest is not None:
            kind = "parts"
            a = _trim(text, a_rest, MAX_SIDE_WORDS)
            b = _trim(text, b_rest, MAX_SIDE_WORDS)
            if a and b and (has_writer_words(a) or has_writer_words(b)):
                kind = "whole"
        if kind != "parts":
            a = _trim(text, a_spans, MAX_SIDE_WORDS, from_end=kind == "quotes")
            b = _trim(text, b_spans, MAX_SIDE_WORDS)
        if not a or not b or "," in a or "," in b:
            return None
        return a, b, kind, (sent_start, sent_end)

    def compose(
        self,
        text: str,
        hits: Sequence[PatternHit],
        patterns: Sequence[str],
        surfaced: Sequence[SurfacedTension],
        suggested: Sequence[SuggestedTension],
        seed: tuple[object, ...],
        *,
        language: str | None = None,
        reply_language: str = "en",
    ) -> list[str]:
        """The reply's sentences, in order; the caller checks them and joins them.

        ``language`` names a language the engine does not read: the reply then says so and only
        quotes the writer, noticing nothing it cannot read.
        """
        if not _WORD_RE.search(text):
            return [EMPTY_REPLY]
        if language is not None:
            quote = self.main_quote(text, [], pick=int(seed[1]) if len(seed) > 1 and isinstance(seed[1], int) else 0)
            note = [choose(LANGUAGE_NOTES, "language", *seed).format(lang=language)]
            quoted = fill(choose(OPENINGS, "opening", *seed), q=quote) if quote else None
            if quoted:
                note.append(quoted)
            note.append(choose(QUESTIONS["generic"], "question", *seed))
            return no_repeated_phrase(note)
        offsets_ok = len(normalize(text)) == len(text)
        hits = list(hits) if offsets_ok else []
        variant = int(seed[1]) if len(seed) > 1 and isinstance(seed[1], int) else 0
        out: list[str] = []
        second, exclude, ambivalent = self._second_move(text, hits, patterns, surfaced, suggested, seed, reply_language)
        quote = self.main_quote(text, hits, pick=variant, exclude=exclude)
        lang = reply_language
        opening = fill(choose(_t(lang, "OPENINGS", OPENINGS), "opening", *seed), q=quote) if quote else None
        out.append(opening or choose(_t(lang, "OPENINGS_NO_QUOTE", OPENINGS_NO_QUOTE), "opening", *seed))

        question_key = "generic"
        if second:
            out.append(second)
            if ambivalent:
                question_key = "ambivalence"

        for name in PATTERN_NAMES:
            if name == "internal_tension" or name not in patterns:
                continue
            move = self._pattern_move(text, name, hits, seed, lang)
            if move and move not in out and quote_is_new(move, out) and no_repeated_phrase([*out, move]) == [*out, move]:
                out.append(move)
                if question_key == "generic":
                    # A label for someone else asks about the word, not about "that word for yourself".
                    question_key = "labeling_other" if name == "labeling" and _is_other_label_move(move) else name
                break

        kept = no_repeated_phrase(out)
        if len(kept) < len(out) and question_key not in ("generic", "ambivalence"):
            question_key = "generic"   # the move the question would follow was dropped
        english = QUESTIONS.get(question_key, QUESTIONS["generic"])
        kept.append(choose(_t(lang, f"Q:{question_key}", _t(lang, "Q:generic", english)), "question", *seed))
        return no_repeated_phrase(kept)

    def _second_move(
        self,
        text: str,
        hits: Sequence[PatternHit],
        patterns: Sequence[str],
        surfaced: Sequence[SurfacedTension],
        suggested: Sequence[SuggestedTension],
        seed: tuple[object, ...],
        lang: str = "en",
    ) -> tuple[str | None, tuple[int, int] | None, bool]:
        """The second sentence, the span it quotes (if any), and whether it reflects ambivalence."""
        if "internal_tension" in patterns and lang == "en":
            tried: set[tuple[int, int]] = set()
            for hit in (h for h in hits if h.name == "internal_tension"):
                span = sentence_span(text, hit.start)
                if span in tried:
                    continue  # several hits in one sentence: its sides were already looked for
                tried.add(span)
                sides = self.sides(text, hit)
                if sides:
                    a, b, kind, span = sides
                    templates = {"parts": DOUBLE_PARTS, "whole": DOUBLE_WHOLE}.get(kind, DOUBLE_QUOTES)
                    sentence = fill(choose(templates, "double", *seed), a=a, b=b)
                    if sentence:
                        return sentence, span, True
        plain = self._second_move_plain(patterns, surfaced, suggested, seed, lang)
        ambivalent = plain is not None and any(p in plain for p in ("part of you", "parte de ti", "Teil von dir"))
        return plain, None, ambivalent

    def _second_move_plain(
        self,
        patterns: Sequence[str],
        surfaced: Sequence[SurfacedTension],
        suggested: Sequence[SuggestedTension],
        seed: tuple[object, ...],
        lang: str = "en",
    ) -> str | None:
        poles = _t(lang, "DOUBLE_POLES", DOUBLE_POLES)
        both = next((s for s in surfaced if s.a_present and s.b_present), None)
        if both is not None:
            return choose(poles, "double", *seed).format(a=both.ref.axis_a.lower(), b=both.ref.axis_b.lower())
        if "internal_tension" in patterns:
            if suggested:
                s = suggested[0]
                return choose(poles, "double", *seed).format(a=s.axis_a.lower(), b=s.axis_b.lower())
            return choose(_t(lang, "DOUBLE_GENERIC", DOUBLE_GENERIC), "double", *seed)
        if surfaced:
            t = surfaced[0].ref
            return choose(_t(lang, "TENSION_SURFACED", TENSION_SURFACED), "tension", *seed).format(
                a=t.axis_a.lower(), b=t.axis_b.lower())
        if suggested:
            s = suggested[0]
            return choose(_t(lang, "TENSION_SUGGESTED", TENSION_SUGGESTED), "tension", *seed).format(
                a=s.axis_a.lower(), b=s.axis_b.lower())
        return None

    def _pattern_move(
        self, text: str, name: str, hits: Sequence[PatternHit], seed: tuple[object, ...], lang: str = "en"
    ) -> str | None:
        moves = _t(lang, f"P:{name}", PATTERN_MOVES[name])
        template = choose(moves, "pattern", name, *seed)
        hit = next((h for h in hits if h.name == name), None)
        if name == "labeling" and hit is not None and not has_writer_words(text[hit.start : hit.end]) and not (
                lang != "en" and re.search(r"(?i)\b(?:soy|ich)\b", text[hit.start : hit.end])):
            # A label for someone else ("Marcus is a coward"): not "a hard word for yourself".
            template = choose(_t(lang, "LABEL_OTHER_MOVES", LABEL_OTHER_MOVES), "pattern", name, *seed)
        if "{w}" not in template:
            return template
        if hit is None or hit.end - hit.start > 80 or len(_WORD_RE.findall(text[hit.start : hit.end])) > MAX_QUOTE_WORDS:
            plain = [t for t in moves if "{w}" not in t]
            return plain[0] if plain else None
        move = fill(template, w=text[hit.start : hit.end])
        if move is None:
            # Fall back to a phrasing of the same move that needs no quote, if there is one.
            plain = [t for t in moves if "{w}" not in t]
            return plain[0] if plain else None
        return move


def sentence_span(text: str, pos: int) -> tuple[int, int]:
    """The start and end of the sentence (or line) around ``pos``."""
    start = max(text.rfind(c, 0, pos) for c in ".!?\n") + 1
    ends = [i for i in (text.find(c, pos) for c in ".!?\n") if i != -1]
    return start, min(ends) if ends else len(text)


def _after_part_of_me(text: str, spans: list[Span]) -> list[Span] | None:
    """The words after a leading "(a|another|the other) part of me", or None if it is not there."""
    lowered = [normalize(text[s.start : s.end]) for s in spans[:5]]
    for lead in (["part", "of", "me"], ["a", "part", "of", "me"], ["another", "part", "of", "me"],
                 ["the", "other", "part", "of", "me"], ["another", "part"], ["the", "other", "part"]):
        if lowered[: len(lead)] == lead and len(spans) > len(lead):
            return spans[len(lead) :]
    return None


def quote_is_new(sentence: str, previous: Sequence[str]) -> bool:
    """Whether the quoted words of ``sentence`` are not already quoted earlier (no echoing twice)."""
    quotes = re.findall(r"“([^”]*)”", sentence)
    earlier = " ".join(previous)
    return not any(q and f"“{q}”" in earlier for q in quotes)
