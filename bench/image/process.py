"""Whole-process prepare benchmark: `msgflux prepare` against libvips and Pillow.

The job is the docs' dall-e-2 recipe: a photo file in, a 1024x1024 RGBA PNG
under 4 MB written, as a user runs it from a shell. Each tool runs as its own
process; the time is from process start to its exit (the file written), and
the memory is the process's peak resident set, as GNU time (`/usr/bin/time
-f %M`) reads it from the tool's own wait4: Python starts children with vfork,
so a child's own ru_maxrss would include this script's memory. The best time
of RUNS runs (after a warm-up) and the largest peak RSS are reported, with the
machine's load average before and after.

    python bench/image/process.py MSGFLUX_BIN WORK RUNS   (bench/image/run.sh calls it)

Quality: each output's PSNR against a full-resolution reference (Pillow's
full decode, Lanczos to 1024x1024, in RGB).
"""

import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyvips
from PIL import Image, ImageChops

LIMIT = 4 * 1024 * 1024


def make_inputs(work, sample):
    """12, 24 and 48 MP noisy JPEGs (as bench.py makes the 12 MP one), and the 12 MP photo as PNG and WebP."""
    inputs = {}
    for mp, size in [(12, (4240, 2832)), (24, (6000, 4000)), (48, (8000, 6000))]:
        path = work / f"photo-{mp}mp.jpg"
        if not path.exists():
            img = Image.open(sample).convert("RGB").resize(size, Image.BICUBIC)
            noise = Image.effect_noise(img.size, 24).convert("RGB")
            ImageChops.add(img, noise, scale=1.0, offset=-128).save(path, "JPEG", quality=90)
        inputs[f"{mp} MP JPEG"] = path
    twelve = Image.open(inputs["12 MP JPEG"])
    for fmt, ext, options in [("PNG", "png", {}), ("WEBP", "webp", {"quality": 90})]:
        path = work / f"photo-12mp.{ext}"
        if not path.exists():
            twelve.save(path, fmt, **options)
        inputs[f"12 MP {fmt.replace('WEBP', 'WebP')}"] = path
    return inputs


GNU_TIME = "/usr/bin/time"


def run_once(argv, rss_file):
    """Wall ms from spawn to exit, and peak RSS in MiB, of one process."""
    started = time.perf_counter()
    child = subprocess.run(
        [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = (time.perf_counter() - started) * 1e3
    if child.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {child.stderr.decode()}")
    return elapsed, int(Path(rss_file).read_text().split()[-1]) / 1024


def measure(argv, runs, rss_file):
    run_once(argv, rss_file)  # warm-up: page cache, dynamic loader
    results = [run_once(argv, rss_file) for _ in range(runs)]
    return min(t for t, _ in results), max(r for _, r in results)


PYVIPS = (
    "import sys, pyvips; "
    "pyvips.Image.thumbnail(sys.argv[1], 1024, height=1024, size='force').bandjoin(255).pngsave(sys.argv[2])"
)
PILLOW = (
    "import sys; from PIL import Image; "
    "Image.open(sys.argv[1]).convert('RGBA').resize((1024, 1024), Image.LANCZOS).save(sys.argv[2])"
)


def psnr_rgb(a, b):
    x = np.asarray(a.convert("RGB"), dtype=np.float64)
    y = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = float(np.mean((x - y) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


def main():
    msgflux, work, runs = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    root = Path(__file__).resolve().parents[2]
    inputs = make_inputs(work, root / "assets" / "rocket.jpg")
    vipsthumbnail = shutil.which("vipsthumbnail")
    print(f"pyvips {pyvips.__version__} (libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}), Pillow {Image.__version__}")
    if vipsthumbnail:
        version = subprocess.run([vipsthumbnail, "--vips-version"], capture_output=True, text=True).stdout.strip()
        print(f"vipsthumbnail: {vipsthumbnail} ({version})")
    print(f"best of {runs} runs after a warm-up; peak RSS the largest of the runs")
    print("load average before: %.2f %.2f %.2f\n" % os.getloadavg())
    print("| input | tool | whole process ms | peak RSS MiB | output bytes | PSNR vs full-res Lanczos dB | msgflux faster by |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, path in inputs.items():
        reference = Image.open(path).convert("RGB").resize((1024, 1024), Image.LANCZOS)
        tools = {
            "msgflux prepare": [msgflux, "prepare", str(path), "--size", "1024x1024", "-o", str(work / "out-msgflux.png")],
            "pyvips thumbnail": [sys.executable, "-c", PYVIPS, str(path), str(work / "out-pyvips.png")],
            "Pillow": [sys.executable, "-c", PILLOW, str(path), str(work / "out-pillow.png")],
        }
        if vipsthumbnail:
            # vipsthumbnail reads a relative -o against the input's folder.
            out = (work / "out-vipsthumbnail.png").resolve()
            tools["vipsthumbnail"] = [vipsthumbnail, str(path), "--size", "1024x1024!", "-o", str(out)]
        times = {}
        for tool, argv in tools.items():
            ms, rss = measure(argv, runs, work / "peak-rss.txt")
            times[tool] = ms
            out = Path(argv[-1])
            size = out.stat().st_size
            with Image.open(out) as result:
                assert result.size == (1024, 1024), (tool, result.size)
                quality = psnr_rgb(result, reference)
                mode = result.mode
            ratio = "" if tool == "msgflux prepare" else f"{ms / times['msgflux prepare']:.2f}x"
            flag = "" if size < LIMIT else " (over 4 MB)"
            print(f"| {name} | {tool} ({mode}) | {ms:.0f} | {rss:.0f} | {size}{flag} | {quality:.2f} | {ratio} |", flush=True)
    print("\nload average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
