"""Recognises crisis language and writes the calm reply that points to people who can help."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mirror_desktop.engine._data import RuleSet, default_rules
from mirror_desktop.engine.text import choose, normalize

_OPENINGS = (
    "What you wrote sounds very heavy, and you do not have to carry it alone.",
    "It sounds like you are carrying something very painful right now, and you do not have to carry it alone.",
)
_MIDDLE = (
    "Help exists, and there are people who want to hear from you, at any hour:",
    "Help exists, and people are there to listen, right now, at any hour:",
)


class CrisisDetector:
    """Matches the crisis phrases in rules.json; negation is ignored on purpose, to err towards care."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules or default_rules()
        parts = sorted(set(self.rules.crisis_phrases), key=len, reverse=True)
        # "self-harm", "self harm" and "self  harm" are the same words.
        body = "|".join(r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", p)) for p in parts)
        self._re = re.compile(r"(?<![\w'])(?:" + body + r")(?![\w'])")

    def detect(self, text: str) -> bool:
        """Whether ``text`` contains crisis language."""
        return self._re.search(normalize(text)) is not None


def crisis_reply(resources: Sequence[str], *seed: object) -> str:
    """A calm reply that says help exists and lists ``resources``, one per line; no question, no advice."""
    lines = [choose(_OPENINGS, "crisis-open", *seed), choose(_MIDDLE, "crisis-mid", *seed), ""]
    lines.extend(f"- {r}" for r in resources)
    return "\n".join(lines)
