#!/usr/bin/env bash
# The object-store tests that need real servers (started by servers.sh on
# 127.0.0.1: moto's S3 and Azurite): every test whose name ends in `on_s3` or
# `on_azure` (msgflux-storage's suite, the CLI's batches), from the build
# `cargo test --workspace --all-features` already made. GCS has no emulator
# in the registries here: gs:// is tested for parsing and errors only.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source crates/msgflux-storage/tests/servers.sh
cargo test --workspace --all-features --quiet -- on_s3 on_azure
