"""ReflectionEditor: the writing surface — Markdown text, preview, identity, visibility, tags, threads.

The widget renders state and emits intents (STYLE.md habit 5): it never saves anything itself. The
AutosaveController (ui/autosave.py) listens to ``content_edited`` and does the saving; errors come
back here as a calm, non-modal banner while the text stays where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from collections.abc import Callable, Sequence

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont, QIcon, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QListView,
    QListWidget,
    QListWidgetItem,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.journal.models.identities import color_dot
from mirror_desktop.ui.journal.markdown_view import SafeMarkdownView
from mirror_desktop.ui.theme import named

VISIBILITIES = ("local_only", "sync_summary", "sync_full_private", "sync_full_public")
TAGS_MIN_WIDTH = 160  # one row only when the tags keep room for two or three tags, not only their tail
IDENTITY_COMBO_MAX_WIDTH = 170


def threads_button_text(n: int) -> str:
    """The Threads button draws its own arrow (the style's menu indicator sat on top of the last letter)."""
    return "Threads ▾" if n == 0 else f"Threads ({n}) ▾"


@dataclass
class EditorState:
    """What is being edited; ids are made here so a first save can never create two rows."""

    reflection_id: str = field(default_factory=m.new_id)
    draft_id: str = field(default_factory=m.new_id)
    created_at: datetime | None = None  # None until the reflection exists in the journal
    thread_ids: set[str] = field(default_factory=set)
    date: datetime | None = None  # a date the person set (backdating, issue 16); None keeps the stored one
    template: str | None = None  # the template a new page started from


@dataclass(frozen=True)
class EditorSnapshot:
    """Everything a save needs, copied on the GUI thread before the job leaves for the worker."""

    reflection_id: str
    draft_id: str
    content: str
    identity_id: str | None
    visibility: str
    tags: tuple[str, ...]
    created_at: datetime | None = None  # set only when the person chose the date
    template: str | None = None

    @property
    def draft_metadata(self) -> dict[str, object]:
        return {"tags": list(self.tags), "visibility": self.visibility}


def parse_tags(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for part in text.split(","):
        tag = part.strip()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


THUMB_SIDE = 72  # the attachment strip's thumbnails, decoded off the GUI thread (workers/attachments.py)
Offered = list[tuple[bytes | str, str]]  # (PNG bytes or a file path, a name) per file offered to a reflection


class AttachingTextEdit(QPlainTextEdit):
    """The writing surface; a pasted or dropped picture or file is offered as an attachment, not as text.

    Signals:
        files_offered(list): [(bytes or path, name), ...] pasted (Ctrl+V an image) or dropped (files).
    """

    files_offered = Signal(list)

    @staticmethod
    def _offer(source: QMimeData) -> Offered:
        if source.hasImage():
            image = source.imageData()
            if isinstance(image, QImage) and not image.isNull():
                data = QByteArray()
                buf = QBuffer(data)
                buf.open(QIODevice.OpenModeFlag.WriteOnly)
                image.save(buf, "PNG")  # type: ignore[call-overload]  # the stubs say bytes, PySide6 takes str
                return [(bytes(data.data()), "pasted image.png")]
        if source.hasUrls():
            files = [u.toLocalFile() for u in source.urls() if u.isLocalFile()]
            return [(f, f.replace("\\", "/").rsplit("/", 1)[-1]) for f in files if f]
        return []

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 - Qt override
        return source.hasImage() or any(u.isLocalFile() for u in source.urls()) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt override
        offered = self._offer(source)
        if offered:
            self.files_offered.emit(offered)
            return
        super().insertFromMimeData(source)


class AttachmentStrip(QListWidget):
    """Thumbnails of a reflection's attachments under the text; hidden while it has none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentStrip")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.setFixedHeight(THUMB_SIDE + 30)
        self.setSpacing(6)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.hide()

    def set_attachments(self, items: Sequence[m.Attachment]) -> None:
        self.clear()
        for a in items:
            it = QListWidgetItem(a.filename or a.mime_type)
            it.setData(Qt.ItemDataRole.UserRole, a.sha256)
            it.setToolTip(f"{a.filename or 'attachment'} · {a.mime_type} · {fmt_size(a.size_bytes)}")
            self.addItem(it)
        self.setVisible(bool(items))

    def shas(self) -> list[str]:
        return [str(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())]

    def set_thumbnail(self, sha256: str, image: QImage) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == sha256:
                self.item(i).setIcon(QIcon(QPixmap.fromImage(image)))


def fmt_size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{max(1, n // 1024)} KB"


class Banner(QFrame):
    """A one-sentence, non-modal message with up to two actions (retry, restore, discard ...)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.NoFrame)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.label, 1)
        self._buttons: list[QPushButton] = []
        self._lay = lay
        self.hide()

    def show_message(self, text: str, actions: Sequence[tuple[str, Callable[[], None]]] = (), kind: str = "info") -> None:
        for b in self._buttons:
            b.deleteLater()
        self._buttons = []
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        for title, fn in actions:
            b = QPushButton(title)
            b.setAutoDefault(False)
            b.clicked.connect(fn)
            self._lay.addWidget(b)
            self._buttons.append(b)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text()

    def button(self, title: str) -> QPushButton | None:
        return next((b for b in self._buttons if b.text() == title), None)


