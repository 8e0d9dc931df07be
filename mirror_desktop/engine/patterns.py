"""Detects the spec's reflection patterns and common cognitive distortions in the writer's own voice.

Two layers (issue 13). Rules over the structure that ``structure.read`` gives (clauses, the
writer's voice only, negation and hedge scope, first-person subjects, modal senses, mended
typos), in English, Spanish and German; then, where rules run out, a small logistic model over
hashed words of the writer's voice (``model.py``, weights in resources/engine/), trained on the
dev split of our own labelled corpus. A pattern is reported when a rule finds it or the model
is confident; hits keep offsets into the original text so the composer can quote near them.
Absolute words are the exception: the structure rules out negated, hedged, quoted and conditional
uses, and a second small model (``absolutes.py``) decides whether each remaining one is sweeping or
literal (a schedule, a count, one occasion …), with the old literal-use rules as its features.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Set
from dataclasses import dataclass

from mirror_desktop.engine._data import Lexicon, default_lexicon
from mirror_desktop.engine.structure import Reading, Sentence, read

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


@dataclass(frozen=True)
class PatternHit:
    """A detected pattern and where it was found, so the composer can quote near it."""

    name: str
    start: int
    end: int


# ---- building blocks over canonical strings ("|" is a clause boundary, "_" a word not the writer's) ----
_G = r"(?:[^\s|_]+ )"           # one word (or comma) inside the clause
_ANY = r"[^|_]{0,160}?"          # a stretch inside the clause
_SENT = r"[^_]{0,240}?"          # a stretch inside the sentence (may cross clauses)
_I = r"(?:i|we)"
_ADV = r"(?:(?:really|just|still|always|also|now|actually|constantly|even|definitely|absolutely|seriously|kind of|sort of|totally|honestly) )*"
# Not a bare "got to": "I got to see my niece" is a chance, not a duty ("I've got to", "gotta" are).
_MODAL = r"(?:should|shouldn't|must|ought to|have to|has to|need to|had to|needed to|gotta)"
_NEG = frozenset({"not", "no", "never", "nor", "without", "hardly", "barely", "scarcely", "rarely", "seldom",
                  "almost", "nearly", "nicht", "kein", "keine", "nie", "casi", "fast", "nunca", "apenas", "kaum"})
_DOUBT_RE = re.compile(
    r"\b(?:i don't think|i do not think|i doubt|not sure|i wonder|i don't know|i do not know|no idea|"
    r"i can't tell|can't tell|unsure|no sé|no creo|no estoy segur[ao]|ich weiß nicht|ich glaube nicht|"
    r"keine ahnung|ich bin nicht sicher|i'm not certain)\b")
_SOFT_RE = re.compile(r"\b(?:maybe|perhaps|might|may|could|possibly|a lo mejor|quizás|quizá|tal vez|puede que|"
                      r"vielleicht|könnte|hopefully|i hope|ojalá)\b")
_IF_RE = re.compile(r"\b(?:if|what if|unless|si|y si|wenn|falls)\b")
_EPISTEMIC_BE = frozenset(
    "tired exhausted mad crazy joking dreaming wrong right getting going losing away ill sick coming "
    "imagining mistaken confused on off out asleep busy cold hungry there here home".split())


_NEG_IN_RE = re.compile(r"\b(?:not|no|kein|keine|nicht)\b|n't\b")


def _negated(words: list[str], idx: int, window: int = 3) -> bool:
    """Whether a negation or softener sits just before word ``idx`` in its clause ("not always")."""
    for w in reversed(words[max(0, idx - window) : idx]):
        if w == "|":
            return False
        if w in _NEG or w.endswith("n't"):
            return True
    return False


# How far back a hedge, doubt or "if" can reach: a long entry without full stops must not make
# every match rescan everything before it (that made 25,000 unpunctuated words take seconds).
_LOOKBACK = 300


class _Words:
    """Word positions of one canonical sentence, for index lookups in O(log n)."""

    def __init__(self, canon: str) -> None:
        self.spaces = [i for i, c in enumerate(canon) if c == " "]

    def index(self, pos: int) -> int:
        return bisect_left(self.spaces, pos)


@dataclass(frozen=True)
class _Rule:
    pattern: str
    rx: re.Pattern[str]
    doubt: bool = False        # cancelled by "I don't think", "not sure", "I wonder" before it
    soft: bool = False         # cancelled by "maybe", "might", "could" before it
    cond: bool = False         # cancelled by "if" / "what if" before it (a conditional is not a forecast)
    neg: bool = False          # cancelled by a negation just before the cue
    no_question: bool = False  # not in questions
    keys: tuple[str, ...] = ()   # the rule can only match if one of these occurs (a cheap pre-check)


def _r(pattern: str, first: str, second: str | None = None, **kw: bool) -> _Rule:
    """A rule: ``_r(name, regex)`` or ``_r(name, keys, regex)``, keys being words ("_" for a space)."""
    keys, rx = ("", first) if second is None else (first, second)
    return _Rule(pattern, re.compile(rx), keys=tuple(k.replace("_", " ") for k in keys.split()), **kw)


_LABELS_SELF = (
    r"failure|idiot|iddiot|loser|looser|fraud|mess|disappointment|burden|joke|coward|fake|waste of space|waste|nobody|"
    r"screwup|screw-up|wreck|worthless|useless|stupid|pathetic|hopeless|broken|unlovable|weak|lazy|disgusting|"
    r"incompetent|dumb|quitter|drunk|has-been|has been|liar|monster|hypocrite|freak|moron|"
    r"terrible (?:mother|father|mum|mom|dad|son|daughter|engineer|person|friend|wife|husband|partner|teacher|nurse)|"
    r"bad (?:mother|father|mum|mom|dad|person|friend)|hopeless (?:son|daughter|case)|lazy person|too much|exhausting|a lot"
)
_LABELS_OTHER = (
    r"idiot|coward|loser|liar|snake|narcissist|snob|psycho|crook|witch|pig|prick|jobsworth|monster|bully|moron|jerk|"
    r"creep|selfish|toxic|bitch|bastard|fraud|hypocrite|control freak|sociopath|useless"
)

_RULES: list[_Rule] = [
    # -- obligation: a duty the writer puts on themselves (deontic senses only) --
    _r("obligation_language", "should must ought have_to has_to need_to had_to needed_to gotta", rf"(?:^|[|,] |\b{_I} ){_ADV}(?:{_MODAL})\b",
       doubt=True, soft=True, cond=True, no_question=True),
    _r("obligation_language", "got_to", rf"\b(?:i've|we've|i have|we have) {_ADV}got to\b", doubt=True, soft=True, cond=True, no_question=True),
    _r("obligation_language", "owe", rf"\b{_I} {_ADV}owe\b", doubt=True, soft=True),
    _r("obligation_language", "supposed expected obliged meant_to", r"\b(?:i'm|i am|we're|we are) (?:\w+ )?(?:supposed to|expected to|obliged to|meant to)\b", doubt=True),
    _r("obligation_language", "que me_toca deb", r"\b(?:tengo|tenemos|tenía|tuve|tendré) que\b|\bhay que\b|\bme toca\b|\b(?:debo|debería|deberia|debemos|deberíamos|debía)\b(?! de\b)",
       doubt=True, soft=True, neg=True, cond=True, no_question=True),
    _r("obligation_language", "muss soll müss hätte", r"\b(?:ich|wir) (?:muss|müssen|sollte|sollten|soll|sollen|musste|mussten|müsste|hätte)\b|\b(?:muss|sollte|soll|musste|müssen|sollten) (?:ich|wir)\b",
       doubt=True, soft=True, cond=True, no_question=True),
    # -- internal tension: two pulls inside the writer --
    _r("internal_tension", "part_of_me half_of_me", rf"\b(?:part|half) of me\b{_SENT}\b(?:part|half) of me\b|\b(?:another|the other) (?:part|half) of me\b"),
    _r("internal_tension", "part_of_me half_of_me should_be", r"\b(?:part|half) of me (?:is|wants|wanted|wishes|feels|keeps|just|still|would|will|can't|doesn't|never|knows|thinks|loves|hates)\b|"
       r"\bi should be (?:happy|grateful|glad|thankful|pleased)\b[^_]{0,80}?\b(?:i'm not|i am not|jealous|resent|i feel (?:guilty|bad|awful|terrible))\b"),
    _r("internal_tension", "torn mixed one_hand two_ways both didn't_expect", r"\btorn between\b|\bi'm torn\b|\bmixed feelings\b|\bon (?:the )?one hand\b|\bpulled two ways\b|\bboth (?:feel|are|seem) true\b|\bboth at once\b|\bcan both be true\b|\bhow both can\b|\bi didn't expect both\b"),
    _r("internal_tension", r"\b(?:i|i'm|i am) (?:really |so |also |still )*(?:want|wanted|love|loved|like|need|glad|happy|relieved|excited|proud|grateful)\b"
       rf"{_SENT}(?:\bbut\b|\band\b|\byet\b|\bwhile\b|\bat the same time\b){_SENT}"
       r"\b(?:i (?:also |still |really |just |keep |quietly )*(?:dread|fear|hate|resent|miss|don't want|can't imagine|can't stand|cried|keep crying|feel (?:guilty|terrible|awful|bad))|"
       r"but i (?:also )?(?:need|want|love) |i also (?:need|want|love) |"
       r"i(?:'m| am) (?:also |still |so |quietly |really )*(?:scared|afraid|terrified|exhausted|jealous|angry|furious|guilty|grieving|sad|dreading|tired of|sick of|anxious|worried)|"
       r"(?:nervous|scared|afraid|terrified|jealous|guilty|grieving) too|also (?:nervous|scared|afraid|terrified|grieving))\b"),
    _r("internal_tension", "parte encontrados por_un_lado a_la_vez mismo_tiempo dos_cosas teil einerseits gerissen zwiegespalten gleichzeitig beides", r"\buna parte de mí\b|\botra parte\b|\bsentimientos encontrados\b|\bpor un lado\b|\b(?:a la vez|al mismo tiempo)\b|\blas dos cosas\b|"
       r"\bein teil von mir\b|\bein anderer teil\b|\beinerseits\b|\bhin- und hergerissen\b|\bzwiegespalten\b|\bgleichzeitig\b|\bbeides stimmt\b"),
    # -- absolute thinking handled in code (needs negation and sense checks) --
    # -- past trauma: a harmful past named, with or without clinical words --
    _r("past_trauma_reference", "trauma abus assault neglect bullied flashback molest rape", r"\b(?:trauma|traumatic|traumatised|traumatized|abuse|abused|abusive|assault|assaulted|neglect|neglected|bullied|flashbacks?|molested|raped)\b", neg=True),
    _r("past_trauma_reference", "when_i_was growing_up as_a childhood at_school in_year grew_up",
       r"\b(?:when i was (?:a kid|a child|little|young|small|a teenager|\w+)|growing up|as a (?:kid|child|teenager)|my childhood|at school|in year \w+|i grew up|the house i grew up in|grew up in a house)\b"
       r"[^_]{0,200}?\b(?:hit|hitting|beat|beating|shout|shouted|shouting|screamed|screaming|yelled|drank|drinking|drunk|left|died|locked|hurt|hid|hide|hiding|"
       r"afraid|scared|flinch|flinching|shoved|punished|nobody explained|nobody talked|watched the front door|went upstairs fast)\b"),
    _r("past_trauma_reference",
       r"\b(?:hit|hitting|beat|shouted|screamed|drank|locked|left)\b[^_]{0,120}?\bwhen i was (?:a kid|a child|little|young|small|\w+)\b|"
       r"\b(?:my (?:father|mother|dad|mum|mom|stepfather|stepmother|grandmother|grandfather|parents)|he|she) used to (?:hit|beat|shout|scream|lock|drink|hurt|lock)\b|"
       r"\b(?:my (?:mother|father|dad|mum|mom) (?:drank|left|hit|beat))\b|"
       r"\bmy (?:first )?(?:boyfriend|girlfriend|husband|wife|partner|ex|stepfather) (?:hit|beat|hurt|raped|strangled) me\b|"
       r"\bmy childhood (?:taught|made|left)\b|\bi was (?:bullied|assaulted|attacked|abused|raped|mugged|beaten)\b|"
       r"\b(?:after|since) (?:the|that) (?:crash|accident|fire|attack|assault|flood|war)\b(?! drill)|"
       r"\b(?:puts|put|takes|took) me (?:straight )?back (?:in|to)\b|\bi was (?:\w+ )?(?:again|eight again|a kid again)\b|"
       r"\b(?:brother|sister|mother|father|dad|mum|mom) (?:died|left) when i was\b|\bmy mother left\b|\bmy father left\b"),
    _r("past_trauma_reference", "cuando_era desde_el maltrat abus acos als_ich seit_dem missbrauch gemobbt misshandelt",
       r"\bcuando era (?:pequeña|pequeño|niña|niño|joven|chica|chico)\b[^_]{0,160}?\b(?:bebía|gritaba|pegaba|me pegaba|se fue|murió|encerraba)\b|"
       r"\bdesde el accidente\b|\bmaltrat\w*\b|\babus\w*\b|\bacoso\b|\bme acosaban\b|"
       r"\bals ich (?:klein|ein kind|jung|jugendlich) war\b[^_]{0,160}?\b(?:getrunken|geschrien|geschlagen|verlassen|gestorben|eingesperrt)\b|"
       r"\bseit dem unfall\b|\bmissbrauch\w*\b|\bgemobbt\b|\bmisshandelt\b"),
    # -- catastrophizing: a run to the worst --
    _r("catastrophizing", "what_if", rf"\bwhat if\b{_SENT}\b(?:die|dies|dead|cancer|tumour|tumor|heart|collapse|lose|lost|fail|spread|never|wrong|worst|over|ruin|accident|phone call|grow up|don't see|won't see|never see)\b", neg=True),
    _r("catastrophizing", "if_ unless", rf"\b(?:if|unless)\b{_SENT}\b(?:lose|losing|lost|we're finished|finished|over|ruin|ruined|disaster|catastrophe|homeless|hostel|disown|hate me|never forgive|fall apart|falls apart|back in my old|dead|won't survive|can't survive|end of us|the end|where would|that's it|on my own|no money|alone with)\b", neg=True),
    _r("catastrophizing", r"\b(?:will|'ll|going to|gonna) be (?:a |an )?(?:disaster|catastrophe|nightmare|the end)\b|\bgoing to turn into\b|\b(?:i've|i have) (?:completely |totally )?ruined (?:my|our|everything)\b|\b(?:my|our|the whole) (?:life|career|family|wedding) (?:is|will be) (?:over|ruined|finished)\b|"
       r"\b(?:is|are|it's|everything's|everything is) (?:ruined|over|finished)\b|\bruin (?:everything|the wedding|it all)\b|\bfall(?:ing)? apart\b|"
       r"\bi (?:can't|cannot|won't|couldn't) (?:cope|survive|handle) (?:another|with another|this|it)\b|\bthe end of (?:the world|us|everything)\b|\bmy life is over\b|"
       r"\bwe'll be out\b|\bbe dead by\b|\bstuck (?:doing|in) \w+ until i (?:retire|die)\b|\bthe whole (?:family|thing) will\b", neg=True, doubt=True),
    _r("catastrophizing", "si_ was wenn weiß", r"\by si\b[^_]{0,160}?\b(?:muero|corazón|desplomo|pierdo|cáncer)\b|\bsi\b[^_]{0,160}?\b(?:pierdo|perdemos|se acaba|todo se acaba|ruina|desastre)\b|\bno sé qué va a ser de nosotros\b|"
       r"\bwas (?:, )?wenn\b[^_]{0,160}?\b(?:herz|umfalle|sterbe|krebs|verliere)\b|\bwenn\b[^_]{0,160}?\b(?:verliere|verlieren|vorbei|katastrophe|ruiniert)\b|\bweiß nicht,? was aus uns wird\b"),
    # -- mind reading: asserting another's mind --
    _r("mind_reading", "think thought believe find consider assume", r"\b(?!i\b|we\b|i'm\b|i've\b)(?:[^\s|_,]+) (?:probably |must |all |already |clearly |obviously |definitely |secretly |really |just )?(?:thinks?|thought|believes?|finds?|considers?|assumes?) (?:that )?(?:i'm|i am|i was|i've|i have|i|me|my|nurses|we|i'd)\b",
       doubt=True),
    _r("mind_reading", r"\b(?:hates|hate|can't stand|doesn't like|don't like|is bored of|are bored of|is sick of|are sick of|is tired of|are tired of) me\b|"
       r"\b(?:judging|laughing at|talking about|staring at|watching) me\b|\ball staring\b|\blooks? at (?:me|my \w+) like\b|\blooking at me like\b|\b(?:everyone|everybody|they|people|he|she) (?:all )?(?:hates?|laughs? at) my\b|"
       r"\b(?:annoyed|angry|mad|upset|disappointed|furious|fed up|embarrassed|ashamed|done) (?:with|at|of|in) me\b|\bshe's annoyed\b|\bhe's annoyed\b|"
       r"\b(?:she's|he's|they've|she has|he has|they have) (?:decided|clocked) (?:that )?i\b|\bknows something's wrong\b|\b(?:i can tell|you can tell|i can see it|you can see it|i could tell|i can feel it|se le nota|das sieht man)\b|"
       r"\bthey're all\b|\bshe's sick of\b|\bhe's sick of\b|\bis bored of\b",
       doubt=True, neg=True),
    _r("mind_reading", "piens cree odia enfadad hält denk glaub finden sauer hasst", r"\b(?:piensa|piensan|cree|creen) que (?:soy|no sirvo|estoy|he|no)\b|\bme odia\b|\bestá enfadad[ao] conmigo\b|"
       r"\bhält mich für\b|\b(?:denkt|denken|glaubt|glauben)(?: ,)? dass ich\b|\bfinden mich\b|\bist sauer\b|\bhasst mich\b", doubt=True),
    # -- fortune telling: a bad future stated as settled --
    _r("fortune_telling", r"\b(?:i'll|i will|i'm going to|i am going to|i'm never going to|we'll) (?:never|end up|be (?:single|alone|stuck) |fail|quit|mess|lose)\b|\bi'll never\b|"
       r"\bi'm never going to\b|\bnobody\b[^|_]{0,30}?\bgoing to\b|\bis going to find out\b|\b(?:he|she|they)(?:'ll| will) die\b|"
       r"\b(?:it's|its|it is|this is|things are|nothing is|that's|he's|she's|they're|it|this|that|things|nothing|nobody's|nobody is)(?:'s| is| are|'re)? (?:never|not|ever|n't)? ?(?:going to|gonna|ever going to) (?:change|work|get better|improve|happen|hire|call|come|last|accept)\b|"
       r"\b(?:it|this|that|he|she|they|things|therapy|it all)(?:'ll| will)? (?:won't|will never|'ll never|isn't going to|aren't going to) (?:work|change|get better|last|fix|help|call|accept|trust|forgive|pick)\b|"
       r"\b(?:won't|will not) (?:last|work|fix anything|help|change)\b|\b(?:is|are|it's) (?:going to|bound to|sure to) (?:fail|go wrong|go badly|be a disaster|end badly|hate|pick|let me go|show)\b|"
       r"\bgoing to (?:go|turn out) (?:wrong|badly|awful)\b|\bwill be (?:awful|terrible|horrible|a nightmare|a disaster)\b|"
       r"\b(?:they|he|she)(?:'ll| will) (?:say no|pick|choose|leave|resent|hate|grow up and|be polite and|never)\b|\bi'll be (?:single|alone|dead) forever\b|"
       r"\bno point (?:in )?(?:trying|even)\b|\bi (?:just |already )?know (?:how it ends|it will|it'll|they'll|he'll|she'll)\b|\bi can already see how\b|\bit won't\b|\bnot going to work out\b",
       doubt=True, soft=True, cond=True, no_question=True),
    _r("fortune_telling", "nunca va_a werde wird", r"\bnunca (?:voy|vamos) a\b|\bva a salir (?:fatal|mal)\b|\bno va a (?:funcionar|cambiar|mejorar)\b|\bme va a odiar\b|"
       r"\b(?:werde|werden) (?:\w+ ){0,4}(?:nie|niemals)\b|\bwird (?:eine katastrophe|nie|schiefgehen)\b|\bwird (?:\w+ ){0,3}(?:mich )?hassen\b", doubt=True, soft=True, cond=True),
    # -- labeling: a global label for oneself or someone else --
    _r("labeling", "i'm i_am i've i_have i_was", rf"\b(?:i'm|i am|i've always been|i have always been|i was always|i've been) (?:such |so |just |a |an |the |total |complete |utter |absolute |real |terrible |grown |total |proper |completely |totally |utterly |absolutely )*(?:{_LABELS_SELF})\b",
       doubt=True),
    _r("labeling", rf"\bso i (?:probably |must )?(?:am|be) one\b|\bwhat an? (?:{_LABELS_SELF}) i am\b|^(?:{_LABELS_SELF})$|^(?:i'm|i am) (?:\w+ ){{0,3}}(?:{_LABELS_SELF})(?: and (?:a |an )?(?:{_LABELS_SELF}))?$"),
    _r("labeling", "is_ 's_ are_ 're_", rf"\b(?!i\b|it\b|this\b|that\b|life\b)[^\s|_,]+(?: is|'s| are|'re) (?:such |so |just |a |an |total |complete |utter |absolute |real |arrogant |useless |selfish |total )*(?:{_LABELS_OTHER})\b",
       doubt=True),
    _r("labeling", "soy es_un ich_bin ist_ein", r"\bsoy (?:un|una) (?:desastre|idiota|inútil|fracasad[ao]|mala madre|mal padre|cobarde)\b|\bsoy una idiota\b|\bes un (?:mentiroso|cobarde|idiota|inútil)\b|"
       r"\bich bin (?:so |eine |ein |einfach |total |ein totaler )*(?:idiot|versager|versagerin|vollidiot|schlechte mutter|schlechter vater|feigling|nichts wert)\b|\bist ein (?:lügner|feigling|idiot|versager)\b",
       doubt=True),
    # -- personalization: the writer takes the blame --
    _r("personalization", r"\bmy (?:fault|falt)\b|\bbecause of me\b|\bi'm to blame\b|\bi blame myself\b|\b(?:that's|it's|this is|that is|it is) on me\b|\bon me again\b|"
       r"\bi (?:ruined|wrecked|caused|spoiled)\b|\bi'm the reason\b|\bif only i(?:'d| had)\b|\bi made it worse\b|"
       r"\b(?:fell|failed|left|broke up|split up|argued|happened|sad|depressed|struggling|miserable|went under|it's|that's)\b[^_]{0,40}?(?:\| )?\bbecause (?:i|i'm|i was|i went|i didn't|of my)\b|"
       r"\bculpa mía\b|\bpor mi culpa\b|\bes cosa mía\b|\bmeine schuld\b|\bwegen mir\b|\bgeht auf mich\b|"
       r"\bich bin (?:immer |wieder |mal wieder )?(?:an allem |daran )?schuld\b", neg=True, doubt=True),
    # -- emotional reasoning: a feeling taken as proof --
    _r("emotional_reasoning", "feel felt", r"\b(?:i feel|i felt|it feels|feels like|i just feel)\b[^_]{0,120}?\b(?:so|which means|that means|which tells me|therefore|so it must)\b[^_]{0,60}?"
       r"\b(?:i (?:must|probably|am)|i'm|it (?:must|is|probably|will)|it's|they (?:must|probably|do)|something (?:must|is)|that must|that's what|so i (?:must|probably|stay)|i (?:stay|keep away|don't|won't|avoid))\b"),
    _r("emotional_reasoning", r"\b(?:because|since|if) i feel\b[^_]{0,80}?\b(?:i am|i'm|it is|it's|must|then)\b|\b(?:dread|feeling|feel)\b[^_]{0,40}?\bwhich means\b|"
       r"\bso (?:i|it) (?:must be|probably is|probably am)\b|\bso (?:nobody|everyone|they)\b[^_]{0,40}?\b(?:going to|must|probably)\b|"
       r"\bme siento\b[^_]{0,80}?\basí que\b|\bich fühle mich\b[^_]{0,80}?\balso\b"),
    # -- overgeneralization: one moment stands for all --
    _r("overgeneralization", r"\b(?:this|it|that|things like this) (?:always|'s always) (?:happens|happen|fall|falls|goes)\b|\balways (?:happens|fall|falls) (?:to|on) me\b|\bevery (?:single )?time i\b|"
       r"\b(?:nobody|no one|nothing|everyone|everybody) (?:ever|always)\b|\bi (?:always|never) (?:get|mess|fail|ruin|screw|say the wrong|finish|quit|end up|do anything|have any)\b|"
       r"\bhow it always goes\b|\bit always is\b|\bthey always do\b|\bsame (?:story|thing|every)\b|\bevery (?:man|woman|relationship|job|friend) i\b|\bthat's my life\b|\btypical\b|"
       r"\bwhenever i try\b|\bimmer bin ich\b|\bsiempre soy yo\b|\bi'm always the one\b|\bit never does\b|\bpeople like (?:him|her|me|us|them)\b|\bround and round\b|\bin a row\b|\bends the same way\b|\bevery (?:week|month|year|january|september|time)\b[^_]{0,80}?\b(?:same|every|again|drowning)\b|"
       r"\bthat's how it goes\b|\bnever get a break\b|\balways the same\b",
       neg=True),
    _r("overgeneralization", "nothing_i nadie todo siempre niemand immer",
       r"\bnothing i \w+ ever\b|\bnadie me \w+ nunca\b|\bnunca nadie\b|\btodo me sale mal\b|\bsiempre lo \w+ todo\b|"
       r"\bniemand \w+ (?:mir |mich )?(?:jemals|nie)\b|\bimmer alles falsch\b|\balles geht (?:immer )?schief\b"),
    _r("overgeneralization", "siempre cada_vez jedes_mal immer", r"\bsiempre me pasa\b|\bcada vez que\b|\bsiempre igual\b|\besto siempre\b|\bjedes mal\b|\bimmer dasselbe\b|\bpassiert immer\b|\bimmer mir\b"),
]

_ALWAYS = frozenset(i for i, rule in enumerate(_RULES) if not rule.keys)
_KEYS: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (key, tuple(i for i, rule in enumerate(_RULES) if key in rule.keys))
    for key in sorted({k for rule in _RULES for k in rule.keys})
)

_ABSOLUTE_RE = re.compile(
    r"\b(?:always|never|everyone|everybody|nobody|no one|nothing|everything|every time|every single time|all the time|"
    r"forever|impossible|completely|totally|entirely|none of|constantly|ever|complete|"
    r"siempre|nunca|nadie|jamás|todo|todos|nada|todo el rato|completo|imposible|"
    r"immer|nie|niemals|niemand|alles|alle|nichts|ständig|komplett|komplettes|kompletter|komplette|völlig|unmöglich)\b")
# Idioms in which an absolute word is not absolute thinking.
_ABSOLUTE_IDIOMS_RE = re.compile(
    r"\bnever mind\b|\bnever say never\b|\beverything's fine\b|\beverything is fine\b|\bwonders never cease\b|\bsaid nobody ever\b|"
    r"\bas ever\b|\bas always\b|\bnothing , que\b|\bnada , que\b|\bthanks for everything\b|\bever since\b|\bif ever\b|\bever so\b|"
    r"\bhardly ever\b|\balmost never\b|\bnot always\b|\bnot ever\b|\bforever young\b|\bfor ever\b|\bnothing else\b|\bbest \w+ ever\b|\bever been\b|"
    r"\bonly nothing\b|\btalked about nothing\b|\bnothing is the best\b|\balways a pleasure\b|\bimmer wieder\b|\bimpossible not\b|"
    r"\beverything (?:they|he|she|you|we|on|i need)\b|\bnever (?:want|wants|wanted) to\b|\bnever to\b|"
    r"\bnever too (?:late|early|old|young)\b|\bnever again\b|\bnothing like\b|\bnothing to (?:report|add|say|do)\b|\bhappens to (?:everyone|everybody)\b|\b(?:everyone|everybody) at some point\b|\bnunca es tarde\b|\bnie zu spät\b|\ball the time (?:i|we|you|he|she|they|that)\b")
# "I've never been to Rome", "I never learned to swim": a fact about the past, not a sweeping view.
_LITERAL_AFTER = frozenset(
    "been learned learnt finished told met seen tried had went thought expected realised realized got read heard knew "
    "saw came ate left lived flew visited".split())
_LITERAL_BEFORE_ALL = frozenset("came arrived ate went brought sang danced gekommen".split())
_LITERAL_PREV = frozenset("ate eat aufgegessen comimos vinieron fuimos sind".split())
_INTENSIFIED = frozenset(
    "exhausted knackered fine agree forgot new different normal worth honest fair wiped drained shattered free "
    "sure right wrong empty full".split())
_ES_DE_PRONOUN_ONLY = frozenset({"todo", "todos", "alle"})
# A routine tied to a day, an hour or a month ("closed on Mondays", "at seven", "los lunes", "sonntags") is a
# fact about a schedule, not a sweeping view (LABELLING.md: literal counts and facts).
_DAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTHS = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_ROUTINE_RE = re.compile(
    rf"\bon {_DAYS}s?\b|\b{_DAYS} (?:morning|afternoon|evening|night)s\b|\bevery {_DAYS}\b|"
    rf"\bat (?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight)\b|\bin {_MONTHS}\b|"
    r"\blos (?:lunes|martes|miércoles|jueves|viernes|sábados|domingos)\b|\ben (?:enero|febrero|marzo|abril|mayo|junio|"
    r"julio|agosto|septiembre|octubre|noviembre|diciembre)\b|\b(?:montags|dienstags|mittwochs|donnerstags|freitags|"
    r"samstags|sonntags|morgens|abends|nachts)\b|\bim (?:januar|februar|märz|april|mai|juni|juli|august|september|"
    r"oktober|november|dezember)\b")
# What a whole group did once ("everybody in the choir got a solo"): the first verb after the quantifier.
_LITERAL_GROUP_VERBS = _LITERAL_BEFORE_ALL | frozenset(
    "got gave stayed clapped cheered laughed left sang kamen vinieron fueron sangen blieben".split())
_THIRD_PERSON_SUBJECT = frozenset("he she they it sister brother mum mom dad mother father boss bus shop bakery "
                                  "él ella ellos sie er es schwester bruder mutter vater".split())
_WRITER_SUBJECTS = frozenset({"i", "i'm", "we", "ich", "wir", "yo"})
_WHEN = frozenset({"when", "whenever", "cuando", "wenn"})
_FIRST_PERSON_OBJECT = frozenset({"me", "us", "mich", "mir", "uns"})
# "forever grateful": an intensified feeling, like "totally exhausted".
_GRATEFUL = frozenset({"grateful", "thankful", "indebted", "agradecido", "agradecida", "dankbar"})
# One occasion named in the clause ("by ten", "at the party", "after the rain", "tonight"): what happened then, not a
# view of how things always are.
_OCCASION_RE = re.compile(
    r"\b(?:today|tonight|yesterday|this (?:morning|afternoon|evening|week)|last (?:night|week|year)|for once|"
    r"by (?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight)|after the \w+|"
    r"at the (?:party|wedding|funeral|meeting|dinner|concert|match|pub|gig|reunion party)|"
    r"hoy|anoche|ayer|esta noche|esta mañana|heute|gestern|heute abend)\b")
# "I told her everything", "I keep everything in one folder": the things an action was done to.
_SITUATION_SUBJECT = frozenset({"it's", "it", "is", "was", "that's", "this", "everything's", "es", "ist"})
_PAST_VERBS = frozenset("was were knew had came went got did saw left stayed slept sang laughed fue fueron estaba "
                        "estaban war waren kam kamen hatte wusste".split())
_THING_VERBS = frozenset(
    "told tell tells keep keeps kept finished finish packed pack cleaned clean tried sold bought moved wrote checked "
    "signed sorted labelled labeled tidied planned organised organized".split())
_DURATION_VERBS = frozenset("took takes taking take lasted lasts waited wait".split())
_WEATHER = frozenset({"rained", "snowed", "raining", "snowing", "rains", "llovió", "regnete"})


class PatternDetector:
    """Finds pattern names in the writer's voice; hedged, negated, quoted and reported uses do not count."""

    def __init__(self, lexicon: Lexicon | None = None, *, use_model: bool = True) -> None:
        self.lexicon = lexicon or default_lexicon()
        self.use_model = use_model

    def hits(self, text: str, reading: Reading | None = None) -> list[PatternHit]:
        """Every pattern occurrence, in text order (offsets are into ``text``)."""
        reading = reading or read(text)
        found: list[PatternHit] = []
        for sent in reading.sentences:
            if not sent.voiced:
                continue
            sent_hits = list(self._rule_hits(sent))
            found.extend(sent_hits)
            found.extend(self._absolutes(sent, {h.name for h in sent_hits}))
        if self.use_model:
            from mirror_desktop.engine.model import default_model

            ruled = {h.name for h in found}
            model = default_model()
            for name in model.predict(reading, ruled) if model is not None else ():
                if name not in ruled:
                    span = _best_sentence(reading, name)
                    found.append(PatternHit(name, *span))
        found = list(dict.fromkeys(found))   # two rules can find the same words
        found.sort(key=lambda h: (h.start, PATTERN_NAMES.index(h.name)))
        return found

    def detect(self, text: str, reading: Reading | None = None) -> list[str]:
        """The names of patterns present in ``text``, in PATTERN_NAMES order."""
        present = {h.name for h in self.hits(text, reading)}
        return [name for name in PATTERN_NAMES if name in present]

    def rule_patterns(self, reading: Reading) -> set[str]:
        """The patterns the rules alone find (the model's input and the benchmark's baseline)."""
        out: set[str] = set()
        for sent in reading.sentences:
            if sent.voiced:
                names = {h.name for h in self._rule_hits(sent)}
                out.update(names)
                if self._absolutes(sent, names):
                    out.add("absolute_thinking")
        return out

    # ---- rules --------------------------------------------------------------------------
    def _rule_hits(self, sent: Sentence) -> Iterable[PatternHit]:
        canon = sent.canon
        words = canon.split(" ")
        positions = _Words(canon)
        # Substring tests are far cheaper than regular expressions: run only rules whose keys occur.
        eligible = _ALWAYS | {i for key, rules in _KEYS for i in rules if key in canon}
        for i, rule in enumerate(_RULES):
            if i not in eligible or (rule.no_question and sent.question):
                continue
            for m in rule.rx.finditer(canon):
                if "_" in m.group().split(" "):
                    continue
                before = canon[max(0, m.start() - _LOOKBACK) : m.start()]
                clause_before = before.rsplit("|", 1)[-1]
                if rule.doubt and _DOUBT_RE.search(before):
                    continue
                if rule.soft and _SOFT_RE.search(clause_before):
                    continue
                if rule.cond and _IF_RE.search(before):
                    continue
                idx = positions.index(m.start())
                if rule.neg and (_negated(words, idx) or _post_negated(canon, m.end())):
                    continue
                if rule.pattern == "obligation_language" and not _deontic(canon, m, words):
                    continue
                if rule.pattern == "labeling" and (_label_is_someone_elses(before) or _NEG_IN_RE.search(m.group())):
                    continue
                if rule.pattern == "personalization" and re.search(r"\blike (?:\w+ ){0,2}$", clause_before):
                    continue   # "looks at me like I'm the reason": an imagined look, not the writer's blame
                start, end = sent.text_span(*m.span())
                yield PatternHit(rule.pattern, start, end)

    def _absolutes(self, sent: Sentence, ruled: Set[str] = frozenset()) -> list[PatternHit]:
        """Absolute words used sweepingly: the model decides where it is loaded, else the literal-use rules.

        ``ruled`` names the other patterns the rules found in this sentence (one of the model's signals).
        """
        cands = self.absolute_candidates(sent)
        if not cands:
            return []
        model = None
        if self.use_model:
            from mirror_desktop.engine.absolutes import default_absolute_model

            model = default_absolute_model()
        out = []
        for cand in cands:
            if model is not None:
                keep = model.sweeping(sent, cand, ruled)
            else:
                keep = cand.literal is None
            if keep:
                start, end = sent.text_span(cand.start, cand.end)
                out.append(PatternHit("absolute_thinking", start, end))
        return out

    def absolute_candidates(self, sent: Sentence) -> list[AbsoluteCandidate]:
        """Every absolute word in the writer's voice that the guide does not rule out on structure alone.

        Left out here, whatever the model says (LABELLING.md): idioms, negated or doubted uses ("not
        always", "I don't think it will always…"), someone else's words, a bare "ever", a conditional, a
        hedged clause. Kept, with ``literal`` naming the hand rule that reads the use as literal (a
        schedule, a count, one occasion, what an action was done to …) or None: the rules alone drop
        every candidate with a reason; the model (``absolutes.py``) weighs the reason with the context.
        """
        canon = sent.canon
        matches = list(_ABSOLUTE_RE.finditer(canon))
        if not matches:
            return []
        idioms = [m.span() for m in _ABSOLUTE_IDIOMS_RE.finditer(canon)]
        words = canon.split(" ")
        positions = _Words(canon)
        out = []
        for m in matches:
            if any(a <= m.start() < b for a, b in idioms):
                continue
            word = m.group()
            idx = positions.index(m.start())
            nxt = words[idx + len(word.split())] if idx + len(word.split()) < len(words) else ""
            prev = words[idx - 1] if idx else ""
            before = canon[max(0, m.start() - _LOOKBACK) : m.start()]
            if _negated(words, idx, 2) or _DOUBT_RE.search(before):
                continue   # "not always", "I don't think it will always be like this"
            if nxt == "_":
                continue   # "Gran always said …": how someone else spoke
            if word == "ever" and prev not in ("nobody", "no", "nothing", "nadie"):
                continue   # "ever" counts only in "nobody ever", "nothing ever"
            if word == "ever" and _negated(words, idx - 1, 2):
                continue   # "I'm not saying nobody ever helps": the negation reaches "ever" through "nobody"
            if _IF_RE.search(before):
                continue   # inside a conditional: "if I fail … everything is over" is a what-if
            clause_before = before.rsplit("|", 1)[-1]
            if _SOFT_RE.search(clause_before):
                continue   # hedged in its clause: "vielleicht gar nichts", "maybe everyone does"
            literal = self._literal_reason(canon, m, word, idx, words, prev, nxt, clause_before)
            out.append(AbsoluteCandidate(word, idx, m.start(), m.end(), literal))
        return out

    def _literal_reason(self, canon: str, m: re.Match[str], word: str, idx: int, words: list[str],
                        prev: str, nxt: str, clause_before: str) -> str | None:
        """The hand rule that reads this absolute word as literal, or None (the rules count it)."""
        if word in ("never",) and (nxt in _LITERAL_AFTER or (nxt in ("have", "had") and idx + 2 < len(words))):
            return "never_fact"
        if word in ("everyone", "everybody", "everything", "todos", "todo", "alle", "alles") and (
                nxt in _LITERAL_BEFORE_ALL or prev in _LITERAL_PREV):
            return "group_fact"
        if word in ("nada", "nadie", "nunca") and "no" in words[max(0, idx - 4) : idx]:
            return "es_double_negation"   # "no he hecho nada" is a plain fact
        if word in ("completely", "totally", "entirely", "complete") and (
                nxt in _INTENSIFIED or nxt in self.lexicon.feeling_words and prev not in _SITUATION_SUBJECT):
            return "intensifier"   # "totally exhausted" intensifies a feeling; "it's completely hopeless" judges
        if word == "complete" and (nxt not in ("mess", "disaster", "waste", "joke", "nightmare", "chaos")
                                   or prev in ("a", "an") and words[idx - 2: idx - 1] in (["i'm"], ["am"])):
            return "complete_not_judgement"
        if word in ("todo", "todos") and nxt in ("el", "la", "los", "las", "lo") and words[idx + 2: idx + 3] != ["rato"]:
            return "es_counted"   # "todos los correos" counts things; "todo el rato" is "all the time"
        if word == "alle" and nxt not in ("im", "in", "denken", "wären", "hassen", "sind"):
            return "de_counted"
        clause = clause_before + canon[m.start() :].split("|", 1)[0]
        if word not in ("completely", "totally", "entirely", "complete", "impossible", "unmöglich", "imposible",
                        "komplett", "völlig") and _ROUTINE_RE.search(clause):
            return "schedule"   # "the bakery is always closed on Mondays", "nobody was at the pool at seven"
        if word in ("nunca", "nie") and (nxt in ("he", "has", "ha", "hemos", "han", "había", "habías", "habíamos")
                                         or prev == "noch"):
            return "not_yet"   # "nunca he estado", "ich war noch nie": an experience not yet had
        if word not in ("always", "never", "siempre", "nunca", "immer", "nie", "completely", "totally",
                        "impossible", "imposible", "unmöglich") and _OCCASION_RE.search(clause) \
                and any(w in _PAST_VERBS or w.endswith("ed") for w in _clause_words(words, idx + 1, 5)):
            return "occasion"   # "everyone was asleep by ten": one occasion
        if word in ("everything", "alles", "todo") and (prev in _THING_VERBS or words[idx - 2: idx - 1] and
                                                         words[idx - 2] in _THING_VERBS):
            return "object"   # "I told her everything": what was told, not a sweeping view
        if word == "alles" and {"habe", "hat", "haben", "hatte"} & set(words[max(0, idx - 3): idx]):
            return "object"   # "ich habe alles erledigt": a finished list
        if word == "forever" and prev in _DURATION_VERBS:
            return "duration"   # "the download took forever"
        if word in ("all the time",) and prev in _WEATHER:
            return "weather"
        if word == "forever" and nxt in _GRATEFUL:
            return "intensifier"
        if word in ("everyone", "everybody", "todos", "alle", "nobody", "nadie", "niemand") and any(
                w in _LITERAL_GROUP_VERBS for w in _clause_words(words, idx + 1, 5)):
            return "group_once"   # "everybody in the choir got a solo": what a group did, once
        if word in ("nobody", "no one", "nothing", "nadie", "niemand", "nichts") and (
                nxt in ("was", "were", "war", "estaba") and words[idx + 2: idx + 3] and
                words[idx + 2] in ("at", "in", "on", "there", "here", "en", "im", "da")):
            return "who_was_there"
        if word in ("everything", "alles", "todo") and (nxt in _LITERAL_GROUP_VERBS or nxt in _LITERAL_PREV):
            return "object"   # "wir haben alles aufgegessen"
        subject_words = [w for w in clause_before.split(" ")[-3:] if w]
        if word in ("always", "never", "siempre", "nunca", "immer", "nie") \
                and (prev in _THIRD_PERSON_SUBJECT or _THIRD_PERSON_SUBJECT & set(subject_words)) \
                and not _WRITER_SUBJECTS & set(subject_words) \
                and _WHEN & set(_clause_words(words, idx + 1, 12)) \
                and not _FIRST_PERSON_OBJECT & set(_clause_words(words, idx + 1, 12)):
            return "their_habit"   # "my sister always brings flowers when she visits"
        if word == "nothing" and nxt in ("left", "else", "special", "much", "new", "at", "to", "in"):
            return "nothing_fact"
        if word in ("nobody", "no one", "nothing") and nxt in ("seemed", "has", "minded", "said") and prev != "and":
            return "nobody_fact"
        return None


