"""Times builds of `msgflux prepare` against each other, interleaved.

Usage: python3 bench/image/interleaved.py [--input FILE] ROUNDS BUILD [BUILD...]
Each round runs every build once on bench/work/image/photo-12mp.jpg (made by
bench/image/run.sh; --input takes another, such as its photo-12mp.png) to a
1024x1024 PNG, so a change of machine speed hits
every build alike. Prints the best and median wall time and the median CPU
(user + system, from getrusage) of each. Standard library only; not a test.
"""

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHOTO = Path(__file__).resolve().parents[1] / "work" / "image" / "photo-12mp.jpg"


def run_once(build, photo, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [build, "prepare", str(photo), "--size", "1024x1024", "-o", out],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def main():
    args = sys.argv[1:]
    photo = PHOTO
    if args[:1] == ["--input"]:
        photo, args = Path(args[1]), args[2:]
    rounds, builds = int(args[0]), args[1:]
    if not photo.exists():
        sys.exit(f"{photo} is missing: run bench/image/run.sh once first")
    walls = {b: [] for b in builds}
    cpus = {b: [] for b in builds}
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.png")
        for _ in range(rounds):
            for build in builds:
                wall, cpu = run_once(build, photo, out)
                walls[build].append(wall)
                cpus[build].append(cpu)
    print("| build | wall best ms | wall median ms | CPU median ms |")
    print("|---|---:|---:|---:|")
    for build in builds:
        print(
            f"| {build} | {min(walls[build]):.1f} | {statistics.median(walls[build]):.1f} "
            f"| {statistics.median(cpus[build]):.0f} |"
        )


if __name__ == "__main__":
    main()
