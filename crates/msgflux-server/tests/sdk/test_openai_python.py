"""The official openai Python package against `msgflux serve`, changing only its base URL."""

import base64
import io
import os
import urllib.request

import openai
import pytest
from openai import OpenAI

URL = os.environ["MSGFLUX_GATEWAY_URL"] + "/v1"
KEY = os.environ["MSGFLUX_GATEWAY_KEY"]
PHOTO = os.environ["MSGFLUX_PHOTO"]
PHOTO2 = os.environ["MSGFLUX_PHOTO2"]
MASK = os.environ["MSGFLUX_MASK"]


def client(key=KEY, **kwargs):
    # No SDK retries: each test sees the gateway's first answer.
    return OpenAI(base_url=URL, api_key=key, max_retries=0, **kwargs)


def png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_one_image_and_mask_give_b64_json_at_the_input_size():
    with open(PHOTO, "rb") as image, open(MASK, "rb") as mask:
        result = client().images.edit(
            model="local/telea", image=image, mask=mask, prompt="remove the cup", response_format="b64_json"
        )
    assert png_size(base64.b64decode(result.data[0].b64_json)) == (600, 400)


def test_a_url_result_downloads_without_the_key():
    with open(PHOTO, "rb") as image, open(MASK, "rb") as mask:
        result = client().images.edit(model="local/telea", image=image, mask=mask, prompt="remove the cup")
    with urllib.request.urlopen(result.data[0].url) as answer:
        assert png_size(answer.read()) == (600, 400)


def test_several_images_reach_openai_through_the_gateway():
    with open(PHOTO, "rb") as a, open(PHOTO2, "rb") as b:
        result = client().images.edit(model="gpt-image-1", image=[a, b], prompt="the cat beside the coffee")
    assert result.data[0].b64_json or result.data[0].url
    assert result.usage.total_tokens > 0


def test_a_replicate_model_through_the_gateway():
    with open(PHOTO, "rb") as image, open(MASK, "rb") as mask:
        result = client().images.edit(
            model="replicate/black-forest-labs/flux-fill-pro", image=image, mask=mask,
            prompt="a plant in a pot", response_format="b64_json",
        )
    assert png_size(base64.b64decode(result.data[0].b64_json))[0] > 0


def test_streaming_yields_partial_images_then_the_completed_one():
    with open(PHOTO, "rb") as image:
        stream = client().images.edit(
            model="gpt-image-1", image=image, prompt="a sunset sky", stream=True, partial_images=2
        )
        kinds = [event.type for event in stream]
    assert kinds == ["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]


def test_a_stream_from_a_provider_that_does_not_stream_is_one_completed_event():
    with open(PHOTO, "rb") as image, open(MASK, "rb") as mask:
        events = list(
            client().images.edit(model="local/telea", image=image, mask=mask, prompt="remove", stream=True)
        )
    assert [e.type for e in events] == ["image_edit.completed"]
    assert png_size(base64.b64decode(events[0].b64_json)) == (600, 400)


def test_an_invalid_parameter_is_bad_request_error_with_its_param():
    with open(PHOTO, "rb") as image, open(MASK, "rb") as mask:
        with pytest.raises(openai.BadRequestError) as caught:
            client().images.edit(model="local/telea", image=image, mask=mask, prompt="remove", n=50)
    assert caught.value.param == "n"
    assert caught.value.status_code == 400


def test_a_mask_of_another_size_names_the_mask():
    with open(PHOTO2, "rb") as image, open(MASK, "rb") as mask:
        with pytest.raises(openai.BadRequestError) as caught:
            client().images.edit(model="local/telea", image=image, mask=mask, prompt="remove")
    assert caught.value.param == "mask"


def test_an_unknown_model_is_not_found_error():
    with open(PHOTO, "rb") as image:
        with pytest.raises(openai.NotFoundError) as caught:
            client().images.edit(model="nowhere/model", image=image, prompt="remove")
    assert caught.value.code == "model_not_found"


def test_a_wrong_gateway_key_is_authentication_error():
    with open(PHOTO, "rb") as image:
        with pytest.raises(openai.AuthenticationError):
            client(key="not-a-gateway-key-000000").images.edit(model="local/telea", image=image, prompt="x")


def test_a_model_outside_the_keys_list_is_permission_denied_error():
    with open(PHOTO, "rb") as image:
        with pytest.raises(openai.PermissionDeniedError):
            client(key=os.environ["MSGFLUX_TELEA_KEY"]).images.edit(model="local/patchmatch", image=image, prompt="x")


def test_a_key_over_its_rate_is_rate_limit_error_with_retry_after():
    limited = client(key=os.environ["MSGFLUX_LIMITED_KEY"])
    with open(PHOTO, "rb") as image, open(MASK, "rb") as mask:
        data = (image.read(), mask.read())
    limited.images.edit(model="local/telea", image=io.BytesIO(data[0]), mask=io.BytesIO(data[1]), prompt="x")
    with pytest.raises(openai.RateLimitError) as caught:
        limited.images.edit(model="local/telea", image=io.BytesIO(data[0]), mask=io.BytesIO(data[1]), prompt="x")
    assert int(caught.value.response.headers["retry-after"]) > 0


def test_models_lists_the_local_fill_and_the_configured_openai_models():
    ids = {model.id for model in client().models.list()}
    assert {"local/telea", "local/patchmatch", "openai/gpt-image-1", "dall-e-2"} <= ids
