"""RedNotebook journals: its month files (``YYYY-MM.txt``, YAML) or its backup zip, as journal entries.

A month file maps the day of the month to ``{text: …}`` and, when the day has categories, to
``{Tags: {name: null}, Category: {entry: null}}``. The text is txt2tags markup, turned into Markdown
(``txt2tags_to_markdown``). A day's external id is its date (``2024-09-15``); it has no time, so it
is kept at local noon. YAML goes through PyYAML's safe loader with aliases refused (as notes do);
the ``!!python/unicode`` and ``!!python/str`` tags old RedNotebooks wrote are read as text, every
other Python tag is refused. Input: the data folder, one month file, or a backup zip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from mirror_desktop.integrations.base import Connector, FetchContext, FetchResult, Item, register
from mirror_desktop.integrations.journal_files import (
    MAX_TEXT_BYTES,
    ImportRefused,
    check_text,
    entry_key,
    is_zip,
    local_noon,
    open_zip,
    read_capped,
    read_member,
)

APP = "RedNotebook"
MONTH_FILE = re.compile(r"^(\d{4})-(\d{2})\.txt$")


# -- txt2tags → Markdown ---------------------------------------------------------------------------

_TITLE = re.compile(r"^\s*(=+|\++)\s*(.*?)\s*\1\s*(?:\[[\w-]*\])?\s*$")
_RULE = re.compile(r"^\s*(?:={20,}|-{20,}|_{20,})\s*$")
_NUMBERED = re.compile(r"^(\s*)\+ (.*)$")
_IMAGE = re.compile(r'\[""(.+?)""(\.\w{1,5})\]')
_LINK_QUOTED = re.compile(r'\[([^\[\]]*?)\s*""(.+?)""\]')
_LINK_PLAIN = re.compile(r"\[([^\[\]\"]+?)\s+((?:https?|ftp|file|mailto):[^\s\]]+)\]")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![:/])//(?=\S)(.+?)(?<=\S)(?<!:)//")
_UNDERLINE = re.compile(r"__(?=\S)(.+?)(?<=\S)__")
_STRIKE = re.compile(r"(?<!-)--(?=[^\s-])(.+?)(?<=[^\s-])--(?!-)")
_MONO = re.compile(r"``(?=\S)(.+?)(?<=\S)``")


def _inline(line: str) -> str:
    line = _MONO.sub(lambda m: f"`{m[1]}`", line)
    line = _IMAGE.sub(lambda m: f"![]({m[1]}{m[2]})", line)
    line = _LINK_QUOTED.sub(lambda m: f"[{m[1] or m[2]}]({m[2]})", line)
    line = _LINK_PLAIN.sub(lambda m: f"[{m[1]}]({m[2]})", line)
    line = _ITALIC.sub(lambda m: f"*{m[1]}*", line)
    line = _UNDERLINE.sub(lambda m: f"<u>{m[1]}</u>", line)
    line = _STRIKE.sub(lambda m: f"~~{m[1]}~~", line)
    return line


def txt2tags_to_markdown(text: str) -> str:
    """The txt2tags markup RedNotebook writes, as Markdown (headings, emphasis, lists, links, images)."""
    out: list[str] = []
    verbatim = False
    for line in text.split("\n"):
        if line.strip() in ("```", '"""', "'''"):
            verbatim = not verbatim
            out.append("```" if line.strip() == "```" else line)
            continue
        if verbatim:
            out.append(line)
            continue
        if _RULE.match(line):
            out.append("---")
            continue
        m = _TITLE.match(line)
        if m and m[2]:
            out.append("#" * min(len(m[1]), 6) + " " + _inline(m[2]))
            continue
        n = _NUMBERED.match(line)
        if n:
            out.append(f"{n[1]}1. {_inline(n[2])}")
            continue
        if line.startswith("%"):
            continue  # a txt2tags comment
        out.append(_inline(line))
    return "\n".join(out).strip("\n")


# -- YAML ------------------------------------------------------------------------------------------

def _loader() -> Any:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class MonthLoader(base):  # type: ignore[misc, valid-type]
        pass

    def as_text(loader: Any, node: Any) -> str:
        return str(loader.construct_scalar(node))

    MonthLoader.add_constructor("tag:yaml.org,2002:python/unicode", as_text)
    MonthLoader.add_constructor("tag:yaml.org,2002:python/str", as_text)
    return MonthLoader


def load_month(data: bytes, what: str) -> Any:
    import yaml

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"{what} is not UTF-8 text (byte {exc.start} is not); it is not a RedNotebook month "
                            "file. Nothing was imported.") from None
    loader = _loader()
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                raise ImportRefused(f"{what} uses YAML aliases, which RedNotebook never writes; it was refused. "
                                    "Nothing was imported.")
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader with two text tags added
    except yaml.YAMLError as exc:
        detail = str(exc).splitlines()[0][:100]
        raise ImportRefused(f"{what} is not a RedNotebook month file Mirror can read ({detail}); "
                            "Nothing was imported.") from None


