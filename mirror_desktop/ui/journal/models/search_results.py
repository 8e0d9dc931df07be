"""SearchResultModel: ranked hits with highlighted, HTML-escaped snippets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from mirror_desktop.core.models import SearchHit
from mirror_desktop.ui import format as fmt

Index = QModelIndex | QPersistentModelIndex

ReflectionIdRole = Qt.ItemDataRole.UserRole + 1
SnippetHtmlRole = Qt.ItemDataRole.UserRole + 2
DateRole = Qt.ItemDataRole.UserRole + 3
IdentityRole = Qt.ItemDataRole.UserRole + 4


@dataclass(frozen=True)
class ResultRow:
    reflection_id: str
    created_at: datetime
    identity_id: str | None
    title: str
    snippet_html: str

    @classmethod
    def of(cls, hit: SearchHit) -> ResultRow:
        # The hit's own attributes: the whole Reflection is never made for a row that is only listed.
        return cls(hit.reflection_id, hit.created_at, hit.identity_id, fmt.first_line(hit.content, 90),
                   fmt.snippet_html(hit.snippet))


class SearchResultModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []

    def set_results(self, rows: list[ResultRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.title
        if role == SnippetHtmlRole:
            return row.snippet_html
        if role == ReflectionIdRole:
            return row.reflection_id
        if role == DateRole:
            return row.created_at
        if role == IdentityRole:
            return row.identity_id
        return None
