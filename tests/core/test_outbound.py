"""The one outbound reader: shareable feedback leaves without the person's free-text notes."""

from __future__ import annotations

from pathlib import Path

from mirror_desktop.core import models as m
from mirror_desktop.core.outbound import outbound_rows
from mirror_desktop.storage.journal import SQLiteStorage


def test_feedback_notes_never_leave(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "mirror_os.db")
    try:
        run = storage.engine_runs.create(m.EngineRun("1.0.0", "manual", duration_ms=3, sync_allowed=True))
        rated = storage.engine_feedback.create(m.EngineFeedback(run.id, rating=4, notes="my sister's name is Ada",
                                                                sync_allowed=True))
        storage.engine_feedback.create(m.EngineFeedback(run.id, notes="only words of mine", sync_allowed=True))
        storage.engine_feedback.create(m.EngineFeedback(run.id, rating=2))  # not shareable at all
        for purpose in ("share", "telemetry"):
            out = [row for table, rows in outbound_rows(storage, purpose) if table == "engine_feedback" for row in rows]
            assert [(f.id, f.rating, f.notes) for f in out] == [(rated.id, 4, None)]
    finally:
        storage.close()
