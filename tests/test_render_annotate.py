"""Annotation layout and text: everything inside the picture, readable sizes, fitting lines."""

from __future__ import annotations

import numpy as np
import pytest

from thermtool.render.annotate import (
    BACKGROUND,
    MIN_FONT,
    Readout,
    Rect,
    Spot,
    make_layout,
    measure,
    readout_candidates,
)
from thermtool.render.text import draw_text, font


def _inside(rect: Rect, size: tuple[int, int]) -> bool:
    return rect.x >= 0 and rect.y >= 0 and rect.x + rect.w <= size[1] and rect.y + rect.h <= size[0]


@pytest.mark.parametrize("size", [(480, 640), (120, 160), (240, 320), (768, 1024), (640, 480)])
def test_layout_keeps_everything_inside_and_apart(size: tuple[int, int]) -> None:
    layout = make_layout(size, (24, 32), annotate=True)
    assert layout.font_px is not None and layout.font_px >= MIN_FONT
    assert layout.bar is not None and layout.text is not None
    for rect in (layout.image, layout.bar, layout.text):
        assert _inside(rect, size)
    image, bar, text = layout.image, layout.bar, layout.text
    assert bar.x >= image.x + image.w and text.y >= image.y + image.h
    assert layout.lines[1] + font(layout.font_px).height <= size[0]
    assert abs(image.w / image.h - 32 / 24) < 0.05  # the sensor's aspect ratio is kept


def test_unannotated_layout_fills_a_matching_picture() -> None:
    assert make_layout((480, 640), (24, 32), annotate=False).fills
    portrait = make_layout((480, 640), (32, 24), annotate=False)
    assert not portrait.fills and portrait.image.h == 480 and portrait.image.w == 360


def test_text_grows_with_the_picture() -> None:
    small, large = make_layout((120, 160), (24, 32), True), make_layout((480, 640), (24, 32), True)
    assert small.font_px == MIN_FONT and large.font_px is not None and large.font_px >= 13


@pytest.mark.parametrize("size", [(120, 160), (480, 640)])
def test_some_readout_line_fits_the_text_box(size: tuple[int, int]) -> None:
    layout = make_layout(size, (24, 32), True)
    assert layout.text is not None and layout.font_px is not None
    readout = Readout(Spot(1, 2, -12.5, 0, 0), Spot(3, 4, 345.5, 0, 0), 21.25)
    widths = [font(layout.font_px).measure(t) for t in readout_candidates(readout, "C")]
    assert min(widths) <= layout.text.w
    assert "°C" in readout_candidates(readout, "C")[0] and " counts" in readout_candidates(readout, "counts")[0]


def test_draw_text_marks_pixels_and_clips_at_the_edge() -> None:
    canvas = np.zeros((20, 40, 3), np.uint8)
    width = draw_text(canvas, "34.5°C", 2, 2, 10, (255, 255, 255), (0, 0, 0))
    assert width == font(10).mask("34.5°C").shape[1] and canvas.max() > 200
    before = canvas.copy()
    draw_text(canvas, "far away", 35, 15, 10, (255, 255, 255), (0, 0, 0))  # partly outside: clipped
    assert not np.array_equal(canvas[15:, 35:], before[15:, 35:]) and np.array_equal(canvas[:15], before[:15])
    draw_text(canvas, "gone", 100, 100, 10, (255, 255, 255), (0, 0, 0))
    assert np.array_equal(canvas[:15], before[:15])


def test_draw_text_blends_onto_any_background_without_one_given() -> None:
    canvas = np.zeros((20, 60, 3), np.uint8)
    canvas[:, 30:] = (0, 0, 200)  # text across two colours
    draw_text(canvas, "hot 45.3", 2, 2, 12, (255, 255, 255))
    inked = (canvas == 255).all(axis=-1)
    assert inked[:, :30].any() and inked[:, 30:].any()
    untouched = ~(canvas.astype(int).sum(axis=-1) > 200)
    assert ((canvas[:, 30:][untouched[:, 30:]]) == (0, 0, 200)).all()  # no box pasted over the blue


def test_text_masks_are_cached_and_distinct() -> None:
    face = font(9)
    assert face.mask("21.5") is face.mask("21.5")
    assert face.measure("-000.0") > face.measure("0")
    assert not np.array_equal(face.mask("1"), face.mask("7"))


def test_measure_finds_extremes_and_centre_spot() -> None:
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    valid = np.ones((3, 4), bool)
    valid[2, 3] = False  # the true maximum is not valid
    readout = measure(data, valid, make_layout((30, 40), (3, 4), False))
    assert readout.hottest is not None and (readout.hottest.row, readout.hottest.col) == (2, 2)
    assert readout.coldest is not None and readout.coldest.value == 0.0
    assert readout.centre == pytest.approx(data[1, 1:3].mean())
    assert (readout.hottest.x, readout.hottest.y) == (25, 25)


def test_background_has_the_bar_hot_at_the_top() -> None:
    from thermtool.render.annotate import background
    from thermtool.render.colormaps import colormap_table

    layout = make_layout((240, 320), (24, 32), True)
    table = colormap_table("gray")
    canvas = background(layout, table)
    bar = layout.bar
    assert bar is not None
    assert tuple(canvas[0, 0]) == BACKGROUND
    assert canvas[bar.y, bar.x, 0] > 250 and canvas[bar.y + bar.h - 1, bar.x, 0] < 5


@pytest.mark.parametrize(("flip", "rotate"), [("none", 0), ("h", 90), ("both", 270)])
def test_one_centre_temperature_in_the_picture_and_the_readouts(flip: str, rotate: int) -> None:
    from thermtool import Frame
    from thermtool.render import Renderer
    from thermtool.view.readout import readout

    data = np.arange(24 * 32, dtype=np.float32).reshape(24, 32) / 10
    frame = Frame(data, "C", meta={"bad_pixels": [[12, 16]]})  # one of the four centre pixels is bad
    renderer = Renderer("inferno", "nearest", (240, 320), flip=flip, rotate=rotate)
    renderer.render(frame)
    status = readout(frame)
    assert renderer.last is not None and not status.pinned and "centre" in status.text()
    expected = np.mean([data[11, 15], data[11, 16], data[12, 15]])
    assert renderer.last.readout.centre == pytest.approx(expected) and status.spot == pytest.approx(expected)
    assert readout(frame, (3, 4)).spot == data[3, 4] and "spot" in readout(frame, (3, 4)).text()


def test_colour_bar_has_its_unit_above_and_labels_apart_from_the_bar() -> None:
    from thermtool import Frame
    from thermtool.render import Renderer
    from thermtool.render.annotate import label_gap

    renderer = Renderer("inferno", "nearest", (480, 640))
    picture = renderer.render(Frame(np.linspace(-12, 8, 768, dtype=np.float32).reshape(24, 32), "C"))
    layout = renderer.last.layout  # type: ignore[union-attr]
    assert layout.bar is not None and layout.unit is not None and layout.font_px is not None
    unit_x, unit_y = layout.unit
    above = picture[unit_y:layout.bar.y, unit_x:unit_x + font(layout.font_px).measure("°C")]
    assert (above.astype(int) - BACKGROUND).any()  # the unit is drawn above the bar
    right = layout.bar.x + layout.bar.w
    gap = picture[layout.bar.y:layout.bar.y + layout.bar.h, right:right + label_gap(layout.font_px) - 1]
    assert not (gap.astype(int) - BACKGROUND).any()  # nothing between bar and labels: no "-" before "40"
