"""ScopedPage: a page of one identity's writing (calendar, statistics) that asks again only when it is shown."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from mirror_desktop.workers.writing import WritingClient, scope_of


class ScopedPage(QWidget):
    """Follows the identity switcher and the journal's writes, and reloads (``reload``) only while shown."""

    def __init__(self, client: WritingClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self._scope = scope_of(None, False)
        self._dirty = True

    def set_identity(self, identity_id: str | None, anonymous: bool) -> None:
        """Follow the identity switcher: the page shows that identity's writing."""
        scope = scope_of(identity_id, anonymous)
        if scope != self._scope:
            self._scope = scope
            self.invalidate()

    def invalidate(self) -> None:
        """Something was written: ask again now if the page is shown, else when it is shown next."""
        self._dirty = True
        if self.isVisible():
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def reload(self) -> None:
        raise NotImplementedError
