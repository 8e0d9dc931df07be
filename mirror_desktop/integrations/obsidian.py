"""Notes from a folder of Markdown files with YAML front matter (an Obsidian vault, or any such folder).

Every ``*.md`` file below the folder is a note whose external id is its path inside the folder.
Hidden folders (``.obsidian/``, ``.trash/``, ``.git/``), attachments (anything not ``.md``) and
symbolic-link loops are skipped. Front matter is read by ``python-frontmatter`` through PyYAML's
safe loader with aliases refused (a "billion laughs" note cannot expand) and a size cap; a note
larger than ``MAX_NOTE_BYTES``, not UTF-8, or with front matter Mirror will not read stops the sync
with one sentence naming the file (the sync is one transaction: nothing is half-imported).

Incremental by mtime + hash: a note whose size and mtime match the stored version is not read
again; one whose bytes hash the same as before is recognised as unchanged content. Tags come from
the front matter (``tags``/``tag``) and from ``#tags`` in the text; a daily note's file name
(``YYYY-MM-DD.md``) gives its date, else a front-matter ``date``/``created``, else its mtime.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat as stat_mod
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from mirror_desktop.integrations.base import (
    Connector,
    FetchContext,
    FetchResult,
    Item,
    SourceError,
    bounded,
    register,
)

MAX_NOTE_BYTES = 1024 * 1024
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_NOTES = 200_000
MAX_DEPTH = 64
_DAILY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Obsidian tags: # then letters, digits, _ - /, at least one non-digit; not inside a word or URL.
_TAG = re.compile(r"(?<![\w/#&=?])#([\w/-]*[^\W\d][\w/-]*)", re.UNICODE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


class NoteRefused(SourceError):
    """A note Mirror will not read; the sentence names the file."""


def load_front_matter(fm: str) -> Any:
    """YAML through PyYAML's safe loader (libyaml's when built in), refusing aliases (billion laughs).

    The safe loader knows no Python tags (``!!python/object`` is an error). Aliases are refused on
    the event stream before anything is built, so a note cannot make the loader (or, later, the
    JSON of its metadata) expand a few lines into gigabytes.
    """
    import yaml

    if len(fm.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise ValueError(f"front matter larger than {MAX_FRONT_MATTER_BYTES // 1024} KB")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for event in yaml.parse(fm, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            raise ValueError("YAML aliases are not allowed")
    return yaml.load(fm, Loader=loader)  # noqa: S506 - a safe loader


_HANDLER: Any = None


def _handler() -> Any:
    global _HANDLER
    import frontmatter

    if _HANDLER is None:
        class SafeYAMLHandler(frontmatter.YAMLHandler):
            def load(self, fm: str, **kwargs: object) -> Any:
                return load_front_matter(fm)

        _HANDLER = SafeYAMLHandler()
    return _HANDLER


def split_note(text: str, rel: str) -> tuple[dict[str, Any], str]:
    """(front matter, body) of a note, or NoteRefused naming ``rel``."""
    import frontmatter

    try:
        post = frontmatter.loads(text, handler=_handler())
    except Exception as exc:
        detail = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
        raise NoteRefused(f"The note {rel} has front matter Mirror will not read ({detail}); "
                          "fix or remove that YAML block, then sync again.") from None
    meta = post.metadata if isinstance(post.metadata, dict) else {}
    return meta, post.content


def note_tags(meta: Mapping[str, Any], body: str) -> tuple[str, ...]:
    """Front-matter tags and inline #tags, without '#', in first-seen order, no duplicates."""
    found: list[str] = []
    raw = meta.get("tags", meta.get("tag"))
    if isinstance(raw, str):
        found += [t for t in re.split(r"[,\s]+", raw) if t]
    elif isinstance(raw, list):
        found += [str(t) for t in raw if isinstance(t, (str, int, float)) and str(t).strip()]
    text = _INLINE_CODE.sub("", _FENCE.sub("", body))
    found += _TAG.findall(text)
    out: list[str] = []
    for tag in found:
        tag = tag.strip().lstrip("#").strip()
        if tag and len(tag) <= 100 and tag not in out:
            out.append(tag)
    return tuple(out)


def note_day(stem: str, meta: Mapping[str, Any]) -> date | None:
    m = _DAILY.match(stem)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    for key in ("date", "created", "day"):
        value = meta.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()[:10])
            except ValueError:
                continue
    return None


