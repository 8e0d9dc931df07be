"""The search syntax a user expects — words, "phrases", prefix*, -exclusion — parsed once for both backends."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mirror_desktop.core.errors import MirrorError

# Private-use code points mark highlighted matches in snippets; they never occur in typed text
# (stripped from queries) and each view turns them into its own emphasis (bold, brackets, ANSI).
HL_START = "\ue000"
HL_END = "\ue001"

_WORD = re.compile(r"[\w']+", re.UNICODE)
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
# ``#sleep`` or ``tag:sleep`` looks for a tag, not a word (issue 11: tags went in and could never be found).
# ``tag:"oddly peaceful"`` finds a tag from an older journal that holds a space (issue 16: new tags cannot).
_TAG = re.compile(r'(?:(?<=\s)|^)(?:tag:"([^"]+)"|(?:#|tag:)([^\s#"]+))', re.IGNORECASE)
MAX_TERMS = 32
# A snippet is about this many characters of the text (FTS5's snippet() of 24 tokens came to 120-150 here).
SNIPPET_LENGTH = 140
_SOLID = re.compile(r"\S")
_REST_OF_WORD = re.compile(r"\S{0,32}\s+")  # from inside a word to the start of the next one
_SENTENCE_ENDS = (". ", "? ", "! ", ": ", "\n")
_BULLET = re.compile(r"\s*[-*•–][ \t]+")  # a list item's mark, left out where a snippet begins


class SearchSyntaxError(MirrorError):
    """The query cannot be searched as written."""


@dataclass(frozen=True)
class Term:
    """A word, a phrase (several words in order) or a prefix (``walk*``)."""

    kind: str  # "word" | "phrase" | "prefix"
    words: tuple[str, ...]


@dataclass(frozen=True)
class ParsedQuery:
    include: list[Term] = field(default_factory=list)
    exclude: list[Term] = field(default_factory=list)
    tags: tuple[str, ...] = ()  # lower-case; a reflection must carry every one

    @property
    def empty(self) -> bool:
        return not self.include and not self.exclude and not self.tags


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip("'").lower() for w in _WORD.findall(text) if w.strip("'"))


def parse_query(text: str) -> ParsedQuery:
    """Parse a search box's text; raises SearchSyntaxError with a sentence for unusable queries."""
    text = text.replace(HL_START, " ").replace(HL_END, " ")
    found = [" ".join(quoted.split()) or bare.strip(",.;") for quoted, bare in _TAG.findall(text)]
    tags = tuple(dict.fromkeys(t.lower() for t in found if t))
    text = _TAG.sub(" ", text)
    include: list[Term] = []
    exclude: list[Term] = []
    for m in _TOKEN.finditer(text):
        if m.group(2) is not None:
            negate, words = bool(m.group(1)), _words(m.group(2))
            term = Term("phrase" if len(words) > 1 else "word", words) if words else None
        else:
            raw = m.group(4)
            negate = bool(m.group(3)) and len(raw) > 0
            is_prefix = raw.endswith("*")
            words = _words(raw)
            if not words:
                continue
            if len(words) > 1:
                # "don't-stop" and similar punctuation-joined words search as a phrase.
                term = Term("phrase", words)
            elif is_prefix and len(words[0]) < 2:
                # One letter would expand to a large part of the vocabulary (seconds at 100k entries).
                raise SearchSyntaxError("Type at least two letters before * to search by the start of a word.")
            else:
                term = Term("prefix" if is_prefix else "word", words)
        if term is None:
            continue
        (exclude if negate else include).append(term)
    if len(include) + len(exclude) > MAX_TERMS:
        raise SearchSyntaxError(f"That search has more than {MAX_TERMS} terms; use fewer words.")
    if exclude and not include:
        raise SearchSyntaxError("A search cannot only exclude words; add a word to look for"
                                + (" besides the tags (for example: #sleep night -lake)." if tags else "."))
    return ParsedQuery(include, exclude, tags)


