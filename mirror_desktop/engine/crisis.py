"""The safety detector: warning signs of suicide or self-harm, direct and indirect, and the calm reply.

Separate from pattern detection and tuned for recall (03_safety.md: better to show help to someone
who did not need it than to miss someone who did). It reads English, Spanish and German and looks
for the warning signs the suicide-prevention literature lists: talk of dying, killing oneself or
self-harm; wanting everything to stop or never to wake up; a plan, a date, a method or means saved;
a place looked at (a bridge, a cliff edge, the tracks); farewells; putting affairs in order with no
ordinary reason; feeling a burden ("they'd be better off without me"). Negation does not cancel a
sign ("I'm not going to kill myself, but…" still gets help). A few narrow guards keep hard
negatives quiet: idioms ("this deadline is killing me", "I wanted to die of shame"), what happens
in a film or book, the topic at work ("three calls about suicide"), and a distant past told as
past with today's relief beside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from mirror_desktop.engine._data import RuleSet, default_rules, read_resource
from mirror_desktop.engine.structure import WORD_RE, Reading, _mark_fiction, _sentence_bounds, canonical, detect_language
from mirror_desktop.engine.text import choose

_OPENINGS = {
    "en": ("What you wrote sounds very heavy, and you do not have to carry it alone.",
           "It sounds like you are carrying something very painful right now, and you do not have to carry it alone."),
    "es": ("Lo que escribes suena muy pesado, y no tienes que cargarlo a solas.",
           "Parece que llevas algo muy doloroso ahora mismo, y no tienes que cargarlo a solas."),
    "de": ("Was du schreibst, klingt sehr schwer, und du musst das nicht allein tragen.",
           "Es klingt, als trügest du gerade etwas sehr Schmerzhaftes, und du musst das nicht allein tragen."),
}
_MIDDLE = {
    "en": ("Help exists, and there are people who want to hear from you, at any hour:",
           "Help exists, and people are there to listen, right now, at any hour:"),
    "es": ("Hay ayuda, y hay personas que quieren escucharte, a cualquier hora:",),
    "de": ("Es gibt Hilfe, und es gibt Menschen, die dir zuhören wollen, zu jeder Stunde:",),
}

_S = r"[^.]{0,160}?"   # within the sentence (the detector works sentence by sentence)

# (sign, regex over one canonical sentence). Signs are names only: telemetry may record them.
_SIGNS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(rx)) for name, rx in [
    ("direct", r"\b(?:kill|killing|killed) myself\b|\b(?:end|ending|take|taking|took) my (?:own )?life\b|\bend(?:ing)? it all\b|"
               r"\bsuicid(?:e|al)\b|\bself ?harm(?:ing)?\b|\b(?:hurt|hurting|harm|harming|"
                   r"cut|cutting) myself\b|\b(?:started|start|been) cutting\b|\bcutting again\b|"
               r"\boverdos(?:e|ed|ing)\b|\b(?:want|wanna|wanted|going) to die\b|\bwish i (?:was|were) dead\b|\bbetter off dead\b|"
               r"\bdon't want to (?:be alive|live|be here|exist|wake up)\b|\bdo not want to (?:live|"
                   r"be alive|be here)\b|\bno reason to live\b|\bnothing to live for\b|"
               r"\b(?:not|never) (?:to )?wake up\b|\bcan't go on\b|\bcannot go on\b|\btook too many (?:pills|"
                   r"tablets)\b|\bhow many (?:of my )?(?:pills|tablets)\b|"
               r"\bsorry i woke up\b|\btired of being alive\b|\bnot exist\b|\burge to (?:harm|hurt|cut)\b|\bdon't want to be alive\b"),
    ("direct", r"\b(?:quiero|quisiera|quería) morir(?:me)?\b|\bme quiero morir\b|\bsuicid\w*\b|"
        r"\bquitarme la vida\b|\bmatarme\b|\bhacerme daño\b|\bme hago daño\b|"
               r"\bcortarme\b|\bcortes en el brazo\b|\bno quiero (?:seguir )?vivi(?:r|endo)\b|\bno despertar\b|"
               r"\bumzubringen\b|\bumbringen\b|\bselbstmord\b|\bsuizid\w*\b|\bdas leben (?:zu )?nehmen\b|"
                   r"\bnicht mehr leben\b|\b(?:möchte|will) sterben\b|"
               r"\bgeritzt\b|\britzen\b|\bmir weh(?: zu)? tun\b|\bnie wieder aufwachen\b|\bnicht mehr aufwachen\b|\bwill nicht mehr\b"),
    ("direct", r"\bwish i(?:'d| had) never been born\b|\brather be dead\b|\b(?:life|it) (?:isn't|"
        r"is not|is no longer) worth living\b|\bnot worth living\b|"
               r"\bno point (?:in )?(?:living|going on|being alive)\b|\b(?:going|want|planning|"
                   r"plan) to end things\b|\bcan't take the pain anymore\b|"
               r"\b(?:hang|hanging|shoot|drown|gas) myself\b|\bslit my wrists\b|\bstep in front of (?:a|the) (?:train|bus|lorry|truck)\b|"
               r"\bdrive (?:my car )?into (?:a wall|a tree|oncoming)\b|\b(?:written|wrote|"
                   r"writing) (?:my|a) (?:suicide |goodbye |farewell )?note\b(?! to (?:the|my) (?:teacher|"
                   r"school|landlord))|"
               r"\bwon't be a (?:problem|burden) (?:for (?:anyone|you|them) )?(?:much )?(?:longer|"
                   r"anymore)\b|\bwon't be here (?:tomorrow|next week|much longer|for long)\b|"
                   r"\bmade my peace\b"),
    ("direct", r"\bojalá no hubiera nacido\b|\bno vale la pena (?:vivir|seguir)\b|\bla vida no vale la pena\b|"
        r"\bacabar con (?:todo|mi vida)\b|\bahorcarme\b|\bme voy a matar\b|"
               r"\btirarme (?:del|por el|por la|desde el|desde la) (?:puente|ventana|balcón|"
                   r"edificio|azotea)\b|\bquitarme de en medio\b|\bdesaparecer para siempre\b|"
               r"\bnie geboren\b|\bnicht (?:mehr )?lebenswert\b|\b(?:allem|meinem leben) ein ende\b|"
                   r"\bmich (?:erhängen|aufhängen)\b|\bvor (?:den|einen) zug\b|"
               r"\b(?:springe|springen) (?:von der|vom) (?:brücke|dach|balkon|hochhaus)\b|\bbald nicht mehr da\b"),
    # A few unmistakable phrases in languages the engine does not otherwise read: safety first.
    ("direct", r"\bme suicider\b|\bje veux mourir\b|\ben finir avec la vie\b|\bme tuer\b|"
        r"\bvoglio morire\b|\bsuicidarmi\b|\buccidermi\b|\bfarla finita\b|"
               r"\bquero morrer\b|\bme matar\b|\bsuicid\w*\b|\bwil dood\b|\bzelfmoord\b"),
    ("stop", r"\bwant (?:everything|it all|all of it|all this|it) to (?:stop|end|be over)\b|"
        r"\b(?:like|want) it all to (?:just )?end\b|\bi want it to be over\b|"
             r"\bsleep and (?:never|not) (?:have to )?wake up\b|\bcan't see any future\b|"
                 r"\bwhat the point of staying is\b|\bpoint (?:of|in) staying\b|"
             r"\bwant to disappear\b(?! to\b| for a\b)|\bwanna disappear\b(?! to\b)|\bdon't want to do this anymore\b|"
             r"\bque todo se acabe\b|\bdormirme y no despertar\b|\bdass alles aufhört\b|"
                 r"\beinschlafen und nie wieder\b|\bkiero desaparecer\b|\bquiero desaparecer\b|"
                 r"\bno aguanto m[aá]s\b"),
    ("burden", r"\bbetter off without me\b|\bbetter off if i\b|\b(?:relieved|happier|easier) (?:\w+ ){0,2}if i (?:wasn't|"
        r"weren't|was gone|were gone|disappeared|wasn't around|died)\b|"
               r"\bhappier without me\b|\bcope without me\b|\bremoving myself\b|\bi'm (?:just )?a (?:burden|"
                   r"weight)\b|\ba burden (?:on|to) (?:everyone|my family|them|all)\b|"
               r"\bnobody needs me\b|\bno one needs me\b|\bweight they carry\b|"
               r"\bmejor sin mí\b|\b(?:estaría|estarían) (?:\w+ )?(?:mejor|más tranquil[ao]s?) si (?:yo )?no\b|\bsoy una carga\b|"
               r"\bohne mich besser\b|\bbesser,? wenn es mich nicht\b|\bwenn es mich nicht mehr gäbe\b|\beine last\b"),
    ("place", r"\b(?:bridge|cliff|edge|tracks|railway|platform|roof|rooftop|top floor|car park|"
        r"river|ledge|puente|acantilado|vías|azotea|río|brücke|klippe|gleise|dach|"
        r"fluss)\b"
              rf"{_S}\b(?:looking at the drop|looked at the drop|stared at the drop|looked down for|"
                  rf"looking down for|step forward|step off|jump|walk in|walk into|how easy it would be|"
              r"how quick it would be|when i'm ready|no fence|to be sure|next time i might|"
                  r"mirando el agua|volveré|ins wasser geschaut|wenn ich bereit bin|komme wieder)\b|"
              r"\b(?:how easy|how quick) it would be\b|\bwhen i'm ready\b|\bnext time i might\b|\bno fence\b|\bwanted to step forward\b"),
    ("means", r"\b(?:saving|saved|keeping|kept|stockpiling|hoarding|collecting|guardando|"
        r"sammle|gesammelt)\b[^.]{0,60}?\b(?:pills|tablets|meds|medication|pastillas|"
        r"tabletten)\b|"
              r"\b(?:pills|tablets|meds|pastillas|tabletten)\b[^.]{0,80}?\b(?:enough now|"
                  r"there are enough|ya hay suficientes|jetzt sind es genug|weeks' worth|keeping them)\b|"
              r"\b(?:rope|gun|shotgun|rifle|pistol|razor|blades)\b[^.]{0,80}?\b(?:didn't tell anyone|what for|keep thinking about it)\b|"
              r"\b(?:worked out|planned|know) how i(?:'d| would) do it\b|\blook like an accident\b"),
    ("plan", r"\b(?:picked|chosen|chose|set) a date\b(?! for)|\bya he elegido el día\b|\beinen tag ausgesucht\b|\bit's all planned\b"),
    ("farewell", r"\b(?:this is|esta es|das ist) (?:my|mi|mein) (?:last|última|letzter) (?:entry|"
        r"entrada|eintrag)\b|\bwhere they'll be found\b|\bgoodbye letters\b|"
                 r"\bif anyone reads this\b|\bsi alguien lee esto\b|\bfalls das jemand liest\b|"
                     r"\breal goodbye\b|\bwon't be around (?:much )?(?:longer|anymore|for long)\b|"
                 r"\bletters to\b[^.]{0,60}?\bfound\b|\bthanking (?:her|him|them) for everything\b|"
                     r"\btold (?:her|him|them) to look after\b"),
    ("affairs", r"\b(?:everything's|everything is|ya está todo|alles ist) (?:in order|en orden|"
        r"geregelt)\b|\bloose ends\b|\bwon't need them\b|\bwhere i'm going\b|"
                r"\b(?:sorted|wrote down|left|written|aufgeschrieben|ordenadas|dejado)\b[^.]{0,40}?\b(?:passwords|"
                    r"contraseñas|passwörter)\b|"
                r"\b(?:passwords|contraseñas|passwörter)\b[^.]{0,40}?\b(?:for my|para mi|"
                    r"für meine|ordenadas|aufgeschrieben|sorted)\b|\b(?:gave|giving|given) (?:away )?my (?:things|"
                    r"stuff|possessions)\b|\bbeen giving my things away\b"),
]]
# Narrow guards: the sign is a figure of speech or someone else's story, in this one sentence.
_GUARDS = re.compile(
    r"\b(?:die|died|dying|morir|muero|sterbe|gestorben) (?:of|de|vor) (?:shame|"
        r"embarrassment|laughter|laughing|vergüenza|risa|ganas|scham|neugier)\b|"
    r"\bdied laughing\b|\bdying to\b|\bcut myself (?:chopping|shaving|cooking|"
        r"slicing|opening|on)\b|\bhurt myself (?:at|playing|lifting|running|skiing|"
        r"in the gym)\b|"
    r"\boverdos\w* on (?:christmas|chocolate|sugar|coffee|caffeine|netflix|tv|"
        r"cake)\b|\bnever want to wake up before\b|\brisk of not waking up\b|"
    r"\b(?:his|her|their|brother's|sister's|friend's|son's|daughter's|mum's|dad's|"
        r"own) suicide\b|\bsuicide (?:prevention|line|hotline|rates?|awareness|squad|"
        r"bomber|bombing)\b|"
    r"\b(?:calls|call|paper|papers|research|review) (?:about|on) suicide\b|\b(?:llamadas|anrufe) (?:sobre|wegen) (?:suicidio|suizid)\b|"
    r"\b(?:took|takes|take) (?:his|her|their) own life\b|\bplans his own\b|\b(?:seinen|ihren|su) (?:selbstmord|suizid|suicidio)\b")
# Only a sentence naming a means or a place can start a two-sentence sign.
_PAIR_KEYS = re.compile(
    r"\b(?:pills|tablets|meds|medication|pastillas|tabletten|rope|gun|shotgun|rifle|pistol|razor|blades|bridge|cliff|edge|"
    r"tracks|railway|platform|roof|rooftop|floor|car park|river|ledge|puente|acantilado|vías|azotea|río|brücke|klippe|"
    r"gleise|dach|fluss|saving|saved|keeping|stockpiling|hoarding|guardando|sammle)\b")
_PAST = re.compile(r"\b(?:\w+ years ago|as a teenager|as a teen|when i was younger|used to|back then|"
    r"hace \w+ años|vor \w+ jahren|als jugendliche[rn]?)\b")
_RECOVERED = re.compile(r"\b(?:glad i'm here|i'm glad|felt fine|tender|not ashamed|recovered|me alegro|froh,? dass|today i|hoy )\b")
_JOKING = re.compile(r"\b(?:kidding|joking|jk|lol|haha|bromeando|scherz)\b")
_ORDINARY = re.compile(r"\b(?:move|moving|movers|new flat|new baby|the baby|because of the|charity shop|"
    r"mudanza|umzug|wedding|boda|hochzeit|retire|retiring)\b")


@dataclass(frozen=True)
class CrisisFinding:
    """Whether a text shows warning signs, and which kinds (names only, never text)."""

    crisis: bool
    signs: tuple[str, ...]
    language: str


class CrisisDetector:
    """Finds warning signs of suicide or self-harm in English, Spanish and German; errs towards care."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules or default_rules()

    def detect(self, text: str) -> bool:
        """Whether ``text`` shows crisis warning signs."""
        return self.find(text).crisis

    def find(self, text: str, language: str | None = None, reading: Reading | None = None) -> CrisisFinding:
        """The warning signs in ``text`` and its language; ``reading`` (of the same text) saves re-reading it."""
        lang = reading.language if reading is not None else (language or detect_language(text))
        signs: list[str] = []
        past_only = True
        joking = _JOKING.search(text.lower()) is not None
        ordinary = _ORDINARY.search(text.lower()) is not None
        if reading is not None:
            canons = [s.plain for s in reading.sentences]
        else:
            canons = [_canonical_sentence(text[s:e], lang) for s, e in _sentence_bounds(text)]
        # Means and places are often told over two sentences ("Bought rope today. Didn't tell anyone.").
        pairs = [f"{a} {b}" for a, b in zip(canons, canons[1:], strict=False) if _PAIR_KEYS.search(a)]
        for canon, only in [(c, None) for c in canons] + [(p, ("means", "place")) for p in pairs]:
            if not canon:
                continue
            guarded = _GUARDS.search(canon) is not None
            for name, rx in _SIGNS:
                if only is not None and name not in only:
                    continue
                m = rx.search(canon)
                if m is None:
                    continue
                if guarded and not _another_sign_outside(canon, rx, _GUARDS):
                    continue
                if name == "affairs" and ordinary:
                    continue
                if name in ("place", "direct") and joking and re.search(r"\b(?:jump|throw myself|kill me)\b", canon):
                    continue
                signs.append(name)
                if not _PAST.search(canon):
                    past_only = False
        # Also the built-in phrase list of rules.json (kept so custom rule sets still count).
        low = " ".join(canons)
        # A custom rule set's own phrase list still counts (the default list is covered above).
        extra = () if self.rules is default_rules() else self.rules.crisis_phrases
        for phrase in extra:
            if f" {phrase} " in f" {low} " and not _GUARDS.search(low) and "direct" not in signs:
                signs.append("direct")
                past_only = past_only and _PAST.search(low) is not None
        if signs and past_only and _RECOVERED.search(text.lower()):
            return CrisisFinding(False, (), lang)   # told as a distant past, with today's relief beside it
        return CrisisFinding(bool(signs), tuple(dict.fromkeys(signs)), lang)


