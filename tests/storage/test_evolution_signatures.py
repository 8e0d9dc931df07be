"""Signed events and history rows survive the round trip on SQLite and PostgreSQL (issue 17)."""

from __future__ import annotations

from typing import Any

from mirror_desktop.core import lifecycle
from mirror_desktop.core.evolution import EvolutionService


def test_signatures_verify_after_the_round_trip(storage: Any) -> None:
    svc = EvolutionService(storage, constitution=None)
    p = svc.propose("prompt_adjustment", "Shorter", "Three sentences.",
                    {"type": "prompt_adjustment", "expected_impact": "",
                     "patch": [{"op": "replace", "path": "/reply/max_sentences", "value": 3},
                               {"op": "replace", "path": "/checker/directive_threshold", "value": 0.12}]})
    svc.test(p.id)
    svc.approve(p.id)
    svc.apply(p.id)
    lifecycle.record_event(storage, "config_change", {"change": "crisis_country", "ratio": 0.1 + 0.2})
    report = lifecycle.verify(storage)
    assert report.ok and report.checked_history == 1 and report.checked_events >= 3, report.failures
    assert svc.document()["checker"]["directive_threshold"] == 0.12 and svc.version() == "1.1.0"
