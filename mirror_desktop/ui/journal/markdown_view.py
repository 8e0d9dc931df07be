"""SafeMarkdownView: renders what people wrote with Qt's Markdown reader and nothing else.

RELIABILITY.md "Rendering what people wrote": raw HTML is off (so no <img>, <script>, <style>),
the resource loader serves nothing (no file: read, no network request, for images or anything)
except the person's own attachments (issue 15): ``attachment:<sha256>`` images, decoded off the GUI
thread by the AttachmentsClient and handed in with ``set_image``; and links open only after a
confirmation and only for http, https and mailto.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import QMessageBox, QTextBrowser, QWidget

_SHA256 = re.compile(r"[0-9a-f]{64}")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
MARKDOWN_FEATURES = QTextDocument.MarkdownFeature(
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value | QTextDocument.MarkdownFeature.MarkdownNoHTML.value
)


class SafeMarkdownView(QTextBrowser):
    """A read-only preview. Every resource request is refused; link clicks ask first.

    Signals:
        resource_refused(str): the document asked for a resource; payload is its URL (for tests and logs).
        link_refused(str): a link with a scheme other than http/https/mailto was clicked; payload is the URL.
    """

    resource_refused = Signal(str)
    link_refused = Signal(str)
    image_wanted = Signal(str)  # sha256 of an attachment image the text shows and the view does not hold yet

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.document().setDocumentMargin(18)
        self.anchorClicked.connect(self._anchor_clicked)
        # Tests replace this to answer the confirmation without a modal dialog.
        self.confirm = self._confirm
        self._markdown = ""
        self._images: dict[str, QImage] = {}

    def set_markdown(self, text: str) -> None:
        self._markdown = text
        self.document().setMarkdown(text, MARKDOWN_FEATURES)

    def set_image(self, sha256: str, image: QImage) -> None:
        """An attachment image has been decoded: show it where the text refers to it."""
        self._images[sha256] = image
        if sha256 in self._markdown:
            bar = self.verticalScrollBar().value()
            self.document().setMarkdown(self._markdown, MARKDOWN_FEATURES)
            self.verticalScrollBar().setValue(bar)

    def loadResource(self, type_: int, url: QUrl | str) -> Any:  # noqa: N802 - Qt override
        """Serve only the journal's own attachment images; nothing else (no file, network or data URL)."""
        u = url if isinstance(url, QUrl) else QUrl(str(url))
        sha = u.path()
        kind = int(getattr(type_, "value", type_))
        if (kind == QTextDocument.ResourceType.ImageResource.value and u.scheme() == "attachment"
                and _SHA256.fullmatch(sha)):
            image = self._images.get(sha)
            if image is None:
                self.image_wanted.emit(sha)
            return image
        self.resource_refused.emit(u.toString())
        return None

    def setSource(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802 - never navigate anywhere
        return None

    def _confirm(self, url: QUrl) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Open link?",
                          f"Open this link outside Mirror?\n\n{url.toString()}",
                          QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Open

    def _anchor_clicked(self, url: QUrl) -> None:
        if url.scheme().lower() not in SAFE_SCHEMES:
            self.link_refused.emit(url.toString())
            return
        if self.confirm(url):
            QDesktopServices.openUrl(url)
