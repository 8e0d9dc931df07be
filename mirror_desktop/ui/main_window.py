"""MainWindow: sidebar, the four views (reflections, threads, tensions, search), the editor, menus.

The window is a client of the JournalClient: it asks through jobs and repaints when facts arrive
(``reflection_saved``, ``threads_changed`` ...). It never touches the database itself.
"""

from __future__ import annotations

import platform
from typing import Any

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, Signal, qVersion
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QAbstractItemView,
    QColorDialog,
    QInputDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop import __version__
from mirror_desktop.core import models as m
from mirror_desktop.core.engine_settings import EngineSettingsStore
from mirror_desktop.core.errors import NotFoundError
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.paths import AppPaths
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.journal.autosave import AutosaveController
from mirror_desktop.ui.bundle.dialogs import BundleController
from mirror_desktop.ui.mirrorback.engine_settings import EngineSettingsDialog
from mirror_desktop.ui.journal.models import identities as im
from mirror_desktop.ui.journal.models.reflection_list import IdRole, ReflectionListModel
from mirror_desktop.ui.journal.models.threads import ThreadListModel, ThreadTimelineModel
from mirror_desktop.ui.theme import apply_theme
from mirror_desktop.ui.journal.delegates import ReflectionDelegate
from mirror_desktop.ui.journal.editor import ReflectionEditor
from mirror_desktop.ui.mirrorback.panel import MirrorbackPanel
from mirror_desktop.ui.journal.search_panel import SearchPanel
from mirror_desktop.ui.journal.sidebar import Sidebar
from mirror_desktop.ui.journal.thread_timeline import ThreadTimelineView
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.journal import JournalClient

VIEWS = ("reflections", "threads", "tensions", "search")
TENSION_PLACEHOLDER = "The tension map arrives with the tensions feature."


