"""The tension map and the position-history chart: custom-painted widgets that render state and emit intents.

Where things are comes from ``mirror_desktop.ui.tensions.geometry`` (pure, unit-tested); these widgets
only paint and translate mouse, wheel and key events (STYLE.md, habit 8). A drag, a key press or a
wheel turn changes an in-memory preview; the write is requested once, through
``tension_move_requested``, on release. The view owns the database work and calls
``apply_tension`` with the stored row (which ends the preview) or ``discard_preview`` if it failed.

Painting is sharp on high-DPI screens: Qt scales the painter by the device pixel ratio, hairlines
use cosmetic pens, and straight lines are aligned to device pixels with ``_crisp``. Colours come from
``palette()`` so the light and dark themes both work; only axis colours are fixed, and they are
blended against the palette's base colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from mirror_desktop.core import models as m
from mirror_desktop.core.tensions import AxisGroup, axis_color, parse_stamp
from mirror_desktop.ui.tensions import geometry as geo
from mirror_desktop.ui.format import long_date, short_date

DRAG_THRESHOLD = 4.0
WHEEL_COMMIT_MS = 450
LABEL_MIN, LABEL_MAX = 72.0, 190.0


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` blended toward ``b`` by ``t`` (0 = a, 1 = b)."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t, 1.0)


def _is_dark(pal: QPalette) -> bool:
    return pal.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def last_change(t: m.Tension) -> datetime | None:
    """When a tension last moved: its newest history entry, else None (never moved)."""
    history = (t.metadata or {}).get("position_history") or []
    stamps = [s for s in (parse_stamp(e.get("date")) for e in history if isinstance(e, dict)) if s]
    return max(stamps) if stamps else None


def describe(t: m.Tension, position: float | None = None, intensity: float | None = None) -> str:
    """One line for screen readers and tooltips: where a tension stands and how strongly."""
    p = t.position if position is None else position
    i = t.intensity if intensity is None else intensity
    p = 0.0 if p is None else p
    lean = "centred" if abs(p) < 0.005 else f"toward {t.axis_a if p < 0 else t.axis_b}"
    inten = "—" if i is None else f"{i:.2f}"
    return f"{t.name}: position {p:+.2f}, {lean}; intensity {inten}"


@dataclass
class _Group:
    title: str
    category: str
    color: QColor
    keys: list[str]


class TensionMapWidget(QWidget):
    """Tensions grouped by axis, each a horizontal track between its poles with a draggable handle.

    Signals:
        tension_move_requested(str, float, float): the person let go of a move; payload is
            (tension id, position -1..1, intensity 0..1). Emitted once per drag, key press or wheel burst.
        selection_changed(str): the selected tension's id ("" when none).
        edit_requested(str): the person asked to edit this tension (double-click or Enter).
        context_menu_requested(str, QPoint): right-click on a tension; payload is id and global position.
    """

    tension_move_requested = Signal(str, float, float)
    selection_changed = Signal(str)
    edit_requested = Signal(str)
    context_menu_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tensionMap")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setAccessibleName("Tension map")
        self.setAccessibleDescription("No tensions yet.")
        self._groups: list[_Group] = []
        self._tensions: dict[str, m.Tension] = {}
        self._order: list[str] = []
        self._preview: dict[str, tuple[float, float]] = {}
        # Moves asked for but not yet stored: the preview stays until the last one comes back,
        # and a new move is compared with what was last asked for, not with a stale row.
        self._inflight: dict[str, int] = {}
        self._requested: dict[str, tuple[float, float]] = {}
        self._layout = geo.layout_map([], 600, 100)
        self._selected = ""
        self._hover = ""
        self._drag_key = ""
        self._drag_mode = ""        # "", "pending", "position", "intensity"
        self._drag_origin = QPointF()
        self._drag_start = (0.0, 0.5)
        self._key_pending = ""
        self._wheel_key = ""
        self._wheel_rest = 0.0
        self._wheel_timer = QTimer(self)
        self._wheel_timer.setSingleShot(True)
        self._wheel_timer.setInterval(WHEEL_COMMIT_MS)
        self._wheel_timer.timeout.connect(self._commit_wheel)

    # -- state in --------------------------------------------------------------------------
    def set_groups(self, groups: Sequence[AxisGroup]) -> None:
        """Show these groups (from TensionService.map_data); keeps the selection when it still exists."""
        self._groups = []
        self._tensions = {}
        for g in groups:
            title = g.axis.name if g.axis else "Unsorted"
            category = (g.axis.category or "") if g.axis else ""
            self._groups.append(_Group(title, category, QColor(axis_color(g.axis)), [t.id for t in g.tensions]))
            for t in g.tensions:
                self._tensions[t.id] = t
        self._order = [k for g in self._groups for k in g.keys]
        self._preview = {k: v for k, v in self._preview.items() if k in self._tensions}
        if self._selected not in self._tensions:
            self._selected = ""
            self.selection_changed.emit("")
        self._relayout()

    def apply_tension(self, t: m.Tension) -> None:
        """A stored row came back (after a move, an undo or an edit): show it, end its preview."""
        if t.id in self._tensions:
            self._tensions[t.id] = t
        self._settle(t.id)
        busy = t.id in (self._drag_key, self._key_pending, self._wheel_key) or self._inflight.get(t.id, 0) > 0
        if not busy:
            self._preview.pop(t.id, None)
        self._announce()
        self.update()

    def discard_preview(self, key: str) -> None:
        """The write failed: show the stored values again."""
        self._settle(key)
        if not self._inflight.get(key):
            self._preview.pop(key, None)
        self.update()

    def _settle(self, key: str) -> None:
        n = self._inflight.get(key, 0) - 1
        if n > 0:
            self._inflight[key] = n
        else:
            self._inflight.pop(key, None)
            self._requested.pop(key, None)

    def tension(self, key: str) -> m.Tension | None:
        return self._tensions.get(key)

    def keys(self) -> list[str]:
        """Tension ids in map (Tab) order."""
        return list(self._order)

    def selected(self) -> str:
        return self._selected

    def select(self, key: str) -> None:
        if key and key not in self._tensions:
            return
        if key != self._selected:
            self._selected = key
            self.selection_changed.emit(key)
            self._announce()
            self.update()

    def values(self, key: str) -> tuple[float, float]:
        """(position, intensity) as drawn: the preview if one is running, else the stored row."""
        if key in self._preview:
            return self._preview[key]
        t = self._tensions[key]
        return (0.0 if t.position is None else t.position, 0.5 if t.intensity is None else t.intensity)

    def handle_center(self, key: str) -> QPointF:
        """Where the handle of ``key`` is drawn, in widget coordinates (tests drive the mouse with it)."""
        row = self._layout.row(key)
        if row is None:
            return QPointF()
        return QPointF(row.handle_x(self.values(key)[0]), row.cy)

    def row_box(self, key: str) -> geo.RowBox | None:
        return self._layout.row(key)

    # -- layout ----------------------------------------------------------------------------
    def _label_width(self) -> float:
        bold = QFont(self.font())
        bold.setBold(True)  # the pole a handle leans toward is drawn bold
        fm = QFontMetricsF(bold)
        widest = max((fm.horizontalAdvance(p) for t in self._tensions.values() for p in (t.axis_a, t.axis_b)), default=0.0)
        return max(LABEL_MIN, min(LABEL_MAX, widest + 6))

    def _relayout(self) -> None:
        self._layout = geo.layout_map([g.keys for g in self._groups], max(1.0, float(self.width())), self._label_width())
        self.setMinimumHeight(int(self._layout.height))
        self.updateGeometry()
        self._announce()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(760, max(200, int(self._layout.height)))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._relayout()
        super().changeEvent(event)

    # -- painting --------------------------------------------------------------------------
    def _crisp(self, v: float) -> float:
        """Centre a one-device-pixel line on a device pixel, whatever the device pixel ratio."""
        dpr = self.devicePixelRatioF() or 1.0
        return (round(v * dpr) + 0.5) / dpr

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        p.fillRect(self.rect(), base)
        if not self._groups:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No tensions yet. Add one with “New tension”.")
            p.end()
            return
        clip = QRectF(event.rect())
        for h in self._layout.headers:
            if h.top > clip.bottom() or h.top + h.height < clip.top():
                continue
            self._paint_header(p, self._groups[h.group], h)
        for r in self._layout.rows:
            if r.top > clip.bottom() or r.top + r.height < clip.top():
                continue
            self._paint_row(p, r, self._groups[r.group].color)
        p.end()

    def _paint_header(self, p: QPainter, g: _Group, h: geo.HeaderBox) -> None:
        pal = self.palette()
        m = geo.DEFAULT
        text = pal.color(QPalette.ColorRole.Text)
        muted = _mix(text, pal.color(QPalette.ColorRole.Base), 0.45)
        y_mid = h.top + h.height / 2 + 3
        # A short colour bar, the axis name, its category, and a hairline to the right edge.
        bar = QRectF(m.margin, y_mid - 7, 4, 14)
        path = QPainterPath()
        path.addRoundedRect(bar, 2, 2)
        p.fillPath(path, g.color)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.04)
        p.setFont(font)
        p.setPen(text)
        fm = QFontMetricsF(font)
        x = m.margin + 12
        baseline = y_mid + fm.capHeight() / 2
        p.drawText(QPointF(x, baseline), g.title)
        x += fm.horizontalAdvance(g.title) + 10
        if g.category:
            small = QFont(self.font())
            small.setPointSizeF(small.pointSizeF() * 0.86)
            small.setCapitalization(QFont.Capitalization.AllUppercase)
            small.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
            p.setFont(small)
            p.setPen(muted)
            p.drawText(QPointF(x, baseline), g.category)
            x += QFontMetricsF(small).horizontalAdvance(g.category) + 12
        line = QPen(_mix(pal.color(QPalette.ColorRole.Base), text, 0.12))
        line.setCosmetic(True)
        line.setWidthF(1.0)
        p.setPen(line)
        y = self._crisp(y_mid)
        p.drawLine(QPointF(x, y), QPointF(self.width() - m.margin, y))
        p.setFont(self.font())

    def _paint_row(self, p: QPainter, r: geo.RowBox, color: QColor) -> None:
        pal = self.palette()
        m = geo.DEFAULT
        t = self._tensions[r.key]
        pos, inten = self.values(r.key)
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        dark = _is_dark(pal)
        focused = self.hasFocus() and r.key == self._selected
        selected = r.key == self._selected
        hovered = r.key == self._hover

        if selected or hovered:
            band = QRectF(m.margin - 10, r.top + 3, self.width() - 2 * m.margin + 20, r.height - 6)
            path = QPainterPath()
            path.addRoundedRect(band, 8, 8)
            p.fillPath(path, _mix(base, color, 0.10 if selected else 0.05))
            if focused:
                ring = QPen(pal.color(QPalette.ColorRole.Highlight))
                ring.setWidthF(1.5)
                ring.setCosmetic(True)
                p.setPen(ring)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawPath(path)

        # Pole labels: the pole the handle leans toward is drawn stronger.
        fm = QFontMetricsF(self.font())
        muted = _mix(text, base, 0.42)
        label_w = self._layout.label_width
        lean_a, lean_b = pos < -0.1, pos > 0.1
        baseline = r.cy + fm.capHeight() / 2
        for name, lean, right_side in ((t.axis_a, lean_a, False), (t.axis_b, lean_b, True)):
            font = QFont(self.font())
            font.setBold(lean)
            p.setFont(font)
            p.setPen(text if lean else muted)
            shown = QFontMetricsF(font).elidedText(name, Qt.TextElideMode.ElideRight, label_w)
            w = QFontMetricsF(font).horizontalAdvance(shown)
            x = r.track_right + m.label_gap if right_side else r.track_left - m.label_gap - w
            p.drawText(QPointF(x, baseline), shown)
        p.setFont(self.font())

        # The track: a soft rounded bar with centre and quarter ticks.
        track_col = _mix(base, text, 0.16 if dark else 0.11)
        bar = QRectF(r.track_left, r.cy - 2, r.track_right - r.track_left, 4)
        path = QPainterPath()
        path.addRoundedRect(bar, 2, 2)
        p.fillPath(path, track_col)
        tick = QPen(_mix(base, text, 0.30))
        tick.setCosmetic(True)
        tick.setWidthF(1.0)
        p.setPen(tick)
        for v, half in ((0.0, 7.0), (-0.5, 3.5), (0.5, 3.5)):
            x = self._crisp(geo.position_to_x(v, r.track_left, r.track_right))
            p.drawLine(QPointF(x, r.cy - half), QPointF(x, r.cy + half))

        # The lean: from the centre to the handle in the axis colour.
        cx = geo.position_to_x(0.0, r.track_left, r.track_right)
        hx = geo.position_to_x(pos, r.track_left, r.track_right)
        if abs(hx - cx) > 0.5:
            lean_rect = QRectF(min(cx, hx), r.cy - 2, abs(hx - cx), 4)
            lp = QPainterPath()
            lp.addRoundedRect(lean_rect, 2, 2)
            p.fillPath(lp, _mix(base, color, 0.55 if dark else 0.5))

        # The handle: size and fill strength both say intensity.
        radius = geo.intensity_to_radius(inten)
        if hovered or r.key == self._drag_key:
            radius += 1.0
        fill = _mix(base, color, 0.35 + 0.65 * inten)
        center = QPointF(hx, r.cy)
        halo = QColor(color)
        halo.setAlphaF(0.16 if (hovered or r.key == self._drag_key) else 0.0)
        if halo.alphaF() > 0:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(halo)
            p.drawEllipse(center, radius + 6, radius + 6)
        outline = QPen(_mix(color, text, 0.25) if not dark else _mix(color, base, 0.15))
        outline.setWidthF(1.5)
        p.setPen(outline)
        p.setBrush(fill)
        p.drawEllipse(center, radius, radius)
        if focused:
            ring = QPen(pal.color(QPalette.ColorRole.Highlight))
            ring.setWidthF(2.0)
            p.setPen(ring)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(center, radius + 4, radius + 4)

        # While a value is changing, show it above the handle.
        if r.key in self._preview and (r.key == self._drag_key or r.key == self._key_pending or r.key == self._wheel_key):
            small = QFont(self.font())
            small.setPointSizeF(small.pointSizeF() * 0.85)
            p.setFont(small)
            label = f"{pos:+.2f} · {inten:.2f}"
            sfm = QFontMetricsF(small)
            w = sfm.horizontalAdvance(label) + 12
            bubble = QRectF(hx - w / 2, r.top - 8, w, sfm.height() + 4)
            bubble.moveLeft(max(2.0, min(self.width() - w - 2.0, bubble.left())))
            bp = QPainterPath()
            bp.addRoundedRect(bubble, 5, 5)
            p.fillPath(bp, pal.color(QPalette.ColorRole.ToolTipBase))
            p.setPen(pal.color(QPalette.ColorRole.ToolTipText))
            p.drawText(bubble, Qt.AlignmentFlag.AlignCenter, label)
            p.setFont(self.font())

    # -- helpers ---------------------------------------------------------------------------
    def _hit(self, pt: QPointF) -> geo.Hit | None:
        positions = {k: self.values(k)[0] for k in self._order}
        intensities = {k: self.values(k)[1] for k in self._order}
        return geo.hit_test(self._layout, pt.x(), pt.y(), positions, intensities)

    def _set_preview(self, key: str, position: float, intensity: float) -> None:
        self._preview[key] = (position, intensity)
        self._announce()
        self.update()

    def _commit(self, key: str) -> None:
        """Ask for the write once, if the preview differs from the stored row."""
        if key not in self._preview or key not in self._tensions:
            return
        pos, inten = self._preview[key]
        t = self._tensions[key]
        reference = self._requested.get(key, (t.position, t.intensity))
        if (pos, inten) == reference:
            if not self._inflight.get(key):
                self._preview.pop(key, None)
            self.update()
            return
        self._inflight[key] = self._inflight.get(key, 0) + 1
        self._requested[key] = (pos, inten)
        self.tension_move_requested.emit(key, float(pos), float(inten))

    def _announce(self) -> None:
        key = self._selected
        if key and key in self._tensions:
            pos, inten = self.values(key)
            text = describe(self._tensions[key], pos, inten)
        else:
            text = f"{len(self._order)} tensions in {len(self._groups)} groups. Tab to move between them."
        if text != self.accessibleDescription():
            self.setAccessibleDescription(text)
            if QAccessible.isActive():
                QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.DescriptionChanged))

    # -- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pt = event.position()
        hit = self._hit(pt)
        if event.button() == Qt.MouseButton.RightButton:
            if hit:
                self.select(hit.key)
                self.context_menu_requested.emit(hit.key, event.globalPosition().toPoint())
            return
        if event.button() != Qt.MouseButton.LeftButton or hit is None:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.select(hit.key)
        pos, inten = self.values(hit.key)
        self._drag_key = hit.key
        self._drag_origin = pt
        self._drag_start = (pos, inten)
        if hit.part == "track":
            # Pressing the track jumps the handle there and keeps dragging it.
            row = self._layout.row(hit.key)
            assert row is not None
            self._drag_mode = "position"
            self._set_preview(hit.key, self._snap(geo.x_to_position(pt.x(), row.track_left, row.track_right), event), inten)
        else:
            self._drag_mode = "pending"
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def _snap(self, value: float, event: QMouseEvent | None) -> float:
        # Alt gives a fine drag (0.01 steps) for anyone who wants an exact spot.
        if event is not None and event.modifiers() & Qt.KeyboardModifier.AltModifier:
            return geo.snap_position(value, step=0.01, centre_radius=0.005)
        return geo.snap_position(value)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pt = event.position()
        if self._drag_key:
            key = self._drag_key
            dx, dy = pt.x() - self._drag_origin.x(), pt.y() - self._drag_origin.y()
            if self._drag_mode == "pending" and max(abs(dx), abs(dy)) >= DRAG_THRESHOLD:
                self._drag_mode = "position" if abs(dx) >= abs(dy) else "intensity"
                self.setCursor(Qt.CursorShape.SizeHorCursor if self._drag_mode == "position" else Qt.CursorShape.SizeVerCursor)
            row = self._layout.row(key)
            if row is not None and self._drag_mode == "position":
                self._set_preview(key, self._snap(geo.x_to_position(pt.x(), row.track_left, row.track_right), event),
                                  self._drag_start[1])
            elif self._drag_mode == "intensity":
                self._set_preview(key, self._drag_start[0], geo.drag_intensity(self._drag_start[1], dy))
            event.accept()
            return
        hit = self._hit(pt)
        hover = hit.key if hit else ""
        if hover != self._hover:
            self._hover = hover
            self.update()
        self.setCursor(Qt.CursorShape.OpenHandCursor if hit and hit.part == "handle"
                       else Qt.CursorShape.PointingHandCursor if hit else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or not self._drag_key:
            super().mouseReleaseEvent(event)
            return
        key = self._drag_key
        self._drag_key, self._drag_mode = "", ""
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._commit(key)
        self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self._hit(event.position())
        if hit is not None and hit.part == "handle" or (hit is None and self._label_key(event.position())):
            self.edit_requested.emit(hit.key if hit else self._label_key(event.position()))
            return
        super().mouseDoubleClickEvent(event)

    def _label_key(self, pt: QPointF) -> str:
        for r in self._layout.rows:
            if r.top <= pt.y() < r.top + r.height:
                return r.key
        return ""

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        if self._hover:
            self._hover = ""
            self.update()
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        key = self._label_key(event.position())
        delta = event.angleDelta().y()
        # The wheel scrolls the map (issue 11): it changes an intensity only with Ctrl held, or over the
        # handle that already has the keyboard focus, so scrolling past a row never moves a tension.
        deliberate = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier) or (
            self.hasFocus() and key == self.selected())
        if not key or not delta or not deliberate:
            event.ignore()  # let the scroll area scroll
            return
        if self._wheel_key and self._wheel_key != key:
            self._commit_wheel()
        self.select(key)
        pos, inten = self.values(key)
        # Trackpads send small deltas; keep the remainder so slow scrolling still steps.
        self._wheel_rest += delta
        notches = int(self._wheel_rest / geo.WHEEL_NOTCH)
        if notches:
            self._wheel_rest -= notches * geo.WHEEL_NOTCH
            self._wheel_key = key
            self._set_preview(key, pos, geo.wheel_intensity(inten, notches * geo.WHEEL_NOTCH))
            self._wheel_timer.start()
        event.accept()

    def _commit_wheel(self) -> None:
        key, self._wheel_key = self._wheel_key, ""
        self._wheel_timer.stop()
        self._wheel_rest = 0.0
        if key:
            self._commit(key)
            self.update()

    # -- keyboard --------------------------------------------------------------------------
    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802
        """Tab and Shift+Tab walk the tensions; past the last (or first) one focus leaves the map."""
        if self._order:
            i = self._order.index(self._selected) if self._selected in self._order else (-1 if forward else len(self._order))
            j = i + (1 if forward else -1)
            if 0 <= j < len(self._order):
                self._flush_key()
                self.select(self._order[j])
                self._ensure_visible(self._order[j])
                return True
        return super().focusNextPrevChild(forward)

    def focusInEvent(self, event) -> None:  # noqa: N802
        if not self._selected and self._order:
            reason = event.reason()
            self.select(self._order[-1] if reason == Qt.FocusReason.BacktabFocusReason else self._order[0])
        self._announce()
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._flush_key()
        self._commit_wheel()
        self.update()
        super().focusOutEvent(event)

    def _ensure_visible(self, key: str) -> None:
        row = self._layout.row(key)
        parent = self.parentWidget()
        scroller = parent.parentWidget() if parent is not None else None
        if row is not None and scroller is not None and hasattr(scroller, "ensureVisible"):
            scroller.ensureVisible(int(row.track_left), int(row.cy), 0, int(row.height))

    def _flush_key(self) -> None:
        key, self._key_pending = self._key_pending, ""
        if key:
            self._commit(key)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = self._selected
        k = event.key()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        arrows: dict[int, int] = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: 1, Qt.Key.Key_Down: -1}
        if key and k in arrows and (shift or k in (Qt.Key.Key_Left, Qt.Key.Key_Right)):
            pos, inten = self.values(key)
            if shift:
                inten = geo.step_value(inten, arrows[k], 0.0, 1.0)
            else:
                pos = geo.step_value(pos, arrows[k], -1.0, 1.0)
            self._key_pending = key
            self._set_preview(key, pos, inten)
            event.accept()
            return
        if k in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self._order:
            self._flush_key()
            i = self._order.index(key) if key in self._order else -1
            j = max(0, min(len(self._order) - 1, i + (1 if k == Qt.Key.Key_Down else -1)))
            self.select(self._order[j])
            self._ensure_visible(self._order[j])
            event.accept()
            return
        if key and k in (Qt.Key.Key_Home, Qt.Key.Key_End):
            pos, inten = self.values(key)
            self._key_pending = key
            self._set_preview(key, -1.0 if k == Qt.Key.Key_Home else 1.0, inten)
            event.accept()
            return
        if key and k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.edit_requested.emit(key)
            event.accept()
            return
        if k == Qt.Key.Key_Escape and self._drag_key:
            self._preview.pop(self._drag_key, None)
            self._drag_key, self._drag_mode = "", ""
            self.update()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # Holding an arrow repeats presses; the write happens once, when the key is let go.
        if self._key_pending and not event.isAutoRepeat():
            self._flush_key()
            event.accept()
            return
        super().keyReleaseEvent(event)

    # -- tooltip ---------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            key = self._label_key(QPointF(event.pos()))
            if key:
                QToolTip.showText(event.globalPos(), self.tooltip_text(key), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_text(self, key: str) -> str:
        """Exact values and the date of the last change, for the hover tooltip."""
        t = self._tensions[key]
        pos, inten = self.values(key)
        lean = "centre" if abs(pos) < 0.005 else f"toward {t.axis_a if pos < 0 else t.axis_b}"
        changed = last_change(t)
        when = f"Last moved {long_date(changed)}" if changed else f"Not moved since {short_date(t.created_at)}"
        return (f"<b>{_esc(t.name)}</b><br>{_esc(t.axis_a)} ◂ ▸ {_esc(t.axis_b)}<br>"
                f"Position {pos:+.2f} ({_esc(lean)}) · Intensity {inten:.2f}<br><i>{when}</i>")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HistoryChart(QWidget):
    """A line chart of one tension's position over time (step line, dots at each move).

    Up is the second pole (+1), down the first (-1); the dot size follows intensity. Hovering a dot
    shows its date and values.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(190)
        self.setMouseTracking(True)
        self.setAccessibleName("Position history chart")
        self._samples: list[tuple[datetime, float, float]] = []
        self._poles = ("", "")
        self._color = QColor("#4A90E2")
        self._hover = -1

    def set_history(self, samples: Sequence[tuple[datetime, float, float]], poles: tuple[str, str], color: str) -> None:
        """``samples`` are (when, position, intensity) in time order, including the current state."""
        self._samples = list(samples)
        self._poles = poles
        self._color = QColor(color)
        self._hover = -1
        moves = max(0, len(self._samples) - 1)
        self.setAccessibleDescription(f"{moves} moves between {poles[0]} and {poles[1]}." if self._samples else "No history.")
        self.update()

    def _frame(self) -> geo.ChartFrame:
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * 0.86)
        fm = QFontMetricsF(small)
        left = 12.0
        top = fm.height() + 12
        bottom = fm.height() + 12
        times = [s[0].timestamp() for s in self._samples]
        return geo.chart_frame(times, left, top, max(10.0, self.width() - 2 * left), max(10.0, self.height() - top - bottom))

    def _points(self, f: geo.ChartFrame) -> list[tuple[float, float]]:
        return geo.chart_points(f, [(s[0].timestamp(), s[1]) for s in self._samples])

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        muted = _mix(text, base, 0.45)
        outer = QPainterPath()
        outer.addRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        p.fillPath(outer, base)
        f = self._frame()
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * 0.86)
        sfm = QFontMetricsF(small)
        p.setFont(small)
        if not self._samples:
            p.setPen(muted)
            message = ("Select a tension to see its history." if not any(self._poles)
                       else "Not moved yet. Drag its handle and its history begins here.")
            p.drawText(QRectF(f.left, f.top, f.width, f.height), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, message)
            p.end()
            return
        # The second pole labels the top, the first the bottom (with the dates on the right).
        p.setPen(muted)
        p.drawText(QPointF(f.left, f.top - 7), f"▲ {self._poles[1]}")
        p.drawText(QPointF(f.left, f.top + f.height + sfm.ascent() + 5), f"▼ {self._poles[0]}")
        grid = QPen(_mix(base, text, 0.14))
        grid.setCosmetic(True)
        p.setPen(grid)
        for v in (1.0, -1.0):
            y = (round(f.y(v)) + 0.5)
            p.drawLine(QPointF(f.left, y), QPointF(f.left + f.width, y))
        centre = QPen(_mix(base, text, 0.28))
        centre.setCosmetic(True)
        centre.setStyle(Qt.PenStyle.DashLine)
        p.setPen(centre)
        y0 = round(f.y(0.0)) + 0.5
        p.drawLine(QPointF(f.left, y0), QPointF(f.left + f.width, y0))
        pts = self._points(f)
        # The dates the chart spans, bottom right.
        p.setPen(muted)
        first, last = short_date(self._samples[0][0]), short_date(self._samples[-1][0])
        span = last if first == last else f"{first} – {last}"
        p.drawText(QPointF(f.left + f.width - sfm.horizontalAdvance(span), f.top + f.height + sfm.ascent() + 5), span)
        # Area under the step line toward the centre, then the line, then the dots.
        line = QPainterPath(QPointF(*pts[0]))
        for (_x0, y0_), (x1, y1) in zip(pts, pts[1:], strict=False):
            line.lineTo(x1, y0_)
            line.lineTo(x1, y1)
        area = QPainterPath(line)
        area.lineTo(pts[-1][0], y0)
        area.lineTo(pts[0][0], y0)
        area.closeSubpath()
        fill = QColor(self._color)
        fill.setAlphaF(0.14)
        p.fillPath(area, fill)
        pen = QPen(self._color)
        pen.setWidthF(2.0)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(line)
        for i, ((x, y), s) in enumerate(zip(pts, self._samples, strict=True)):
            r = 2.5 + 3.0 * max(0.0, min(1.0, s[2])) + (1.5 if i == self._hover else 0.0)
            p.setPen(QPen(base, 1.5))
            p.setBrush(self._color)
            p.drawEllipse(QPointF(x, y), r, r)
        if 0 <= self._hover < len(pts):
            s = self._samples[self._hover]
            label = f"{short_date(s[0])}  ·  {s[1]:+.2f}  ·  {s[2]:.2f}"
            w = sfm.horizontalAdvance(label) + 14
            x, y = pts[self._hover]
            box = QRectF(min(max(2.0, x - w / 2), self.width() - w - 2), max(2.0, y - sfm.height() - 16), w, sfm.height() + 6)
            bp = QPainterPath()
            bp.addRoundedRect(box, 5, 5)
            p.fillPath(bp, pal.color(QPalette.ColorRole.ToolTipBase))
            p.setPen(pal.color(QPalette.ColorRole.ToolTipText))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        p.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pts = self._points(self._frame())
        i = geo.nearest_sample(pts, event.position().x())
        hover = -1 if i is None else i
        if hover != self._hover:
            self._hover = hover
            self.update()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._hover = -1
        self.update()
        super().leaveEvent(event)
