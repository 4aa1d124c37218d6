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
source scripts/registry.sh
from_registry "Pillow, pyvips and numpy" "$VENV/bin/pip" install --quiet --upgrade pillow "pyvips[binary]" numpy

# vipsthumbnail (libvips' own command) is compared too when present; Debian's is libvips-tools.
command -v vipsthumbnail >/dev/null || debian_package vipsthumbnail libvips-tools || true
# process.py reads each tool's peak memory through GNU time (Debian's package `time`).
[ -x /usr/bin/time ] || debian_package "GNU time" time
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release -p msgflux-image --example bench
# The CLI with no provider compiled in: `msgflux prepare` needs none.
cargo build --release -p msgflux-cli --no-default-features
BIN="$TARGET/release/examples/bench"
MSGFLUX="$TARGET/release/msgflux"

PHOTO="$WORK/photo-12mp.jpg"
if [ ! -f "$PHOTO" ]; then
    "$VENV/bin/python" bench/image/bench.py make assets/rocket.jpg "$PHOTO"
fi

OURS=$("$BIN" "$PHOTO" "$WORK" "$RUNS")
OURS_1T=$(RAYON_NUM_THREADS=1 "$BIN" "$PHOTO" "$WORK" "$RUNS")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "input: $PHOTO ($(stat -c %s "$PHOTO") bytes)"
"$VENV/bin/python" bench/image/bench.py compare "$PHOTO" "$WORK" "$RUNS" "$OURS" "$OURS_1T"

echo
echo "whole process (process start to file written), against libvips and Pillow:"
"$VENV/bin/python" bench/image/process.py "$MSGFLUX" "$WORK" "$RUNS"
