"""MainWindow: composes the features — menus, the layout, the feature controllers — and wires their signals.

It owns no rule and never touches the database (issue 10): the journal views live in
``ui/journal`` (JournalController), the tension map in ``ui/tensions``, the mirrorback panel in
``ui/mirrorback``, export/import in ``ui/bundle``; each reaches the journal only through its worker
client in ``workers/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal, qVersion
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop import __version__
from mirror_desktop.paths import AppPaths
from mirror_desktop.ui.journal.controller import JournalController
from mirror_desktop.ui.lazy import BuiltOnFirstRead
from mirror_desktop.ui.theme import apply_theme
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.journal import JournalClient

if TYPE_CHECKING:
    from mirror_desktop.core.engine_settings import EngineSettingsStore
    from mirror_desktop.ui.bundle.dialogs import BundleController
    from mirror_desktop.ui.integrations.day_panel import DayItemsController, DayPanel
    from mirror_desktop.ui.integrations.dialog import IntegrationsDialog
    from mirror_desktop.ui.integrations.status import SyncStatus
    from mirror_desktop.ui.journal.autosave import AutosaveController
    from mirror_desktop.ui.journal.editor import ReflectionEditor
    from mirror_desktop.ui.journal.sidebar import Sidebar
    from mirror_desktop.ui.journal.search_panel import SearchPanel
    from mirror_desktop.ui.journal.thread_timeline import ThreadTimelineView
    from mirror_desktop.ui.mirrorback.panel import MirrorbackPanel
    from mirror_desktop.ui.sync.status import SyncLine
    from mirror_desktop.ui.tensions.page import TensionView
    from mirror_desktop.ui.writing.controller import WritingController
    from mirror_desktop.workers.integrations import IntegrationsClient
    from mirror_desktop.workers.sync import SyncClient
    from mirror_desktop.workers.tensions import TensionsClient

VIEWS = ("reflections", "threads", "tensions", "search", "calendar", "stats")
LAZY_VIEWS = ("calendar", "stats")  # built by the writing controller the first time they are shown (issue 16)
BUILD_FALLBACK_MS = 500  # a shown window whose list has not painted rows by then is built anyway


class MainWindow(QMainWindow):
    """The journal window.

    Signals:
        journal_loaded(): the journal is open; the first page, the identities and the threads are shown.
        settled(): the first page has been painted, the rest of the window is built and background work
            has started (the side panels, tags, On This Day, the read lanes and the integrations poller).
        view_changed(str): payload is the view now shown ("reflections" | "threads" | "tensions" | "search" |
            "calendar" | "stats").
    """

    journal_loaded = Signal()
    settled = Signal()
    view_changed = Signal(str)
    encrypt_requested = Signal()  # File → Encrypt journal… (issue 19; app.py runs it, ui/lock shows it)
    lock_minutes_changed = Signal(int)  # Settings: the idle time before an encrypted journal locks

    def __init__(self, executor: DatabaseExecutor, paths: AppPaths, settings: QSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mirror")
        self.executor = executor
        self.paths = paths
        self.settings = settings
        self._schema_version = "?"
        self._previous_view = "reflections"
        self._view = "reflections"
        self._closing = False

        # feature clients (the one road to the database) and feature controllers
        self.client = JournalClient(executor, self)
        self.journal = JournalController(self.client, self, settings)
        # Views and controllers a person may never open this session are built on first use (issue 12:
        # start-up time): the tension map, the bundle dialogs, the integrations and engine dialogs.
        self._tensions: TensionsClient | None = None  # built on first use: the map, the seeds after the open
        self._tension_view: TensionView | None = None
        self._identity: tuple[str | None, bool] | None = None
        self._bundles: BundleController | None = None
        self.integrations_dialog: IntegrationsDialog | None = None
        self.importing: Any = None  # File → Import from another app…: client and dialog built on first use
        self.import_from_app_dialog: Any = None
        self.sync_dialog: QWidget | None = None
        # The first frame is the list of reflections (issue 12: first paint). The sidebar, the editor, the side
        # panels, the status bar's sync lines and the writing features are built right after the list's first
        # paint (finish_build); the opened journal is loaded into them then, and the background starts after.
        self._built = False
        self._settled = False
        self._open_pending = False
        self.evolution_client: Any = None    # issue 17: built on first use (View → Evolution…, or feedback)
        self.evolution_dialog: Any = None
        # the journal's widgets, by the names the rest of the window (and its tests) use
        j = self.journal
        j.rest_built.connect(self.finish_build)  # the editor read early (a test, a shortcut): the rest comes too
        j.page_built.connect(self._page_built)  # the search and thread pages, built on first read
        j.list_model.first_page_loaded.connect(self._first_page_arrived)
        self.list_model, self.list_view, self.identity_model, self.thread_model, self.timeline_model = (
            j.list_model, j.list_view, j.identity_model, j.thread_model, j.timeline_model)
        self._build_layout()
        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._connect()
        self.setEnabled_for_open(False)
        self._restore_settings()
        self.list_view.viewport().installEventFilter(self)
        if executor.started:
            self.journal.prefetch_first_page()

    @property
    def tensions(self) -> TensionsClient:
        """The tension map's client (issue 12: its modules load after the first paint)."""
        if self._tensions is None:
            from mirror_desktop.workers.tensions import TensionsClient

            self._tensions = TensionsClient(self.executor, self)
        return self._tensions

    # Built after the list's first paint, or when first read: see finish_build.
    editor: ReflectionEditor = cast(Any, BuiltOnFirstRead("finish_build"))
    autosave: AutosaveController = cast(Any, BuiltOnFirstRead("finish_build"))
    sidebar: Sidebar = cast(Any, BuiltOnFirstRead("finish_build"))
    side_column: QWidget = cast(Any, BuiltOnFirstRead("finish_build"))
    side_layout: QVBoxLayout = cast(Any, BuiltOnFirstRead("finish_build"))
    engine_settings: EngineSettingsStore = cast(Any, BuiltOnFirstRead("finish_build"))
    mirrorback_panel: MirrorbackPanel = cast(Any, BuiltOnFirstRead("finish_build"))
    mirrorback_scroll: QScrollArea = cast(Any, BuiltOnFirstRead("finish_build"))
    integrations: IntegrationsClient = cast(Any, BuiltOnFirstRead("finish_build"))
    day_items: DayItemsController = cast(Any, BuiltOnFirstRead("finish_build"))
    day_panel: DayPanel = cast(Any, BuiltOnFirstRead("finish_build"))
    sync_client: SyncClient = cast(Any, BuiltOnFirstRead("finish_build"))
    sync_status: SyncStatus = cast(Any, BuiltOnFirstRead("finish_build"))
    sync_line: SyncLine = cast(Any, BuiltOnFirstRead("finish_build"))
    writing: WritingController = cast(Any, BuiltOnFirstRead("finish_build"))

    def finish_build(self) -> None:
        """Build the rest of the window (after the list's first paint, or when a part is first read), then hand it
        the journal if it opened meanwhile."""
        if self._built:
            return
        self._built = True
        self.executor.release_open()  # the journal's storage loads now, after the first frame (issue 12)
        from mirror_desktop.core.engine_settings import EngineSettingsStore
        from mirror_desktop.ui.integrations.day_panel import DayItemsController
        from mirror_desktop.ui.integrations.status import SyncStatus
        from mirror_desktop.ui.mirrorback.panel import MirrorbackPanel
        from mirror_desktop.ui.sync.status import SyncLine
        from mirror_desktop.workers.integrations import IntegrationsClient
        from mirror_desktop.workers.mirrorbacks import MirrorbacksClient
        from mirror_desktop.workers.sync import SyncClient

        ex, j = self.executor, self.journal
        j.build_rest()
        self.editor, self.autosave, self.sidebar = j.editor, j.autosave, j.sidebar
        self._place_columns()
        self.save_action.triggered.connect(self.autosave.save_now)
        self.preview_action.toggled.connect(self.editor.set_preview)
        self.editor.preview_button.toggled.connect(self.preview_action.setChecked)
        for part in (self.sidebar, self.editor):
            part.setEnabled(False)  # until the journal is open (_opened)
        self.engine_settings = EngineSettingsStore(self.paths.config_dir)
        self.mirrorback_panel = MirrorbackPanel(MirrorbacksClient(ex, self), settings=self.engine_settings)
        self.integrations = IntegrationsClient(ex, self.paths.config_dir / "integration-passwords", self)
        self.day_items = DayItemsController(self.integrations, j.editor, j.timeline_model, parent=self)
        self.day_panel = self.day_items.panel
        self.sync_client = SyncClient(ex, self)  # issue 18: its thread starts only when sync is on
        self._build_side_column()
        sb = self.statusBar()
        self.sync_status = SyncStatus(self.integrations)
        self.sync_line = SyncLine(self.sync_client)
        sb.removeWidget(self.counts_label)  # the counts stay rightmost, after the sync lines
        for label in (self.sync_status, self.sync_line, self.counts_label):
            sb.addPermanentWidget(label)
        self.counts_label.show()
        j.reflection_opened.connect(self.mirrorback_panel.set_reflection)
        self.sync_client.sync_finished.connect(self._devices_synced)
        self.mirrorback_panel.feedback_saved.connect(self._feedback_for_evolution)
        j.reflection_opened.connect(self.day_items.reflection_opened)
        j.identity_changed.connect(self.day_items.identity_changed)
        j.timeline_loaded.connect(self.day_items.timeline_loaded)
        self.integrations.sync_finished.connect(self._synced)
        self._build_writing()
        if self._open_pending:  # the journal opened while the first frame was shown: load it into the window now
            self._open_pending = False
            self._opened(None)

    def _place_columns(self) -> None:
        """The sidebar and the editor column take the places their placeholders held in the first frame."""
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.setSpacing(0)
        self.side_column, self.side_layout = side, side_lay  # On This Day joins it when it has something
        for splitter, index, widget in ((self.splitter, 0, self.sidebar), (self.editor_column, 0, self.editor),
                                        (self.editor_column, 1, side)):
            placeholder = splitter.replaceWidget(index, widget)
            if placeholder is not None:
                placeholder.deleteLater()
        self.sidebar.setMinimumWidth(180)
        self.editor.setMinimumWidth(360)

    def _build_side_column(self) -> None:
        """The side panel under the editor: the open reflection's day (issue 14), then the mirrorback."""
        # The reply, its notes and the open feedback form can need more height than the split gives;
        # they scroll instead of being squeezed on top of each other.
        scroll = QScrollArea()
        scroll.setObjectName("mirrorbackScroll")
        scroll.setWidget(self.mirrorback_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.mirrorback_scroll = scroll
        self.side_layout.addWidget(self.day_panel)
        self.side_layout.addWidget(scroll, 1)

    # -- construction --------------------------------------------------------------------
    def _build_layout(self) -> None:
        # Top-down: each widget joins the window once. Built bottom-up, the whole tree was re-parented into
        # the window at the end, and every widget got its parent, palette and font change events again.
        # The sidebar and the editor column hold placeholders of their size until finish_build.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.setCentralWidget(self.splitter)
        self.stack = QStackedWidget()
        self.editor_column = QSplitter(Qt.Orientation.Vertical)
        self.editor_column.setObjectName("editorColumn")
        sidebar_place = QWidget()
        for column in (sidebar_place, self.stack, self.editor_column):
            self.splitter.addWidget(column)
        # The thread timeline, the map and search hold placeholders until they are first shown (_place_page).
        for page in (self.journal.reflection_page, QWidget(), QWidget(), QWidget()):
            self.stack.addWidget(page)
        editor_place = QWidget()
        for place in (editor_place, QWidget()):
            place.setBackgroundRole(QPalette.ColorRole.Base)  # the editor's and the reply's white: nothing flashes
            place.setAutoFillBackground(True)
            self.editor_column.addWidget(place)
        self.editor_column.setStretchFactor(0, 3)
        self.editor_column.setStretchFactor(1, 2)
        self.editor_column.setChildrenCollapsible(False)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        sidebar_place.setMinimumWidth(180)
        self.stack.setMinimumWidth(280)
        editor_place.setMinimumWidth(360)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.counts_label = self.journal.counts_label
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("Opening your journal…")
        sb.addWidget(self.progress_label)
        sb.addWidget(self.progress)
        sb.addPermanentWidget(self.counts_label)  # the sync lines go before it (finish_build)

    def _build_actions(self) -> None:
        A = QAction
        self.new_action = A("&New reflection", self, shortcut=QKeySequence("Ctrl+N"))
        self.save_action = A("&Save now", self, shortcut=QKeySequence("Ctrl+S"))
        self.export_action = A("&Export…", self)
        self.export_action.setStatusTip("Write an encrypted, verifiable bundle of the whole journal.")
        self.export_as_action = A("Export &as…", self)  # issue 15: Markdown, PDF, HTML, Day One
        self.export_as_action.setStatusTip("Write one identity's reflections as Markdown, a PDF book, a web page "
                                           "or Day One JSON.")
        self.import_action = A("&Import…", self)
        self.import_action.setStatusTip("Merge a bundle into this journal, or replace it (the old one is kept).")
        self.import_from_app_action = A("Import from &another app…", self)
        self.import_from_app_action.setStatusTip("Bring entries from Day One, jrnl, Obsidian or RedNotebook.")
        self.reflect_action = A("&Reflect", self, shortcut=QKeySequence("Ctrl+R"))
        self.reflect_action.setStatusTip("Ask Mirror for a mirrorback of this reflection.")
        self.engine_action = A("Mirrorback &engine…", self)
        self.encrypt_action = A("Encr&ypt journal…", self)
        self.encrypt_action.setStatusTip("Encrypt the journal, its drafts and its backups with a passphrase.")
        self.integrations_action = A("I&ntegrations…", self)
        self.integrations_action.setStatusTip("Calendars and notes Mirror reads: add, pause, sync now, remove.")
        self.sync_action = A("S&ync…", self)
        self.sync_action.setStatusTip("Sync this journal with your other devices through a server, end-to-end encrypted.")
        self.evolution_action = A("E&volution…", self, shortcut=QKeySequence("Ctrl+Shift+E"))
        self.evolution_action.setStatusTip("Proposals that tune the engine: test, approve, apply, roll back.")
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
                                           ("tensions", "T&ensions"), ("calendar", "&Calendar"),
                                           ("stats", "&Statistics"))):
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
        f.addAction(self.export_as_action)
        f.addAction(self.import_action)
        f.addAction(self.import_from_app_action)
        f.addAction(self.encrypt_action)
        f.addSeparator()
        f.addAction(self.integrations_action)
        f.addAction(self.sync_action)
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
        v.addAction(self.evolution_action)
        v.addSeparator()
        for act in self.theme_actions.values():
            v.addAction(act)
        h = mb.addMenu("&Help")
        h.addAction(self.about_action)

    def _connect(self) -> None:
        ex, j = self.executor, self.journal
        ex.opened.connect(self._opened)
        self.encrypt_action.triggered.connect(self.encrypt_requested)
        ex.migration_progressed.connect(self._migration_progressed)
        j.journal_loaded.connect(self._loaded)
        j.journal_loaded.connect(self.journal_loaded)
        j.view_requested.connect(self.show_view)
        j.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        j.identity_changed.connect(self._identity_changed)
        self.new_action.triggered.connect(self.new_reflection)
        self.quit_action.triggered.connect(self.close)
        self.find_action.triggered.connect(self.start_search)
        self.leave_search_action.triggered.connect(self.leave_search)
        self.delete_action.triggered.connect(j.delete_current_reflection)
        self.new_identity_action.triggered.connect(j.create_identity)
        self.new_thread_action.triggered.connect(j.create_thread)
        self.settings_action.triggered.connect(self.show_settings)
        self.about_action.triggered.connect(self.show_about)
        self.reflect_action.triggered.connect(self.reflect)
        self.engine_action.triggered.connect(self.show_engine_settings)
        self.export_action.triggered.connect(lambda: self.bundles.export_requested())
        self.export_as_action.triggered.connect(self.show_export_as)
        self.import_action.triggered.connect(self._import_requested)
        self.integrations_action.triggered.connect(self.show_integrations)
        self.import_from_app_action.triggered.connect(self.show_import_from_app)
        self.sync_action.triggered.connect(self.show_sync)
        self.evolution_action.triggered.connect(self.show_evolution)

    # -- the nightly writer's habits (issue 16): calendar, statistics, templates, focus ----------
    def _build_writing(self) -> None:
        from mirror_desktop.ui.writing.controller import WritingController

        self.writing = WritingController(self, self.settings)  # builds its pages on first use
        A = QAction
        self.template_action = A("New from &template…", self, shortcut=QKeySequence("Ctrl+Shift+N"))
        self.templates_action = A("Te&mplates…", self)
        self.focus_action = A("&Focus mode", self, shortcut=QKeySequence("F11"), checkable=True)
        self.focus_action.setStatusTip("Full screen, nothing but the text (F11 or Esc to leave).")
        for act in (self.template_action, self.focus_action):
            self.addAction(act)  # their keys work with the menu bar hidden in focus mode
        self.template_action.triggered.connect(self.writing.new_from_template)
        self.templates_action.triggered.connect(lambda: self.writing.manage_templates())
        self.focus_action.triggered.connect(lambda _c: self.writing.toggle_focus())
        file_menu, view_menu = (cast(QMenu, a.menu()) for a in self.menuBar().actions()[0:3:2])
        file_menu.insertAction(self.save_action, self.template_action)
        file_menu.insertAction(self.engine_action, self.templates_action)
        view_menu.insertAction(self.preview_action, self.focus_action)

    def setEnabled_for_open(self, open_: bool) -> None:  # noqa: N802 - reads like Qt's setEnabled
        for w in (self.sidebar, self.stack, self.editor) if self._built else (self.stack,):
            w.setEnabled(open_)
        for a in (self.new_action, self.save_action, self.find_action, self.delete_action,
                  self.new_identity_action, self.new_thread_action, self.reflect_action,
                  self.export_action, self.export_as_action, self.import_action, self.integrations_action,
                  self.import_from_app_action, self.sync_action, self.evolution_action):
            a.setEnabled(open_)

    def show_export_as(self) -> None:
        """File → Export as… (issue 15), built on first use; the identities come from the journal first."""
        from mirror_desktop.ui.exporting.dialog import ExportAsDialog
        from mirror_desktop.workers.exporting import ExportsClient

        def open_dialog(identities: list[Any]) -> None:
            if getattr(self, "exports_client", None) is None:
                self.exports_client = ExportsClient(self.paths.database, self, self.executor)
            kind, ident = self.journal._identity  # the identity shown is the one offered first
            self.export_as_dialog = ExportAsDialog(self.exports_client, identities, self.settings,
                                                   "Anonymous" if kind == "anonymous" else ident, self)
            self.export_as_dialog.open()

        self.client.read(lambda s: s.list_identities(), open_dialog)

    @property
    def is_open(self) -> bool:
        return self.journal.is_open

    # -- opening -------------------------------------------------------------------------

    def _migration_progressed(self, step: int, steps: int, version: str) -> None:
        self.progress.setRange(0, max(steps, 1))
        self.progress.setValue(step)
        self.progress_label.setText(
            "Your journal is up to date." if step >= steps else f"Updating your journal ({step + 1} of {steps})…")

    def _opened(self, _storage: object) -> None:
        self.progress.hide()
        self.progress_label.setText("")
        if not self._built:  # the first frame is on its way: the journal loads into the window once it is built
            self._open_pending = True
            if not self.isVisible():
                self.finish_build()
            return
        self.setEnabled_for_open(True)
        self.journal.journal_opened()
        # A new journal gets its default tensions even before the map is opened, and its installation event
        # the mode of the engine the person chose.
        self.tensions.ensure_seeds(self.engine_settings.load().config.effective_mode)
        self.client.read(lambda s: s.schema_version(), self._set_schema_version)
        if self._built:  # otherwise finish_build asks once the first page is painted
            self.sync_status.check_credentials()
            self.sync_client.load_status()  # sync between devices resumes (its own QThread) when it is on

    def _loaded(self) -> None:
        """The first page, identities and threads are shown in the built window: now the background."""
        QTimer.singleShot(0, self._settle)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._built:  # a journal still migrating, or slow to give its first page: build anyway
            QTimer.singleShot(BUILD_FALLBACK_MS, self.finish_build)

    def _first_page_arrived(self, rows: int) -> None:
        if not self._built:
            self.stack.setEnabled(True)  # rows of the opened journal: the first frame shows them as they are
            if rows == 0:
                QTimer.singleShot(0, self.finish_build)  # nothing to paint first

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint and watched is self.list_view.viewport() \
                and self.list_model.rowCount() > 0:
            self.list_view.viewport().removeEventFilter(self)
            QTimer.singleShot(0, self.finish_build)  # after this first paint of the rows reaches the screen
        return False

    def _settle(self) -> None:
        """The journal is shown: now the background (nothing competed with the first paint)."""
        if self._settled or self._closing:
            return
        self._settled = True
        self.writing.journal_loaded()
        self.executor.start_lanes()  # read and background connections (a no-op once open)
        self.client.purge_index()  # what a session killed mid-purge left (migration 012); nothing to do mostly
        self.integrations.start_polling()  # its own QThread (a no-op while it runs)
        from mirror_desktop.workers.attachments import sweep_at_start

        sweep_at_start(self.executor)  # attachment files no row refers to, unfinished imports (issue 15)
        self.settled.emit()

    def _set_schema_version(self, v: str) -> None:
        self._schema_version = v

    # -- views built on first use ----------------------------------------------------------
    @property
    def tension_view(self) -> TensionView:
        """The tension map page, built the first time it is needed."""
        if self._tension_view is None:
            from mirror_desktop.ui.tensions.page import TensionView

            view = TensionView(self.tensions)
            view.reflection_open_requested.connect(self._open_from_elsewhere)
            self._place_page("tensions", view)
            self._tension_view = view
            if self._identity is not None:
                view.set_identity(*self._identity)
        return self._tension_view

    @property
    def search(self) -> SearchPanel:
        """The search page (the journal builds it the first time it is read)."""
        return self.journal.search

    @property
    def timeline(self) -> ThreadTimelineView:
        """The thread timeline page (the journal builds it the first time it is read)."""
        return self.journal.timeline

    def _page_built(self, name: str, page: QWidget) -> None:
        self._place_page(name, page)
        if name == "search":
            cast("SearchPanel", page).leave_requested.connect(self.leave_search)

    def _place_page(self, name: str, page: QWidget) -> None:
        """Put a page built on first use where its placeholder held its place in the stack."""
        index = VIEWS.index(name)
        placeholder = self.stack.widget(index)
        self.stack.insertWidget(index, page)
        if placeholder is not None:
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()

    def _identity_changed(self, identity_id: str | None, anonymous: bool) -> None:
        self._identity = (identity_id, anonymous)
        if self._tension_view is not None:
            self._tension_view.set_identity(identity_id, anonymous)

    @property
    def bundles(self) -> BundleController:
        """Export and import of bundles (File menu), built the first time one is asked for."""
        if self._bundles is None:
            from mirror_desktop.ui.bundle.dialogs import BundleController
            from mirror_desktop.workers.bundles import BundlesClient

            self._bundles = BundleController(self, self.settings, BundlesClient(self.executor, self.paths, parent=self))
            self._bundles.import_finished.connect(self._journal_imported)
        return self._bundles

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
        self.stack.setCurrentWidget(self._page(name))
        # the map and the charts take the width of editor and reply
        self.editor_column.setVisible(name not in ("tensions", "stats"))
        if name in self.view_actions:
            self.view_actions[name].setChecked(True)
        else:
            for act in self.view_actions.values():
                act.setChecked(False)
        if name == "threads" and self.journal._current_thread is None and self.thread_model.rowCount():
            self.sidebar.threads.setCurrentIndex(self.thread_model.index(0, 0))
        self.view_changed.emit(name)

    def _page(self, name: str) -> QWidget:
        """The page of a view, built the first time it is shown."""
        if name in LAZY_VIEWS:
            return self.writing.page(name)
        if name == "tensions":
            return self.tension_view
        if name == "threads":
            return self.timeline
        if name == "search":
            return self.search
        return self.journal.reflection_page

    def start_search(self) -> None:
        self.show_view("search")
        self.search.focus_box()

    def leave_search(self) -> None:
        if self.writing.focus is not None and self.writing.focus.active:
            self.writing.focus.leave()  # Esc leaves focus mode too
            return
        if self._view == "search":
            self.show_view(self._previous_view if self._previous_view != "search" else "reflections")
            self.editor.text.setFocus()

    def new_reflection(self, **start: object) -> None:
        """Ctrl+N: a new page in the editor, with the list or the timeline beside it (``start``: a template)."""
        if self._view in ("tensions", "search", "stats"):
            self.show_view(self._previous_view if self._previous_view in ("reflections", "threads") else "reflections")
        self.journal.new_reflection(**start)


    # -- theme, settings, about ----------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        apply_theme(theme)
        self.theme_actions.get(theme, self.theme_actions["light"]).setChecked(True)
        self.settings.setValue("theme", theme)

    def show_settings(self) -> None:
        from mirror_desktop.ui.dialogs.settings import SettingsDialog

        dlg = SettingsDialog(self.paths, str(self.settings.value("theme", "light")), self,
                             writing=self.writing.writing_settings,
                             lock_minutes=int(str(self.settings.value("lock_after_minutes", 15))))
        if dlg.exec():
            self.set_theme(dlg.theme())
            chosen = dlg.writing_settings()
            if chosen is not None and chosen != self.writing.writing_settings:
                self.writing.save_writing_settings(chosen)
            self.settings.setValue("lock_after_minutes", dlg.lock_minutes())
            self.lock_minutes_changed.emit(dlg.lock_minutes())

    def about_text(self) -> str:
        import platform  # here, not with the first frame

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

    # -- editing, mirrorbacks and bundles ------------------------------------------------
    def edit_focused(self, operation: str) -> None:
        """Edit → Undo/Redo/Cut/Copy/Paste/Select All on the focused text, or undo a tension move."""
        if self._view == "tensions" and operation in ("undo", "redo"):
            getattr(self.tension_view.undo_stack, operation)()
            return
        widget = QApplication.focusWidget()
        method = getattr(widget, operation, None) if widget is not None else None
        if callable(method):
            method()

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
        from mirror_desktop.ui.mirrorback.engine_settings import EngineSettingsDialog

        dialog = EngineSettingsDialog(self.engine_settings, self)
        # One dialog per opening: when it closes, its background checks finish and it is deleted.
        dialog.finished.connect(lambda _r: self._close_engine_settings(dialog))
        dialog.settings_saved.connect(self._engine_settings_saved)
        dialog.open()

    def _engine_settings_saved(self) -> None:
        """A ``config_change`` lifecycle event (issue 17): which engine and choices, never an address or a key."""
        c = self.engine_settings.load()
        self._evolution().record_event("config_change", {
            "change": "engine_settings", "kind": c.config.kind, "mode": c.config.mode,
            "crisis_country": c.config.crisis_country, "directive_threshold": c.config.directive_threshold,
            "share_telemetry": c.share_telemetry})

    @staticmethod
    def _close_engine_settings(dialog: Any) -> None:
        dialog.shutdown()
        dialog.deleteLater()

    def show_integrations(self) -> None:
        """File → Integrations…: one dialog at a time, deleted when it closes."""
        if self.integrations_dialog is None:
            from mirror_desktop.ui.integrations.dialog import IntegrationsDialog

            self.integrations_dialog = IntegrationsDialog(self.integrations, self)
            self.integrations_dialog.finished.connect(self._integrations_closed)
        self.integrations_dialog.open()

    # -- evolution (issue 17): built lazily, on first use --------------------------------------
    def _evolution(self) -> Any:
        if self.evolution_client is None:
            from mirror_desktop.workers.evolution import EvolutionClient

            self.evolution_client = EvolutionClient(self.executor, self)
            self.evolution_client.drafted.connect(
                lambda n: self.statusBar().showMessage(
                    f"Your feedback drafted {n} proposal{'s' if n != 1 else ''} in View → Evolution.", 8000))
            self.evolution_client.regression_found.connect(
                lambda f: self.statusBar().showMessage(
                    f"Mirrorbacks since engine configuration {f.version} did worse than before it; "
                    "View → Evolution offers the rollback.", 15000))
        return self.evolution_client

    def show_evolution(self) -> None:
        """View → Evolution…: one non-modal dialog, deleted when it closes."""
        if self.evolution_dialog is None:
            from mirror_desktop.ui.evolution.view import EvolutionDialog

            self.evolution_dialog = EvolutionDialog(self._evolution(), self)
            self.evolution_dialog.finished.connect(self._evolution_closed)
        self.evolution_dialog.show()
        self.evolution_dialog.raise_()

    def _evolution_closed(self, _result: int) -> None:
        if self.evolution_dialog is not None:
            self.evolution_dialog.deleteLater()
            self.evolution_dialog = None

    def _feedback_for_evolution(self, _run_id: str) -> None:
        """The feedback form's flags feed drafts, and a worse run of mirrorbacks after an apply is noticed."""
        self._evolution().draft_from_feedback()
        self._evolution().check_regression()

    def _integrations_closed(self, _result: int) -> None:
        if self.integrations_dialog is not None:
            self.integrations_dialog.deleteLater()
            self.integrations_dialog = None

    def show_import_from_app(self) -> None:
        """File → Import from another app… (issue 15): built on first use, one dialog at a time."""
        from mirror_desktop.ui.importing.dialog import ImportFromAppDialog
        from mirror_desktop.workers.importing import ImportingClient

        if self.importing is None:
            self.importing = ImportingClient(self.executor, self)
            self.importing.imported.connect(lambda _report: self.list_model.reload())
        if self.import_from_app_dialog is None:
            self.import_from_app_dialog = ImportFromAppDialog(self.importing, self)
        self.import_from_app_dialog.open()

    def _synced(self, report: object) -> None:
        # Notes become reflections on the poller's writes: the list shows them without a restart.
        if any(getattr(report, k, 0) for k in ("added", "updated", "deleted_upstream", "conflict_copies")):
            self.list_model.reload()

    def show_sync(self) -> None:
        """File → Sync… (issue 18): built on first use, kept while the window lives."""
        if self.sync_dialog is None:
            from mirror_desktop.ui.sync.dialog import SyncDialog

            self.sync_dialog = SyncDialog(self.sync_client, self)
        self.sync_dialog.show()
        self.sync_dialog.raise_()

    def _devices_synced(self, report: object) -> None:
        # What arrived shows without a restart; the reflection being typed is left alone.
        if getattr(report, "pulled", 0) or getattr(report, "conflicts", 0):
            self.list_model.reload()
            self.journal.reload_identities()

    def _open_from_elsewhere(self, reflection_id: str) -> None:
        if self._view in ("tensions", "search"):
            self.show_view(self._previous_view if self._previous_view in ("reflections", "threads") else "reflections")
        self.journal.open_reflection(reflection_id)

    def _import_requested(self) -> None:
        self.autosave.save_now()  # typing reaches the executor before the import's swap job
        self.bundles.import_requested()

    def _journal_imported(self, _result: object) -> None:
        self.journal.journal_opened()  # reload identities, threads, stats and the first page
        self.writing.journal_replaced()  # calendar, statistics, tags and On This Day
        self.sync_status.check_credentials()  # imported integrations arrive disconnected (issue 14, item 5)

    # -- shutdown ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Staged shutdown: flush autosave into the queue, then let the executor drain and stop."""
        if not self._closing:
            self._closing = True
            self.save_settings()
            if self.is_open:
                self.autosave.commit()
            if self._built:
                self.mirrorback_panel.shutdown()
                self.writing.shutdown()
            if self._bundles is not None:
                self._bundles.shutdown()
            if getattr(self, "exports_client", None) is not None:
                self.exports_client.shutdown()
            if self._built:
                self.integrations.shutdown()  # the poller stops before the executor it queues on
            if self.importing is not None:
                self.importing.shutdown()  # a running import is cancelled and rolls back first
            if self._built:
                self.sync_client.shutdown()
            if self.executor.pending:
                # Work still queued (saves, an import's last chunk, the index purge after a deletion) finishes
                # before the journal closes; say so instead of a window that looks frozen. repaint(), not
                # processEvents(): no other event may reach a window that is closing.
                self.statusBar().showMessage("Finishing what you asked for before closing…")
                self.statusBar().repaint()
                QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
                try:
                    self.executor.shutdown()
                finally:
                    QApplication.restoreOverrideCursor()
            else:
                self.executor.shutdown()
        event.accept()
