"""MirrorCore: the one entry point the app calls to turn a reflection into a mirrorback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from mirror_desktop.engine._data import Lexicon, RuleSet
from mirror_desktop.engine.checker import CheckResult
from mirror_desktop.engine.config import EngineConfig, EngineTuning
from mirror_desktop.engine.rules import RulesEngine
from mirror_desktop.engine.types import Generation, Health, TensionRef


class MirrorCore:
    """Chooses the engine from the config; LLM engines fall back to the rules engine when they fail."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        api_key: str | None = None,
        rules: RuleSet | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self._api_key = api_key
        # Refuses a remote engine without opt-in before any text could be sent (RemoteEngineRefused).
        self.config.validate()
        rules_config = replace(self.config, mode="manual", kind="rules", base_url=None, model=None)
        self.rules = RulesEngine(rules_config, rules, lexicon)
        self._llm = None
        if self.config.kind in ("ollama", "openai"):
            from mirror_desktop.engine.llm import make_llm_engine

            self._llm = make_llm_engine(self.config, self.rules, api_key=api_key)

    def tuned(self, tuning: EngineTuning) -> MirrorCore:
        """This engine with a journal's versioned configuration: its version stamps every generation."""
        config = replace(self.config, version=tuning.version, tuning=tuning)
        return type(self)(config, api_key=self._api_key)   # a subclass (a test double) stays itself

    def generate(self, text: str, tensions: Sequence[TensionRef] = (), *, variant: int = 0) -> Generation:
        """A mirrorback for ``text``; ``variant`` gives a different, still deterministic, phrasing."""
        if self._llm is not None:
            return self._llm.generate(text, tensions, variant=variant)
        return self.rules.generate(text, tensions, variant=variant)

    def health_check(self) -> Health:
        """Whether the configured engine answers; the rules engine always does."""
        if self._llm is not None:
            return self._llm.health_check()
        return Health(True, "The built-in engine is ready; it works offline.", ())

    def check(self, reply: str, source: str | None = None) -> CheckResult:
        """Run the constitution checker on any reply (for example one the writer edited)."""
        return self.rules.checker.check(reply, source=source)
