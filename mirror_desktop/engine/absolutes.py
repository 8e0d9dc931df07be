"""A small model of whether an absolute word is used sweepingly or literally (issue 13).

"I never finish anything" and "the ferry never sails in January" share the word; only the first is
absolute thinking (LABELLING.md). Hand rules for literal uses (schedules, counts, one occasion, what an
action was done to …) kept learning the last batch of texts, so the decision is a logistic regression
over the clause around each absolute word: the words near it, its lemma, who the clause is about (the
writer, their life, someone else), time expressions and counts, tense, feeling and judgement words,
and which literal-use rule (``PatternDetector._literal_reason``) fits, if any.

The structure still decides first: negated, doubted, hedged, conditional, quoted and reported uses
and idioms never reach the model (``PatternDetector.absolute_candidates``).

Trained by ``benchmarks/train_absolute_model.py`` on dev texts only (the dev split and
``dev_extra*.jsonl``); weights in resources/engine/absolute_model.json (feature -> weight, a few
hundred kilobytes), read once, pure Python, no network. If the file is missing or damaged the rules
decide alone.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Set
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mirror_desktop.engine.patterns import AbsoluteCandidate
    from mirror_desktop.engine.structure import Sentence

log = logging.getLogger(__name__)
FEATURE_VERSION = 1

_CLASSES = {
    "ALWAYS": "always constantly siempre immer ständig",
    "NEVER": "never nunca jamás nie niemals",
    "EVERYONE": "everyone everybody todos alle",
    "NOBODY": "nobody niemand nadie",
    "NOTHING": "nothing nada nichts",
    "EVERYTHING": "everything todo alles",
    "FOREVER": "forever",
    "IMPOSSIBLE": "impossible imposible unmöglich",
    "COMPLETELY": "completely totally entirely complete completo komplett komplettes kompletter komplette völlig",
    "EVER": "ever",
}
CLASS_OF = {w: c for c, ws in _CLASSES.items() for w in ws.split()}
CLASS_OF.update({"no one": "NOBODY", "every time": "EVERY_TIME", "every single time": "EVERY_TIME",
                 "all the time": "ALL_THE_TIME", "todo el rato": "ALL_THE_TIME", "none of": "NONE"})

_WRITER = frozenset("i i'm i've i'd i'll we we're we've yo ich wir soy estoy tengo llego hago bin habe mache".split())
# The writer as object ("listens to me", "nadie me entiende", "hört mir zu"): the claim is about them.
_ME = frozenset("me myself us ourselves mí conmigo mich mir uns".split())
# "my uncle always hums": a possessive names someone else, the claim is about them, not the writer.
_MY = frozenset("my our mi mis nuestro nuestra mein meine meinem meinen meiner unser unsere".split())
_OTHERS = frozenset(
    "he she they he's she's they're him her them his their people everyone everybody nobody "
    "mum mom dad mother father sister brother boss partner husband wife son daughter kids children friends "
    "family teacher teachers manager colleagues men women ex landlord flatmate neighbour neighbor "
    "grandad grandpa grandma gran granny nan baby toddler cat dog abuela abuelo papá mamá gato perro opa oma katze hund "
    "nachbar nachbarin "
    "él ella ellos ellas madre padre hermana hermano jefe hijos amigos er sie mutter vater schwester bruder chef "
    "kinder freunde".split())
_DAYS_RE = re.compile(r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)days?|weekends?|lunes|martes|miércoles|jueves|"
                      r"viernes|sábados?|domingos?|(?:mon|diens|donners|frei|sams|sonn)tags?|mittwochs?|wochenende)\b")
_CLOCK_RE = re.compile(r"\b(?:at|by|after|before|until|till|from|a las|um|ab|bis|nach) (?:\d+|one|two|three|four|five|"
                       r"six|seven|eight|nine|ten|eleven|twelve|noon|midnight|quarter|half|dos|tres|siete|ocho|nueve|"
                       r"diez|sieben|acht|neun|zehn|elf|zwölf)\b")
_ONCE_RE = re.compile(r"\b(?:today|tonight|yesterday|this (?:morning|afternoon|evening|week)|last (?:night|week|year)|"
                      r"when we woke|for once|first time|hoy|anoche|ayer|esta (?:noche|mañana)|heute|gestern|"
                      r"zum ersten mal)\b")
_SEASON_RE = re.compile(r"\b(?:in (?:winter|summer|spring|autumn|june|july|august|january|december)|every (?:week|"
                        r"month|year|morning|night)|en (?:invierno|verano|enero|agosto)|im (?:winter|sommer|mai))\b")
_NUM_RE = re.compile(r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty\w*|thirty\w*|"
                     r"forty\w*|fifty\w*|hundred)\b")
_LIFE = frozenset("life anymore again same house home job work family lately day".split())
# Words that judge rather than report: what a sweeping use tends to come with.
_JUDGE = frozenset(
    "wrong right good enough pointless useless fault alone mess against ignore ignores listen listens listened "
    "cares care understand understands hate hates behind late tired exhausting fails fail failure works right "
    "better harder worse impossible apologising apologizing thanks sorry notice noticed hopeless ruined ruin "
    "disaster chaos sinnlos schief nunca mal desastre culpa caso klappt recht".split())
_FEEL = frozenset(
    "feel feels felt feeling afraid alone angry anxious ashamed guilty lonely lost numb overwhelmed sad "
    "scared stuck tired empty hopeless worthless siento fühle".split())
# Another mind asserted ("they're all judging me", "piensan que", "denken, dass"): mind reading's company.
_MIND = frozenset("think thinks thought judging judge hates hate annoyed looking laughing knows decided piensan piensa "
                  "creen cree odia denken denkt glauben glaubt hassen hasst finden".split())
# The writer set against everyone else: "except me", "menos yo", "nur ich nicht", "and I'm still…".
_CONTRAST_RE = re.compile(r"\b(?:except me|but me|apart from me|menos yo|excepto yo|nur ich|außer mir|and i'm still|"
                          r"and i'm|y yo|und ich)\b")
_PAST_HINT = frozenset("was were had did came went saw left stayed took made gave ate fue fueron estaba war waren "
                       "kam kamen hatte".split())


def _clause_span(words: list[str], idx: int, width: int) -> tuple[list[str], list[str]]:
    """Up to ``width`` words before the candidate and after it, inside its clause."""
    left: list[str] = []
    for w in reversed(words[max(0, idx - width) : idx]):
        if w == "|":
            break
        left.insert(0, w)
    right: list[str] = []
    for w in words[idx + 1 : idx + 1 + width + 2]:
        if w == "|":
            break
        right.append(w)
    return left, right


def candidate_features(sent: Sentence, cand: AbsoluteCandidate, ruled: Set[str] = frozenset()) -> list[str]:
    """The model's features for one absolute word in one sentence (strings).

    ``ruled``: the other patterns the rules found in the same sentence ("…and they're all judging me").
    """
    words = sent.canon.split(" ")
    n_tok = len(cand.word.split())
    cls = CLASS_OF.get(cand.word, "OTHER")
    left, right = _clause_span(words, cand.index, 6)
    right = right[n_tok - 1 :]
    p1 = left[-1] if left else "<c>"
    p2 = left[-2] if len(left) > 1 else "<c>"
    n1 = right[0] if right else "</c>"
    n2 = right[1] if len(right) > 1 else "</c>"
    out = [f"c={cls}", f"w={cand.word}", f"lit={cand.literal or '-'}", f"c={cls}&lit={cand.literal or '-'}",
           f"p1={p1}", f"p2={p2}", f"n1={n1}", f"n2={n2}", f"c={cls}&p1={p1}", f"c={cls}&n1={n1}",
           f"p2p1={p2}_{p1}", f"n1n2={n1}_{n2}"]
    out += [f"L={w}" for w in left if w != ","]
    out += [f"R={w}" for w in right if w != ","]
    clause = [w for w in left + right if w not in (",", "_")]
    sentence_feats, sentence_words = _sentence_features(sent.canon)
    out += sentence_feats
    if _WRITER & set(left):
        out.append("writer_subject")
    if _WRITER & set(clause):
        out.append("writer_in_clause")
    if _ME & set(clause):
        out.append("me_in_clause")
    if _MY & set(left) and not _WRITER & set(left):
        out.append("my_someone_subject")
    if (_OTHERS & set(left) or _MY & set(left)) and not _WRITER & set(left):
        out.append("other_subject")
        if not _ME & set(clause) and not _JUDGE & sentence_words:
            out.append("other_subject_plain")   # someone else's habit, told without judgement
    if n1.endswith("s") and n1 not in ("is", "was", "has", "does", "'s", "always", "as", "us", "this", "his", "its"):
        out.append("n1_verb_s")
    if any(w in _PAST_HINT or (w.endswith("ed") and len(w) > 4) for w in clause):
        out.append("past")
    if _LIFE & set(clause):
        out.append("life")
    if n1 in _FEEL or n1 in _JUDGE:
        out.append("n1_judges")
    out += [f"rule={name}" for name in sorted(ruled) if name != "absolute_thinking"]
    if cand.literal is not None:
        out.append("literal_rule")
    if sent.question:
        out.append("question")
    if not left:
        out.append("clause_first")
    if cand.index == 0:
        out.append("sentence_first")
    return out


@lru_cache(maxsize=256)
def _sentence_features(canon: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The features that depend on the sentence alone (computed once however many absolute words it has)."""
    sentence = [w for w in canon.split(" ") if w not in ("|", ",", "_")]
    words = frozenset(sentence)
    text = " ".join(sentence)
    out = ["writer_in_sentence" if _WRITER & words or _ME & words else "writer_absent"]
    for rx, name in ((_DAYS_RE, "t=day"), (_CLOCK_RE, "t=clock"), (_ONCE_RE, "t=once"), (_SEASON_RE, "t=season"),
                     (_NUM_RE, "count"), (_CONTRAST_RE, "contrast_writer")):
        if rx.search(text):
            out.append(name)
    for lexicon, name in ((_JUDGE, "judge"), (_FEEL, "feel"), (_MIND, "mind")):
        if lexicon & words:
            out.append(name)
    out.append(f"len={min(len(sentence) // 6, 4)}")
    return tuple(out), words


