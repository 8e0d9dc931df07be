"""Optional LLM engines (Ollama, OpenAI-compatible) over plain HTTP, held to the same constitution."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from mirror_desktop.engine._data import constitution_text
from mirror_desktop.engine.checker import CheckResult
from mirror_desktop.engine.config import EngineConfig, is_loopback
from mirror_desktop.engine.rules import Analysis, RulesEngine
from mirror_desktop.engine.types import Generation, Health, TensionRef

MAX_ATTEMPTS = 2
HEALTH_TIMEOUT_S = 5.0

INSTRUCTIONS = """\
You write a mirrorback: a short reply (two to four sentences) to the journal entry the user sends.
Follow the constitution above. Quote a short phrase of the writer's own words in “curly quotes”.
Use tentative phrasing such as "it sounds like" or "part of you". If two wishes pull against each
other, reflect both sides. Ask at most one open question, or none. Never give advice, never use
imperatives, never praise, never diagnose, never use percentages or exclamation marks, and never
say you understand how they feel. Reply with the mirrorback only."""

STRICT = """\
Your previous reply broke the constitution ({reasons}). Write it again as pure reflection: not a
single suggestion, instruction, imperative verb, "you should", "try", "have you considered",
"it might help" or "I recommend"; at most one question mark; no exclamation marks."""


class LLMFailure(Exception):
    """One failed attempt; ``reason`` is a short code, never text from the reflection or the reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatEngine:
    """Shared flow: prompt with the constitution, check the reply, regenerate once, else fall back."""

    kind = "llm"
    label = "LLM"
    chat_path = ""
    health_path = ""

    def __init__(self, config: EngineConfig, rules: RulesEngine | None = None, *, api_key: str | None = None) -> None:
        config.validate()
        self.config = config
        self.rules = rules or RulesEngine()
        self.api_key = api_key
        # Loopback traffic must never be sent to a proxy from the environment.
        handlers = [urllib.request.ProxyHandler({})] if is_loopback(config.url) else []
        self._opener = urllib.request.build_opener(*handlers)

    # -- HTTP ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _request(self, method: str, path: str, payload: dict | None, timeout: float) -> Any:
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        req = urllib.request.Request(self.config.url + path, data=data, method=method, headers=self._headers())
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            raise LLMFailure(f"http_{exc.code}") from None
        except urllib.error.URLError as exc:
            timed_out = isinstance(exc.reason, (TimeoutError, socket.timeout))
            raise LLMFailure("timeout" if timed_out else "connection_error") from None
        except TimeoutError:
            raise LLMFailure("timeout") from None
        except (ConnectionError, OSError):
            raise LLMFailure("connection_error") from None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise LLMFailure("invalid_response") from None

    def _path(self, path: str) -> str:
        return path

    def _chat(self, messages: list[dict[str, str]], variant: int) -> str:
        raise NotImplementedError

    def _models(self, body: Any) -> tuple[str, ...]:
        raise NotImplementedError

    # -- prompts ----------------------------------------------------------------------------

    def messages(self, text: str, analysis: Analysis, strict_reasons: Sequence[str] = ()) -> list[dict[str, str]]:
        """The chat messages: constitution as the system prompt, the reflection as the user turn."""
        tuning = self.config.tuning
        # The journal's own constitution when it has one (issue 17: an imported constitution takes effect).
        system = ((tuning.constitution if tuning is not None else None) or constitution_text()) + "\n\n" + INSTRUCTIONS
        if strict_reasons:
            system += "\n\n" + STRICT.format(reasons=", ".join(strict_reasons))
        user = text
        names = [s.ref.name for s in analysis.surfaced]
        if names:
            user += "\n\n(Tensions the writer tracks that this may touch: " + "; ".join(names) + ".)"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    # -- the flow ---------------------------------------------------------------------------

    def generate(self, text: str, tensions: Sequence[TensionRef] = (), *, variant: int = 0) -> Generation:
        """A mirrorback from the model, or from the rules engine if the model fails twice."""
        started = time.perf_counter()
        analysis = self.rules.analyze(text, tensions)
        if analysis.crisis:
            # Safety does not depend on a model's mood: the calm, fixed crisis reply is used.
            return self.rules.generate(text, tensions, variant=variant)
        reasons: list[str] = []
        last = "unknown"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                reply = self._clean(self._chat(self.messages(text, analysis, reasons), variant))
            except LLMFailure as exc:
                last = exc.reason
                continue
            result = self.rules.checker.check(reply, source=text)
            if not result.violations:
                return self._generation(reply, result, analysis, attempt, started)
            reasons = result.violations
            last = reasons[0]
        fallback = self.rules.generate(text, tensions, variant=variant)
        flags = dict(fallback.flags)
        flags["fallback"] = {"from": self.kind, "reason": last}
        return Generation(
            text=fallback.text,
            engine_mode="manual",
            engine_version=fallback.engine_version,
            model_name=None,
            patterns=fallback.patterns,
            tensions_surfaced=fallback.tensions_surfaced,
            suggested_tensions=fallback.suggested_tensions,
            flags=flags,
            duration_ms=max(1, round((time.perf_counter() - started) * 1000)),
            directive_score=fallback.directive_score,
            engine_kind="rules",
            attempts=MAX_ATTEMPTS,
        )

    @staticmethod
    def _clean(reply: str) -> str:
        reply = reply.strip()
        if not reply:
            raise LLMFailure("empty_reply")
        return reply

    def _generation(self, reply: str, result: CheckResult, analysis: Analysis, attempt: int, started: float) -> Generation:
        flags = result.flags()
        if attempt > 1:
            flags["regenerated"] = True
        return Generation(
            text=reply,
            engine_mode=self.config.effective_mode,
            engine_version=self.config.version,
            model_name=self.config.model,
            patterns=list(analysis.patterns),
            tensions_surfaced=[s.ref.id for s in analysis.surfaced],
            suggested_tensions=list(analysis.suggested),
            flags=flags,
            duration_ms=max(1, round((time.perf_counter() - started) * 1000)),
            directive_score=round(result.ratio, 4),
            engine_kind=self.kind,
            attempts=attempt,
        )

    def health_check(self) -> Health:
        """Ask the server which models it has, within a short timeout."""
        where = f"{self.label} at {self.config.url}"
        try:
            body = self._request("GET", self._path(self.health_path), None, min(self.config.timeout_s, HEALTH_TIMEOUT_S))
            models = self._models(body)
        except LLMFailure as exc:
            return Health(False, f"{where} did not answer ({exc.reason.replace('_', ' ')}); Mirror will use the built-in engine.")
        except (KeyError, TypeError, AttributeError):
            return Health(False, f"{where} answered in an unexpected format; check the address and the engine kind.")
        model = self.config.model or ""
        if any(m == model or m.split(":")[0] == model for m in models):
            return Health(True, f"{where} is ready with {model}.", models)
        return Health(False, f"{where} answers, but the model {model!r} is not there; pick one of its models.", models)


