"""The composer writes grammatical English around the writer's quoted words.

Defects looked for in every reply: an article that disagrees with the quote after it ("A “I have
to”"), doubled punctuation when a quote ends in its own mark ("?”." or "..”"), a sentence that does
not start with a capital (or starts inside a quote), the writer's "I"/"my" outside quotes, and a
switch of voice inside a quote that continues "part of you" ("part of you “wants my old life back”").
"""

import random
import re

import pytest

from conftest import assert_reply_keeps_the_constitution

from mirror_desktop.engine import MirrorCore, TensionRef
from mirror_desktop.engine import compose
from mirror_desktop.engine.compose import fill, starts_with_vowel_sound

QUOTE_RE = re.compile(r"“([^”]*)”")
FIRST_PERSON = re.compile(r"\b(?:I|me|my|mine|myself|I['’]m|I['’]ve|I['’]d|I['’]ll)\b")
ARTICLE_QUOTE = re.compile(r"\b([Aa]n?)\s+[“\"‘']+([^\W\d_]+)")


def vowel_sound(word: str) -> bool:
    """An independent, rough ear for "a"/"an" (not the composer's own helper)."""
    w = word.lower().replace("’", "'")
    if w.startswith(("hour", "honest", "honour", "heir")):
        return True
    if w.startswith(("uni", "use", "usu", "uti", "eu", "one", "once")):
        return False
    return w[0] in "aeiou"


def defects(reply: str) -> list[str]:
    out = []
    for m in ARTICLE_QUOTE.finditer(reply):
        if (m.group(1).lower() == "an") != vowel_sound(m.group(2)):
            out.append(f"article: {m.group(0)!r}")
    if reply.count("“") != reply.count("”") or '"' in reply:
        out.append("unbalanced or straight double quotes")
    for m in re.finditer(r"[.?!,;:…][”’\"]?\s*[.?!,;:]", reply):
        out.append(f"doubled punctuation: {m.group(0)!r}")
    if re.search(r"\s[.,;:?!]", reply):
        out.append("space before punctuation")
    for q in QUOTE_RE.findall(reply):
        if not q or q != q.strip() or q[-1] in ".?!,;:…":
            out.append(f"quote edge: {q!r}")
    for sentence in re.split(r"(?<=[.?])\s+", reply.strip()):
        if not sentence[:1].isupper():
            out.append(f"sentence start: {sentence[:25]!r}")
    if FIRST_PERSON.search(QUOTE_RE.sub("QUOTE", reply)):
        out.append("the writer's first person outside quotes")
    for m in re.finditer(r"part of you(?:, in your words,)? “([^”]*)”", reply, re.IGNORECASE):
        q = m.group(1)
        if not re.match(r"(?:I|We)\b", q) and FIRST_PERSON.search(q):
            out.append(f"voice switch: {m.group(0)!r}")
    return out


FRAGMENTS = [
    # quotes starting with a vowel (and "I"), in both cases
    "I have to finish the report tonight.", "I've got to call my mother back.", "i have to stop.",
    "I'm supposed to be okay by now.", "Every time I try, it goes wrong.", "Always the same, always the same.",
    "I must admit it, I'm such an idiot.", "Everyone expects me to be fine.", "Only I seem to care.",
    "Awful day. Under the weather.", "Useless, that is what I felt at work.", "Honestly I never know what to say.",
    "Outside it rained all day and I was uneasy.", "An hour of quiet, then the phone again.",
    # quotes ending with ? ! . … and runs of them
    "Is it my fault?", "Am I asking too much?", "Why does nobody call?", "Every time I try, it goes wrong?!",
    "I'm an utter failure at this!", "Everything is falling apart!!", "It's always me who apologises...",
    "ok...", "I don't know… maybe I never will.", "I should rest. I should rest.",
    # curly and straight double quotes, single quotes, unclosed ones
    "“I should rest,” she said, and I nodded.", 'He said "you always do this" and left.',
    "I was told ‘you're too much’ as a kid.", "She said 'enough is enough and I left.",
    "Mum said ‘you never listen and I cried for an hour.", "“Are you okay?” he asked. I said “fine.”",
    'I keep hearing "why bother?" in my head.', "My parents' house felt cold and I was sad.",
    # ambivalence, with and without first person in the sides
    "Part of me wants my old life back, but part of me is scared of it.",
    "Part of me wants to go, but part of me wants to stay.", "I want freedom but I also need security.",
    "Part of me loves our flat but part of me wants us to move.",
    "I want the promotion and I dread the hours.", "On the one hand I love it, on the other hand it drains me.",
    "I love my job but I'm exhausted by it.",
    # the distortion family
    "They probably think I'm lazy.", "I just know she hates my cooking.", "It must be my fault.",
    "I feel like a burden, so I must be one.", "Nothing ever changes.", "I'll never get this right.",
    "We need to talk about money.", "I should have seen it coming.", "When I was a kid my father used to shout.",
]
TENSIONS = [
    TensionRef("t-free", "Freedom vs Security", "Freedom", "Security"),
    TensionRef("t-work", "Work vs Rest", "Work", "Rest"),
]


