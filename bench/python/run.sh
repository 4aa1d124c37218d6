#!/usr/bin/env bash
# This package against the original msgflux (pip install "msgflux[openai]"):
# the same edits against the same OpenAI emulator (answers computed once and
# reused, so the clients are measured), one process per library.
#
#   bash bench/python/run.sh [SEQUENTIAL] [BATCH]     (defaults 100 and 200)
#
# Needs the package built (bash crates/msgflux-py/tests/run.sh does it).
set -euo pipefail
cd "$(dirname "$0")/../.."
sequential="${1:-100}"
batch="${2:-200}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
ours="$target/python-venv"
original="$target/bench-python-venv"
[ -x "$original/bin/python" ] || python3 -m venv "$original"
source scripts/registry.sh
from_registry "the original msgflux" "$original/bin/pip" install --quiet "msgflux[openai]" httpx

photo="$(mktemp -d)/photo.png"
cp assets/astronaut.png "$photo"
for side in "$original:original" "$ours:rs"; do
    venv="${side%%:*}" library="${side##*:}"
    "$target/debug/msgflux-emulator" openai --reuse-answers -- \
        "$venv/bin/python" bench/python/bench.py "$library" "$photo" "$sequential" "$batch"
done