def fts5_match(query: ParsedQuery) -> str:
    """Compile to an FTS5 MATCH expression; every word is quoted, so no user text is FTS syntax."""

    def term(t: Term) -> str:
        quoted = '"' + " ".join(w.replace('"', "") for w in t.words) + '"'
        return quoted + " *" if t.kind == "prefix" else quoted

    expr = " ".join(term(t) for t in query.include)
    for t in query.exclude:
        expr = f"({expr}) NOT {term(t)}"
    return expr


def cut_snippet(marked: str, length: int = SNIPPET_LENGTH, ellipsis: str = "…") -> str:
    """About ``length`` characters of ``marked`` around its best run of matches, cut between words, with
    ``ellipsis`` where text is left out at either end. ``marked`` is a whole text with each match between
    HL_START and HL_END, as FTS5's highlight() gives it (issue 12, item 4: FTS5's snippet() reads each shown
    entry's text twice to choose its window, highlight() once).

    The run is chosen as FTS5's snippet() chooses: of the stretches ``length`` long that begin at a match,
    the one holding the most different matched words, then the most matches, the first of equals. The
    snippet begins at the text's start when the run fits in its first ``length`` characters (so a short
    text is shown whole), else where the run's sentence or line begins (after ". ", "? ", "! ", ": " or a
    line break; a list item without its "- ") when that is near enough to keep the run whole, else with
    the run in its middle, reaching back near the text's end to stay ``length`` long. A phrase cut at
    either end keeps its marks paired. Text without spaces (Chinese, Japanese) is cut at the length."""
    n = len(marked)
    # Each match's closing mark first, then its opening mark just before it: str.find skips ahead with memchr
    # for HL_END, whose low byte is 1, but reads every character for HL_START (low byte 0), 2 µs in 6,000.
    find, rfind = marked.find, marked.rfind
    spans: list[tuple[int, int]] = []
    done, close = 0, find(HL_END)
    while close >= 0:
        opening = rfind(HL_START, done, close)  # the nearest: a mark typed in the text itself is passed over
        if opening >= 0:
            spans.append((opening, close + 1))
        done = close + 1
        close = find(HL_END, done)
    first, last = spans[0] if spans else (0, 0)
    if len(spans) > 1:
        keys = [marked[a + 1:b - 1].casefold() for a, b in spans]
        best = -1
        for i, (a, b) in enumerate(spans):
            seen, score, reach = {keys[i]}, 1000, b
            for j in range(i + 1, len(spans)):
                if spans[j][1] - a > length:
                    break
                score += 1 if keys[j] in seen else 1000
                seen.add(keys[j])
                reach = spans[j][1]
            if score > best:
                best, first, last = score, a, reach
    if last <= length:  # the run fits in the opening: the text from its start (a short text whole)
        start = 0
    else:
        room = max(length - (last - first), 0)
        low = first - room  # the earliest start that keeps the run whole
        start = -1
        for mark in _SENTENCE_ENDS:
            at = rfind(mark, low, first)
            if at >= 0 and at + len(mark) > start:
                start = at + len(mark)
        if start >= 0:
            bullet = _BULLET.match(marked, start, first)
            start = bullet.end() if bullet else start
        else:  # no sentence begins near enough: the run in the middle
            start = max(0, min(first - room // 2, n - length))
            if start > 0 and not marked[start - 1].isspace():
                word = _REST_OF_WORD.match(marked, start, first)
                start = word.end() if word else start
    end = max(start + length, last)
    if end >= n:
        end = n
    elif not marked[end].isspace() and not marked[end - 1].isspace():  # inside a word: end before it
        space = max(rfind(" ", last, end), rfind("\n", last, end))
        end = space if space > start else end
    solid = _SOLID.search(marked, start, end)
    if solid is None:
        return ""
    start = solid.start()
    while marked[end - 1].isspace():
        end -= 1
    piece = marked[start:end]
    if piece.rfind(HL_START) > piece.rfind(HL_END):
        piece += HL_END
    close = piece.find(HL_END)
    if close >= 0 and not 0 <= piece.find(HL_START) < close:
        piece = HL_START + piece
    if start > 0 and _SOLID.search(marked, 0, start):
        piece = ellipsis + piece
    if end < n and _SOLID.search(marked, end):
        piece += ellipsis
    return piece
