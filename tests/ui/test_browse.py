"""Identity filter, search, thread timeline and reorder, and the models' contracts."""

from __future__ import annotations

from datetime import datetime, timedelta, UTC

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from mirror_desktop.core import models as m
from mirror_desktop.ui.journal.models.reflection_list import IdentityRole, IdRole, ReflectionListModel, TagsRole
from mirror_desktop.ui.journal.models.search_results import ReflectionIdRole, SnippetHtmlRole
from ui_helpers import read, seed

Mode = QAbstractItemModelTester.FailureReportingMode


def _journal(svc):  # type: ignore[no-untyped-def]
    work = svc.create_identity("Work self", "#4c7fd9")
    home = svc.create_identity("Personal self", "#d9774c")
    ids = {"work": [], "home": [], "anon": []}
    for i in range(3):
        ids["work"].append(svc.save_reflection(f"Work note {i} about the river project", identity_id=work.id).id)
    for i in range(2):
        ids["home"].append(svc.save_reflection(f"Home note {i}, a walk by the river <b>bold</b>", identity_id=home.id).id)
    ids["anon"].append(svc.save_reflection("Anonymous note: nobody asked").id)
    return work, home, ids


def _rows(model):  # type: ignore[no-untyped-def]
    return [model.index(r, 0) for r in range(model.rowCount())]


def test_identity_switcher_filters_the_list(make_window, journal_dir, qtbot):
    work, home, ids = seed(journal_dir, _journal)
    w = make_window()
    assert w.list_model.rowCount() == 6
    names = [w.identity_model.index(r, 0).data() for r in range(w.identity_model.rowCount())]
    assert names == ["All reflections", "Personal self", "Work self", "Anonymous"]
    with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=10000):
        w.journal.select_identity(work.id)
    assert {i.data(IdentityRole) for i in _rows(w.list_model)} == {work.id}
    assert w.list_model.rowCount() == 3
    with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=10000):
        w.journal.select_identity(None, anonymous=True)
    assert [i.data(IdentityRole) for i in _rows(w.list_model)] == [None]
    # The search filter follows the switcher.
    assert w.search.filters().anonymous_only


def test_deleting_an_identity_keeps_its_reflections_as_anonymous(make_window, journal_dir, qtbot):
    work, home, ids = seed(journal_dir, _journal)
    w = make_window()
    text = w.journal.confirm_delete_identity_text(work, 3)
    assert "3 reflections will be kept as Anonymous" in text
    with qtbot.waitSignal(w.client.identity_deleted, timeout=10000) as deleted:
        w.client.delete_identity(work.id)
    assert deleted.args == [work.id, 3]
    assert read(journal_dir, lambda s: s.count_reflections(m.SearchFilters(anonymous_only=True))) == 4
    qtbot.waitUntil(lambda: w.identity_model.rowCount() == 3, timeout=10000)


def test_new_identity_appears_in_switcher_and_editor(make_window, qtbot):
    w = make_window()
    with qtbot.waitSignal(w.client.identities_changed, timeout=10000):
        w.client.create_identity("Parent", "#33aa77")
    qtbot.waitUntil(lambda: w.identity_model.rowCount() == 3, timeout=10000)
    assert w.editor.identity_combo.findText("Parent") > 0


def test_search_while_typing_highlights_and_opens(make_window, journal_dir, qtbot):
    work, home, ids = seed(journal_dir, _journal)
    w = make_window()
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.view == "search"
    with qtbot.waitSignal(w.search.results_shown, timeout=10000, check_params_cb=lambda n: n > 0):
        qtbot.keyClicks(w.search.box, "river")
    snippets = [i.data(SnippetHtmlRole) for i in _rows(w.search.model)]
    assert len(snippets) == 5
    assert all("<b>river</b>" in s for s in snippets)
    assert any("&lt;b&gt;bold&lt;/b&gt;" in s for s in snippets)  # what people wrote is escaped
    target = w.search.model.index(0, 0).data(ReflectionIdRole)
    w.search.results.activated.emit(w.search.model.index(0, 0))
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == target and "river" in w.editor.content(), timeout=10000)
    qtbot.keyClick(w.search.box, Qt.Key.Key_Escape)
    assert w.view == "reflections"


def test_search_filters(make_window, journal_dir, qtbot):
    work, home, ids = seed(journal_dir, _journal)
    w = make_window()
    w.start_search()
    w.search.identity_filter.setCurrentIndex(w.search.identity_filter.findData(home.id))
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.box.setText("river")
    assert w.search.model.rowCount() == 2
    tomorrow = datetime.now().astimezone() + timedelta(days=1)
    w.search.since.setDate(w.search.since.date().fromString(tomorrow.strftime("%Y-%m-%d"), "yyyy-MM-dd"))
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.since_check.setChecked(True)
    assert w.search.model.rowCount() == 0
    assert "Nothing matches" in w.search.message.text()


