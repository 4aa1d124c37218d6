#!/usr/bin/env bash
# Client overhead: msgflux (the `msgflux batch` command, one process, jobs one
# at a time) against the official Python SDK google-genai, each doing EDITS
# sequential edits of assets/coffee.png with gemini-2.5-flash-image against
# the same local Gemini emulator (msgflux-emulator google): no key, no
# network but pip. Every run is a fresh emulator that checks each request
# against Google's contract and that exactly EDITS paid requests arrived.
#
# Usage: bash bench/google/run.sh [EDITS] [ROUNDS]   (defaults 50, 3)
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
"$VENV/bin/pip" install --quiet "google-genai${GENAI_VERSION:+==$GENAI_VERSION}"
PY="$VENV/bin/python"
GENAI_VERSION=$("$PY" -c "from google import genai; print(genai.__version__)")

cargo build -p msgflux-emulators --bin msgflux-emulator -p msgflux-cli --bin msgflux
bin="${CARGO_TARGET_DIR:-target}/debug"
IMAGE=assets/coffee.png

JOBS="$WORK/jobs.jsonl"
: > "$JOBS"
for i in $(seq "$EDITS"); do
    printf '{"id": "e%s", "prompt": "make the coffee a cappuccino", "image": "%s"}\n' "$i" "$PWD/$IMAGE" >> "$JOBS"
done

now() { date +%s.%N; }
ours=()
theirs=()
for round in $(seq "$ROUNDS"); do
    rm -rf "$WORK/ours" "$WORK/theirs"
    start=$(now)
    "$bin/msgflux-emulator" google --expect-paid "$EDITS" -- \
        "$bin/msgflux" batch "$JOBS" --model google/gemini-2.5-flash-image --concurrency 1 \
        --base-url {base_url} --out "$WORK/ours" > /dev/null
    ours+=("$(echo "$(now) - $start" | bc)")
    start=$(now)
    "$bin/msgflux-emulator" google --expect-paid "$EDITS" -- \
        "$PY" bench/google/bench.py "$EDITS" "$IMAGE" "$WORK/theirs" > /dev/null
    theirs+=("$(echo "$(now) - $start" | bc)")
    echo "round $round: msgflux ${ours[-1]} s, google-genai ${theirs[-1]} s" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}")
m_theirs=$(median "${theirs[@]}")
echo "command: bash bench/google/run.sh $EDITS $ROUNDS"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), google-genai $GENAI_VERSION, debug build"
echo "msgflux (msgflux batch --concurrency 1): median $m_ours s for $EDITS edits ($(echo "scale=1; 1000 * $m_ours / $EDITS" | bc) ms/edit)"
echo "google-genai: median $m_theirs s for $EDITS edits ($(echo "scale=1; 1000 * $m_theirs / $EDITS" | bc) ms/edit)"
echo "ratio google-genai / msgflux: $(echo "scale=2; $m_theirs / $m_ours" | bc)"
