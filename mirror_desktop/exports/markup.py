"""A reflection's Markdown as safe HTML, for the HTML and PDF exports.

markdown-it-py with the CommonMark preset and raw HTML switched off: any ``<tag>`` a person typed
comes out as text, and its link check drops ``javascript:``, ``vbscript:``, ``file:`` and non-image
``data:`` links. Attachment references (``attachment:<sha256>``) survive rendering as ``src`` and
``href`` values that ``split_attachments`` finds again, so each writer decides how to show the file
(a data URI, a file beside, a QTextDocument resource).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

_IMG = re.compile(r'<img src="attachment:([0-9a-f]{64})" alt="([^"]*)" />')
_HREF = re.compile(r'href="attachment:([0-9a-f]{64})"')


@lru_cache(maxsize=1)
def _md() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_html(text: str) -> str:
    return str(_md().render(text))


def split_attachments(rendered: str) -> Iterator[tuple[str, str | None, str]]:
    """(html before, sha256 of an inline attachment image or None at the end, its alt text, escaped)."""
    pos = 0
    for match in _IMG.finditer(rendered):
        yield rendered[pos:match.start()], match.group(1), match.group(2)
        pos = match.end()
    yield rendered[pos:], None, ""


def relink_hrefs(rendered: str, href_for: dict[str, str]) -> str:
    """Point ``[name](attachment:<sha>)`` links at the files beside (``href_for``: sha → relative path)."""
    return _HREF.sub(lambda mt: f'href="{html.escape(href_for.get(mt.group(1), "#"), quote=True)}"', rendered)


def esc(text: str) -> str:
    return html.escape(text, quote=True)
