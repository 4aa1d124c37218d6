"""Every kind of image input, sent to the emulator (which checks that each
part arrives as a real PNG with the right MIME type)."""

from __future__ import annotations

import base64
import io
import pathlib

import pytest

import msgflux_rs as mf


@pytest.fixture
def model(openai):
    return mf.Model.image_text_to_image("openai/dall-e-2")


def edited(model, image, samples):
    response = model(prompt="Add a sunset sky", image=image, mask=samples / "mask.png")
    return response.image_bytes()[0]


def test_a_path_string(model, samples):
    assert edited(model, str(samples / "photo.png"), samples).startswith(b"\x89PNG")


def test_a_pathlib_path(model, samples):
    assert edited(model, pathlib.Path(samples / "photo.png"), samples)


def test_an_http_url(model, samples, file_server):
    assert edited(model, f"{file_server}/photo.png", samples)


def test_a_data_uri(model, samples):
    data = base64.b64encode((samples / "photo.png").read_bytes()).decode()
    assert edited(model, f"data:image/png;base64,{data}", samples)


def test_bare_base64(model, samples):
    assert edited(model, base64.b64encode((samples / "photo.png").read_bytes()).decode(), samples)


def test_bytes_and_bytearray(model, samples):
    raw = (samples / "photo.png").read_bytes()
    assert edited(model, raw, samples)
    assert edited(model, bytearray(raw), samples)


def test_an_open_file_and_bytesio(model, samples):
    with open(samples / "photo.png", "rb") as f:
        assert edited(model, f, samples)
    assert edited(model, io.BytesIO((samples / "photo.png").read_bytes()), samples)


def test_a_text_mode_file_is_refused_with_advice(model, samples):
    with open(samples / "mask.png", encoding="latin-1") as f:
        with pytest.raises(mf.InvalidInputError, match="binary mode"):
            model(prompt="x", image=f)


def test_a_mask_object(model, samples):
    mask = mf.image.rectangle((0, 0, 512, 100), size=(512, 512))
    response = model(prompt="x", image=samples / "photo.png", mask=mask)
    assert response.consume()


def test_a_missing_path_is_not_decoded_as_base64(model):
    with pytest.raises(mf.InvalidInputError, match="not found"):
        model(prompt="x", image="photos/missing.png")


def test_an_unsupported_object_names_the_parameter(model):
    with pytest.raises(mf.InvalidInputError) as caught:
        model(prompt="x", image=3.5)
    assert caught.value.param == "image"


def test_a_pillow_image(model, samples):
    Image = pytest.importorskip("PIL.Image")
    photo = Image.open(samples / "photo.png")
    assert photo.mode == "RGBA"
    assert edited(model, photo, samples)


def test_a_pillow_image_in_another_mode_is_converted_by_pillow(samples):
    Image = pytest.importorskip("PIL.Image")
    palette = Image.open(samples / "photo.png").convert("P")
    prepared = mf.image.prepare(palette, size=None, max_bytes=None)
    assert prepared.report["original"]["size"] == {"width": 512, "height": 512}


def test_numpy_arrays_of_uint8(model, samples):
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    rgba = np.asarray(Image.open(samples / "photo.png"))
    assert rgba.shape == (512, 512, 4)
    assert edited(model, rgba, samples)
    rgb = np.ascontiguousarray(rgba[:, :, :3])
    grey = rgb[:, :, 0]
    for array in (rgb, grey, rgba[::2, ::2]):  # a strided view too
        prepared = mf.image.prepare(array, size=None, max_bytes=None)
        assert prepared.report["prepared"]["size"]["width"] == array.shape[1]


def test_a_numpy_array_of_floats_is_refused(samples):
    np = pytest.importorskip("numpy")
    with pytest.raises(mf.InvalidInputError, match="uint8"):
        mf.image.prepare(np.zeros((8, 8, 3), dtype=np.float32))


def test_several_images_go_as_a_list(openai, samples):
    model = mf.Model.image_text_to_image("openai/gpt-image-1")
    response = model(prompt="Put both on a beach", image=[samples / "photo.png", samples / "photo.jpg"])
    assert response.consume()
