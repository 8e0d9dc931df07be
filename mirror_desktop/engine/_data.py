"""Loads the constitution, its machine-readable rules and the engine lexicon from resources/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CONSTITUTION_FILES = ("00_manifesto.md", "01_sovereignty.md", "02_reflection.md", "03_safety.md")


def read_resource(*parts: str) -> str:
    """The text of a file under resources/, e.g. ``read_resource("constitution", "rules.json")``."""
    from mirror_desktop.resources import resource

    return resource(*parts).read_text(encoding="utf-8")


@dataclass(frozen=True)
class RuleSet:
    """The constitution's rules as data: what counts as a directive, what is banned, crisis phrases."""

    version: str
    directive_threshold: float
    advice_phrases: tuple[str, ...]
    imperative_verbs: frozenset[str]
    imperative_lead_ins: frozenset[str]
    banned_phrases: tuple[str, ...]
    crisis_phrases: tuple[str, ...]
    crisis_resources: tuple[str, ...]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RuleSet:
        return cls(
            version=str(raw["version"]),
            directive_threshold=float(raw["directive_threshold"]),
            advice_phrases=tuple(p.lower() for p in raw["advice_phrases"]),
            imperative_verbs=frozenset(v.lower() for v in raw["imperative_verbs"]),
            imperative_lead_ins=frozenset(v.lower() for v in raw.get("imperative_lead_ins", ())),
            banned_phrases=tuple(p.lower() for p in raw["banned_phrases"]),
            crisis_phrases=tuple(p.lower() for p in raw["crisis_phrases"]),
            crisis_resources=tuple(raw["crisis_resources"]),
        )


@dataclass(frozen=True)
class Opposition:
    """Two poles that often pull against each other, with the words that signal each."""

    axis_a: str
    axis_b: str
    a: tuple[str, ...]
    b: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Word lists the rules engine reads: absolutes, hedges, feelings, self-labels, oppositions."""

    version: str
    absolute_words: tuple[str, ...]
    hedges: frozenset[str]
    feeling_words: frozenset[str]
    self_labels: tuple[str, ...]
    oppositions: tuple[Opposition, ...]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Lexicon:
        return cls(
            version=str(raw["version"]),
            absolute_words=tuple(raw["absolute_words"]),
            hedges=frozenset(raw["hedges"]),
            feeling_words=frozenset(raw["feeling_words"]),
            self_labels=tuple(raw["self_labels"]),
            oppositions=tuple(
                Opposition(o["axis_a"], o["axis_b"], tuple(o["a"]), tuple(o["b"]))
                for o in raw["oppositions"]
            ),
        )


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The rules shipped in resources/constitution/rules.json."""
    return RuleSet.from_json(json.loads(read_resource("constitution", "rules.json")))


@lru_cache(maxsize=8)
def rules_from_text(text: str) -> RuleSet:
    """A journal's own constitution/rules.json (issue 17: an imported constitution takes effect)."""
    return RuleSet.from_json(json.loads(text))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon shipped in resources/engine/lexicon.json."""
    return Lexicon.from_json(json.loads(read_resource("engine", "lexicon.json")))


@lru_cache(maxsize=1)
def constitution_text() -> str:
    """The four constitution files joined, as the system prompt of every LLM engine."""
    return "\n\n".join(read_resource("constitution", name).strip() for name in CONSTITUTION_FILES)
