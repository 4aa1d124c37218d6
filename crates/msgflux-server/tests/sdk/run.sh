#!/usr/bin/env bash
# The official OpenAI SDKs, Python and Node, unmodified but for their base
# URL, against `msgflux serve`: the local provider, and the OpenAI emulator as
# the upstream of `openai/...` models. Installs both SDKs from the registries
# into target/sdk-tests (kept between runs). Needs the binaries built
# (`cargo build --workspace --all-features --bins`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$root"
bin=${MSGFLUX_BIN:-target/debug}
work=target/sdk-tests
mkdir -p "$work/node"
source scripts/registry.sh

if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
fi
from_registry "openai-python and pytest" "$work/venv/bin/pip" install --quiet 'openai>=1.60,<4' 'pytest>=8,<10'
if [ ! -d "$work/node/node_modules/openai" ]; then
    (cd "$work/node" && { [ -f package.json ] || npm init -y >/dev/null; })
    from_registry "openai-node" npm install --prefix "$work/node" --silent 'openai@>=5 <8'
fi

# The emulator runs the gateway script with its address and key, then checks
# every request the gateway sent upstream against OpenAI's contract.
exec "$bin/msgflux-emulator" openai -- bash crates/msgflux-server/tests/sdk/with-gateway.sh {base_url} {key}
