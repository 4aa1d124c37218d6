#!/usr/bin/env bash
# Client overhead: msgflux (the `msgflux batch` command, one process, jobs one
# at a time) against the official Python SDK google-genai, each doing EDITS
# sequential edits of assets/coffee.png with gemini-2.5-flash-image (a model
# both clients know) against
# the same local Gemini emulator (msgflux-emulator google): no key, no
# network but pip. Every run is a fresh emulator that checks each request
# against Google's contract and that exactly EDITS paid requests arrived.
#
# Usage: GENAI_VERSION=1.30.0 bash bench/google/run.sh [EDITS] [ROUNDS]   (defaults 50, 3; see docs/providers/google.md for why 1.30.0)
# Not a test: CI does not run it. The lead copies the figures to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDITS="${1:-50}"
ROUNDS="${2:-3}"
# Pin with GENAI_VERSION=x.y.z; unset, the newest release is installed (and printed).
GENAI_VERSION="${GENAI_VERSION:-}"
WORK=target/bench-google
VENV=target/bench-google/venv
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
source scripts/registry.sh
from_registry "google-genai" "$VENV/bin/pip" install --quiet "google-genai${GENAI_VERSION:+==$GENAI_VERSION}"
PY="$VENV/bin/python"
GENAI_VERSION=$("$PY" -c "from google import genai; print(genai.__version__)")

cargo build --release -p msgflux-emulators --bin msgflux-emulator -p msgflux-cli --bin msgflux
bin="${CARGO_TARGET_DIR:-target}/release"
IMAGE=assets/coffee.png
MODEL=gemini-2.5-flash-image

JOBS="$WORK/jobs.jsonl"
: > "$JOBS"
for i in $(seq "$EDITS"); do
    printf '{"id": "e%s", "prompt": "make the coffee a cappuccino", "image": "%s"}\n' "$i" "$PWD/$IMAGE" >> "$JOBS"
done

# The client process alone is measured (/usr/bin/time inside the emulator's
# wrapper): wall seconds, user + system CPU seconds, peak RSS in KiB. The
# emulator's own work (decoding, painting, encoding) is not counted.
TIMEF="%e %U %S %M"
ours=()
theirs=()
for round in $(seq "$ROUNDS"); do
    rm -rf "$WORK/ours" "$WORK/theirs"
    "$bin/msgflux-emulator" google --expect-paid "$EDITS" -- \
        /usr/bin/time -f "$TIMEF" -o "$WORK/ours.time" \
        "$bin/msgflux" batch "$JOBS" --model "google/$MODEL" --concurrency 1 \
        --base-url {base_url} --out "$WORK/ours" > /dev/null
    ours+=("$(cat "$WORK/ours.time")")
    "$bin/msgflux-emulator" google --expect-paid "$EDITS" -- \
        /usr/bin/time -f "$TIMEF" -o "$WORK/theirs.time" \
        "$PY" bench/google/bench.py "$EDITS" "$IMAGE" "$WORK/theirs" "$MODEL" > /dev/null
    theirs+=("$(cat "$WORK/theirs.time")")
    echo "round $round: msgflux [${ours[-1]}], google-genai [${theirs[-1]}] (wall s, user s, sys s, peak KiB)" >&2
done

# Median of one column over the rounds: column 1 wall, 5 = user + sys (added below), 4 peak RSS.
column() { printf '%s\n' "${@:2}" | awk -v c="$1" '{ if (c == 5) print $2 + $3; else print $c }' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() {
    local name=$1; shift
    local wall cpu rss
    wall=$(column 1 "$@"); cpu=$(column 5 "$@"); rss=$(column 4 "$@")
    echo "$name: wall $wall s ($(echo "scale=2; 1000 * $wall / $EDITS" | bc) ms/edit), CPU $cpu s ($(echo "scale=2; 1000 * $cpu / $EDITS" | bc) ms/edit), peak RSS $((rss / 1024)) MiB"
}
echo "command: bash bench/google/run.sh $EDITS $ROUNDS"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), google-genai $GENAI_VERSION, release build, medians of $ROUNDS rounds"
report "msgflux (msgflux batch --concurrency 1)" "${ours[@]}"
report "google-genai (generate_content loop)" "${theirs[@]}"
echo "CPU ratio google-genai / msgflux: $(echo "scale=2; $(column 5 "${theirs[@]}") / $(column 5 "${ours[@]}")" | bc)"
echo "wall ratio google-genai / msgflux: $(echo "scale=2; $(column 1 "${theirs[@]}") / $(column 1 "${ours[@]}")" | bc)"
