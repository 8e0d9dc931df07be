"""The offline rules engine: deterministic mirrorbacks with no downloads and no network."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from mirror_desktop.engine._data import Lexicon, RuleSet, default_lexicon, default_rules
from mirror_desktop.engine.checker import CheckResult, ConstitutionChecker
from mirror_desktop.engine.compose import Composer
from mirror_desktop.engine.config import EngineConfig
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
        self.rules = rules or default_rules()
        self.lexicon = lexicon or default_lexicon()
        self.checker = ConstitutionChecker(self.rules, self.config.directive_threshold)
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
        reading = read(text)
        finding = self.crisis.find(text, reading=reading)   # safety reads the whole text, whatever the language
        if reading.reads:
            hits = self.detector.hits(text, reading)
            surfaced, suggested = self.tensions.find(text, tensions)
        else:
            # A language the engine does not read: notice nothing rather than guess from stray words.
            hits, surfaced, suggested = [], [], []
        present = {h.name for h in hits}
        patterns = [n for n in PATTERN_NAMES if n in present]
        return Analysis(patterns, hits, surfaced, suggested, finding.crisis, reading.language, finding.signs)

    def compose(self, text: str, analysis: Analysis, variant: int = 0) -> tuple[str, CheckResult, dict]:
        """The reply, its check, and the flags; advice sentences are dropped before anyone sees them."""
        seed = (stable_int(text), variant, self.config.version)
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
