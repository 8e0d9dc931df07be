"""File → Export as… (issue 15, item 5): the export runs off the GUI thread with progress, writes only the
chosen identity, and a refusal is shown as its one sentence."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import seed


def _dialog(w, qtbot):
    w.export_as_action.trigger()
    qtbot.waitUntil(lambda: getattr(w, "export_as_dialog", None) is not None and w.export_as_dialog.isVisible(),
                    timeout=10000)
    return w.export_as_dialog


def test_export_as_markdown_writes_only_the_chosen_identity(make_window, journal_dir, qtbot, tmp_path):
    work = seed(journal_dir, lambda s: s.create_identity("Work", None))
    home = seed(journal_dir, lambda s: s.create_identity("Home", None))
    seed(journal_dir, lambda s: s.save_reflection("Planning the quarter.", identity_id=work.id))
    seed(journal_dir, lambda s: s.save_reflection("CANARY-home-words", identity_id=home.id))
    w = make_window()
    d = _dialog(w, qtbot)
    assert [d.identity_combo.itemText(i) for i in range(d.identity_combo.count())] == ["Home", "Work", "Anonymous"]
    d.identity_combo.setCurrentIndex(d.identity_combo.findData(work.id))
    out = tmp_path / "export"
    d.folder_edit.setText(str(out))
    with qtbot.waitSignal(w.exports_client.export_finished, timeout=20000):
        d.export_button.click()
    assert "Exported 1 reflection of Work as markdown" in d.status.text()
    text = "".join(p.read_text("utf-8") for p in out.glob("*.md"))
    assert "Planning the quarter." in text and "CANARY" not in text
    # The export's lifecycle event (issue 17, item 5) is written on the window's write lane.
    events: list = []
    qtbot.waitUntil(lambda: w.client.read(lambda s: s.storage.evolution_events.list(event_type="export"),
                                          events.append) is not None and bool(events and events[-1]), timeout=10000)
    assert [e.event_data for e in events[-1]] == [{"kind": "export_to", "format": "markdown", "reflections": 1,
                                                   "attachments": 0}]


def test_a_folder_with_files_is_refused_in_the_dialog(make_window, journal_dir, qtbot, tmp_path):
    w = make_window()
    d = _dialog(w, qtbot)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    d.folder_edit.setText(str(busy))
    d.export_button.click()
    qtbot.waitUntil(lambda: "already holds files" in d.status.text(), timeout=20000)
    assert d.export_button.isEnabled() and sorted(p.name for p in Path(busy).iterdir()) == ["keep.txt"]


def test_pdf_export_runs_on_its_thread_without_qt_warnings(make_window, journal_dir, qtbot, tmp_path):
    seed(journal_dir, lambda s: s.save_reflection("A page for the book."))
    w = make_window()
    d = _dialog(w, qtbot)
    d.format_combo.setCurrentIndex(d.format_combo.findData("pdf"))
    d.identity_combo.setCurrentIndex(d.identity_combo.findData("Anonymous"))
    d.folder_edit.setText(str(tmp_path / "book"))
    with qtbot.waitSignal(w.exports_client.export_finished, timeout=30000) as done:
        d.export_button.click()
    assert done.args[0].reflections == 1
    assert (tmp_path / "book" / "journal.pdf").read_bytes().startswith(b"%PDF-")
