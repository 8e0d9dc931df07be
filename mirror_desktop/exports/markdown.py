"""Markdown export: one ``.md`` file per reflection with YAML front matter, attachments beside.

The folder opens as an Obsidian vault, and Mirror's own notes reader (integrations/obsidian.py) reads
it back: the front matter carries ``id``, ``created_at`` (UTC), ``date`` (the local day, which the
reader takes as the note's day), ``identity``, ``tags``, ``visibility``, ``source`` and the
attachments; the body is the reflection's text, with each ``attachment:<sha256>`` image link turned
into a relative link to ``attachments/<sha256>.<ext>`` (``restore_links`` turns it back).
File names are ``YYYY-MM-DD HHMM <first 8 of the id>.md`` in local time, so they sort by date.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import REFERENCE_RE
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.safe_io import create_private_file
from mirror_desktop.exports.common import ExportContext, attachment_file_name, copy_attachments, local, utc_text

ATTACHMENTS_DIR = "attachments"
# Line breaks that YAML would fold inside a double-quoted scalar: escaped like JSON's own escapes.
_YAML_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\x85"})
_LOCAL_LINK = re.compile(r"(!\[[^\]\n]*\]\()attachments/([0-9a-f]{64})\.[a-z0-9]{1,5}\)")


def note_name(r: m.Reflection) -> str:
    return f"{local(r.created_at):%Y-%m-%d %H%M} {r.id[:8]}.md"


def front_matter(r: m.Reflection, identity: str, attachments: list[m.Attachment]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "id": r.id,
        "created_at": utc_text(r.created_at),
        "date": local(r.created_at).date().isoformat(),
        "identity": identity,
        "tags": r.tags,
        "visibility": str(getattr(r.visibility, "value", r.visibility)),
        "source": str(getattr(r.source, "value", r.source)) if r.source is not None else None,
    }
    if (r.metadata or {}).get("starred"):
        meta["starred"] = True
    if attachments:
        meta["attachments"] = [{"file": f"{ATTACHMENTS_DIR}/{attachment_file_name(a)}", "sha256": a.sha256,
                                "name": a.filename, "type": a.mime_type} for a in attachments]
    return {k: v for k, v in meta.items() if v is not None}


def relink(text: str, by_sha: dict[str, m.Attachment]) -> str:
    def repl(match: re.Match[str]) -> str:
        a = by_sha.get(match.group(2))
        if a is None:
            return match.group(0)
        return f"![{match.group(1)}]({ATTACHMENTS_DIR}/{attachment_file_name(a)})"

    return REFERENCE_RE.sub(repl, text)


def restore_links(text: str) -> str:
    """The reverse of the export's links: ``![x](attachments/<sha>.png)`` → ``![x](attachment:<sha>)``."""
    return _LOCAL_LINK.sub(lambda mt: f"{mt.group(1)}attachment:{mt.group(2)})", text)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(str(k))}: {_scalar(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False).translate(_YAML_BREAKS)


def yaml_block(meta: dict[str, Any]) -> str:
    """Front matter as YAML, one key a line, every string double-quoted (a JSON string is a valid YAML
    double-quoted scalar), lists and maps in flow style. PyYAML's dumper cost a third of a
    10,000-note export; this writes the same values for any reader (tests read it back with PyYAML)."""
    return "".join(f"{key}: {_scalar(value)}\n" for key, value in meta.items())


def render_note(r: m.Reflection, identity: str, attachments: list[m.Attachment]) -> str:
    fm = yaml_block(front_matter(r, identity, attachments))
    body = relink(r.content, {a.sha256: a for a in attachments})
    return f"---\n{fm}---\n\n{body.strip()}\n"


def write_markdown(storage: MirrorStorage, ctx: ExportContext) -> Path:
    written: set[str] = set()
    used: set[str] = set()
    for batch in ctx.batches(storage):
        for r in batch.reflections:
            items = batch.attachments.get(r.id, [])
            name = note_name(r)
            if name in used:  # two reflections in one minute with the same id prefix: keep both
                name = f"{name[:-3]} {r.id}.md"
            used.add(name)
            with os.fdopen(create_private_file(ctx.out_dir / name), "w", encoding="utf-8", newline="\n") as fh:
                fh.write(render_note(r, ctx.identity_name, items))
            ctx.result.attachments += copy_attachments(storage, items, ctx.out_dir / ATTACHMENTS_DIR, written)
    return ctx.out_dir
