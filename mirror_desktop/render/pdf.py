"""PDF export: a printable book of a date range (QTextDocument + QPdfWriter), dates as headings, images in.

A title page, then each month from a new page (``<h1>``), each day as a heading (``<h2>``), each
reflection with its time and tags, its Markdown rendered (exports/markup.py: raw HTML off), and its
pictures scaled to the page. Page numbers at the foot.

Memory stays bounded at any journal size: the book is laid out one month at a time (a month of more
than ``CHUNK`` reflections in several parts), each part a QTextDocument painted page by page onto
the one QPdfWriter and then dropped. Images are decoded as QImage (never QPixmap), so this runs on a
worker thread of the window as well as in the CLI, which creates an offscreen QGuiApplication for it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import DISPLAYABLE_TYPES, read_blob, references_in
from mirror_desktop.core.errors import NotFoundError
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.exports.common import ExportContext, local
from mirror_desktop.exports.markup import esc, markdown_html, relink_hrefs, split_attachments

RESOLUTION = 150  # dots per inch of the layout: sharp enough to print, light enough for 10,000 pages
CHUNK = 250  # reflections per laid-out document
MARGIN_MM = 18.0
SCHEME = "mirror-attachment"
CSS = """
h1 { font-size: 20pt; margin-top: 0; margin-bottom: 12pt; }
h2 { font-size: 13pt; margin-top: 16pt; margin-bottom: 4pt; color: #333; }
p { margin-top: 0; margin-bottom: 6pt; }
.meta { font-size: 8.5pt; color: #777; margin-top: 10pt; margin-bottom: 2pt; }
.missing { color: #999; }
blockquote { color: #555; }
pre { font-size: 9pt; }
"""


def _image_html(storage: MirrorStorage, doc: QTextDocument, a: m.Attachment, alt: str, max_w: float,
                max_h: float) -> str:
    if a.mime_type not in DISPLAYABLE_TYPES:
        return f'<span class="missing">[{alt or esc(a.filename or a.mime_type)}]</span>'
    try:
        img = QImage.fromData(read_blob(storage, a.sha256))
    except NotFoundError:
        img = QImage()
    if img.isNull():
        return f'<span class="missing">[{alt or "a picture that could not be read"}]</span>'
    # As large as it would show on a 96 dpi screen, never wider than the page or taller than 60 % of it.
    w, h = img.width() * RESOLUTION / 96.0, img.height() * RESOLUTION / 96.0
    scale = min(1.0, max_w / w, (max_h * 0.6) / h)
    dw, dh = max(1, int(w * scale)), max(1, int(h * scale))
    if img.width() > dw or img.height() > dh:
        img = img.scaled(dw, dh, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    url = f"{SCHEME}:{a.sha256}"
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(url), img)
    return f'<img src="{url}" width="{dw}" height="{dh}" />'


def _reflection_html(storage: MirrorStorage, doc: QTextDocument, r: m.Reflection, items: list[m.Attachment],
                     max_w: float, max_h: float) -> str:
    by_sha = {a.sha256: a for a in items}
    when = local(r.created_at)
    tags = "  ".join(f"#{esc(t)}" for t in r.tags)
    out = [f'<p class="meta">{when:%H:%M}{"  ·  " + tags if tags else ""}</p>']
    rendered = relink_hrefs(markdown_html(r.content), {})
    for before, sha, alt in split_attachments(rendered):
        out.append(before)
        if sha is not None:
            a = by_sha.get(sha)
            out.append(_image_html(storage, doc, a, alt, max_w, max_h) if a is not None
                       else f'<span class="missing">[{alt or "an attachment"}]</span>')
    placed = set(references_in(r.content))
    for a in items:
        if a.sha256 not in placed:
            out.append(f"<p>{_image_html(storage, doc, a, esc(a.filename or ''), max_w, max_h)}</p>")
    return "".join(out)


class _Book:
    def __init__(self, path: Path, title: str) -> None:
        self.writer = QPdfWriter(str(path))
        self.writer.setTitle(title)
        self.writer.setCreator("Mirror")
        self.writer.setResolution(RESOLUTION)
        self.writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                              QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                                              QPageLayout.Unit.Millimeter))
        rect = self.writer.pageLayout().paintRectPixels(RESOLUTION)
        self.width = float(rect.width())
        self.footer = RESOLUTION * 0.35
        self.height = float(rect.height()) - self.footer
        self.painter = QPainter()
        if not self.painter.begin(self.writer):
            from mirror_desktop.exports.common import ExportRefused

            raise ExportRefused(f"The PDF {path} could not be started; check the folder and the free space.")
        self.pages = 0
        self.font = QFont("Serif", 11)

    def document(self) -> QTextDocument:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(self.writer)
        doc.setDefaultFont(self.font)
        doc.setDefaultStyleSheet(CSS)
        doc.setPageSize(QSizeF(self.width, self.height))
        return doc

    def paint(self, doc: QTextDocument) -> None:
        """Each page of ``doc`` on a new page of the book, with its number at the foot."""
        for i in range(doc.pageCount()):
            if self.pages:
                self.writer.newPage()
            self.pages += 1
            p = self.painter
            p.save()
            p.translate(0, -i * self.height)
            doc.drawContents(p, QRectF(0, i * self.height, self.width, self.height))
            p.restore()
            p.save()
            p.setPen(Qt.GlobalColor.gray)
            p.setFont(QFont("Serif", 8))
            p.drawText(QRectF(0, self.height, self.width, self.footer),
                       int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), str(self.pages))
            p.restore()

    def finish(self) -> None:
        self.painter.end()


class _Chunk:
    """The part of the book being laid out: one month, or CHUNK reflections of a long month."""

    def __init__(self, book: _Book) -> None:
        self.book = book
        self.doc: QTextDocument | None = None
        self.parts: list[str] = []
        self.count = 0
        self.month: tuple[int, int] | None = None
        self.day: date | None = None

    def flush(self) -> None:
        if self.doc is not None and self.parts:
            self.doc.setHtml("".join(self.parts))
            self.book.paint(self.doc)
        self.doc, self.parts, self.count = None, [], 0

    def add(self, storage: MirrorStorage, r: m.Reflection, items: list[m.Attachment]) -> None:
        when = local(r.created_at)
        new_month = (when.year, when.month) != self.month
        if self.doc is None or new_month or self.count >= CHUNK:
            self.flush()
            self.doc = self.book.document()
            self.day = None
            if new_month:
                self.month = (when.year, when.month)
                self.parts.append(f"<h1>{when:%B %Y}</h1>")
        if when.date() != self.day:
            self.day = when.date()
            self.parts.append(f"<h2>{esc(f'{self.day:%A}, {self.day.day} {self.day:%B %Y}')}</h2>")
        self.parts.append(_reflection_html(storage, self.doc, r, items, self.book.width, self.book.height))
        self.count += 1


def write_pdf(storage: MirrorStorage, ctx: ExportContext) -> Path:
    from PySide6.QtGui import QGuiApplication

    from mirror_desktop.exports.common import ExportRefused

    if QGuiApplication.instance() is None:
        raise ExportRefused("PDF export needs Mirror's drawing engine, which is not running; use the window, "
                            "or `mirror export-to pdf`, which starts it.")
    path = ctx.out_dir / "journal.pdf"
    book = _Book(path, ctx.title())
    try:
        title = book.document()
        span = ""
        if ctx.since or ctx.until:
            span = (f"{ctx.since.isoformat() if ctx.since else 'the beginning'} to "
                    f"{ctx.until.isoformat() if ctx.until else 'today'}")
        count = f"{ctx.total} reflection{'s' if ctx.total != 1 else ''}"
        title.setHtml(f'<p><br/><br/><br/><br/></p><h1 align="center" style="font-size: 28pt">'
                      f"{esc(ctx.identity_name)}</h1><p align=\"center\">{esc(span)}</p>"
                      f'<p align="center" class="meta">{count}</p>')
        book.paint(title)
        chunk = _Chunk(book)
        for batch in ctx.batches(storage):
            for r in batch.reflections:
                items = batch.attachments.get(r.id, [])
                chunk.add(storage, r, items)
                ctx.result.attachments += len(items)
        chunk.flush()
    finally:
        book.finish()
    return path


def offscreen_app() -> object:
    """A QGuiApplication on the offscreen platform for a command-line PDF (none is shown); reuses one that exists."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication(["mirror", "-platform", "offscreen"])
    return app
