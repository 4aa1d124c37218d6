#!/usr/bin/env bash
# `msgflux batch` at scale: JOBS jobs against the OpenAI emulator with
# LATENCY_MS of service time per edit, results to the local S3 server
# (moto, started by crates/msgflux-storage/tests/servers.sh on 127.0.0.1):
#
#   (1) 1 worker, --concurrency C            -> jobs/s
#   (2) W workers (--shard i/W), C each      -> jobs/s, and the scaling over (1)
#   (3) per-job overhead of the claim (a conditional write), the result
#       write and the manifest: OVERHEAD jobs with no service latency and
#       concurrency 1, to S3 and to a local folder; the difference over
#       the same run writing nowhere but the local manifest is the store's
#
# Usage: bash bench/batch/run.sh [JOBS] [WORKERS] [CONCURRENCY] [LATENCY_MS] [OVERHEAD]
#        (defaults 10000 4 16 100 500). Uses the dev-profile binaries of
#        MSGFLUX_BIN (default $CARGO_TARGET_DIR/debug or target/debug):
#        cargo build -p msgflux-cli -p msgflux-emulators --bins
# Not a test: CI does not run it. Figures go to docs/benchmarks/batch.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
JOBS="${1:-10000}"
WORKERS="${2:-4}"
CONCURRENCY="${3:-16}"
LATENCY_MS="${4:-100}"
OVERHEAD="${5:-500}"
BIN="${MSGFLUX_BIN:-${CARGO_TARGET_DIR:-target}/debug}"
BIN="$(cd "$BIN" && pwd)"

source crates/msgflux-storage/tests/servers.sh
bench="$work/bench"
mkdir -p "$bench/img"
# One small image for every job (a 32x24 PNG): the benchmark is about the batch, not pixels.
"$BIN/msgflux" mask rect 4 4 8 8 --size 32x24 -o "$bench/img/a.png" >/dev/null
jobs_file() { # jobs_file N PATH
    "$venv/bin/python" -c "
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, 'w') as f:
    for i in range(n):
        f.write('{\"id\": \"b%06d\", \"prompt\": \"add a hat\", \"image\": \"img/a.png\"}\n' % i)
" "$1" "$2"
}
jobs_file "$JOBS" "$bench/jobs.jsonl"
jobs_file "$OVERHEAD" "$bench/overhead.jsonl"

emulator() { # emulator LATENCY_MS -> sets EMU_URL, EMU_PID
    local port
    port="$(free_port)"
    "$BIN/msgflux-emulator" openai --port "$port" --latency-ms "$1" --reuse-answers >"$work/emulator-$port.log" 2>&1 &
    EMU_PID=$!
    EMU_URL="http://127.0.0.1:$port/v1"
    "$venv/bin/python" -c "
import socket, time, sys
for _ in range(300):
    try: socket.create_connection(('127.0.0.1', $port), timeout=1).close(); sys.exit(0)
    except OSError: time.sleep(0.1)
sys.exit('emulator did not start')"
}
export MSGFLUX_BENCH_KEY=sk-emulator
worker() { # worker JOBS OUT [ARGS...]
    local jobs="$1" out="$2"
    shift 2
    "$BIN/msgflux" batch "$jobs" -m openai/gpt-image-1 --api-key-env MSGFLUX_BENCH_KEY \
        --base-url "$EMU_URL" --out "$out" --json "$@" >"$work/worker-$RANDOM.log" 2>&1
}
now() { date +%s.%N; }
rate() { "$venv/bin/python" -c "print(f'{$1 / ($3 - $2):.1f}')"; }
per_job_ms() { "$venv/bin/python" -c "print(f'{($3 - $2) * 1000 / $1:.2f}')"; }

emulator "$LATENCY_MS"
t0="$(now)"
worker "$bench/jobs.jsonl" "s3://msgflux-test/bench-1" --concurrency "$CONCURRENCY"
t1="$(now)"
pids=()
for i in $(seq 0 $((WORKERS - 1))); do
    worker "$bench/jobs.jsonl" "s3://msgflux-test/bench-$WORKERS" --concurrency "$CONCURRENCY" --shard "$i/$WORKERS" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
t2="$(now)"
"$BIN/msgflux" batch status "s3://msgflux-test/bench-$WORKERS" --json >"$work/status.json"
kill "$EMU_PID"

emulator 0
t3="$(now)"
worker "$bench/overhead.jsonl" "$bench/local-out" --concurrency 1
t4="$(now)"
worker "$bench/overhead.jsonl" "s3://msgflux-test/overhead" --concurrency 1
t5="$(now)"
kill "$EMU_PID"

done_jobs="$("$venv/bin/python" -c "import json; print(json.load(open('$work/status.json'))['total']['done'])")"
one="$(rate "$JOBS" "$t0" "$t1")"
many="$(rate "$JOBS" "$t1" "$t2")"
echo
echo "| run | jobs | wall s | jobs/s |"
echo "|---|---|---|---|"
echo "| 1 worker, concurrency $CONCURRENCY, ${LATENCY_MS} ms per edit, results to S3 | $JOBS | $("$venv/bin/python" -c "print(f'{$t1 - $t0:.1f}')") | $one |"
echo "| $WORKERS workers (--shard i/$WORKERS), concurrency $CONCURRENCY each | $JOBS ($done_jobs done per batch status) | $("$venv/bin/python" -c "print(f'{$t2 - $t1:.1f}')") | $many |"
echo "| scaling | | | $("$venv/bin/python" -c "print(f'{$many / $one:.2f}x')") |"
echo
echo "| per job, no service latency, concurrency 1 | ms |"
echo "|---|---|"
echo "| local folder (claim file, result, manifest line, each synced) | $(per_job_ms "$OVERHEAD" "$t3" "$t4") |"
echo "| S3 (conditional-write claim, result PUT, manifest rewritten each second) | $(per_job_ms "$OVERHEAD" "$t4" "$t5") |"
