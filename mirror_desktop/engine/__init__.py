"""MirrorCore: offline rules engine, constitution checker and optional LLM adapters; no Qt, no database.

The configuration and result types load with the package; the engine itself (rules, model, checker, LLM
clients) loads on first use of one of its names (PEP 562), so the window and the CLI start without it
(issue 12: it was a quarter of the window's start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mirror_desktop.engine.config import (
    ENGINE_VERSION,
    EngineConfig,
    EngineConfigError,
    EngineTuning,
    RemoteEngineRefused,
    is_loopback,
)
from mirror_desktop.engine.types import Generation, Health, SuggestedTension, TensionRef

_LAZY = {
    "constitution_text": "mirror_desktop.engine._data",
    "CheckResult": "mirror_desktop.engine.checker",
    "ConstitutionChecker": "mirror_desktop.engine.checker",
    "MirrorCore": "mirror_desktop.engine.core",
    "ChatEngine": "mirror_desktop.engine.llm",
    "OllamaEngine": "mirror_desktop.engine.llm",
    "OpenAICompatibleEngine": "mirror_desktop.engine.llm",
}

if TYPE_CHECKING:
    from mirror_desktop.engine._data import constitution_text
    from mirror_desktop.engine.checker import CheckResult, ConstitutionChecker
    from mirror_desktop.engine.core import MirrorCore
    from mirror_desktop.engine.llm import ChatEngine, OllamaEngine, OpenAICompatibleEngine


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ENGINE_VERSION",
    "ChatEngine",
    "CheckResult",
    "ConstitutionChecker",
    "EngineConfig",
    "EngineConfigError",
    "EngineTuning",
    "Generation",
    "Health",
    "MirrorCore",
    "OllamaEngine",
    "OpenAICompatibleEngine",
    "RemoteEngineRefused",
    "SuggestedTension",
    "TensionRef",
    "constitution_text",
    "is_loopback",
]
