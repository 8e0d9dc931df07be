"""ReflectionListModel: newest-first reflections, loaded in pages through the executor.

Thin by design (STYLE.md habit 4): rows are small summaries (id, date, first line, word count,
visibility) computed on the worker; ``data()`` only reads them; ``fetchMore`` submits a job and the
rows are inserted when it returns, so painting and scrolling never wait on the disk. Memory stays
proportional to what has been scrolled into view, not to the size of the journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from mirror_desktop.core import models as m
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.ui import format as fmt
from mirror_desktop.workers.journal import JournalClient

Index = QModelIndex | QPersistentModelIndex

FETCH_ALL_PAGE = 1000  # rows per query while fetch_all reads the rest of the list
PAGE_SIZE = 200  # rows per page as the list is scrolled (and in the first page read before the open)
IdRole = Qt.ItemDataRole.UserRole + 1
DateRole = Qt.ItemDataRole.UserRole + 2
WordsRole = Qt.ItemDataRole.UserRole + 3
VisibilityRole = Qt.ItemDataRole.UserRole + 4
IdentityRole = Qt.ItemDataRole.UserRole + 5
TagsRole = Qt.ItemDataRole.UserRole + 6


class ReflectionColumns(Protocol):
    """What a row is made from: a reflection, or its stored columns (storage/first_page.py's first page)."""

    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def identity_id(self) -> str | None: ...
    @property
    def visibility(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class ReflectionRow:
    """What a list row shows; built on the worker so the GUI thread never scans a reflection's text."""

    id: str
    created_at: datetime
    identity_id: str | None
    visibility: str
    title: str
    words: int
    tags: tuple[str, ...]

    @classmethod
    def of(cls, r: ReflectionColumns) -> ReflectionRow:
        meta = r.metadata or {}
        words = meta.get("word_count")
        return cls(r.id, r.created_at, r.identity_id, str(r.visibility), fmt.first_line(r.content),
                   int(words) if isinstance(words, int) else fmt.word_count(r.content),
                   tuple(meta.get("tags") or ()))  # what m.Reflection.tags reads

    @property
    def key(self) -> tuple[datetime, str]:
        return (self.created_at, self.id)


class ReflectionListModel(QAbstractListModel):
    """Pages of ReflectionRow for one identity filter.

    Signals:
        first_page_loaded(int): the first page of the current filter arrived; payload is its row count.
        page_failed(str): a page could not be read; payload is the sentence to show.
    """

    first_page_loaded = Signal(int)
    page_failed = Signal(str)

    def __init__(self, client: JournalClient, page_size: int = PAGE_SIZE, parent: Any = None) -> None:
        super().__init__(parent)
        self._client = client
        self._page_size = page_size
        self._rows: list[ReflectionRow] = []
        self._filters = SearchFilters()
        self._generation = 0
        self._fetching = False
        self._exhausted = True  # nothing to fetch until the journal is open and a filter is set
        self._first_done = False
        self._awaited: int | None = None  # the generation whose first page comes through take_first_page

    # -- filter ----------------------------------------------------------------------------
    @property
    def filters(self) -> SearchFilters:
        return self._filters

    def set_filters(self, filters: SearchFilters, *, first_page_coming: bool = False) -> None:
        """Show another slice of the journal; results of earlier requests are ignored.

        ``first_page_coming``: the first page is being read another way (the executor's look-ahead before
        the open, issue 12) and arrives through ``take_first_page`` instead of a query.
        """
        self._generation += 1
        self.beginResetModel()
        self._filters = filters
        self._rows = []
        self._fetching = first_page_coming
        self._exhausted = False
        self._first_done = False
        self._awaited = self._generation if first_page_coming else None
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def take_first_page(self, rows: list[ReflectionRow] | None) -> None:
        """The first page that ``set_filters(..., first_page_coming=True)`` waits for; None: it could not be read
        that way, so it is asked for as usual. Ignored when the filters changed since."""
        if self._awaited != self._generation:
            return
        self._awaited = None
        if rows is None:
            self._fetching = False
            self.fetchMore(QModelIndex())
        else:
            self._page_arrived(self._generation, rows)

    def reload(self) -> None:
        self.set_filters(self._filters)

    def _matches(self, identity_id: str | None) -> bool:
        f = self._filters
        if f.anonymous_only:
            return identity_id is None
        if f.identity_id is not None:
            return identity_id == f.identity_id
        return True

    # -- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or index.column() != 0:
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return fmt.row_meta(fmt.long_date(row.created_at), row.words, row.tags)
        if role == IdRole:
            return row.id
        if role == DateRole:
            return row.created_at
        if role == WordsRole:
            return row.words
        if role == VisibilityRole:
            return row.visibility
        if role == IdentityRole:
            return row.identity_id
        if role == TagsRole:
            return list(row.tags)
        return None

    @property
    def has_more(self) -> bool:
        """More rows exist beyond those loaded (a page may be on its way)."""
        return not self._exhausted

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if parent.isValid() or self._exhausted or self._fetching:
            return
        self._fetching = True
        generation = self._generation
        filters = self._filters
        after = self._rows[-1].key if self._rows else None
        limit = self._page_size

        def job(svc: Any) -> list[ReflectionRow]:
            return [ReflectionRow.of(r) for r in svc.reflections_page(filters, after=after, limit=limit)]

        self._client.query(job, lambda rows: self._page_arrived(generation, rows),
                          lambda exc: self._page_error(generation, exc))

    def fetch_all(self, then: Callable[[], None]) -> None:
        """Load every row not loaded yet, then call ``then`` (End: jump to the oldest reflection, issue 11).

        One job reads the rest page by page on the worker and keeps only the list's small rows, never the
        texts, so even 100,000 reflections arrive as one insertion the view can jump to the end of.
        """
        if self._exhausted and not self._fetching:
            then()
            return
        self._fetching = True
        generation, filters = self._generation, self._filters
        after = self._rows[-1].key if self._rows else None

        def job(svc: Any) -> list[ReflectionRow]:
            rows: list[ReflectionRow] = []
            cursor = after
            while True:
                page = svc.reflections_page(filters, after=cursor, limit=FETCH_ALL_PAGE)
                rows += [ReflectionRow.of(r) for r in page]
                if len(page) < FETCH_ALL_PAGE:
                    return rows
                cursor = rows[-1].key

        def arrived(rows: list[ReflectionRow]) -> None:
            self._page_arrived(generation, rows, last=True)
            if generation == self._generation:
                then()

        self._client.query(job, arrived, lambda exc: self._page_error(generation, exc))

    def _page_arrived(self, generation: int, rows: list[ReflectionRow], last: bool = False) -> None:
        if generation != self._generation:
            return
        if last or len(rows) < self._page_size:
            self._exhausted = True
        # A row upserted while the page was in flight, or a page that was still on its way when fetch_all
        # read past it, is already here: keep the first copy.
        known = {r.id for r in self._rows[-len(rows) - self._page_size - 8:]} if rows else set()
        rows = [r for r in rows if r.id not in known]
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        # Only now: views (and the model tester) may ask for the next page from inside the
        # insertion signals, and that request must start after the rows just added.
        self._fetching = False
        if not self._first_done:
            self._first_done = True
            self.first_page_loaded.emit(len(self._rows))

    def _page_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        from mirror_desktop.workers.base import sentence

        self._fetching = False
        self._exhausted = True
        self.page_failed.emit(sentence(exc))

    # -- keeping up with writes ----------------------------------------------------------
    def row_of(self, reflection_id: str) -> int:
        for i, row in enumerate(self._rows):
            if row.id == reflection_id:
                return i
        return -1

    def upsert(self, reflection: m.Reflection) -> None:
        """Reflect a save without reloading: update, insert at its date, or drop if filtered out."""
        row = ReflectionRow.of(reflection)
        i = self.row_of(row.id)
        if not self._matches(row.identity_id):
            if i >= 0:
                self.remove(row.id)
            return
        if i >= 0:
            self._rows[i] = row
            idx = self.index(i, 0)
            self.dataChanged.emit(idx, idx)
            return
        # Insert in newest-first order; a row older than everything loaded arrives with a later page.
        pos = 0
        while pos < len(self._rows) and self._rows[pos].key > row.key:
            pos += 1
        if pos == len(self._rows) and not self._exhausted:
            return
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.insert(pos, row)
        self.endInsertRows()

    def remove(self, reflection_id: str) -> None:
        i = self.row_of(reflection_id)
        if i >= 0:
            self.beginRemoveRows(QModelIndex(), i, i)
            del self._rows[i]
            self.endRemoveRows()
