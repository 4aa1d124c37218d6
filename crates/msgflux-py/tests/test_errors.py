"""Each exception class, caught the way the docs catch errors, with the
attributes it carries. Faults are the emulator's (`--first-fault`)."""

from __future__ import annotations

import socket

import pytest

import msgflux_rs as mf


def dall_e_2(running, **settings):
    return mf.Model.image_text_to_image(
        "openai/dall-e-2", base_url=running.base_url, api_key=running.key, max_retries=0, **settings
    )


def edit(model, samples):
    return model(prompt="Add a sunset sky", image=samples / "photo.png", mask=samples / "mask.png")


def test_a_provider_not_compiled_in_is_an_import_error():
    with pytest.raises(ImportError) as caught:
        mf.Model.image_text_to_image("acme/painter")
    assert isinstance(caught.value, mf.ProviderUnavailableError)
    assert caught.value.provider == "acme"
    assert "openai" in caught.value.registered


def test_invalid_parameters_are_a_value_error_with_param_and_rule(samples):
    model = mf.Model.image_text_to_image("local/telea")
    with pytest.raises(ValueError) as caught:
        model(prompt="x", image=samples / "photo.png", mask=samples / "mask.png", n=3)
    error = caught.value
    assert isinstance(error, mf.InvalidInputError) and isinstance(error, mf.MsgfluxError)
    assert error.param == "n"
    assert "between 1 and 1" in error.rule
    assert error.violations == [(error.param, error.rule)]


def test_every_broken_rule_is_listed_in_one_error(openai, samples, tmp_path):
    wide = tmp_path / "wide.jpg"
    wide.write_bytes((samples / "photo.jpg").read_bytes())
    with pytest.raises(mf.InvalidInputError) as caught:
        dall_e_2(openai)(prompt="x" * 1001, image=wide)
    params = {param for param, _ in caught.value.violations}
    assert {"prompt", "image"} <= params


def test_an_unknown_provider_option_is_refused_not_dropped(samples):
    with pytest.raises(mf.InvalidInputError) as caught:
        mf.Model.image_text_to_image("local/telea")(
            prompt="x", image=samples / "photo.png", mask=samples / "mask.png", patch_size=9
        )
    assert "patch_size" in caught.value.param


def test_content_policy_carries_the_provider_message_and_request_id(start_emulator, samples):
    running = start_emulator("openai", "--first-fault", "policy")
    with pytest.raises(mf.ContentPolicyError) as caught:
        edit(dall_e_2(running), samples)
    error = caught.value
    assert error.provider == "openai"
    assert error.provider_message and error.provider_message in str(error)
    assert error.request_id
    assert error.status == 400


def test_rate_limit_carries_retry_after(start_emulator, samples):
    running = start_emulator("openai", "--first-fault", "rate-limit-ms:1500")
    with pytest.raises(mf.RateLimitError) as caught:
        edit(dall_e_2(running), samples)
    assert caught.value.retry_after == pytest.approx(1.5, abs=0.5)
    assert caught.value.retryable is True


def test_a_rate_limit_is_retried_by_default(start_emulator, samples):
    # The refused request and its one retry.
    running = start_emulator("openai", "--first-fault", "rate-limit-ms:10", "--expect-paid", "2")
    model = mf.Model.image_text_to_image("openai/dall-e-2", base_url=running.base_url, api_key=running.key)
    assert edit(model, samples).consume()


def test_quota_is_its_own_class_and_not_retryable(start_emulator, samples):
    running = start_emulator("openai", "--first-fault", "quota")
    with pytest.raises(mf.QuotaExceededError) as caught:
        edit(dall_e_2(running), samples)
    assert caught.value.retryable is False


def test_wrong_key_is_an_authentication_error(openai, samples):
    model = mf.Model.image_text_to_image("openai/dall-e-2", base_url=openai.base_url, api_key="sk-wrong")
    with pytest.raises(mf.AuthenticationError) as caught:
        edit(model, samples)
    assert caught.value.status == 401


def test_server_error_is_its_own_class(start_emulator, samples):
    running = start_emulator("openai", "--first-fault", "status:500")
    with pytest.raises(mf.ServerError) as caught:
        edit(dall_e_2(running), samples)
    assert caught.value.status == 500


def test_a_timeout_after_sending_says_it_may_have_been_billed(start_emulator, samples):
    running = start_emulator("openai", "--first-fault", "stall-ms:3000")
    with pytest.raises(TimeoutError) as caught:
        dall_e_2(running, timeout=0.5)(
            prompt="x", image=samples / "photo.png", mask=samples / "mask.png"
        )
    assert isinstance(caught.value, mf.EditTimeoutError)
    assert caught.value.maybe_billed is True


def test_a_refused_connection_is_a_network_error_sent_nothing():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = mf.Model.image_text_to_image(
        "openai/dall-e-2", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0
    )
    image = mf.image.prepare(mf.image.rectangle((0, 0, 8, 8), size=(64, 64)), size=64).image
    with pytest.raises(ConnectionError) as caught:
        model(prompt="x", image=image)
    assert isinstance(caught.value, mf.NetworkError)
    assert caught.value.request_sent is False and caught.value.maybe_billed is False


def test_an_unknown_setting_is_a_configuration_error():
    with pytest.raises(mf.ConfigurationError) as caught:
        mf.Model.image_text_to_image("openai/dall-e-2", api_key="sk-x", colour="blue")
    assert "colour" in str(caught.value)


def test_a_missing_file_names_the_parameter(samples):
    with pytest.raises(mf.InvalidInputError) as caught:
        mf.Model.image_text_to_image("local/telea")(prompt="x", image=samples / "photo.png", mask="nowhere.png")
    assert caught.value.param == "mask"
