#!/usr/bin/env bash
# The object-store tests that need real servers (started by servers.sh on
# 127.0.0.1: moto's S3, Azurite, fake-gcs-server): every test whose name ends
# in `on_s3`, `on_azure` or `on_gcs` (msgflux-storage's suite, the CLI's
# batches), from the build `cargo test --workspace --all-features` already
# made. fake-gcs-server serves reads and listings, not object_store's writes:
# see docs/batch.md, "What the tests run against".
set -euo pipefail
cd "$(dirname "$0")/../../.."
source crates/msgflux-storage/tests/servers.sh
cargo test --workspace --all-features --quiet -- on_s3 on_azure on_gcs