def note_time(meta: Mapping[str, Any]) -> datetime | None:
    """A front-matter ``created_at``/``created``/``date`` that carries a time of day, in UTC (else None).

    A time without a zone is the computer's local time; dates alone are left to ``note_day``.
    """
    for key in ("created_at", "created", "date"):
        value = meta.get(key)
        if isinstance(value, str) and ("T" in value or " " in value.strip()) and ":" in value:
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(value, datetime):
            try:
                aware = value if value.tzinfo is not None else value.astimezone()
                return aware.astimezone(UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _usable_name(name: str) -> bool:
    try:
        name.encode("utf-8")  # a name that is not UTF-8 on disk (surrogate escapes) cannot be an id
    except UnicodeEncodeError:
        return False
    return not name.startswith(".")  # .obsidian/, .trash/, .git/ and hidden files


def walk_notes(root: Path, ctx: FetchContext | None = None) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative path, path, stat) of every Markdown note, skipping hidden folders and link loops.

    Notes come in ascending order of their relative path (Python string order = UTF-8 byte order, as
    SQLite and PostgreSQL's "C" collation sort the stored ids): each folder's entries are sorted with
    a sub-folder keyed by its name plus "/", so "a-b.md" comes before "a/x.md" as the strings do. The
    sync merges this walk with the stored items in one pass (integrations/sync.py, SortedKnown). Only
    the open folders' listings are held: memory follows the folder's depth, not its size. Paths stay
    plain strings: pathlib interns every name it parses, and the interpreter's table of interned
    names never shrinks (a Path per note grew a re-sync by ~0.1 KB a note).
    """
    seen_dirs: set[tuple[int, int]] = set()
    try:
        st = root.stat()
    except OSError as exc:
        raise SourceError(f"The notes folder {root} cannot be read ({exc.strerror}); check the path.") from None
    seen_dirs.add((st.st_dev, st.st_ino))
    n = 0

    def listing(folder: str, prefix: str, depth: int) -> Iterator[tuple[str, str, os.stat_result]]:
        nonlocal n
        try:
            with os.scandir(folder) as it:
                entries = [e for e in it if _usable_name(e.name)]
        except OSError:
            return  # an unreadable sub-folder is skipped like an attachment
        keyed: list[tuple[str, os.DirEntry[str], os.stat_result]] = []
        for entry in entries:
            try:
                est = entry.stat()  # follows links; a loop or dangling link raises
            except OSError:
                continue
            if stat_mod.S_ISDIR(est.st_mode):
                keyed.append((entry.name + "/", entry, est))
            elif stat_mod.S_ISREG(est.st_mode) and entry.name.lower().endswith(".md"):
                keyed.append((entry.name, entry, est))
        keyed.sort(key=lambda k: k[0])
        for key, entry, est in keyed:
            rel = f"{prefix}{entry.name}"
            if key.endswith("/"):
                ident = (est.st_dev, est.st_ino)
                if ident in seen_dirs or depth >= MAX_DEPTH:
                    continue  # a symbolic-link loop, or a folder reached twice
                seen_dirs.add(ident)
                yield from listing(entry.path, rel + "/", depth + 1)
            else:
                n += 1
                if ctx is not None and n % 1000 == 0:
                    ctx.check()
                yield rel, entry.path, est

    yield from listing(str(root), "", 0)


class ObsidianConnector(Connector):
    integration_type = "notes"
    provider = "obsidian"
    description = "a folder of Markdown notes with YAML front matter (an Obsidian vault)"
    sorted_ids = True  # walk_notes lists notes in path order

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        path = config.get("path")
        if not isinstance(path, str) or not path.strip():
            return ["A notes folder needs --path, the folder (vault) that holds the Markdown files."]
        return []

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        root = Path(str(config["path"])).expanduser()
        if not root.is_dir():
            raise SourceError(f"The notes folder {root} is not there (or is not a folder); put it back or change the path.")
        return FetchResult(items=bounded(self._items(root, ctx), MAX_NOTES, f"The notes folder {root.name}"),
                           cursor={}, description=str(root))

    def _items(self, root: Path, ctx: FetchContext) -> Iterator[Item]:
        for rel, path, st in walk_notes(root, ctx):
            stat_key = f"{st.st_size}:{st.st_mtime_ns}"
            known = ctx.known.get(rel)
            if known is not None and known.startswith(stat_key + "|"):
                yield Item(external_id=rel, kind="note", version=known, unchanged=True)
                continue
            yield self.read_note(rel, path, st, stat_key)

    def read_note(self, rel: str, path: str, st: os.stat_result, stat_key: str) -> Item:
        if st.st_size > MAX_NOTE_BYTES:
            raise NoteRefused(f"The note {rel} is {st.st_size / 1024 / 1024:.1f} MB, more than the "
                              f"{MAX_NOTE_BYTES // (1024 * 1024)} MB Mirror reads from a note; split it or move it "
                              "out of the folder, then sync again.")
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_NOTE_BYTES + 1)
        except OSError as exc:
            raise SourceError(f"The note {rel} cannot be read ({exc.strerror}); check its permissions.") from None
        if len(raw) > MAX_NOTE_BYTES:
            raise NoteRefused(f"The note {rel} grew past the {MAX_NOTE_BYTES // (1024 * 1024)} MB Mirror reads "
                              "from a note; split it, then sync again.")
        digest = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NoteRefused(f"The note {rel} is not UTF-8 text (byte {exc.start} is not); "
                              "save it as UTF-8, then sync again.") from None
        meta, body = split_note(text, rel)
        stem = os.path.splitext(os.path.basename(rel))[0]
        day = note_day(stem, meta)
        exact = note_time(meta)
        if exact is not None:
            # A full timestamp in the front matter (Mirror's own Markdown export writes created_at): kept exactly.
            when = exact
        elif day is not None:
            # A daily note belongs to its day: local noon, so no time zone moves it to another date.
            when = datetime.combine(day, time(12)).astimezone().astimezone(UTC)
        else:
            when = datetime.fromtimestamp(st.st_mtime, UTC)
        title = meta.get("title") if isinstance(meta.get("title"), str) else stem
        return Item(external_id=rel, kind="note", version=f"{stat_key}|{digest}", title=str(title)[:500],
                    starts_at=when, ends_at=None, content=body, tags=note_tags(meta, body), day=day,
                    extra={"content_sha256": digest, "path": rel})


register(ObsidianConnector())
