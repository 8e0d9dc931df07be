"""IdentityListModel: the switcher's rows — All, each identity with its colour, Anonymous."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from mirror_desktop.core import models as m

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

Index = QModelIndex | QPersistentModelIndex

IdentityIdRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2  # "all" | "identity" | "anonymous"
ColorRole = Qt.ItemDataRole.UserRole + 3

ALL, IDENTITY, ANONYMOUS = "all", "identity", "anonymous"
_icons: dict[str, QIcon] = {}


def color_dot(color: str | None, size: int = 12) -> QIcon:
    """A round swatch for an identity's colour (cached; hollow when it has none)."""
    key = f"{color}:{size}"
    if key not in _icons:
        from PySide6.QtGui import QIcon, QPainter, QPixmap  # here: the icon classes load after the first paint

        pix = QPixmap(size * 2, size * 2)
        pix.setDevicePixelRatio(2.0)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = QColor(color) if color else QColor("#9aa0a6")
        if color:
            p.setBrush(c)
            p.setPen(Qt.PenStyle.NoPen)
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(c)
        p.drawEllipse(1, 1, size - 2, size - 2)
        p.end()
        _icons[key] = QIcon(pix)
    return _icons[key]


class IdentityListModel(QAbstractListModel):
    """Rows: All reflections, the identities by name, Anonymous. Filled by ``set_identities``."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._identities: list[m.Identity] = []

    def set_identities(self, identities: list[m.Identity]) -> None:
        self.beginResetModel()
        self._identities = sorted(identities, key=lambda i: i.name.lower())
        self.endResetModel()

    @property
    def identities(self) -> list[m.Identity]:
        return list(self._identities)

    def identity(self, identity_id: str | None) -> m.Identity | None:
        return next((i for i in self._identities if i.id == identity_id), None)

    def row_for(self, kind: str, identity_id: str | None = None) -> int:
        if kind == ALL:
            return 0
        if kind == ANONYMOUS:
            return len(self._identities) + 1
        for n, ident in enumerate(self._identities):
            if ident.id == identity_id:
                return n + 1
        return 0

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._identities) + 2

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < self.rowCount():
            return None
        r = index.row()
        if r == 0:
            kind, ident = ALL, None
        elif r == len(self._identities) + 1:
            kind, ident = ANONYMOUS, None
        else:
            kind, ident = IDENTITY, self._identities[r - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return {ALL: "All reflections", ANONYMOUS: "Anonymous"}.get(kind) or (ident.name if ident else "")
        if role == Qt.ItemDataRole.DecorationRole:
            if kind == IDENTITY and ident is not None:
                return color_dot(ident.color)
            return color_dot(None) if kind == ANONYMOUS else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if kind == ANONYMOUS:
                return "Reflections without an identity; they always stay on this device."
            if kind == ALL:
                return "Every reflection, from every identity."
            return f"Reflections written as {ident.name}" if ident else None
        if role == IdentityIdRole:
            return ident.id if ident else None
        if role == KindRole:
            return kind
        if role == ColorRole:
            return ident.color if ident else None
        return None
