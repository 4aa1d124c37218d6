#!/usr/bin/env bash
# msgflux-openai against the official Python SDK (openai-python), in one run,
# both against the same local OpenAI emulator (crates/msgflux-openai, program
# msgflux-emulator openai, from crates/msgflux-emulators): no key, no real OpenAI call, no network but pip.
#
#   (1) client overhead: EDITS sequential dall-e-2 edits, no server latency
#   (2) a batch of BATCH edits, 200 ms server latency each, concurrency 8
#   (3) billing safety: the first POST is accepted and then stalls past the
#       client's 1 s read timeout; how many POSTs reach the server
#
# Usage: bash bench/openai/run.sh [ROUNDS] [EDITS] [BATCH]   (defaults 5, 200, 64)
# Every round of (1) and (2) is a fresh emulator and a fresh client process.
# Not a test: CI does not run it. Results go to docs/benchmarks/openai.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-5}"
EDITS="${2:-200}"
BATCH="${3:-64}"
CONCURRENCY=8
LATENCY_MS=200
FAULT_TIMEOUT_S=1
STALL_MS=3000
FAIL_STATUS=503
OPENAI_VERSION=3.57.0
SIZE=1024

WORK=bench/work/openai
VENV=bench/.venv-openai
RESULTS="$WORK/results.jsonl"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
source scripts/registry.sh
from_registry "openai-python" "$VENV/bin/pip" install --quiet "openai==$OPENAI_VERSION"
PY="$VENV/bin/python"

cargo build --release -p msgflux-emulators --bin msgflux-emulator
cargo build --release -p msgflux-openai --example openai_bench_client
EMULATOR=(target/release/msgflux-emulator openai)
OURS=target/release/examples/openai_bench_client
export CLK_TCK
CLK_TCK=$(getconf CLK_TCK)

IMAGE="$WORK/astronaut-$SIZE.png"
MASK="$WORK/mask-$SIZE.png"
"$OURS" inputs assets/astronaut.png "$SIZE" "$IMAGE" "$MASK" > /dev/null

# Runs one client under a fresh emulator (in the background, so that an
# interrupted run kills it: the only process this script starts and leaves
# running). Arguments: the JSON fields to add to the client's line, the
# emulator's flags, `--`, the client command. Appends the client's JSON line
# with `posts` (the edit requests the emulator saw) to $RESULTS. Fails when
# the emulator saw a request that breaks the spec or the service's rules, or
# not the number of paid requests given with --expect-paid.
EMU_PID=
trap '[ -n "$EMU_PID" ] && kill "$EMU_PID" 2> /dev/null; true' EXIT
run() {
    local fields="$1"
    shift
    local log="$WORK/emulator.log" out="$WORK/client.json"
    "${EMULATOR[@]}" "$@" > "$out" 2> "$log" &
    EMU_PID=$!
    if ! wait "$EMU_PID"; then
        EMU_PID=
        cat "$log" >&2
        echo "run failed: $*" >&2
        return 1
    fi
    EMU_PID=
    local posts
    posts=$(sed -n 's/^msgflux-emulator: \([0-9]*\) paid request(s), 0 problem(s)$/\1/p' "$log")
    [ -n "$posts" ] || { cat "$log" >&2; return 1; }
    "$PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).read())
r.update(json.loads(sys.argv[2]), posts=int(sys.argv[3]))
if "peak_rss_kib" in r:
    r["peak_rss_mib"] = r["peak_rss_kib"] / 1024
print(json.dumps(r))' "$out" "$fields" "$posts" >> "$RESULTS"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

LOAD_BEFORE=$(load)
"$PY" - "$RESULTS" <<EOF
import json, platform, subprocess, sys
import httpx2, openai
cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) // (1024 * 1024)
meta = {
    "kind": "meta",
    "machine": f"$(nproc) cores, {cpu}, {mem} GiB, Linux {platform.release()}",
    "load_before": "$LOAD_BEFORE",
    "openai_version": openai.__version__,
    "httpx_version": httpx2.__version__,
    "python_version": platform.python_version(),
    "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
    "image": "$IMAGE", "image_bytes": $(stat -c %s "$IMAGE"),
    "mask": "$MASK", "mask_bytes": $(stat -c %s "$MASK"),
    "rounds": $ROUNDS, "latency_ms": $LATENCY_MS, "fault_timeout_s": $FAULT_TIMEOUT_S,
    "stall_ms": $STALL_MS, "fail_status": $FAIL_STATUS,
}
open(sys.argv[1], "w").write(json.dumps(meta) + "\n")
EOF

# The two clients alternate within each round, so that both see the same load.
SEQ=(--reuse-answers --expect-paid $((EDITS + 1)))
BAT=(--reuse-answers --latency-ms "$LATENCY_MS" --expect-paid $((BATCH + 1)))
for round in $(seq "$ROUNDS"); do
    echo "round $round/$ROUNDS (load $(load))" >&2
    run "{\"kind\": \"sequential\", \"label\": \"msgflux\", \"round\": $round}" \
        "${SEQ[@]}" -- "$OURS" sequential "$EDITS" "$IMAGE" "$MASK"
    run "{\"kind\": \"sequential\", \"label\": \"openai-python\", \"round\": $round}" \
        "${SEQ[@]}" -- "$PY" bench/openai/bench.py sequential "$EDITS" "$IMAGE" "$MASK"
    run "{\"kind\": \"batch\", \"label\": \"msgflux\", \"round\": $round}" \
        "${BAT[@]}" -- "$OURS" batch "$BATCH" "$CONCURRENCY" "$IMAGE" "$MASK"
    run "{\"kind\": \"batch\", \"label\": \"openai-python\", \"round\": $round}" \
        "${BAT[@]}" -- "$PY" bench/openai/bench.py batch "$BATCH" "$CONCURRENCY" "$IMAGE" "$MASK"
done

# (3) One edit per fresh emulator; each client with its default retry settings,
# and openai-python with max_retries=0 as well (what its user must set to be safe).
# The 503 is a control: an error answer is not billed, so both clients resend.
echo "faults" >&2
for fault in stall fail; do
    if [ "$fault" = stall ]; then flags=(--first-fault "stall-ms:$STALL_MS"); else flags=(--first-fault "status:$FAIL_STATUS"); fi
    run "{\"kind\": \"fault\", \"fault\": \"$fault\", \"label\": \"msgflux (default retry policy: 2 retries)\"}" \
        "${flags[@]}" -- "$OURS" fault "$FAULT_TIMEOUT_S" "$IMAGE" "$MASK"
    run "{\"kind\": \"fault\", \"fault\": \"$fault\", \"label\": \"openai-python (default max_retries=2)\"}" \
        "${flags[@]}" -- "$PY" bench/openai/bench.py fault "$FAULT_TIMEOUT_S" "$IMAGE" "$MASK"
    run "{\"kind\": \"fault\", \"fault\": \"$fault\", \"label\": \"openai-python (max_retries=0)\"}" \
        "${flags[@]}" -- "$PY" bench/openai/bench.py fault "$FAULT_TIMEOUT_S" "$IMAGE" "$MASK" 0
done

LOAD_AFTER=$(load)
"$PY" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows[0]["load_after"] = sys.argv[2]
open(sys.argv[1], "w").write("".join(json.dumps(r) + "\n" for r in rows))' "$RESULTS" "$LOAD_AFTER"

echo "command: bash bench/openai/run.sh $ROUNDS $EDITS $BATCH"
"$PY" bench/openai/bench.py report "$RESULTS"
