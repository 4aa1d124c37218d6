#!/usr/bin/env bash
# The README's main job: an offline edit with the local provider (no key, no
# network) on a shipped sample photo and mask. Writes the result and a
# before/after picture into out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only the local provider is compiled for this job: the fastest first build.
# MSGFLUX_BIN=DIR runs DIR/msgflux instead (CI, which has built it already).
if [ -n "${MSGFLUX_BIN:-}" ]; then
    run=("$MSGFLUX_BIN/msgflux")
else
    run=(cargo run --quiet -p msgflux-cli --no-default-features --features local --)
fi

cmd=("${run[@]}" edit
    --model local/patchmatch
    --image assets/astronaut.png
    --mask assets/masks/astronaut-shuttle.png
    --prompt "remove the shuttle model"
    --out out/demo
    --compare)

echo "+ $(printf '%q ' "${cmd[@]}")"
"${cmd[@]}"
