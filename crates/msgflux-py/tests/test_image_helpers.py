"""`msgflux_rs.image`: prepare, masks, compare and the leak report, all done
by the Rust core."""

from __future__ import annotations

import pytest

import msgflux_rs as mf
from conftest import ASSETS


def test_prepare_makes_an_rgba_png_of_the_asked_size_under_the_budget(tmp_path):
    prepared = mf.image.prepare(ASSETS / "rocket.jpg", tmp_path / "prepared.png", size=1024, max_bytes=4 << 20)
    report = prepared.report
    assert report["prepared"]["size"] == {"width": 1024, "height": 1024}
    assert report["prepared"]["has_alpha"] is True
    assert len(prepared.image) < 4 << 20
    assert prepared.image.startswith(b"\x89PNG")
    assert prepared.changes


def test_prepare_places_the_mask_like_the_image():
    mask = mf.image.rectangle((0, 0, 300, 200), size=(600, 400))
    prepared = mf.image.prepare(ASSETS / "coffee.png", size=(300, 200), mask=mask)
    left, top, right, bottom = mf.image.Mask.load(prepared.mask).bounding_box
    assert (left, top) == (0, 0) and abs(right - 150) <= 1 and abs(bottom - 100) <= 1  # Lanczos edge


def test_rectangle_ellipse_and_polygon_mark_the_edit_area():
    assert mf.image.rectangle((2, 3, 6, 8), size=(10, 10)).bounding_box == (2, 3, 6, 8)
    assert mf.image.ellipse((0, 0, 20, 10), size=(20, 20)).bounding_box[3] <= 10
    triangle = mf.image.polygon([(0, 0), (10, 0), (0, 10)], size=(10, 10))
    assert 0.4 < triangle.edit_fraction < 0.6


def test_an_empty_box_is_refused():
    with pytest.raises(mf.InvalidInputError) as caught:
        mf.image.rectangle((5, 5, 5, 9), size=(10, 10))
    assert caught.value.param == "box"


def test_feather_softens_and_invert_swaps():
    mask = mf.image.rectangle((16, 16, 48, 48), size=(64, 64))
    soft = mf.image.feather(mask, 5)
    assert soft.edit_fraction > mask.edit_fraction  # the soft edge reaches outside the box
    inverted = mf.image.invert(mask)
    assert inverted.edit_fraction == pytest.approx(1 - mask.edit_fraction)


def test_a_mask_round_trips_through_its_conventions(tmp_path):
    mask = mf.image.rectangle((0, 0, 5, 10), size=(10, 10))
    white = mask.save(tmp_path / "white.png", convention="white")
    assert mf.image.Mask.load(white, convention="white").bounding_box == (0, 0, 5, 10)
    assert mf.image.Mask.load(bytes(mask)).edit_fraction == 0.5


def test_compare_makes_the_before_after_png(tmp_path):
    png = mf.image.compare(ASSETS / "astronaut.png", ASSETS / "brick.png", output=tmp_path / "c.png")
    assert png.startswith(b"\x89PNG") and (tmp_path / "c.png").read_bytes() == png


def test_leak_report_measures_change_outside_the_mask():
    mask = mf.image.rectangle((0, 0, 256, 512), size=(512, 512))
    same = mf.image.leak_report(ASSETS / "astronaut.png", ASSETS / "astronaut.png", mask)
    assert same["changed_fraction"] == 0.0
    other = mf.image.leak_report(ASSETS / "astronaut.png", ASSETS / "brick.png", mask)
    assert other["changed_fraction"] > 0.5


def test_keep_unmasked_reports_the_leak_of_a_model_that_treats_the_mask_as_a_hint(start_emulator, samples):
    running = start_emulator("openai", "--leak", "40")
    model = mf.Model.image_text_to_image("openai/gpt-image-1", base_url=running.base_url, api_key=running.key)
    response = model(prompt="x", image=samples / "photo.png", mask=samples / "mask.png", keep_unmasked=True)
    leak = response.unmasked[0]["leak"]
    assert leak["changed_fraction"] > 0.5  # what the provider changed outside the mask
    after = response.image_bytes()[0]
    assert mf.image.leak_report(samples / "photo.png", after, samples / "mask.png")["changed_fraction"] == 0.0
