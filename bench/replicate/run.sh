#!/usr/bin/env bash
# Client overhead of an image edit through Replicate's API: msgflux-replicate
# against the official Python client (replicate-python), both talking to the
# same local emulator (msgflux-emulator replicate, from crates/msgflux-emulators), which
# answers at once (no model time), so what is measured is each client's work:
# loading and uploading the photo, the mask, the create call, the download.
# Usage: bash bench/replicate/run.sh [EDITS] [CONCURRENT] [ROUNDS]   (defaults 30, 16, 3)
# Not a test: CI does not run it. Results go to docs/providers/replicate.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDITS="${1:-30}"
CONCURRENT="${2:-16}"
ROUNDS="${3:-3}"
VENV=bench/.venv-replicate
PORT=18089
PHOTO=assets/coffee.png

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
source scripts/registry.sh
from_registry "replicate-python" "$VENV/bin/pip" install --quiet --upgrade replicate pillow

cargo build --release -p msgflux-emulators --bin msgflux-emulator
cargo build --release -p msgflux-replicate --example replicate_bench_client
target/release/msgflux-emulator replicate --port "$PORT" --polls 0 > /dev/null &
EMULATOR=$!
trap 'kill $EMULATOR' EXIT
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
BASE_URL="http://127.0.0.1:$PORT/v1"
TOKEN=r8_emulator_token

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "input: $PHOTO ($(stat -c %s "$PHOTO") bytes), model black-forest-labs/flux-fill-pro, $EDITS sequential edits, $CONCURRENT concurrent, best of $ROUNDS rounds"
OURS=$(target/release/examples/replicate_bench_client "$BASE_URL" "$TOKEN" "$PHOTO" "$EDITS" "$CONCURRENT" "$ROUNDS")
"$VENV/bin/python" bench/replicate/bench.py "$BASE_URL" "$TOKEN" "$PHOTO" "$EDITS" "$CONCURRENT" "$ROUNDS" "$OURS"