class MainWindow(QMainWindow):
    """The journal window.

    Signals:
        journal_loaded(): the journal is open; the first page, the identities and the threads are shown.
        view_changed(str): payload is the view now shown ("reflections" | "threads" | "tensions" | "search").
        timeline_loaded(str): a thread's timeline is on screen; payload is the thread id.
        drafts_found(int): unsaved drafts from an earlier session exist; payload is how many.
    """

    journal_loaded = Signal()
    view_changed = Signal(str)
    timeline_loaded = Signal(str)
    drafts_found = Signal(int)

    def __init__(self, executor: DatabaseExecutor, paths: AppPaths, settings: QSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mirror")
        self.executor = executor
        self.paths = paths
        self.settings = settings
        self.client = JournalClient(executor, self)
        self.is_open = False
        self._loaded = False
        self._arrived: set[str] = set()
        self._schema_version = "?"
        self._identity: tuple[str, str | None] = (im.ALL, None)
        self._current_thread: str | None = None
        self._previous_view = "reflections"
        self._view = "reflections"
        self._drafts: list[m.Draft] = []
        self._closing = False

        # models
        self.identity_model = im.IdentityListModel(self)
        self.thread_model = ThreadListModel(self)
        self.list_model = ReflectionListModel(self.client, parent=self)
        self.timeline_model = ThreadTimelineModel(self)

        # widgets
        self.sidebar = Sidebar(self.identity_model, self.thread_model)
        self.reflection_page = self._build_reflection_page()
        self.timeline = ThreadTimelineView(self.timeline_model)
        self.tensions = self._build_tension_view()
        self.search = SearchPanel(self.client)
        self.stack = QStackedWidget()
        for w in (self.reflection_page, self.timeline, self.tensions, self.search):
            self.stack.addWidget(w)
        self.editor = ReflectionEditor()
        self.autosave = AutosaveController(self.client, self.editor, self)
        # Issue 6: the mirrorback panel sits under the editor; engine settings live beside the journal's.
        self.engine_settings = EngineSettingsStore(paths.config_dir)
        self.mirrorback_panel = MirrorbackPanel(self.executor, settings=self.engine_settings)
        self.editor_column = QSplitter(Qt.Orientation.Vertical)
        self.editor_column.setObjectName("editorColumn")
        self.editor_column.addWidget(self.editor)
        # The reply, its notes and the open feedback form can need more height than the split gives;
        # they scroll instead of being squeezed on top of each other.
        self.mirrorback_scroll = QScrollArea(objectName="mirrorbackScroll")
        self.mirrorback_scroll.setWidget(self.mirrorback_panel)
        self.mirrorback_scroll.setWidgetResizable(True)
        self.mirrorback_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.mirrorback_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editor_column.addWidget(self.mirrorback_scroll)
        self.editor_column.setStretchFactor(0, 3)
        self.editor_column.setStretchFactor(1, 2)
        self.editor_column.setChildrenCollapsible(False)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.editor_column)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.sidebar.setMinimumWidth(180)
        self.stack.setMinimumWidth(280)
        self.editor.setMinimumWidth(360)
        self.setCentralWidget(self.splitter)

        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._connect()
        self.setEnabled_for_open(False)
        self._restore_settings()

    # -- construction --------------------------------------------------------------------
    def _build_reflection_page(self) -> QWidget:
        page = QWidget(objectName="reflectionsPage")
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = QWidget(objectName="viewHeader")
        hl = QVBoxLayout(head)
        hl.setContentsMargins(16, 14, 16, 10)
        self.list_title = QLabel("All reflections", objectName="viewTitle")
        self.list_subtitle = QLabel("Opening your journal…", objectName="muted")
        hl.addWidget(self.list_title)
        hl.addWidget(self.list_subtitle)
        lay.addWidget(head)
        self.list_stack = QStackedWidget()
        self.list_view = QListView(objectName="reflectionList")
        self.list_view.setModel(self.list_model)
        self.list_view.setItemDelegate(ReflectionDelegate(self.list_view))
        self.list_view.setUniformItemSizes(True)
        self.list_view.setFrameShape(QListView.Shape.NoFrame)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_empty = QLabel("", objectName="emptyState")
        self.list_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_empty.setWordWrap(True)
        self.list_stack.addWidget(self.list_view)
        self.list_stack.addWidget(self.list_empty)
        lay.addWidget(self.list_stack, 1)
        return page

    def _build_tension_view(self) -> QWidget:
        """The tension map comes from its own feature; until it exists, a calm placeholder."""
        try:
            from mirror_desktop.ui.tensions.page import TensionView
        except ImportError:
            label = QLabel(TENSION_PLACEHOLDER, objectName="emptyState")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            self._tension_view: Any = None
            return label
        view = TensionView(self.executor)
        self._tension_view = view
        return view

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.counts_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("Opening your journal…")
        sb.addWidget(self.progress_label)
        sb.addWidget(self.progress)
        sb.addPermanentWidget(self.counts_label)

    def _build_actions(self) -> None:
        A = QAction
        self.new_action = A("&New reflection", self, shortcut=QKeySequence("Ctrl+N"))
        self.save_action = A("&Save now", self, shortcut=QKeySequence("Ctrl+S"))
        self.export_action = A("&Export…", self)
        self.export_action.setStatusTip("Write an encrypted, verifiable bundle of the whole journal.")
        self.import_action = A("&Import…", self)
        self.import_action.setStatusTip("Merge a bundle into this journal, or replace it (the old one is kept).")
        self.reflect_action = A("&Reflect", self, shortcut=QKeySequence("Ctrl+R"))
        self.reflect_action.setStatusTip("Ask Mirror for a mirrorback of this reflection.")
        self.engine_action = A("Mirrorback &engine…", self)
        self.settings_action = A("Se&ttings…", self, shortcut=QKeySequence("Ctrl+,"))
        self.quit_action = A("&Quit", self, shortcut=QKeySequence("Ctrl+Q"))
        self.find_action = A("&Find…", self, shortcut=QKeySequence("Ctrl+F"))
        self.delete_action = A("&Delete reflection…", self)
        self.preview_action = A("&Preview", self, shortcut=QKeySequence("Ctrl+Shift+P"), checkable=True)
        self.new_identity_action = A("New &identity…", self)
        self.new_thread_action = A("New &thread…", self)
        self.view_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for n, (name, title) in enumerate((("reflections", "&Reflections"), ("threads", "&Threads"),
                                           ("tensions", "T&ensions"))):
            act = A(title, self, shortcut=QKeySequence(f"Ctrl+{n + 1}"), checkable=True)
            act.setActionGroup(group)
            act.triggered.connect(lambda _c=False, v=name: self.show_view(v))
            self.view_actions[name] = act
        self.leave_search_action = A("Leave search", self, shortcut=QKeySequence("Esc"))
        self.leave_search_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(self.leave_search_action)
        theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name, title in (("light", "&Light theme"), ("dark", "&Dark theme")):
            act = A(title, self, checkable=True)
            act.setActionGroup(theme_group)
            act.triggered.connect(lambda _c=False, t=name: self.set_theme(t))
            self.theme_actions[name] = act
        self.about_action = A("&About Mirror", self)
        # Standard editing entries act on whatever has the focus. They show their usual keys but bind
        # none: the focused editor already handles them, and the tension map has its own Ctrl+Z.
        self.text_actions: dict[str, QAction] = {}
        for name, title, key in (("undo", "&Undo", QKeySequence.StandardKey.Undo),
                                 ("redo", "&Redo", QKeySequence.StandardKey.Redo),
                                 ("cut", "Cu&t", QKeySequence.StandardKey.Cut),
                                 ("copy", "&Copy", QKeySequence.StandardKey.Copy),
                                 ("paste", "&Paste", QKeySequence.StandardKey.Paste),
                                 ("selectAll", "Select &All", QKeySequence.StandardKey.SelectAll)):
            keys = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
            act = A(f"{title}\t{keys}" if keys else title, self)
            act.triggered.connect(lambda _c=False, n=name: self.edit_focused(n))
            self.text_actions[name] = act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.new_action)
        f.addAction(self.save_action)
        f.addSeparator()
        f.addAction(self.export_action)
        f.addAction(self.import_action)
        f.addSeparator()
        f.addAction(self.settings_action)
        f.addAction(self.engine_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        f.setToolTipsVisible(True)
        e = mb.addMenu("&Edit")
        for act in self.text_actions.values():
            e.addAction(act)
            if act is self.text_actions["redo"] or act is self.text_actions["paste"]:
                e.addSeparator()
        e.addSeparator()
        e.addAction(self.find_action)
        e.addAction(self.reflect_action)
        e.addSeparator()
        e.addAction(self.new_identity_action)
        e.addAction(self.new_thread_action)
        e.addSeparator()
        e.addAction(self.delete_action)
        v = mb.addMenu("&View")
        for act in self.view_actions.values():
            v.addAction(act)
        v.addSeparator()
        v.addAction(self.preview_action)
        v.addSeparator()
        for act in self.theme_actions.values():
            v.addAction(act)
        h = mb.addMenu("&Help")
        h.addAction(self.about_action)

    def _connect(self) -> None:
        ex, c = self.executor, self.client
        ex.opened.connect(self._opened)
        ex.migration_progressed.connect(self._migration_progressed)
        ex.busy_changed.connect(lambda _b: None)
        c.reflection_saved.connect(self._reflection_saved)
        c.reflection_deleted.connect(self._reflection_deleted)
        c.identities_changed.connect(self._load_identities)
        c.identity_deleted.connect(self._identity_deleted)
        c.threads_changed.connect(self._load_threads)
        c.thread_membership_changed.connect(self._membership_changed)
        c.operation_failed.connect(self._show_error)
        self.list_model.first_page_loaded.connect(self._first_page)
        self.list_model.page_failed.connect(self._show_error)
        self.list_model.rowsInserted.connect(lambda *_: self._update_list_state())
        self.list_model.rowsRemoved.connect(lambda *_: self._update_list_state())
        self.list_model.modelReset.connect(self._update_list_state)
        self.list_view.selectionModel().currentChanged.connect(self._list_current)
        self.list_view.customContextMenuRequested.connect(self._list_menu)
        self.timeline_model.order_changed.connect(self._timeline_reordered)
        self.timeline.reflection_activated.connect(self.open_reflection)
        self.timeline.remove_requested.connect(self.client.remove_from_thread)
        self.timeline.rename_requested.connect(self.rename_thread)
        self.timeline.status_requested.connect(lambda tid, st: self.client.update_thread(tid, status=st))
        self.search.reflection_activated.connect(self.open_reflection)
        self.search.leave_requested.connect(self.leave_search)
        sb = self.sidebar
        sb.identity_selected.connect(self._identity_selected)
        sb.identity_create_requested.connect(self.create_identity)
        sb.identity_rename_requested.connect(self.rename_identity)
        sb.identity_color_requested.connect(self.recolor_identity)
        sb.identity_delete_requested.connect(self.delete_identity)
        sb.thread_selected.connect(self.show_thread)
        sb.thread_create_requested.connect(self.create_thread)
        sb.thread_rename_requested.connect(self.rename_thread)
        sb.thread_status_requested.connect(lambda tid, st: self.client.update_thread(tid, status=st))
        self.editor.thread_toggled.connect(self._thread_toggled)
        self.editor.new_thread_requested.connect(self._new_thread_for_editor)
        self.autosave.status_changed.connect(lambda _s: None)
        self.new_action.triggered.connect(self.new_reflection)
        self.save_action.triggered.connect(self.autosave.save_now)
        self.quit_action.triggered.connect(self.close)
        self.find_action.triggered.connect(self.start_search)
        self.leave_search_action.triggered.connect(self.leave_search)
        self.delete_action.triggered.connect(self.delete_current_reflection)
        self.preview_action.toggled.connect(self.editor.set_preview)
        self.editor.preview_button.toggled.connect(self.preview_action.setChecked)
        self.new_identity_action.triggered.connect(self.create_identity)
        self.new_thread_action.triggered.connect(self.create_thread)
        self.settings_action.triggered.connect(self.show_settings)
        self.about_action.triggered.connect(self.show_about)
        self.reflect_action.triggered.connect(self.reflect)
        self.engine_action.triggered.connect(self.show_engine_settings)
        if self._tension_view is not None and hasattr(self._tension_view, "reflection_open_requested"):
            self._tension_view.reflection_open_requested.connect(self._open_from_elsewhere)
        self.bundles = BundleController(self, self.paths, self.settings, self.executor)
        self.export_action.triggered.connect(self.bundles.export_requested)
        self.import_action.triggered.connect(self._import_requested)
        self.bundles.import_finished.connect(self._journal_imported)

    def setEnabled_for_open(self, open_: bool) -> None:  # noqa: N802 - reads like Qt's setEnabled
        for w in (self.sidebar, self.stack, self.editor):
            w.setEnabled(open_)
        for a in (self.new_action, self.save_action, self.find_action, self.delete_action,
                  self.new_identity_action, self.new_thread_action, self.reflect_action,
                  self.export_action, self.import_action):
            a.setEnabled(open_)

    # -- opening -------------------------------------------------------------------------
    def _migration_progressed(self, step: int, steps: int, version: str) -> None:
        self.progress.setRange(0, max(steps, 1))
        self.progress.setValue(step)
        self.progress_label.setText(
            "Your journal is up to date." if step >= steps else f"Updating your journal ({step + 1} of {steps})…")

    def _opened(self, _storage: object) -> None:
        self.is_open = True
        self.progress.hide()
        self.progress_label.setText("")
        self.setEnabled_for_open(True)
        # The first page goes first on the serial executor: it is what the person is waiting to see.
        self._apply_identity_filter()
        self.client.read(lambda s: s.schema_version(), self._set_schema_version)
        self._load_identities()
        self._load_threads()
        self._load_stats()
        self.client.read(lambda s: s.pending_drafts(), self._drafts_loaded)
        self.editor.new_reflection(None)
        self.autosave.reset()
        if self._tension_view is not None and hasattr(self._tension_view, "set_identity"):
            self._tension_view.set_identity(None, False)

    def _set_schema_version(self, v: str) -> None:
        self._schema_version = v

    def _first_page(self, rows: int) -> None:
        self._update_list_state()
        if not self._loaded and "page" not in self._arrived:
            if rows:
                self.list_view.setCurrentIndex(self.list_model.index(0, 0))
            self._arrive("page")

    def _arrive(self, part: str) -> None:
        """journal_loaded fires once the first page, the identities and the threads are all shown."""
        self._arrived.add(part)
        if not self._loaded and {"page", "identities", "threads"} <= self._arrived:
            self._loaded = True
            self.journal_loaded.emit()

    def _update_list_state(self) -> None:
        n = self.list_model.rowCount()
        if n == 0 and self.is_open:
            kind, _ = self._identity
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
            fmt.plural(stats.get("identities", 0), "identity").replace("identitys", "identities"),
            fmt.plural(stats.get("threads", 0), "thread"),
        ]))
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        kind, ident_id = self._identity
        if kind == im.ALL:
            n = getattr(self, "_stats", {}).get("reflections")
            self.list_subtitle.setText("Newest first" + (f"  ·  {fmt.plural(n, 'reflection')}" if n else ""))
        else:
            self.client.read(lambda s, f=self.list_model.filters: s.count_reflections(f),
                             lambda n: self.list_subtitle.setText(f"Newest first  ·  {fmt.plural(n, 'reflection')}"),
                             lambda _e: None)

    # -- identities ----------------------------------------------------------------------
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
        self.search.set_identity_filter(identity_id, kind == im.ANONYMOUS)
        if self._tension_view is not None and hasattr(self._tension_view, "set_identity"):
            self._tension_view.set_identity(identity_id, kind == im.ANONYMOUS)

    def select_identity(self, identity_id: str | None, anonymous: bool = False) -> None:
        """Switch every view to one identity (None and not anonymous: All)."""
        kind = im.ANONYMOUS if anonymous else (im.IDENTITY if identity_id else im.ALL)
        self.sidebar.select_identity_row(self.identity_model.row_for(kind, identity_id))

    def _apply_identity_filter(self) -> None:
        kind, ident = self._identity
        self.list_model.set_filters(SearchFilters(identity_id=ident if kind == im.IDENTITY else None,
                                                  anonymous_only=kind == im.ANONYMOUS))
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

    def create_identity(self) -> None:
        name, ok = QInputDialog.getText(self, "New identity", "Name (for example: work self, personal self):")
        if ok and name.strip() and not self._name_taken(name):
            # identities_changed queues a reload of the list; a no-op read queued after it returns once the
            # new identity is in the sidebar, where it can be selected (selecting at once found no row).
            self.client.create_identity(
                name.strip(), None,
                lambda ident: self.client.read(lambda _s: None, lambda _r: self.select_identity(ident.id)))

    def _name_taken(self, name: str, own_id: str | None = None) -> bool:
        """Two identities with one name cannot be told apart in the sidebar; say so and keep the old one."""
        wanted = " ".join(name.split()).casefold()
        other = next((i for i in self.identity_model.identities
                      if i.id != own_id and " ".join(i.name.split()).casefold() == wanted), None)
        if other is not None:
            self.editor.banner.show_message(f"You already have an identity called “{other.name}”; choose another name.",
                                            [("OK", self.editor.banner.hide)])
        return other is not None

    def rename_identity(self, identity_id: str) -> None:
        ident = self.identity_model.identity(identity_id)
        if ident is None:
            return
        name, ok = QInputDialog.getText(self, "Rename identity", "Name:", text=ident.name)
        if ok and name.strip() and not self._name_taken(name, identity_id):
            self.client.update_identity(identity_id, name=name.strip())

    def recolor_identity(self, identity_id: str) -> None:
        from PySide6.QtGui import QColor

        ident = self.identity_model.identity(identity_id)
        if ident is None:
            return
        color = QColorDialog.getColor(QColor(ident.color or "#5b8def"), self, f"Colour for {ident.name}")
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
                          QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete identity", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is delete:
            self.client.delete_identity(ident.id)

    def _identity_deleted(self, identity_id: str, kept: int) -> None:
        if self._identity == (im.IDENTITY, identity_id):
            self._identity = (im.ALL, None)
        self._apply_identity_filter()
        self.statusBar().showMessage(f"Identity deleted; {fmt.plural(kept, 'reflection')} kept as Anonymous.", 6000)

    # -- threads -------------------------------------------------------------------------
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
        self.search.set_threads(threads)
        self.timeline.set_has_threads(bool(threads))
        t = self.thread_model.thread(current)
        if current and t is not None:
            self.timeline.show_thread(t)
        elif current:
            self._current_thread = None
            self.timeline_model.set_timeline(None, [])
            self.timeline.show_thread(None)
        self._load_stats()
        self._arrive("threads")

    def show_thread(self, thread_id: str) -> None:
        self._current_thread = thread_id
        self.show_view("threads")
        self._load_timeline(thread_id)

    def _load_timeline(self, thread_id: str) -> None:
        self.client.read(lambda s: s.thread_timeline(thread_id), lambda rows: self._timeline_arrived(thread_id, rows))

    def _timeline_arrived(self, thread_id: str, rows: list[Any]) -> None:
        if thread_id != self._current_thread:
            return
        self.timeline_model.set_timeline(thread_id, rows)
        self.timeline.show_thread(self.thread_model.thread(thread_id))
        self.timeline_loaded.emit(thread_id)

    def _timeline_reordered(self, thread_id: str, ids: list[str]) -> None:
        self.client.reorder_thread(thread_id, ids, on_error=lambda _e: self._load_timeline(thread_id))

    def _membership_changed(self, thread_id: str) -> None:
        if thread_id == self._current_thread:
            self._load_timeline(thread_id)

    def create_thread(self, then_add: str | None = None) -> None:
        title, ok = QInputDialog.getText(self, "New thread", "What does this thread follow?")
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
        t = self.thread_model.thread(thread_id)
        if t is None:
            return
        title, ok = QInputDialog.getText(self, "Rename thread", "Title:", text=t.title or "")
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

    # -- reflections ---------------------------------------------------------------------
    def _list_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid():
            rid = current.data(IdRole)
            if rid != self.editor.state.reflection_id:
                self.open_reflection(rid)

    def open_reflection(self, reflection_id: str) -> None:
        """Load a reflection into the editor (after queueing a save of the current text)."""
        self.autosave.commit()
        self.client.read(lambda s: (s.get_reflection(reflection_id), set(s.threads_of(reflection_id))),
                         self._reflection_arrived)

    def _reflection_arrived(self, result: tuple[m.Reflection, set[str]]) -> None:
        r, threads = result
        self.autosave.commit()
        self.editor.load_reflection(r, threads)
        self.autosave.reset()
        self.mirrorback_panel.set_reflection(r.id)

    def new_reflection(self) -> None:
        self.autosave.commit()
        if self._view in ("tensions", "search"):
            self.show_view(self._previous_view if self._previous_view in ("reflections", "threads") else "reflections")
        kind, ident = self._identity
        self.list_view.clearSelection()
        self.list_view.setCurrentIndex(QModelIndex())
        self.editor.new_reflection(ident if kind == im.IDENTITY else None)
        self.autosave.reset()
        self.mirrorback_panel.set_reflection(None)

    def _reflection_saved(self, r: m.Reflection) -> None:
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
                          "Delete this reflection for good? It is removed from every thread and from search.",
                          QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.exec()
        if box.clickedButton() is delete:
            self.autosave.reset()
            self.client.delete_reflection(rid)

    def _list_menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        idx = self.list_view.indexAt(pos)
        if not idx.isValid():
            return
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_reflection(idx.data(IdRole)))
        menu.addAction("Delete…", self.delete_current_reflection)
        menu.exec(self.list_view.viewport().mapToGlobal(pos))

    # -- drafts --------------------------------------------------------------------------
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

    # -- views ---------------------------------------------------------------------------
    @property
    def view(self) -> str:
        return self._view

    def show_view(self, name: str) -> None:
        if name not in VIEWS:
            name = "reflections"
        if name != self._view and self._view != "search":
            self._previous_view = self._view
        self._view = name
        self.stack.setCurrentIndex(VIEWS.index(name))
        self.editor_column.setVisible(name != "tensions")  # the map takes the width of editor and reply
        if name in self.view_actions:
            self.view_actions[name].setChecked(True)
        else:
            for act in self.view_actions.values():
                act.setChecked(False)
        if name == "threads" and self._current_thread is None and self.thread_model.rowCount():
            self.sidebar.threads.setCurrentIndex(self.thread_model.index(0, 0))
        self.view_changed.emit(name)

    def start_search(self) -> None:
        self.show_view("search")
        self.search.focus_box()

    def leave_search(self) -> None:
        if self._view == "search":
            self.show_view(self._previous_view if self._previous_view != "search" else "reflections")
            self.editor.text.setFocus()

    # -- theme, settings, about ----------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        apply_theme(theme)
        self.theme_actions.get(theme, self.theme_actions["light"]).setChecked(True)
        self.settings.setValue("theme", theme)

    def show_settings(self) -> None:
        from mirror_desktop.ui.dialogs.settings import SettingsDialog

        dlg = SettingsDialog(self.paths, str(self.settings.value("theme", "light")), self)
        if dlg.exec():
            self.set_theme(dlg.theme())

    def about_text(self) -> str:
        return (f"Mirror {__version__}\n"
                f"Journal schema {self._schema_version}\n"
                f"Qt {qVersion()} · PySide6 {PYSIDE_VERSION} · Python {platform.python_version()}\n\n"
                f"Data folder: {self.paths.data_dir}\n"
                "Everything you write stays on this device unless you choose otherwise.")

    def show_about(self) -> None:
        """Help → About: versions and the data folder with an "Open folder" button (issue 7)."""
        from mirror_desktop.ui.dialogs.about import AboutDialog

        dialog = AboutDialog(self.paths, self)
        dialog.exec()
        dialog.deleteLater()

    def _show_error(self, text: str) -> None:
        self.editor.banner.show_message(text, [("Dismiss", self.editor.banner.hide)], kind="error")

    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        else:
            self.resize(1280, 800)
        sizes = s.value("window/splitter")
        if isinstance(sizes, QByteArray) and not sizes.isEmpty():
            self.splitter.restoreState(sizes)
        else:
            self.splitter.setSizes([220, 440, 620])
        column = s.value("window/editor_column")
        if isinstance(column, QByteArray) and not column.isEmpty():
            self.editor_column.restoreState(column)
        else:
            self.editor_column.setSizes([430, 330])  # the editor first; room for a reply and its notes
        theme = str(s.value("theme", "light"))
        self.theme_actions.get(theme, self.theme_actions["light"]).setChecked(True)
        view = str(s.value("window/view", "reflections"))
        self.show_view(view if view in ("reflections", "threads", "tensions") else "reflections")

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/editor_column", self.editor_column.saveState())
        s.setValue("window/view", self._view if self._view != "search" else self._previous_view)
        s.sync()

    # -- shutdown ------------------------------------------------------------------------
    def edit_focused(self, operation: str) -> None:
        """Edit → Undo/Redo/Cut/Copy/Paste/Select All on the focused text, or undo a tension move."""
        if self._view == "tensions" and self._tension_view is not None and operation in ("undo", "redo"):
            stack = getattr(self._tension_view, "undo_stack", None)
            if stack is not None:
                getattr(stack, operation)()
                return
        widget = QApplication.focusWidget()
        method = getattr(widget, operation, None) if widget is not None else None
        if callable(method):
            method()

    # -- mirrorbacks and bundles -----------------------------------------------------------
    def reflect(self) -> None:
        """Ctrl+R: save what is typed (queued first on the serial executor), then reflect on it."""
        if not self.editor.content().strip():
            self.editor.banner.show_message("Write something first; an empty page has nothing to reflect.",
                                            [("OK", self.editor.banner.hide)])
            return
        self.autosave.save_now()
        self.mirrorback_panel.set_reflection(self.editor.state.reflection_id)
        self.mirrorback_panel.reflect_requested()

    def show_engine_settings(self) -> None:
        dialog = EngineSettingsDialog(self.engine_settings, self)
        # One dialog per opening: when it closes, its background checks finish and it is deleted.
        dialog.finished.connect(lambda _r: (dialog.shutdown(), dialog.deleteLater()))
        dialog.open()

    def _open_from_elsewhere(self, reflection_id: str) -> None:
        if self._view in ("tensions", "search"):
            self.show_view(self._previous_view if self._previous_view in ("reflections", "threads") else "reflections")
        self.open_reflection(reflection_id)

    def _import_requested(self) -> None:
        self.autosave.save_now()  # typing reaches the executor before the import's swap job
        self.bundles.import_requested()

    def _journal_imported(self, _result: object) -> None:
        self._opened(None)  # reload identities, threads, stats and the first page

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Staged shutdown: flush autosave into the queue, then let the executor drain and stop."""
        if not self._closing:
            self._closing = True
            self.save_settings()
            if self.is_open:
                self.autosave.commit()
            self.mirrorback_panel.shutdown()
            self.bundles.shutdown()
            self.executor.shutdown()
        event.accept()