def _another_sign_outside(canon: str, rx: re.Pattern[str], guard: re.Pattern[str]) -> bool:
    """Whether ``rx`` still matches once the guarded figure of speech is taken out."""
    return rx.search(guard.sub(" ", canon)) is not None


@lru_cache(maxsize=4096)
def _canonical_sentence(sentence: str, lang: str) -> str:
    words = [canonical(m.group(), lang) for m in WORD_RE.finditer(sentence)]
    # "a film where a man plans his own suicide": what happens in the story is not the writer's.
    voiced = [True] * len(words)
    _mark_fiction(words, [""] * len(words), voiced)
    return " ".join(w for w, v in zip(words, voiced, strict=True) if v)


@lru_cache(maxsize=1)
def _country_resources() -> dict[str, tuple[str, ...]]:
    raw = json.loads(read_resource("engine", "crisis_resources.json"))
    return {k.upper(): tuple(v) for k, v in raw["countries"].items()}


def resources_for(country: str | None, default: Sequence[str]) -> tuple[str, ...]:
    """The help lines for ``country`` (ISO 3166 code, e.g. "GB"), or ``default`` when unknown."""
    if country:
        found = _country_resources().get(country.strip().upper())
        if found:
            return found
    return tuple(default)


def crisis_reply(resources: Sequence[str], *seed: object, language: str = "en") -> str:
    """A calm reply that says help exists and lists ``resources``, one per line; no question, no advice."""
    lang = language if language in _OPENINGS else "en"
    lines = [choose(_OPENINGS[lang], "crisis-open", *seed), choose(_MIDDLE[lang], "crisis-mid", *seed), ""]
    lines.extend(f"- {r}" for r in resources)
    return "\n".join(lines)
