#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the gateway's two body
# readers, for a bounded time each. Needs a nightly toolchain; installs
# cargo-fuzz from crates.io when it is missing. Not run by CI (a sanitizer
# build of the server's dependencies takes minutes on 2 cores).
#
#   bash crates/msgflux-server/fuzz/run.sh [SECONDS per target, default 60]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
for target in json_body multipart_body; do
    # The seed corpus is copied so a run never rewrites the committed one.
    mkdir -p "target/corpus/$target"
    cp -n corpus/"$target"/* "target/corpus/$target/"
    cargo +nightly fuzz run "$target" "target/corpus/$target" -- -max_total_time="$seconds" -timeout=5
done
