"""Issue 17 in the window: View → Evolution…, built on first use; Test, Approve, Apply and Roll back follow the flow.

A real journal in tmp_path with real proposals, the real window and executor; the sandbox runs on
the background lane. MIRROR_SCREENSHOT_DIR=DIR saves the dialog as DIR/evolution.png (docs/).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QPushButton

from mirror_desktop.core.evolution import EvolutionService
from mirror_desktop.core.mirrorbacks import MirrorbackService
from mirror_desktop.core.tensions import TensionService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.evolution.view import ID_ROLE

ENTRIES = ("My flatmate leaves dishes in the sink and I keep quiet about it.",
           "I have to be the strong one again, and nobody ever asks how I am.",
           "Part of me wants to leave the job, but part of me loves the work.")


def phrase(value: str) -> dict:
    return {"type": "pattern_detection", "expected_impact": "Keeping quiet is noticed.",
            "patch": [{"op": "add", "path": "/patterns/absolute_thinking/phrases/-", "value": value}]}


def seed_journal(data_dir: Path) -> dict[str, str]:
    storage = SQLiteStorage(AppPaths.resolve(data_dir).database)
    try:
        TensionService(storage).ensure_seeds()
        from mirror_desktop.core.services import JournalService

        runs = []
        for text in ENTRIES:
            r = JournalService(storage).save_reflection(text)
            runs.append(MirrorbackService(storage).reflect(r.id).run.id)
        svc = EvolutionService(storage)
        applied = svc.propose("prompt_adjustment", "Three sentences at most", "Shorter replies felt kinder.",
                              {"type": "prompt_adjustment", "expected_impact": "Shorter mirrorbacks.",
                               "patch": [{"op": "replace", "path": "/reply/max_sentences", "value": 3}]})
        svc.test(applied.id)
        svc.approve(applied.id)
        svc.apply(applied.id)
        review = svc.propose("pattern_detection", "Notice “again”", "“Again” sounds total to me.",
                             phrase("again"))
        svc.test(review.id)
        draft = svc.propose("safety_refinement", "A stricter checker", "Fewer directive replies.",
                            {"type": "safety_refinement", "expected_impact": "",
                             "patch": [{"op": "replace", "path": "/checker/directive_threshold", "value": 0.12}]})
        return {"review": review.id, "draft": draft.id, "applied": applied.id, "run": runs[0]}
    finally:
        storage.close()


def select(dialog: Any, pid: str) -> None:
    tree = dialog.tree
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        for j in range(group.childCount()):
            if group.child(j).data(0, ID_ROLE) == pid:
                tree.setCurrentItem(group.child(j))
                return
    raise AssertionError(f"{pid} is not listed")


def groups(dialog: Any) -> list[str]:
    return [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]


def test_the_evolution_view_follows_the_flow(qtbot, make_window, journal_dir: Path) -> None:
    ids = seed_journal(journal_dir)
    window = make_window()
    assert window.evolution_client is None and window.evolution_dialog is None   # built on first use
    window.evolution_action.trigger()
    dialog = window.evolution_dialog
    qtbot.waitUntil(lambda: dialog.snapshot is not None, timeout=10000)
    assert groups(dialog) == ["Drafts (1)", "In review (1)", "Applied (1)"]
    assert "1.1.0" in dialog.version_label.text()

    select(dialog, ids["review"])
    qtbot.waitUntil(lambda: dialog.changes.rowCount() == 1, timeout=10000)
    assert dialog.changes.item(0, 0).text() == "/patterns/absolute_thinking/phrases"
    assert dialog.changes.item(0, 1).text() == "[]" and dialog.changes.item(0, 2).text() == '["again"]'
    assert dialog.examples.rowCount() >= 1   # probes whose mirrorback changes, before and after
    assert dialog.results.rowCount() == 11 and "would change" in dialog.summary.text()
    assert not dialog.apply_button.isEnabled() and dialog.approve_button.isEnabled()
    if os.environ.get("MIRROR_SCREENSHOT_DIR"):
        dialog.tabs.setCurrentIndex(1)
        qtbot.wait(200)
        dialog.grab().save(str(Path(os.environ["MIRROR_SCREENSHOT_DIR"]) / "evolution.png"))
        dialog.tabs.setCurrentIndex(0)

    dialog.approve_button.click()
    qtbot.waitUntil(lambda: "Approved (1)" in groups(dialog), timeout=10000)
    select(dialog, ids["review"])
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=10000)
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: "1.2.0" in dialog.version_label.text(), timeout=10000)
    top = dialog.history.topLevelItem(0)
    rollback = dialog.history.itemWidget(top, 4)
    assert isinstance(rollback, QPushButton) and rollback.text() == "Roll back"
    rollback.click()
    qtbot.waitUntil(lambda: "1.1.0" in dialog.version_label.text(), timeout=10000)
    assert dialog.history.topLevelItem(0).text(1).startswith("Rolled back")

    # The draft: Test runs the sandbox off the GUI thread and moves it to review.
    select(dialog, ids["draft"])
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=10000)
    assert not dialog.approve_button.isEnabled() and not dialog.apply_button.isEnabled()
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "In review (1)" in groups(dialog), timeout=30000)


def test_feedback_flags_draft_proposals(qtbot, make_window, journal_dir: Path) -> None:
    ids = seed_journal(journal_dir)
    storage = SQLiteStorage(AppPaths.resolve(journal_dir).database)
    try:
        for run in storage.engine_runs.list():
            MirrorbackService(storage).record_feedback(run.id, flags=["too_directive"])
    finally:
        storage.close()
    window = make_window()
    client = window._evolution()
    with qtbot.waitSignal(client.drafted, timeout=10000) as blocker:
        window.mirrorback_panel.feedback_saved.emit(ids["run"])   # what the form emits after a save
    assert blocker.args == [1]
    assert "drafted 1 proposal" in window.statusBar().currentMessage()


def test_saved_engine_settings_are_a_signed_config_change(qtbot, make_window, journal_dir: Path) -> None:
    window = make_window()
    window._engine_settings_saved()   # what the settings dialog's settings_saved triggers
    storage = SQLiteStorage(AppPaths.resolve(journal_dir).database)
    try:
        def changes() -> list[Any]:
            return [e for e in storage.evolution_events.list(event_type="config_change")
                    if e.event_data.get("change") == "engine_settings"]
        qtbot.waitUntil(lambda: len(changes()) == 1, timeout=10000)
        event = changes()[0]
        assert event.event_data["kind"] == "rules" and event.mirror_signature and not event.sync_allowed
    finally:
        storage.close()
