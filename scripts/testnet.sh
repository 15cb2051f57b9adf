#!/usr/bin/env bash
# Builds Chancery and starts the local testnet with a demo workload.
# (Until the network exists this runs the demo in one process; see README.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
cargo build --release -p chancery-testnet -p chancery-cli
exec "$CARGO_TARGET_DIR/release/chancery-testnet" "${@:-up}"
