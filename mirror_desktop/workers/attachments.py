"""AttachmentsClient: pictures into reflections and thumbnails out, never on the GUI thread (issue 15).

Adding runs ``AttachmentService.add`` on the executor's write lane (after any save already queued, so
the reflection exists). A thumbnail is two steps off the GUI thread: the bytes are read on the read
lane, then decoded and scaled as a QImage (never a QPixmap, which belongs to the GUI thread) on a
TaskRunner thread; the GUI thread only receives the small QImage. Thumbnails are cached by
(sha256, size), so a picture shown twice is decoded once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import AttachmentService
from mirror_desktop.workers.base import FeatureClient
from mirror_desktop.workers.executor import DatabaseExecutor, Job
from mirror_desktop.workers.tasks import TaskRunner

CACHE_SIZE = 200
log = logging.getLogger(__name__)


def scaled_image(data: bytes, max_side: int) -> QImage:
    """Decode ``data`` and fit it into ``max_side`` × ``max_side`` (any thread; a null image if unreadable)."""
    img = QImage.fromData(data)
    if img.isNull() or (img.width() <= max_side and img.height() <= max_side):
        return img
    return img.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def sweep_at_start(executor: DatabaseExecutor) -> Job:
    """The start-up sweep (issue 15), once the first page is shown: attachment files no row refers to (a crash
    mid-import or mid-attach) and chunked imports a killed process left unfinished.

    The looking (a walk of the attachments folder, one query) runs on the background lane; only when it
    finds something is a short job queued on the write lane, which removes exactly those, each checked
    again under the write lock, so a file a row refers to is never deleted.
    """
    from mirror_desktop.core import attachments as att
    from mirror_desktop.core import importing

    def look(storage: Any) -> tuple[set[str] | None, list[str]]:
        return att.orphan_candidates(storage), importing.unfinished_imports(storage)

    def clean(storage: Any, shas: set[str] | None) -> int:
        removed = importing.recover_unfinished_imports(storage)
        return removed + (att.sweep_orphans(storage) if shas is None else att.release_blobs(storage, shas))

    def found(result: tuple[set[str] | None, list[str]]) -> None:
        shas, unfinished = result
        if shas is None or shas or unfinished:
            executor.submit(lambda storage: clean(storage, shas), None, _logged, lane="write")

    return executor.submit(look, found, _logged, lane="background")


def _logged(exc: BaseException) -> None:
    # Nothing the person did failed: the next start sweeps again.
    log.warning("the start-up sweep of attachment files did not finish (%s)", type(exc).__name__)


class AttachmentsClient(FeatureClient):
    """Signals:
        attachment_added(object): an attachment was kept with a reflection; payload is the Attachment.
        image_ready(str, int, object): (sha256, max side, QImage) a thumbnail finished decoding.
    """

    attachment_added = Signal(object)
    image_ready = Signal(str, int, object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, AttachmentService, parent)
        self.tasks = TaskRunner("mirror-thumbnails", self)
        self._cache: OrderedDict[tuple[str, int], QImage] = OrderedDict()
        self._pending: set[tuple[str, int]] = set()

    def add(self, reflection_id: str, source: bytes | str, filename: str | None,
            on_result: Callable[[m.Attachment], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
        self.call(lambda svc: svc.add(reflection_id, source, filename),
                  self._then(self.attachment_added, on_result), on_error)

    def list_for(self, reflection_id: str, on_result: Callable[[list[m.Attachment]], None]) -> None:
        self.query(lambda svc: svc.list_for(reflection_id), on_result, lambda _e: on_result([]))

    def cached(self, sha256: str, max_side: int) -> QImage | None:
        return self._cache.get((sha256, max_side))

    def request_image(self, sha256: str, max_side: int) -> None:
        """Make the (sha256, max_side) thumbnail off the GUI thread; ``image_ready`` says when it is there."""
        key = (sha256, max_side)
        if key in self._cache:
            self.image_ready.emit(sha256, max_side, self._cache[key])
            return
        if key in self._pending:
            return
        self._pending.add(key)

        def got_bytes(data: bytes) -> None:
            self.tasks.run(lambda: scaled_image(data, max_side), lambda img: self._decoded(key, img),
                           lambda _e: self._pending.discard(key))

        self.query(lambda svc: svc.read(sha256), got_bytes, lambda _e: self._pending.discard(key))

    def _decoded(self, key: tuple[str, int], img: Any) -> None:
        self._pending.discard(key)
        if not isinstance(img, QImage) or img.isNull():
            return
        self._cache[key] = img
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self.image_ready.emit(key[0], key[1], img)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        return self.tasks.shutdown(timeout_ms)
