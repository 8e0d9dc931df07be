"""The offline rules engine: deterministic mirrorbacks with no downloads and no network."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from mirror_desktop.engine._data import Lexicon, Opposition, RuleSet, default_lexicon, default_rules, rules_from_text
from mirror_desktop.engine.checker import CheckResult, ConstitutionChecker
from mirror_desktop.engine.compose import Composer
from mirror_desktop.engine.config import ENGINE_VERSION, EngineConfig, EngineTuning
from mirror_desktop.engine.crisis import CrisisDetector, crisis_reply, resources_for
from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternDetector, PatternHit
from mirror_desktop.engine.structure import LANGUAGE_NAMES, READ_LANGUAGES, read
from mirror_desktop.engine.tensions import SurfacedTension, TensionFinder
from mirror_desktop.engine.text import stable_int
from mirror_desktop.engine.types import Generation, SuggestedTension, TensionRef


@dataclass(frozen=True)
class Analysis:
    """What the rules found in a reflection; every engine reports these as its telemetry."""

    patterns: list[str]
    hits: list[PatternHit]
    surfaced: list[SurfacedTension]
    suggested: list[SuggestedTension]
    crisis: bool
    language: str = "en"            # what the text is written in (structure.detect_language)
    crisis_signs: tuple[str, ...] = ()   # kinds of warning sign, names only

    @property
    def reads_language(self) -> bool:
        """Whether the engine reads the text's language (English, Spanish, German)."""
        return self.language in READ_LANGUAGES


