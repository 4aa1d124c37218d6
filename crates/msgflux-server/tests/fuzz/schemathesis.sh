#!/usr/bin/env bash
# A property-based API fuzzer (schemathesis, from PyPI) against a running
# `msgflux serve` with the offline provider, driven by the gateway's own
# GET /openapi.json: no 5xx, no hang, every answer's status, content type
# and body matching the document. Bounded: a fixed number of examples per
# operation. Needs the binaries built.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$root"
bin=${MSGFLUX_BIN:-target/debug}
work=target/fuzz-gateway
mkdir -p "$work"
source scripts/registry.sh
if [ ! -x "$work/venv/bin/st" ]; then
    python3 -m venv "$work/venv"
fi
from_registry schemathesis "$work/venv/bin/pip" install --quiet 'schemathesis>=4,<5'

export MSGFLUX_API_KEYS=fuzz-gateway-key-0123456789
# Emptied first: the background process opens its log later, and an old start-up line must not be read as its own.
: > "$work/gateway.log"
"$bin/msgflux" serve --listen 127.0.0.1:0 --default-model local/telea 2> "$work/gateway.log" &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT
source crates/msgflux-server/tests/wait-for-line.sh
url=$(wait_for_line "the gateway" "$work/gateway.log" $gateway 's/^msgflux gateway on \(http:[^ ]*\)$/\1/p')

# Model rules (a fill needs a mask, sizes must match) are beyond what a
# schema can say, so a schema-valid request may still be a 400: the
# "valid data accepted" check does not apply; every other check does.
"$work/venv/bin/st" run "$url/openapi.json" --url "$url" \
    --header "Authorization: Bearer $MSGFLUX_API_KEYS" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-examples "${FUZZ_EXAMPLES:-60}" --request-timeout 30 --seed 1 --no-color
kill -0 $gateway || { echo "the gateway died"; exit 1; }
