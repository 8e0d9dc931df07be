"""jrnl journals: its plain-text file and its JSON export (``jrnl --export json``) as journal entries.

Plain text: an entry starts with ``[<date and time>] Title`` in the journal's ``timeformat``
(``%Y-%m-%d %H:%M`` unless configured); the lines up to the next such line are its body. The format
is found from the first entry lines (a list of common ones) or given (``--time-format``); a line that
looks like an entry line (``[`` and a digit) but is not in that format stops the import with one
sentence, so a journal in another format is never read as one long entry. The file is read a line
at a time (constant memory). Starred entries end their title line with `` *``; ``@tags`` are found
in title and body as jrnl finds them (lower-cased, as its JSON export gives them).

jrnl keeps no ids, so an entry's external id is a hash of its minute, title and body: the same
entry read from the text file or from the JSON export has the same id, and importing either twice
adds nothing. Times are local times of the computer that imports them, as jrnl shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from mirror_desktop.integrations.base import Connector, FetchContext, FetchResult, Item, register
from mirror_desktop.integrations.journal_files import (
    MAX_JSON_BYTES,
    ImportRefused,
    bad_date,
    check_text,
    entry_key,
    parse_json,
    read_capped,
    utc_instant,
)

DEFAULT_TIME_FORMAT = "%Y-%m-%d %H:%M"
# Formats people configure most (jrnl's default first); the first that reads every sampled entry line wins.
KNOWN_FORMATS = (
    "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M %p", "%Y-%m-%d %I:%M:%S %p",
    "%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y %I:%M %p", "%d/%m/%Y %I:%M %p", "%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M",
    "%d-%m-%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%b %d %Y %H:%M", "%d %b %Y %H:%M",
    "%a, %b %d, %Y %I:%M %p", "%A, %B %d, %Y %I:%M %p",
)
HEADER = re.compile(r"^\[([^\]\n]{1,64})\] ?(.*)$")
LOOKS_DATED = re.compile(r"^\[\d")
# jrnl's tag rule: the tag symbol after a space or at the start, then letters, digits and -+*#/.
TAG = re.compile(r"(?:^|(?<=\s))@([-+*#/\w]+)", re.UNICODE)
SAMPLE = 50
MAX_LINE = 1024 * 1024


def entry_tags(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for tag in TAG.findall(text):
        tag = tag.lower()
        if tag not in out:
            out.append(tag)
    return tuple(out)


def split_title(title: str) -> tuple[str, bool]:
    """(title, starred): jrnl marks a starred entry with `` *`` at the end of its title line."""
    stripped = title.rstrip()
    if stripped == "*":
        return "", True
    if stripped.endswith(" *"):
        return stripped[:-2].rstrip(), True
    return stripped, False


def make_item(when: datetime, title: str, body: str, starred: bool, what: str, fmt: str | None) -> Item:
    title = check_text(title.strip(), what)
    body = check_text(body.strip("\n").rstrip(), what)
    minute = when.strftime("%Y-%m-%d %H:%M")
    key = entry_key(minute, title, body.strip())
    text = f"{title}\n{body}" if title and body.strip() else (title or body)
    tags = tuple(sorted(set(entry_tags(title) + entry_tags(body))))
    starts_at = utc_instant(when, what)
    # jrnl keeps local times: the offset they were read with goes beside the UTC instant.
    info: dict[str, Any] = {"app": "jrnl", "id": key, "starred": starred, "local_time": minute,
                            "created_local": starts_at.astimezone().isoformat()}
    if fmt:
        info["time_format"] = fmt
    return Item(external_id=key, kind="note", version=key, title=title[:200] or None,
                starts_at=starts_at, content=text, tags=tags, extra={"import": info})


def _parse(stamp: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(stamp.strip(), fmt)
    except ValueError:
        return None


def detect_format(path: Path, given: str | None) -> str:
    """The time format of a plain-text journal: ``given`` checked against its first entry line, else found."""
    stamps: list[tuple[int, str]] = []
    with _open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            m = HEADER.match(line.rstrip("\r\n"))
            if m and LOOKS_DATED.match(line):
                stamps.append((n, m[1]))
                if len(stamps) >= SAMPLE:
                    break
    if not stamps:
        raise ImportRefused(f"{path.name} is not a jrnl journal: no line starts with a date in brackets "
                            "([2024-06-16 09:00] Title); choose the journal file or its JSON export. Nothing was imported.")
    line_no, first = stamps[0]
    if given:
        if _parse(first, given) is None:
            raise ImportRefused(f"The entry at line {line_no} of {path.name} is dated [{first}], which is not in the "
                                f"time format {given}; give the journal's own format with --time-format (jrnl's "
                                "timeformat setting). Nothing was imported.")
        return given
    # The format that reads the most entry lines (the first among them); a line it cannot read is
    # then refused where it stands, with its line number (a typo, a year 99999).
    best, best_count = None, 0
    for fmt in KNOWN_FORMATS:
        count = sum(_parse(s, fmt) is not None for _, s in stamps)
        if count > best_count:
            best, best_count = fmt, count
    if best is not None:
        return best
    raise ImportRefused(f"The entries of {path.name} are dated like [{first}], a time format Mirror does not know; "
                        "give it with --time-format (jrnl's timeformat setting, e.g. \"%d.%m.%Y %H:%M\"). "
                        "Nothing was imported.")


class _open_text:
    """The journal as lines of UTF-8 text, with one sentence for what cannot be read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Iterator[str]:
        try:
            self.fh = open(self.path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ImportRefused(f"{self.path} cannot be read ({exc.strerror}); check the path and its permissions.") from None
        return self._lines()

    def _lines(self) -> Iterator[str]:
        n = 0
        try:
            while True:
                line = self.fh.readline(MAX_LINE + 1)
                if not line:
                    return
                n += 1
                if len(line) > MAX_LINE:
                    raise ImportRefused(f"Line {n} of {self.path.name} is longer than a megabyte; it is not a jrnl "
                                        "journal Mirror can read. Nothing was imported.")
                yield line
        except UnicodeDecodeError:
            raise ImportRefused(f"{self.path.name} is not UTF-8 text near line {n + 1}; save it as UTF-8 "
                                "(jrnl writes UTF-8) and import again. Nothing was imported.") from None

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def read_text(path: Path, ctx: FetchContext | None = None, time_format: str | None = None) -> Iterator[Item]:
    """Entries of a plain-text journal, a line at a time."""
    fmt = detect_format(path, time_format)
    total = max(path.stat().st_size, 1)
    done = 0
    current: tuple[datetime, str, bool, int] | None = None
    body: list[str] = []
    with _open_text(path) as lines:
        for n, raw in enumerate(lines, 1):
            done += len(raw)
            line = raw.rstrip("\r\n")
            m = HEADER.match(line)
            when = _parse(m[1], fmt) if m else None
            if m and when is None and LOOKS_DATED.match(line):
                raise _unreadable_stamp(path, n, m[1], fmt)
            if when is not None and m is not None:
                if current is not None:
                    yield make_item(current[0], current[1], "\n".join(body), current[2],
                                    f"The entry at line {current[3]} of {path.name}", fmt)
                title, starred = split_title(m[2])
                current, body = (when, title, starred, n), []
            elif current is not None:
                body.append(line)
            if ctx is not None and n % 2000 == 0:
                ctx.check()
                ctx.state.set_progress(done / total, f"Reading {path.name}")
        if current is not None:
            yield make_item(current[0], current[1], "\n".join(body), current[2],
                            f"The entry at line {current[3]} of {path.name}", fmt)


def _unreadable_stamp(path: Path, n: int, stamp: str, fmt: str) -> ImportRefused:
    if re.match(r"^\d{5,}", stamp.strip()):
        return ImportRefused(f"The entry at line {n} of {path.name} is dated [{stamp}], a year beyond 9999 that Mirror "
                             "cannot store; correct it in the journal and import again. Nothing was imported.")
    return ImportRefused(f"The entry at line {n} of {path.name} is dated [{stamp}], which is not a real date in the "
                         f"time format {fmt} the other entries use; correct it or give --time-format. "
                         "Nothing was imported.")


def read_json(path: Path, ctx: FetchContext | None = None) -> Iterator[Item]:
    """Entries of ``jrnl --export json``."""
    doc = parse_json(read_capped(path, MAX_JSON_BYTES, path.name), path.name)
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise ImportRefused(f"{path.name} is not a jrnl JSON export (it has no \"entries\" list); export it with "
                            "jrnl --export json. Nothing was imported.")
    entries = doc["entries"]
    total = len(entries)
    for n, raw in enumerate(entries):
        what = f"Entry {n + 1} of {path.name}"
        if ctx is not None and n % 500 == 0:
            ctx.check()
            ctx.state.set_progress(n / max(total, 1), f"Reading {path.name}")
        if not isinstance(raw, dict):
            raise ImportRefused(f"{what} is not an object; export again with jrnl --export json. Nothing was imported.")
        day, clock = raw.get("date"), raw.get("time")
        if not isinstance(day, str) or not isinstance(clock, str):
            raise ImportRefused(f"{what} has no date and time; export again with jrnl --export json. Nothing was imported.")
        when = _parse(f"{day} {clock}", "%Y-%m-%d %H:%M") or _parse(f"{day} {clock}", "%Y-%m-%d %H:%M:%S")
        if when is None:
            raise bad_date(what, f"{day} {clock}")
        title = raw.get("title") if isinstance(raw.get("title"), str) else ""
        body = raw.get("body") if isinstance(raw.get("body"), str) else ""
        item = make_item(when, str(title), str(body), bool(raw.get("starred")), what, None)
        given = raw["tags"] if isinstance(raw.get("tags"), list) else []
        listed = tuple(str(t).lstrip("@").lower() for t in given if isinstance(t, str) and t.strip("@ "))
        if listed:
            merged = tuple(sorted(set(item.tags) | set(listed)))
            item = Item(**{**item.__dict__, "tags": merged})
        yield item


def read_journal(path: Path, ctx: FetchContext | None = None, time_format: str | None = None) -> Iterator[Item]:
    """A jrnl file, plain text or JSON export (told apart by its first character)."""
    if path.is_dir():
        raise ImportRefused(f"{path} is a folder; choose jrnl's journal file (or its JSON export). Nothing was imported.")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise ImportRefused(f"{path} cannot be read ({exc.strerror}); check the path and its permissions.") from None
    if head.startswith(b"PK\x03\x04"):
        raise ImportRefused(f"{path.name} is a zip, not a jrnl journal; choose jrnl's journal file (plain text) or "
                            "the file jrnl --export json wrote. Nothing was imported.")
    if head.startswith(b"{"):
        yield from read_json(path, ctx)
    else:
        yield from read_text(path, ctx, time_format)


class JrnlConnector(Connector):
    integration_type = "journal"
    provider = "jrnl"
    description = "a jrnl journal file (plain text) or its JSON export"

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        path = config.get("path")
        if not isinstance(path, str) or not path.strip():
            return ["A jrnl import needs the path of the journal file."]
        fmt = config.get("time_format")
        if fmt is not None and (not isinstance(fmt, str) or "%" not in fmt):
            return [f"--time-format must be a strftime format like \"%Y-%m-%d %H:%M\" (got {fmt!r})."]
        return []

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        path = Path(str(config["path"])).expanduser()
        if not path.exists():
            raise ImportRefused(f"{path} is not there; choose the jrnl journal file.")
        fmt = config.get("time_format")
        return FetchResult(items=read_journal(path, ctx, str(fmt) if fmt else None), cursor={}, description=str(path))


register(JrnlConnector())