def _thread_journal(svc):  # type: ignore[no-untyped-def]
    base = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)
    rs = []
    for n, days in enumerate((0, 3, 10)):
        r = m.Reflection(content=f"Step {n} of the move", created_at=base + timedelta(days=days))
        rs.append(svc.storage.reflections.create(r).id)
    t = svc.create_thread("Leaving the city?")
    svc.add_to_threads(rs[0], [t.id])
    svc.add_to_threads(rs[1], [t.id])
    svc.add_to_threads(rs[2], [t.id])
    return t, rs


def test_thread_timeline_shows_order_and_gaps(make_window, journal_dir, qtbot):
    t, rs = seed(journal_dir, _thread_journal)
    w = make_window()
    qtbot.waitUntil(lambda: w.thread_model.rowCount() == 1, timeout=10000)
    with qtbot.waitSignal(w.journal.timeline_loaded, timeout=10000):
        w.journal.show_thread(t.id)
    assert w.view == "threads"
    assert w.timeline_model.reflection_ids() == rs
    from mirror_desktop.ui.journal.models.threads import GapRole

    gaps = [w.timeline_model.index(r, 0).data(GapRole) for r in range(3)]
    assert gaps == ["", "3 days later", "7 days later"]


def test_thread_reorder_is_persisted(make_window, journal_dir, qtbot):
    t, rs = seed(journal_dir, _thread_journal)
    w = make_window()
    with qtbot.waitSignal(w.journal.timeline_loaded, timeout=10000):
        w.journal.show_thread(t.id)
    with qtbot.waitSignal(w.client.thread_reordered, timeout=10000):
        assert w.timeline_model.moveRows(QModelIndex(), 2, 1, QModelIndex(), 0)
    assert w.timeline_model.reflection_ids() == [rs[2], rs[0], rs[1]]
    stored = read(journal_dir, lambda s: [r.id for _l, r in s.thread_timeline(t.id)])
    assert stored == [rs[2], rs[0], rs[1]]


def test_add_and_remove_a_reflection_from_threads(make_window, journal_dir, qtbot):
    def data(svc):  # type: ignore[no-untyped-def]
        r = svc.save_reflection("Something to follow")
        return r, svc.create_thread("One"), svc.create_thread("Two")

    r, one, two = seed(journal_dir, data)
    w = make_window()
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id and w.thread_model.rowCount() == 2, timeout=10000)
    def act(title):  # type: ignore[no-untyped-def]  # the menu is rebuilt when threads change
        return next(a for a in w.editor.threads_menu.actions() if a.isCheckable() and a.text() == title)

    with qtbot.waitSignal(w.client.thread_membership_changed, timeout=10000):
        act("One").setChecked(True)
    qtbot.waitUntil(lambda: act("One").isChecked(), timeout=10000)
    with qtbot.waitSignal(w.client.thread_membership_changed, timeout=10000):
        act("Two").setChecked(True)
    assert sorted(read(journal_dir, lambda s: s.threads_of(r.id))) == sorted([one.id, two.id])
    qtbot.waitUntil(lambda: act("One").isChecked() and act("Two").isChecked(), timeout=10000)
    with qtbot.waitSignal(w.client.thread_membership_changed, timeout=10000):
        act("One").setChecked(False)
    assert read(journal_dir, lambda s: s.threads_of(r.id)) == [two.id]


def test_thread_status_changes(make_window, journal_dir, qtbot):
    t = seed(journal_dir, lambda s: s.create_thread("Sleep"))
    w = make_window()
    with qtbot.waitSignal(w.client.threads_changed, timeout=10000):
        w.client.update_thread(t.id, status="paused")
    qtbot.waitUntil(lambda: "paused" in (w.thread_model.index(0, 0).data() or ""), timeout=10000)
    assert str(read(journal_dir, lambda s: s.list_threads()[0].status)) == "paused"


def test_models_pass_the_model_tester(make_window, journal_dir, qtbot):
    seed(journal_dir, _journal)
    t, rs = seed(journal_dir, _thread_journal)
    w = make_window()
    testers = [QAbstractItemModelTester(model, Mode.Warning) for model in
               (w.list_model, w.identity_model, w.thread_model, w.timeline_model, w.search.model)]
    with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=10000):
        w.journal.select_identity(None, anonymous=True)
    with qtbot.waitSignal(w.journal.timeline_loaded, timeout=10000):
        w.journal.show_thread(t.id)
    with qtbot.waitSignal(w.client.thread_reordered, timeout=10000):
        w.timeline_model.moveRows(QModelIndex(), 0, 1, QModelIndex(), 3)
    w.start_search()
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.box.setText("note")
    assert testers  # failures surface as Qt warnings, which fail the test