@dataclass
class AbsoluteModel:
    """Logistic regression over ``candidate_features``; ``threshold`` was chosen by cross-validation on dev."""

    weights: dict[str, float]
    bias: float
    threshold: float            # for a word no literal-use rule fits
    threshold_literal: float    # for a word a literal-use rule fits (the model must overrule the rule)

    def probability(self, sent: Sentence, cand: AbsoluteCandidate, ruled: Set[str] = frozenset()) -> float:
        """How likely this absolute word is used sweepingly (0-1)."""
        w = self.weights
        s = self.bias + sum(w.get(f, 0.0) for f in set(candidate_features(sent, cand, ruled)))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, s))))

    def sweeping(self, sent: Sentence, cand: AbsoluteCandidate, ruled: Set[str] = frozenset()) -> bool:
        """Whether the use counts as absolute thinking."""
        limit = self.threshold if cand.literal is None else self.threshold_literal
        return limit <= 1.0 and self.probability(sent, cand, ruled) >= limit


@lru_cache(maxsize=1)
def default_absolute_model() -> AbsoluteModel | None:
    """The model shipped in resources/engine/, loaded once; None (rules alone) if it cannot be read."""
    try:
        return load_absolute_model()
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        log.warning("The absolute-words model could not be loaded (%s); the rules decide alone.", exc)
        return None


def load_absolute_model() -> AbsoluteModel:
    """Read resources/engine/absolute_model.json (raises if it is missing or was made for other features)."""
    from mirror_desktop.resources import resource

    meta = json.loads(resource("engine", "absolute_model.json").read_text("utf-8"))
    if meta["feature_version"] != FEATURE_VERSION:
        raise RuntimeError("resources/engine/absolute_model.json was trained for other features; retrain it.")
    weights = {str(k): float(v) for k, v in meta["weights"].items()}
    return AbsoluteModel(weights, float(meta["bias"]), float(meta["threshold"]), float(meta["threshold_literal"]))
