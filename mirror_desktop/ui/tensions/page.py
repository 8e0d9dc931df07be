"""View → Tensions (Ctrl+3): the tension map, the selected tension's history and reflections, editing, suggestions.

Every read and write goes through the feature's worker client (workers.tensions.TensionsClient);
results come back on the GUI thread and update the widgets (STYLE.md, habit 3). No SQL, no service here.
Ctrl+Z undoes the last move (a QUndoStack of moves; undo restores the row as it was before).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.core.tensions import (
    HistoryPoint,
    MoveResult,
    RelatedReflection,
    TensionMapData,
    axis_color,
    axis_id_of,
)
from mirror_desktop.ui.tensions.dialogs import AxisDialog, TensionDialog, confirm_delete
from mirror_desktop.ui.format import plural, short_date
from mirror_desktop.ui.tensions.map_widget import HistoryChart, TensionMapWidget, describe, last_change
from mirror_desktop.workers.executor import Job
from mirror_desktop.workers.tensions import TensionsClient
from mirror_desktop.ui.theme import named

ReflectionIdRole = Qt.ItemDataRole.UserRole + 1
NO_TENSIONS_TITLE = "No tensions here yet"
NO_TENSIONS_TEXT = "Add one with “New tension”: two pulls, like Rest and Achievement, and where you stand between them."


class _MoveCommand(QUndoCommand):
    """One stored move: undo restores ``before``, redo restores ``after`` (history included)."""

    def __init__(self, view: TensionView, result: MoveResult) -> None:
        super().__init__(f"move {result.after.name}")
        self.view = view
        self.result = result
        self._first = True

    def redo(self) -> None:
        if self._first:  # the move is already stored when the command is pushed
            self._first = False
            return
        self.view._restore(self.result.after)

    def undo(self) -> None:
        self.view._restore(self.result.before)


class TensionView(QWidget):
    """The tension map page.

    Signals:
        reflection_open_requested(str): the person clicked a reflection linked to a tension; payload
            is the reflection id.
        tension_moved(str): a move, undo or redo was stored; payload is the tension id.
        tensions_changed(): tensions or axes were created, edited, deleted, accepted or dismissed.
    """

    reflection_open_requested = Signal(str)
    tension_moved = Signal(str)
    tensions_changed = Signal()

    def __init__(self, client: TensionsClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tensionView")
        self.client = client
        self._identity: str | None = None
        self._anonymous = False
        self._scoped = False
        self._seeded = False
        self._data = TensionMapData([], [], [])
        self._detail_request = 0
        self._detail_job: Job | None = None
        self._pending_select = ""
        self.undo_stack = QUndoStack(self)
        self._build()
        self._wire()

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        self.title = named(QLabel("Tensions"), "viewTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = named(QLabel("The pulls in your life, where you stand between them."), "viewSubtitle")
        self.subtitle.setEnabled(False)
        self.new_tension_button = QPushButton("New tension")
        self.new_axis_button = QPushButton("New axis")
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo move")
        self.undo_button.setToolTip("Undo the last move (Ctrl+Z)")
        self.undo_button.setEnabled(False)
        head_text = QVBoxLayout()
        head_text.setSpacing(2)
        head_text.addWidget(self.title)
        head_text.addWidget(self.subtitle)
        head = QHBoxLayout()
        head.addLayout(head_text, 1)
        head.addWidget(self.undo_button)
        head.addWidget(self.new_axis_button)
        head.addWidget(self.new_tension_button)

        self.problem = named(QLabel(), "problem")
        self.problem.setWordWrap(True)
        self.problem.hide()

        self.map = TensionMapWidget()
        self.map_scroll = QScrollArea()
        self.map_scroll.setWidget(self.map)
        self.map_scroll.setWidgetResizable(True)
        self.map_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.map_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.map_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        # Side panel: the selected tension, its history chart, linked reflections, suggestions.
        self.side = named(QWidget(), "tensionSide")
        self.side.setMinimumWidth(300)
        self.side.setMaximumWidth(420)
        self.detail_name = named(QLabel("Select a tension"), "detailName")
        self.detail_name.setWordWrap(True)
        f = self.detail_name.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.12)
        self.detail_name.setFont(f)
        self.detail_text = QLabel("Click a handle or press Tab to choose one; drag it, or use the arrow keys.")
        self.detail_text.setWordWrap(True)
        self.detail_text.setEnabled(False)
        self.edit_button = QPushButton("Edit…")
        self.axis_button = QPushButton("Edit axis…")
        self.delete_button = QPushButton("Delete…")
        for b in (self.edit_button, self.axis_button, self.delete_button):
            b.setEnabled(False)
        actions = QHBoxLayout()
        actions.addWidget(self.edit_button)
        actions.addWidget(self.axis_button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)
        self.chart = HistoryChart()
        self.reflections = QListWidget()
        self.reflections.setAccessibleName("Reflections where this tension appears")
        self.reflections.setWordWrap(True)
        self.reflections.setMinimumHeight(120)
        self.reflections.setFrameShape(QFrame.Shape.NoFrame)
        self.reflections.setSpacing(4)
        self.reflections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.suggestion_box = QWidget()
        self.suggestion_rows = QVBoxLayout(self.suggestion_box)
        self.suggestion_rows.setContentsMargins(0, 0, 0, 0)
        self.suggestion_rows.setSpacing(6)
        self.suggestion_title = self._section("Suggestions")
        side = QVBoxLayout(self.side)
        side.setContentsMargins(16, 8, 4, 8)
        side.setSpacing(8)
        side.addWidget(self.detail_name)
        side.addWidget(self.detail_text)
        side.addLayout(actions)
        side.addWidget(self._section("History"))
        side.addWidget(self.chart)
        side.addWidget(self._section("In your reflections"))
        side.addWidget(self.reflections, 1)
        side.addWidget(self.suggestion_title)
        side.addWidget(self.suggestion_box)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.map_scroll)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 16, 16, 12)
        lay.setSpacing(10)
        lay.addLayout(head)
        lay.addWidget(self.problem)
        lay.addWidget(self.splitter, 1)
        self._show_suggestions([])

    @staticmethod
    def _section(text: str) -> QLabel:
        label = named(QLabel(text.upper()), "sectionTitle")
        f = label.font()
        f.setPointSizeF(f.pointSizeF() * 0.85)
        f.setBold(True)
        f.setLetterSpacing(f.SpacingType.PercentageSpacing, 108)
        label.setFont(f)
        label.setEnabled(False)
        label.setContentsMargins(0, 8, 0, 0)
        return label

    def _wire(self) -> None:
        self.map.tension_move_requested.connect(self._move_requested)
        self.map.selection_changed.connect(self._selection_changed)
        self.map.edit_requested.connect(self.edit_tension)
        self.map.context_menu_requested.connect(self._context_menu)
        self.new_tension_button.clicked.connect(lambda: self.new_tension())
        self.new_axis_button.clicked.connect(lambda: self.new_axis())
        self.edit_button.clicked.connect(lambda: self.edit_tension(self.map.selected()))
        self.axis_button.clicked.connect(self._edit_selected_axis)
        self.delete_button.clicked.connect(lambda: self.delete_tension(self.map.selected()))
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.reflections.itemActivated.connect(self._reflection_clicked)
        self.reflections.itemClicked.connect(self._reflection_clicked)
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        undo = QShortcut(QKeySequence.StandardKey.Undo, self, context=ctx)
        undo.activated.connect(self.undo_stack.undo)
        redo = QShortcut(QKeySequence.StandardKey.Redo, self, context=ctx)
        redo.activated.connect(self.undo_stack.redo)

    # -- the window's contract ---------------------------------------------------------------
    def set_identity(self, identity_id: str | None, anonymous: bool) -> None:
        """Show the map for one identity (its tensions plus the global ones), Anonymous (global only)
        or, with ``identity_id`` None and not anonymous, every identity."""
        changed = (identity_id, anonymous) != (self._identity, self._anonymous) or not self._scoped
        self._identity, self._anonymous, self._scoped = identity_id, anonymous, True
        if changed:
            self.undo_stack.clear()
        self.reload()

    def reload(self) -> None:
        """Read the map again (seeding a new journal on the first read)."""
        self.client.load_map(self._identity, self._anonymous, seed=not self._seeded, on_result=self._map_loaded,
                             on_error=self._show_error)

    def _show_error(self, exc: BaseException) -> None:
        self.problem.setText(str(exc) or "Something went wrong; nothing was changed.")
        self.problem.show()

    def _clear_error(self) -> None:
        self.problem.hide()

    # -- results ---------------------------------------------------------------------------
    def _map_loaded(self, data: TensionMapData) -> None:
        self._seeded = True
        self._data = data
        self.map.set_groups(data.groups)
        self._show_suggestions(data.suggestions)
        count = sum(len(g.tensions) for g in data.groups)
        scope = "Anonymous" if self._anonymous else "this identity" if self._identity else "all identities"
        axes = len([g for g in data.groups if g.axis])
        self.subtitle.setText(f"{plural(count, 'tension')} on {axes:,} {'axis' if axes == 1 else 'axes'} · {scope} · "
                              "drag a handle to move it, up or down (or Ctrl+wheel) for intensity")
        if self._pending_select:
            key, self._pending_select = self._pending_select, ""
            self.map.select(key)
        elif not self.map.selected() and self.map.keys():
            self.map.select(self.map.keys()[0])  # the side panel never starts empty
        self._refresh_detail()

    def _move_requested(self, tension_id: str, position: float, intensity: float) -> None:
        def failed(exc: BaseException) -> None:
            self.map.discard_preview(tension_id)
            self._show_error(exc)

        self.client.move(tension_id, position, intensity, self._move_stored, failed)

    def _move_stored(self, result: MoveResult) -> None:
        self._clear_error()
        self.map.apply_tension(result.after)
        if result.changed:
            self.undo_stack.push(_MoveCommand(self, result))
            self.tension_moved.emit(result.after.id)
        if result.after.id == self.map.selected():
            self._refresh_detail()

    def _restore(self, state: m.Tension) -> None:
        self.client.restore(state, self._restored, self._show_error)

    def _restored(self, t: m.Tension) -> None:
        self._clear_error()
        self.map.apply_tension(t)
        self.tension_moved.emit(t.id)
        if t.id == self.map.selected():
            self._refresh_detail()

    # -- side panel ------------------------------------------------------------------------
    def _selection_changed(self, tension_id: str) -> None:
        has = bool(tension_id)
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        t = self.map.tension(tension_id) if has else None
        self.axis_button.setEnabled(bool(t and self._axis(axis_id_of(t))))
        self._refresh_detail()

    def _axis(self, axis_id: str | None) -> m.Axis | None:
        return next((a for a in self._data.axes if a.id == axis_id), None) if axis_id else None

    def _refresh_detail(self) -> None:
        key = self.map.selected()
        t = self.map.tension(key) if key else None
        self._detail_request += 1
        if t is None:
            if self.map.keys():
                self.detail_name.setText("Select a tension")
                self.detail_text.setText("Click a handle or press Tab to choose one; drag it, or use the arrow keys.")
            else:  # nothing to click: say how to begin
                self.detail_name.setText(NO_TENSIONS_TITLE)
                self.detail_text.setText(NO_TENSIONS_TEXT)
            self.chart.set_history([], ("", ""), "#8A94A6")
            self.reflections.clear()
            return
        axis = self._axis(axis_id_of(t))
        self.detail_name.setText(t.name)
        changed = last_change(t)
        when = f"last moved {short_date(changed)}" if changed else "not moved yet"
        about = (t.metadata or {}).get("description") or (t.metadata or {}).get("notes") or ""
        parts = [describe(t).split(": ", 1)[1] + f" · {when}"]
        if axis is not None:
            parts.append(f"Axis: {axis.name}")
        if about:
            parts.append(about)
        self.detail_text.setText("\n".join(parts))
        request, tid, color, poles = self._detail_request, t.id, axis_color(axis), (t.axis_a, t.axis_b)

        def done(result: tuple[list[HistoryPoint], list[RelatedReflection]]) -> None:
            if request != self._detail_request:
                return  # a newer selection won
            history, related = result
            self.chart.set_history([(h.when, 0.0 if h.position is None else h.position,
                                     0.5 if h.intensity is None else h.intensity) for h in history], poles, color)
            self._show_related(related)

        if self._detail_job is not None:
            self._detail_job.cancel()  # a newer selection won: the older background read is skipped if not started
        self._detail_job = self.client.load_details(tid, done, self._show_error)

    def _show_related(self, related: list[RelatedReflection]) -> None:
        self.reflections.clear()
        if not related:
            item = QListWidgetItem("No reflection mentions it yet.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.reflections.addItem(item)
            return
        for r in related:
            how = "surfaced by Mirror" if r.surfaced else "mentioned"
            item = QListWidgetItem(f"{short_date(r.created_at)} · {how}\n“{r.excerpt}”")
            item.setData(ReflectionIdRole, r.reflection_id)
            item.setToolTip("Open this reflection")
            self.reflections.addItem(item)

    def _reflection_clicked(self, item: QListWidgetItem) -> None:
        rid = item.data(ReflectionIdRole)
        if rid:
            self.reflection_open_requested.emit(str(rid))

    # -- suggestions -----------------------------------------------------------------------
    def _show_suggestions(self, suggestions: list[m.Tension]) -> None:
        while self.suggestion_rows.count():
            item = self.suggestion_rows.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for t in suggestions:
            row = named(QFrame(), "suggestionRow")
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            label = QLabel(f"{t.axis_a} ↔ {t.axis_b}")
            label.setWordWrap(True)
            label.setToolTip(f"{t.name}, suggested by Mirror from your reflections")
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            accept = QToolButton()
            accept.setText("Accept")
            accept.setAccessibleName(f"Accept suggestion {t.name}")
            dismiss = QToolButton()
            dismiss.setText("Dismiss")
            dismiss.setAccessibleName(f"Dismiss suggestion {t.name}")
            accept.clicked.connect(lambda _=False, tid=t.id: self.accept_suggestion(tid))
            dismiss.clicked.connect(lambda _=False, tid=t.id: self.dismiss_suggestion(tid))
            lay.addWidget(label, 1)
            lay.addWidget(accept)
            lay.addWidget(dismiss)
            self.suggestion_rows.addWidget(row)
        self.suggestion_title.setVisible(bool(suggestions))
        self.suggestion_box.setVisible(bool(suggestions))

    def accept_suggestion(self, tension_id: str) -> None:
        self.client.accept_suggestion(tension_id, self._written(), self._show_error)

    def dismiss_suggestion(self, tension_id: str) -> None:
        self.client.dismiss_suggestion(tension_id, self._written(), self._show_error)

    # -- editing ---------------------------------------------------------------------------
    def _written(self, select: bool = False) -> Callable[[Any], None]:
        """What follows a landed write: reload the map (and select a created tension)."""
        def done(result: Any) -> None:
            self._clear_error()
            self.tensions_changed.emit()
            if select and isinstance(result, m.Tension):
                self._pending_select = result.id
            self.reload()

        return done

    def new_tension(self, dialog: TensionDialog | None = None) -> None:
        dlg = dialog or TensionDialog(self._data.axes, None, self)
        if dialog is None and dlg.exec() != TensionDialog.DialogCode.Accepted:
            return
        v = dlg.values()
        ident = None if self._anonymous else self._identity
        self.client.create_tension(v["name"], v["axis_a"], v["axis_b"], axis_id=v["axis_id"], identity_id=ident,
                                   sync_mode=v["sync_mode"], on_result=self._written(select=True), on_error=self._show_error)

    def edit_tension(self, tension_id: str, dialog: TensionDialog | None = None) -> None:
        t = self.map.tension(tension_id) if tension_id else None
        if t is None:
            return
        dlg = dialog or TensionDialog(self._data.axes, t, self)
        if dialog is None and dlg.exec() != TensionDialog.DialogCode.Accepted:
            return
        v = dlg.values()
        self.client.update_tension(t.id, name=v["name"], axis_a=v["axis_a"], axis_b=v["axis_b"], axis_id=v["axis_id"],
                                   sync_mode=v["sync_mode"], on_result=self._written(), on_error=self._show_error)

    def delete_tension(self, tension_id: str, confirm: Callable[..., bool] = confirm_delete) -> None:
        t = self.map.tension(tension_id) if tension_id else None
        if t is None:
            return
        moves = len((t.metadata or {}).get("position_history") or [])
        if not confirm(self, f"“{t.name}”", f"Its position and {moves} recorded moves are deleted too. "
                                            "Your reflections are not touched."):
            return
        self.undo_stack.clear()  # moves of a deleted tension cannot be undone
        self.client.delete_tension(t.id, self._written(), self._show_error)

    def new_axis(self, dialog: AxisDialog | None = None) -> None:
        dlg = dialog or AxisDialog(None, self)
        if dialog is None and dlg.exec() != AxisDialog.DialogCode.Accepted:
            return
        v = dlg.values()
        ident = None if self._anonymous else self._identity
        self.client.create_axis(v["name"], description=v["description"], category=v["category"], color=v["color"],
                                identity_id=ident, on_result=self._written(), on_error=self._show_error)

    def edit_axis(self, axis_id: str, dialog: AxisDialog | None = None) -> None:
        axis = self._axis(axis_id)
        if axis is None:
            return
        dlg = dialog or AxisDialog(axis, self)
        if dialog is None and dlg.exec() != AxisDialog.DialogCode.Accepted:
            return
        v = dlg.values()
        self.client.update_axis(axis.id, name=v["name"], description=v["description"], category=v["category"],
                                color=v["color"], on_result=self._written(), on_error=self._show_error)

    def delete_axis(self, axis_id: str, confirm: Callable[..., bool] = confirm_delete) -> None:
        axis = self._axis(axis_id)
        if axis is None:
            return
        if not confirm(self, f"the axis “{axis.name}”", "Its tensions stay on the map, under Unsorted."):
            return
        self.client.delete_axis(axis.id, self._written(), self._show_error)

    def _edit_selected_axis(self) -> None:
        t = self.map.tension(self.map.selected())
        if t is not None:
            self.edit_axis(axis_id_of(t) or "")

    def _context_menu(self, tension_id: str, global_pos: QPoint) -> None:
        t = self.map.tension(tension_id)
        if t is None:
            return
        menu = QMenu(self)
        menu.addAction("Edit tension…", lambda: self.edit_tension(tension_id))
        aid = axis_id_of(t)
        if self._axis(aid):
            menu.addAction("Edit axis…", lambda: self.edit_axis(aid or ""))
            menu.addAction("Delete axis…", lambda: self.delete_axis(aid or ""))
        menu.addSeparator()
        centre = QAction("Move to centre", menu)
        centre.triggered.connect(lambda: self._move_requested(tension_id, 0.0, t.intensity if t.intensity is not None else 0.5))
        menu.addAction(centre)
        menu.addSeparator()
        menu.addAction("Delete tension…", lambda: self.delete_tension(tension_id))
        menu.popup(global_pos)
