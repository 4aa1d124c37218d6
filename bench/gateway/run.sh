#!/usr/bin/env bash
# `msgflux serve` against LiteLLM's proxy, in one run, both in front of the
# same OpenAI emulator (answers reused, so the upstream costs almost nothing),
# with the same multipart dall-e-2 edits (256x256 image and mask, b64_json):
# added latency p50/p99 over calling the emulator directly, CPU per proxied
# edit and peak memory of each proxy, at concurrency 1 and 64.
#
# Usage: bash bench/gateway/run.sh [EDITS]   (default 300 per target and concurrency)
# Not a test: CI does not run it. Results go to docs/benchmarks/gateway.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDITS="${1:-300}"
WORK=bench/work/gateway
VENV="${VENV:-bench/.venv-gateway}"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
source scripts/registry.sh
from_registry "LiteLLM" "$VENV/bin/pip" install --quiet 'litellm[proxy]' httpx psutil
cargo build --release -p msgflux-cli -p msgflux-emulators --bin msgflux --bin msgflux-emulator
bin=target/release

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# A line "NAME http://HOST:PORT" from a log, waiting for the program to print it.
wait_for() {
    local log=$1 pattern=$2
    for _ in $(seq 1 600); do
        if url=$(grep -o "$pattern" "$log" | head -1) && [ -n "$url" ]; then
            echo "$url"
            return
        fi
        sleep 0.1
    done
    echo "timed out waiting for $pattern in $log" >&2
    cat "$log" >&2
    exit 1
}

"$bin/msgflux-emulator" openai --reuse-answers 2> "$WORK/emulator.log" &
pids+=($!)
upstream=$(wait_for "$WORK/emulator.log" 'http://127.0.0.1:[0-9]*/v1')

cat > "$WORK/gateway.toml" <<TOML
[limits]
max_in_flight = 256
per_key_concurrency = 256
[providers.openai]
base_url = "$upstream"
api_key = "sk-emulator"
max_retries = 0
TOML
MSGFLUX_API_KEYS=bench-gateway-key-0123456789 "$bin/msgflux" serve --listen 127.0.0.1:0 \
    --config "$WORK/gateway.toml" 2> "$WORK/gateway.log" &
gateway_pid=$!
pids+=($gateway_pid)
gateway=$(wait_for "$WORK/gateway.log" 'http://127.0.0.1:[0-9]*')

cat > "$WORK/litellm.yaml" <<YAML
model_list:
  - model_name: dall-e-2
    litellm_params:
      model: openai/dall-e-2
      api_base: $upstream
      api_key: sk-emulator
litellm_settings:
  num_retries: 0
general_settings:
  master_key: sk-bench-litellm
YAML
port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$port" --num_workers 1 > "$WORK/litellm.log" 2>&1 &
litellm_pid=$!
pids+=($litellm_pid)
for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$port/health/liveliness" >/dev/null 2>&1 && break
    sleep 0.1
done

"$VENV/bin/python" bench/gateway/bench.py --edits "$EDITS" \
    --direct "${upstream%/v1}" \
    --target "msgflux serve=$gateway=bench-gateway-key-0123456789=$gateway_pid" \
    --target "LiteLLM proxy=http://127.0.0.1:$port=sk-bench-litellm=$litellm_pid" \
    --image "$WORK/image.png" --mask "$WORK/mask.png" | tee "$WORK/results.md"
