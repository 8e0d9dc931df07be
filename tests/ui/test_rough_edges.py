"""Small things a nightly writer notices: wording, clipped text, empty states, what a click selects."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QInputDialog, QScrollArea

from mirror_desktop.ui.journal.editor import IDENTITY_COMBO_MAX_WIDTH

from ui_helpers import read, seed


def answer(monkeypatch, text: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (text, True)))


def test_a_new_identity_is_selected_once_created(make_window, monkeypatch, qtbot):  # type: ignore[no-untyped-def]
    w = make_window()
    answer(monkeypatch, "Work self")
    w.journal.create_identity()
    qtbot.waitUntil(lambda: w.journal.list_title.text() == "Work self", timeout=10000)
    ident = w.identity_model.identities[0]
    assert w.journal._identity == ("identity", ident.id)
    w.new_action.trigger()
    assert w.editor.identity_id() == ident.id  # what is written next belongs to it


def test_renaming_a_thread_to_nothing_keeps_its_title(make_window, journal_dir, monkeypatch, qtbot):  # type: ignore[no-untyped-def]
    t = seed(journal_dir, lambda s: s.create_thread("Sleep"))
    w = make_window()
    answer(monkeypatch, "   ")
    w.journal.rename_thread(t.id)
    answer(monkeypatch, "  Sleep and mornings ")
    with qtbot.waitSignal(w.client.threads_changed, timeout=10000):
        w.journal.rename_thread(t.id)
    assert read(journal_dir, lambda s: s.list_threads()[0].title) == "Sleep and mornings"


def test_threads_view_says_how_to_start_when_there_are_none(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    w = make_window()
    w.show_view("threads")
    assert "No threads yet" in w.timeline.empty.text() and "+" in w.timeline.empty.text()
    with qtbot.waitSignal(w.client.threads_changed, timeout=10000):
        w.client.create_thread("Sleep", None)
    qtbot.waitUntil(lambda: w.thread_model.rowCount() == 1, timeout=10000)
    w.timeline.show_thread(None)
    assert w.timeline.empty.text() == "No thread chosen"


def test_thread_header_shows_its_facts_whole_and_a_long_name_gives_way_to_the_buttons(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """The header's facts are two one-line labels, each given its full height (a wrapping label was given one
    line and its second line was cut off); a long thread name is shortened with "…" beside Rename and Pause."""
    def data(svc):  # type: ignore[no-untyped-def]
        r = svc.save_reflection("Slept badly again.")
        t = svc.create_thread("Finding my feet in the new role, and what it asks of the evenings")
        svc.add_to_threads(r.id, [t.id])
        return t

    t = seed(journal_dir, data)
    w = make_window()
    with qtbot.waitSignal(w.journal.timeline_loaded, timeout=10000):
        w.journal.show_thread(t.id)
    tl = w.timeline
    qtbot.waitUntil(lambda: tl.dates.isVisible(), timeout=5000)
    assert tl.subtitle.text() == "1 reflection  ·  active"
    assert tl.dates.text().startswith("started ") and "  ·  last active " in tl.dates.text()
    for label in (tl.title, tl.subtitle, tl.dates):
        assert label.height() >= label.sizeHint().height()  # nothing cut off at the bottom
    assert tl.title.geometry().right() < tl.rename_button.geometry().left()  # the buttons are never covered
    assert tl.title.toolTip() == "Finding my feet in the new role, and what it asks of the evenings"  # shortened


def test_editor_row_fits_with_a_long_identity_name(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    ident = seed(journal_dir, lambda s: s.create_identity("The part of me that keeps every promise " * 3, None))
    w = make_window()
    w.journal.select_identity(ident.id)
    w.new_action.trigger()
    e = w.editor
    qtbot.waitUntil(lambda: e.identity_id() == ident.id, timeout=10000)
    assert e.identity_combo.width() <= IDENTITY_COMBO_MAX_WIDTH
    tags = e.tags_edit
    assert tags.fontMetrics().horizontalAdvance(tags.placeholderText()) + 24 <= tags.width()
    assert "comma" in tags.toolTip()


def test_threads_button_draws_its_own_arrow(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    def data(svc):  # type: ignore[no-untyped-def]
        r = svc.save_reflection("Something to follow")
        svc.add_to_threads(r.id, [svc.create_thread("One").id])
        return r

    r = seed(journal_dir, data)
    w = make_window()
    assert w.editor.threads_button.objectName() == "threadsButton"  # the style sheets hide Qt's indicator
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id, timeout=10000)
    qtbot.waitUntil(lambda: w.editor.threads_button.text() == "Threads (1) ▾", timeout=10000)
    w.new_action.trigger()
    assert w.editor.threads_button.text() == "Threads ▾"


def test_mirrorback_hint_names_where_the_engine_is_chosen(make_window):  # type: ignore[no-untyped-def]
    w = make_window()
    assert "File → Mirrorback engine" in w.mirrorback_panel.hint.text()
    assert w.engine_action.text().replace("&", "").rstrip("…") == "Mirrorback engine"


def test_open_feedback_scrolls_instead_of_overlapping(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    seed(journal_dir, lambda s: s.save_reflection(
        "I always end up carrying the team when deadlines come, and I have to say yes to everything "
        "because nobody else will, and then I never rest."))
    w = make_window()
    p = w.mirrorback_panel
    assert isinstance(w.mirrorback_scroll, QScrollArea) and w.mirrorback_scroll.widget() is p
    qtbot.waitUntil(lambda: w.editor.is_saved_reflection, timeout=10000)
    with qtbot.waitSignal(p.mirrorback_generated, timeout=15000):
        w.reflect_action.trigger()
    qtbot.waitUntil(lambda: p.card.isVisible(), timeout=10000)
    p.feedback_toggle.click()
    qtbot.waitUntil(lambda: p.feedback_box.isVisible(), timeout=10000)
    qtbot.wait(50)

    def bottom(widget):  # type: ignore[no-untyped-def]
        return widget.mapTo(p, widget.rect().bottomLeft()).y()

    def top(widget):  # type: ignore[no-untyped-def]
        return widget.mapTo(p, widget.rect().topLeft()).y()

    qtbot.waitUntil(lambda: p.reply.height() >= p.reply.heightForWidth(p.reply.width()), timeout=5000)
    if p.notes_caption.isVisible():
        assert bottom(p.reply) < top(p.notes_caption)
    assert bottom(p.card) < top(p.feedback_toggle) < top(p.feedback_box)
    assert bottom(p.flag_row) < top(p.notes_edit)
    assert p.height() >= p.minimumSizeHint().height()


def test_import_dialog_passphrase_label_is_not_covered(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from mirror_desktop.ui.bundle.dialogs import ImportDialog

    sealed = tmp_path / "b.zip.age"
    sealed.write_bytes(b"age-encryption.org/v1\n-> scrypt x 10\n")
    dlg = ImportDialog(str(tmp_path), has_keychain=True)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.file.setText(str(sealed))
    assert dlg.fields.passphrase.isVisible()
    assert not dlg.fields.confirm.isVisible()  # it is not in the form; shown, it sat over the label


def test_bundle_summaries_count_in_words():  # type: ignore[no-untyped-def]
    from pathlib import Path

    from mirror_desktop.bundle.export import ExportResult
    from mirror_desktop.bundle.importer import ImportResult
    from mirror_desktop.ui.bundle.dialogs import export_summary, import_summary

    one = ExportResult(Path("/tmp/b.zip.age"), 10, True, False, {"reflections": 1, "tensions": 1, "threads": 0})
    assert "with 1 reflection, 1 tension and 0 threads to" in export_summary(one)
    assert import_summary(ImportResult("replace", "j", {"reflections": 1})).startswith(
        "Restored 1 reflection from the bundle; this is now your journal.")
    merged = ImportResult("merge", "j", {}, inserted={"reflections": 1}, duplicates={"tensions": 1},
                          conflicts={"threads": ["t"]})
    text = import_summary(merged)
    assert text == merged.summary()  # the window and the CLI say the same, in words (issue 11)
    assert "Added 1 reflection from the bundle. 1 entry was already here." in text
    assert "1 entry differs from yours and was left as you have it." in text


def test_tension_map_counts_and_empty_panel(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    from mirror_desktop.core.tensions import TensionService

    def keep_one(svc):  # type: ignore[no-untyped-def]
        ts = TensionService(svc.storage)
        ts.ensure_seeds()
        for t in svc.storage.tensions.list()[1:]:
            ts.delete_tension(t.id)

    seed(journal_dir, keep_one)
    w = make_window()
    tv = w.tension_view
    w.show_view("tensions")
    qtbot.waitUntil(lambda: len(tv.map.keys()) == 1, timeout=10000)
    assert tv.subtitle.text().startswith("1 tension on ")
    assert " axes · " in tv.subtitle.text() or " 1 axis · " in tv.subtitle.text()

    seed(journal_dir, lambda svc: [TensionService(svc.storage).delete_tension(t.id)
                                   for t in svc.storage.tensions.list()])
    tv.reload()
    qtbot.waitUntil(lambda: not tv.map.keys(), timeout=10000)
    assert tv.subtitle.text().startswith("0 tensions on ")
    assert tv.detail_name.text() == "No tensions here yet" and "New tension" in tv.detail_text.text()


def test_a_second_identity_with_the_same_name_is_refused(make_window, journal_dir, monkeypatch, qtbot):  # type: ignore[no-untyped-def]
    work = seed(journal_dir, lambda s: s.create_identity("Work self", None))
    home = seed(journal_dir, lambda s: s.create_identity("Home", None))
    w = make_window()
    answer(monkeypatch, "  work  SELF ")
    w.journal.create_identity()  # refused by the core service (issue 10), so it arrives from the executor
    qtbot.waitUntil(lambda: "already have an identity called “Work self”" in w.editor.banner.text, timeout=10000)
    answer(monkeypatch, "Work self")
    w.journal.rename_identity(home.id)
    answer(monkeypatch, "Work Self")  # a new spelling of its own name is fine
    with qtbot.waitSignal(w.client.identities_changed, timeout=10000):
        w.journal.rename_identity(work.id)
    names = sorted(i.name for i in read(journal_dir, lambda s: s.list_identities()))
    assert names == ["Home", "Work Self"]


def test_search_in_an_empty_journal_says_there_is_nothing_yet(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    from mirror_desktop.ui.journal.search_panel import NOTHING_WRITTEN

    w = make_window()
    w.start_search()
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.box.setText("river")
        w.search.run_now()
    assert w.search.message.text() == NOTHING_WRITTEN
    seed(journal_dir, lambda s: s.save_reflection("A quiet walk by the sea."))
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.run_now()
    assert w.search.message.text().startswith("Nothing matches.")


def test_a_thread_created_from_the_sidebar_opens(make_window, qtbot, monkeypatch):  # type: ignore[no-untyped-def]
    w = make_window()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Moving house", True)))
    w.journal.create_thread()
    qtbot.waitUntil(lambda: w.view == "threads" and w.journal._current_thread is not None, timeout=10000)
    assert w.timeline_model.rowCount() == 0


@pytest.mark.parametrize("size", [(820, 560), (1280, 800)])
def test_the_editors_top_row_never_clips_or_overlaps(make_window, journal_dir, qtbot, size):  # type: ignore[no-untyped-def]
    """Issue 11: at 820×560 the identity, visibility, tags, threads and preview controls were squeezed into each
    other; now they wrap into two rows and each keeps the width its text needs."""
    seed(journal_dir, lambda s: s.create_identity("Everyday me", None))
    w = make_window()
    w.resize(*size)
    w.new_action.trigger()
    qtbot.wait(100)
    e = w.editor
    controls = [e.identity_combo, e.visibility_combo, e.tags_edit, e.threads_button, e.preview_button]
    rects = [c.geometry().translated(c.parentWidget().mapTo(e, c.parentWidget().rect().topLeft())) for c in controls]
    for c, r in zip(controls, rects):
        assert c.isVisible() and e.rect().contains(r), type(c).__name__
    for c in (e.identity_combo, e.visibility_combo, e.threads_button, e.preview_button):
        assert c.width() >= c.sizeHint().width() or c is e.identity_combo and c.width() >= c.minimumSizeHint().width()
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b)


def test_the_status_bar_counts_anonymous_with_the_identities_it_lists(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """Issue 11: a new journal said "0 identities" beside a sidebar that lists Anonymous."""
    w = make_window()
    qtbot.waitUntil(lambda: "identit" in w.counts_label.text(), timeout=10000)
    assert "1 identity" in w.counts_label.text() and "0 identities" not in w.counts_label.text()
    seed(journal_dir, lambda s: s.create_identity("Work self", None))
    w.journal._load_stats()
    qtbot.waitUntil(lambda: "2 identities" in w.counts_label.text(), timeout=10000)
