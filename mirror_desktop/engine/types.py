"""The engine's plain inputs and outputs: tension references, suggestions, generations, health."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TensionRef:
    """One of the writer's tensions, as the engine needs it (spec section 6)."""

    id: str
    name: str
    axis_a: str
    axis_b: str


@dataclass(frozen=True)
class SuggestedTension:
    """A tension the engine noticed that the writer does not track yet (origin ``llm_suggested``)."""

    name: str
    axis_a: str
    axis_b: str
    origin: str = "llm_suggested"


@dataclass(frozen=True)
class Generation:
    """One mirrorback and its telemetry; only ``text`` ever contains words from the reflection."""

    text: str                      # the mirrorback
    engine_mode: str               # "manual" for the rules engine, "local_llm", "remote_llm"
    engine_version: str            # config version, MAJOR.MINOR.PATCH, e.g. "1.0.0"
    model_name: str | None         # None for rules engine
    patterns: list[str]            # pattern names only
    tensions_surfaced: list[str]   # ids of the user's tensions surfaced
    suggested_tensions: list[SuggestedTension]   # name, axis_a, axis_b (origin llm_suggested)
    flags: dict                    # spec flags: directive_threshold_exceeded, explicit_advice, crisis_language, fallback…
    duration_ms: int               # > 0 always (use max(1, ...))
    directive_score: float
    engine_kind: str = "rules"     # which adapter wrote the text: "rules", "ollama", "openai"
    attempts: int = 1              # LLM calls made (0 for the rules engine)

    def metadata(self) -> dict:
        """The spec's suggested mirrorback metadata (section 3), free of reflection text."""
        return {
            "model": self.model_name,
            "engine_mode": self.engine_mode,
            "duration_ms": self.duration_ms,
            "patterns_detected": list(self.patterns),
            "tensions_surfaced": list(self.tensions_surfaced),
            "directive_score": self.directive_score,
            "constitutional_flags": sorted(self.flags),
        }


@dataclass(frozen=True)
class Health:
    """What a health check found: whether the engine answers, a sentence for people, its models."""

    ok: bool
    message: str
    models: tuple[str, ...] = field(default_factory=tuple)