def month_items(data: bytes, name: str, year: int, month: int) -> Iterator[Item]:
    what = f"The month file {name}"
    doc = load_month(data, what)
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise ImportRefused(f"{what} does not hold days (it is not a RedNotebook month file). Nothing was imported.")
    for key in sorted(doc, key=lambda k: (str(type(k)), k)):
        if isinstance(key, bool) or not isinstance(key, int):
            raise ImportRefused(f"{what} has {key!r} where a day of the month belongs; it is not a RedNotebook "
                                "month file. Nothing was imported.")
        try:
            day = date(year, month, key)
        except ValueError:
            raise ImportRefused(f"{what} has a day {key} that {year}-{month:02d} does not have; correct it in "
                                "RedNotebook. Nothing was imported.") from None
        yield day_item(day, doc[key], name)


def day_item(day: date, raw: Any, name: str) -> Item:
    from mirror_desktop.integrations.obsidian import note_tags

    what = f"The day {day.isoformat()} in {name}"
    raw = raw if isinstance(raw, dict) else {}
    text = raw.get("text")
    text = check_text(text, what) if isinstance(text, str) else ""
    markdown = txt2tags_to_markdown(text) if text.strip() else ""
    tags: list[str] = []
    categories: dict[str, list[str]] = {}
    for cat, entries in raw.items():
        if cat == "text" or not isinstance(cat, str):
            continue
        names = [str(e) for e in (entries or {})] if isinstance(entries, dict) else []
        if cat.lower() == "tags":
            tags += [check_text(t.strip(), what) for t in names if t.strip()]
        else:
            categories[check_text(cat, what)] = [check_text(e, what) for e in names]
    tags += list(note_tags({}, markdown))
    info: dict[str, Any] = {"app": "rednotebook", "id": day.isoformat(), "day": day.isoformat(), "file": name}
    if categories:
        info["categories"] = categories
    return Item(external_id=day.isoformat(), kind="note", version=entry_key(text, repr(sorted(categories.items()))),
                title=day.isoformat(), starts_at=local_noon(day), content=markdown,
                tags=tuple(dict.fromkeys(tags)), day=day, extra={"import": info})


def read_rednotebook(path: Path, ctx: FetchContext | None = None) -> Iterator[Item]:
    """Every day of a data folder, one month file, or a backup zip, month by month."""
    if path.is_dir():
        months = sorted(e.name for e in os.scandir(path) if e.is_file() and MONTH_FILE.match(e.name))
        if not months:
            raise ImportRefused(f"{path} holds no RedNotebook month files (named like 2024-09.txt); choose "
                                "RedNotebook's data folder or a backup zip. Nothing was imported.")
        for n, name in enumerate(months):
            _tick(ctx, n, len(months), name)
            yield from _month(read_capped(path / name, MAX_TEXT_BYTES, name), name)
    elif is_zip(path):
        archive = open_zip(path, APP, size_cap=lambda _n: MAX_TEXT_BYTES)
        try:
            months = [n for n in archive.names() if MONTH_FILE.match(n.rsplit("/", 1)[-1])]
            if not months:
                raise ImportRefused(f"{path.name} is not a RedNotebook backup: it holds no month files (named like "
                                    "2024-09.txt). Nothing was imported.")
            for n, name in enumerate(months):
                _tick(ctx, n, len(months), name)
                yield from _month(read_member(archive, name, MAX_TEXT_BYTES, APP), name.rsplit("/", 1)[-1])
        finally:
            archive.close()
    elif MONTH_FILE.match(path.name):
        yield from _month(read_capped(path, MAX_TEXT_BYTES, path.name), path.name)
    else:
        raise ImportRefused(f"{path.name} is not a RedNotebook month file (named like 2024-09.txt), data folder or "
                            "backup zip. Nothing was imported.")


def _tick(ctx: FetchContext | None, n: int, total: int, name: str) -> None:
    if ctx is not None:
        ctx.check()
        ctx.state.set_progress(n / max(total, 1), f"Reading {name}")


def _month(data: bytes, name: str) -> Iterator[Item]:
    m = MONTH_FILE.match(name)
    assert m is not None
    year, month = int(m[1]), int(m[2])
    if not 1 <= month <= 12 or year < 1:
        raise ImportRefused(f"{name} names a month that does not exist; it is not a RedNotebook month file. "
                            "Nothing was imported.")
    yield from month_items(data, name, year, month)


class RedNotebookConnector(Connector):
    integration_type = "journal"
    provider = "rednotebook"
    description = "RedNotebook's data folder, a month file or a backup zip"

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        path = config.get("path")
        if not isinstance(path, str) or not path.strip():
            return ["A RedNotebook import needs the path of its data folder or backup zip."]
        return []

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        path = Path(str(config["path"])).expanduser()
        if not path.exists():
            raise ImportRefused(f"{path} is not there; choose RedNotebook's data folder or a backup zip.")
        return FetchResult(items=read_rednotebook(path, ctx), cursor={}, description=str(path))


register(RedNotebookConnector())