class RulesEngine:
    """Pattern detection, tension matching and composition; the same input always gives the same reply."""

    def __init__(self, config: EngineConfig | None = None, rules: RuleSet | None = None, lexicon: Lexicon | None = None) -> None:
        self.config = config or EngineConfig()
        # The journal's versioned configuration (issue 17) sits on top of the built-in rules: its
        # constitution's rules.json, threshold, extra phrases and cues, reply length and templates.
        tuning = self.tuning = self.config.tuning or EngineTuning(version=self.config.version)
        self.rules = rules or (rules_from_text(tuning.rules_json) if tuning.rules_json else default_rules())
        self.lexicon = lexicon or default_lexicon()
        if tuning.extra_oppositions:
            extra = tuple(Opposition(a, b, wa, wb) for a, b, wa, wb in tuning.extra_oppositions)
            self.lexicon = replace(self.lexicon, oppositions=self.lexicon.oppositions + extra)
        threshold = tuning.directive_threshold if tuning.directive_threshold is not None else self.config.directive_threshold
        self.checker = ConstitutionChecker(self.rules, threshold)
        self.extra_phrases = tuple((name, _phrase_re(phrases)) for name, phrases in tuning.extra_phrases if phrases)
        self.templates = dict(tuning.templates)
        # The evolution sandbox runs two configurations on the same texts: when they read alike (same
        # cues and rules), the reading and the built-in detection are shared between them (issue 17).
        self.shared_analysis: dict | None = None
        self.detector = PatternDetector(self.lexicon)
        self.tensions = TensionFinder(self.lexicon)
        self.crisis = CrisisDetector(self.rules)
        self.composer = Composer(self.lexicon)

    @property
    def crisis_resources(self) -> tuple[str, ...]:
        """The help lines: configured ones, else the configured country's, else rules.json's."""
        if self.config.crisis_resources is not None:
            return self.config.crisis_resources
        return resources_for(self.config.crisis_country, self.rules.crisis_resources)

    def analyze(self, text: str, tensions: Sequence[TensionRef] = ()) -> Analysis:
        """Patterns, surfaced and suggested tensions, and whether crisis warning signs are present."""
        key = (text, tuple(tensions))
        base = self.shared_analysis.get(key) if self.shared_analysis is not None else None
        if base is None:
            reading = read(text)
            finding = self.crisis.find(text, reading=reading)   # safety reads the whole text, whatever the language
            if reading.reads:
                base = (reading, finding, self.detector.hits(text, reading), *self.tensions.find(text, tensions))
            else:
                # A language the engine does not read: notice nothing rather than guess from stray words.
                base = (reading, finding, [], [], [])
            if self.shared_analysis is not None:
                self.shared_analysis[key] = base
        reading, finding, hits, surfaced, suggested = base
        if reading.reads and self.extra_phrases:
            hits = self._with_extra_phrases(text, reading, hits)
        present = {h.name for h in hits}
        patterns = [n for n in PATTERN_NAMES if n in present]
        return Analysis(patterns, hits, surfaced, suggested, finding.crisis, reading.language, finding.signs)

    def compose(self, text: str, analysis: Analysis, variant: int = 0) -> tuple[str, CheckResult, dict]:
        """The reply, its check, and the flags; advice sentences are dropped before anyone sees them."""
        # A journal's config version is not part of the seed: an apply must change only what it changes.
        seed = (stable_int(text), variant, self.config.version if self.config.tuning is None else ENGINE_VERSION)
        flags: dict = {}
        if analysis.crisis:
            reply = crisis_reply(self.crisis_resources, *seed, language=analysis.language)
            flags["crisis_language"] = True
        else:
            sentences = self.composer.compose(
                text, analysis.hits, analysis.patterns, analysis.surfaced, analysis.suggested, seed,
                language=None if analysis.reads_language else LANGUAGE_NAMES.get(analysis.language, "this language"),
                reply_language=analysis.language if analysis.language in ("es", "de") else "en",
            )
            if not analysis.reads_language:
                flags["language_not_read"] = analysis.language
            sentences = self._tuned_sentences(sentences, analysis)
            kept = [s for s in sentences if not self.checker.check(s, source=text).explicit_advice]
            if len(kept) < len(sentences):
                flags["advice_removed"] = len(sentences) - len(kept)
            reply = " ".join(kept) or "It sounds like there is a lot here."
        result = self.checker.check(reply, source=text)
        if analysis.crisis:
            # The help list is guidance on purpose (03_safety.md); its wording is not counted as advice.
            body = reply.split("\n- ", 1)[0]
            result = self.checker.check(body, source=text)
        flags.update(result.flags())
        return reply, result, flags

    def _with_extra_phrases(self, text: str, reading: object, hits: list[PatternHit]) -> list[PatternHit]:
        """Hits for the configuration's extra phrases, in the writer's own voice only."""
        lowered = text.lower()
        found = list(hits)
        for sent in getattr(reading, "sentences", ()):
            if not sent.voiced:
                continue
            part = lowered[sent.start : sent.end]
            for name, rx in self.extra_phrases:
                for m in rx.finditer(part):
                    found.append(PatternHit(name, sent.start + m.start(), sent.start + m.end()))
        found = list(dict.fromkeys(found))
        found.sort(key=lambda h: (h.start, PATTERN_NAMES.index(h.name) if h.name in PATTERN_NAMES else 99))
        return found

    def _tuned_sentences(self, sentences: list[str], analysis: Analysis) -> list[str]:
        """A configured template for the first pattern noticed, then the configured reply length."""
        if self.templates and analysis.patterns and analysis.reads_language:
            template = self.templates.get(analysis.patterns[0])
            if template:
                question = sentences[-1] if sentences and sentences[-1].rstrip().endswith("?") else None
                body = sentences[:-1] if question else list(sentences)
                sentences = body + [template.strip()] + ([question] if question else [])
        limit = self.tuning.max_sentences
        if limit and len(sentences) > limit:
            question = sentences[-1] if sentences[-1].rstrip().endswith("?") else None
            sentences = sentences[: limit - 1] + [question] if question and limit > 1 else sentences[:limit]
        return sentences

    def generate(self, text: str, tensions: Sequence[TensionRef] = (), *, variant: int = 0) -> Generation:
        """A mirrorback for ``text`` written by the rules alone."""
        started = time.perf_counter()
        analysis = self.analyze(text, tensions)
        reply, result, flags = self.compose(text, analysis, variant)
        return Generation(
            text=reply,
            engine_mode="manual",
            engine_version=self.config.version,
            model_name=None,
            patterns=list(analysis.patterns),
            tensions_surfaced=[s.ref.id for s in analysis.surfaced],
            suggested_tensions=list(analysis.suggested),
            flags=flags,
            duration_ms=max(1, round((time.perf_counter() - started) * 1000)),
            directive_score=round(result.ratio, 4),
            engine_kind="rules",
            attempts=0,
        )


@lru_cache(maxsize=64)
def _phrase_re(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, whole words only: "always" must not fire inside "hallways".
    ordered = sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ordered) + r")(?![\w'])")
