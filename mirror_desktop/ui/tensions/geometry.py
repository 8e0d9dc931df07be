"""Pure geometry of the tension map and its history chart: no Qt, plain floats and tuples (STYLE.md, habit 8).

The widget asks this module where things are (value ↔ pixel, the layout of axis headers and tension
rows, which handle is under the pointer, where a drag snaps) and only paints and translates events,
so every rule here is unit-tested without a window. All lengths are logical (device-independent)
pixels; the widget scales to the screen's device pixel ratio when it paints.
"""

from __future__ import annotations

from collections.abc import Mapping

import math
from dataclasses import dataclass
from collections.abc import Sequence

POSITION_MIN, POSITION_MAX = -1.0, 1.0
INTENSITY_MIN, INTENSITY_MAX = 0.0, 1.0
STEP = 0.05            # keyboard step and drag snap (issue 4)
CENTRE_RADIUS = 0.04   # a drag this close to 0 lands on the centre exactly
WHEEL_NOTCH = 120      # Qt's angleDelta for one wheel notch


@dataclass(frozen=True)
class Metrics:
    """The sizes of the map in logical pixels (one place to tune the look)."""

    margin: float = 24.0
    top: float = 12.0
    header_height: float = 36.0
    row_height: float = 43.0
    group_gap: float = 14.0
    label_gap: float = 16.0
    min_track: float = 120.0
    handle_min: float = 6.0
    handle_max: float = 13.0
    hit_slop: float = 5.0
    track_band: float = 12.0        # half-height of the clickable band around a track
    drag_intensity_px: float = 160.0  # vertical pixels for the whole 0..1 intensity range


DEFAULT = Metrics()


def clamp(value: float, lo: float, hi: float) -> float:
    return lo if value < lo else hi if value > hi else value


def tidy(value: float) -> float:
    """Round away float noise (0.15000000000000002 → 0.15) and negative zero."""
    return round(value, 4) + 0.0


# -- value ↔ pixel ----------------------------------------------------------------------
def position_to_x(position: float, left: float, right: float) -> float:
    """-1 maps to ``left``, 1 to ``right``, 0 to the middle."""
    return left + (clamp(position, POSITION_MIN, POSITION_MAX) + 1.0) / 2.0 * (right - left)


def x_to_position(x: float, left: float, right: float) -> float:
    """The position under ``x``, clamped to -1 … 1."""
    if right <= left:
        return 0.0
    return clamp((x - left) / (right - left) * 2.0 - 1.0, POSITION_MIN, POSITION_MAX)


def intensity_to_radius(intensity: float | None, m: Metrics = DEFAULT) -> float:
    """A stronger pull draws a larger handle; no intensity draws the middle size."""
    i = 0.5 if intensity is None else clamp(intensity, INTENSITY_MIN, INTENSITY_MAX)
    return m.handle_min + i * (m.handle_max - m.handle_min)


def radius_to_intensity(radius: float, m: Metrics = DEFAULT) -> float:
    return clamp((radius - m.handle_min) / (m.handle_max - m.handle_min), INTENSITY_MIN, INTENSITY_MAX)


# -- snapping and stepping ---------------------------------------------------------------
def snap_position(value: float, step: float = STEP, centre_radius: float = CENTRE_RADIUS) -> float:
    """Snap a dragged position to ``step`` and pull it onto 0 within ``centre_radius``."""
    v = clamp(value, POSITION_MIN, POSITION_MAX)
    if abs(v) <= centre_radius:
        return 0.0
    if step > 0:
        v = round(v / step) * step
    return tidy(clamp(v, POSITION_MIN, POSITION_MAX))


def snap_intensity(value: float, step: float = STEP) -> float:
    v = clamp(value, INTENSITY_MIN, INTENSITY_MAX)
    if step > 0:
        v = round(v / step) * step
    return tidy(clamp(v, INTENSITY_MIN, INTENSITY_MAX))


def step_value(value: float | None, steps: int, lo: float, hi: float, step: float = STEP) -> float:
    """``value`` moved by ``steps`` keyboard steps onto the step grid, clamped to lo … hi.

    A value between grid points (after a fine drag) first moves to the next grid point in the
    direction of travel, so one key press never jumps further than one step.
    """
    base = (0.0 if lo < 0 else 0.5) if value is None else value
    k = base / step
    if steps > 0:
        target = math.floor(k + 1e-6) + steps
    elif steps < 0:
        target = math.ceil(k - 1e-6) + steps
    else:
        target = round(k)
    return tidy(clamp(target * step, lo, hi))


def drag_intensity(start: float | None, dy: float, m: Metrics = DEFAULT) -> float:
    """Intensity after a vertical drag of ``dy`` pixels (up, negative dy, is stronger), snapped."""
    base = 0.5 if start is None else start
    return snap_intensity(base - dy / m.drag_intensity_px)


def wheel_intensity(start: float | None, angle_delta: float) -> float:
    """Intensity after a wheel turn: one notch (120) is one step; partial notches accumulate outside."""
    base = 0.5 if start is None else start
    return snap_intensity(base + angle_delta / WHEEL_NOTCH * STEP)


# -- layout ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeaderBox:
    """Where an axis header is drawn."""

    group: int
    top: float
    height: float


