"""MirrorbackPanel: the mirrorback under the editor — Reflect, the reply, gentle notes, feedback, history.

The panel holds no SQL, no service call and no engine rules (STYLE.md, habit 5): it asks its worker
client (workers.mirrorbacks.MirrorbacksClient), which prepares on the executor, runs the engine on a
background task and records on the executor again. Answers come back on the GUI thread; a token drops
answers meant for a reflection the person has already left.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.mirrorbacks import FEEDBACK_FLAGS, MirrorbackEntry, fallback_notice
from mirror_desktop.ui.flow_layout import FlowRow
from mirror_desktop.workers.mirrorbacks import MirrorbacksClient

# How each pattern is named to the writer: what the words do, never what the person "has".
PATTERN_LABELS = {
    "internal_tension": "two pulls at once",
    "obligation_language": "“have to” and “should” words",
    "absolute_thinking": "all-or-nothing words",
    "past_trauma_reference": "the past showing up",
    "catastrophizing": "imagining the worst",
    "mind_reading": "guessing what others think",
    "fortune_telling": "predicting how it will go",
    "labeling": "a hard label",  # for yourself or someone else (issue 13's detector reads both)
    "personalization": "taking the blame",
    "emotional_reasoning": "a feeling taken as a fact",
    "overgeneralization": "one moment standing for all",
}
FLAG_LABELS = {
    "too_directive": "Too directive", "missed_tension": "Missed a tension", "too_generic": "Too generic",
    "over_explained": "Over-explained", "felt_judged": "Felt judged", "unhelpful": "Unhelpful",
    "too_long": "Too long", "too_short": "Too short", "off_topic": "Off topic",
    "actually_helpful": "Actually helpful",
}
NOT_A_DIAGNOSIS = "A pattern in the language, not a diagnosis."

_STYLE = """
#mirrorbackPanel { background: palette(base); border-top: 1px solid palette(mid); }
#mbTitle { font-weight: 600; color: palette(window-text); }
#mbMuted { color: palette(placeholder-text); }
#mbCard { background: palette(alternate-base); border: 1px solid palette(midlight); border-radius: 8px; }
#mbCard[crisis="true"] { border: 1px solid palette(highlight); }
#mbReply { font-size: 11.5pt; line-height: 140%; color: palette(text); }
#mbNotice { color: #8a6a1f; }
#mbError { color: #a5472a; }
#mbNote { background: palette(window); border: 1px solid palette(midlight); border-radius: 11px; }
#mbNote QLabel { color: palette(window-text); }
#mbNote QToolButton { border: none; color: palette(placeholder-text); padding: 0 2px; }
#mbNote QToolButton:hover { color: palette(window-text); }
#mbToggle { border: 1px solid palette(midlight); border-radius: 10px; padding: 2px 9px; background: palette(base); }
#mbToggle:checked { background: palette(highlight); color: palette(highlighted-text); border-color: palette(highlight); }
#mbLink { border: none; color: palette(link); padding: 0; text-align: left; }
"""


def sentence(exc: BaseException) -> str:
    """One sentence for people; internals stay out of the window."""
    if isinstance(exc, MirrorError):
        return str(exc)
    return (f"Something went wrong while writing the mirrorback ({type(exc).__name__}); your reflection is "
            "saved, and you can press Reflect again.")


class _Note(QFrame):
    """A small dismissible note: a pattern, a tension touched, or a suggested tension."""

    dismissed = Signal(str)

    def __init__(self, key: str, text: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("mbNote")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(9, 2, 4, 2)
        lay.setSpacing(2)
        self.label = QLabel(text)
        self.label.setToolTip(tooltip)
        lay.addWidget(self.label)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setToolTip("Hide this note")
        self.close_button.setAccessibleName(f"Hide note: {text}")
        self.close_button.clicked.connect(self._dismiss)
        lay.addWidget(self.close_button)

    @Slot()
    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit(self.key)


class MirrorbackPanel(QWidget):
    """Reflect, read the reply and its notes, rate it, regenerate, browse earlier mirrorbacks.

    Signals:
        mirrorback_generated(str): a new mirrorback was written and stored; payload is its engine run id.
        feedback_saved(str): feedback was stored in engine_feedback; payload is the engine run id rated.
        busy_changed(bool): True while a mirrorback is being written.
    """

    mirrorback_generated = Signal(str)
    feedback_saved = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, client: MirrorbacksClient, parent: QWidget | None = None, *, settings: Any = None,
                 engine_factory: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.settings = settings
        self._engine_factory = engine_factory
        self.reflection_id: str | None = None
        self.entries: list[MirrorbackEntry] = []
        self.index = -1
        self.busy = False
        self._token = 0
        self._dismissed: set[str] = set()
        self._last_suggestions: dict[str, list[str]] = {}   # run id → suggested tension names
        self._notices: dict[str, str] = {}                   # run id → notice sentence
        self.setObjectName("mirrorbackPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self._build()
        self._render()

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 10, 16, 12)
        root.setSpacing(8)

        head = QHBoxLayout()
        head.setSpacing(6)
        self.title = QLabel("Mirrorback")
        self.title.setObjectName("mbTitle")
        head.addWidget(self.title)
        self.prev_button = QToolButton()
        self.prev_button.setText("‹")
        self.prev_button.setToolTip("Earlier mirrorback")
        self.prev_button.setAccessibleName("Earlier mirrorback")
        self.next_button = QToolButton()
        self.next_button.setText("›")
        self.next_button.setToolTip("Later mirrorback")
        self.next_button.setAccessibleName("Later mirrorback")
        self.position_label = QLabel()
        self.position_label.setObjectName("mbMuted")
        head.addWidget(self.prev_button)
        head.addWidget(self.position_label)
        head.addWidget(self.next_button)
        head.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setObjectName("mbMuted")
        head.addWidget(self.status_label)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip("Write another mirrorback for this reflection; the earlier ones are kept")
        head.addWidget(self.regenerate_button)
        self.reflect_button = QPushButton("Reflect")
        self.reflect_button.setToolTip("Mirror this reflection back (Ctrl+R)")
        self.reflect_button.setDefault(True)
        head.addWidget(self.reflect_button)
        root.addLayout(head)

        self.hint = QLabel("Write, then press Reflect (Ctrl+R). Mirror reflects your words back without advice; "
                           "it runs on this computer unless you chose otherwise in File → Mirrorback engine.")
        self.hint.setObjectName("mbMuted")
        self.hint.setWordWrap(True)
        root.addWidget(self.hint)

        self.card = QFrame()
        self.card.setObjectName("mbCard")
        card = QVBoxLayout(self.card)
        card.setContentsMargins(14, 12, 14, 12)
        card.setSpacing(6)
        self.reply = QLabel()
        self.reply.setObjectName("mbReply")
        self.reply.setWordWrap(True)
        self.reply.setTextFormat(Qt.TextFormat.PlainText)
        self.reply.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reply.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        card.addWidget(self.reply)
        self.notice = QLabel()
        self.notice.setObjectName("mbNotice")
        self.notice.setWordWrap(True)
        card.addWidget(self.notice)
        self.notes_caption = QLabel("Noticed in the language — not a diagnosis")
        self.notes_caption.setObjectName("mbMuted")
        self.notes_caption.setToolTip(NOT_A_DIAGNOSIS)
        card.addWidget(self.notes_caption)
        self.notes = FlowRow()
        card.addWidget(self.notes)
        root.addWidget(self.card)

        self.error = QLabel()
        self.error.setObjectName("mbError")
        self.error.setWordWrap(True)
        root.addWidget(self.error)

        self.feedback_toggle = QPushButton("How did this land? ▸")
        self.feedback_toggle.setObjectName("mbLink")
        self.feedback_toggle.setCheckable(True)
        self.feedback_toggle.setCursor(Qt.CursorShape.PointingHandCursor)
        root.addWidget(self.feedback_toggle, 0, Qt.AlignmentFlag.AlignLeft)

        self.feedback_box = QWidget()
        fb = QVBoxLayout(self.feedback_box)
        fb.setContentsMargins(0, 0, 0, 0)
        fb.setSpacing(6)
        rating_row = QHBoxLayout()
        rating_row.setSpacing(4)
        lab = QLabel("Rating")
        lab.setObjectName("mbMuted")
        rating_row.addWidget(lab)
        self.rating_group = QButtonGroup(self)
        self.rating_group.setExclusive(False)
        self.rating_buttons: list[QToolButton] = []
        for n in range(1, 6):
            b = QToolButton()
            b.setObjectName("mbToggle")
            b.setText(str(n))
            b.setCheckable(True)
            b.setToolTip(f"{n} of 5")
            b.setAccessibleName(f"Rating {n} of 5")
            self.rating_group.addButton(b, n)
            self.rating_buttons.append(b)
            rating_row.addWidget(b)
        rating_row.addSpacing(8)
        scale = QLabel("1 missed · 5 landed")
        scale.setObjectName("mbMuted")
        rating_row.addWidget(scale)
        rating_row.addStretch(1)
        fb.addLayout(rating_row)
        self.flag_row = FlowRow()
        self.flag_buttons: dict[str, QToolButton] = {}
        for flag in FEEDBACK_FLAGS:
            b = QToolButton()
            b.setObjectName("mbToggle")
            b.setText(FLAG_LABELS.get(flag, flag))
            b.setCheckable(True)
            b.setProperty("flag", flag)
            self.flag_buttons[flag] = b
            self.flag_row.add(b)
        fb.addWidget(self.flag_row)
        notes_row = QHBoxLayout()
        self.notes_edit = QLineEdit()
        self.notes_edit.setPlaceholderText("Notes (optional, kept on this device)")
        self.notes_edit.setMaxLength(4000)
        notes_row.addWidget(self.notes_edit, 1)
        self.save_feedback_button = QPushButton("Save feedback")
        notes_row.addWidget(self.save_feedback_button)
        fb.addLayout(notes_row)
        self.feedback_status = QLabel()
        self.feedback_status.setObjectName("mbMuted")
        fb.addWidget(self.feedback_status)
        root.addWidget(self.feedback_box)
        self.feedback_box.setVisible(False)
        root.addStretch(1)  # spare height stays below the reply instead of inflating its card

        self.reflect_button.clicked.connect(self.reflect_requested)
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.prev_button.clicked.connect(self.show_previous)
        self.next_button.clicked.connect(self.show_next)
        self.feedback_toggle.toggled.connect(self._toggle_feedback)
        self.save_feedback_button.clicked.connect(self.save_feedback)
        self.rating_group.idToggled.connect(self._rating_toggled)

    def _fit_reply(self) -> None:
        """Give the wrapped reply the height its text needs at its real width.

        Inside the window's splitters Qt lays the card out from the label's unwrapped size hint,
        which clipped the last line of a long reply; the height-for-width answer is exact.
        """
        height = self.reply.heightForWidth(self.reply.width()) if self.reply.width() > 0 else -1
        self.reply.setMinimumHeight(max(height, 0))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_reply)

    # -- public API ------------------------------------------------------------------------
    def set_engine_factory(self, factory: Callable[[], Any] | None) -> None:
        """Use ``factory`` to build the engine (None: the saved settings, else the offline engine)."""
        self._engine_factory = factory

    def set_reflection(self, reflection_id: str | None) -> None:
        """Show the mirrorbacks of ``reflection_id`` (None: an unsaved or empty editor)."""
        if reflection_id == self.reflection_id:
            return
        self._token += 1
        self.reflection_id = reflection_id
        self.entries, self.index = [], -1
        self.error.clear()
        self._set_busy(False)
        self._render()
        if reflection_id is None:
            return
        token, rid = self._token, reflection_id
        self.client.load(rid, lambda entries: self._loaded(token, entries), lambda exc: self._failed(token, exc))

    @Slot()
    def reflect_requested(self) -> None:
        """Write a mirrorback for the current reflection (the window saves it first)."""
        self._start()

    @Slot()
    def regenerate_requested(self) -> None:
        """Another mirrorback for the same reflection; earlier ones stay browsable."""
        self._start()

    @Slot()
    def show_previous(self) -> None:
        if self.index > 0:
            self.index -= 1
            self._render()

    @Slot()
    def show_next(self) -> None:
        if self.index < len(self.entries) - 1:
            self.index += 1
            self._render()

    @property
    def current(self) -> MirrorbackEntry | None:
        return self.entries[self.index] if 0 <= self.index < len(self.entries) else None

    # -- reflect: prepare → generate → record ----------------------------------------------
    def _factory(self) -> Callable[[], Any] | None:
        """The engine to use: the one given, the saved settings' choice, or None (the offline engine)."""
        if self._engine_factory is not None:
            return self._engine_factory
        if self.settings is not None:
            return self.settings.engine_factory()
        return None

    def _start(self) -> None:
        if self.busy:
            return
        if self.reflection_id is None:
            self.error.setText("Write something first; an empty page has nothing to reflect.")
            self.error.show()
            return
        self.error.clear()
        self._set_busy(True)
        token, rid = self._token, self.reflection_id
        self.client.reflect(rid, self._factory(), lambda out: self._recorded(token, out),
                            lambda exc: self._failed(token, exc), ask_consent=self.ask_remote_consent)

    def ask_remote_consent(self, host: str, answer: Callable[[bool], None]) -> None:
        """A local-only reflection and a remote engine: send this one there only on the person's yes."""
        box = QMessageBox(QMessageBox.Icon.Question, "Send this reflection?",
                          f"This reflection is local only. Send it to {host} for this mirrorback? Without your yes, "
                          "the built-in engine on this computer answers instead.",
                          QMessageBox.StandardButton.No, self)
        send = box.addButton(f"Send to {host}", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.exec()
        answer(box.clickedButton() is send)

    def _recorded(self, token: int, out: Any) -> None:
        if token != self._token:
            return
        result, entries = out
        self._last_suggestions[result.run_id] = [t.name for t in result.suggestions]
        if result.notice:
            self._notices[result.run_id] = result.notice
        self._set_busy(False)
        self._loaded(token, entries)
        self.mirrorback_generated.emit(result.run_id)

    def _loaded(self, token: int, entries: list[MirrorbackEntry]) -> None:
        if token != self._token:
            return
        self.entries = list(entries)
        self.index = len(self.entries) - 1
        self._render()

    def _failed(self, token: int, exc: BaseException) -> None:
        if token != self._token:
            return
        self._set_busy(False)
        self.error.setText(sentence(exc))
        self.error.show()
        self._render()

    def _set_busy(self, busy: bool) -> None:
        if busy == self.busy:
            return
        self.busy = busy
        self.status_label.setText("Reflecting…" if busy else "")
        self.reflect_button.setEnabled(not busy)
        self.regenerate_button.setEnabled(not busy)
        self.busy_changed.emit(busy)

    # -- feedback --------------------------------------------------------------------------
    @Slot(bool)
    def _toggle_feedback(self, on: bool) -> None:
        self.feedback_box.setVisible(on)
        self.feedback_toggle.setText("How did this land? ▾" if on else "How did this land? ▸")

    @Slot(int, bool)
    def _rating_toggled(self, n: int, on: bool) -> None:
        if on:  # one rating at a time, and a second click on it clears it
            for b in self.rating_buttons:
                if b is not self.rating_group.button(n) and b.isChecked():
                    b.setChecked(False)

    def selected_rating(self) -> int | None:
        return next((i + 1 for i, b in enumerate(self.rating_buttons) if b.isChecked()), None)

    def selected_flags(self) -> list[str]:
        return [f for f, b in self.flag_buttons.items() if b.isChecked()]

    @Slot()
    def save_feedback(self) -> None:
        entry, rid = self.current, self.reflection_id
        if entry is None or entry.run is None or rid is None:
            return
        rating, flags, notes = self.selected_rating(), self.selected_flags(), self.notes_edit.text()
        if rating is None and not flags and not notes.strip():
            self.feedback_status.setText("Choose a rating or a flag, or write a note.")
            return
        run_id, token = entry.run.id, self._token
        self.save_feedback_button.setEnabled(False)

        def done(out: Any) -> None:
            self.save_feedback_button.setEnabled(True)
            fb, entries = out
            self._clear_feedback_inputs()
            self.feedback_status.setText("Feedback saved. It stays on this device.")
            if token == self._token:
                keep = self.index
                self.entries = list(entries)
                self.index = min(keep, len(self.entries) - 1)
                self._render(keep_feedback_status=True)
            self.feedback_saved.emit(fb.engine_run_id)

        def failed(exc: BaseException) -> None:
            self.save_feedback_button.setEnabled(True)
            self.feedback_status.setText(sentence(exc) if isinstance(exc, MirrorError)
                                         else "The feedback could not be saved; please try again.")

        self.client.save_feedback(run_id, rid, rating=rating, flags=flags, notes=notes, factory=self._factory(),
                                  on_result=done, on_error=failed)

    def _clear_feedback_inputs(self) -> None:
        for b in [*self.rating_buttons, *self.flag_buttons.values()]:
            b.setChecked(False)
        self.notes_edit.clear()

    # -- rendering -------------------------------------------------------------------------
    def _render(self, keep_feedback_status: bool = False) -> None:
        entry = self.current
        has = entry is not None
        rated = entry is not None and entry.run is not None
        self.hint.setVisible(not has and not self.busy)
        self.card.setVisible(has)
        self.feedback_toggle.setVisible(rated)
        self.feedback_box.setVisible(rated and self.feedback_toggle.isChecked())
        self.regenerate_button.setVisible(has)
        self.reflect_button.setVisible(not has)
        many = len(self.entries) > 1
        for w in (self.prev_button, self.next_button, self.position_label):
            w.setVisible(many)
        self.prev_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(self.entries) - 1)
        self.position_label.setText(f"{self.index + 1} of {len(self.entries)}" if many else "")
        self.error.setVisible(bool(self.error.text()))
        if not keep_feedback_status:
            self.feedback_status.clear()
        self.notes.clear()
        if entry is None:
            return
        flags = (entry.run.flags if entry.run is not None else None) or {}
        self.reply.setText(entry.mirrorback.content)
        QTimer.singleShot(0, self._fit_reply)
        crisis = bool(flags.get("crisis_language"))
        if self.card.property("crisis") != crisis:
            self.card.setProperty("crisis", "true" if crisis else "false")
            self.card.style().unpolish(self.card)
            self.card.style().polish(self.card)
        run_id = entry.run.id if entry.run is not None else entry.mirrorback.id
        notice = self._notices.get(run_id) or fallback_notice(flags)
        self.notice.setText(notice or "")
        self.notice.setVisible(bool(notice))
        if entry.run is not None:
            patterns = list(entry.run.patterns or [])
        else:
            patterns = list((entry.mirrorback.metadata or {}).get("patterns_detected") or [])
        for p in patterns:
            self._add_note(f"{run_id}:p:{p}", PATTERN_LABELS.get(p, p.replace("_", " ")),
                           f"{NOT_A_DIAGNOSIS} ({p.replace('_', ' ')})")
        for tid, name in entry.tension_names.items():
            self._add_note(f"{run_id}:t:{tid}", f"touches {name}", "One of your tensions; its poles appear in what you wrote.")
        for name in self._last_suggestions.get(run_id, []):
            self._add_note(f"{run_id}:s:{name}", f"new tension? {name}",
                           "Suggested for your tension map; accept or dismiss it there.")
        self.notes_caption.setVisible(bool(self.notes.items))
        if entry.feedback and not keep_feedback_status:
            last = entry.feedback[-1]
            bits = [f"rated {last.rating} of 5"] if last.rating else []
            bits += [FLAG_LABELS.get(f, f).lower() for f in (last.flags or [])]
            self.feedback_status.setText("Your feedback: " + ", ".join(bits) if bits else "Your feedback is saved.")

    def _add_note(self, key: str, text: str, tooltip: str) -> None:
        if key in self._dismissed:
            return
        note = _Note(key, text, tooltip)
        note.dismissed.connect(self._note_dismissed)
        self.notes.add(note)

    @Slot(str)
    def _note_dismissed(self, key: str) -> None:
        self._dismissed.add(key)
        if all(n.isHidden() for n in self.notes.items):
            self.notes_caption.hide()

    # -- shutdown --------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop taking work and wait for an engine call in flight (call before the executor shuts down)."""
        self._token += 1
        return self.client.shutdown(timeout_ms)
