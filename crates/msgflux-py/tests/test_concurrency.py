"""`acall` is truly concurrent (the GIL is released, every call shares one
runtime), and `map_gather` keeps order, bounds concurrency, times items out
and keeps one item's failure to that item."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import msgflux_rs as mf
import msgflux_rs.nn.functional as F

LATENCY_S = 0.5


@pytest.fixture
def slow_openai(start_emulator):
    running = start_emulator("openai", "--latency-ms", str(int(LATENCY_S * 1000)))
    return mf.Model.image_text_to_image("openai/dall-e-2", base_url=running.base_url, api_key=running.key)


def job(samples, prompt="Add a sunset sky"):
    return {"prompt": prompt, "image": samples / "photo.png", "mask": samples / "mask.png"}


def test_eight_acalls_in_one_loop_take_about_one_calls_latency(slow_openai, samples):
    async def main():
        return await asyncio.gather(*(slow_openai.acall(**job(samples)) for _ in range(8)))

    started = time.perf_counter()
    responses = asyncio.run(main())
    elapsed = time.perf_counter() - started
    assert len(responses) == 8
    assert elapsed < 3 * LATENCY_S, f"8 concurrent calls took {elapsed:.2f}s"


def test_a_blocking_call_releases_the_gil(slow_openai, samples):
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.01)

    thread = threading.Thread(target=ticker)
    thread.start()
    slow_openai(**job(samples))
    stop.set()
    thread.join()
    assert len(ticks) > 10  # the other thread ran while the call waited


def test_cancelling_an_acall_cancels_the_edit(slow_openai, samples):
    async def main():
        task = asyncio.ensure_future(slow_openai.acall(**job(samples)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_map_gather_returns_a_tuple_in_input_order(openai, samples):
    model = mf.Model.image_text_to_image("openai/dall-e-2")
    # Item i asks for i + 1 variations, so each result shows which item it is.
    items = [dict(job(samples), n=i + 1) for i in range(6)]
    results = F.map_gather(model, kwargs_list=items, concurrency=3)
    assert isinstance(results, tuple)
    assert [len(result) for result in results] == [1, 2, 3, 4, 5, 6]


def test_map_gather_concurrency_is_bounded(slow_openai, samples):
    started = time.perf_counter()
    F.map_gather(slow_openai, kwargs_list=[job(samples)] * 4, concurrency=2)
    elapsed = time.perf_counter() - started
    assert elapsed >= 2 * LATENCY_S * 0.9, "4 items at concurrency 2 take two rounds"


def test_one_failed_item_raises_batch_error_holding_every_slot(openai, samples):
    model = mf.Model.image_text_to_image("openai/dall-e-2")
    good = (("ok", samples / "photo.png", samples / "mask.png"))
    bad = ("bad", samples / "missing.png", samples / "mask.png")
    with pytest.raises(mf.BatchError) as caught:
        F.map_gather(model, args_list=[good, bad, good])
    error = caught.value
    assert [type(slot).__name__ for slot in error.results] == ["Response", "InvalidInputError", "Response"]
    assert [index for index, _ in error.errors] == [1]


def test_return_exceptions_puts_each_failure_in_its_slot(openai, samples):
    model = mf.Model.image_text_to_image("openai/dall-e-2")
    good = ("ok", samples / "photo.png", samples / "mask.png")
    bad = ("bad", samples / "missing.png", samples / "mask.png")
    results = F.map_gather(model, args_list=[bad, good], return_exceptions=True)
    assert isinstance(results[0], mf.InvalidInputError) and results[0].param == "image"
    assert results[1].consume()


def test_the_per_item_timeout_cancels_the_slow_item(start_emulator, samples):
    running = start_emulator("openai", "--first-fault", "hang")
    model = mf.Model.image_text_to_image("openai/dall-e-2", base_url=running.base_url, api_key=running.key)
    started = time.perf_counter()
    results = F.map_gather(model, kwargs_list=[job(samples), job(samples)], concurrency=1, timeout=0.5,
                           return_exceptions=True)
    assert time.perf_counter() - started < 5
    assert isinstance(results[0], mf.EditTimeoutError)
    assert isinstance(results[1], mf.Response)


def test_amap_gather_runs_in_an_event_loop(openai, samples):
    model = mf.Model.image_text_to_image("openai/dall-e-2")
    results = asyncio.run(F.amap_gather(model, kwargs_list=[job(samples)] * 3))
    assert len(results) == 3
