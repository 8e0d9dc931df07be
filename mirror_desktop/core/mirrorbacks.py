"""Mirrorbacks as records: run the engine on a saved reflection, keep the reply, its telemetry and feedback.

Issue 6, item 5. One generation writes a ``mirrorbacks`` row (spec 3: engine_version and the engine's
metadata), an ``engine_runs`` row (spec 8: pattern names, counts, flags, timings — never any text of
the reflection or the reply) and any ``llm_suggested`` tensions, in one transaction. The reflection is
saved before the engine runs, so no engine failure can lose it; an engine that fails falls back to the
rules engine and the fallback is recorded in ``flags``.

The work is split in three steps so the window can keep the database thread free while an LLM
thinks: ``prepare`` (database read) → ``generate`` (engine only, no database) → ``record`` (database
write). ``reflect`` runs all three, for the CLI and the tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import FEEDBACK_FLAGS
from mirror_desktop.core.errors import MirrorError, ValidationError
from mirror_desktop.core.outbound import engine_may_read
from mirror_desktop.core.tensions import TensionService
from mirror_desktop.engine import EngineConfig, EngineConfigError, Generation, TensionRef
from mirror_desktop.engine.text import sentences

if TYPE_CHECKING:
    from mirror_desktop.engine import MirrorCore

# The engine reads at most this many words (the reflection itself is always stored whole). At 3,000
# words the rules engine answers in about 70 ms on a laptop core; a 100,000-word paste would take
# seconds and say nothing more useful. Crisis language is still looked for in the whole text.
MAX_ENGINE_WORDS = 3000
# Spec 9, "Flag Values (suggested)": the only flags feedback may carry.
MAX_FEEDBACK_NOTES = 4000

_WORD_END_RE = re.compile(r"\S+")
_ENGINE_LABELS = {"ollama": "The Ollama engine", "openai": "The OpenAI-compatible engine", "settings": "The configured engine"}
_REASONS = {
    "timeout": "did not answer in time",
    "connection_error": "could not be reached",
    "invalid_response": "answered in an unexpected format",
    "empty_reply": "sent an empty reply",
    "explicit_advice": "kept giving advice, which Mirror does not pass on",
    "banned_phrase": "kept using phrases the constitution rules out",
    "too_many_questions": "kept asking more than one question",
    "exclamation_mark": "kept breaking the constitution",
    "config_refused": "is not set up in a way Mirror can use",
    "engine_error": "failed unexpectedly",
}
# Why a remote engine did not get the text: the reflection is local only and the person did not
# say yes for it (issue 11, item 7). A reason code, like the others: flags never hold text.
LOCAL_ONLY_REASON = "local_only"
LOCAL_ONLY_NOTICE = ("This reflection is local only, so it was not sent to the remote engine; the built-in "
                     "offline engine wrote this mirrorback, and you can say yes to send this one reflection.")

EngineFactory = Callable[[], "MirrorCore"]


def _offline_engine() -> MirrorCore:
    """The built-in engine, loaded on first use: the window starts without it (issue 12)."""
    from mirror_desktop.engine import MirrorCore

    return MirrorCore()


class ReflectionEmpty(ValidationError):
    """A reflection with no words to reflect on."""

    def __init__(self) -> None:
        super().__init__("reflection", "content", "cannot be empty",
                         "There is nothing to reflect on yet: the reflection is empty. Write something first.")


@dataclass(frozen=True)
class ReflectRequest:
    """What the engine needs, read from the journal: the text (capped), the writer's tensions, the variant."""

    reflection_id: str
    identity_id: str | None
    text: str
    tensions: tuple[TensionRef, ...]
    variant: int
    total_words: int
    words_read: int
    visibility: str = "local_only"
    remote_consent: bool = False     # the person's yes to sending this local_only text to a remote engine
    tuning: Any = None               # the journal's versioned engine configuration (EngineTuning, issue 17)

    @property
    def truncated(self) -> bool:
        return self.words_read < self.total_words


