"""Markdown export: one ``.md`` file per reflection with YAML front matter, attachments beside.

The folder opens as an Obsidian vault, and Mirror's own notes reader (integrations/obsidian.py) reads
it back: the front matter carries ``id``, ``created_at`` (UTC), ``date`` (the local day, which the
reader takes as the note's day), ``identity``, ``tags``, ``visibility``, ``source`` and the
attachments; the body is the reflection's text, with each ``attachment:<sha256>`` image link turned
into a relative link to ``attachments/<sha256>.<ext>`` (``restore_links`` turns it back).
File names are ``YYYY-MM-DD HHMM <first 8 of the id>.md`` in local time, so they sort by date.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import REFERENCE_RE
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.safe_io import create_private_file
from mirror_desktop.exports.common import ExportContext, attachment_file_name, copy_attachments, local, utc_text

ATTACHMENTS_DIR = "attachments"
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
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


def render_note(r: m.Reflection, identity: str, attachments: list[m.Attachment]) -> str:
    # libyaml's safe dumper when PyYAML has it: the pure-Python one was most of a 10,000-note export's time.
    fm = yaml.dump(front_matter(r, identity, attachments), Dumper=_DUMPER, allow_unicode=True, sort_keys=False,
                   default_flow_style=False, width=1000)
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
