#!/usr/bin/env bash
# Builds Chancery (release) and manages the local 4-validator testnet.
#   ./scripts/testnet.sh          generate (once), start the validators, run the demo
#   ./scripts/testnet.sh status   each validator's height and peers
#   ./scripts/testnet.sh down     stop the validators (data stays in .testnet/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [[ "${1:-up}" == "up" ]]; then
  bash scripts/setup.sh
  cargo build --release -p chancery-node -p chancery-testnet -p chancery-cli
fi
bin="$CARGO_TARGET_DIR/release/chancery-testnet"
if [[ ! -x "$bin" ]]; then
  echo "chancery-testnet is not built yet: run ./scripts/testnet.sh first" >&2
  exit 2
fi
exec "$bin" "${@:-up}"