@dataclass(frozen=True)
class ReflectResult:
    """One generation as stored: the mirrorback row, its engine run, new suggestions, and a notice."""

    reflection_id: str
    mirrorback: m.Mirrorback
    run: m.EngineRun
    generation: Generation
    suggestions: list[m.Tension] = field(default_factory=list)
    notice: str | None = None   # one sentence when the configured engine was not the one that wrote

    @property
    def run_id(self) -> str:
        return self.run.id

    @property
    def text(self) -> str:
        return self.mirrorback.content

    @property
    def fell_back(self) -> bool:
        return "fallback" in (self.run.flags or {})

    @property
    def kept_local(self) -> bool:
        """The remote engine was not asked because the reflection is local only (not a failure)."""
        fb = (self.run.flags or {}).get("fallback")
        return isinstance(fb, dict) and fb.get("reason") == LOCAL_ONLY_REASON

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``reflect --json`` object (issue 6, item 7)."""
        return {
            "reflection_id": self.reflection_id,
            "mirrorback_id": self.mirrorback.id,
            "mirrorback": self.mirrorback.content,
            "patterns": list(self.run.patterns or []),
            "tensions_surfaced": list(self.run.tensions_surfaced or []),
            "suggested_tensions": [{"id": t.id, "name": t.name, "axis_a": t.axis_a, "axis_b": t.axis_b}
                                   for t in self.suggestions],
            "flags": dict(self.run.flags or {}),
            "engine_mode": self.run.engine_mode,
            "model_name": self.run.model_name,
            "duration_ms": self.run.duration_ms,
            "run_id": self.run.id,
        }


@dataclass(frozen=True)
class MirrorbackEntry:
    """A stored mirrorback with its run (None for rows written before runs were linked) and tension names."""

    mirrorback: m.Mirrorback
    run: m.EngineRun | None
    tension_names: dict[str, str] = field(default_factory=dict)   # surfaced tension id → its name
    feedback: list[m.EngineFeedback] = field(default_factory=list)


def engine_text(text: str, limit: int = MAX_ENGINE_WORDS) -> tuple[str, int, int]:
    """The first ``limit`` words of ``text`` (cut at a word end, so quotes stay exact), words read, total."""
    total = 0
    cut = len(text)
    for match in _WORD_END_RE.finditer(text):
        total += 1
        if total == limit:
            cut = match.end()
    if total <= limit:
        return text, total, total
    return text[:cut], limit, total


def fallback_notice(flags: dict[str, Any]) -> str | None:
    """One sentence for people when the built-in engine stood in for the configured one."""
    fb = flags.get("fallback")
    if not isinstance(fb, dict):
        return None
    if fb.get("reason") == LOCAL_ONLY_REASON:
        return LOCAL_ONLY_NOTICE
    who = _ENGINE_LABELS.get(str(fb.get("from")), "The configured engine")
    reason = str(fb.get("reason") or "")
    what = _REASONS.get(reason)
    if what is None and reason.startswith("http_"):
        what = f"answered with an error (HTTP {reason[5:]})"
    what = what or "failed"
    return (f"{who} {what}, so the built-in offline engine wrote this mirrorback; "
            "check the engine settings if this keeps happening.")


def consent_host(visibility: str, config: EngineConfig) -> str | None:
    """The remote engine's host when text of ``visibility`` needs the person's yes to go to it, else None.

    For the window, which holds a ReflectRequest: ``consent_host(request.visibility, config)``; on a
    yes it generates with ``dataclasses.replace(request, remote_consent=True)``. Resolves a
    ``*.localhost`` name (EngineConfig.effective_mode), so call it off the GUI thread.
    """
    if engine_may_read(visibility, remote=config.effective_mode == "remote_llm"):
        return None
    return urlsplit(config.url).hostname or config.url


def journal_tuning(storage: Any) -> Any:
    """The journal's engine configuration (core/evolution.py), or None when it cannot be read."""
    try:
        from mirror_desktop.core.evolution import EvolutionService

        return EvolutionService(storage).tuning()
    except Exception:  # noqa: BLE001 - a damaged configuration must never cost a mirrorback: built-ins answer
        return None


def _tuned(engine: MirrorCore, request: ReflectRequest) -> MirrorCore:
    """The engine with the journal's configuration; its version stamps the mirrorback and the run."""
    tuner = getattr(engine, "tuned", None)
    if request.tuning is None or tuner is None:
        return engine
    return tuner(request.tuning)


def tension_refs(tensions: Sequence[m.Tension]) -> tuple[TensionRef, ...]:
    return tuple(TensionRef(t.id, t.name, t.axis_a, t.axis_b) for t in tensions)


