#!/usr/bin/env bash
# Benchmark msgflux-image against Pillow on the same files, in one run.
# Usage: bash bench/image/run.sh [RUNS]   (from anywhere; default 7 runs, the best of them reported)
# Not a test: CI does not run it. Results go to docs/benchmarks/image.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-7}"
WORK=bench/work/image
VENV=bench/.venv-image
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --upgrade pillow

cargo build --release -p msgflux-image --example bench
BIN=target/release/examples/bench

PHOTO="$WORK/photo-12mp.jpg"
if [ ! -f "$PHOTO" ]; then
    "$VENV/bin/python" bench/image/bench.py make assets/rocket.jpg "$PHOTO"
fi

OURS=$("$BIN" "$PHOTO" "$WORK" "$RUNS")
OURS_1T=$(RAYON_NUM_THREADS=1 "$BIN" "$PHOTO" "$WORK" "$RUNS")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "input: $PHOTO ($(stat -c %s "$PHOTO") bytes)"
"$VENV/bin/python" bench/image/bench.py compare "$PHOTO" "$WORK" "$RUNS" "$OURS" "$OURS_1T"
