"""MirrorCore: offline rules engine, constitution checker and optional LLM adapters; no Qt, no database."""

from mirror_desktop.engine._data import constitution_text
from mirror_desktop.engine.checker import CheckResult, ConstitutionChecker
from mirror_desktop.engine.config import (
    ENGINE_VERSION,
    EngineConfig,
    EngineConfigError,
    RemoteEngineRefused,
    is_loopback,
)
from mirror_desktop.engine.core import MirrorCore
from mirror_desktop.engine.llm import ChatEngine, OllamaEngine, OpenAICompatibleEngine
from mirror_desktop.engine.types import Generation, Health, SuggestedTension, TensionRef

__all__ = [
    "ENGINE_VERSION",
    "ChatEngine",
    "CheckResult",
    "ConstitutionChecker",
    "EngineConfig",
    "EngineConfigError",
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