class ReflectionEditor(QWidget):
    """Markdown editing with preview, word count, identity/visibility/tags and thread membership.

    Signals:
        content_edited(): the text or one of its settings changed because the person edited it.
        thread_toggled(str, bool): (thread id, now a member) from the Threads menu.
        new_thread_requested(): "New thread…" chosen in the Threads menu.
        delete_requested(str): payload is the id of the reflection the person asked to delete.
        date_change_requested(): "Change date…" was pressed (the page's date, issue 16).
        conflict_open_requested(str): a conflict copy's banner asked for the version it was copied beside (its id).
    """

    content_edited = Signal()
    attach_requested = Signal(list)  # [(bytes or path, name), ...]: pasted, dropped or picked (issue 15)
    thread_toggled = Signal(str, bool)
    new_thread_requested = Signal()
    delete_requested = Signal(str)
    date_change_requested = Signal()
    conflict_open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editor")
        self.state = EditorState()
        self._loading = False
        self._identities: list[m.Identity] = []
        self._threads: list[m.Thread] = []

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.banner = Banner(self)
        outer.addWidget(self.banner)

        head = named(QWidget(), "editorHeader")
        hl = QVBoxLayout(head)
        hl.setContentsMargins(24, 16, 24, 8)
        hl.setSpacing(8)
        self.date_label = named(QLabel("New reflection"), "editorDate")
        self.date_button = named(QToolButton(), "dateButton")
        self.date_button.setText("Change date…")
        self.date_button.setAutoRaise(True)
        self.date_button.setToolTip("Date this reflection another day (for writing you missed)")
        date_row = QHBoxLayout()
        date_row.setSpacing(6)
        date_row.addWidget(self.date_label)
        date_row.addWidget(self.date_button)
        date_row.addStretch(1)
        hl.addLayout(date_row)
        self.header = head

        row = QHBoxLayout()
        row.setSpacing(8)
        self.identity_combo = QComboBox()
        self.identity_combo.setToolTip("Who is writing: an identity, or Anonymous")
        self.identity_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.identity_combo.setMaximumWidth(IDENTITY_COMBO_MAX_WIDTH)  # a long name never squeezes the tags out
        self.visibility_combo = QComboBox()
        for v in VISIBILITIES:
            self.visibility_combo.addItem(fmt.VISIBILITY_LABELS[v], v)
            # Each level says what sync will do with it (issue 18).
            self.visibility_combo.setItemData(self.visibility_combo.count() - 1, fmt.VISIBILITY_HELP[v],
                                              Qt.ItemDataRole.ToolTipRole)
        self._conflict_banner = False
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText("Tags")  # the long hint was clipped at the usual width
        self.tags_edit.setToolTip("Tags, separated by commas (for example: sleep, work)")
        self.tags_edit.setClearButtonEnabled(True)
        self.tags_edit.setMinimumWidth(90)
        self.threads_button = named(QToolButton(), "threadsButton")
        self.threads_button.setText(threads_button_text(0))
        self.threads_button.setToolTip("Add this reflection to threads, or take it out")
        self.threads_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.threads_menu = QMenu(self.threads_button)
        self.threads_button.setMenu(self.threads_menu)
        self.attach_button = QToolButton()
        self.attach_button.setText("Attach…")
        self.attach_button.setToolTip("Attach an image to this reflection (you can also paste or drop one)")
        self.preview_button = QToolButton()
        self.preview_button.setText("Preview")
        self.preview_button.setCheckable(True)
        self.preview_button.setToolTip("Show the formatted text (Ctrl+Shift+P)")
        # Ctrl+Shift+P belongs to View → Preview alone (two owners made Qt call it ambiguous and do nothing).
        # Who and how private on one row, tags, threads and preview on the next when the editor is narrow
        # (at 820×560 one row clipped every control, issue 11); one row when there is room.
        self._who_row = QHBoxLayout()
        self._who_row.setSpacing(8)
        self._who_row.addWidget(self.identity_combo)
        self._who_row.addWidget(self.visibility_combo)
        self._who_row.addStretch(1)
        row.addWidget(self.tags_edit, 1)
        row.addWidget(self.threads_button)
        row.addWidget(self.attach_button)
        row.addWidget(self.preview_button)
        self._header_row = row
        hl.addLayout(self._who_row)
        hl.addLayout(row)
        self._one_row = False
        self._arrange_header(wide=True)
        outer.addWidget(head)

        self.stack = QStackedWidget()
        self.text = named(AttachingTextEdit(), "editorText")
        self.text.setPlaceholderText("Write what is on your mind…")
        self.text.setTabChangesFocus(False)
        font = QFont(self.text.font())
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.15)
        self.text.setFont(font)
        self.text.document().setDocumentMargin(18)
        self.preview = SafeMarkdownView()
        self.preview.setObjectName("editorPreview")
        self.stack.addWidget(self.text)
        self.stack.addWidget(self.preview)
        outer.addWidget(self.stack, 1)
        self.attachments = AttachmentStrip()
        outer.addWidget(self.attachments)

        foot = named(QWidget(), "editorFooter")
        fl = QHBoxLayout(foot)
        fl.setContentsMargins(24, 6, 24, 8)
        self.words_label = named(QLabel("0 words"), "muted")
        self.save_label = named(QLabel(""), "muted")
        self.save_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.save_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        fl.addWidget(self.words_label)
        fl.addWidget(self.save_label, 1)
        outer.addWidget(foot)

        self.text.textChanged.connect(self._text_changed)
        self.identity_combo.currentIndexChanged.connect(self._identity_changed)
        self.visibility_combo.currentIndexChanged.connect(self._setting_changed)
        self.visibility_combo.currentIndexChanged.connect(lambda _i: self._sync_visibility())
        self.tags_edit.textEdited.connect(lambda _t: self._setting_changed())
        self.preview_button.toggled.connect(self.set_preview)
        self.attach_button.clicked.connect(self.pick_attachment)
        self.text.files_offered.connect(self.attach_requested)
        self.date_button.clicked.connect(self.date_change_requested)
        self.footer = foot
        self.set_identities([])
        self._sync_visibility()

    # -- state in ------------------------------------------------------------------------
    def _arrange_header(self, wide: bool) -> None:
        if wide == self._one_row:
            return
        self._one_row = wide
        for i, w in enumerate((self.identity_combo, self.visibility_combo)):
            if wide:
                self._header_row.insertWidget(i, w)
            else:
                self._who_row.insertWidget(i, w)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        need = sum(w.sizeHint().width() for w in (self.identity_combo, self.visibility_combo, self.threads_button,
                                                      self.preview_button, self.attach_button)) + TAGS_MIN_WIDTH + 4 * 8 + 48
        self._arrange_header(wide=event.size().width() >= need)

    def set_identities(self, identities: list[m.Identity]) -> None:
        current = self.identity_id()
        self._identities = sorted(identities, key=lambda i: i.name.lower())
        self._loading, was = True, self._loading
        self.identity_combo.clear()
        self.identity_combo.addItem(color_dot(None), "Anonymous", None)
        for ident in self._identities:
            self.identity_combo.addItem(color_dot(ident.color), ident.name, ident.id)
        self._select_identity(current)
        self._loading = was
        self._sync_visibility()

    def set_threads(self, threads: list[m.Thread]) -> None:
        self._threads = list(threads)
        self._rebuild_threads_menu()

    def set_thread_ids(self, thread_ids: set[str]) -> None:
        self.state.thread_ids = set(thread_ids)
        self._rebuild_threads_menu()

    def _rebuild_threads_menu(self) -> None:
        self.threads_menu.clear()
        usable = [t for t in self._threads if str(t.status) != "archived" or t.id in self.state.thread_ids]
        for t in usable:
            act = QAction(t.title or "Untitled thread", self.threads_menu)
            act.setCheckable(True)
            act.setChecked(t.id in self.state.thread_ids)
            act.setData(t.id)
            act.toggled.connect(lambda on, tid=t.id: self._thread_action(tid, on))
            self.threads_menu.addAction(act)
        if usable:
            self.threads_menu.addSeparator()
        new = self.threads_menu.addAction("New thread…")
        new.triggered.connect(self.new_thread_requested)
        self.threads_button.setText(threads_button_text(len(self.state.thread_ids)))

    def _thread_action(self, thread_id: str, on: bool) -> None:
        if on:
            self.state.thread_ids.add(thread_id)
        else:
            self.state.thread_ids.discard(thread_id)
        self.threads_button.setText(threads_button_text(len(self.state.thread_ids)))
        self.thread_toggled.emit(thread_id, on)

    def new_reflection(self, identity_id: str | None, *, date: datetime | None = None, text: str = "",
                       template: str | None = None) -> None:
        """Start a new reflection (ids are new; nothing is written until the person types).

        ``date`` dates it another day (the calendar's "write for this day"); ``text`` and ``template``
        start it from a template, which is not saved until it is edited."""
        self._load(EditorState(date=date, template=template), text, identity_id, "local_only", ())
        self.text.setFocus()
        if text:
            cursor = self.text.textCursor()
            cursor.movePosition(cursor.MoveOperation.Start)
            cursor.movePosition(cursor.MoveOperation.Down, n=2)  # past the heading, onto the first question
            cursor.movePosition(cursor.MoveOperation.EndOfLine)
            self.text.setTextCursor(cursor)

    def show_tags(self, tags: tuple[str, ...]) -> None:
        """The stored tags changed elsewhere (a tag renamed or merged): show them without marking an edit."""
        self._loading, was = True, self._loading
        self.tags_edit.setText(", ".join(tags))
        self.tags_edit.setCursorPosition(0)
        self._loading = was

    def set_date(self, when: datetime) -> None:
        """The person chose this page's date: shown at once, stored with the next save."""
        self.state.date = when
        self._update_date()
        self._setting_changed()

    def load_reflection(self, r: m.Reflection, thread_ids: set[str] | None = None) -> None:
        state = EditorState(reflection_id=r.id, created_at=r.created_at, thread_ids=set(thread_ids or ()))
        self._load(state, r.content, r.identity_id, str(r.visibility), tuple(r.tags))

    def show_conflict(self, r: m.Reflection) -> None:
        """After loading ``r``: a banner when sync kept it as the other text of a reflection edited on two
        devices (issue 18), with the way to merge; the banner goes when another reflection is opened."""
        conflict_of = (r.metadata or {}).get("conflict_of")
        if conflict_of:
            # Sync kept both texts of a reflection edited on two devices (issue 18): this is the other one.
            self.banner.show_message(
                "This is a conflict copy: the reflection was edited on two devices before they synced, and Mirror "
                "kept both texts. Merge what you want into the other version, then delete this copy.",
                [("Open the other version", lambda: self.conflict_open_requested.emit(str(conflict_of))),
                 ("Delete this copy", lambda: self.delete_requested.emit(r.id))], kind="draft")
            self._conflict_banner = True
        elif self._conflict_banner:
            self.banner.hide()
            self._conflict_banner = False

    def load_draft(self, d: m.Draft, existing: m.Reflection | None = None) -> None:
        """Put a recovered draft back in the editor; the caller then marks it edited so it is saved."""
        meta = d.metadata or {}
        state = EditorState(reflection_id=d.reflection_id or m.new_id(), draft_id=d.id,
                            created_at=existing.created_at if existing else None)
        self._load(state, d.content, d.identity_id, str(meta.get("visibility") or "local_only"),
                   tuple(meta.get("tags") or ()))

    def _load(self, state: EditorState, content: str, identity_id: str | None, visibility: str,
              tags: tuple[str, ...]) -> None:
        self._loading = True
        try:
            self.state = state
            self._select_identity(identity_id)
            i = self.visibility_combo.findData(visibility)
            self.visibility_combo.setCurrentIndex(max(i, 0))
            self.tags_edit.setText(", ".join(tags))
            self.tags_edit.setCursorPosition(0)  # show the first tags, not the tail of the last one
            self.text.setPlainText(content)
            self._sync_visibility()
            self._rebuild_threads_menu()
            self._update_words()
            self._update_date()
            if self.preview_button.isChecked():
                self.preview.set_markdown(content)
        finally:
            self._loading = False

    def mark_saved(self, saved: m.Reflection) -> None:
        if saved.id == self.state.reflection_id:
            self.state.created_at = saved.created_at
            self._update_date()

    def set_save_status(self, text: str) -> None:
        self.save_label.setText(text)

    # -- state out -----------------------------------------------------------------------
    def set_identity(self, identity_id: str | None) -> None:
        """Write this page as ``identity_id`` (None: Anonymous, which is local only)."""
        self._select_identity(identity_id)
        self._sync_visibility()

    def identity_id(self) -> str | None:
        return self.identity_combo.currentData() if self.identity_combo.count() else None

    def visibility(self) -> str:
        return "local_only" if self.identity_id() is None else str(self.visibility_combo.currentData())

    def tags(self) -> tuple[str, ...]:
        return parse_tags(self.tags_edit.text())

    def content(self) -> str:
        return self.text.toPlainText()

    def snapshot(self) -> EditorSnapshot:
        return EditorSnapshot(self.state.reflection_id, self.state.draft_id, self.content(), self.identity_id(),
                              self.visibility(), self.tags(), self.state.date, self.state.template)

    @property
    def is_saved_reflection(self) -> bool:
        return self.state.created_at is not None

    # -- behaviour -----------------------------------------------------------------------
    def set_preview(self, on: bool) -> None:
        if self.preview_button.isChecked() != on:
            self.preview_button.setChecked(on)
            return
        if on:
            self.preview.set_markdown(self.content())
            self.stack.setCurrentWidget(self.preview)
        else:
            self.stack.setCurrentWidget(self.text)
            self.text.setFocus()

    def pick_attachment(self) -> None:
        """Attach image…: choose files; the controller keeps them with this reflection."""
        files, _ = QFileDialog.getOpenFileNames(self, "Attach image", "",
                                                "Images (*.png *.jpg *.jpeg *.gif *.webp *.heic *.bmp);;All files (*)")
        if files:
            self.attach_requested.emit([(f, f.replace("\\", "/").rsplit("/", 1)[-1]) for f in files])

    def insert_reference(self, markdown: str) -> None:
        """Put an attachment's Markdown at the cursor, on a line of its own (an edit like typing it)."""
        cursor = self.text.textCursor()
        before = "" if cursor.atBlockStart() else "\n"
        cursor.insertText(f"{before}{markdown}\n")
        self.text.setTextCursor(cursor)

    def _select_identity(self, identity_id: str | None) -> None:
        i = self.identity_combo.findData(identity_id) if identity_id is not None else 0
        self.identity_combo.setCurrentIndex(max(i, 0))

    def _sync_visibility(self) -> None:
        """Spec 2: an anonymous reflection is local_only, always; the selector says so and is locked."""
        anonymous = self.identity_id() is None
        if anonymous:
            was = self._loading
            self._loading = True
            self.visibility_combo.setCurrentIndex(self.visibility_combo.findData("local_only"))
            self._loading = was
        self.visibility_combo.setEnabled(not anonymous)
        self.visibility_combo.setToolTip(
            "Anonymous reflections always stay on this device." if anonymous
            else fmt.VISIBILITY_HELP.get(str(self.visibility_combo.currentData()), "What may leave this device"))

    def _identity_changed(self, _i: int) -> None:
        self._sync_visibility()
        self._setting_changed()

    def _setting_changed(self) -> None:
        if not self._loading:
            self.content_edited.emit()

    def _text_changed(self) -> None:
        self._update_words()
        if not self._loading:
            self.content_edited.emit()

    def _update_words(self) -> None:
        self.words_label.setText(fmt.plural(fmt.word_count(self.content()), "word"))

    def _update_date(self) -> None:
        when = self.state.date or self.state.created_at
        if when is None:
            self.date_label.setText("New reflection")
        else:
            self.date_label.setText(fmt.long_date(when) if self.state.created_at or self.state.date is None
                                    else f"New reflection for {fmt.long_date(when)}")
