"""`on_progress=`: each step of one edit reaches a Python callable as a dict,
in order, from the blocking call and from `acall`; a callable that raises
does not fail the edit; a value that is not callable is refused before
anything is sent."""

from __future__ import annotations

import asyncio
import sys

import pytest

import msgflux_rs as mf

INPAINTING = "replicate/stability-ai/stable-diffusion-inpainting"


@pytest.fixture
def slow_replicate(start_emulator, monkeypatch):
    running = start_emulator("replicate", "--polls", "3")
    monkeypatch.setenv("REPLICATE_BASE_URL", running.base_url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", running.key)
    return running


def edit(samples):
    return {"prompt": "A blue sky", "image": samples / "photo.png", "mask": samples / "mask.png"}


def test_each_step_of_a_polled_prediction_reaches_the_callable_in_order(slow_replicate, samples):
    steps = []
    model = mf.Model.image_text_to_image(INPAINTING)
    response = model(**edit(samples), on_progress=steps.append)
    names = [step["step"] for step in steps]
    # The 512x512 photo is above Replicate's inline limit: it is uploaded first; the mask goes inline.
    assert names == ["checked", "uploading", "submitted", "queued", "running"], steps
    assert steps[1]["input"] == "image" and steps[1]["bytes"] > 256 * 1024
    assert steps[2]["request_id"] == response.request_id
    assert all(isinstance(step["message"], str) and step["message"] for step in steps)


def test_acall_reports_progress_too(slow_replicate, samples):
    steps = []
    model = mf.Model.image_text_to_image(INPAINTING)
    async def main():
        return await model.acall(**edit(samples), on_progress=steps.append)

    asyncio.run(main())
    assert steps[0]["step"] == "checked"
    assert "running" in [step["step"] for step in steps]


def test_a_callable_that_raises_does_not_fail_the_edit(slow_replicate, samples, monkeypatch):
    raised = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: raised.append(info.exc_value))

    def broken(step):
        raise RuntimeError(f"display broke at {step['step']}")

    model = mf.Model.image_text_to_image(INPAINTING)
    response = model(**edit(samples), on_progress=broken)
    assert response.consume().startswith("http")
    assert raised and all(isinstance(err, RuntimeError) for err in raised)


def test_a_value_that_is_not_callable_is_refused_before_sending(slow_replicate, samples):
    model = mf.Model.image_text_to_image(INPAINTING)
    with pytest.raises(mf.InvalidInputError) as caught:
        model(**edit(samples), on_progress=5)
    assert caught.value.param == "on_progress"