def seed_entries(journal_dir, n: int) -> None:  # type: ignore[no-untyped-def]
    """``Entry 0`` … ``Entry n-1``, an hour apart, the last the newest."""
    def many(svc):  # type: ignore[no-untyped-def]
        base = datetime(2020, 1, 1, tzinfo=UTC)
        with svc.storage.transaction():
            for i in range(n):
                svc.storage.reflections.create(m.Reflection(content=f"Entry {i}", created_at=base + timedelta(hours=i)))

    seed(journal_dir, many)


def test_list_pages_through_a_long_journal(make_window, journal_dir, qtbot):
    seed_entries(journal_dir, 450)
    w = make_window()
    model = ReflectionListModel(w.client, page_size=100)
    tester = QAbstractItemModelTester(model, Mode.Warning)
    with qtbot.waitSignal(model.first_page_loaded, timeout=10000):
        model.set_filters(m.SearchFilters())
    assert model.rowCount() == 100
    while model.has_more:
        n = model.rowCount()
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: model.rowCount() > n or not model.has_more, timeout=10000)
    assert model.rowCount() == 450
    titles = [model.index(r, 0).data() for r in (0, 449)]
    assert titles == ["Entry 449", "Entry 0"]  # newest first
    assert tester


def test_views_switch_by_keyboard(make_window, qtbot):
    w = make_window()
    for key, view in ((Qt.Key.Key_2, "threads"), (Qt.Key.Key_3, "tensions"), (Qt.Key.Key_1, "reflections")):
        qtbot.keyClick(w, key, Qt.KeyboardModifier.ControlModifier)
        assert w.view == view
    assert w.export_action.isEnabled() and w.import_action.isEnabled() and w.reflect_action.isEnabled()
    assert "Data folder" in w.about_text()


def test_settings_restore_view_and_splitter(make_window, journal_dir, qtbot):
    w = make_window()
    w.show_view("threads")
    w.splitter.setSizes([200, 500, 400])
    sizes = w.splitter.sizes()
    w.close()
    w2 = make_window()
    assert w2.view == "threads"
    assert w2.splitter.sizes() == sizes


def test_end_in_the_list_jumps_to_the_oldest_reflection(make_window, journal_dir, qtbot):
    """Issue 11: End loaded only the next page; now it selects the oldest reflection of a 1,450-entry list."""
    seed_entries(journal_dir, 1450)
    w = make_window()
    assert w.list_model.rowCount() == 200
    w.list_view.setFocus()
    qtbot.keyClick(w.list_view, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: w.list_view.currentIndex().row() == 1449, timeout=15000)
    assert w.list_view.currentIndex().data() == "Entry 0"
    assert len({w.list_model.index(r, 0).data(IdRole) for r in range(w.list_model.rowCount())}) == 1450
    qtbot.waitUntil(lambda: w.editor.content() == "Entry 0", timeout=10000)  # and it opened


def test_tags_show_in_the_list_rows(make_window, journal_dir, qtbot):
    """Issue 11: tags went in and never came out; a row says them beside its date and word count."""
    from mirror_desktop.ui.format import row_meta

    seed(journal_dir, lambda s: s.save_reflection("Slept badly again.", reflection_id="t1", identity_id=None,
                                                  visibility="local_only", tags=["sleep", "work"], draft_id=None))
    w = make_window()
    idx = w.list_model.index(0, 0)
    assert idx.data(TagsRole) == ["sleep", "work"]
    assert idx.data(Qt.ItemDataRole.ToolTipRole).endswith("·  3 words  ·  #sleep #work")
    assert row_meta("Fri 30 Oct", 1, ["a b"]) == "Fri 30 Oct  ·  1 word  ·  #a b"


def test_search_results_are_counted_and_can_be_read_by_date(make_window, journal_dir, qtbot):
    """Issue 11: results showed no count and could not be sorted by date."""
    def three(svc):  # type: ignore[no-untyped-def]
        base = datetime(2024, 1, 1, tzinfo=UTC)
        for i, text in enumerate(["river river river walk", "a river at dawn", "the old river path"]):
            svc.storage.reflections.create(m.Reflection(content=text, created_at=base + timedelta(days=i)))

    seed(journal_dir, three)
    w = make_window()
    w.start_search()
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.box.setText("river")
        w.search.run_now()
    assert w.search.count_label.text() == "3 reflections match"
    titles = lambda: [w.search.model.index(r, 0).data() for r in range(w.search.model.rowCount())]  # noqa: E731
    w.search.sort.setCurrentIndex(w.search.sort.findData("newest"))
    assert titles() == ["the old river path", "a river at dawn", "river river river walk"]
    w.search.sort.setCurrentIndex(w.search.sort.findData("oldest"))
    assert titles() == ["river river river walk", "a river at dawn", "the old river path"]
    with qtbot.waitSignal(w.search.results_shown, timeout=10000):
        w.search.box.setText("dawn")
        w.search.run_now()
    assert w.search.count_label.text() == "1 reflection matches"
