"""SearchPanel: results while typing (debounced), highlighted snippets, identity/thread/date filters.

The panel owns no query logic: it debounces the box, builds SearchFilters and asks the JournalClient;
only the answer to the newest request is shown (older answers are dropped when they arrive late).
"""

from __future__ import annotations

from datetime import datetime, UTC

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.ui import format as fmt
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.ui.journal.models import search_results as sr
from mirror_desktop.ui.journal.models.identities import color_dot
from mirror_desktop.ui.journal.delegates import SearchHitDelegate
from mirror_desktop.workers.base import sentence
from mirror_desktop.workers.journal import JournalClient
from mirror_desktop.ui.theme import named

DEBOUNCE_MS = 150
RESULT_LIMIT = 50  # results shown for one search; more matches are counted as "the 50 best"
NOTHING_WRITTEN = "Nothing written yet, so nothing to find. Press Ctrl+N to write your first reflection."
_ANON = "__anonymous__"


def _day_start_utc(d: QDate) -> datetime:
    local = datetime(d.year(), d.month(), d.day()).astimezone()
    return local.astimezone(UTC)



def _popup_date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    return edit


class SearchPanel(QWidget):
    """Search box, filters and results.

    Signals:
        reflection_activated(str): payload is the id of the result to open in the editor.
        results_shown(int): results for the newest query are on screen; payload is how many.
        leave_requested(): Esc in the search box.
    """

    reflection_activated = Signal(str)
    results_shown = Signal(int)
    leave_requested = Signal()

    def __init__(self, client: JournalClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("search")
        self.client = client
        self.model = sr.SearchResultModel(self)
        self._request = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = named(QWidget(), "viewHeader")
        hl = QVBoxLayout(head)
        hl.setContentsMargins(16, 14, 16, 10)
        hl.setSpacing(8)
        self.box = named(QLineEdit(), "searchBox")
        self.box.setPlaceholderText("Search your reflections — words, \"a phrase\", walk*, -exclude, #tag")
        self.box.setClearButtonEnabled(True)
        hl.addWidget(self.box)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        self.identity_filter = QComboBox()
        self.identity_filter.setToolTip("Only this identity")
        self.thread_filter = QComboBox()
        self.thread_filter.setToolTip("Only this thread")
        for combo in (self.identity_filter, self.thread_filter):
            combo.setMinimumContentsLength(10)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.since_check = QCheckBox("From")
        self.since = _popup_date_edit()
        self.until_check = QCheckBox("to")
        self.until = _popup_date_edit()
        today = QDate.currentDate()
        self.since.setDate(today.addMonths(-1))
        self.until.setDate(today)
        for w in (self.since, self.until):
            w.setDisplayFormat("d MMM yyyy")
            w.setEnabled(False)
        filters.addWidget(self.identity_filter, 1)
        filters.addWidget(self.thread_filter, 1)
        hl.addLayout(filters)
        dates = QHBoxLayout()
        dates.setSpacing(6)
        dates.addWidget(self.since_check)
        dates.addWidget(self.since, 1)
        dates.addWidget(self.until_check)
        dates.addWidget(self.until, 1)
        hl.addLayout(dates)
        # How many matched, and their order (issue 11: no count, and no way to read them by date).
        summary = QHBoxLayout()
        summary.setSpacing(6)
        self.count_label = named(QLabel(""), "muted")
        self.sort = QComboBox()
        self.sort.setToolTip("Order of the results")
        for label, key in (("Best match first", "rank"), ("Newest first", "newest"), ("Oldest first", "oldest")):
            self.sort.addItem(label, key)
        summary.addWidget(self.count_label, 1)
        summary.addWidget(self.sort)
        hl.addLayout(summary)
        lay.addWidget(head)
        self._rows: list[sr.ResultRow] = []

        self.stack = QStackedWidget()
        self.results = named(QListView(), "searchResults")
        self.results.setModel(self.model)
        self.results.setItemDelegate(SearchHitDelegate(self.results))
        self.results.setFrameShape(QListView.Shape.NoFrame)
        self.results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results.setUniformItemSizes(True)
        self.message = named(QLabel("Type to search every reflection."), "emptyState")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.results)
        lay.addWidget(self.stack, 1)

        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_now)
        self.box.textChanged.connect(lambda _t: self._timer.start())
        self.box.returnPressed.connect(self._open_first)
        for combo in (self.identity_filter, self.thread_filter):
            combo.currentIndexChanged.connect(lambda _i: self._timer.start())
        for check, edit in ((self.since_check, self.since), (self.until_check, self.until)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(lambda _on: self._timer.start())
            edit.dateChanged.connect(lambda _d: self._timer.start())
        self.sort.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.results.activated.connect(self._activated)
        self.results.clicked.connect(self._activated)
        self.set_identities([])
        self.set_threads([])

    # -- choices -------------------------------------------------------------------------
    def set_identities(self, identities: list[m.Identity]) -> None:
        current = self.identity_filter.currentData()
        self.identity_filter.blockSignals(True)
        self.identity_filter.clear()
        self.identity_filter.addItem("All identities", None)
        for ident in sorted(identities, key=lambda i: i.name.lower()):
            self.identity_filter.addItem(color_dot(ident.color), ident.name, ident.id)
        self.identity_filter.addItem(color_dot(None), "Anonymous", _ANON)
        self.identity_filter.setCurrentIndex(max(self.identity_filter.findData(current), 0))
        self.identity_filter.blockSignals(False)

    def set_threads(self, threads: list[m.Thread]) -> None:
        current = self.thread_filter.currentData()
        self.thread_filter.blockSignals(True)
        self.thread_filter.clear()
        self.thread_filter.addItem("All threads", None)
        for t in threads:
            self.thread_filter.addItem(t.title or "Untitled thread", t.id)
        self.thread_filter.setCurrentIndex(max(self.thread_filter.findData(current), 0))
        self.thread_filter.blockSignals(False)

    def set_identity_filter(self, identity_id: str | None, anonymous: bool) -> None:
        key = _ANON if anonymous else identity_id
        self.identity_filter.setCurrentIndex(max(self.identity_filter.findData(key), 0))

    def filters(self) -> SearchFilters:
        ident = self.identity_filter.currentData()
        since = _day_start_utc(self.since.date()) if self.since_check.isChecked() else None
        until = _day_start_utc(self.until.date().addDays(1)) if self.until_check.isChecked() else None
        return SearchFilters(identity_id=None if ident in (None, _ANON) else ident, anonymous_only=ident == _ANON,
                             thread_id=self.thread_filter.currentData(), since=since, until=until)

    # -- running -------------------------------------------------------------------------
    def focus_box(self) -> None:
        self.box.setFocus()
        self.box.selectAll()

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape:
            self.leave_requested.emit()
            return
        if event.key() == Qt.Key.Key_Down and self.box.hasFocus() and self.model.rowCount():
            self.results.setFocus()
            self.results.setCurrentIndex(self.model.index(0, 0))
            return
        super().keyPressEvent(event)

    def run_now(self) -> None:
        self._timer.stop()
        self._request += 1
        request = self._request
        query = self.box.text().strip()
        if not query:
            self._rows = []
            self._show_rows()
            self.message.setText("Type to search every reflection.")
            self.stack.setCurrentWidget(self.message)
            self.results_shown.emit(0)
            return

        filters = self.filters()

        def job(svc):  # type: ignore[no-untyped-def]
            rows = [sr.ResultRow.of(h) for h in svc.search(query, filters, limit=RESULT_LIMIT, ranks=False)]
            # No match in an empty journal is not the query's fault: count only then (one cheap read).
            return rows, (bool(rows) or svc.count_reflections(SearchFilters()) > 0)

        # The read lane: a search never waits behind background work (issue 12).
        self.client.query(job, lambda out: self._shown(request, *out), lambda exc: self._error(request, exc))

    def _shown(self, request: int, rows: list[sr.ResultRow], anything_written: bool = True) -> None:
        if request != self._request:
            return
        self._rows = rows
        self._show_rows()
        if rows:
            self.stack.setCurrentWidget(self.results)
        elif not anything_written:
            self.message.setText(NOTHING_WRITTEN)
            self.stack.setCurrentWidget(self.message)
        else:
            self.message.setText("Nothing matches. Try fewer words, a prefix like walk*, or wider filters.")
            self.stack.setCurrentWidget(self.message)
        self.results_shown.emit(len(rows))

    def _show_rows(self) -> None:
        """The rows in the chosen order, and how many matched (the best RESULT_LIMIT when more do)."""
        rows, order = self._rows, self.sort.currentData()
        if order != "rank":
            rows = sorted(rows, key=lambda r: (r.created_at, r.reflection_id), reverse=order == "newest")
        self.model.set_results(rows)
        n = len(rows)
        self.count_label.setText("" if not n else f"The {n} best matches" if n >= RESULT_LIMIT
                                 else f"{fmt.plural(n, 'reflection')} {'matches' if n == 1 else 'match'}")

    def _error(self, request: int, exc: BaseException) -> None:
        if request != self._request:
            return
        self._rows = []
        self._show_rows()
        self.message.setText(sentence(exc))
        self.stack.setCurrentWidget(self.message)
        self.results_shown.emit(0)

    def _open_first(self) -> None:
        if self.model.rowCount():
            self.reflection_activated.emit(self.model.index(0, 0).data(sr.ReflectionIdRole))

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.reflection_activated.emit(index.data(sr.ReflectionIdRole))
