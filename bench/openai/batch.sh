#!/usr/bin/env bash
# Client CPU per saved edit (issue 20, part 3): EDITS sequential dall-e-2
# edits whose base64 results are saved to files, through
#
#   msgflux batch JOBS --concurrency 1 --format base64   the whole process, durable atomic results
#   openai-python (bench/openai/bench.py files)           its loop alone, and its whole process
#
# both against the same local OpenAI emulator (contract-checked, exact count
# of paid requests), inputs made as in bench/openai/run.sh (assets/astronaut.png
# as a SIZExSIZE RGBA PNG, 1.5 MB at 1024, and a mask of that size). The client process alone is timed (/usr/bin/time
# inside the emulator's wrapper: the emulator's own work is not counted).
# Then one more run of ours under `strace -c -f`, for where system time goes.
#
# Usage: bash bench/openai/batch.sh [EDITS] [ROUNDS] [SIZE]   (defaults 200, 5, 1024; medians reported;
#        SIZE is one of dall-e-2's: 256, 512, 1024; MSGFLUX=PATH times another build of the
#        CLI, e.g. an older commit's, for a before/after in the same conditions)
# Not a test: CI does not run it. Figures go to docs/benchmarks/openai.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDITS="${1:-200}"
ROUNDS="${2:-5}"
SIZE="${3:-1024}"
OPENAI_VERSION=3.57.0
WORK=bench/work/openai-batch
VENV=bench/.venv-openai
mkdir -p "$WORK"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
source scripts/registry.sh
from_registry "openai-python" "$VENV/bin/pip" install --quiet "openai==$OPENAI_VERSION"
PY="$VENV/bin/python"

cargo build --release -p msgflux-emulators --bin msgflux-emulator -p msgflux-cli --bin msgflux
cargo build --release -p msgflux-openai --example openai_bench_client
bin="${CARGO_TARGET_DIR:-target}/release"
MSGFLUX="${MSGFLUX:-$bin/msgflux}"
IMAGE="$WORK/astronaut-$SIZE.png"
MASK="$WORK/mask-$SIZE.png"
"$bin/examples/openai_bench_client" inputs assets/astronaut.png "$SIZE" "$IMAGE" "$MASK" > /dev/null
JOBS="$WORK/jobs.jsonl"
: > "$JOBS"
for i in $(seq "$EDITS"); do
    printf '{"id": "e%s", "prompt": "Add a small red planet in the sky", "image": "%s", "mask": "%s"}\n' \
        "$i" "$PWD/$IMAGE" "$PWD/$MASK" >> "$JOBS"
done
ours_cmd() { # ours_cmd OUT
    echo "$MSGFLUX" batch "$JOBS" --model openai/dall-e-2 --format base64 --concurrency 1 \
        --base-url '{base_url}' --out "$1"
}

# Output folders are deleted only after the last round, and a run waits
# until the last run's deletions are 6 minutes old. On an ext4 without a
# journal (this machine's), creating a file skips every inode deleted in
# the last 60 s (360 s while its inode-table block is not written back),
# reading each one's deletion time: after a few thousand deletions, file
# creation was a third of msgflux's CPU at 256x256 (perf: find_inode_bit ->
# recently_deleted). Both tools paid it, msgflux more: it creates two files
# per edit (the claim and the result), openai-python's loop one.
DELETED_AT="$WORK/.deleted-at"
if [ -f "$DELETED_AT" ]; then
    wait_s=$(( $(cat "$DELETED_AT") + 360 - $(date +%s) ))
    if [ "$wait_s" -gt 0 ]; then
        echo "waiting ${wait_s} s for the last run's deleted files to age (see the comment above)" >&2
        sleep "$wait_s"
    fi
fi
clean_up() { rm -rf "$WORK"/run-* "$WORK/ours" "$WORK/theirs"; date +%s > "$DELETED_AT"; }
trap clean_up EXIT