class MirrorbackService:
    """Reflect, regenerate, list and rate mirrorbacks over one storage; no Qt, the same for window and CLI."""

    def __init__(self, storage: Any, engine_factory: EngineFactory | None = None, *,
                 share_telemetry: bool | None = None) -> None:
        self.storage = storage
        self.engine_factory: EngineFactory = engine_factory or _offline_engine
        # None: ask the factory (EngineSettingsStore's factory knows the person's choice); default off.
        self._share_telemetry = share_telemetry

    @property
    def share_telemetry(self) -> bool:
        if self._share_telemetry is not None:
            return self._share_telemetry
        return bool(getattr(self.engine_factory, "share_telemetry", False))

    # -- the three steps -----------------------------------------------------------------------
    def prepare(self, reflection_id: str, *, variant: int | None = None, allow_remote: bool = False) -> ReflectRequest:
        """Read the reflection and the tensions in its scope; ``variant`` None means "the next one".

        ``allow_remote``: the person's yes to sending this reflection to a remote engine even though
        it is local only (see remote_consent_needed).
        """
        reflection = self.storage.reflections.get(reflection_id)
        if not reflection.content.strip():
            raise ReflectionEmpty()
        if variant is None:
            variant = self.storage.mirrorbacks.count(reflection_id=reflection_id)
        tensions = TensionService(self.storage).list_tensions(
            reflection.identity_id, anonymous=reflection.identity_id is None)
        text, read, total = engine_text(reflection.content)
        return ReflectRequest(reflection.id, reflection.identity_id, text, tension_refs(tensions),
                              int(variant), total, read, str(reflection.visibility), bool(allow_remote),
                              journal_tuning(self.storage))

    def remote_consent_needed(self, reflection_id: str) -> str | None:
        """The remote engine's host when this reflection needs the person's yes to go there, else None.

        The window asks "This reflection is local only. Send it to <host> for this mirrorback?" and
        passes the answer as ``allow_remote``; without a yes the offline engine answers.
        """
        reflection = self.storage.reflections.get(reflection_id)
        try:
            config = self.engine_factory().config
        except EngineConfigError:
            return None
        return consent_host(str(reflection.visibility), config)

    def generate(self, request: ReflectRequest, *, full_text: str | None = None) -> Generation:
        """Run the engine (no database). Never raises for an engine problem: the rules engine stands in."""
        started = time.perf_counter()
        text = request.text
        try:
            engine = _tuned(self.engine_factory(), request)
        except EngineConfigError:
            engine = _tuned(_offline_engine(), request)
            gen = self._run(engine, text, request)
            return self._with_fallback(gen, "settings", "config_refused", started)
        if request.truncated and full_text is not None:
            text = self._keep_crisis(engine, text, full_text)
        remote = engine.config.effective_mode == "remote_llm"
        if not engine_may_read(request.visibility, remote=remote, consent=request.remote_consent):
            # The one gate for text going to an engine (core/outbound.py); nothing was sent.
            gen = engine.rules.generate(text, request.tensions, variant=request.variant)
            return self._with_fallback(gen, engine.config.kind, LOCAL_ONLY_REASON, started)
        try:
            return self._run(engine, text, request)
        except MirrorError:
            raise
        except Exception:  # noqa: BLE001 - an engine bug must not cost the person their mirrorback
            kind = engine.config.kind if engine.config.kind != "rules" else "settings"
            gen = self._run(_tuned(_offline_engine(), request), text, request)
            return self._with_fallback(gen, kind, "engine_error", started)

    @staticmethod
    def _run(engine: MirrorCore, text: str, request: ReflectRequest) -> Generation:
        return engine.generate(text, request.tensions, variant=request.variant)

    @staticmethod
    def _keep_crisis(engine: MirrorCore, text: str, full_text: str) -> str:
        """Safety reads everything: crisis sentences past the word cap are added to what the engine reads."""
        detector = engine.rules.crisis
        if detector.detect(text) or not detector.detect(full_text):
            return text
        rest = full_text[len(text):]
        parts = sentences(rest)
        found = [s for s in parts if detector.detect(s)]
        if not found:
            # Indirect signs are often told over two sentences ("Bought rope today. Told nobody.").
            found = [f"{a} {b}" for a, b in zip(parts, parts[1:], strict=False) if detector.detect(f"{a} {b}")]
        return text + "\n" + "\n".join(found[:3])

    @staticmethod
    def _with_fallback(gen: Generation, source: str, reason: str, started: float) -> Generation:
        flags = dict(gen.flags)
        flags["fallback"] = {"from": source, "reason": reason}
        return replace(gen, flags=flags, duration_ms=max(1, round((time.perf_counter() - started) * 1000)))

    def record(self, request: ReflectRequest, gen: Generation) -> ReflectResult:
        """Write the mirrorback, its engine run and new suggestions in one transaction."""
        flags = dict(gen.flags)
        if request.truncated:
            # Counts only: how much of the reflection the engine read.
            flags["input_truncated"] = {"words_read": request.words_read, "total_words": request.total_words}
        S = self.storage
        with S.transaction():
            reflection = S.reflections.get(request.reflection_id)  # still there (not deleted meanwhile)
            run = S.engine_runs.create(m.EngineRun(
                config_version=gen.engine_version,
                engine_mode=gen.engine_mode,  # type: ignore[arg-type]
                reflection_id=reflection.id,
                model_name=gen.model_name,
                patterns=list(gen.patterns),
                tensions_surfaced=list(gen.tensions_surfaced),
                mirrorback_length=len(gen.text),
                duration_ms=max(1, int(gen.duration_ms)),
                flags=flags,
                sync_allowed=self.share_telemetry,
            ))
            meta = dict(gen.metadata())
            meta["constitutional_flags"] = sorted(flags)
            meta["engine_run_id"] = run.id
            meta["engine_kind"] = gen.engine_kind
            meta["variant"] = request.variant
            mirrorback = S.mirrorbacks.create(m.Mirrorback(
                reflection_id=reflection.id, content=gen.text, engine_version=gen.engine_version, metadata=meta))
            suggestions: list[m.Tension] = []
            tensions = TensionService(S)
            for s in gen.suggested_tensions:
                made = tensions.add_suggestion(s.name, s.axis_a, s.axis_b, identity_id=reflection.identity_id,
                                               reflection_id=reflection.id)
                if made is not None:
                    suggestions.append(made)
        notice = fallback_notice(flags)
        if notice is None and request.truncated:
            notice = (f"The reflection is saved in full; the engine read its first {request.words_read:,} "
                      f"of {request.total_words:,} words.")
        return ReflectResult(reflection.id, mirrorback, run, gen, suggestions, notice)

    # -- use cases -----------------------------------------------------------------------------
    def reflect(self, reflection_id: str, *, variant: int = 0, allow_remote: bool = False) -> ReflectResult:
        """Generate and store a mirrorback for a saved reflection."""
        request = self.prepare(reflection_id, variant=variant, allow_remote=allow_remote)
        full = self.storage.reflections.get(reflection_id).content if request.truncated else None
        return self.record(request, self.generate(request, full_text=full))

    def regenerate(self, reflection_id: str, *, allow_remote: bool = False) -> ReflectResult:
        """Another mirrorback for the same reflection; the variant is how many it already has."""
        request = self.prepare(reflection_id, variant=None, allow_remote=allow_remote)
        full = self.storage.reflections.get(reflection_id).content if request.truncated else None
        return self.record(request, self.generate(request, full_text=full))

    def mirrorbacks_for(self, reflection_id: str) -> list[MirrorbackEntry]:
        """Every mirrorback of a reflection, oldest first, with its run and feedback."""
        S = self.storage
        rows = S.mirrorbacks.list(reflection_id=reflection_id)
        runs = {r.id: r for r in S.engine_runs.list(reflection_id=reflection_id)}
        names: dict[str, str] = {}
        wanted = {tid for r in runs.values() for tid in (r.tensions_surfaced or [])}
        for tid in wanted:
            t = S.tensions.find(tid)
            if t is not None:
                names[tid] = t.name
        out = []
        for mb in rows:
            run = runs.get(str((mb.metadata or {}).get("engine_run_id")))
            feedback = S.engine_feedback.list(engine_run_id=run.id) if run is not None else []
            out.append(MirrorbackEntry(mb, run, {k: v for k, v in names.items()
                                                 if run is not None and k in (run.tensions_surfaced or [])}, feedback))
        return out

    def record_feedback(self, run_id: str, rating: int | None = None, flags: Sequence[str] | None = None,
                        notes: str | None = None) -> m.EngineFeedback:
        """Spec 9: a 1–5 rating, flags from the suggested list, notes; at least one of them.

        Feedback with notes stays on this device even when telemetry sharing is on: notes are the
        person's own words, and sharing promises pattern names, counts and flags only.
        """
        run = self.storage.engine_runs.get(run_id)
        if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
            raise ValidationError("engine_feedback", "rating", "must be 1-5",
                                  f"A rating is a whole number from 1 to 5 (got {rating!r}).")
        clean_flags: list[str] = []
        for f in flags or ():
            if f not in FEEDBACK_FLAGS:
                raise ValidationError("engine_feedback", "flags", "must be a suggested flag",
                                      f"{f!r} is not a feedback flag; use one of: {', '.join(FEEDBACK_FLAGS)}.")
            if f not in clean_flags:
                clean_flags.append(f)
        note = (notes or "").strip() or None
        if note is not None and len(note) > MAX_FEEDBACK_NOTES:
            raise ValidationError("engine_feedback", "notes", "too long",
                                  f"Feedback notes can be at most {MAX_FEEDBACK_NOTES:,} characters (got {len(note):,}).")
        if rating is None and not clean_flags and note is None:
            raise ValidationError("engine_feedback", "rating", "or flags or notes must be provided",
                                  "Feedback needs a rating, a flag or a note; add at least one.")
        return self.storage.engine_feedback.create(m.EngineFeedback(
            engine_run_id=run.id, rating=rating, flags=clean_flags or None, notes=note,
            sync_allowed=self.share_telemetry and note is None))


__all__ = [
    "FEEDBACK_FLAGS", "LOCAL_ONLY_NOTICE", "LOCAL_ONLY_REASON", "MAX_ENGINE_WORDS", "MirrorbackEntry",
    "MirrorbackService", "ReflectRequest", "ReflectResult", "ReflectionEmpty", "engine_text", "fallback_notice",
]
