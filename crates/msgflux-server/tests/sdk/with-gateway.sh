#!/usr/bin/env bash
# Starts `msgflux serve` in front of the OpenAI emulator at $1 (key $2), runs
# the Python and Node SDK tests against it, and stops it.
set -euo pipefail
upstream=$1
upstream_key=$2
bin=${MSGFLUX_BIN:-target/debug}
work=target/sdk-tests
assets=../shared/assets

export MSGFLUX_GATEWAY_KEY=sdk-test-key-0123456789
export MSGFLUX_LIMITED_KEY=sdk-limited-key-0123456789
export MSGFLUX_TELEA_KEY=sdk-telea-only-key-0123456789
cat > "$work/gateway.toml" <<TOML
default_model = "local/telea"

[[keys]]
name = "sdk-tests"
key_env = "MSGFLUX_GATEWAY_KEY"

[[keys]]
name = "limited"
key_env = "MSGFLUX_LIMITED_KEY"
requests_per_minute = 1

[[keys]]
name = "telea-only"
key_env = "MSGFLUX_TELEA_KEY"
models = ["local/telea"]

[providers.openai]
base_url = "$upstream"
api_key = "$upstream_key"
max_retries = 0
TOML

# A second upstream: the Replicate emulator, serving until this script ends.
# Emptied first: the background process opens its log later, and an old start-up line must not be read as its own.
: > "$work/replicate.log"
"$bin/msgflux-emulator" replicate --polls 1 2> "$work/replicate.log" &
replicate=$!
trap 'kill $replicate 2>/dev/null || true' EXIT
source crates/msgflux-server/tests/wait-for-line.sh
replicate_url=$(wait_for_line "the Replicate emulator" "$work/replicate.log" $replicate \
    's/^msgflux-emulator: .* at \(http:[^ ]*\) (key \(.*\))$/\1 \2/p')
read -r replicate_base replicate_key <<< "$replicate_url"
cat >> "$work/gateway.toml" <<TOML

[providers.replicate]
base_url = "$replicate_base"
api_key = "$replicate_key"
max_retries = 0
[providers.replicate.settings]
poll_interval_ms = 5
TOML

"$bin/msgflux" mask rect --like "$assets/coffee.png" --out "$work/coffee-mask.png" 220 120 160 120 >/dev/null
# Emptied first: the background process opens its log later, and an old start-up line must not be read as its own.
: > "$work/gateway.log"
"$bin/msgflux" serve --listen 127.0.0.1:0 --config "$work/gateway.toml" 2> "$work/gateway.log" &
gateway=$!
trap 'kill $gateway $replicate 2>/dev/null || true' EXIT
url=$(wait_for_line "the gateway" "$work/gateway.log" $gateway 's/^msgflux gateway on \(http:[^ ]*\)$/\1/p')

export MSGFLUX_GATEWAY_URL=$url
export MSGFLUX_PHOTO=$assets/coffee.png
export MSGFLUX_PHOTO2=$assets/chelsea.png
export MSGFLUX_MASK=$work/coffee-mask.png

status=0
echo "--- openai (Python) against $url"
"$work/venv/bin/python" -m pytest -q crates/msgflux-server/tests/sdk/test_openai_python.py || status=1
echo "--- openai (Node) against $url"
# ES modules resolve packages from the file's own folder, so the test runs from the SDK's.
cp crates/msgflux-server/tests/sdk/openai_node.test.mjs "$work/node/"
node --test "$work/node/openai_node.test.mjs" || status=1
if grep -q -e "$upstream_key" -e "$replicate_key" "$work/gateway.log"; then
    echo "the upstream key appears in the gateway's log"
    status=1
fi
exit $status