@dataclass(frozen=True)
class RowBox:
    """Where one tension is drawn: its row, the centre line and the ends of its track."""

    key: str
    group: int
    index: int          # position in the flat row order (Tab order)
    top: float
    height: float
    track_left: float
    track_right: float

    @property
    def cy(self) -> float:
        return self.top + self.height / 2.0

    def handle_x(self, position: float | None) -> float:
        return position_to_x(0.0 if position is None else position, self.track_left, self.track_right)


@dataclass(frozen=True)
class MapLayout:
    width: float
    height: float
    label_width: float
    headers: tuple[HeaderBox, ...]
    rows: tuple[RowBox, ...]

    def row(self, key: str) -> RowBox | None:
        return next((r for r in self.rows if r.key == key), None)


def track_span(width: float, label_width: float, m: Metrics = DEFAULT) -> tuple[float, float, float]:
    """(track_left, track_right, label_width actually used) for a map ``width`` wide.

    Labels give way (down to a third of their wish) before the track gets shorter than ``min_track``.
    """
    label = max(0.0, label_width)
    avail = width - 2 * m.margin - 2 * m.label_gap
    if avail - 2 * label < m.min_track:
        label = max(label / 3.0, (avail - m.min_track) / 2.0)
    label = max(0.0, label)
    left = m.margin + label + m.label_gap
    right = max(left + 1.0, width - m.margin - label - m.label_gap)
    return left, right, label


def layout_map(groups: Sequence[Sequence[str]], width: float, label_width: float,
               m: Metrics = DEFAULT) -> MapLayout:
    """Stack each group as a header followed by one row per tension key."""
    left, right, label = track_span(width, label_width, m)
    y = m.top
    headers: list[HeaderBox] = []
    rows: list[RowBox] = []
    for g, keys in enumerate(groups):
        if g:
            y += m.group_gap
        headers.append(HeaderBox(g, y, m.header_height))
        y += m.header_height
        for key in keys:
            rows.append(RowBox(key, g, len(rows), y, m.row_height, left, right))
            y += m.row_height
    return MapLayout(width, y + m.top, label, tuple(headers), tuple(rows))


# -- hit testing -------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    """What is under the pointer: a tension's ``handle`` or its ``track``."""

    key: str
    part: str


def hit_test(layout: MapLayout, x: float, y: float, positions: Mapping[str, float | None],
             intensities: Mapping[str, float | None], m: Metrics = DEFAULT) -> Hit | None:
    """The handle under (x, y) (with some slop), else the track band under it, else None."""
    for r in layout.rows:
        if not r.top <= y < r.top + r.height:
            continue
        hx = r.handle_x(positions.get(r.key))
        radius = intensity_to_radius(intensities.get(r.key), m) + m.hit_slop
        if math.hypot(x - hx, y - r.cy) <= radius:
            return Hit(r.key, "handle")
        if abs(y - r.cy) <= m.track_band and r.track_left - m.hit_slop <= x <= r.track_right + m.hit_slop:
            return Hit(r.key, "track")
        return None
    return None


# -- the history chart -------------------------------------------------------------------
@dataclass(frozen=True)
class ChartFrame:
    """A line chart of position (-1 … 1, up is the second pole) over time (seconds) in a rectangle."""

    left: float
    top: float
    width: float
    height: float
    t0: float
    t1: float

    def x(self, t: float) -> float:
        if self.t1 <= self.t0:
            return self.left + self.width / 2.0
        return self.left + (t - self.t0) / (self.t1 - self.t0) * self.width

    def y(self, position: float) -> float:
        return self.top + (1.0 - (clamp(position, -1.0, 1.0) + 1.0) / 2.0) * self.height

    def position_at(self, y: float) -> float:
        return clamp(1.0 - (y - self.top) / self.height * 2.0, -1.0, 1.0) if self.height > 0 else 0.0

    def time_at(self, x: float) -> float:
        if self.width <= 0 or self.t1 <= self.t0:
            return self.t0
        return self.t0 + (x - self.left) / self.width * (self.t1 - self.t0)


def chart_frame(times: Sequence[float], left: float, top: float, width: float, height: float,
                min_span: float = 86400.0) -> ChartFrame:
    """The frame for ``times`` (seconds), padded so a single point or a burst still has width."""
    if not times:
        return ChartFrame(left, top, width, height, 0.0, min_span)
    t0, t1 = min(times), max(times)
    if t1 - t0 < min_span:
        mid = (t0 + t1) / 2.0
        t0, t1 = mid - min_span / 2.0, mid + min_span / 2.0
    pad = (t1 - t0) * 0.04
    return ChartFrame(left, top, width, height, t0 - pad, t1 + pad)


def chart_points(frame: ChartFrame, samples: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(time, position) samples as points; consecutive samples form a step line in the widget."""
    return [(frame.x(t), frame.y(p)) for t, p in samples]


def nearest_sample(points: Sequence[tuple[float, float]], x: float, max_dx: float = 12.0) -> int | None:
    """The index of the chart point horizontally nearest ``x`` within ``max_dx`` pixels."""
    best, best_dx = None, max_dx
    for i, (px, _) in enumerate(points):
        dx = abs(px - x)
        if dx <= best_dx:
            best, best_dx = i, dx
    return best
