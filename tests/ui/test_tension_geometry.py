"""The tension map's pure geometry: value ↔ pixel, layout, hit testing, snapping, chart mapping (no Qt)."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror_desktop.ui.tensions import geometry as g

positions = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
intensities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
spans = st.tuples(st.floats(min_value=-500, max_value=500), st.floats(min_value=10, max_value=3000))


def test_module_imports_no_qt():
    tree = ast.parse(Path(g.__file__).read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if "PySide" in n or "Qt" in n]


# -- value ↔ pixel ----------------------------------------------------------------------
def test_ends_and_centre():
    assert g.position_to_x(-1, 100, 300) == 100
    assert g.position_to_x(0, 100, 300) == 200
    assert g.position_to_x(1, 100, 300) == 300
    assert g.x_to_position(50, 100, 300) == -1.0   # clamped left of the track
    assert g.x_to_position(999, 100, 300) == 1.0


@given(positions, spans)
def test_position_pixel_round_trip(p, span):
    left, length = span
    x = g.position_to_x(p, left, left + length)
    assert left <= x <= left + length
    assert math.isclose(g.x_to_position(x, left, left + length), p, abs_tol=1e-9)


@given(st.floats(min_value=-1e4, max_value=1e4), spans)
def test_any_pixel_maps_into_range(x, span):
    left, length = span
    assert -1.0 <= g.x_to_position(x, left, left + length) <= 1.0


@given(intensities)
def test_intensity_radius_round_trip_and_monotone(i):
    r = g.intensity_to_radius(i)
    assert g.DEFAULT.handle_min <= r <= g.DEFAULT.handle_max
    assert math.isclose(g.radius_to_intensity(r), i, abs_tol=1e-9)
    assert g.intensity_to_radius(min(1.0, i + 0.1)) >= r


def test_missing_intensity_draws_middle_size():
    assert g.intensity_to_radius(None) == g.intensity_to_radius(0.5)


# -- snapping and stepping ---------------------------------------------------------------
@given(positions)
def test_snap_lands_on_grid_in_range_and_near(p):
    s = g.snap_position(p)
    assert -1.0 <= s <= 1.0
    assert math.isclose(s / g.STEP, round(s / g.STEP), abs_tol=1e-6)
    assert abs(s - p) <= g.STEP / 2 + 1e-9 or abs(p) <= g.CENTRE_RADIUS


@pytest.mark.parametrize("raw, snapped", [(0.03, 0.0), (-0.039, 0.0), (0.041, 0.05), (0.12, 0.1), (0.13, 0.15),
                                          (0.999, 1.0), (-0.976, -1.0), (1.7, 1.0)])
def test_snap_examples(raw, snapped):
    assert g.snap_position(raw) == snapped


def test_snap_has_no_float_noise_or_negative_zero():
    assert g.snap_position(0.15) == 0.15 and repr(g.snap_position(0.15)) == "0.15"
    assert math.copysign(1.0, g.snap_position(-0.01)) == 1.0


@pytest.mark.parametrize("value, steps, expected", [
    (0.0, 1, 0.05), (0.0, -1, -0.05), (0.95, 1, 1.0), (1.0, 1, 1.0), (-1.0, -1, -1.0),
    (0.12, 1, 0.15), (0.12, -1, 0.1), (0.15, 1, 0.2), (None, 1, 0.05),
])
def test_keyboard_steps_for_position(value, steps, expected):
    assert g.step_value(value, steps, -1.0, 1.0) == expected


@given(intensities, st.sampled_from([-1, 1]))
def test_one_key_press_moves_at_most_one_step(i, steps):
    new = g.step_value(i, steps, 0.0, 1.0)
    assert 0.0 <= new <= 1.0
    assert abs(new - i) <= g.STEP + 1e-9


def test_intensity_by_drag_and_wheel():
    assert g.drag_intensity(0.5, -g.DEFAULT.drag_intensity_px / 4) == 0.75   # up is stronger
    assert g.drag_intensity(0.5, 1000) == 0.0
    assert g.wheel_intensity(0.5, 120) == 0.55
    assert g.wheel_intensity(0.5, -240) == 0.4
    assert g.wheel_intensity(1.0, 120) == 1.0


# -- layout and hit testing --------------------------------------------------------------
def make_layout(width=800.0, label=100.0):
    return g.layout_map([["a", "b"], ["c"]], width, label)


def test_layout_stacks_headers_and_rows():
    lay = make_layout()
    m = g.DEFAULT
    assert [h.group for h in lay.headers] == [0, 1]
    assert [r.key for r in lay.rows] == ["a", "b", "c"]
    assert [r.index for r in lay.rows] == [0, 1, 2]
    assert lay.rows[0].top == lay.headers[0].top + m.header_height
    assert lay.headers[1].top == lay.rows[1].top + m.row_height + m.group_gap
    assert lay.height == lay.rows[-1].top + m.row_height + m.top
    r = lay.rows[0]
    assert r.track_left == m.margin + 100 + m.label_gap
    assert r.track_right == 800 - m.margin - 100 - m.label_gap


@given(st.floats(min_value=50, max_value=4000), st.floats(min_value=0, max_value=400))
def test_rows_never_overlap_and_tracks_are_ordered(width, label):
    lay = g.layout_map([["a", "b", "c"], [], ["d"]], width, label)
    for r1, r2 in zip(lay.rows, lay.rows[1:]):
        assert r1.top + r1.height <= r2.top
    for r in lay.rows:
        assert r.track_right > r.track_left


def test_narrow_width_shrinks_labels_before_track():
    left, right, label = g.track_span(400, 150)
    assert label < 150 and right - left >= g.DEFAULT.min_track - 1e-9


def test_hit_handle_track_and_nothing():
    lay = make_layout()
    pos = {"a": 0.5, "b": -1.0, "c": 0.0}
    inten = {"a": 1.0, "b": 0.0, "c": 0.5}
    ra = lay.row("a")
    hx = ra.handle_x(0.5)
    assert g.hit_test(lay, hx, ra.cy, pos, inten) == g.Hit("a", "handle")
    # The slop reaches a little past the drawn radius, more for a stronger (bigger) handle.
    edge = g.intensity_to_radius(1.0) + g.DEFAULT.hit_slop - 0.5
    assert g.hit_test(lay, hx + edge, ra.cy, pos, inten) == g.Hit("a", "handle")
    assert g.hit_test(lay, ra.track_left + 5, ra.cy + 3, pos, inten) == g.Hit("a", "track")
    assert g.hit_test(lay, ra.track_left + 5, ra.top + 1, pos, inten) is None   # above the band
    assert g.hit_test(lay, 2, ra.cy, pos, inten) is None                        # in the label column
    assert g.hit_test(lay, hx, lay.headers[0].top + 2, pos, inten) is None     # on a header
    rb = lay.row("b")
    assert g.hit_test(lay, rb.track_left, rb.cy, pos, inten) == g.Hit("b", "handle")


@given(positions, intensities)
def test_handle_centre_always_hits_its_own_row(p, i):
    lay = make_layout()
    for r in lay.rows:
        assert g.hit_test(lay, r.handle_x(p), r.cy, {r.key: p}, {r.key: i}) == g.Hit(r.key, "handle")


# -- history chart -----------------------------------------------------------------------
def test_chart_frame_maps_positions_up_to_second_pole():
    f = g.chart_frame([0.0, 1000.0, 200000.0], 10, 20, 300, 100)
    assert f.y(1.0) == 20 and f.y(-1.0) == 120 and f.y(0.0) == 70
    assert f.x(0.0) > 10 and f.x(200000.0) < 310
    assert math.isclose(f.position_at(f.y(0.3)), 0.3)
    assert math.isclose(f.time_at(f.x(1000.0)), 1000.0)


def test_single_sample_is_centred():
    f = g.chart_frame([5000.0], 0, 0, 200, 100)
    assert math.isclose(f.x(5000.0), 100.0)


def test_nearest_sample():
    pts = [(10.0, 0.0), (50.0, 0.0), (90.0, 0.0)]
    assert g.nearest_sample(pts, 48) == 1
    assert g.nearest_sample(pts, 70) is None
