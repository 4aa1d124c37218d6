"""The official Python client's side of bench/replicate/run.sh, and the comparison.

Runs the same edits as crates/msgflux-replicate/examples/replicate_bench_client.rs
against the same emulator with `replicate` (replicate-python): the photo as
a file (the client uploads it through the files API), the mask already in the
model's white = repaint convention as a data URI (the Python user prepares it
beforehand; msgflux converts it inside each call), `replicate.run` with its
default `Prefer: wait`, and the output read back. Prints timings and ratios.
"""

import asyncio
import base64
import io
import json
import sys
import time
from importlib.metadata import version

import httpx
import replicate
from PIL import Image, ImageDraw

MODEL = "black-forest-labs/flux-fill-pro"


def white_mask_data_uri(photo):
    with Image.open(photo) as img:
        w, h = img.size
    mask = Image.new("L", (w, h), 0)
    x, y = w * 34 // 100, h * 23 // 100
    ImageDraw.Draw(mask).ellipse([x, y, x + w * 28 // 100 - 1, y + h * 26 // 100 - 1], fill=255)
    buf = io.BytesIO()
    mask.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def main():
    base_url, token, photo, edits, concurrent, rounds, ours_json = sys.argv[1:]
    edits, concurrent, rounds = int(edits), int(concurrent), int(rounds)
    ours = json.loads(ours_json)
    client = replicate.Client(api_token=token, base_url=base_url.removesuffix("/v1"))
    mask = white_mask_data_uri(photo)

    # replicate-python wraps https/data outputs in FileOutput; the emulator's
    # http:// URLs come back as strings, downloaded with a pooled httpx client.
    downloads = httpx.Client()

    def edit():
        with open(photo, "rb") as image:
            output = client.run(MODEL, input={"prompt": "a cappuccino with latte art", "image": image, "mask": mask})
        data = output.read() if hasattr(output, "read") else downloads.get(output).raise_for_status().content
        assert data[:8] == b"\x89PNG\r\n\x1a\n"

    async def edit_async(async_downloads):
        with open(photo, "rb") as image:
            output = await client.async_run(
                MODEL, input={"prompt": "a cappuccino with latte art", "image": image, "mask": mask}
            )
        if hasattr(output, "aread"):
            data = await output.aread()
        else:
            data = (await async_downloads.get(output)).raise_for_status().content
        assert data[:8] == b"\x89PNG\r\n\x1a\n"

    async def batches():
        # One event loop for every round: the client's async connection pool is bound to it.
        best = float("inf")
        async with httpx.AsyncClient() as async_downloads:
            for _ in range(rounds):
                start = time.perf_counter()
                await asyncio.gather(*(edit_async(async_downloads) for _ in range(concurrent)))
                best = min(best, (time.perf_counter() - start) * 1000)
        return best

    edit()  # warm-up
    sequential = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(edits):
            edit()
        sequential = min(sequential, (time.perf_counter() - start) * 1000 / edits)
    batch_ms = asyncio.run(batches())

    print(f"replicate-python {version('replicate')}, httpx {version('httpx')}")
    print(f"{'':34}{'msgflux-replicate':>18}{'replicate-python':>18}{'ratio':>8}")
    rows = [
        ("sequential, ms per edit", ours["sequential_ms_per_edit"], sequential),
        (f"{concurrent} concurrent edits, ms", ours["concurrent_batch_ms"], batch_ms),
    ]
    for name, a, b in rows:
        print(f"{name:34}{a:18.1f}{b:18.1f}{b / a:7.2f}x")


if __name__ == "__main__":
    main()