class OllamaEngine(ChatEngine):
    """Ollama's native API: POST /api/chat (non-streaming), GET /api/tags for health."""

    kind = "ollama"
    label = "Ollama"
    chat_path = "/api/chat"
    health_path = "/api/tags"

    def _chat(self, messages: list[dict[str, str]], variant: int) -> str:
        payload = {"model": self.config.model, "messages": messages, "stream": False, "options": {"seed": variant}}
        body = self._request("POST", self.chat_path, payload, self.config.timeout_s)
        try:
            return str(body["message"]["content"])
        except (KeyError, TypeError):
            raise LLMFailure("invalid_response") from None

    def _models(self, body: Any) -> tuple[str, ...]:
        return tuple(str(m["name"]) for m in body["models"])


class OpenAICompatibleEngine(ChatEngine):
    """Any server speaking POST /v1/chat/completions (llama.cpp, LM Studio, vLLM, hosted APIs)."""

    kind = "openai"
    label = "OpenAI-compatible server"
    chat_path = "/v1/chat/completions"
    health_path = "/v1/models"

    def _path(self, path: str) -> str:
        # Accept base URLs given with or without the /v1 suffix.
        return path[3:] if self.config.url.endswith("/v1") else path

    def _chat(self, messages: list[dict[str, str]], variant: int) -> str:
        payload = {"model": self.config.model, "messages": messages, "stream": False, "seed": variant}
        body = self._request("POST", self._path(self.chat_path), payload, self.config.timeout_s)
        try:
            return str(body["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise LLMFailure("invalid_response") from None

    def _models(self, body: Any) -> tuple[str, ...]:
        return tuple(str(m["id"]) for m in body["data"])


def make_llm_engine(config: EngineConfig, rules: RulesEngine | None = None, *, api_key: str | None = None) -> ChatEngine:
    """The adapter for ``config.kind``; an OpenAI key is read from the keychain if not given."""
    if config.kind == "ollama":
        return OllamaEngine(config, rules, api_key=api_key)
    if config.kind == "openai":
        if api_key is None and config.api_key_name:
            from mirror_desktop.keychain import load_api_key

            api_key = load_api_key(config.api_key_name)
        return OpenAICompatibleEngine(config, rules, api_key=api_key)
    raise ValueError(f"No LLM adapter for engine kind {config.kind!r}.")
