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
