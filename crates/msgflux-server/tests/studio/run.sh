#!/usr/bin/env bash
# The studio in a real browser: Debian's Chromium (installed with apt-get
# when missing), driven by playwright-core from npm (pinned; it never
# downloads a browser of its own), against `msgflux serve` with the offline
# provider and a gateway key. Screenshots of every step go to
# target/studio-artifacts/. Takes MSGFLUX_BIN (the folder of an already built
# `msgflux` with the serve feature; default target/debug).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$root"
bin=${MSGFLUX_BIN:-target/debug}
work=target/studio-tests
artifacts=target/studio-artifacts
playwright=1.65.1
mkdir -p "$work/node"
rm -rf "$artifacts"
source scripts/registry.sh
mkdir -p "$artifacts"

[ -x /usr/bin/chromium ] || debian_package Chromium chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
installed=$(cd "$work/node" && node -p "require('playwright-core/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$playwright" ]; then
    (cd "$work/node" && { [ -f package.json ] || npm init -y >/dev/null; })
    from_registry "playwright-core" npm install --prefix "$work/node" --silent "playwright-core@$playwright"
fi

export MSGFLUX_STUDIO_KEY=studio-test-key-0123456789
cat > "$work/gateway.toml" <<TOML
default_model = "local/patchmatch"

[[keys]]
name = "studio"
key_env = "MSGFLUX_STUDIO_KEY"

# The URL step fetches from a server the test starts on 127.0.0.1.
[url_inputs]
allow_networks = ["127.0.0.1/32"]
TOML
# A mask of another photo's size, for the validation step.
"$bin/msgflux" mask rect --like assets/chelsea.png --out "$work/wrong-size-mask.png" 100 100 80 80 >/dev/null

# Emptied first: the background redirection may open the log after the wait below starts reading it.
: > "$work/gateway.log"
"$bin/msgflux" serve --listen 127.0.0.1:0 --config "$work/gateway.toml" 2> "$work/gateway.log" &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT
source crates/msgflux-server/tests/wait-for-line.sh
url=$(wait_for_line "the gateway" "$work/gateway.log" $gateway 's/^msgflux gateway on \(http:[^ ]*\)$/\1/p')

export MSGFLUX_GATEWAY_URL=$url
export STUDIO_PHOTO=$root/assets/coffee.png
export STUDIO_WRONG_MASK=$root/$work/wrong-size-mask.png
export STUDIO_ARTIFACTS=$root/$artifacts
echo "--- the studio in Chromium ($(/usr/bin/chromium --version 2>/dev/null || echo unknown)) against $url"
# ES modules resolve packages from the file's own folder, so the test runs from playwright-core's.
cp crates/msgflux-server/tests/studio/studio.test.mjs "$work/node/"
status=0
node --test --test-concurrency=1 "$work/node/studio.test.mjs" || status=1
echo "screenshots: $artifacts/"
exit $status
