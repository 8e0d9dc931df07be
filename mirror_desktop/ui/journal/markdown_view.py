"""SafeMarkdownView: renders what people wrote with Qt's Markdown reader and nothing else.

RELIABILITY.md "Rendering what people wrote": raw HTML is off (so no <img>, <script>, <style>),
the resource loader serves nothing (no file: read, no network request, for images or anything),
and links open only after a confirmation and only for http, https and mailto.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextDocument
from PySide6.QtWidgets import QMessageBox, QTextBrowser, QWidget

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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.document().setDocumentMargin(18)
        self.anchorClicked.connect(self._anchor_clicked)
        # Tests replace this to answer the confirmation without a modal dialog.
        self.confirm = self._confirm

    def set_markdown(self, text: str) -> None:
        self.document().setMarkdown(text, MARKDOWN_FEATURES)

    def loadResource(self, type_: int, url: QUrl | str) -> Any:  # noqa: N802 - Qt override
        """Serve nothing: no local file, no network, no data URL (images simply do not appear)."""
        self.resource_refused.emit(url.toString() if isinstance(url, QUrl) else str(url))
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
