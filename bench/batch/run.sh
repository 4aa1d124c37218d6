#!/usr/bin/env bash
# `msgflux batch` at scale: JOBS jobs against the OpenAI emulator with
# LATENCY_MS of service time per edit, results to the local S3 server
# (moto, started by crates/msgflux-storage/tests/servers.sh on 127.0.0.1):
#
#   (1) 1 worker, --concurrency C            -> jobs/s
#   (2) W workers (--shard i/W), C each      -> jobs/s, and the scaling over (1)
#   (3) the same two runs with results to a local folder: msgflux's own
#       scaling, without the S3 server (one Python process) in the way
#   (4) per-job overhead of the claim (a conditional write), the result
#       write and the manifest: OVERHEAD jobs with no service latency and
#       concurrency 1, to S3 and to a local folder
#
# For each of (1)-(3) it prints the load average (the machine is shared)
# and the CPU seconds each process used: the workers (from /usr/bin/time,
# Debian package `time`), the S3 server and the emulator (from
# /proc/PID/stat), so the run says which of them was the limit.
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
worker() { # worker JOBS OUT [ARGS...]; its user+system CPU seconds go to $work/cpu/<random>
    local jobs="$1" out="$2"
    shift 2
    /usr/bin/time -f "%U %S" -o "$work/cpu/$RANDOM$RANDOM" \
        "$BIN/msgflux" batch "$jobs" -m openai/gpt-image-1 --api-key-env MSGFLUX_BENCH_KEY \
        --base-url "$EMU_URL" --out "$out" --json "$@" >"$work/worker-$RANDOM.log" 2>&1
}
mkdir -p "$work/cpu"
ticks="$(getconf CLK_TCK)"
cpu_of() { awk -v t="$ticks" '{printf "%.1f", ($14 + $15) / t}' "/proc/$1/stat"; }
workers_cpu() { # the workers' CPU seconds since the last call
    cat "$work/cpu/"* 2>/dev/null | awk '{s += $1 + $2} END {printf "%.1f", s}'
    rm -f "$work/cpu/"*
}
load() { cut -d' ' -f1 /proc/loadavg; }
rows=()
measure() { # measure LABEL OUT WORKERS: runs JOBS over WORKERS workers, appends a table row
    local label="$1" out="$2" n="$3" t0 t1 moto0 emu0 load0 pids=() i
    load0="$(load)"; moto0="$(cpu_of "$moto_pid")"; emu0="$(cpu_of "$EMU_PID")"
    t0="$(now)"
    if [ "$n" = 1 ]; then
        worker "$bench/jobs.jsonl" "$out" --concurrency "$CONCURRENCY"
    else
        for i in $(seq 0 $((n - 1))); do
            worker "$bench/jobs.jsonl" "$out" --concurrency "$CONCURRENCY" --shard "$i/$n" &
            pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i"; done
    fi
    t1="$(now)"
    local wall rate_ moto emu wcpu
    wall="$("$venv/bin/python" -c "print(f'{$t1 - $t0:.1f}')")"
    rate_="$(rate "$JOBS" "$t0" "$t1")"
    moto="$("$venv/bin/python" -c "print(f'{$(cpu_of "$moto_pid") - $moto0:.1f}')")"
    emu="$("$venv/bin/python" -c "print(f'{$(cpu_of "$EMU_PID") - $emu0:.1f}')")"
    wcpu="$(workers_cpu)"
    rows+=("| $label | $JOBS | $wall | $rate_ | $load0 / $(load) | $wcpu ($("$venv/bin/python" -c "print(f'{$wcpu * 1000 / $JOBS:.1f}')") ms/job) | $moto | $emu |")
    RATE="$rate_"
}
now() { date +%s.%N; }
rate() { "$venv/bin/python" -c "print(f'{$1 / ($3 - $2):.1f}')"; }
per_job_ms() { "$venv/bin/python" -c "print(f'{($3 - $2) * 1000 / $1:.2f}')"; }

emulator "$LATENCY_MS"
measure "1 worker, results to S3" "s3://msgflux-test/bench-1" 1
one="$RATE"
measure "$WORKERS workers (--shard i/$WORKERS), results to S3" "s3://msgflux-test/bench-$WORKERS" "$WORKERS"
many="$RATE"
"$BIN/msgflux" batch status "s3://msgflux-test/bench-$WORKERS" --json >"$work/status.json"
measure "1 worker, results to a local folder" "$bench/local-1" 1
one_local="$RATE"
measure "$WORKERS workers (--shard i/$WORKERS), results to a local folder" "$bench/local-$WORKERS" "$WORKERS"
many_local="$RATE"
kill "$EMU_PID"

emulator 0
t3="$(now)"
worker "$bench/overhead.jsonl" "$bench/local-out" --concurrency 1
t4="$(now)"
worker "$bench/overhead.jsonl" "s3://msgflux-test/overhead" --concurrency 1
t5="$(now)"
kill "$EMU_PID"

done_jobs="$("$venv/bin/python" -c "import json; print(json.load(open('$work/status.json'))['total']['done'])")"
echo
echo "Concurrency $CONCURRENCY per worker, ${LATENCY_MS} ms per edit; $done_jobs of $JOBS done in the S3 run of $WORKERS workers per batch status."
echo
echo "| run | jobs | wall s | jobs/s | load avg (1 min) start / end | workers' CPU s | S3 server CPU s | emulator CPU s |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "| scaling, results to S3 | | | $("$venv/bin/python" -c "print(f'{$many / $one:.2f}x')") | | | | |"
echo "| scaling, results to a local folder | | | $("$venv/bin/python" -c "print(f'{$many_local / $one_local:.2f}x')") | | | | |"
echo
echo "| per job, no service latency, concurrency 1 | ms |"
echo "|---|---|"
echo "| local folder (claim file, result synced, manifest line) | $(per_job_ms "$OVERHEAD" "$t3" "$t4") |"
echo "| S3 (conditional-write claim, result PUT, manifest rewritten each second) | $(per_job_ms "$OVERHEAD" "$t4" "$t5") |"
