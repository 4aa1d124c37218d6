"""Pillow's side of bench/image/run.sh, and the comparison.

Makes the 12-megapixel input, times Pillow on the same three operations as
crates/msgflux-image/examples/bench.rs, reads our timings (JSON on argv),
and prints ratios and the PSNR of our outputs against Pillow's.
"""

import io
import json
import math
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat, features


def best_ms(runs, op):
    result = op()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = op()
        times.append((time.perf_counter() - start) * 1000.0)
    return min(times), result


def make_photo(sample, out):
    """12 megapixels from a sample photo: upscale 4240x2832, add Gaussian noise, JPEG q90."""
    img = Image.open(sample).convert("RGB").resize((4240, 2832), Image.BICUBIC)
    noise = Image.effect_noise(img.size, 24).convert("RGB")
    noisy = ImageChops.add(img, noise, scale=1.0, offset=-128)
    noisy.save(out, "JPEG", quality=90)


def psnr(a, b):
    a, b = a.convert("RGBA"), b.convert("RGBA")
    if a.size != b.size:
        return float("nan")
    diff = ImageChops.difference(a, b)
    sum2 = sum(ImageStat.Stat(diff).sum2)
    mse = sum2 / (a.size[0] * a.size[1] * 4)
    return float("inf") if mse == 0 else 10 * math.log10(255 * 255 / mse)


def main():
    mode, *rest = sys.argv[1:]
    if mode == "make":
        make_photo(rest[0], rest[1])
        return
    photo, work, runs, ours_json, ours_1t_json = rest
    work, runs = Path(work), int(runs)
    ours, ours_1t = json.loads(ours_json), json.loads(ours_1t_json)

    # (a) The docs' prepare pipeline.
    def prepare():
        img = Image.open(photo).convert("RGBA").resize((1024, 1024), Image.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        assert buf.tell() < 4 * 1024 * 1024
        return buf.getvalue()

    prepare_ms, png = best_ms(runs, prepare)
    (work / "pillow_prepared.png").write_bytes(png)

    # (b) The docs' feathered mask.
    def mask():
        m = Image.new("L", (1024, 1024), 0)
        ImageDraw.Draw(m).ellipse((256, 256, 768, 768), fill=255)
        return m.filter(ImageFilter.GaussianBlur(5))

    mask_ms, pil_mask = best_ms(runs, mask)

    # (c) Side by side at a common height with labels.
    before = Image.open(work / "pillow_prepared.png").convert("RGBA")
    after = before.resize((512, 512), Image.BILINEAR).convert("L").convert("RGBA")

    def compare():
        h = 512
        panels = [p.resize((round(p.width * h / p.height), h), Image.LANCZOS) for p in (before, after)]
        gap, band = 8, 24
        canvas = Image.new("RGBA", (sum(p.width for p in panels) + gap * 3, h + band + 2 * gap), "white")
        draw = ImageDraw.Draw(canvas)
        x = gap
        for label, p in zip(("before", "after"), panels):
            draw.text((x + p.width // 2 - 24, gap), label, fill="black")
            canvas.alpha_composite(p, (x, gap + band))
            x += p.width + gap
        return canvas

    compare_ms, _ = best_ms(runs, compare)

    ours_prepared = Image.open(work / "ours_prepared.png")
    ours_mask = Image.open(work / "ours_mask.png")
    mask_diff = ImageChops.difference(pil_mask, ours_mask.convert("L")).getextrema()[1]
    rows = [
        ("(a) prepare 12 MP JPEG -> 1024x1024 RGBA PNG < 4 MB", prepare_ms, ours["prepare_ms"], ours_1t["prepare_ms"]),
        ("(b) feathered ellipse mask 1024x1024, sigma 5", mask_ms, ours["mask_ms"], ours_1t["mask_ms"]),
        ("(c) side by side 1024+512 -> height 512, labels", compare_ms, ours["compare_ms"], ours_1t["compare_ms"]),
    ]
    print(f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, zlib {features.version('zlib')})")
    print(f"msgflux-image: {ours['threads']} rayon threads; 1-thread run with RAYON_NUM_THREADS=1; best of {runs} runs each")
    print()
    print("| operation | Pillow ms | msgflux-image ms | ratio | 1 thread ms | ratio (1 thread) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, pil, ours_ms, ours_1t_ms in rows:
        print(f"| {name} | {pil:.1f} | {ours_ms:.1f} | {pil / ours_ms:.1f}x | {ours_1t_ms:.1f} | {pil / ours_1t_ms:.1f}x |")
    print()
    print(f"(a) output bytes: Pillow {len(png)}, msgflux-image {ours['prepared_bytes']}")
    print(f"(a) PSNR of msgflux-image's output against Pillow's: {psnr(ours_prepared, Image.open(work / 'pillow_prepared.png')):.2f} dB")
    print(f"(b) largest difference between the two masks: {mask_diff} levels of 255")


if __name__ == "__main__":
    main()