# wall s, user s, system s, peak KiB
TIMEF="%e %U %S %M"
ours=()
theirs=()
loops=()
for round in $(seq "$ROUNDS"); do
    OURS="$WORK/run-$round-ours"
    THEIRS="$WORK/run-$round-theirs"
    # shellcheck disable=SC2046
    "$bin/msgflux-emulator" openai --reuse-answers --expect-paid "$EDITS" -- \
        /usr/bin/time -f "$TIMEF" -o "$WORK/ours.time" $(ours_cmd "$OURS") > /dev/null
    ours+=("$(cat "$WORK/ours.time")")
    # Each round starts with nothing left to write back: without this, the
    # later rounds paid for the earlier rounds' writeback (openai-python's
    # results are not synced; the kernel writes them later, and under
    # pressure in whichever process is writing).
    sync
    "$bin/msgflux-emulator" openai --reuse-answers --expect-paid $((EDITS + 1)) -- \
        /usr/bin/time -f "$TIMEF" -o "$WORK/theirs.time" \
        "$PY" bench/openai/bench.py files "$EDITS" "$IMAGE" "$MASK" "$THEIRS" > "$WORK/theirs.json"
    theirs+=("$(cat "$WORK/theirs.time")")
    sync
    loops+=("$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["cpu_ms_per_edit"])' "$WORK/theirs.json")")
    [ "$(find "$OURS" -maxdepth 1 -name '*.png' | wc -l)" = "$EDITS" ] || { echo "msgflux saved the wrong number of results" >&2; exit 1; }
    echo "round $round: msgflux [${ours[-1]}], openai-python [${theirs[-1]}] loop ${loops[-1]} ms/edit (wall s, user s, sys s, peak KiB)" >&2
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
column() { printf '%s\n' "${@:2}" | awk -v c="$1" '{ if (c == 5) print $2 + $3; else print $c }' | median; }
per_edit() { echo "scale=2; 1000 * $1 / $EDITS" | bc; }
ours_cpu=$(column 5 "${ours[@]}")
ours_sys=$(column 3 "${ours[@]}")
theirs_cpu=$(column 5 "${theirs[@]}")
loop_ms=$(printf '%s\n' "${loops[@]}" | median)
echo "command: bash bench/openai/batch.sh $EDITS $ROUNDS $SIZE"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), openai $OPENAI_VERSION, release build, medians of $ROUNDS rounds, image $(stat -c %s "$IMAGE") bytes, mask $(stat -c %s "$MASK") bytes, result $(stat -c %s "$WORK/run-1-ours/e1.png") bytes"
echo "msgflux batch (whole process): $(per_edit "$ours_cpu") ms CPU per edit ($(per_edit "$ours_sys") ms system), wall $(per_edit "$(column 1 "${ours[@]}")") ms/edit, peak RSS $(($(column 4 "${ours[@]}") / 1024)) MiB"
echo "openai-python (loop alone): $(printf '%.2f' "$loop_ms") ms CPU per edit"
echo "openai-python (whole process): $(per_edit "$theirs_cpu") ms CPU per edit, wall $(per_edit "$(column 1 "${theirs[@]}")") ms/edit, peak RSS $(($(column 4 "${theirs[@]}") / 1024)) MiB"
echo "CPU ratio, openai-python's loop alone / msgflux's whole process: $(echo "scale=2; $loop_ms / (1000 * $ours_cpu / $EDITS)" | bc)"
echo "CPU ratio, whole processes: $(echo "scale=2; $theirs_cpu / $ours_cpu" | bc)"

# shellcheck disable=SC2046
"$bin/msgflux-emulator" openai --reuse-answers --expect-paid "$EDITS" -- \
    strace -c -f -o "$WORK/strace.txt" $(ours_cmd "$WORK/run-strace") > /dev/null
echo "system calls of one msgflux batch run (strace -c -f, $WORK/strace.txt), the most frequent:"
awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print }' "$WORK/strace.txt" | sort -k4 -n -r | head -8
