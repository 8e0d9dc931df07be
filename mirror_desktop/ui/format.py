"""How the window words times, gaps, counts and snippets: local time, plain English, escaped HTML."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mirror_desktop.core.search_query import HL_END, HL_START
from mirror_desktop.core.services import word_count  # noqa: F401 - one definition: the editor counts as stored



def local(dt: datetime) -> datetime:
    """Stored times are UTC; people read their own clock (issue 3: dates in local time)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone()


def short_date(dt: datetime, now: datetime | None = None) -> str:
    d = local(dt)
    now = local(now) if now is not None else datetime.now().astimezone()
    if d.date() == now.date():
        return f"Today {d:%H:%M}"
    if d.year == now.year:
        return f"{d:%a %d %b}, {d:%H:%M}"
    return f"{d:%d %b %Y}"


def long_date(dt: datetime) -> str:
    d = local(dt)
    return f"{d:%A %d %B %Y}, {d:%H:%M}"


def gap_text(earlier: datetime, later: datetime) -> str:
    """Words for the time between two reflections of a thread: "the same day", "3 days later" ..."""
    seconds = (later - earlier).total_seconds()
    before = seconds < 0
    seconds = abs(seconds)
    days = seconds / 86400
    if days < 1:
        hours = int(seconds // 3600)
        if hours < 1:
            return "moments before" if before else "moments later"
        words = f"{hours} hour{'s' if hours != 1 else ''}"
    elif days < 14:
        n = int(days)
        words = f"{n} day{'s' if n != 1 else ''}"
    elif days < 61:
        n = int(days // 7)
        words = f"{n} weeks"
    elif days < 730:
        n = int(days // 30.4)
        words = f"{n} months"
    else:
        n = int(days // 365.25)
        words = f"{n} years"
    return f"{words} before" if before else f"{words} later"


def first_line(text: str, limit: int = 120) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#>*-+ ").strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return "(empty)"


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 reflection", "2 reflections"; ``many`` for words that do not just add an s ("identities")."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def snippet_html(snippet: str) -> str:
    """Escape what the person wrote, then turn the search markers into bold (never the reverse)."""
    import html  # here: snippets are made after the first paint

    return html.escape(snippet.replace("\n", " ")).replace(HL_START, "<b>").replace(HL_END, "</b>")


VISIBILITY_LABELS = {
    "local_only": "Only on this device",
    "sync_summary": "Sync a summary",
    "sync_full_private": "Sync privately",
    "sync_full_public": "Sync publicly",
}

# What File → Sync… does with each level (issue 18); the editor's selector shows it as a tooltip.
VISIBILITY_HELP = {
    "local_only": "Only on this device: never sent anywhere, not even to your other devices.",
    "sync_summary": "Sync a summary: the text stays here; only anonymous counts (how many, which patterns) are sent.",
    "sync_full_private": "Sync privately: the whole reflection goes to your other devices, encrypted with your sync "
                         "passphrase; the server cannot read it.",
    "sync_full_public": "Sync publicly: the whole reflection goes to your other devices unencrypted; "
                        "the server can read it.",
}

VISIBILITY_BADGES = {
    "local_only": "local",
    "sync_summary": "summary",
    "sync_full_private": "private sync",
    "sync_full_public": "public",
}


def row_meta(when: str, words: int, tags: Sequence[str] = ()) -> str:
    """A list row's date, word count and tags (issue 11: tags went in and never came out)."""
    parts = [when, plural(int(words), "word")]
    if tags:
        parts.append(" ".join(f"#{t}" for t in tags))
    return "  ·  ".join(parts)
