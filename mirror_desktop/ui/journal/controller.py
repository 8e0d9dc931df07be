"""JournalController: the journal feature of the window — identities, threads, the reflection list and editor.

It owns the feature's models and widgets (sidebar, list page, thread timeline, search panel, editor,
autosave) and wires them to the JournalClient, the feature's one road to the database. It decides what
each view shows; the rules (what may be saved, which names are taken) live in core services and come
back as one sentence through ``operation_failed``. MainWindow places these widgets and connects the
signals below to the other features.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QInputDialog,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import NotFoundError
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.journal.delegates import ReflectionDelegate
from mirror_desktop.ui.journal.models import identities as im
from mirror_desktop.ui.journal.models.reflection_list import IdRole, ReflectionListModel
from mirror_desktop.ui.journal.models.threads import ThreadListModel, ThreadTimelineModel
from mirror_desktop.ui.lazy import BuiltOnFirstRead, is_built
from mirror_desktop.ui.theme import named
from mirror_desktop.workers.journal import JournalClient

if TYPE_CHECKING:
    from mirror_desktop.ui.journal.attachments import EditorAttachments
    from mirror_desktop.ui.journal.autosave import AutosaveController
    from mirror_desktop.ui.journal.editor import ReflectionEditor
    from mirror_desktop.ui.journal.sidebar import Sidebar
    from mirror_desktop.ui.journal.search_panel import SearchPanel
    from mirror_desktop.ui.journal.thread_timeline import ThreadTimelineView


LAST_IDENTITY = "journal/last_identity"


class JournalController(QObject):
    """Identities, threads, reflections and drafts: the state of the journal views and their intents.

    Signals:
        journal_loaded(): the first page, the identities and the threads are all shown.
        timeline_loaded(str): a thread's timeline is on screen; payload is the thread id.
        drafts_found(int): unsaved drafts from an earlier session exist; payload is how many.
        identity_changed(object, bool): the identity switcher moved; (identity id or None, anonymous).
        reflection_opened(object): the editor now shows this reflection id (None: a new, unsaved page).
        view_requested(str): a view should come to the front (e.g. "threads" after opening a thread).
        status_message(str): a short fact for the status bar.
        page_built(str, QWidget): the "search" or "threads" page was built (first read); the window places it.
        rest_built(): the sidebar, the editor and autosave were built (build_rest); the window places them.
    """

    journal_loaded = Signal()
    timeline_loaded = Signal(str)
    drafts_found = Signal(int)
    identity_changed = Signal(object, bool)
    reflection_opened = Signal(object)
    view_requested = Signal(str)
    status_message = Signal(str)
    page_built = Signal(str, QWidget)
    rest_built = Signal()

    # Pages a person may not open this session, built the first time they are read (issue 12: start-up).
    search: SearchPanel = cast(Any, BuiltOnFirstRead("_build_search"))
    timeline: ThreadTimelineView = cast(Any, BuiltOnFirstRead("_build_timeline"))
    # The first frame is the list; these follow its first paint (build_rest).
    sidebar: Sidebar = cast(Any, BuiltOnFirstRead("build_rest"))
    editor: ReflectionEditor = cast(Any, BuiltOnFirstRead("build_rest"))
    autosave: AutosaveController = cast(Any, BuiltOnFirstRead("build_rest"))
    editor_attachments: EditorAttachments = cast(Any, BuiltOnFirstRead("build_rest"))

    def __init__(self, client: JournalClient, window: QWidget, settings: QSettings | None = None) -> None:
        super().__init__(window)
        self.client = client
        self.window = window
        self.settings = settings
        self.is_open = False
        self._loaded = False
        self._arrived: set[str] = set()
        self._identity: tuple[str, str | None] = (im.ALL, None)
        self._open_token = 0  # the newest request for the editor's page (open_reflection, new_reflection)
        self._tag: str | None = None  # the tag browser's filter (issue 16)
        self._current_thread: str | None = None
        self._drafts: list[m.Draft] = []
        self._stats: dict[str, int] = {}
        self._prefetched = False
        self._threads: list[m.Thread] = []  # in the store's order, as the search panel lists them

        self._early_page: int | None = None  # rows of a first page that arrived before journal_opened

        self.identity_model = im.IdentityListModel(self)
        self.thread_model = ThreadListModel(self)
        self.list_model = ReflectionListModel(client, parent=self)
        self.timeline_model = ThreadTimelineModel(self)
        self.reflection_page = self._build_reflection_page()
        self.counts_label = QLabel("")  # the window shows it in its status bar
        self.list_model.first_page_loaded.connect(self._page_loaded)
        self.list_model.page_failed.connect(self._page_failed)
        self.list_model.rowsInserted.connect(self._update_list_state)
        self.list_model.rowsRemoved.connect(self._update_list_state)
        self.list_model.modelReset.connect(self._update_list_state)
        self.list_view.selectionModel().currentChanged.connect(self._list_current)
        self.list_view.customContextMenuRequested.connect(self._list_menu)
        self.list_view.installEventFilter(self)

    def build_rest(self) -> None:
        """The sidebar, the editor and its autosave: built after the list's first paint (the window's
        finish_build, before it hands the opened journal to journal_opened), or when one of them is first read."""
        if is_built(self, "editor"):
            return
        client = self.client
        from mirror_desktop.ui.journal.attachments import EditorAttachments  # issue 15
        from mirror_desktop.ui.journal.autosave import AutosaveController
        from mirror_desktop.ui.journal.editor import ReflectionEditor
        from mirror_desktop.ui.journal.sidebar import Sidebar

        self.editor = ReflectionEditor()
        self.sidebar = Sidebar(self.identity_model, self.thread_model)
        self.autosave = AutosaveController(client, self.editor, self)
        self.editor_attachments = EditorAttachments(client.executor, self.editor, self.autosave, self)
        self._connect()
        self.rest_built.emit()

    def _page_loaded(self, rows: int) -> None:
        if self.is_open:
            self._first_page(rows)
        else:
            self._early_page = rows  # the list shows it now; selecting its first row waits for journal_opened

    def _connect(self) -> None:
        c = self.client
        c.reflection_saved.connect(self._reflection_saved)
        c.reflection_deleted.connect(self._reflection_deleted)
        c.identities_changed.connect(self._load_identities)
        c.identity_deleted.connect(self._identity_deleted)
        c.threads_changed.connect(self._load_threads)
        c.thread_membership_changed.connect(self._membership_changed)
        c.operation_failed.connect(self._show_error)
        self.timeline_model.order_changed.connect(self._timeline_reordered)
        sb = self.sidebar
        sb.identity_selected.connect(self._identity_selected)
        sb.identity_create_requested.connect(self.create_identity)
        sb.identity_rename_requested.connect(self.rename_identity)
        sb.identity_color_requested.connect(self.recolor_identity)
        sb.identity_delete_requested.connect(self.delete_identity)
        sb.thread_selected.connect(self.show_thread)
        sb.thread_create_requested.connect(self.create_thread)
        sb.thread_rename_requested.connect(self.rename_thread)
        sb.thread_status_requested.connect(self.set_thread_status)
        self.editor.thread_toggled.connect(self._thread_toggled)
        self.editor.new_thread_requested.connect(self._new_thread_for_editor)
        self.reflection_opened.connect(self.editor_attachments.reflection_opened)
        self.editor.conflict_open_requested.connect(self.open_reflection)
        self.editor.delete_requested.connect(lambda _rid: self.delete_current_reflection())

    # -- pages built on first read ------------------------------------------------------------
    def _build_search(self) -> None:
        from mirror_desktop.ui.journal.search_panel import SearchPanel

        panel = SearchPanel(self.client)
        panel.reflection_activated.connect(self.open_reflection)
        panel.set_identities(self.identity_model.identities)
        panel.set_threads(self._threads)
        kind, ident = self._identity
        panel.set_identity_filter(ident if kind == im.IDENTITY else None, kind == im.ANONYMOUS)
        self.search = panel
        self.page_built.emit("search", panel)

    def _build_timeline(self) -> None:
        from mirror_desktop.ui.journal.thread_timeline import ThreadTimelineView

        view = ThreadTimelineView(self.timeline_model)
        view.reflection_activated.connect(self.open_reflection)
        view.remove_requested.connect(self.client.remove_from_thread)
        view.rename_requested.connect(self.rename_thread)
        view.status_requested.connect(self.set_thread_status)
        view.set_has_threads(self.thread_model.rowCount() > 0)
        view.show_thread(self.thread_model.find_thread(self._current_thread) if self._current_thread else None)
        self.timeline = view
        self.page_built.emit("threads", view)

    # -- opening -------------------------------------------------------------------------
    def prefetch_first_page(self) -> None:
        """Ask for the first page while the journal is still opening (the executor has started): it runs right
        after the open, while the window is still being built, and is there when the window is (issue 12).
        An executor that looks ahead (``peek``) reads it before the open instead: it comes through ``peeked``."""
        ex = self.client.executor
        if ex.peeking:
            ex.peeked.connect(self.list_model.take_first_page)
        self.list_model.set_filters(SearchFilters(), first_page_coming=ex.peeking)
        self._prefetched = True

    def journal_opened(self) -> None:
        """The executor opened the journal (or an import replaced it): load every view's first state."""
        self.is_open = True
        # The first page goes first on the serial executor: it is what the person is waiting to see.
        if self._prefetched and self._identity == (im.ALL, None) and not self._tag:
            self._update_list_title()  # the page asked for at start-up is on its way, or already shown
            self._update_subtitle()
        else:
            self._apply_identity_filter()
        self._prefetched = False
        self._load_identities()
        self._load_threads()
        self._load_stats()
        self.client.read(lambda s: s.pending_drafts(), self._drafts_loaded)
        self.editor.new_reflection(None)
        self.autosave.reset()
        kind, ident = self._identity
        self.identity_changed.emit(ident if kind == im.IDENTITY else None, kind == im.ANONYMOUS)
        if self._early_page is not None:  # the page asked for at start-up arrived before the open was handled
            rows, self._early_page = self._early_page, None
            self._first_page(rows)

    def reload_identities(self) -> None:
        """Identities and counts again (a sync brought an identity from another device)."""
        self._load_identities()
        self._load_stats()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """End (and Ctrl+End) in the list jumps to the oldest reflection, not only to the last page loaded."""
        if watched is self.list_view and event.type() == QEvent.Type.KeyPress \
                and cast(QKeyEvent, event).key() == Qt.Key.Key_End:
            self.jump_to_oldest()
            return True
        return super().eventFilter(watched, event)

    def jump_to_oldest(self) -> None:
        def show_last() -> None:
            last = self.list_model.rowCount() - 1
            if last >= 0:
                self.list_view.setCurrentIndex(self.list_model.index(last, 0))
                self.list_view.scrollToBottom()

        self.list_model.fetch_all(show_last)

    def set_thread_status(self, thread_id: str, status: str) -> None:
        self.client.update_thread(thread_id, status=status)

    def _build_reflection_page(self) -> QWidget:
        page = named(QWidget(), "reflectionsPage")
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = named(QWidget(), "viewHeader")
        hl = QVBoxLayout(head)
        hl.setContentsMargins(16, 14, 16, 10)
        self.list_title = named(QLabel("All reflections"), "viewTitle")
        self.list_subtitle = named(QLabel("Opening your journal…"), "muted")
        hl.addWidget(self.list_title)
        hl.addWidget(self.list_subtitle)
        lay.addWidget(head)
        self.list_stack = QStackedWidget()
        self.list_view = named(QListView(), "reflectionList")
        self.list_view.setModel(self.list_model)
        self.list_view.setItemDelegate(ReflectionDelegate(self.list_view))
        self.list_view.setUniformItemSizes(True)
        self.list_view.setFrameShape(QListView.Shape.NoFrame)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_empty = named(QLabel(""), "emptyState")
        self.list_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_empty.setWordWrap(True)
        self.list_stack.addWidget(self.list_view)
        self.list_stack.addWidget(self.list_empty)
        lay.addWidget(self.list_stack, 1)
        return page

    def _first_page(self, rows: int) -> None:
        self._update_list_state()
        if not self._loaded and "page" not in self._arrived:
            if rows:
                first = self.list_model.index(0, 0)
                if self.list_view.currentIndex() == first:  # current already (the focus made it so): open it
                    self._list_current(first, QModelIndex())
                else:
                    self.list_view.setCurrentIndex(first)
            self._arrive("page")

    def _arrive(self, part: str) -> None:
        """journal_loaded fires once the first page, the identities and the threads are all shown."""
        self._arrived.add(part)
        if not self._loaded and {"page", "identities", "threads"} <= self._arrived:
            self._loaded = True
            self.journal_loaded.emit()

    def _update_list_state(self, *_: Any) -> None:
        n = self.list_model.rowCount()
        if n == 0 and self.is_open:
            kind = self._identity[0]
            self.list_empty.setText(
                "Nothing written here yet.\n\nPress Ctrl+N and write whatever is on your mind;\nMirror keeps it on this device."
                if kind == im.ALL else "No reflections for this identity yet.\nPress Ctrl+N to write one.")
            self.list_stack.setCurrentWidget(self.list_empty)
        else:
            self.list_stack.setCurrentWidget(self.list_view)

    def _load_stats(self) -> None:
        self.client.read(lambda s: s.journal_stats(), self._stats_loaded, lambda _e: None)

    def _stats_loaded(self, stats: dict[str, int]) -> None:
        self._stats = stats
        self.counts_label.setText("  ·  ".join([
            fmt.plural(stats.get("reflections", 0), "reflection"),
            # Anonymous is listed in the sidebar with the others, so it is counted with them ("0 identities" read
            # as a contradiction beside it, issue 11).
            fmt.plural(stats.get("identities", 0) + 1, "identity", "identities"),
            fmt.plural(stats.get("threads", 0), "thread"),
        ]))
        self._update_subtitle()

    def set_tag_filter(self, tag: str | None) -> None:
        """The tag browser's click: the list shows only reflections with ``tag`` (None: all of them)."""
        if tag != self._tag:
            self._tag = tag
            self._apply_identity_filter()

    def _update_subtitle(self) -> None:
        kind, ident_id = self._identity
        if kind == im.ALL and not self._tag:
            n = self._stats.get("reflections")
            self.list_subtitle.setText("Newest first" + (f"  ·  {fmt.plural(n, 'reflection')}" if n else ""))
        else:
            filters = self.list_model.filters
            self.client.read(lambda s: s.count_reflections(filters),
                             lambda n: self.list_subtitle.setText(f"Newest first  ·  {fmt.plural(n, 'reflection')}"),
                             lambda _e: None)

    def _load_identities(self) -> None:
        self.client.read(lambda s: s.list_identities(), self._identities_loaded)

    def _identities_loaded(self, identities: list[m.Identity]) -> None:
        kind, ident = self._identity
        self.identity_model.set_identities(identities)
        if kind == im.IDENTITY and self.identity_model.identity(ident) is None:
            kind, ident = im.ALL, None
        self.sidebar.identities.blockSignals(True)
        self.sidebar.identities.selectionModel().blockSignals(True)
        self.sidebar.select_identity_row(self.identity_model.row_for(kind, ident))
        self.sidebar.identities.selectionModel().blockSignals(False)
        self.sidebar.identities.blockSignals(False)
        self.sidebar.identities.viewport().update()
        self.editor.set_identities(identities)
        if not self.editor.is_saved_reflection and not self.editor.content().strip():
            self.editor.set_identity(self.default_identity())  # a blank page, opened before the names arrived
        if is_built(self, "search"):
            self.search.set_identities(identities)
        self._update_list_title()
        self._load_stats()
        self._arrive("identities")

    def _identity_selected(self, kind: str, identity_id: str | None) -> None:
        if (kind, identity_id) == self._identity:
            return
        self._identity = (kind, identity_id)
        self._apply_identity_filter()
        self._load_threads()
        if is_built(self, "search"):
            self.search.set_identity_filter(identity_id, kind == im.ANONYMOUS)
        self.identity_changed.emit(identity_id, kind == im.ANONYMOUS)

    def select_identity(self, identity_id: str | None, anonymous: bool = False) -> None:
        """Switch every view to one identity (None and not anonymous: All)."""
        kind = im.ANONYMOUS if anonymous else (im.IDENTITY if identity_id else im.ALL)
        self.sidebar.select_identity_row(self.identity_model.row_for(kind, identity_id))

    def _apply_identity_filter(self) -> None:
        kind, ident = self._identity
        self.list_model.set_filters(SearchFilters(identity_id=ident if kind == im.IDENTITY else None,
                                                  anonymous_only=kind == im.ANONYMOUS,
                                                  tags=(self._tag,) if self._tag else ()))
        self._update_list_title()
        self._update_subtitle()

    def _update_list_title(self) -> None:
        kind, ident = self._identity
        if kind == im.ALL:
            self.list_title.setText("All reflections")
        elif kind == im.ANONYMOUS:
            self.list_title.setText("Anonymous")
        else:
            i = self.identity_model.identity(ident)
            self.list_title.setText(i.name if i else "Reflections")
        if self._tag:
            self.list_title.setText(f"{self.list_title.text()}  ·  #{self._tag}")

    def create_identity(self) -> None:
        name, ok = QInputDialog.getText(self.window, "New identity", "Name (for example: work self, personal self):")
        if ok and name.strip():
            # identities_changed queues a reload of the list; a no-op read queued after it returns once the
            # new identity is in the sidebar, where it can be selected (selecting at once found no row).
            def created(ident: m.Identity) -> None:
                self.client.read(lambda _s: None, lambda _r: self.select_identity(ident.id))

            self.client.create_identity(name.strip(), None, created)

    def rename_identity(self, identity_id: str) -> None:
        ident = self.identity_model.identity(identity_id)
        if ident is None:
            return
        name, ok = QInputDialog.getText(self.window, "Rename identity", "Name:", text=ident.name)
        if ok and name.strip():
            self.client.update_identity(identity_id, name=name.strip())

    def recolor_identity(self, identity_id: str) -> None:
        ident = self.identity_model.identity(identity_id)
        if ident is None:
            return
        color = QColorDialog.getColor(QColor(ident.color or "#5b8def"), self.window, f"Colour for {ident.name}")
        if color.isValid():
            self.client.update_identity(identity_id, color=color.name())

    def delete_identity(self, identity_id: str) -> None:
        ident = self.identity_model.identity(identity_id)
        if ident is None:
            return
        filters = SearchFilters(identity_id=identity_id)
        self.client.read(lambda s: s.count_reflections(filters), lambda n: self._confirm_delete_identity(ident, n))

    def confirm_delete_identity_text(self, ident: m.Identity, n: int) -> str:
        return (f"Delete the identity “{ident.name}”? Its {fmt.plural(n, 'reflection')} will be kept as Anonymous "
                "and stay only on this device.")

    def _confirm_delete_identity(self, ident: m.Identity, n: int) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Delete identity", self.confirm_delete_identity_text(ident, n),
                          QMessageBox.StandardButton.Cancel, self.window)
        delete = box.addButton("Delete identity", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is delete:
            self.client.delete_identity(ident.id)

    def _identity_deleted(self, identity_id: str, kept: int) -> None:
        if self._identity == (im.IDENTITY, identity_id):
            self._identity = (im.ALL, None)
        self._apply_identity_filter()
        self.status_message.emit(f"Identity deleted; {fmt.plural(kept, 'reflection')} kept as Anonymous.")

    def _load_threads(self) -> None:
        kind, ident = self._identity
        if kind == im.IDENTITY:
            # An identity's threads and the unattached ones (threads without an identity serve all).
            fn = lambda s: [t for t in s.list_threads() if t.identity_id in (ident, None)]  # noqa: E731
        elif kind == im.ANONYMOUS:
            fn = lambda s: s.list_threads(anonymous_only=True)  # noqa: E731
        else:
            fn = lambda s: s.list_threads()  # noqa: E731
        self.client.read(fn, self._threads_loaded)

    def _threads_loaded(self, threads: list[m.Thread]) -> None:
        current = self._current_thread
        sel = self.sidebar.threads.selectionModel()
        sel.blockSignals(True)
        self.thread_model.set_threads(threads)
        row = self.thread_model.row_of(current) if current else -1
        if row >= 0:
            self.sidebar.threads.setCurrentIndex(self.thread_model.index(row, 0))
        sel.blockSignals(False)
        self.editor.set_threads(threads)
        self._threads = threads
        if is_built(self, "search"):
            self.search.set_threads(threads)
        t = self.thread_model.find_thread(current) if current else None
        if current and t is None:  # the thread shown was deleted
            self._current_thread = None
            self.timeline_model.set_timeline(None, [])
        if is_built(self, "timeline"):
            self.timeline.set_has_threads(bool(threads))
            if current:
                self.timeline.show_thread(t)
        self._load_stats()
        self._arrive("threads")

    def show_thread(self, thread_id: str) -> None:
        self._current_thread = thread_id
        self.view_requested.emit("threads")
        self._load_timeline(thread_id)

    def _load_timeline(self, thread_id: str) -> None:
        self.client.query(lambda s: s.thread_timeline(thread_id), lambda rows: self._timeline_arrived(thread_id, rows))

    def _timeline_arrived(self, thread_id: str, rows: list[Any]) -> None:
        if thread_id != self._current_thread:
            return
        self.timeline_model.set_timeline(thread_id, rows)
        self.timeline.show_thread(self.thread_model.find_thread(thread_id))
        self.timeline_loaded.emit(thread_id)

    def _timeline_reordered(self, thread_id: str, ids: list[str]) -> None:
        self.client.reorder_thread(thread_id, ids, on_error=lambda _e: self._load_timeline(thread_id))

    def _membership_changed(self, thread_id: str) -> None:
        if thread_id == self._current_thread:
            self._load_timeline(thread_id)

    def create_thread(self, then_add: str | None = None) -> None:
        title, ok = QInputDialog.getText(self.window, "New thread", "What does this thread follow?")
        if not ok or not title.strip():
            return
        kind, ident = self._identity

        def created(t: m.Thread) -> None:
            if then_add:
                self.client.add_to_threads(then_add, [t.id])
                self.editor.state.thread_ids.add(t.id)
            else:
                self.show_thread(t.id)  # from the sidebar: open the new, empty thread

        self.client.create_thread(title.strip(), ident if kind == im.IDENTITY else None, created)

    def _new_thread_for_editor(self) -> None:
        if not self.editor.is_saved_reflection:
            self.autosave.save_now()
        self.create_thread(then_add=self.editor.state.reflection_id if self.editor.content().strip() else None)

    def rename_thread(self, thread_id: str) -> None:
        t = self.thread_model.find_thread(thread_id)
        if t is None:
            return
        title, ok = QInputDialog.getText(self.window, "Rename thread", "Title:", text=t.title or "")
        if ok and title.strip():  # an emptied field keeps the title (as renaming an identity does)
            self.client.update_thread(thread_id, title=title.strip())

    def _thread_toggled(self, thread_id: str, on: bool) -> None:
        rid = self.editor.state.reflection_id
        if not self.editor.content().strip():
            self.editor.banner.show_message("Write something first; an empty reflection cannot join a thread.",
                                            [("OK", self.editor.banner.hide)])
            self.editor.set_thread_ids(set())
            return
        if not self.editor.is_saved_reflection:
            self.autosave.save_now()  # queued first on the serial executor, so the row exists
        if on:
            self.client.add_to_threads(rid, [thread_id])
        else:
            self.client.remove_from_thread(thread_id, rid)

    def _list_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        # Before the journal is handed over (journal_opened), the first frame's list can get a current row from
        # the focus alone; _first_page opens that row then, with the editor built.
        if current.isValid() and self.is_open:
            rid = current.data(IdRole)
            if rid != self.editor.state.reflection_id:
                self.open_reflection(rid)

    def open_reflection(self, reflection_id: str) -> None:
        """Load a reflection into the editor (after queueing a save of the current text)."""
        self.autosave.commit()
        self._open_token += 1
        token = self._open_token
        self.client.query(lambda s: (s.get_reflection(reflection_id), set(s.threads_of(reflection_id))),
                          lambda result: self._reflection_arrived(token, result))

    def _reflection_arrived(self, token: int, result: tuple[m.Reflection, set[str]]) -> None:
        if token != self._open_token:
            return  # a newer page was asked for (Ctrl+N, another row) before this one arrived: it wins
        r, threads = result
        self.autosave.commit()
        self.editor.load_reflection(r, threads)
        self.autosave.reset()
        self.editor.show_conflict(r)
        self.reflection_opened.emit(r.id)

    def new_reflection(self, **start: Any) -> None:
        """A new page; ``start`` may date it or fill it from a template (ReflectionEditor.new_reflection)."""
        self.autosave.commit()
        self._open_token += 1  # a reflection still on its way to the editor no longer replaces this page
        self.list_view.clearSelection()
        self.list_view.setCurrentIndex(QModelIndex())
        self.editor.new_reflection(self.default_identity(), **start)
        self.autosave.reset()
        self.reflection_opened.emit(None)

    def default_identity(self) -> str | None:
        """Who a new page is written as: the identity shown; from All reflections, the last one written as
        (kept across restarts, issue 11), never silently Anonymous; Anonymous only when Anonymous is shown."""
        kind, ident = self._identity
        if kind == im.IDENTITY:
            return ident
        if kind == im.ANONYMOUS or self.settings is None:
            return None
        last = self.settings.value(LAST_IDENTITY)
        return str(last) if last and self.identity_model.identity(str(last)) is not None else None

    def _remember_identity(self, identity_id: str | None) -> None:
        if identity_id and self.settings is not None and self.settings.value(LAST_IDENTITY) != identity_id:
            self.settings.setValue(LAST_IDENTITY, identity_id)

    def _reflection_saved(self, r: m.Reflection) -> None:
        self._remember_identity(r.identity_id)
        known = self.list_model.row_of(r.id) >= 0
        self.list_model.upsert(r)
        if r.id == self.editor.state.reflection_id:
            row = self.list_model.row_of(r.id)
            if row >= 0 and self.list_view.currentIndex().row() != row:
                sel = self.list_view.selectionModel()
                sel.blockSignals(True)
                self.list_view.setCurrentIndex(self.list_model.index(row, 0))
                sel.blockSignals(False)
                self.list_view.viewport().update()
        if not known:
            self._load_stats()
        if self._current_thread and self.timeline_model.thread_id == self._current_thread \
                and r.id in self.timeline_model.reflection_ids():
            self._load_timeline(self._current_thread)

    def _reflection_deleted(self, reflection_id: str) -> None:
        self.list_model.remove(reflection_id)
        if reflection_id == self.editor.state.reflection_id:
            self.new_reflection()
        if self._current_thread:
            self._load_timeline(self._current_thread)
        self._load_stats()

    def delete_current_reflection(self) -> None:
        rid = self.editor.state.reflection_id
        if not self.editor.is_saved_reflection:
            self.autosave.reset()
            self.editor.new_reflection(self.editor.identity_id())
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete reflection",
                          "Delete this reflection for good? It is removed from every thread and from search. "
                          "Older backups of the journal may still hold it until you purge them.",
                          QMessageBox.StandardButton.Cancel, self.window)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.exec()
        if box.clickedButton() is delete:
            self.autosave.reset()
            self.client.delete_reflection(rid, self._deleted)

    def _deleted(self, notice: m.DeletionNotice) -> None:
        """Say honestly what is left (issue 11): backups made since it was written may still hold the text."""
        actions = [("Purge backups", self.purge_backups)] if notice.backups_may_hold else []
        self.editor.banner.show_message(notice.message, [*actions, ("OK", self.editor.banner.hide)])

    def purge_backups(self) -> None:
        def purged(result: m.BackupPurge) -> None:
            done = f"Removed {fmt.plural(len(result.removed), 'older copy', 'older copies')} of the journal."
            if result.failed:
                done += (f" {fmt.plural(len(result.failed), 'file')} could not be removed; check the backups "
                         "folder's permissions and try again.")
            self.editor.banner.show_message(done, [("OK", self.editor.banner.hide)])

        self.client.purge_backups(purged)

    def _list_menu(self, pos: Any) -> None:
        idx = self.list_view.indexAt(pos)
        if not idx.isValid():
            return
        menu = QMenu(self.window)
        menu.addAction("Open", lambda: self.open_reflection(idx.data(IdRole)))
        menu.addAction("Delete…", self.delete_current_reflection)
        menu.exec(self.list_view.viewport().mapToGlobal(pos))

    def _drafts_loaded(self, drafts: list[m.Draft]) -> None:
        self._drafts = list(drafts)
        if drafts:
            self.drafts_found.emit(len(drafts))
        self._offer_next_draft()

    def _offer_next_draft(self) -> None:
        if not self._drafts:
            return
        d = self._drafts[0]
        more = len(self._drafts) - 1
        text = (f"Mirror kept writing that was not saved before it closed: {fmt.plural(fmt.word_count(d.content), 'word')} "
                f"from {fmt.long_date(d.updated_at)}.")
        if more:
            text += f" ({more} more after this one.)"
        self.editor.banner.show_message(text, [("Restore", self.restore_draft), ("Discard", self.discard_draft)],
                                        kind="draft")

    def restore_draft(self) -> None:
        if not self._drafts:
            return
        d = self._drafts.pop(0)
        self.autosave.commit()

        def arrived(existing: m.Reflection | None) -> None:
            self.editor.banner.hide()
            self.editor.load_draft(d, existing)
            self.autosave.reset()
            self.autosave.mark_edited()  # the recovered text is unsaved until it reaches the reflection
            self.autosave.save_now()
            self._offer_next_draft()

        rid = d.reflection_id

        def find(svc: Any) -> m.Reflection | None:
            if rid is None:
                return None
            try:
                return svc.get_reflection(rid)
            except NotFoundError:
                return None  # the reflection was deleted since; the draft becomes a new one

        self.client.read(find, arrived)

    def discard_draft(self) -> None:
        if not self._drafts:
            return
        d = self._drafts.pop(0)
        self.client.discard_draft(d.id)
        self.editor.banner.hide()
        self._offer_next_draft()

    def _page_failed(self, text: str) -> None:
        if self.is_open:  # a page asked for before an open that failed: the window says why it did not open
            self._show_error(text)

    def _show_error(self, text: str) -> None:
        self.editor.banner.show_message(text, [("Dismiss", self.editor.banner.hide)], kind="error")
