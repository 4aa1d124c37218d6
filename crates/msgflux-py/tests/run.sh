#!/usr/bin/env bash
# The Python package's tests: a virtual environment under the target
# directory, pytest from PyPI, the package built and installed into it in
# development mode, then pytest against the emulators (the tests start them).
#
#   bash crates/msgflux-py/tests/run.sh [pytest arguments]
#
# The extension module is built by the same cargo command as CI's programs
# step (`--workspace --all-features`), not by `maturin develop`: maturin
# builds this crate alone, whose feature set differs from the workspace's
# (tokio's process and signal, serde's alloc, hyper's server, ...), so every
# dependency would compile a second time (about 7 minutes on 2 cores). Here
# only pyo3 and this crate compile. The layout installed is the one
# `maturin develop` makes for a mixed project: the native module beside the
# Python sources, and a .pth file naming them. Wheels: see the crate's README.
set -euo pipefail
cd "$(dirname "$0")/../../.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target/python-venv"
package=crates/msgflux-py/python

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Pillow and numpy only for the tests of those input kinds: the package needs neither.
source scripts/registry.sh
from_registry "pytest, Pillow and numpy" "$venv/bin/pip" install --quiet pytest pillow numpy

# The extension module (lib target) and the emulator program the tests start.
cargo build --workspace --all-features --lib --bins
cp "$target/debug/libmsgflux_rs.so" "$package/msgflux_rs/_native.abi3.so"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$PWD/$package" > "$site/msgflux_rs.pth"

export MSGFLUX_EMULATOR="$target/debug/msgflux-emulator"
cd crates/msgflux-py
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
