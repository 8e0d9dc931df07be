"""Finds which of the writer's tensions a text touches, and proposes new ones from an opposition lexicon."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mirror_desktop.engine._data import Lexicon, Opposition, default_lexicon
from mirror_desktop.engine.text import contains_run, phrase_stems, stems
from mirror_desktop.engine.types import SuggestedTension, TensionRef

# Words that do not identify a pole on their own ("Being seen" is about "seen").
_POLE_STOPWORDS = frozenset({"be", "being", "the", "a", "an", "of", "to", "for", "and", "my", "your", "feel"})
MAX_SUGGESTIONS = 2


@dataclass(frozen=True)
class SurfacedTension:
    """A writer's tension that the text touches, with which of its poles appeared."""

    ref: TensionRef
    a_present: bool
    b_present: bool


class _StemIndex:
    """The stems of one text, for fast single- and multi-word lookups."""

    def __init__(self, text: str) -> None:
        self.seq = stems(text)
        self.set = frozenset(self.seq)

    def has(self, phrase_stem: tuple[str, ...]) -> bool:
        if not phrase_stem:
            return False
        if len(phrase_stem) == 1:
            return phrase_stem[0] in self.set
        return phrase_stem[0] in self.set and contains_run(self.seq, phrase_stem)


def _pole_key(pole: str) -> tuple[str, ...]:
    content = tuple(s for s in phrase_stems(pole) if s not in _POLE_STOPWORDS)
    return content or phrase_stems(pole)


def _pole_present(index: _StemIndex, pole: str) -> bool:
    key = _pole_key(pole)
    return bool(key) and all(s in index.set for s in key)


class TensionFinder:
    """Matches tension poles by stem ("controlling" finds Control) and suggests unseen oppositions."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()
        self._triggers = [
            (
                opp,
                [phrase_stems(w) for w in (opp.axis_a, *opp.a)],
                [phrase_stems(w) for w in (opp.axis_b, *opp.b)],
            )
            for opp in self.lexicon.oppositions
        ]

    def find(self, text: str, tensions: Sequence[TensionRef]) -> tuple[list[SurfacedTension], list[SuggestedTension]]:
        """The writer's tensions the text touches, and up to two new tensions to propose."""
        index = _StemIndex(text)
        surfaced: list[SurfacedTension] = []
        seen: set[str] = set()
        for t in tensions:
            if t.id in seen:
                continue
            a, b = _pole_present(index, t.axis_a), _pole_present(index, t.axis_b)
            if a or b:
                surfaced.append(SurfacedTension(t, a, b))
                seen.add(t.id)
        suggestions: list[SuggestedTension] = []
        for opp, a_triggers, b_triggers in self._triggers:
            if len(suggestions) >= MAX_SUGGESTIONS:
                break
            if not (any(index.has(s) for s in a_triggers) and any(index.has(s) for s in b_triggers)):
                continue
            covering = [t for t in tensions if self._covers(t, a_triggers, b_triggers, opp)]
            if covering:
                # Both sides of a tension the writer already tracks are here, even in other words.
                for t in covering:
                    if t.id not in seen:
                        surfaced.append(SurfacedTension(t, True, True))
                        seen.add(t.id)
                continue
            suggestions.append(SuggestedTension(f"{opp.axis_a} vs {opp.axis_b}", opp.axis_a, opp.axis_b))
        return surfaced, suggestions

    @staticmethod
    def _covers(t: TensionRef, a_triggers: list[tuple[str, ...]], b_triggers: list[tuple[str, ...]], opp: Opposition) -> bool:
        if t.name.strip().lower() == f"{opp.axis_a} vs {opp.axis_b}".lower():
            return True
        ta, tb = set(_pole_key(t.axis_a)), set(_pole_key(t.axis_b))
        sa = {s for trig in a_triggers for s in trig}
        sb = {s for trig in b_triggers for s in trig}
        return bool((ta & sa and tb & sb) or (ta & sb and tb & sa))
