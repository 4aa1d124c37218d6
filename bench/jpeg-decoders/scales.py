"""How much each reduced JPEG decode costs in quality on the way to 1024x1024.

Decodes FILE at each scale libjpeg-turbo offers (N/8 of each side) and at
jpeg-decoder's 1/2, resizes each to 1024x1024 with Pillow's Lanczos, and
prints its PSNR against the full-size decode resized the same way (the
reference of issue 20, part 2). Uses the program built beside it:

    cargo build --release --manifest-path bench/jpeg-decoders/Cargo.toml --features simd
    bench/.venv-image/bin/python bench/jpeg-decoders/scales.py bench/work/image/photo-12mp.jpg
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "target", "release", "jpeg-decoders-bench")
SIDE = 1024


def decode(path, eighths, decoder, out):
    env = dict(os.environ, SCALE_EIGHTHS=str(eighths), OUT=out, DECODER=decoder)
    subprocess.run([PROGRAM, path], env=env, check=True)
    return Image.open(out).convert("RGB")


def main():
    path = sys.argv[1]
    reference = np.asarray(Image.open(path).convert("RGB").resize((SIDE, SIDE), Image.LANCZOS), dtype=np.float64)
    print("| decoder | scale | decoded size | PSNR after Lanczos to 1024x1024, dB |")
    print("|---|---|---|---:|")
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "decoded.ppm")
        runs = [("jpeg-decoder", 4)] + [("libjpeg-turbo", n) for n in range(2, 9)]
        for decoder, eighths in runs:
            image = decode(path, eighths, decoder, out)
            resized = np.asarray(image.resize((SIDE, SIDE), Image.LANCZOS), dtype=np.float64)
            mse = ((resized - reference) ** 2).mean()
            psnr = float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)
            print(f"| {decoder} | {eighths}/8 | {image.width}x{image.height} | {psnr:.2f} |")


if __name__ == "__main__":
    main()
