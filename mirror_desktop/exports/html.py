"""HTML export: one self-contained ``journal.html`` (images inside as data URIs), days as headings.

Everything a person wrote is escaped (markdown-it, raw HTML off; names and tags through
``html.escape``), and a Content-Security-Policy in the page allows no script, no network and no
frame: only the page's own style and ``data:`` images. Files a browser cannot show inline (PDF,
sound, film, HEIC) are copied beside the page into ``attachments/`` and linked. Each reflection is
written as soon as it is rendered: memory stays flat however long the journal.
"""

from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path
from typing import TextIO

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import DISPLAYABLE_TYPES, blob_path, read_blob, references_in
from mirror_desktop.core.errors import NotFoundError
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.safe_io import create_private_file
from mirror_desktop.exports.common import ExportContext, attachment_file_name, copy_attachments, local
from mirror_desktop.exports.markup import esc, markdown_html, relink_hrefs, split_attachments

ATTACHMENTS_DIR = "attachments"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
STYLE = """
body { font-family: Georgia, 'Noto Serif', serif; max-width: 46em; margin: 2em auto; padding: 0 1em;
       line-height: 1.55; color: #222; background: #fdfcf9; }
h1 { font-size: 1.9em; margin-bottom: .2em; } .sub { color: #777; margin-top: 0; }
h2 { font-size: 1.25em; margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
article { margin: 1.2em 0 1.8em; } .meta { color: #888; font-size: .85em; margin-bottom: .3em; }
.tag { background: #eee; border-radius: 3px; padding: 0 .35em; margin-left: .3em; }
img { max-width: 100%; height: auto; border-radius: 4px; } .files { font-size: .9em; }
blockquote { border-left: 3px solid #ccc; margin-left: 0; padding-left: 1em; color: #555; }
pre { white-space: pre-wrap; background: #f3f1ec; padding: .6em; }
@media (prefers-color-scheme: dark) { body { background: #1d1d1f; color: #ddd; } .tag { background: #333; } }
@media print { h2 { break-after: avoid; } article { break-inside: avoid-page; } }
"""


class _Page:
    def __init__(self, storage: MirrorStorage, ctx: ExportContext, fh: TextIO) -> None:
        self.storage, self.ctx, self.fh = storage, ctx, fh
        self.beside: set[str] = set()
        self.embedded: set[str] = set()

    def data_uri(self, a: m.Attachment) -> None:
        """Write ``data:<type>;base64,...`` for ``a`` in pieces (a 50 MB photo never sits in memory twice)."""
        self.fh.write(f"data:{a.mime_type};base64,")
        path = blob_path(self.storage, a.sha256)
        if path is not None:
            with path.open("rb") as src:
                for chunk in iter(lambda: src.read(3 * 256 * 1024), b""):
                    self.fh.write(base64.b64encode(chunk).decode("ascii"))
        else:
            self.fh.write(base64.b64encode(read_blob(self.storage, a.sha256)).decode("ascii"))
        self.embedded.add(a.sha256)

    def file_beside(self, a: m.Attachment) -> str:
        self.ctx.result.attachments += copy_attachments(self.storage, [a], self.ctx.out_dir / ATTACHMENTS_DIR,
                                                        self.beside)
        return f"{ATTACHMENTS_DIR}/{attachment_file_name(a)}"

    def image(self, a: m.Attachment, alt: str) -> None:
        try:
            if a.mime_type in DISPLAYABLE_TYPES:
                self.fh.write(f'<img alt="{alt}" src="')
                self.data_uri(a)
                self.fh.write('" />')
                return
            href = self.file_beside(a)
        except NotFoundError:
            self.fh.write(f"<em>[{alt or 'a missing attachment'}]</em>")
            return
        self.fh.write(f'<a href="{esc(href)}">{alt or esc(a.filename or href)}</a>')

    def reflection(self, r: m.Reflection, items: list[m.Attachment]) -> None:
        by_sha = {a.sha256: a for a in items}
        when = local(r.created_at)
        tags = "".join(f'<span class="tag">#{esc(t)}</span>' for t in r.tags)
        self.fh.write(f'<article dir="auto" id="r-{esc(r.id)}">\n<p class="meta"><time datetime="{esc(when.isoformat())}">'
                      f"{when:%H:%M}</time>{tags}</p>\n")
        hrefs = {sha: self.file_beside(a) for sha, a in by_sha.items() if a.mime_type not in DISPLAYABLE_TYPES}
        rendered = relink_hrefs(markdown_html(r.content), hrefs)
        for before, sha, alt in split_attachments(rendered):
            self.fh.write(before)
            if sha is not None:
                a = by_sha.get(sha)
                if a is None:
                    self.fh.write(f"<em>[{alt or 'an attachment of another reflection'}]</em>")
                else:
                    self.image(a, alt)
        placed = set(references_in(r.content))
        rest = [a for a in items if a.sha256 not in placed]
        if rest:
            self.fh.write('<div class="files">\n')
            for a in rest:
                self.fh.write("<p>")
                self.image(a, esc(a.filename or ""))
                self.fh.write("</p>\n")
            self.fh.write("</div>\n")
        self.fh.write("</article>\n")


def write_html(storage: MirrorStorage, ctx: ExportContext) -> Path:
    path = ctx.out_dir / "journal.html"
    with os.fdopen(create_private_file(path), "w", encoding="utf-8", newline="\n") as fh:
        title = esc(ctx.title())
        fh.write(f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8" />\n'
                 f'<meta http-equiv="Content-Security-Policy" content="{CSP}" />\n'
                 f'<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
                 f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n")
        page = _Page(storage, ctx, fh)
        day: date | None = None
        count = 0
        for batch in ctx.batches(storage):
            for r in batch.reflections:
                d = local(r.created_at).date()
                if d != day:
                    day = d
                    fh.write(f'<h2 id="d-{d.isoformat()}">{esc(f"{d:%A}, {d.day} {d:%B %Y}")}</h2>\n')
                page.reflection(r, batch.attachments.get(r.id, []))
                count += 1
        if count == 0:
            fh.write('<p class="sub">No reflections in this range.</p>\n')
        fh.write("</body>\n</html>\n")
    ctx.result.attachments += len(page.embedded)
    return path
