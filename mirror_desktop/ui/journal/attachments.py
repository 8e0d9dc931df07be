"""The editor's attachments (issue 15): pasted, dropped or picked files kept with the reflection,
thumbnails under the text, pictures in the preview. Widgets here only ask the AttachmentsClient.

A file offered to a page with no text yet is refused with one sentence (a reflection needs text,
spec 2, before anything can be kept with it). Otherwise the page is saved first (queued on the
serial executor, so the row exists), then the file is added, and its Markdown reference
``![name](attachment:<sha256>)`` is put at the cursor like typed text, which autosave then saves.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Slot
from PySide6.QtGui import QImage

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import IMAGE_TYPES, reference
from mirror_desktop.workers.attachments import AttachmentsClient
from mirror_desktop.workers.base import sentence
from mirror_desktop.ui.journal.editor import THUMB_SIDE, ReflectionEditor

PREVIEW_SIDE = 400


class EditorAttachments(QObject):
    def __init__(self, executor: Any, editor: ReflectionEditor, autosave: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor, self.autosave = editor, autosave
        self.client = AttachmentsClient(executor, self)
        self.client.image_ready.connect(self._image_ready)
        self.client.operation_failed.connect(self._failed_sentence)
        editor.attach_requested.connect(self.attach)
        editor.preview.image_wanted.connect(self._preview_wants)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.client.shutdown)

    def preview_side(self) -> int:
        """The preview's picture size: its width less the margins, in steps of 80 (few sizes to cache)."""
        room = self.editor.preview.viewport().width() - 2 * 18 - 8
        return max(160, min(PREVIEW_SIDE, room // 80 * 80))

    def _preview_wants(self, sha256: str) -> None:
        self.client.request_image(sha256, self.preview_side())

    @Slot(object)
    def reflection_opened(self, reflection_id: str | None) -> None:
        self.editor.attachments.set_attachments([])
        if reflection_id:
            rid: str = reflection_id
            self.client.list_for(rid, lambda items: self._listed(rid, items))

    def _listed(self, reflection_id: str, items: list[m.Attachment]) -> None:
        if reflection_id != self.editor.state.reflection_id:
            return  # another reflection was opened meanwhile
        self.editor.attachments.set_attachments(items)
        for a in items:
            if a.mime_type in IMAGE_TYPES:
                self.client.request_image(a.sha256, THUMB_SIDE)

    def attach(self, offered: list[tuple[bytes | str, str]]) -> None:
        ed = self.editor
        if not ed.content().strip():
            ed.banner.show_message("Write something first; a picture is kept with a reflection, and an empty "
                                   "page is not one yet.", [("OK", ed.banner.hide)])
            return
        self.autosave.save_now()  # queued first on the serial executor, so the row exists
        rid: str = ed.state.reflection_id
        for source, name in offered:
            self.client.add(rid, source, name, lambda a: self._added(rid, a), self._failed)

    def _added(self, reflection_id: str, a: m.Attachment) -> None:
        if reflection_id != self.editor.state.reflection_id:
            return
        if a.mime_type in IMAGE_TYPES:
            self.editor.insert_reference(reference(a))
        self.client.list_for(reflection_id, lambda items: self._listed(reflection_id, items))

    def _failed(self, exc: BaseException) -> None:
        self._failed_sentence(sentence(exc))

    def _failed_sentence(self, text: str) -> None:
        self.editor.banner.show_message(text, [("OK", self.editor.banner.hide)], kind="error")

    def _image_ready(self, sha256: str, side: int, image: QImage) -> None:
        if side == THUMB_SIDE:
            self.editor.attachments.set_thumbnail(sha256, image)
        else:
            self.editor.preview.set_image(sha256, image)