@dataclass(frozen=True)
class AbsoluteCandidate:
    """One absolute word the structure leaves open: where it is and which literal-use rule, if any, fits it."""

    word: str
    index: int          # word index in the sentence's canonical string split on spaces
    start: int          # canonical character span
    end: int
    literal: str | None


def _clause_words(words: list[str], start: int, n: int) -> list[str]:
    """Up to ``n`` words from ``start``, stopping at the clause boundary ("|")."""
    out = []
    for w in words[start : start + n]:
        if w == "|":
            break
        out.append(w)
    return out


def _post_negated(canon: str, end: int) -> bool:
    """NegEx's post-triggers: "…my fault and it isn't", "…my fault, not really"."""
    after = canon[end : end + 40]
    return re.match(r"^[^|_]{0,12}?\b(?:and it isn't|and it's not|it isn't|it wasn't|not really|isn't it)\b", after) is not None


def _deontic(canon: str, m: re.Match[str], words: list[str]) -> bool:
    """False for the epistemic "must": "I must have left", "I must be tired", German "muss … vergessen haben"."""
    g = m.group()
    after = canon[m.end() : m.end() + 200].split(" ")[1:4]
    if g.endswith("must") or g.endswith("muss") or g.endswith("müssen"):
        if re.search(r"\bso (?:i|we) must$", g) or canon[max(0, m.start() - 8) : m.start()].endswith(("so ", "so i ")):
            return False   # "…, so I must be one": a conclusion, not a duty
        if after[:1] == ["be"] and (len(after) == 1 or after[1] in _EPISTEMIC_BE or after[1].endswith("ing")):
            return False
        if after and after[0] == "have" and len(after) > 1 and after[1] not in ("to",):
            return False
        if "muss" in g or "müssen" in g:
            clause = canon[m.end() : m.end() + 200].split("|", 1)[0].split(",", 1)[0].split()
            if clause and clause[-1] in ("haben", "sein", "gewesen") and len(clause) >= 2 and (
                    clause[-2].endswith(("t", "en")) and clause[-2] not in ("nicht",)):
                return False
    if "müsse" in g:
        return False
    if re.search(r"\bmusste(?: ich)?$", g) and canon[m.end() : m.end() + 200].split("|")[0].split()[-1:] in (["lachen"], ["denken"], ["weinen"], ["grinsen"]):
        return False   # "Ich musste lachen": could not help it, not a duty
    if re.search(r"\b(?:need to|have to|had to)$", g) and after[:1] == ["say"]:
        return True
    # German: "Ich muss heute Abend nicht alle Mails beantworten" — the negation comes later.
    if any(k in g for k in ("muss", "sollte", "soll", "müssen")):
        clause = canon[m.end() : m.end() + 200].split("|", 1)[0].split()
        if "nicht" in clause[:6] and "nur" not in clause[:7]:
            return False
    return True


def _label_is_someone_elses(before: str) -> bool:
    """"They think I'm lazy": the label is another's (imagined) word: mind reading, not labeling."""
    clause = before.rsplit("|", 1)[-1].split()[-6:]
    return any(w in ("thinks", "think", "thought", "believes", "says", "said", "calls", "called", "decided", "clocked", "that")
               for w in clause) and not (clause[:1] == ["i"] and clause[1:2] in (["think"], ["thought"]))


def _best_sentence(reading: Reading, name: str) -> tuple[int, int]:
    """Where a model-only pattern is quoted from: the longest sentence in the writer's voice."""
    voiced = [s for s in reading.sentences if s.voiced] or reading.sentences
    if not voiced:
        return 0, 0
    s = max(voiced, key=lambda s: (len(s.spans), -s.start))
    return s.start, s.end