def grammar_corpus(n: int = 300, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = list(FRAGMENTS)
    while len(out) < n:
        out.append(" ".join(rng.sample(FRAGMENTS, rng.randint(2, 5))))
    return out


def test_the_defect_finder_finds_defects():
    assert defects("A “I have to” runs through this.")
    assert defects("An “useless” day.") and not defects("A “useless” day.")
    assert defects("It sounds like “Is it my fault?”.")
    assert defects("You wrote “ok..”.")
    assert defects("“tired of it”: those words matter.")
    assert defects("It sounds like part of you “wants my old life back”.")
    assert defects("It sounds like I understand.")
    assert not defects("It seems “I have to” runs through this, and presses on you. What is it like?")


def test_replies_to_a_varied_corpus_have_no_agreement_or_punctuation_defects():
    core = MirrorCore()
    found = {}
    for i, text in enumerate(grammar_corpus()):
        for variant in range(4):
            reply = core.generate(text, TENSIONS if i % 2 else (), variant=variant).text
            assert_reply_keeps_the_constitution(reply, text)
            problems = defects(reply)
            if problems:
                found[reply] = problems
    assert not found, list(found.items())[:5]


QUOTES = [
    "I have to", "i have to", "I've got to", "always", "Always", "every time", "everyone", "I'm an idiot",
    "useless", "one more thing", "Honestly", "an hour", "Is it my fault?", "Why bother?", "done.", "ok...",
    "It's always me…", "fine,", " so tired ", "We need to", "Under the weather",
]
PART_PHRASES = ["wants to go", "is scared", "aches for rest", "loves the work", "either way", "understands"]


def all_templates():
    for group in ("OPENINGS", "DOUBLE_QUOTES", "DOUBLE_WHOLE"):
        yield from ((group, t) for t in getattr(compose, group))
    for name, moves in compose.PATTERN_MOVES.items():
        yield from ((name, t) for t in moves if "{w}" in t)


@pytest.mark.parametrize("group,template", list(all_templates()))
def test_every_quoting_template_reads_well_with_any_quote(group, template):
    for q in QUOTES:
        other = "part of me is scared of it"
        sentence = fill(template, q=q, a=q, b=other, w=q) if "{q}" in template else (
            fill(template, w=q) if "{w}" in template else fill(template, a=q, b=other))
        if sentence is None:
            assert any(c in q for c in "?!"), (template, q)   # a quote it cannot use safely
            continue
        assert not defects(sentence), (sentence, defects(sentence))
        assert not sentence.startswith("“"), sentence


@pytest.mark.parametrize("template", compose.DOUBLE_PARTS)
def test_part_of_you_templates_read_well(template):
    for a in PART_PHRASES:
        for b in PART_PHRASES:
            sentence = fill(template, a=a, b=b)
            assert sentence and not defects(sentence), sentence


def test_no_template_puts_an_article_or_sentence_start_on_a_quote():
    texts = [t for _, t in all_templates()] + list(compose.DOUBLE_PARTS)
    for t in texts:
        assert not re.search(r"\b[Aa]n?\s+“", t), t
        assert not t.startswith("“"), t


@pytest.mark.parametrize("word,vowel", [("I", True), ("i've", True), ("always", True), ("hour", True),
                                        ("useless", False), ("one", False), ("Every", True), ("We", False)])
def test_article_agreement_helper(word, vowel):
    assert starts_with_vowel_sound(word) is vowel
    assert fill("A “{w}” runs through this.", w=word).startswith("An “" if vowel else "A “")


def test_fill_keeps_quotes_verbatim_without_edge_punctuation():
    assert fill("You wrote “{q}”.", q="fine.") == "You wrote “fine”."
    assert fill("You wrote “{q}”.", q=" it was ok... ") == "You wrote “it was ok”."
    assert fill("You wrote “{q}”.", q="Why bother?") is None
    assert fill("You wrote “{q}”.", q="she said ‘no") is None
    assert fill("it seems “{q}” matters.", q="x y") == "It seems “x y” matters."
